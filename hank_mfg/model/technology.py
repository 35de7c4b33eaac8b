"""Firm side: Cobb–Douglas technology and competitive factor prices (docs/theory.md §2, §10)."""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["cobb_douglas_output", "cobb_douglas_prices"]


def cobb_douglas_output(K, L, z, alpha, tfp=1.0):
    """``Y = Z e^z K^alpha L^(1 - alpha)``."""
    return tfp * jnp.exp(z) * K**alpha * L ** (1.0 - alpha)


def cobb_douglas_prices(K, L, z, alpha, delta, tfp=1.0):
    """Competitive prices ``r = alpha Z e^z (K/L)^(alpha-1) - delta``, ``w = (1-alpha) Z e^z (K/L)^alpha``."""
    tfp = tfp * jnp.exp(z)
    r = alpha * tfp * (K / L) ** (alpha - 1.0) - delta
    w = (1.0 - alpha) * tfp * (K / L) ** alpha
    return r, w

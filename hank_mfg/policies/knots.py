"""Policies evaluated at a few wealth knots and interpolated to the whole grid.

A policy's dependence on wealth is smooth, so a network need not be evaluated at every wealth
point: it outputs its head's values at ``n_knots`` wealth knots per income state, and a fixed
linear map ``W (n_a, n_knots)`` (built once) interpolates them to the grid. The network then
runs once per date rather than once per individual state.
"""

from __future__ import annotations

import interpax
import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["knot_matrix", "knot_points"]


def knot_points(a_grid, n_knots: int) -> np.ndarray:
    """``n_knots`` wealth knots: grid points at evenly spaced indices (dense where the grid is,
    near the borrowing limit), the first and last grid points included."""
    a = np.asarray(a_grid, dtype=np.float64)
    n = a.shape[0]
    if not 2 <= n_knots <= n:
        raise ValueError(f"n_knots must lie in [2, n_wealth = {n}]; got {n_knots}")
    idx = np.unique(np.round(np.linspace(0, n - 1, n_knots)).astype(int))
    return a[idx]


def knot_matrix(a_grid, knots, method: str = "linear") -> np.ndarray:
    """The matrix ``W (n_a, n_knots)`` of interpolation from knot values to the wealth grid.

    Built with interpax by interpolating the unit vectors; valid for interpax methods that are
    linear in the data (``linear``, ``cubic2``, ``catmull-rom``); ``linear`` keeps the
    interpolant between its knot values (no overshoot).
    """
    if method == "linear":  # the hat functions, exactly, without compiling anything
        a, k = np.asarray(a_grid, dtype=np.float64), np.asarray(knots, dtype=np.float64)
        idx = np.clip(np.searchsorted(k, a, side="right") - 1, 0, k.size - 2)
        t = (a - k[idx]) / (k[idx + 1] - k[idx])
        W = np.zeros((a.size, k.size))
        W[np.arange(a.size), idx] = 1.0 - t
        W[np.arange(a.size), idx + 1] += t
        return W
    k = jnp.asarray(knots)
    eye = jnp.eye(k.shape[0], dtype=k.dtype)
    W = jax.vmap(lambda col: interpax.interp1d(jnp.asarray(a_grid), k, col, method=method,
                                               extrap=True), in_axes=1, out_axes=1)(eye)
    return np.asarray(W)

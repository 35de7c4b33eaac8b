"""Idiosyncratic income processes as finite Markov chains (docs/theory.md §10).

Conventions (those of the sequence-space codes): for a discretised log-income AR(1),
``income_sd`` is the *stationary cross-sectional* standard deviation of log income, and income
levels are normalised to mean one under the chain's stationary distribution, so aggregate
effective labour is ``L = 1``. Every constructor returns an :class:`IncomeProcess`.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.stats as jss
from jaxtyping import Array, ArrayLike, Float

from ._checks import (
    check_abs_lt_one,
    check_int_at_least,
    check_markov,
    check_nonnegative,
    concrete,
    fail,
)

__all__ = [
    "IncomeProcess",
    "rouwenhorst",
    "tauchen",
    "index_walk",
    "markov_chain",
    "stationary_distribution",
]


class IncomeProcess(eqx.Module):
    """A finite income Markov chain: levels ``e_grid``, transition ``Pi_e[e, e']``, stationary ``pi_e``."""

    e_grid: Float[Array, " n_e"]
    Pi_e: Float[Array, "n_e n_e"]
    pi_e: Float[Array, " n_e"]


def stationary_distribution(Pi: Float[Array, "n n"]) -> Float[Array, " n"]:
    """Stationary distribution ``pi = pi Pi`` of an irreducible Markov matrix (linear solve).

    Differentiable in ``Pi``. Solves ``(Pi^T - I + 1 1^T) pi = 1``.
    """
    return _stationary(jnp.asarray(Pi, dtype=float))


@jax.jit  # one compiled program, not one per operation, when a model is built eagerly
def _stationary(Pi):
    n = Pi.shape[0]
    A = Pi.T - jnp.eye(n, dtype=Pi.dtype) + jnp.ones((n, n), dtype=Pi.dtype)
    pi = jnp.linalg.solve(A, jnp.ones(n, dtype=Pi.dtype))
    pi = jnp.clip(pi, 0.0, None)
    return pi / pi.sum()


def _rouwenhorst_matrix(p, n: int):
    P = jnp.array([[p, 1 - p], [1 - p, p]])
    for m in range(3, n + 1):
        z_col = jnp.zeros((m - 1, 1), dtype=P.dtype)
        z_row = jnp.zeros((1, m), dtype=P.dtype)
        top_left = jnp.concatenate([jnp.concatenate([P, z_col], 1), z_row], 0)
        top_right = jnp.concatenate([jnp.concatenate([z_col, P], 1), z_row], 0)
        bot_left = jnp.concatenate([z_row, jnp.concatenate([P, z_col], 1)], 0)
        bot_right = jnp.concatenate([z_row, jnp.concatenate([z_col, P], 1)], 0)
        P = p * top_left + (1 - p) * top_right + (1 - p) * bot_left + p * bot_right
        P = P.at[1:-1].divide(2.0)
    return P


def _binomial_half(n: int):
    from math import comb

    return jnp.asarray([comb(n - 1, k) / 2.0 ** (n - 1) for k in range(n)], dtype=float)


def rouwenhorst(rho: ArrayLike, sd: ArrayLike, n: int) -> IncomeProcess:
    """Rouwenhorst (1995) discretisation of log income ``y' = rho y + eps``.

    Exact persistence ``rho`` and stationary s.d. ``sd`` of log income for any ``n``; income
    ``e = exp(y)`` normalised to mean 1 under the (binomial) stationary distribution.
    Differentiable in ``rho`` and ``sd``.

    Args:
        rho: persistence, ``|rho| < 1``. sd: cross-sectional s.d. of log income (>= 0).
        n: number of states (>= 2).
    """
    check_int_at_least("rouwenhorst", "n", n, 2)
    check_abs_lt_one("rouwenhorst", "rho", rho)
    check_nonnegative("rouwenhorst", "sd", sd)
    return IncomeProcess(*_rouwenhorst(int(n), jnp.asarray(rho, dtype=float),
                                       jnp.asarray(sd, dtype=float)))


@functools.partial(jax.jit, static_argnums=0)  # one program per size, not one per operation
def _rouwenhorst(n: int, rho, sd):
    Pi = _rouwenhorst_matrix((1.0 + rho) / 2.0, n)
    pi = _binomial_half(n)
    y = jnp.linspace(-1.0, 1.0, n) * sd * jnp.sqrt(n - 1.0)
    e = jnp.exp(y) / jnp.sum(pi * jnp.exp(y))
    return e, Pi, pi


def tauchen(rho: ArrayLike, sd: ArrayLike, n: int, width: float = 3.0) -> IncomeProcess:
    """Tauchen (1986) discretisation of log income, grid ``+-width`` stationary s.d.s.

    Less accurate than Rouwenhorst at high persistence; income normalised to mean 1.
    """
    check_int_at_least("tauchen", "n", n, 2)
    check_abs_lt_one("tauchen", "rho", rho)
    check_nonnegative("tauchen", "sd", sd)
    rho = jnp.asarray(rho, dtype=float)
    sd = jnp.asarray(sd, dtype=float)
    x = jnp.linspace(-width, width, n) * sd
    h = x[1] - x[0]
    se = sd * jnp.sqrt(1.0 - rho**2)
    upper = jss.norm.cdf((x[None, :] - rho * x[:, None] + h / 2) / se)
    lower = jss.norm.cdf((x[None, :] - rho * x[:, None] - h / 2) / se)
    Pi = upper - lower
    Pi = Pi.at[:, 0].set(upper[:, 0]).at[:, -1].set(1.0 - lower[:, -1])
    pi = stationary_distribution(Pi)
    e = jnp.exp(x) / jnp.sum(pi * jnp.exp(x))
    return IncomeProcess(e_grid=e, Pi_e=Pi, pi_e=pi)


def index_walk(
    levels: ArrayLike, p_down: ArrayLike = 0.1, p_up: ArrayLike = 0.1
) -> IncomeProcess:
    """The paper's income chain: the index moves -1/0/+1 with ``p_down/1-p_down-p_up/p_up``.

    At the ends the move that would leave the grid keeps the mass where it is (clipped walk).
    Levels are used as given (no normalisation), as in the paper's macro model (docs/theory.md §10.1).
    """
    levels = jnp.asarray(levels, dtype=float)
    n = levels.shape[0]
    check_int_at_least("index_walk", "n", n, 2)
    for name, p in (("p_down", p_down), ("p_up", p_up)):
        v = concrete(p)
        if v is not None and not (0.0 <= float(v) <= 1.0):
            fail("index_walk", name, "lie in [0, 1]", v)
    stay = 1.0 - p_down - p_up
    if concrete(stay) is not None and float(stay) < 0:
        fail("index_walk", "p_down + p_up", "be at most 1", p_down + p_up)
    Pi = _walk_matrix(n, jnp.asarray(p_down, dtype=float), jnp.asarray(p_up, dtype=float))
    return IncomeProcess(e_grid=levels, Pi_e=Pi, pi_e=stationary_distribution(Pi))


@functools.partial(jax.jit, static_argnums=0)
def _walk_matrix(n: int, p_down, p_up):
    idx = jnp.arange(n)
    Pi = jnp.zeros((n, n), dtype=p_down.dtype)
    Pi = Pi.at[idx, idx].add(1.0 - p_down - p_up)
    Pi = Pi.at[idx, jnp.clip(idx - 1, 0, n - 1)].add(p_down)
    return Pi.at[idx, jnp.clip(idx + 1, 0, n - 1)].add(p_up)


def markov_chain(e_grid: ArrayLike, Pi_e: ArrayLike, normalise: bool = False) -> IncomeProcess:
    """A user-given chain; validates ``Pi_e`` (square, non-negative, rows sum to 1)."""
    e_grid = jnp.asarray(e_grid, dtype=float)
    Pi_e = jnp.asarray(Pi_e, dtype=float)
    check_markov("markov_chain", "Pi_e", Pi_e)
    if Pi_e.shape[0] != e_grid.shape[0]:
        fail("markov_chain", "Pi_e", f"have shape ({e_grid.shape[0]}, {e_grid.shape[0]})",
             f"shape {Pi_e.shape}")
    pi = stationary_distribution(Pi_e)
    if normalise:
        e_grid = e_grid / jnp.sum(pi * e_grid)
    return IncomeProcess(e_grid=e_grid, Pi_e=Pi_e, pi_e=pi)


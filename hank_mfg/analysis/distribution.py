"""Statistics of a wealth distribution held in atoms on the grid points (docs/theory.md §11).

Definitions (used everywhere in :mod:`hank_mfg.analysis` and :mod:`hank_mfg.reports`).
Wealth is discrete: the mass ``p_i >= 0`` (normalised to sum to one) sits exactly on grid point
``a_i`` (``a_0 < a_1 < ...``; ``a_0`` is the borrowing limit). With the cumulative mass
``F_i = p_0 + ... + p_i`` and the cumulative wealth share ``L_i = sum_{j<=i} p_j a_j / sum_j p_j a_j``:

* **quantile** ``q``: the smallest grid point whose cumulative mass reaches ``q``,
  ``Q(q) = min {a_i : F_i >= q}`` (the left-continuous inverse CDF of the atoms; a tolerance of
  ``64`` machine epsilons absorbs round-off in the cumulative sum), so quantiles are always grid
  points;
* **Lorenz curve**: the points ``(F_i, L_i)`` with ``(0, 0)`` first, joined linearly — exact for
  atoms, since the households inside one atom all hold the same wealth;
* **Gini** ``= 1 - sum_i p_i (L_{i-1} + L_i)`` (twice the area between the diagonal and the
  Lorenz curve, computed exactly by trapezoids; ``L_{-1} = 0``);
* **top x share** (x = 10%, 1%) ``= 1 - L(1 - x)`` and **bottom 50% share** ``= L(0.5)`` with the
  piecewise-linear Lorenz curve: the atom that straddles the cut-off is split, so a fraction
  ``x`` of households is counted exactly;
* **mass at the borrowing limit** ``= p_0``; **mean** ``= sum_i p_i a_i``;
* **negative wealth** (a borrowing limit below zero, e.g. Huggett's): the Gini and the top and
  bottom shares are shares of total wealth, defined only for nonnegative wealth — with debtors
  the Lorenz curve dips below zero, the "shares" can exceed one or fall below zero and the
  Gini can exceed one (``0.4`` of the mass at ``-1``, ``0.3`` at ``0`` and ``0.3`` at ``2``:
  Gini 3.3; in zero net supply total wealth is zero). They are NaN wherever more than ``64``
  machine epsilons of mass sit at negative wealth (:func:`negative_wealth_mass` tells how much
  does); the mean, quantiles and the mass at the limit stay defined, and
  :func:`lorenz_points` still returns the curve.

All functions are pure JAX (jit/vmap-able); tables and figures are in :mod:`hank_mfg.reports`.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

__all__ = [
    "QUANTILES", "WealthStats", "wealth_stats", "wealth_quantile", "lorenz_points", "top_share",
    "gini", "wealth_marginal", "income_conditional", "negative_wealth_mass",
]

#: Quantiles reported in wealth tables (p10, p25, p50, p75, p90, p99).
QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90, 0.99)


class WealthStats(eqx.Module):
    """Wealth-distribution statistics of atoms on the grid (definitions: module docstring).

    Attributes (0-d, or with leading batch axes under ``vmap``):
        mass: total mass of the (unnormalised) input. mean: mean wealth.
        quantiles: wealth at :data:`QUANTILES` (``(..., 6)``: p10, p25, p50, p75, p90, p99).
        gini: Gini coefficient. top10, top1: wealth shares of the richest 10% and 1%.
        bottom50: wealth share of the poorest 50%. at_limit: mass at the borrowing limit ``a_0``.
        gini, top10, top1 and bottom50 are NaN when mass sits at negative wealth (shares of
        total wealth are defined for nonnegative wealth only; module docstring).
    """

    mass: Array
    mean: Array
    quantiles: Array
    gini: Array
    top10: Array
    top1: Array
    bottom50: Array
    at_limit: Array


def _normalise(p):
    p = jnp.asarray(p)
    tot = jnp.sum(p)
    return p / tot, tot


def _tol(dtype):
    return 64 * jnp.finfo(dtype).eps


def lorenz_points(
    a_grid: Float[Array, " n_a"], p: Float[Array, " n_a"]
) -> tuple[Float[Array, " n_a1"], Float[Array, " n_a1"]]:
    """Lorenz curve of atoms ``p`` on ``a_grid``: ``(F, L)`` with ``F_{-1} = L_{-1} = 0`` prepended.

    ``F`` (population share) and ``L`` (wealth share) are cumulative through each atom
    (length ``n_a + 1``); ``F[0] = L[0] = 0`` and ``F[-1] = L[-1] = 1``. Join them linearly.
    """
    p, _ = _normalise(p)
    zero = jnp.zeros((1,), p.dtype)
    F = jnp.concatenate([zero, jnp.cumsum(p)])
    W = jnp.concatenate([zero, jnp.cumsum(p * a_grid)])
    F = F / F[-1]
    L = W / W[-1]
    return F, L


def wealth_quantile(a_grid: Float[Array, " n_a"], p: Float[Array, " n_a"], q) -> Array:
    """``Q(q) = min {a_i : F_i >= q}`` (a grid point; see the module docstring)."""
    p, _ = _normalise(p)
    F = jnp.cumsum(p)
    q = jnp.asarray(q, p.dtype)
    idx = jnp.argmax(F[None, :] >= (jnp.atleast_1d(q)[:, None] - _tol(p.dtype)), axis=-1)
    return a_grid[idx].reshape(q.shape)


def negative_wealth_mass(a_grid: Float[Array, " n_a"], p: Float[Array, " n_a"]) -> Array:
    """Share of the (normalised) mass ``p`` at negative wealth, ``sum_{a_i < 0} p_i``."""
    p, _ = _normalise(jnp.asarray(p, jnp.asarray(a_grid).dtype))
    return jnp.sum(jnp.where(jnp.asarray(a_grid) < 0, p, 0.0))


def _only_nonnegative(a_grid, p, x):
    """``x`` where no more than round-off of ``p`` sits at negative wealth, else NaN."""
    pn, _ = _normalise(jnp.asarray(p, jnp.asarray(a_grid).dtype))
    debtors = negative_wealth_mass(a_grid, pn) > _tol(pn.dtype)
    return jnp.where(debtors, jnp.nan, x)


def top_share(a_grid: Float[Array, " n_a"], p: Float[Array, " n_a"], x) -> Array:
    """Wealth share of the richest fraction ``x`` of households, ``1 - L(1 - x)`` (NaN with
    mass at negative wealth: module docstring)."""
    F, L = lorenz_points(a_grid, p)
    return _only_nonnegative(a_grid, p, 1.0 - jnp.interp(1.0 - jnp.asarray(x, F.dtype), F, L))


def gini(a_grid: Float[Array, " n_a"], p: Float[Array, " n_a"]) -> Array:
    """Gini ``= 1 - sum_i p_i (L_{i-1} + L_i)`` (exact for atoms; NaN with mass at negative
    wealth: module docstring)."""
    F, L = lorenz_points(a_grid, p)
    return _only_nonnegative(a_grid, p, 1.0 - jnp.sum((F[1:] - F[:-1]) * (L[1:] + L[:-1])))


def wealth_stats(a_grid: Float[Array, " n_a"], p: Float[Array, " n_a"]) -> WealthStats:
    """All wealth statistics of the atoms ``p`` (need not sum to one) on ``a_grid``.

    Args:
        a_grid: increasing wealth grid ``(n_a,)``; ``a_grid[0]`` is the borrowing limit.
        p: mass on each grid point ``(n_a,)`` (e.g. ``mu.sum(axis=1)`` of an ``(n_a, n_e)``
            distribution); normalised internally, the total is returned as ``mass``.

    Returns:
        :class:`WealthStats`. Definitions in the module docstring; with mass at negative
        wealth the Gini and the shares are NaN.

    Example:
        >>> s = wealth_stats(jnp.array([0.0, 1.0, 3.0]), jnp.array([0.5, 0.25, 0.25]))
        >>> float(s.gini)   # 1 - (0.5*0 + 0.25*(0+0.25) + 0.25*(0.25+1)) = 0.625
    """
    a_grid = jnp.asarray(a_grid)
    pn, tot = _normalise(jnp.asarray(p, a_grid.dtype))
    F, L = lorenz_points(a_grid, pn)
    g = 1.0 - jnp.sum((F[1:] - F[:-1]) * (L[1:] + L[:-1]))
    lor = lambda u: jnp.interp(jnp.asarray(u, F.dtype), F, L)  # noqa: E731
    share = lambda x: _only_nonnegative(a_grid, pn, x)  # noqa: E731
    return WealthStats(
        mass=tot,
        mean=pn @ a_grid,
        quantiles=wealth_quantile(a_grid, pn, jnp.asarray(QUANTILES, a_grid.dtype)),
        gini=share(g),
        top10=share(1.0 - lor(0.9)),
        top1=share(1.0 - lor(0.99)),
        bottom50=share(lor(0.5)),
        at_limit=pn[0],
    )


def wealth_marginal(mu: Float[Array, "n_a n_e"]) -> Float[Array, " n_a"]:
    """Mass on each wealth grid point, summed over income states."""
    return jnp.sum(mu, axis=-1)


def income_conditional(mu: Float[Array, "n_a n_e"]) -> tuple[Float[Array, "n_e n_a"], Float[Array, " n_e"]]:
    """Wealth distribution conditional on each income state and the income states' masses."""
    mass = jnp.sum(mu, axis=0)
    return (mu / jnp.where(mass > 0, mass, 1.0)[None, :]).T, mass


def stats_by_income(a_grid, mu: Float[Array, "n_a n_e"]) -> WealthStats:
    """:func:`wealth_stats` of every income-conditional distribution (leading axis ``n_e``).

    ``mass`` is the income state's share of the population (an empty state gives NaNs).
    """
    cond, mass = income_conditional(mu)
    stats = jax.vmap(lambda q: wealth_stats(a_grid, q))(cond)
    return eqx.tree_at(lambda s: s.mass, stats, mass)

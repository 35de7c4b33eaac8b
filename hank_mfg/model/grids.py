"""Wealth grids and action grids (docs/theory.md §3.1, §10)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._checks import check_int_at_least, concrete, fail

__all__ = [
    "shifted_geometric_grid",
    "uniform_grid",
    "double_exponential_grid",
    "share_grid",
    "savings_grid",
    "action_grid",
]


def _check_bounds(name: str, lo, hi, n: int) -> None:
    check_int_at_least(name, "n", n, 2)
    lo_c, hi_c = concrete(lo), concrete(hi)
    if lo_c is not None and hi_c is not None and not float(hi_c) > float(lo_c):
        fail(name, "hi", f"exceed lo = {float(lo_c):.6g}", hi_c)


def shifted_geometric_grid(
    lo: ArrayLike, hi: ArrayLike, n: int, pivot: ArrayLike | None = None
) -> Float[Array, " n"]:
    """Geometric grid shifted by ``pivot``: ``geomspace(lo + p, hi + p, n) - p``, first point exactly ``lo``.

    This is the grid of the paper's macro model (``lo=0, hi=99, pivot=0.25``, docs/theory.md §10.1) and the
    sequence-space codes' default wealth grid (there ``pivot = |lo| + 0.25``). Points are dense
    near the borrowing limit, where policies are most curved.

    Args:
        lo: borrowing limit (first point). hi: last point. n: number of points (>= 2).
        pivot: shift ``p``; ``lo + p`` must be positive. Default ``|lo| + 0.25`` (the
            sequence-space codes' convention; 0.25 for ``lo = 0`` as in the paper).
    """
    _check_bounds("shifted_geometric_grid", lo, hi, n)
    lo = jnp.asarray(lo, dtype=float)
    hi = jnp.asarray(hi, dtype=float)
    p = jnp.abs(lo) + 0.25 if pivot is None else jnp.asarray(pivot, dtype=float)
    lp = concrete(lo + p)
    if lp is not None and not float(lp) > 0:
        fail("shifted_geometric_grid", "pivot", "make lo + pivot positive", p)
    return _shifted_geometric(int(n), lo, hi, jnp.asarray(p, dtype=lo.dtype))


@functools.partial(jax.jit, static_argnums=0)  # one program, not one per operation
def _shifted_geometric(n: int, lo, hi, p):
    u = jnp.linspace(0.0, 1.0, n, dtype=lo.dtype)
    g = jnp.exp(jnp.log(lo + p) + u * (jnp.log(hi + p) - jnp.log(lo + p))) - p
    return g.at[0].set(lo).at[-1].set(hi)


def uniform_grid(lo: ArrayLike, hi: ArrayLike, n: int) -> Float[Array, " n"]:
    """Evenly spaced grid from ``lo`` to ``hi`` with ``n`` points."""
    _check_bounds("uniform_grid", lo, hi, n)
    return jnp.linspace(jnp.asarray(lo, dtype=float), jnp.asarray(hi, dtype=float), n)


def double_exponential_grid(lo: ArrayLike, hi: ArrayLike, n: int) -> Float[Array, " n"]:
    """Double-exponential grid ``lo + exp(exp(u) - 1) - 1``, ``u`` uniform (Maliar-style).

    Even denser near ``lo`` than the geometric grid; first point ``lo``, last ``hi``.
    """
    _check_bounds("double_exponential_grid", lo, hi, n)
    lo = jnp.asarray(lo, dtype=float)
    hi = jnp.asarray(hi, dtype=float)
    umax = jnp.log(jnp.log(hi - lo + 1.0) + 1.0)
    u = jnp.linspace(0.0, 1.0, n) * umax
    g = lo + jnp.exp(jnp.exp(u) - 1.0) - 1.0
    return g.at[0].set(lo).at[-1].set(hi)


def share_grid(n: int) -> Float[Array, " n"]:
    """Consumption shares at the bin midpoints ``(k + 0.5) / n`` of (0, 1) (docs/theory.md §3.1)."""
    check_int_at_least("share_grid", "n", n, 1)
    return jnp.asarray((np.arange(n) + 0.5) / n, dtype=float)  # host arithmetic: nothing to compile


def savings_grid(lo: ArrayLike, hi: ArrayLike, n: int,
                 pivot: ArrayLike | None = None) -> Float[Array, " n"]:
    """Savings action grid: next-period wealth levels ``a'`` on a shifted geometric grid."""
    return shifted_geometric_grid(lo, hi, n, pivot)


def action_grid(kind: str, n: int, wealth_min: ArrayLike, wealth_max: ArrayLike) -> Float[Array, " n"]:
    """The action grid of an ``action_kind``: ``n`` consumption shares (``"share"``) or ``n``
    next-wealth levels on the shifted geometric grid from ``wealth_min`` to ``wealth_max``
    (``"savings"``)."""
    if kind == "savings":
        return savings_grid(wealth_min, wealth_max, n)
    return share_grid(n)

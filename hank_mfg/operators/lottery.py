"""The wealth lottery: one kernel for every push-forward and its adjoint (docs/theory.md §3).

A household that ends a period with wealth ``x`` between grid points ``a_i <= x <= a_{i+1}``
is put on ``a_i`` with weight ``w_lo = (a_{i+1} - x) / (a_{i+1} - a_i)`` and on ``a_{i+1}``
with the rest (Young 2010), so that the mean is preserved. Every distribution in the toolkit
moves by this lottery along wealth and then by a small income matrix ``Pi[e, e']``:

    push_forward:  mu'(a', e') = sum_e Pi[e, e'] sum_a mu(a, e) L(a' | a, e)
    expect:        (E v)(a, e) = sum_{a'} L(a' | a, e) sum_{e'} Pi[e, e'] v(a', e')

and ``expect`` is the adjoint of ``push_forward``: ``<v, push_forward(mu)> = <expect(v), mu>``.
One layout serves every caller: arrays over states are ``(n_a, n_e, ...)``, wealth first (the
compiled operators' flat state ``s = i_a n_e + i_e`` is the same memory). Trailing axes (the
actions of a discrete choice) carry one lottery each. The income matrix may change from date
to date (an idiosyncratic chain that depends on the aggregate transition): it is an argument.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

__all__ = ["GridLocator", "Lottery", "expect", "grid_locator", "lottery_weights", "push_forward"]


class Lottery(eqx.Module):
    """Young (2010) lottery of next wealth onto the grid: weight ``w_lo`` on ``idx``, the rest
    on ``idx + 1``, for every state that chooses: shape ``(n_a, n_e, ...)``."""

    idx: Int[Array, "..."]
    w_lo: Float[Array, "..."]

    def _targets(self):
        """Flat index ``i_a' n_e + i_e`` of each chooser's lower point (income kept)."""
        n_e = self.idx.shape[1]
        col = jnp.arange(n_e).reshape((1, n_e) + (1,) * (self.idx.ndim - 2))
        return self.idx * n_e + col, n_e

    def scatter(self, lo: Float[Array, "n_a n_e *k"], hi: Float[Array, "n_a n_e *k"]
                ) -> Float[Array, "n_a n_e"]:
        """Add ``lo`` at each chooser's ``idx`` and ``hi`` at ``idx + 1`` in its income column."""
        tgt, n_e = self._targets()
        n_a = self.idx.shape[0]
        out = jnp.zeros(n_a * n_e, dtype=jnp.result_type(lo, hi))
        return out.at[tgt].add(lo).at[tgt + n_e].add(hi).reshape(n_a, n_e)

    def push(self, mass: Float[Array, "n_a n_e *k"]) -> Float[Array, "n_a n_e"]:
        """The wealth step of ``mass`` (before the income matrix)."""
        return self.scatter(mass * self.w_lo, mass * (1.0 - self.w_lo))

    def gather(self, W: Float[Array, "n_a n_e"]) -> Float[Array, "n_a n_e *k"]:
        """``W`` (a function of next wealth per today's income state, after the income
        expectation) at each chooser's lottery: ``w_lo W[idx] + (1 - w_lo) W[idx + 1]``."""
        tgt, n_e = self._targets()
        flat = W.reshape(-1)
        return self.w_lo * flat[tgt] + (1.0 - self.w_lo) * flat[tgt + n_e]

    def slope(self, W: Float[Array, "n_a n_e"], grid: Float[Array, " n_a"]
              ) -> Float[Array, "n_a n_e *k"]:
        """``d/da'`` of :meth:`gather`: the secant slope of ``W`` (zero where the lottery is
        clipped at a grid end)."""
        tgt, n_e = self._targets()
        flat = W.reshape(-1)
        s = (flat[tgt + n_e] - flat[tgt]) / (grid[self.idx + 1] - grid[self.idx])
        return jnp.where((self.w_lo > 0) & (self.w_lo < 1), s, 0.0)


def push_forward(mu: Float[Array, "n_a n_e *k"], lot: Lottery, Pi: Float[Array, "n_e n_e"]
                 ) -> Float[Array, "n_a n_e"]:
    """``mu'(a', e') = sum_e Pi[e, e'] sum_a mu(a, e) L(a' | a, e)``: the lottery along wealth,
    then the income matrix (``mu`` may carry the mass of each action on trailing axes)."""
    return lot.push(mu) @ Pi


def expect(v: Float[Array, "n_a n_e"], lot: Lottery, Pi: Float[Array, "n_e n_e"]
           ) -> Float[Array, "n_a n_e *k"]:
    """Adjoint of :func:`push_forward`: ``sum_{a'} L(a' | a, e) sum_{e'} Pi[e, e'] v(a', e')``."""
    return lot.gather(v @ Pi.T)


class GridLocator(eqx.Module):
    """Guided search of a fixed, increasing grid: the same index as a binary search, in fewer steps.

    Built once from a concrete grid (:func:`grid_locator`). Uniform buckets of width ``h`` cover
    ``[grid[0], grid[-1]]``; ``start[b]`` is the last grid index at or below the left edge of
    bucket ``b - 1`` (one bucket of slack, so that rounding in the bucket of ``x`` never
    starts past the answer). From there ``steps`` branch-free doubling steps find the last
    ``i <= n - 2`` with ``grid[i] <= x``: exact whenever the two buckets hold fewer than
    ``2^steps`` grid points, which sets the number of buckets. On the paper's 200-point
    geometric grid it takes 2 steps where a binary search takes 8.
    """

    lo: Float[Array, ""]
    inv_h: Float[Array, ""]
    start: Int[Array, " n_buckets"]
    steps: int = eqx.field(static=True)

    def index(self, x, grid):
        n = grid.shape[0]
        b = jnp.clip(jnp.floor((x - self.lo) * self.inv_h), 0, self.start.shape[0] - 1)
        i = self.start[b.astype(jnp.int32)]
        for k in reversed(range(self.steps)):
            j = jnp.minimum(i + 2**k, n - 2)
            i = jnp.where(grid[j] <= x, j, i)
        return i


#: Most buckets per grid point in a :class:`GridLocator`, and its largest number of steps.
_BUCKETS_PER_POINT, _MAX_STEPS = 64, 4


def grid_locator(grid) -> GridLocator | None:
    """A :class:`GridLocator` for a concrete increasing ``grid`` (``None`` for a traced grid,
    or one so uneven that a guided search would not beat the binary search)."""
    if isinstance(grid, jax.core.Tracer):
        return None
    g = np.asarray(grid, dtype=np.float64)
    n = g.shape[0]
    if n < 3 or not np.all(np.diff(g) > 0):
        return None
    for m in (4 * n, 16 * n, _BUCKETS_PER_POINT * n):
        h = (g[-1] - g[0]) / m
        left = g[0] + h * (np.arange(m) - 1)
        start = np.clip(np.searchsorted(g, left, side="right") - 1, 0, n - 2)
        end = np.clip(np.searchsorted(g, left + 3 * h, side="right") - 1, 0, n - 2)
        steps = int(np.ceil(np.log2(np.max(end - start) + 1)))
        if steps <= 2 or m == _BUCKETS_PER_POINT * n:
            break
    if steps > _MAX_STEPS:
        return None
    dtype = jnp.asarray(grid).dtype
    return GridLocator(lo=jnp.asarray(g[0], dtype), inv_h=jnp.asarray(1.0 / h, dtype),
                       start=jnp.asarray(start, jnp.int32), steps=max(steps, 1))


def lottery_weights(x: Float[Array, "..."], grid: Float[Array, " n_a"],
                    locator: GridLocator | None = None) -> Lottery:
    """Split each ``x`` between its two neighbouring grid points so that the mean is preserved.

    ``a_i <= x <= a_{i+1}`` puts ``(a_{i+1} - x) / (a_{i+1} - a_i)`` on ``i``; ``x`` below the
    grid goes wholly to ``a_0``, above it wholly to ``a_{n-1}`` (clipped at the grid ends).
    ``locator`` (:func:`grid_locator` of ``grid``) finds the same indices in fewer steps.
    """
    n = grid.shape[0]
    if locator is not None:
        idx = locator.index(x, grid)
    else:
        # "scan_unrolled": measured ~2x faster than the default binary search on CPU.
        idx = jnp.clip(jnp.searchsorted(grid, x, side="right", method="scan_unrolled") - 1, 0, n - 2)
    lo, hi = grid[idx], grid[idx + 1]
    w_lo = jnp.clip((hi - x) / (hi - lo), 0.0, 1.0)
    return Lottery(idx=idx, w_lo=w_lo)

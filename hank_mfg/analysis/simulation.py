"""Simulated panels of aggregates, prices and distribution moments along common-noise paths.

Consumption convention: at every date ``c_t(s) = sum_k P_t[s, k] c_t[s, k]`` is the consumption
the policy chooses (``c = m - a'``, so ``m = c + a'`` holds state by state and the push-forward
moves exactly the chosen savings). Under ``terminal="consume_all"`` the reward at ``t = T - 1`` is
``u(m)`` whatever the action; panels still report the chosen consumption at that date, while the
Euler errors (:mod:`hank_mfg.metrics.euler`) use ``m`` there because that is what the household
values.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..operators.meanfield import AggregateState, MeanField
from ..policies.networks import AbstractPolicy
from ..solvers.rollout import Trajectory, rollout_batch
from .distribution import wealth_stats

__all__ = ["Panel", "PANEL_FIELDS", "panel_from_trajectory", "simulate_paths", "expected_choices",
           "moments", "wealth_moments"]

#: Fields of a :class:`Panel`, in table order.
PANEL_FIELDS = ("z", "K", "L", "Y", "C", "r", "w", "share", "mean_wealth", "gini", "top10",
                "top1", "bottom50", "p10", "p50", "p90", "p99", "at_limit")


class Panel(eqx.Module):
    """Aggregates and distribution moments at every date of every path (fields ``(B, T)``).

    Attributes:
        z: log TFP. K, L, Y: capital, labour, output. C: aggregate chosen consumption
            ``sum_s mu_t(s) c_t(s)``. r, w: prices. share: mass-weighted mean consumption share
            of cash on hand above the borrowing limit, ``c / (m - a_0)``.
        mean_wealth, gini, top10, top1, bottom50, p10, p50, p90, p99, at_limit: wealth
            statistics of ``mu_t`` (definitions: :mod:`hank_mfg.analysis.distribution`).
    """

    z: Array
    K: Array
    L: Array
    Y: Array
    C: Array
    r: Array
    w: Array
    share: Array
    mean_wealth: Array
    gini: Array
    top10: Array
    top1: Array
    bottom50: Array
    p10: Array
    p50: Array
    p90: Array
    p99: Array
    at_limit: Array

    def mean(self) -> "Panel":
        """Mean over the leading (path) axis."""
        return jax.tree_util.tree_map(lambda x: jnp.mean(x, axis=0), self)


def expected_choices(mf: MeanField, P: Float[Array, "n_s n_k"], agg: AggregateState):
    """Expected consumption, next wealth and consumption share of every state under ``P``
    (:meth:`~hank_mfg.operators.meanfield.MeanField.expected_choices`)."""
    return mf.expected_choices(P, agg)


def moments(mf: MeanField, mu: Float[Array, " n_s"]) -> dict:
    """Wealth statistics of a flat distribution ``mu`` as a dict of 0-d arrays."""
    return wealth_moments(mf.a_grid, mu.reshape(mf.n_wealth, mf.n_income))


def wealth_moments(a_grid: Float[Array, " n_a"], mu: Float[Array, "n_a n_e"]) -> dict:
    """The panel's wealth statistics of a distribution ``mu[a, e]`` on ``a_grid`` (a dict of
    0-d arrays: ``mean_wealth, gini, top10, top1, bottom50, p10, p50, p90, p99, at_limit``)."""
    s = wealth_stats(a_grid, mu.sum(axis=1))
    q = s.quantiles
    return dict(mean_wealth=s.mean, gini=s.gini, top10=s.top10, top1=s.top1,
                bottom50=s.bottom50, p10=q[0], p50=q[2], p90=q[4], p99=q[5], at_limit=s.at_limit)


def _panel_one(mf: MeanField, traj: Trajectory) -> dict:
    def at(mu, P, agg):
        c, _, share = expected_choices(mf, P, agg)
        return dict(C=mu @ c, share=mu @ share, **moments(mf, mu))

    extra = jax.vmap(at)(traj.mu, traj.P, traj.agg)
    a = traj.agg
    return dict(z=a.z, K=a.K, L=a.L, Y=a.Y, r=a.r, w=a.w, **extra)


def panel_from_trajectory(mf: MeanField, traj: Trajectory) -> Panel:
    """The :class:`Panel` of a rollout (single ``(T, ...)`` or batched ``(B, T, ...)``)."""
    if traj.mu.ndim == 2:
        d = _panel_one(mf, traj)
        d = {k: v[None] for k, v in d.items()}
    else:
        d = jax.vmap(lambda tr: _panel_one(mf, tr))(traj)
    return Panel(**{k: d[k] for k in PANEL_FIELDS})


@eqx.filter_jit
def simulate_paths(
    mf: MeanField, policy: AbstractPolicy, eps: Float[Array, "B T"],
    mu0: Float[Array, " n_s"] | None = None, z0=0.0, z_shock: Float[Array, " T"] | None = None,
) -> tuple[Panel, Trajectory]:
    """Roll the population forward along each noise path and summarise every date.

    Args:
        mf: compiled model. policy: any :class:`~hank_mfg.AbstractPolicy`.
        eps: standard normal innovations ``(B, T)`` (``mf.sample_noise``); the same ``eps`` gives
            the same paths (common random numbers). mu0, z0: initial distribution and log TFP.
        z_shock: deterministic extra innovation added to ``z_t`` at each date (``(T,)``).

    Returns:
        ``(panel, trajectory)``: :class:`Panel` with fields ``(B, T)`` and the batched
        :class:`~hank_mfg.Trajectory`.
    """
    traj = rollout_batch(mf, policy, eps, mu0, z0, z_shock)
    return panel_from_trajectory(mf, traj), traj

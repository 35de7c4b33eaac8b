"""Policy functions ``c(a, e)``, ``a'(a, e)``, values and rewards on the grid and off it.

A learned policy depends on the public history: its table at date ``t`` is what it plays after
the observations ``o_0..o_t`` (:func:`~hank_mfg.solvers.rollout.replay_tables`). Expected
quantities average over the policy's action lottery: ``c(s) = sum_k P[s,k] c[s,k]`` and so on.
Off the grid, every function of wealth is interpolated linearly within each income state
(clamped to the end values outside the grid).
"""

from __future__ import annotations

import dataclasses
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ..model.base import AbstractHetAgentModel
from ..operators.meanfield import AggregateState, MeanField
from ..policies.networks import AbstractPolicy
from ..solvers.continuous import stationary_policy_value
from ..solvers.rollout import replay_tables
from .simulation import expected_choices

__all__ = ["PolicyFunctions", "policy_functions", "policy_at", "interpolate_in_wealth",
           "stationary_value", "QualityThresholds", "Verdict", "consumption_monotonicity",
           "quality_verdicts"]


class PolicyFunctions(eqx.Module):
    """Expected policy functions on the grid, each ``(n_a, n_e)`` (``[i_a, i_e]``).

    Attributes:
        consumption: ``c(a, e)``. savings: next wealth ``a'(a, e)``. share: ``c / (m - a_0)``.
        expected_action: ``sum_k P[s,k] action_grid[k]`` (a share, or a savings level).
        reward: expected period reward ``sum_k P[s,k] R[s,k]`` (``u(m)`` at a consume-all end).
        cash: cash on hand ``m = (1 + r) a + w e``.
    """

    consumption: Float[Array, "n_a n_e"]
    savings: Float[Array, "n_a n_e"]
    share: Float[Array, "n_a n_e"]
    expected_action: Float[Array, "n_a n_e"]
    reward: Float[Array, "n_a n_e"]
    cash: Float[Array, "n_a n_e"]


def policy_functions(mf: MeanField, P: Float[Array, "n_s n_k"], agg: AggregateState,
                     t=0) -> PolicyFunctions:
    """Expected consumption, savings, share, action and reward of table ``P`` at prices ``agg``.

    ``t`` is the date (only the terminal rule of the reward depends on it).
    """
    c, a_next, share = expected_choices(mf, P, agg)
    act = P @ mf.action_grid
    R = jnp.sum(P * mf.rewards(agg, t), axis=-1)
    shp = (mf.n_wealth, mf.n_income)
    return PolicyFunctions(consumption=c.reshape(shp), savings=a_next.reshape(shp),
                           share=share.reshape(shp), expected_action=act.reshape(shp),
                           reward=R.reshape(shp), cash=mf.cash_on_hand(agg).reshape(shp))


def policy_at(policy: AbstractPolicy, obs: Float[Array, "T n_obs"], date: int) -> Float[Array, "n_s n_k"]:
    """The table a policy plays at ``date`` after the public history ``obs[0..date]``.

    Later observations in ``obs`` (if any) are ignored: policies are causal, so the whole history
    is replayed once (one compilation for every date) and date ``date`` is taken.
    """
    return _replay(policy, obs)[int(date)]


_replay = eqx.filter_jit(replay_tables)


def interpolate_in_wealth(a_grid: Float[Array, " n_a"], table: Float[Array, "n_a n_e"],
                          wealth: Float[Array, " n_q"]) -> Float[Array, "n_q n_e"]:
    """Linear interpolation of ``table[:, e]`` at ``wealth`` for every income state (clamped)."""
    return jax.vmap(lambda col: jnp.interp(wealth, a_grid, col), in_axes=1, out_axes=1)(table)


_stationary_value = eqx.filter_jit(stationary_policy_value)


def stationary_value(model: AbstractHetAgentModel, c_policy: Float[Array, "n_a n_e"],
                     a_policy: Float[Array, "n_a n_e"], *, tol: float = 1e-10,
                     maxiter: int = 100_000) -> Float[Array, "n_a n_e"]:
    """Value ``V = u(c) + beta E[V(a', e')]`` of a stationary policy (e.g. the EGM steady state).

    Next wealth ``a'`` is put on the grid by the Young lottery (as the push-forward does) and
    ``V`` is found by value iteration to relative sup-norm change ``tol``.

    Raises:
        RuntimeError: not converged within ``maxiter`` iterations (gives the residual).
    """
    V, it, err = _stationary_value(model, jnp.asarray(c_policy), jnp.asarray(a_policy), None, tol,
                                   maxiter)
    if not float(err) <= tol:
        raise RuntimeError(f"stationary_value: value iteration did not converge after {int(it)} "
                           f"iterations; relative change {float(err):.6g} > tol {tol:.6g}")
    return V


# ---- quality verdicts ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class QualityThresholds:
    """Pass marks of :func:`quality_verdicts`.

    Attributes:
        euler_mean_log10: the mass-weighted mean Euler error ``log10|1 - c_hat / c|`` must not
            exceed this (-1: errors of 10% of consumption on average).
        euler_max_log10: nor may the largest one (0: no error of 100% or more).
        relative_exploitability: exploitability over ``|value|`` (the policy's own expected
            return, the one definition of every certificate) must not exceed this (0.05: a
            deviating household gains 5% of its value).
        monotone_rtol: a fall of consumption between neighbouring wealth points smaller than
            ``monotone_rtol * max|c|`` counts as round-off, not as a fall.
    """

    euler_mean_log10: float = -1.0
    euler_max_log10: float = 0.0
    relative_exploitability: float = 0.05
    monotone_rtol: float = 1e-6


@dataclasses.dataclass(frozen=True)
class Verdict:
    """One quality check: its ``value``, the ``threshold``, whether it ``passed``, and a sentence."""

    check: str
    value: float
    threshold: float
    passed: bool
    message: str


def consumption_monotonicity(
    consumption: Float[ArrayLike, "n_d n_a n_e"], a_grid: Float[ArrayLike, " n_a"],
    dates=None, *, rtol: float = 1e-6,
) -> tuple[float, str]:
    """Largest fall of consumption as wealth rises, relative to ``max|c|``, and where it is.

    Args:
        consumption: expected consumption ``c(a, e)`` at each of ``n_d`` dates.
        a_grid: the wealth grid. dates: labels of the ``n_d`` dates (default ``0..n_d-1``).
        rtol: falls up to ``rtol * max|c|`` are treated as round-off.

    Returns:
        ``(drop, where)``: ``drop = max(0, max_{d,i,e} (c[d,i,e] - c[d,i+1,e])) / max|c|``
        (0 when consumption never falls with wealth; NaN for non-finite consumption) and a
        sentence naming the worst date, income state and wealth points (empty when ``drop``
        is within ``rtol``).
    """
    c = np.asarray(consumption, dtype=float)
    a = np.asarray(a_grid, dtype=float)
    dates = list(range(c.shape[0])) if dates is None else [int(d) for d in dates]
    if not np.all(np.isfinite(c)):
        return math.nan, "consumption is not finite"
    scale = float(np.max(np.abs(c))) if c.size else 0.0
    if c.shape[1] < 2 or scale == 0.0:
        return 0.0, ""
    fall = c[:, :-1, :] - c[:, 1:, :]  # > 0 where consumption falls as wealth rises
    d, i, e = np.unravel_index(int(np.argmax(fall)), fall.shape)
    drop = max(0.0, float(fall[d, i, e])) / scale
    if drop <= rtol:
        return drop, ""
    n_bad = int(np.sum(np.any(fall > rtol * scale, axis=1)))
    where = (f"consumption falls with wealth for income state e{e} at date {dates[d]}: "
             f"c = {c[d, i, e]:.4g} at wealth {a[i]:.4g} but {c[d, i + 1, e]:.4g} at "
             f"{a[i + 1]:.4g} ({n_bad} of {c.shape[0] * c.shape[2]} date/income-state pairs "
             f"not increasing)")
    return drop, where


def quality_verdicts(
    *, consumption: Float[ArrayLike, "n_d n_a n_e"], a_grid: Float[ArrayLike, " n_a"],
    euler_mean_log10: float, euler_max_log10: float, exploitability: float, value: float,
    dates=None, thresholds: QualityThresholds | None = None,
) -> tuple[Verdict, ...]:
    """Quality verdicts of a solution: monotone consumption, Euler errors, exploitability.

    Pure (no pandas): the report tables, ``summary.json`` and the command line's warnings are
    built from its result.

    Args:
        consumption: expected consumption ``c(a, e)`` at the reported dates ``(n_d, n_a, n_e)``.
        a_grid: wealth grid. dates: labels of the dates (default ``0..n_d-1``).
        euler_mean_log10, euler_max_log10: mean and largest Euler error (log10, see
            :func:`hank_mfg.analysis.learned_euler_errors`).
        exploitability: best-response gain. value: the expected return it is compared with
            (``|value|``; the policy's own return).
        thresholds: :class:`QualityThresholds` (defaults when ``None``).

    Returns:
        Four :class:`Verdict`: ``monotone_consumption`` (value: the largest relative fall),
        ``euler_mean_log10``, ``euler_max_log10``, ``relative_exploitability``. A non-finite
        value fails its check.

    Example:
        >>> v = quality_verdicts(consumption=c[None], a_grid=a, euler_mean_log10=-3.0,
        ...                      euler_max_log10=-1.5, exploitability=0.01, value=-40.0)
        >>> [x.check for x in v if not x.passed]
    """
    th = QualityThresholds() if thresholds is None else thresholds
    drop, where = consumption_monotonicity(consumption, a_grid, dates, rtol=th.monotone_rtol)
    mono_ok = bool(np.isfinite(drop) and drop <= th.monotone_rtol)
    out = [Verdict("monotone_consumption", drop, th.monotone_rtol, mono_ok,
                   "consumption never falls as wealth rises, in any income state at the "
                   "reported dates"
                   if mono_ok else where)]
    for name, got, limit, what in (
            ("euler_mean_log10", euler_mean_log10, th.euler_mean_log10, "mean"),
            ("euler_max_log10", euler_max_log10, th.euler_max_log10, "largest")):
        got = float(got)
        ok = bool(np.isfinite(got) and got <= limit)
        rel = "at most" if ok else "above"
        out.append(Verdict(name, got, limit, ok,
                           f"{what} Euler error log10 {got:.3g} is {rel} {limit:.3g} "
                           f"(relative consumption error {10 ** got:.3g})"
                           if np.isfinite(got) else f"{what} Euler error is not finite"))
    ex, val = float(exploitability), abs(float(value))
    rel = ex / val if (np.isfinite(ex) and np.isfinite(val) and val > 0) else math.nan
    ok = bool(np.isfinite(rel) and rel <= th.relative_exploitability)
    msg = (f"exploitability {ex:.4g} is {100 * rel:.3g}% of |value| {val:.4g} "
           f"({'within' if ok else 'above'} {100 * th.relative_exploitability:.3g}%)"
           if np.isfinite(rel) else
           f"relative exploitability undefined (exploitability {ex:.4g}, |value| {val:.4g})")
    out.append(Verdict("relative_exploitability", rel, th.relative_exploitability, ok, msg))
    return tuple(out)

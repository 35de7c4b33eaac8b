"""A continuous-choice solution beside its gold standards (docs/theory.md §12.6), for reports.

Pure NumPy/JAX (no pandas); :mod:`hank_mfg.reports.continuous` turns these into tables and
figures.

* :func:`steady_state_policies`: the learned savings ``a'(a, e)`` and consumption ``c(a, e)`` at
  the steady state (date 0 of a noise-free rollout from the steady-state distribution) beside
  EGM's stationary policies.
* :func:`shock_persistence`: each shock's AR(1) coefficient, as the model declares it.
* :func:`perfect_foresight_irf` and :func:`irf_comparison`: the learned response to a one-time
  shock beside the perfect-foresight (MIT-shock) transition of the same model to the same
  shock path ``size * rho^t``.
* :func:`continuous_quality_verdicts` and :func:`history_verdicts`: pass marks of a continuous
  solution (relative exploitability, mean Euler error, market residual).
"""

from __future__ import annotations

import dataclasses
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..metrics.first_order import problem_and_policy as _problem_policy
from ..solvers.continuous import savings_rollout
from ..solvers.steady_state import steady_state as solve_steady_state
from ..solvers.transition import transition_path
from .aggregate_risk import IRF_TRANSITION_T, irf_gap, learned_irf
from .policy import Verdict

__all__ = [
    "ContinuousThresholds", "IRF_TRANSITION_T", "continuous_quality_verdicts", "history_verdicts",
    "irf_comparison", "perfect_foresight_irf", "shock_persistence", "steady_state_policies",
]


@eqx.filter_jit
def _first_date(problem, policy, eps):
    path = savings_rollout(problem, policy, eps)
    budget = jax.tree_util.tree_map(lambda x: x[0], path.budget)
    return path.a_next[0], path.c[0], budget.cash_on_hand(problem.a_grid)


def steady_state_policies(solution, policy=None) -> dict:
    """Learned and EGM policies at the steady state, each ``(n_a, n_e)``.

    The learned policy plays at date 0 of a rollout without noise from the steady-state
    distribution: the prices are the steady state's (an economy's market clears at date 0 under
    the learned policy, so its price is the steady-state one up to the policy's deviation) and
    the policy has seen one steady-state observation.

    Args:
        solution: a continuous-choice :class:`~hank_mfg.solvers.rspg.Solution` (or a
            :class:`~hank_mfg.solvers.continuous.SavingsProblem` with ``policy``).

    Returns:
        ``{"a_grid" (n_a,), "e_grid" (n_e,), "cash_on_hand", "learned_savings",
        "learned_consumption", "egm_savings", "egm_consumption"}`` as NumPy arrays; the
        learned ones satisfy ``a' + c = cash_on_hand`` and EGM's do at the steady-state prices.
    """
    problem, policy = _problem_policy(solution, policy)
    eps = jnp.zeros((1, problem.n_noise), problem.a_grid.dtype)
    a_next, c, cash = _first_date(problem, policy, eps)
    return dict(a_grid=np.asarray(problem.a_grid), e_grid=np.asarray(problem.e_grid),
                cash_on_hand=np.asarray(cash), learned_savings=np.asarray(a_next),
                learned_consumption=np.asarray(c), egm_savings=np.asarray(problem.a_ss),
                egm_consumption=np.asarray(problem.c_ss))


def shock_persistence(model) -> dict[str, float]:
    """``{shock name: rho}`` of every AR(1) shock the model declares (``model.shocks()``: a
    capital economy's log TFP ``z``, an economy's named shocks)."""
    return {s.name: float(s.rho) for s in model.shocks()}


def perfect_foresight_irf(model, shock: str, size: float, *, T: int = 40,
                          T_transition: int = IRF_TRANSITION_T, steady_state=None,
                          rho: float | None = None, jacobian=None) -> dict:
    """Perfect-foresight response to the shock path ``size * rho^t`` announced at date 0.

    ``hm.transition_path`` of ``model`` over ``T_transition`` dates (the shock path is zero
    afterwards), first ``T`` dates returned as deviations from the steady state:
    ``{aggregate: path[aggregate][:T] - ss[aggregate]}`` for every aggregate the path records.

    Args:
        model: a capital economy (shock ``"z"``) or an economy (one of its shocks).
        shock: the shock's name. size: its innovation at date 0. rho: persistence (default
            :func:`shock_persistence`). steady_state: ``hm.steady_state(model)`` (solved if None).
        jacobian: the steady state's Jacobian for ``T_transition`` dates
            (:func:`~hank_mfg.solvers.transition.transition_jacobian`; computed when omitted):
            pass it when solving several transitions of one economy.
    """
    if T_transition < T:
        raise ValueError(f"perfect_foresight_irf.T_transition must be at least T = {T}; "
                         f"got {T_transition}")
    rho = shock_persistence(model)[shock] if rho is None else float(rho)
    ss = solve_steady_state(model) if steady_state is None else steady_state
    z = size * rho ** np.arange(T_transition)
    path = transition_path(model, steady_state=ss, shocks={shock: z}, jacobian=jacobian)
    names = list(path.values)
    level = {k: float(ss[k]) for k in names if k in ss.values}  # log TFP z: zero
    out = {k: np.asarray(path[k][:T], dtype=float) - level.get(k, 0.0) for k in names}
    return out


def irf_comparison(solution, size: float, *, T: int = 40, T_transition: int = IRF_TRANSITION_T,
                   variables=None, steady_state=None) -> dict:
    """The learned response to each of the model's shocks beside the perfect-foresight one.

    Learned: :func:`~hank_mfg.analysis.aggregate_risk.learned_irf` without other noise (an
    unanticipated one-time innovation ``size`` at date 0, decaying at the model's ``rho``, from
    the steady-state distribution). Perfect foresight: :func:`perfect_foresight_irf` of the same
    model to the same path ``size * rho^t``. Both are level deviations from the steady state
    (the learned one from the learned economy's own path without the shock).

    Args:
        solution: a continuous-choice :class:`~hank_mfg.solvers.rspg.Solution`.
        size: the innovation. T: dates compared. variables: aggregates (default: every one
            both record whose perfect-foresight response exceeds a millionth of ``size``
            somewhere: a market in zero net supply stays out).

    Returns:
        ``{shock: {variable: {"learned" (T,), "perfect_foresight" (T,),
        "gap_share_of_peak" (T,)}}}``; the gap is ``|learned - perfect foresight|`` over the
        largest ``|perfect foresight|`` of the ``T`` dates
        (:func:`~hank_mfg.analysis.aggregate_risk.irf_gap`).
    """
    problem = solution.compiled()
    model = solution.model
    if steady_state is None:  # the one the problem was built from, else solved here
        steady_state = problem.steady_state
    ss = solve_steady_state(model) if steady_state is None else steady_state
    out = {}
    for name in problem.shock_names:
        learned = learned_irf(solution, {name: size}, T=T, n_paths=0)
        reference = perfect_foresight_irf(model, name, size, T=T, T_transition=T_transition,
                                          steady_state=ss)
        if variables is None:
            # a response below a millionth of the shock is the transition solver's tolerance
            # (e.g. a market in zero net supply), not a response
            names = [k for k in reference if k in learned
                     and np.max(np.abs(reference[k])) > 1e-6 * abs(size)]
        else:
            names = list(variables)
            missing = [k for k in names if k not in learned or k not in reference]
            if missing:
                both = sorted(set(learned) & set(reference))
                raise ValueError(f"irf_comparison.variables: {', '.join(missing)} not recorded "
                                 f"by both responses; they record {both}")
        gaps = irf_gap(learned, reference, names, T=T)
        out[name] = {k: dict(learned=np.asarray(learned[k][:T], dtype=float),
                             perfect_foresight=reference[k][:T],
                             gap_share_of_peak=gaps[f"{k}_by_date"]) for k in names}
    return out


@dataclasses.dataclass(frozen=True)
class ContinuousThresholds:
    """Pass marks of a continuous-choice solution (all strict: the value must lie below).

    Attributes:
        relative_exploitability: exploitability over ``|value|`` of the policy (1e-3: a
            deviating household gains less than 0.1% of its value).
        euler_mean_log10: mean Euler error ``log10|1 - c_hat / c|`` along the evaluation paths
            (-3: consumption errors of a tenth of a percent on average).
        market_residual: largest ``|market residual|`` of a cleared price (1e-6).
        first_order_gap: the first-order certificate (``hm.first_order_certificate``): the
            largest gap between the learned and the best-response impulse responses, as a
            share of the peak (0.1: the households' response is right to 10%).
        first_order_path_gap: the same certificate along noisy paths
            (``hm.path_certificate``): the root-mean-square gap between the best response today
            and the learned choice, in standard deviations of the learned aggregate (0.25).
    """

    first_order_gap: float = 0.1
    first_order_path_gap: float = 0.25
    relative_exploitability: float = 1e-3
    euler_mean_log10: float = -3.0
    market_residual: float = 1e-6


def continuous_quality_verdicts(*, relative_exploitability: float, euler_mean_log10: float,
                                market_residual: float,
                                thresholds: ContinuousThresholds | None = None,
                                first_order_gap: float | None = None,
                                first_order_path_gap: float | None = None
                                ) -> tuple[Verdict, ...]:
    """:class:`~hank_mfg.analysis.policy.Verdict` s: ``first_order_gap`` first when it is given
    (the first-order certificate, ``hm.first_order_certificate(solution)["max"]``), and
    ``first_order_path_gap`` when given (its ``"path_max"`` along noisy paths), then
    ``relative_exploitability``, ``euler_mean_log10`` and ``market_residual``, each passing when
    its value is finite and below its threshold (:class:`ContinuousThresholds`)."""
    th = ContinuousThresholds() if thresholds is None else thresholds
    rel, em, res = (float(x) for x in (relative_exploitability, euler_mean_log10, market_residual))
    checks = (() if first_order_gap is None else (
        ("first_order_gap", float(first_order_gap), th.first_order_gap,
         "first-order certificate gap",
         " of the peak response (the households' best response to the learned prices against "
         "their learned response)"),)) + (() if first_order_path_gap is None else (
        ("first_order_path_gap", float(first_order_path_gap), th.first_order_path_gap,
         "first-order certificate along paths",
         " standard deviations (root-mean-square gap between the households' best response "
         "today and their learned choice along noisy paths)"),)) + (
        ("relative_exploitability", rel, th.relative_exploitability, "relative exploitability",
         f" (a deviating household gains {100 * rel:.3g}% of its value)"),
        ("euler_mean_log10", em, th.euler_mean_log10, "mean Euler error log10",
         f" (relative consumption error {10 ** em:.3g})" if math.isfinite(em) else ""),
        ("market_residual", res, th.market_residual, "largest market residual", ""),
    )
    out = []
    for name, value, bound, label, gloss in checks:
        ok = bool(math.isfinite(value) and value < bound)
        text = (f"{label} {value:.3g} is {'below' if ok else 'not below'} {bound:.3g}{gloss}"
                if math.isfinite(value) else f"{label} is not finite")
        out.append(Verdict(name, value, bound, ok, text))
    return tuple(out)


def history_verdicts(history, thresholds: ContinuousThresholds | None = None,
                     first_order_gap: float | None = None,
                     first_order_path_gap: float | None = None
                     ) -> tuple[dict, tuple[Verdict, ...]]:
    """The last evaluation of a continuous run's ``history`` (a DataFrame or a list of rows
    with ``relative_exploitability, euler_mean, market_residual``) and its verdicts
    (:func:`continuous_quality_verdicts`, with the first-order certificate's gaps first when
    given)."""
    rows = history.to_dict("records") if hasattr(history, "to_dict") else list(history)
    if not rows:
        raise ValueError("history_verdicts.history is empty: the run has no evaluation")
    last = {k: (float("nan") if v is None else v) for k, v in rows[-1].items()}
    verdicts = continuous_quality_verdicts(
        relative_exploitability=last["relative_exploitability"],
        euler_mean_log10=last["euler_mean"], market_residual=last["market_residual"],
        thresholds=thresholds, first_order_gap=first_order_gap,
        first_order_path_gap=first_order_path_gap)
    return last, verdicts

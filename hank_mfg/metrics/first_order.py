"""The first-order certificate of a learned equilibrium (docs/theory.md §12.8).

Exploitability is second order in policy errors (a household loses little by a small mistake)
and the clairvoyant best response that measures it has a floor of its own, so it cannot tell a
policy that responds 30% too much to a shock from a right one. This module asks the
households directly: given the learned response of the prices they face, what would they do
if they optimised exactly? At first order the answer must be the learned households' own
response, and a policy error of ``x`` percent shows as a gap of about ``x`` percent.

* :func:`best_response_irf`: for one shock, the learned and the best-response impulse
  responses of assets, consumption and hours, and their gap as a share of the peak.
* :func:`first_order_certificate`: the gaps for every innovation of the solution.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..model.economy import AbstractEconomy
from ..solvers.continuous import savings_rollout_batch
from ..solvers.egm import price_budget
from ..solvers.household import household_block_path

__all__ = ["best_response_irf", "first_order_certificate", "impulse", "problem_and_policy",
           "rollout_aggregates"]


def problem_and_policy(solution_or_problem, policy=None):
    """``(problem, policy)`` of a continuous-choice solution (its compiled problem and learned
    policy), or the given problem with ``policy``."""
    if policy is None:
        if not (hasattr(solution_or_problem, "compiled")
                and hasattr(solution_or_problem, "policy")):
            raise TypeError(
                "expected a Solution of hm.solve(..., config=hm.RSPGConfig.continuous()) (or a "
                "SavingsProblem with policy=); got a "
                f"{type(solution_or_problem).__name__} — a steady state or a transition path "
                "has no learned policy: compare the learned responses with "
                "hm.transition_path(model, shocks=..., steady_state=ss) instead")
        return solution_or_problem.compiled(), solution_or_problem.policy
    return solution_or_problem, policy


def impulse(problem, shock: dict | None, T: int):
    """Deterministic innovations ``(T, n_noise)``: ``{name: size}`` at date 0, by noise name
    (a shock's surprise, or an announcement ``"<shock>_news<k>"`` hitting at ``k``)."""
    z_shock = jnp.zeros((T, problem.n_noise), problem.a_grid.dtype)
    for name, size in (shock or {}).items():
        if name not in problem.noise_names:
            raise ValueError(f"shock: {name!r} is not one of the model's innovations "
                             f"{problem.noise_names}")
        z_shock = z_shock.at[0, problem.noise_names.index(name)].set(size)
    return z_shock


@eqx.filter_jit
def rollout_aggregates(problem, policy, eps, z_shock, start=None):
    """Aggregates ``{name: (n_paths, T)}`` of the learned economy along the noise paths ``eps``
    ``(n_paths, T, n_noise)`` with the extra innovations ``z_shock`` ``(T, n_noise)``."""
    return savings_rollout_batch(problem, policy, eps, None, z_shock, start).agg


def _noise_free(problem, policy, z_shock):
    eps = jnp.zeros((1,) + z_shock.shape, z_shock.dtype)
    return rollout_aggregates(problem, policy, eps, z_shock)


def _budgets(model, agg):
    """The households' budgets along a noise-free learned path (``agg``: aggregates ``(1, T)``)."""
    if isinstance(model, AbstractEconomy):
        inputs = {k: jnp.asarray(agg[k][0]) for k in model.household_inputs}
        return jax.vmap(model.budget)(inputs)
    return jax.vmap(lambda r, w: price_budget(model, r, w))(jnp.asarray(agg["r"][0]),
                                                            jnp.asarray(agg["w"][0]))


@eqx.filter_jit
def _household_outputs(model, budgets, Va, mu):
    hp = household_block_path(model, budgets, Va, mu)
    return {"A": hp.A, "C": hp.C, "N": hp.N}


def best_response_irf(solution, shock: dict, *, T: int = 40, policy=None,
                      extra: int | None = None) -> dict:
    """The first-order certificate of a learned equilibrium: the households' own best response
    to the learned response of prices, against the learned households' response.

    The learned economy's noise-free response to ``shock`` gives the path of every aggregate
    the household budget reads (``r, w`` or an economy's ``household_inputs``). Households that
    know that path and optimise exactly (EGM backward from the steady-state marginal value,
    the lottery forward from the steady-state distribution, as in a perfect-foresight
    transition) respond with assets, consumption and hours ``A, C, N``; so do they along the
    unshocked noise-free path, and the difference is the best response's impulse response.
    For a small shock an equilibrium's learned response equals it at first order (no further
    shocks arrive along the path, so at first order the households' expectations are that
    path); a policy error of ``x`` percent in the households' response shows as a gap of about
    ``x`` percent. Exploitability, in contrast, is second order in policy errors.

    Args:
        solution: a continuous-choice solution (or a ``SavingsProblem`` with ``policy``).
        shock: ``{innovation: size}`` at date 0, as in ``hm.learned_irf``.
        T: dates compared. extra: dates simulated after ``T`` before the households' terminal
            steady-state value (default: the problem's horizon), so that the end of the path
            does not move the first ``T`` dates.

    Returns:
        ``{"learned": {o: (T,)}, "best_response": {o: (T,)}, "gap": {o: float}}`` for ``o`` in
        ``A, C`` (and ``N`` with an hours choice): deviations from the unshocked path, and
        ``max_t |learned - best response| / max_t |best response|`` (over the larger of that
        variable's and consumption's best-response peak: a market that holds assets in fixed
        supply keeps the learned ``A`` constant, and the best response's asset demand is then
        read in units of the consumption response).
    """
    with jax.enable_x64(True):  # as the solution was built (continuous choices are float64)
        problem, policy = problem_and_policy(solution, policy)
        if problem.chain is not None:
            raise ValueError(
                "best_response_irf: the aggregate state is a Markov chain, so an innovation "
                "moves it by a whole state, not by a small amount; compare the learned capital "
                "path with the Krusell–Smith algorithm's instead (hm.capital_path_gap)")
        model, ss = problem.model, problem.steady_state
        n = T + int(problem.horizon if extra is None else extra)
        base = _noise_free(problem, policy, impulse(problem, None, n))
        hit = _noise_free(problem, policy, impulse(problem, shock, n))
        out_base = _household_outputs(model, _budgets(model, base), ss.Va, ss.mu)
        out_hit = _household_outputs(model, _budgets(model, hit), ss.Va, ss.mu)
    names = [o for o in ("A", "C", "N") if o in hit]
    learned = {o: np.asarray(hit[o][0, :T] - base[o][0, :T]) for o in names}
    best = {o: np.asarray(out_hit[o][:T] - out_base[o][:T]) for o in names}
    peak = lambda x: float(np.max(np.abs(x)))  # noqa: E731
    gap = {o: peak(learned[o] - best[o]) / max(peak(best[o]), peak(best["C"]), 1e-300)
           for o in names}
    return {"learned": learned, "best_response": best, "gap": gap}


def first_order_certificate(solution, *, size: float = 1.0, T: int = 40, policy=None) -> dict:
    """:func:`best_response_irf` for every innovation of a continuous-choice solution (each
    surprise, and each announcement of a solution trained with news), each of ``size``
    standard deviations.

    Returns:
        ``{"gap": {o: largest gap over the innovations}, "by_innovation": {name: {o: gap}},
        "max": the largest of all}``; gaps as shares of the best response's peak (see
        :func:`best_response_irf`).
    """
    with jax.enable_x64(True):
        problem, policy = problem_and_policy(solution, policy)
    if not problem.noise_names:
        raise ValueError("first_order_certificate: the economy has no aggregate innovations, so "
                         "no response to certify")
    by = {}
    for i, name in enumerate(problem.noise_names):
        s = float(size) * float(problem.sigma[i])
        by[name] = best_response_irf(problem, {name: s}, T=T, policy=policy)["gap"]
    names = next(iter(by.values())).keys()
    gap = {o: max(g[o] for g in by.values()) for o in names}
    return {"gap": gap, "by_innovation": by, "max": max(gap.values())}

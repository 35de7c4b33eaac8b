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
* :func:`path_certificate`: the same question along noisy paths, date by date: the
  households' best response today to the prices the learned economy expects from today on,
  against the learned choice today, in standard deviations of the learned aggregate.

Both also follow the households of each wealth group (:func:`wealth_groups`) as a cohort and
compare the group's learned consumption response with its best response: an aggregate that
is right on average can hide the poor under-reacting and the rich over-reacting.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..solvers.continuous import SavingsProblem, savings_rollout, savings_rollout_batch
from ..solvers.household import distribution_path, household_block_path, household_policies

__all__ = ["best_response_irf", "best_response_today", "cohort_consumption",
           "first_order_certificate", "first_order_gap", "impulse", "path_certificate",
           "problem_and_policy", "rollout_aggregates", "wealth_groups"]


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
        problem = solution_or_problem.compiled()
        if not isinstance(problem, SavingsProblem):
            raise TypeError(
                f"expected a Solution with continuous savings choices "
                f"(hm.RSPGConfig.continuous()); {type(solution_or_problem.model).__name__} was "
                "solved with discrete choices: its responses are hm.impulse_responses(solution, "
                "key=...), its simulated paths hm.simulate(solution, key=...), its certificates "
                "hm.exploitability(solution) and hm.solution_quality(solution, key=...)")
        return problem, solution_or_problem.policy
    return solution_or_problem, policy


def impulse(problem, shock: dict | None, T: int, date: int = 0):
    """Deterministic innovations ``(T, n_noise)``: ``{name: size}`` at ``date``, by noise name
    (a shock's surprise, or an announcement ``"<shock>_news<k>"`` hitting ``k`` dates later)."""
    if not 0 <= date < T:
        raise ValueError(f"shock: the date must lie in [0, {T}); got {date}")
    z_shock = jnp.zeros((T, problem.n_noise), problem.a_grid.dtype)
    for name, size in (shock or {}).items():
        if name not in problem.noise_names:
            raise ValueError(f"shock: {name!r} is not one of the model's innovations "
                             f"{problem.noise_names}")
        z_shock = z_shock.at[date, problem.noise_names.index(name)].set(size)
    return z_shock


@eqx.filter_jit
def rollout_aggregates(problem, policy, eps, z_shock, start=None):
    """Aggregates ``{name: (n_paths, T)}`` of the learned economy along the noise paths ``eps``
    ``(n_paths, T, n_noise)`` with the extra innovations ``z_shock`` ``(T, n_noise)``."""
    return savings_rollout_batch(problem, policy, eps, None, z_shock, start).agg


@eqx.filter_jit
def _noise_free(problem, policy, z_shock):
    """The learned economy's noise-free path under the innovations ``z_shock`` (one path)."""
    eps = jnp.zeros((1,) + z_shock.shape, z_shock.dtype)
    path = savings_rollout_batch(problem, policy, eps, None, z_shock)
    return jax.tree_util.tree_map(lambda x: x[0], path)


def wealth_groups(mu, n_groups: int):
    """Weights ``(n_groups, n_a)`` that split the distribution ``mu (n_a, n_e)`` into groups of
    equal mass by wealth (poorest first); a grid point whose mass straddles a boundary is
    shared between the two groups in proportion. The weights add up to one at every point that
    holds mass."""
    m = jnp.sum(mu, axis=1)
    hi = jnp.cumsum(m) / jnp.sum(m)
    lo = hi - m / jnp.sum(m)
    edges = jnp.arange(n_groups + 1, dtype=mu.dtype) / n_groups
    overlap = (jnp.minimum(hi[None, :], edges[1:, None])
               - jnp.maximum(lo[None, :], edges[:-1, None]))
    return jnp.maximum(overlap, 0.0) / jnp.maximum(hi - lo, 1e-300)[None, :]


@eqx.filter_jit
def cohort_consumption(a_policy, c_policy, mu0s, a_grid, Pi_e):
    """Mean consumption ``(n_cohorts, T)`` of cohorts followed from their date-0 distributions
    ``mu0s (n_cohorts, n_a, n_e)`` under the savings and consumption policies ``(T, n_a, n_e)``
    of a path (the wealth lottery, then the income chain ``Pi_e``)."""
    def one(mu0):
        mus = distribution_path(mu0, a_policy, a_grid, Pi_e)
        return jnp.einsum("tae,tae->t", mus, c_policy) / jnp.sum(mu0)

    return jax.vmap(one)(mu0s)


def _budgets(model, agg):
    """The households' budgets along a noise-free learned path (``agg``: aggregates ``(T,)``)."""
    return jax.vmap(model.budget)({k: jnp.asarray(agg[k]) for k in model.household_inputs})


@eqx.filter_jit
def _household_outputs(model, budgets, Va, mu):
    hp = household_block_path(model, budgets, Va, mu)
    return {"A": hp.A, "C": hp.C, "N": hp.N}, (hp.a_policy, hp.c_policy)


def best_response_irf(solution, shock: dict, *, T: int = 40, policy=None,
                      extra: int | None = None, groups: int = 5) -> dict:
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
        groups: wealth groups of equal mass in the steady state (:func:`wealth_groups`).

    Returns:
        ``{"learned": {o: (T,)}, "best_response": {o: (T,)}, "gap": {o: float}, "groups"}``
        for ``o`` in ``A, C`` (and ``N`` with an hours choice): deviations from the unshocked
        path, and ``max_t |learned - best response| / max_t |best response|`` (over the larger
        of that variable's and consumption's best-response peak: a market that holds assets in
        fixed supply keeps the learned ``A`` constant, and the best response's asset demand is
        then read in units of the consumption response). ``groups``: the households of each wealth
        group at date 0 followed as a cohort, ``{"learned": (groups, T), "best_response":
        (groups, T)}`` (mean consumption, deviations from the unshocked path), ``"gap"
        (groups,)`` (``max_t |learned - best response|`` over the largest group's best-response
        peak) and ``"mass"`` (each group's share of households); the groups' responses
        weighted by their masses add up to the aggregate ``C``.
    """
    if int(groups) < 1:
        raise ValueError(f"best_response_irf: groups must be at least 1; got {groups}")
    with jax.enable_x64(True):  # as the solution was built (continuous choices are float64)
        problem, policy = problem_and_policy(solution, policy)
        _refuse_chain(problem, "best_response_irf")
        model, ss = problem.model, problem.steady_state
        n = T + int(problem.horizon if extra is None else extra)
        base = _noise_free(problem, policy, impulse(problem, None, n))
        hit = _noise_free(problem, policy, impulse(problem, shock, n))
        out_base, pol_base = _household_outputs(model, _budgets(model, base.agg), ss.Va, ss.mu)
        out_hit, pol_hit = _household_outputs(model, _budgets(model, hit.agg), ss.Va, ss.mu)
        names = [o for o in ("A", "C", "N") if o in hit.agg]
        learned = {o: np.asarray(hit.agg[o][:T] - base.agg[o][:T]) for o in names}
        best = {o: np.asarray(out_hit[o][:T] - out_base[o][:T]) for o in names}
        # the households of each wealth group at date 0, followed as a cohort
        weights = wealth_groups(ss.mu, groups)
        mu0s = weights[:, :, None] * ss.mu[None]

        def follow(a_policy, c_policy):
            return np.asarray(cohort_consumption(a_policy, c_policy, mu0s, problem.a_grid,
                                                 problem.Pi_e))[:, :T]

        g_learned = follow(hit.a_next, hit.c) - follow(base.a_next, base.c)
        g_best = follow(*pol_hit) - follow(*pol_base)
    peak = lambda x: float(np.max(np.abs(x)))  # noqa: E731
    gap = {o: peak(learned[o] - best[o]) / max(peak(best[o]), peak(best["C"]), 1e-300)
           for o in names}
    g_gap = np.max(np.abs(g_learned - g_best), axis=1) / max(peak(g_best), 1e-300)
    groups_out = {"learned": g_learned, "best_response": g_best, "gap": g_gap,
                  "mass": np.asarray(jnp.sum(mu0s, axis=(1, 2)))}
    return {"learned": learned, "best_response": best, "gap": gap, "groups": groups_out}


def first_order_certificate(solution, *, size: float = 1.0, T: int = 40, policy=None,
                            paths: int = 0, seed: int = 7) -> dict:
    """:func:`best_response_irf` for every innovation of a continuous-choice solution (each
    surprise, and each announcement of a solution trained with news), each of ``size``
    standard deviations; with ``paths > 0`` also :func:`path_certificate` along that many
    noisy paths of key ``seed`` (60 dates after 20 of burn-in).

    Returns:
        ``{"gap": {o: largest gap over the innovations}, "by_innovation": {name: {o: gap}},
        "max": the largest of all, "groups": {name: largest gap of a wealth group's
        consumption}}``; gaps as shares of the best response's peak (see
        :func:`best_response_irf`). With ``paths``: ``"paths"``, the root-mean-square gaps
        along the paths in standard deviations of the learned aggregates (``{"rms": {o},
        "max": {o}, "groups": [rms by wealth group]}``), and ``"path_max"``, the largest of
        those ``rms``.
    """
    with jax.enable_x64(True):
        problem, policy = problem_and_policy(solution, policy)
    if not problem.noise_names:
        raise ValueError("first_order_certificate: the economy has no aggregate innovations, so "
                         "no response to certify")
    by, groups = {}, {}
    for i, name in enumerate(problem.noise_names):
        s = float(size) * float(problem.sigma[i])
        br = best_response_irf(problem, {name: s}, T=T, policy=policy)
        by[name], groups[name] = br["gap"], float(np.max(br["groups"]["gap"]))
    names = next(iter(by.values())).keys()
    gap = {o: max(g[o] for g in by.values()) for o in names}
    out = {"gap": gap, "by_innovation": by, "max": max(gap.values()), "groups": groups}
    if int(paths) > 0:
        pc = path_certificate(problem, policy=policy, n_paths=int(paths), seed=seed)
        out["paths"] = {"rms": pc["rms"], "max": pc["max"],
                        "groups": [float(g) for g in pc["groups"]["rms"]]}
        out["path_max"] = max(pc["rms"].values())
    return out


def first_order_gap(problem, policy) -> dict:
    """The first-order certificate of a problem's policy (one standard deviation of every
    innovation) as history columns: ``first_order_gap`` (the largest gap) and
    ``first_order_gap_<outcome>`` (the largest over innovations for each outcome, e.g. ``C``,
    ``A``) — what ``hm.solve`` evaluates at every evaluation for the stopping rule
    (``RSPGConfig.stop_patience``) and ``hank-mfg solve`` records first in every evaluation's
    row; no columns for an economy whose aggregate state is a Markov chain or that has no
    aggregate innovations (the certificate does not apply)."""
    if problem.chain is not None or not problem.noise_names:
        return {}
    cert = first_order_certificate(problem, policy=policy)
    return {"first_order_gap": cert["max"],
            **{f"first_order_gap_{o}": g for o, g in cert["gap"].items()}}


def _refuse_chain(problem, who: str):
    if problem.chain is not None:
        raise ValueError(
            f"{who}: the aggregate state is a Markov chain, so an innovation "
            "moves it by a whole state, not by a small amount; compare the learned capital "
            "path with the Krusell–Smith algorithm's instead (hm.capital_path_gap)")


@eqx.filter_jit
def best_response_today(problem, policy, path, eps, dates, extra: int, groups: int = 5,
                        batch_size: int = 16):
    """Learned and best-response aggregates at the given dates of noisy paths.

    For each path ``b`` and date ``t`` in ``dates`` (``t >= 1``), the learned economy is
    continued from its state before ``t`` with ``t``'s own innovation and none after it, for
    ``extra`` dates: the path of prices the learned economy expects from ``t`` on, exactly at
    first order (certainty equivalence). Households that know that path and optimise exactly
    (EGM backward from the steady-state marginal value) choose today's savings, consumption
    and hours; weighted by the date's distribution ``mu_t`` they give the best response's
    aggregates, beside the learned households' own choices at ``t``.

    Args:
        path: the batched rollout of ``eps (B, T, n_noise)`` (:func:`savings_rollout_batch`).
        dates: the dates compared ``(n_dates,)``. groups: wealth groups of equal mass at each
            date (:func:`wealth_groups`). batch_size: continuations computed at once.

    Returns:
        ``{"learned": {o: (B, n_dates)}, "best_response": {o: ...}, "groups_learned":
        (B, n_dates, groups), "groups_best": ...}`` for ``o`` in ``A, C, N`` (effective
        labour ``sum mu e n``); the groups' mean consumption.
    """
    model = problem.model
    B = eps.shape[0]
    dates = jnp.asarray(dates)
    bs = jnp.repeat(jnp.arange(B), dates.shape[0])
    ts = jnp.tile(dates, B)

    def one(bt):
        b, t = bt
        take = lambda x: x[b, t - 1]  # noqa: E731
        start = (path.mu[b, t], take(path.z), take(path.hidden),
                 jax.tree_util.tree_map(take, path.carry))
        e = jnp.zeros((extra,) + eps.shape[2:], eps.dtype).at[0].set(eps[b, t])
        cont = savings_rollout(problem, policy, e, None, None, start)
        a_br, c_br, n_br = (x[0] for x in household_policies(model, cont.budget, problem.Va_ss))
        mu = cont.mu[0]
        e_grid = problem.e_grid[None, :]
        sums = lambda a, c, n: {"A": jnp.sum(mu * a), "C": jnp.sum(mu * c),  # noqa: E731
                                "N": jnp.sum(mu * n * e_grid)}
        w = wealth_groups(mu, groups)[:, :, None] * mu[None]
        mass = jnp.maximum(jnp.sum(w, axis=(1, 2)), 1e-300)
        group = lambda c: jnp.sum(w * c[None], axis=(1, 2)) / mass  # noqa: E731
        return (sums(cont.a_next[0], cont.c[0], cont.n[0]), sums(a_br, c_br, n_br),
                group(cont.c[0]), group(c_br))

    learned, best, g_learned, g_best = jax.lax.map(one, (bs, ts), batch_size=batch_size)
    shape = lambda x: x.reshape((B, dates.shape[0]) + x.shape[1:])  # noqa: E731
    return {"learned": {k: shape(v) for k, v in learned.items()},
            "best_response": {k: shape(v) for k, v in best.items()},
            "groups_learned": shape(g_learned), "groups_best": shape(g_best)}


def path_certificate(solution, *, n_paths: int = 4, T: int = 60, burn_in: int = 20,
                     seed: int = 7, groups: int = 5, extra: int | None = None,
                     policy=None) -> dict:
    """The first-order certificate along noisy paths (docs/theory.md §12.8).

    Along ``n_paths`` simulated paths of the learned economy (innovations of key ``seed``,
    the first ``burn_in`` dates dropped), at every date the households' best response today
    (:func:`best_response_today`: EGM against the prices the learned economy expects from
    today on, exact at first order) is set against the learned households' choice today, both
    on the date's distribution. The same comparison along the noise-free path is subtracted
    date by date, so what remains is how the two respond to the shocks that happened; a policy
    error of ``x`` percent in the households' response to the state shows as about ``x``
    percent of the learned aggregate's standard deviation. Unlike the impulse version
    (:func:`first_order_certificate`), it reads the policy at the states the economy actually
    visits, with every innovation at once.

    Args:
        solution: a continuous-choice solution (or a ``SavingsProblem`` with ``policy``).
        n_paths, T, burn_in, seed: the simulated paths. groups: wealth groups of equal mass at
            each date (:func:`wealth_groups`). extra: dates the economy is continued for the
            best response (default: the problem's horizon).

    Returns:
        ``{"rms": {o: float}, "max": {o: float}, "sd": {o: float}, "groups": {"rms": (groups,),
        "sd": (groups,)}, "gap": {o: (n_paths, T)}}`` for ``o`` in ``A, C`` (and ``N`` with an
        hours choice): the root-mean-square and largest gap (best response less learned, less
        the noise-free path's) over paths and dates, as shares of the learned aggregate's
        standard deviation along the paths (``A`` in units of the larger of its own and
        consumption's, as a market in fixed supply keeps the learned ``A`` constant); by wealth
        group, the group's mean consumption gap in units of its own standard deviation.
    """
    for name, v, lo in (("n_paths", n_paths, 1), ("T", T, 2), ("burn_in", burn_in, 1),
                        ("groups", groups, 1)):
        if int(v) < lo:
            raise ValueError(f"path_certificate: {name} must be at least {lo}; got {v}")
    with jax.enable_x64(True):  # as the solution was built (continuous choices are float64)
        problem, policy = problem_and_policy(solution, policy)
        _refuse_chain(problem, "path_certificate")
        if not problem.noise_names:
            raise ValueError("path_certificate: the economy has no aggregate innovations, so "
                             "no response to certify")
        n = int(burn_in) + int(T)
        extra = int(problem.horizon if extra is None else extra)
        eps = problem.sample_noise(key=jax.random.key(int(seed)), n_paths=int(n_paths), T=n)
        dates = np.arange(int(burn_in), n)
        # the noise-free path as one more path of the batch: one program for both
        e = jnp.concatenate([eps, jnp.zeros_like(eps[:1])])
        both = jax.tree_util.tree_map(np.asarray, best_response_today(
            problem, policy, savings_rollout_batch(problem, policy, e), e, dates, extra, groups))
    noisy = jax.tree_util.tree_map(lambda x: x[:-1], both)
    still = jax.tree_util.tree_map(lambda x: x[-1:], both)
    names = [o for o in ("A", "C", "N") if o != "N" or problem.model.endogenous_labour]
    gap = {o: (noisy["best_response"][o] - noisy["learned"][o])
           - (still["best_response"][o] - still["learned"][o]) for o in names}
    sd = {o: float(np.std(noisy["learned"][o])) for o in names}
    scale = {o: max(sd[o], sd["C"], 1e-300) if o == "A" else max(sd[o], 1e-300) for o in names}
    g_gap = ((noisy["groups_best"] - noisy["groups_learned"])
             - (still["groups_best"] - still["groups_learned"]))
    g_sd = np.std(noisy["groups_learned"], axis=(0, 1))
    return {"rms": {o: float(np.sqrt(np.mean(gap[o] ** 2)) / scale[o]) for o in names},
            "max": {o: float(np.max(np.abs(gap[o])) / scale[o]) for o in names},
            "sd": sd, "gap": gap,
            "groups": {"rms": np.sqrt(np.mean(g_gap ** 2, axis=(0, 1))) / np.maximum(g_sd, 1e-300),
                       "sd": g_sd}}

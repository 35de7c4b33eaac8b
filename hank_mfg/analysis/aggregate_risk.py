"""What a learned equilibrium with aggregate risk says (continuous choices, docs/theory.md §12.6).

* :func:`learned_irf`: the learned economy's response to a one-time shock — the same noise paths
  with and without the shock (common random numbers), averaged (a generalized impulse
  response; with zero noise, the response to an unanticipated shock, comparable with a
  perfect-foresight transition).
* :func:`irf_gap`: the largest gap between two responses at each date as a share of the peak
  of the reference (the perfect-foresight or sequence-space response).
* :func:`ergodic_moments`: mean, s.d. and correlations of the aggregates along long
  simulations of the learned economy, with Monte Carlo standard errors;
  :func:`first_order_moments`: the same moments of the first-order (sequence-space) solution.
* :func:`risky_steady_state`: what aggregate risk does to the economy's level — the ergodic
  means (antithetic paths, Monte Carlo standard errors) and the risky steady state (no shock
  realised, risk expected) against the deterministic steady state.
* :func:`girf_by_size`, :func:`state_dependent_girf`: generalized responses to shocks of several
  sizes (the nonlinearity) and from recession and boom states (the state dependence), the
  latter beside the perfect-foresight responses from the same states
  (:func:`perfect_foresight_from_states`).
* :func:`learned_group_responses`: who responds — the impact consumption response by wealth
  decile and income state in the learned economy.
* :func:`learned_news_responses`: anticipatory responses to innovations announced ``k`` dates
  ahead (a solution trained with ``RSPGConfig(news=K)``).
* At a lower bound on the policy rate (docs/models.md section 8): :func:`floor_statistics`
  (how often and how long), :func:`floor_certificates` (the certificates at the dates at the
  floor and away from it) and :func:`floor_responses` (generalized responses and the
  consumption response by wealth decile from states at the floor and away from it).

The first-order certificate of a learned solution (the households' own best response to the
learned response of prices) is :func:`hank_mfg.metrics.first_order.best_response_irf`.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..metrics.first_order import impulse
from ..metrics.first_order import problem_and_policy as _problem_policy
from ..metrics.first_order import rollout_aggregates as _aggregates
from ..solvers.continuous import (
    expected_shock_path, path_transitions, path_values, savings_rollout, savings_rollout_batch,
)
from ..solvers.savings_certificates import best_response_value, path_euler_errors
from ..solvers.equilibrium import economy_transition
from ..solvers.markets import ClosedFormPrices
from ..solvers.transition import transition_jacobian, transition_path
from .irf import mit_deviations
from .economy import group_consumption_response

__all__ = [
    "IRF_TRANSITION_T", "ergodic_moments", "first_order_moments", "floor_certificates",
    "floor_responses", "floor_statistics",
    "floor_spells", "girf_by_size", "horizon_stability", "irf_gap",
    "learned_group_responses", "learned_irf", "learned_news_responses",
    "perfect_foresight_from_states", "risky_steady_state", "simulate_aggregates",
    "state_dependent_girf",
]

#: Length of every perfect-foresight transition behind a benchmark (responses, first-order
#: moments): long enough that the economy's return to the steady state at its end does not
#: move the first dates.
IRF_TRANSITION_T = 300


@eqx.filter_jit
def _paths(problem, policy, eps, z_shock, start=None):
    return savings_rollout_batch(problem, policy, eps, None, z_shock, start)


def _noise(problem, T, n_paths, seed):
    if n_paths == 0:
        return jnp.zeros((1, T, problem.n_noise), problem.a_grid.dtype)
    return problem.sample_noise(key=jax.random.key(seed), n_paths=n_paths, T=T)


def simulate_aggregates(solution, policy=None, *, T: int, n_paths: int = 4, seed: int = 0,
                        shock: dict | None = None) -> dict:
    """Aggregates ``(n_paths, T)`` by name along simulated paths from the steady state.

    Args:
        solution: a continuous-choice :class:`~hank_mfg.solvers.rspg.Solution` (or a
            :class:`SavingsProblem` with ``policy``). T: dates. n_paths: noise paths
            (``0``: one path without noise). seed: noise key. shock: ``{name: size}``, a
            one-time innovation at date 0 (in the shock's units, e.g. ``{"z": 0.01}``; an
            announcement ``{"rstar_news4": -0.0025}`` hits at date 4).
    """
    problem, policy = _problem_policy(solution, policy)
    eps = _noise(problem, T, n_paths, seed)
    agg = _aggregates(problem, policy, eps, impulse(problem, shock, T))
    return {k: np.asarray(v) for k, v in agg.items()}


def _mean_se(x) -> tuple:
    """Mean over the leading axis and its Monte Carlo standard error (``nan`` for one draw)."""
    x = np.asarray(x)
    n = x.shape[0]
    se = np.std(x, axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.full(x.shape[1:], np.nan)
    return np.mean(x, axis=0), se


def learned_irf(solution, shock: dict, *, T: int = 40, n_paths: int = 0, seed: int = 0,
                policy=None, return_se: bool = False) -> dict | tuple:
    """Response of every aggregate to a one-time shock, ``{name: (T,)}`` in levels' deviations.

    ``n_paths = 0``: no other noise (the unanticipated-shock response, comparable with
    ``hm.transition_path``); otherwise the mean over ``n_paths`` noise paths of the shocked
    minus the unshocked path (common random numbers). ``return_se``: also the Monte Carlo
    standard errors of that mean, ``(response, se)`` (``se`` ``nan`` with fewer than two
    paths).
    """
    base = simulate_aggregates(solution, policy, T=T, n_paths=n_paths, seed=seed)
    hit = simulate_aggregates(solution, policy, T=T, n_paths=n_paths, seed=seed, shock=shock)
    both = {k: _mean_se(hit[k] - base[k]) for k in base}
    mean = {k: m for k, (m, _) in both.items()}
    return (mean, {k: e for k, (_, e) in both.items()}) if return_se else mean


def irf_gap(learned: dict, reference: dict, variables, T: int | None = None) -> dict:
    """``{variable: max_t |learned_t - reference_t| / max_t |reference_t|}`` over the first ``T``
    dates, and the per-date gaps under ``"<variable>_by_date"``."""
    out = {}
    for v in variables:
        ref = np.asarray(reference[v], dtype=float)
        got = np.asarray(learned[v], dtype=float)
        n = min(ref.shape[0], got.shape[0]) if T is None else T
        peak = np.max(np.abs(ref[:n]))
        gap = np.abs(got[:n] - ref[:n]) / peak
        out[v] = float(np.max(gap))
        out[f"{v}_by_date"] = gap
    return out


def ergodic_moments(solution, policy=None, *, T: int = 2000, burn_in: int = 200,
                    n_paths: int = 4, seed: int = 1, variables=None) -> dict:
    """Business-cycle moments of the learned economy: ``{"mean": {...}, "sd": {...},
    "corr": {(x, y): ...}}`` over ``n_paths`` simulations of ``T`` dates after ``burn_in``
    (pooled), for ``variables`` (default: every recorded aggregate that moves), and their
    Monte Carlo standard errors ``"se": {"mean": ..., "sd": ..., "corr": ...}``: the s.d. of
    the same moment across the independent paths over ``sqrt(n_paths)`` (``nan`` with one
    path)."""
    agg = simulate_aggregates(solution, policy, T=T + burn_in, n_paths=n_paths, seed=seed)
    paths = {k: np.asarray(v[:, burn_in:]) for k, v in agg.items()}
    series = {k: v.reshape(-1) for k, v in paths.items()}
    if variables is None:
        variables = [k for k, v in series.items() if np.std(v) > 1e-14 * (1 + abs(np.mean(v)))]
    n = next(iter(paths.values())).shape[0]

    def se(per_path):
        return float(np.std(per_path, ddof=1) / np.sqrt(n)) if n > 1 else float("nan")

    mean = {k: float(np.mean(series[k])) for k in variables}
    sd = {k: float(np.std(series[k])) for k in variables}
    err = {"mean": {k: se(np.mean(paths[k], axis=1)) for k in variables},
           "sd": {k: se(np.std(paths[k], axis=1)) for k in variables}, "corr": {}}
    corr = {}
    for i, x in enumerate(variables):
        for y in variables[i + 1:]:
            corr[(x, y)] = float(np.corrcoef(series[x], series[y])[0, 1])
            err["corr"][(x, y)] = se([np.corrcoef(a, b)[0, 1]
                                      for a, b in zip(paths[x], paths[y])])
    return {"mean": mean, "sd": sd, "corr": corr, "se": err}


def horizon_stability(solution, policy=None, *, blocks: int = 4, block_T: int | None = None,
                      burn_in: int | None = None, n_paths: int = 8, seed: int = 1,
                      variables=None) -> dict:
    """Whether the learned economy stays where it was trained: moments over consecutive blocks
    of long simulations, each block as long as a training path (``block_T``, default the
    problem's horizon).

    The policy is trained on paths of ``horizon`` dates from the steady state; a recurrent
    policy run far beyond that may drift (its history state wandering where it never trained)
    or explode. Along ``n_paths`` paths of ``burn_in + blocks * block_T`` dates, the mean and
    standard deviation of each variable are computed block by block (the s.d. about the
    block's mean over all paths), with their Monte Carlo standard errors across the paths;
    every later block is compared with the first, and the largest difference is reported in
    standard errors. A stable policy keeps those within a few standard errors; a drift grows
    with the block (docs/theory.md §12.11).

    Returns:
        ``{"block_T", "burn_in", "mean": {v: (blocks,)}, "sd": {v: (blocks,)}, "se_mean": {v:
        (blocks,)}, "se_sd": {v: (blocks,)}, "z_mean": {v: float}, "z_sd": {v: float},
        "finite": bool}`` — ``z``: ``max_b |m_b - m_0| / sqrt(se_b^2 + se_0^2)`` over the later
        blocks.
    """
    problem, policy = _problem_policy(solution, policy)
    block_T = int(problem.horizon if block_T is None else block_T)
    burn_in = int(block_T // 4 if burn_in is None else burn_in)
    for name, v, lo in (("blocks", blocks, 2), ("block_T", block_T, 2), ("n_paths", n_paths, 2),
                        ("burn_in", burn_in, 0)):
        if int(v) < lo:
            raise ValueError(f"horizon_stability.{name} must be at least {lo}; got {v}")
    agg = simulate_aggregates(problem, policy, T=burn_in + blocks * block_T, n_paths=n_paths,
                              seed=seed)
    finite = bool(all(np.all(np.isfinite(v)) for v in agg.values()))
    cut = {k: np.asarray(v[:, burn_in:]).reshape(n_paths, blocks, block_T)
           for k, v in agg.items()}
    if variables is None:
        variables = [k for k, v in cut.items() if np.std(v) > 1e-14 * (1 + abs(np.mean(v)))]
    out = {"block_T": block_T, "burn_in": burn_in, "finite": finite, "mean": {}, "sd": {},
           "se_mean": {}, "se_sd": {}, "z_mean": {}, "z_sd": {}}
    root = np.sqrt(n_paths)
    for v in variables:
        m = cut[v].mean(axis=2)                               # (n_paths, blocks)
        # second moments about the block's mean over every path: a path's own block mean
        # would remove the slow swings of a persistent series and bias its s.d. down
        dev2 = ((cut[v] - m.mean(axis=0)[None, :, None]) ** 2).mean(axis=2)
        for key, x in (("mean", m), ("sd", dev2)):
            est, se = x.mean(axis=0), x.std(axis=0, ddof=1) / root
            if key == "sd":  # the s.d. and its standard error by the delta method
                est, se = np.sqrt(est), se / (2.0 * np.sqrt(np.maximum(est, 1e-300)))
            out[key][v], out[f"se_{key}"][v] = est, se
            z = np.abs(est[1:] - est[0]) / np.maximum(np.sqrt(se[1:] ** 2 + se[0] ** 2), 1e-300)
            out[f"z_{key}"][v] = float(np.max(z))
    return out


def _bounded(where: str, solution, policy):
    """``(problem, policy, i_lb)`` of a solution whose economy has a lower bound on its rate."""
    problem, policy = _problem_policy(solution, policy)
    lb = getattr(problem.model, "i_lb", None)
    if lb is None:
        raise ValueError(f"{where}: {type(problem.model).__name__} has no lower bound on its "
                         "policy rate (i_lb is None)")
    return problem, policy, lb


def floor_spells(at) -> list[int]:
    """Lengths of the runs of ``True`` in a boolean series (a spell at the floor), in order; a
    run cut by the end of the series counts with the length it had."""
    runs, n = [], 0
    for x in np.asarray(at, bool):
        if x:
            n += 1
        elif n:
            runs.append(n)
            n = 0
    return runs + ([n] if n else [])


def floor_statistics(solution, policy=None, *, T: int = 2000, burn_in: int = 200,
                     n_paths: int = 8, seed: int = 1) -> dict:
    """How often and how long the policy rate sits at its lower bound along simulated paths of
    a learned economy with a bound (``OneAssetHANK(i_lb=...)``; docs/models.md section 8).

    Returns ``{"share", "share_se", "spells", "mean_spell", "max_spell", "at_floor",
    "off_floor"}``: the share of quarters with the rule's rate (``i_shadow``) below the bound
    and its Monte Carlo standard error (the s.d. of the paths' shares over ``sqrt(n_paths)``);
    the number of spells of each length ``{length: count}`` (spells cut by the end of a path
    count with the length they had); their mean and longest; and the means of the recorded
    aggregates over the quarters at and off the floor.

    Raises:
        ValueError: the economy has no lower bound.
    """
    problem, policy, lb = _bounded("floor_statistics", solution, policy)
    agg = simulate_aggregates(problem, policy, T=T + burn_in, n_paths=n_paths, seed=seed)
    paths = {k: np.asarray(v[:, burn_in:]) for k, v in agg.items()}
    at = paths["i_shadow"] < lb
    per_path = at.mean(axis=1)
    spells = [s for row in at for s in floor_spells(row)]
    counts = {int(n): int(c) for n, c in zip(*np.unique(spells, return_counts=True))}
    means = lambda mask: {k: float(v[mask].mean()) for k, v in paths.items()  # noqa: E731
                          if mask.any()}
    return {"share": float(at.mean()),
            "share_se": (float(np.std(per_path, ddof=1) / np.sqrt(n_paths)) if n_paths > 1
                         else float("nan")),
            "spells": counts, "mean_spell": float(np.mean(spells)) if spells else 0.0,
            "max_spell": int(max(spells)) if spells else 0,
            "at_floor": means(at), "off_floor": means(~at)}


@eqx.filter_jit
def _dated_certificates(problem, policy, eps):
    """Along each path of ``eps``: the aggregates and, at every date, the Euler errors (mean and
    max log10 over households), the expected residuals of the forward-looking conditions and
    the relative gain of the clairvoyant best response from that date on."""
    def one(e):
        path = savings_rollout(problem, policy, e)
        mean_log, max_log, _, exp_res = path_euler_errors(problem, policy, path, by_date=True)
        V_pi = path_values(problem, path)[0]
        V_br = best_response_value(problem, path.budget, path_transitions(problem, path),
                                   every_date=True)
        ret_pi = jnp.sum(path.mu * V_pi, axis=(1, 2))
        gain = jnp.sum(path.mu * V_br, axis=(1, 2)) - ret_pi
        return path.agg, mean_log, max_log, exp_res, gain / jnp.abs(ret_pi)

    return jax.vmap(one)(eps)


def floor_certificates(solution, policy=None, *, T: int = 200, burn_in: int = 100,
                       n_paths: int = 4, seed: int = 1) -> dict:
    """The certificates of a learned economy with a lower bound, at the floor and away from it
    (docs/models.md section 8).

    ``n_paths`` simulations of ``burn_in + T`` dates, plus the problem's horizon so that every
    date certified sees as far ahead as the training objective does; the ``T`` dates after
    ``burn_in`` are split by whether the rule's rate (``i_shadow``) is below the bound. For
    each group: ``dates`` (their number), ``euler_mean`` (the mean over dates of the
    mass-weighted mean log10 Euler error, over unconstrained households, as the history's
    ``euler_mean``) and ``euler_max`` (the largest); ``relative_exploitability``, the mean over
    dates of the relative gain of a household that re-optimises from that date on knowing the
    path (the history's measure, taken at each date instead of at date 0);
    ``<market>_max``, the largest residual of each market; ``<target>_expected``, the largest
    ``|E_t res_t|`` of each forward-looking condition (the Phillips curve). Also ``share``,
    the share of the dates at the floor.

    Raises:
        ValueError: the economy has no lower bound.
    """
    problem, policy, lb = _bounded("floor_certificates", solution, policy)
    for name, value in (("T", T), ("n_paths", n_paths)):
        if value < 1:
            raise ValueError(f"floor_certificates.{name} must be at least 1; got {value}")
    if burn_in < 0:
        raise ValueError(f"floor_certificates.burn_in must be non-negative; got {burn_in}")
    eps = _noise(problem, burn_in + T + problem.horizon, n_paths, seed)
    agg, mean_log, max_log, exp_res, gain = (
        jax.tree_util.tree_map(np.asarray, x)
        for x in _dated_certificates(problem, policy, eps))
    dates = slice(burn_in, burn_in + T)
    at = agg["i_shadow"][:, dates] < lb
    forward = getattr(problem.prices, "forward_targets", ())
    markets = getattr(problem.prices, "market_names", ())
    out = {"share": float(at.mean())}
    for key, mask in (("at_floor", at), ("off_floor", ~at)):
        if not mask.any():
            out[key] = {"dates": 0}
            continue
        group = {"dates": int(mask.sum()),
                 "euler_mean": float(mean_log[:, dates][mask].mean()),
                 "euler_max": float(max_log[:, dates][mask].max()),
                 "relative_exploitability": float(gain[:, dates][mask].mean())}
        for k in markets:
            group[f"{k}_max"] = float(np.abs(agg[k][:, dates][mask]).max())
        for j, k in enumerate(forward):
            group[f"{k}_expected"] = float(np.abs(exp_res[:, dates, j][mask]).max())
        out[key] = group
    return out


def risky_steady_state(solution, policy=None, *, T: int = 1000, burn_in: int = 200,
                       n_pairs: int = 4, seed: int = 1, T_rest: int = 500, scale: float = 1.0,
                       variables=None) -> dict:
    """Where aggregate risk moves the economy's level (docs/theory.md §12.10).

    * ``"mean"``: the ergodic means of the aggregates, over ``n_pairs`` antithetic pairs of
      simulations (innovations ``eps`` and ``-eps``) of ``T`` dates after ``burn_in``, both
      from the steady state. Every odd-order term of the aggregates in the innovations cancels
      within a pair, so the sampling noise of the first-order response, which would otherwise
      swamp the second-order effect of risk, leaves the estimate; ``"se"``: the standard error
      of that mean, the s.d. of the pairs' means over ``sqrt(n_pairs)`` (``nan`` for one pair).
    * ``"risky"``: the risky steady state, where the economy comes to rest when no shock is
      realised while households (and firms) still expect them: the noise-free path's value at
      date ``T_rest - 1``; ``"rest_drift"``: its change over the last tenth of that path (how
      far it still was from rest). ``None`` for an aggregate Markov chain, which has no
      "no shock" path.
    * ``"deterministic"``: the steady state without aggregate risk the problem was built from.

    The first-order solution is certainty equivalent: its risky steady state is the
    deterministic one, and its ergodic means differ from it only at second order in the size
    of the shocks (the curvature of the aggregation, not precaution). ``scale`` multiplies
    every innovation (a study of how the effect grows with risk; the policy is not re-solved).

    Returns:
        ``{"deterministic", "mean", "se", "risky", "rest_drift"}``, each ``{variable: float}``
        (levels), for ``variables`` (default: the aggregates the steady state defines, but the
        shocks).
    """
    problem, policy = _problem_policy(solution, policy)
    chain = problem.chain is not None
    for name, value, ok, need in (
            ("n_pairs", n_pairs, n_pairs >= 1, "at least 1"), ("T", T, T >= 1, "at least 1"),
            ("burn_in", burn_in, burn_in >= 0, "non-negative"),
            ("T_rest", T_rest, T_rest >= 10, "at least 10"),
            ("scale", scale, bool(np.isfinite(scale)) and scale > 0, "positive and finite")):
        if not ok:
            raise ValueError(f"risky_steady_state.{name} must be {need}; got {value}")
    if chain and scale != 1.0:
        raise ValueError("risky_steady_state.scale: the aggregate state is a Markov chain, "
                         f"whose draws pick the next state and cannot be scaled; got {scale}")
    ss = problem.ss_values
    eps = scale * _noise(problem, T + burn_in, n_pairs, seed)
    agg = _aggregates(problem, policy, jnp.concatenate([eps, -eps]),
                      impulse(problem, None, T + burn_in))
    if variables is None:   # the endogenous aggregates (the shocks' means are zero by design)
        variables = [k for k in agg if k in ss and k not in problem.shock_names]
    missing = [v for v in variables if v not in agg or v not in ss]
    if missing:
        raise ValueError(f"risky_steady_state.variables: {missing} are not aggregates of both "
                         f"the rollout and the steady state ({sorted(set(agg) & set(ss))})")
    pair_means = {v: 0.5 * (np.mean(np.asarray(agg[v])[:n_pairs, burn_in:], axis=1)
                            + np.mean(np.asarray(agg[v])[n_pairs:, burn_in:], axis=1))
                  for v in variables}
    out = {"deterministic": {v: float(ss[v]) for v in variables},
           "mean": {v: float(np.mean(m)) for v, m in pair_means.items()},
           "se": {v: _mean_se(m)[1].item() for v, m in pair_means.items()},
           "risky": None, "rest_drift": None}
    if not chain:
        rest = simulate_aggregates(problem, policy, T=T_rest, n_paths=0)
        back = T_rest - 1 - T_rest // 10
        out["risky"] = {v: float(rest[v][0, -1]) for v in variables}
        out["rest_drift"] = {v: float(abs(rest[v][0, -1] - rest[v][0, back]))
                             for v in variables}
    return out


def first_order_moments(solution, *, T_transition: int = IRF_TRANSITION_T, variables=None,
                        size: float = 1e-2) -> dict:
    """Business-cycle moments of the first-order (linear, certainty-equivalent) solution of
    the same economy and shocks: the benchmark the learned moments are read against.

    Each innovation (a shock's surprise, or an announcement ``k`` dates ahead) moves the
    aggregates by its sequence-space response; the response ``R_i[x]_t`` to one standard
    deviation is the central difference of two nonlinear perfect-foresight transitions to
    ``±size`` standard deviations (exact at first order; ``T_transition`` dates). With
    independent innovations every date, ``var(x) = sum_i sum_t R_i[x]_t^2`` and
    ``cov(x, y) = sum_i sum_t R_i[x]_t R_i[y]_t``; the means are the steady state's.

    Returns:
        ``{"mean": {...}, "sd": {...}, "corr": {(x, y): ...}}`` in the units of
        :func:`ergodic_moments` (levels), for ``variables`` (default: those that move; names
        the steady state does not define are left out).

    Raises:
        ValueError: an aggregate Markov chain (no linear solution in this form).
    """
    # a SavingsProblem itself, or a solution's
    problem = solution if hasattr(solution, "noise_names") else _problem_policy(solution)[0]
    if problem.chain is not None:
        raise ValueError("first_order_moments: the aggregate state is a Markov chain, which "
                         "has no first-order (certainty-equivalent) solution in this form")
    ss = problem.steady_state
    G = transition_jacobian(problem.model, ss, T_transition)   # one for every transition
    resp = []
    for i in range(problem.n_noise):
        name, dz = problem.innovation_path(i, T_transition)
        up, down = (mit_deviations(transition_path(problem.model, ss, shocks={
            name: sign * size * dz}, jacobian=G), ss)[0] for sign in (1.0, -1.0))
        resp.append({k: (np.asarray(up[k]) - np.asarray(down[k])) / (2.0 * size)
                     for k in up if k in ss.values})
    names = [k for k in resp[0] if any(np.max(np.abs(r[k])) > 1e-12 for r in resp)]
    names = names if variables is None else [v for v in variables if v in resp[0]]
    cov = {(x, y): float(sum(np.dot(r[x], r[y]) for r in resp)) for x in names for y in names}
    sd = {x: float(np.sqrt(cov[(x, x)])) for x in names}
    corr = {(x, y): cov[(x, y)] / (sd[x] * sd[y]) if sd[x] * sd[y] > 0 else float("nan")
            for i, x in enumerate(names) for y in names[i + 1:]}
    return {"mean": {x: float(ss.values[x]) for x in names}, "sd": sd, "corr": corr}


def girf_by_size(solution, shock: str, sizes, *, T: int = 40, n_paths: int = 16,
                 seed: int = 0, policy=None, return_se: bool = False) -> dict:
    """Generalized responses to one innovation at several sizes: ``{size: {name: (T,)}}``
    (means over ``n_paths`` noise paths with common random numbers; ``n_paths = 0``: without
    other noise). Dividing each by its size shows the nonlinearity. ``return_se``:
    ``{size: (response, se)}`` with the Monte Carlo standard errors (:func:`learned_irf`)."""
    return {float(a): learned_irf(solution, {shock: float(a)}, T=T, n_paths=n_paths, seed=seed,
                                  policy=policy, return_se=return_se) for a in sizes}


def _select(tree, idx):
    return jax.tree_util.tree_map(lambda x: x[idx], tree)


def state_dependent_girf(solution, shock: dict, *, T: int = 40, n_paths: int = 64,
                         burn_in: int = 200, variable: str = "Y", quantile: float = 0.25,
                         seed: int = 0, policy=None, benchmark: bool = True,
                         T_transition: int = IRF_TRANSITION_T) -> dict:
    """Responses from recession and boom states, learned beside perfect foresight.

    ``n_paths`` simulations run ``burn_in`` dates from the steady state; the states (distribution,
    shocks, histories, prices) at the end where ``variable`` is in its lowest ``quantile`` are
    "recession", in its highest "boom". From every state the same future noise runs with and
    without ``shock`` at the branching date; the response is the mean difference over each
    group's states. Returns ``{"recession": {name: (T,)}, "boom": {...}, "all": {...}}``,
    ``"level"``: the mean of ``variable`` at the branching date in each group, and ``"se"``:
    the Monte Carlo standard errors of each group's mean response (over its states, each with
    its own future noise; ``nan`` for a group of one).

    ``benchmark`` (an economy with Gaussian shocks, a capital economy included): also
    ``"perfect_foresight"``, the same groups' mean response of the economy's nonlinear
    perfect-foresight transition from each state (:func:`perfect_foresight_from_states`): the
    state dependence the model has without aggregate risk, which a learned state dependence is
    read against.
    """
    if not 0.0 < quantile <= 0.5:
        raise ValueError(f"state_dependent_girf.quantile must lie in (0, 0.5]; got {quantile}")
    problem, policy = _problem_policy(solution, policy)
    pre = _paths(problem, policy, _noise(problem, burn_in, n_paths, seed),
                 impulse(problem, None, burn_in))
    level = np.asarray(pre.agg[variable][:, -1])
    lo, hi = np.quantile(level, [quantile, 1.0 - quantile])
    groups = {"recession": np.flatnonzero(level <= lo), "boom": np.flatnonzero(level >= hi),
              "all": np.arange(n_paths)}
    out = _branch(problem, policy, pre.final, groups, shock, T, seed)[0]
    out["level"] = {g: float(np.mean(level[idx])) for g, idx in groups.items()}
    if benchmark and problem.chain is None:
        before = {k: np.asarray(pre.agg[k])[:, -1] for k in pre.agg}
        if isinstance(problem.prices, ClosedFormPrices):
            # what the households carried out of the last date: the capital in place next
            mu = np.asarray(pre.final[0])
            before[problem.prices.unknown] = np.einsum("bae,a->b", mu, np.asarray(problem.a_grid))
        pf = perfect_foresight_from_states(problem, pre.final, before, shock, T=T,
                                           T_transition=T_transition)
        out["perfect_foresight"] = {g: {k: np.mean(x[idx], axis=0) for k, x in pf.items()}
                                    for g, idx in groups.items()}
    return out


def _branch(problem, policy, states, groups: dict, shock: dict, T: int, seed: int,
            n_groups: int = 0):
    """From each of a batch of states the same future noise with and without ``shock`` at the
    branching date: ``({group: {name: mean response (T,)}, "se": {group: {name: (T,)}}},
    deciles)``, the groups' mean responses over their states (``groups``: ``{name: indices}``)
    and their Monte Carlo standard errors; with ``n_groups``, ``deciles``: each group's mean
    over its states of the impact consumption response of each wealth ``n_groups``-tile of that
    state's own distribution (:func:`group_consumption_response`; else ``None``)."""
    n_paths = states[0].shape[0]
    eps = _noise(problem, T, n_paths, seed + 1)
    base = _paths(problem, policy, eps, impulse(problem, None, T), states)
    hit = _paths(problem, policy, eps, impulse(problem, shock, T), states)
    stats = {g: {k: _mean_se(np.asarray(hit.agg[k])[idx] - np.asarray(base.agg[k])[idx])
                 for k in base.agg} for g, idx in groups.items()}
    out = {g: {k: m for k, (m, _) in st.items()} for g, st in stats.items()}
    out["se"] = {g: {k: e for k, (_, e) in st.items()} for g, st in stats.items()}
    deciles = None
    if n_groups:
        each = jax.vmap(lambda mb, cb, mh, ch: group_consumption_response(
            mb, cb, mh, ch, n_groups=n_groups)["wealth"])(
            base.mu[:, 0], base.c[:, 0], hit.mu[:, 0], hit.c[:, 0])
        deciles = {g: np.asarray(each)[idx].mean(axis=0) for g, idx in groups.items()}
    return out, deciles


def floor_responses(solution, shock: dict, *, T: int = 40, n_paths: int = 64,
                    burn_in: int = 200, seed: int = 0, n_groups: int = 10,
                    policy=None) -> dict:
    """Generalized responses at the lower bound and away from it (an economy with a bound,
    docs/models.md section 8).

    ``n_paths`` simulations run ``burn_in`` dates from the steady state; the states at their
    end are split by whether the rate was at the floor on the last of those dates (its rule,
    ``i_shadow``, below the bound). From every state the same future noise runs with and
    without ``shock`` (``{noise name: size}``, levels) at the next date; the response is the
    mean difference over each group's states. Returns ``{"at_floor": {name: (T,)},
    "off_floor": {...}, "se": {group: {name: (T,)}}, "states": {group: count}, "deciles":
    {group: (n_groups,)}}``, the last the impact consumption response (percent) of each
    wealth ``n_groups``-tile of each state's distribution, averaged over the group's states.

    Raises:
        ValueError: no lower bound, or no state at the floor (or none off it) at the end of
            the burn-in (more paths, or a longer burn-in).
    """
    problem, policy, lb = _bounded("floor_responses", solution, policy)
    pre = _paths(problem, policy, _noise(problem, burn_in, n_paths, seed),
                 impulse(problem, None, burn_in))
    at = np.asarray(pre.agg["i_shadow"][:, -1]) < lb
    groups = {"at_floor": np.flatnonzero(at), "off_floor": np.flatnonzero(~at)}
    empty = [g for g, idx in groups.items() if not idx.size]
    if empty:
        raise ValueError(f"floor_responses: no state {' or '.join(empty)} among the "
                         f"{n_paths} paths after {burn_in} dates; use more paths")
    out, deciles = _branch(problem, policy, pre.final, groups, shock, T, seed, n_groups)
    out["states"] = {g: int(idx.size) for g, idx in groups.items()}
    out["deciles"] = deciles
    return out


def perfect_foresight_from_states(problem, states, before: dict, shock: dict, *, T: int,
                                  T_transition: int = IRF_TRANSITION_T) -> dict:
    """The nonlinear perfect-foresight response to ``shock`` from each of a batch of states
    of the learned economy (Boppart, Krusell and Mitman's state-dependent responses without
    aggregate risk): for each state, the economy's transition (``T_transition`` dates, back
    to the steady state at the end) from that state's distribution, the aggregates of the date
    before (``before``: ``{name: (n,)}``, read by lagged conditions such as the real rate paid
    today) and the shock levels the state expects without further innovations, with and
    without the innovation ``shock`` at date 0; the response is the difference.

    Args:
        problem: the economy's :class:`~hank_mfg.solvers.continuous.SavingsProblem`.
        states: a rollout's ``final`` state, batched over ``n`` paths (distribution first,
            noise state second). before: aggregates at the date before, ``(n,)`` each; those
            that are not aggregates of the economy are ignored. shock: ``{noise name: size}``.

    Returns:
        ``{aggregate: (n, T)}``, level deviations of the shocked from the unshocked transition.
    """
    ss, model = problem.steady_state, problem.model
    mu, z_prev = np.asarray(states[0]), jnp.asarray(states[1])
    G = transition_jacobian(model, ss, T_transition)
    paths = {}
    for name, hit in (("base", impulse(problem, None, T_transition)),
                      ("hit", impulse(problem, shock, T_transition))):
        paths[name] = np.asarray(jax.vmap(lambda z: expected_shock_path(problem, z, hit))(z_prev))
    out = {}
    for b in range(mu.shape[0]):
        lags = {k: float(x[b]) for k, x in before.items() if k in ss.values}
        run = {}
        for name, levels in paths.items():
            run[name] = economy_transition(
                model, steady_state=ss, jacobian=G, initial_distribution=mu[b],
                initial_values=lags,
                shocks={s: levels[b, :, i] for i, s in enumerate(problem.shock_names)})
        for k in run["base"].values:
            d = np.asarray(run["hit"][k][:T]) - np.asarray(run["base"][k][:T])
            out.setdefault(k, []).append(d)
    return {k: np.stack(v) for k, v in out.items()}


def learned_group_responses(solution, shock: dict, *, date: int = 0, n_groups: int = 10,
                            policy=None) -> dict:
    """Who responds in the learned economy: the percent change of consumption of each wealth
    ``n_groups``-tile (of the steady-state distribution) and each income state at ``date``
    after ``shock`` at date 0, from the steady state without other noise (the dict of
    :func:`~hank_mfg.analysis.economy.consumption_response_by_group`)."""
    problem, policy = _problem_policy(solution, policy)
    T = date + 1
    eps = _noise(problem, T, 0, 0)
    base = _paths(problem, policy, eps, impulse(problem, None, T))
    hit = _paths(problem, policy, eps, impulse(problem, shock, T))
    out = group_consumption_response(base.mu[0, date], base.c[0, date], hit.mu[0, date],
                                     hit.c[0, date], n_groups=n_groups)
    return {k: np.asarray(v) for k, v in out.items()}


def learned_news_responses(solution, *, size: float, horizons=None, T: int = 40,
                           variables=("C", "Y", "pi", "r"), policy=None) -> dict:
    """Responses today to an innovation of ``size`` announced for ``k`` dates ahead, for each
    ``k`` in ``horizons`` (default ``0..K``, ``K`` the solution's ``news``): ``{"k": (n_k,),
    v: (n_k,) date-0 responses, "path_" + v: (n_k, T)}`` in levels' deviations, without other
    noise. ``k = 0`` is the surprise."""
    problem, policy = _problem_policy(solution, policy)
    name = problem.shock_names[problem.news_index]
    ks = list(range(problem.news + 1)) if horizons is None else [int(k) for k in horizons]
    if not ks or min(ks) < 0 or max(ks) > problem.news:
        raise ValueError(f"learned_news_responses.horizons must lie in [0, {problem.news}] (the "
                         f"solution's RSPGConfig.news); got {ks}")
    paths = {v: [] for v in variables}
    for k in ks:
        resp = learned_irf(problem, {name if k == 0 else f"{name}_news{k}": size}, T=T,
                           n_paths=0, policy=policy)
        for v in variables:
            paths[v].append(resp[v])
    out = {"k": np.asarray(ks)}
    for v in variables:
        out[v] = np.asarray([p[0] for p in paths[v]])
        out["path_" + v] = np.stack(paths[v])
    return out

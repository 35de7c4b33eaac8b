"""What a learned equilibrium with aggregate risk says (continuous choices, docs/theory.md §12.6).

* :func:`learned_irf`: the learned economy's response to a one-time shock — the same noise paths
  with and without the shock (common random numbers), averaged (a generalized impulse
  response; with zero noise, the response to an unanticipated shock, comparable with a
  perfect-foresight transition).
* :func:`irf_gap`: the largest gap between two responses at each date as a share of the peak
  of the reference (the perfect-foresight or sequence-space response).
* :func:`ergodic_moments`: mean, s.d. and correlations of the aggregates along long
  simulations of the learned economy.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..solvers.continuous import SavingsProblem, savings_rollout_batch

__all__ = ["ergodic_moments", "irf_gap", "learned_irf", "simulate_aggregates"]


def _problem_policy(solution_or_problem, policy=None):
    if policy is None:
        return solution_or_problem.compiled(), solution_or_problem.policy
    return solution_or_problem, policy


@eqx.filter_jit
def _aggregates(problem, policy, eps, z_shock):
    path = savings_rollout_batch(problem, policy, eps, None, z_shock)
    return path.agg


def simulate_aggregates(solution, policy=None, *, T: int, n_paths: int = 4, seed: int = 0,
                        shock: dict | None = None) -> dict:
    """Aggregates ``(n_paths, T)`` by name along simulated paths from the steady state.

    Args:
        solution: a continuous-choice :class:`~hank_mfg.solvers.rspg.Solution` (or a
            :class:`SavingsProblem` with ``policy``). T: dates. n_paths: noise paths
            (``0``: one path without noise). seed: noise key. shock: ``{shock name: size}``,
            a one-time innovation at date 0 (in the shock's units, e.g. ``{"z": 0.01}``).
    """
    problem, policy = _problem_policy(solution, policy)
    if n_paths == 0:
        eps = jnp.zeros((1, T, problem.n_shocks), problem.a_grid.dtype)
    else:
        eps = problem.sample_noise(key=jax.random.key(seed), n_paths=n_paths, T=T)
    z_shock = jnp.zeros((T, problem.n_shocks), eps.dtype)
    for name, size in (shock or {}).items():
        if name not in problem.shock_names:
            raise ValueError(f"shock: {name!r} is not one of the model's shocks "
                             f"{problem.shock_names}")
        z_shock = z_shock.at[0, problem.shock_names.index(name)].set(size)
    agg = _aggregates(problem, policy, eps, z_shock)
    return {k: np.asarray(v) for k, v in agg.items()}


def learned_irf(solution, shock: dict, *, T: int = 40, n_paths: int = 0, seed: int = 0,
                policy=None) -> dict:
    """Response of every aggregate to a one-time shock, ``{name: (T,)}`` in levels' deviations.

    ``n_paths = 0``: no other noise (the unanticipated-shock response, comparable with
    ``hm.transition_path``); otherwise the mean over ``n_paths`` noise paths of the shocked
    minus the unshocked path (common random numbers).
    """
    base = simulate_aggregates(solution, policy, T=T, n_paths=n_paths, seed=seed)
    hit = simulate_aggregates(solution, policy, T=T, n_paths=n_paths, seed=seed, shock=shock)
    return {k: np.mean(hit[k] - base[k], axis=0) for k in base}


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
    (pooled), for ``variables`` (default: every recorded aggregate that moves)."""
    agg = simulate_aggregates(solution, policy, T=T + burn_in, n_paths=n_paths, seed=seed)
    series = {k: v[:, burn_in:].reshape(-1) for k, v in agg.items()}
    if variables is None:
        variables = [k for k, v in series.items() if np.std(v) > 1e-14 * (1 + abs(np.mean(v)))]
    mean = {k: float(np.mean(series[k])) for k in variables}
    sd = {k: float(np.std(series[k])) for k in variables}
    corr = {}
    for i, x in enumerate(variables):
        for y in variables[i + 1:]:
            corr[(x, y)] = float(np.corrcoef(series[x], series[y])[0, 1])
    return {"mean": mean, "sd": sd, "corr": corr}

"""Tests of the firms' forecast in an economy whose equilibrium looks one date ahead
(docs/theory.md §13.5).

The forecaster's training loss (the squared one-step error) cannot say whether the forecast is
right: it includes the unforecastable surprise, and a forecaster that always predicts the
steady state scores within a factor of two of a good one. These tests ask what rational
expectations imply instead, along simulated evaluation paths of the learned economy:

* **accuracy**: the root-mean-square one-step error ``U_{t+1} - F_t`` beside the s.d. of the
  expectation ``F_t`` and of the realised ``U_{t+1}``, and beside the error of the steady-state
  forecast;
* **orthogonality** (den Haan and Marcet 1994): the errors of a rational forecast are
  uncorrelated with everything public at ``t``; the statistic
  ``J = T m' S^{-1} m`` (``m`` the mean of error times instruments, ``S`` the mean of their
  outer products times the squared error) is ``chi^2`` with as many degrees of freedom as
  instruments. Reported, as den Haan and Marcet do, as the shares of paths in the lower and
  upper 2.5% tails (both 2.5% when the forecast is rational);
* **the dynamic forecast** (den Haan 2010's test of a law of motion): the forecaster iterated
  on its own forecasts along the realised exogenous path, its prices computed by the economy's
  aggregate block from the forecast unknowns, against the realised unknowns;
* **the integrated forward-looking residual**: ``E_t[res_t]`` of every forward-looking
  condition (next date's shocks by quadrature), its root mean square and maximum relative to
  the s.d. of inflation (or of the first forecast unknown).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from ..solvers.continuous import realised_unknowns, savings_rollout_batch
from ..solvers.markets import ForecastClearing, _variables
from ..solvers.savings_certificates import path_euler_errors
from .first_order import problem_and_policy

__all__ = ["forecast_tests"]


def _iterated(problem, forecaster, path):
    """The forecaster iterated on its own forecasts along one path: ``U_hat_{t+1} = F(history
    of the forecast economy, exo_t)``, with the observed prices of each date computed by the
    aggregate block from the forecast unknowns (the exogenous variables and announcements as
    realised). Starts from the realised date 0. Returns ``U_hat (T - 1, n_u)`` for dates
    ``1..T-1``."""
    prices, model = problem.prices, problem.model
    unknowns, exo_names = prices.unknowns, tuple(model.exogenous)
    n_p = len(prices.observed)
    U = realised_unknowns(problem, path)
    exo = jnp.stack([path.agg[k] for k in exo_names], axis=-1)
    ss = problem.ss_values

    def values(u, x):
        return {**{k: u[j] for j, k in enumerate(unknowns)},
                **{k: x[j] for j, k in enumerate(exo_names)}}

    def step(carry, xs):
        history, prev, now, seen_prev = carry
        obs_t, z_t, exo_next = xs
        exo_obs = obs_t[n_p:]
        U_next = forecaster.predict(history, exo_obs) + problem.linear_forecast(z_t)
        nxt = values(U_next, exo_next)
        v = _variables(problem, [prev, now, nxt])
        seen = jnp.stack([v[k][1] for k in prices.observed])
        history = forecaster.update(history, jnp.concatenate([seen_prev, exo_obs]))
        return (history, now, nxt, seen), U_next

    prev = {k: jnp.asarray(ss[k], U.dtype) for k in unknowns + exo_names}
    init = (forecaster.init_carry(), prev, values(U[0], exo[0]),
            jnp.stack([jnp.asarray(ss[k], U.dtype) for k in prices.observed]))
    _, U_hat = jax.lax.scan(step, init, (path.obs[:-1], path.z[:-1], exo[1:]))
    return U_hat


@eqx.filter_jit
def _evaluate(problem, policy, eps):
    """The learned economy along the paths ``eps``: ``(path, F, U_hat, E_t res)``."""
    path = savings_rollout_batch(problem, policy, eps)
    fc = policy.forecaster
    F = jax.vmap(lambda o, z: fc.forecasts(o) + jax.vmap(problem.linear_forecast)(z))(
        path.obs, path.z)
    U_hat = jax.vmap(lambda p: _iterated(problem, fc, p))(path)
    res = jax.vmap(lambda p: path_euler_errors(problem, policy, p, by_date=True)[3])(path)
    return path, F, U_hat, res


def _orthogonality(err, inst):
    """den Haan–Marcet statistic of each column of ``err (T, n_u)`` on the instruments
    ``inst (T, k)``: ``(J (n_u,), degrees of freedom)``; instruments that do not vary along the
    path drop out (a pseudo-inverse, the degrees of freedom its rank)."""
    T = err.shape[0]
    J = np.zeros(err.shape[1])
    dof = 0
    for j in range(err.shape[1]):
        g = err[:, j:j + 1] * inst                         # (T, k)
        m = g.mean(axis=0)
        S = g.T @ g / T
        scale = np.sqrt(np.maximum(np.diag(S), 1e-300))
        Sn = S / np.outer(scale, scale)
        rank = np.linalg.matrix_rank(Sn, tol=1e-10)
        J[j] = T * (m / scale) @ np.linalg.pinv(Sn, rcond=1e-10, hermitian=True) @ (m / scale)
        dof = max(dof, int(rank))
    return J, dof


def forecast_tests(solution, *, n_paths: int = 16, T: int | None = None, seed: int = 7,
                   policy=None, scale_variable: str | None = None) -> dict:
    """The firms' forecast tested along ``n_paths`` simulated paths of the learned economy
    (docs/theory.md §13.5).

    Args:
        solution: a continuous-choice solution of an economy with the firms' forecast (e.g. the
            one-asset HANK), or its ``SavingsProblem`` with ``policy``.
        n_paths: evaluation paths (noise key ``seed``). T: dates per path (default: the
            problem's horizon).
        scale_variable: the aggregate whose s.d. along the paths scales the forward-looking
            residuals (default ``"pi"`` when the economy records it, else the first forecast
            unknown).

    Returns:
        ``{"unknowns": names, "rmse", "sd_expectation", "sd_realised", "rmse_steady_state"``
        (each ``(n_u,)``: the one-step error of the forecast and of a forecast that is always
        the steady state, pooled over paths and dates ``0..T-2``), ``"orthogonality": {"J"
        (n_paths, n_u), "dof", "instruments", "low", "high", "reject"}`` (den Haan–Marcet:
        shares of paths below the 2.5% and above the 97.5% quantile of ``chi^2(dof)``, and the
        share above the 95% quantile), ``"dynamic": {"mean", "max"}`` (``|U_hat_t - U_t|``
        of the forecaster iterated on its own forecasts, in units of the realised s.d.,
        ``(n_u,)``), ``"forward": {"names", "rms", "max", "scale", "scale_variable"}`` (the
        integrated residual of each forward-looking condition, relative to the s.d. of
        ``scale_variable``), ``"paths": {"realised" (n_paths, T, n_u), "forecast" (the
        forecast made at each date, same shape), "iterated" (the dynamic forecast of dates
        1..T-1, (n_paths, T - 1, n_u))}, "n_paths", "T"}``.

    Raises:
        ValueError: the economy has no firms' forecast (its prices are in closed form or
            cleared each date without one).
    """
    with jax.enable_x64(True):
        problem, policy = problem_and_policy(solution, policy)
        if not isinstance(problem.prices, ForecastClearing) or policy.forecaster is None:
            raise ValueError(
                "forecast_tests: this economy's prices need no forecast (none of its "
                "equilibrium conditions looks ahead); its certificates are "
                "hm.first_order_certificate and hm.exploitability")
        T = problem.horizon if T is None else int(T)
        if T < 10:
            raise ValueError(f"forecast_tests: T must be at least 10 dates; got {T}")
        if int(n_paths) < 1:
            raise ValueError(f"forecast_tests: n_paths must be at least 1; got {n_paths}")
        eps = problem.sample_noise(key=jax.random.key(seed), n_paths=int(n_paths), T=T)
        path, F, U_hat, exp_res = _evaluate(problem, policy, eps)
        F, U_hat, exp_res = np.asarray(F), np.asarray(U_hat), np.asarray(exp_res)
        U = np.asarray(realised_unknowns(problem, path))
        obs = np.asarray(path.obs)
        obs_ref, obs_scale = np.asarray(problem.obs_ref), np.asarray(problem.obs_scale)
        agg = {k: np.asarray(v) for k, v in path.agg.items()}

    names = tuple(problem.prices.unknowns)
    ss = np.array([float(problem.ss_values[u]) for u in names])
    err = U[:, 1:] - F[:, :-1]                                   # (B, T-1, n_u)
    pooled = lambda x: x.reshape(-1, x.shape[-1])
    rmse = np.sqrt(np.mean(pooled(err) ** 2, axis=0))
    rmse_ss = np.sqrt(np.mean(pooled(U[:, 1:] - ss) ** 2, axis=0))
    sd_f = pooled(F[:, :-1]).std(axis=0)
    sd_u = pooled(U[:, 1:]).std(axis=0)

    inst = np.concatenate([np.ones(obs.shape[:2] + (1,)), (obs - obs_ref) / obs_scale], axis=-1)
    Js, dof = [], 0
    for b in range(err.shape[0]):
        J, d = _orthogonality(err[b], inst[b, :-1])
        Js.append(J)
        dof = max(dof, d)
    J = np.stack(Js)
    lo, hi, q95 = (stats.chi2.ppf(p, dof) for p in (0.025, 0.975, 0.95))

    dyn = np.abs(U_hat - U[:, 1:]) / np.where(sd_u > 0, sd_u, 1.0)
    if scale_variable is None:
        scale_variable = "pi" if "pi" in agg else names[0]
    if scale_variable not in agg:
        raise ValueError(f"forecast_tests: scale_variable {scale_variable!r} is not an aggregate "
                         f"of the path; choose from {sorted(agg)}")
    scale = float(agg[scale_variable].std())
    fwd = pooled(exp_res)
    return {
        "unknowns": names, "rmse": rmse, "sd_expectation": sd_f, "sd_realised": sd_u,
        "rmse_steady_state": rmse_ss,
        "orthogonality": {"J": J, "dof": dof, "instruments": ("1",) + tuple(
            f"{k}_lag" for k in problem.prices.observed) + tuple(problem.model.exogenous)
            + tuple(problem.noise_names[problem.n_shocks:]),
            "low": np.mean(J < lo, axis=0), "high": np.mean(J > hi, axis=0),
            "reject": np.mean(J > q95, axis=0)},
        "dynamic": {"mean": dyn.reshape(-1, dyn.shape[-1]).mean(axis=0),
                    "max": dyn.reshape(-1, dyn.shape[-1]).max(axis=0)},
        "forward": {"names": tuple(problem.prices.forward_targets),
                    "rms": np.sqrt(np.mean(fwd ** 2, axis=0)) / scale,
                    "max": np.max(np.abs(fwd), axis=0) / scale, "scale": scale,
                    "scale_variable": scale_variable},
        "paths": {"realised": U, "forecast": F, "iterated": U_hat},
        "n_paths": int(n_paths), "T": T,
    }

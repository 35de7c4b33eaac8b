"""Calibration: choose model parameters so that the steady state matches target moments.

``calibrate(model, targets={"r": 0.01, "gini": 0.8}, free={"beta": (0.96, 0.995), ...})``
replaces the free parameters of a declared model (0-d array fields) trial by trial, solves the
stationary equilibrium without aggregate risk (docs/theory.md §9.3) and drives the target
residuals to zero:

- **one equation, one free parameter**: Brent's bracketed root find (:func:`~hank_mfg.solvers.roots.brent`);
- **otherwise**: bounded least squares (``scipy.optimize.least_squares``, trust-region
  reflective, forward-difference Jacobian).

Both run on the host around jitted inner solves. scipy rather than a JAX optimiser because every
trial is a fixed point (EGM policy iteration and the distribution's forward iteration inside
``lax.while_loop``) that is not reverse-differentiable without implicit differentiation, and a
handful of finite-difference trials on a warm-started solve cost less than compiling one.

**Targeting ``r``** (the sequence-space codes' way): when ``"r"`` is a target, the interest rate is
fixed at its target, the firm's first-order condition gives capital ``K(r)`` and the wage, and
asset-market clearing ``A(params) = K`` becomes one of the equations (residual ``(A - K)/K``)
instead of an inner root find in ``r``. Each trial is then one household solve
(:func:`hank_mfg.household_steady_state`). Without an ``r`` target every trial is a full
general-equilibrium :func:`hank_mfg.steady_state`.

**Compiled once per calibration**: parameters are traced 0-d arrays, and each trial's model is
``dataclasses.replace(model, name=value)`` (same structure, new leaves), so the jitted household
solve, the firm side and the moments are compiled at the first trial and reused; the number of
XLA compilations during the call is reported in ``diagnostics``.

**Economies** (:class:`~hank_mfg.AbstractEconomy`): every trial is the economy's steady state,
which solves the economy's own unknowns (HANK: ``beta`` and ``vphi`` clear the asset and
labour markets); the targets are moments it defines or residuals it declares beyond its
steady-state targets (:func:`economy_targets`).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping
from typing import Any, Optional

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from ..model.base import AbstractHetAgentModel
from ..model.economy import HOUSEHOLD_OUTPUTS, AbstractEconomy, Variables
from ..solvers.egm import household_steady_state, in_float64
from ..solvers.equilibrium import economy_steady_state
from ..solvers.roots import brent
from ..solvers.steady_state import SteadyState, capital_demand, capital_result, steady_state
from .distribution import wealth_marginal, wealth_stats

__all__ = ["TARGETS", "Calibration", "calibrate", "economy_targets", "steady_state_moments"]

#: Targets :func:`calibrate` accepts, with their definitions (all at the steady state, ``z = 0``).
TARGETS: dict[str, str] = {
    "r": "interest rate (per model period); fixed at its target, market clearing is an equation",
    "w": "wage",
    "K/Y": "capital-output ratio (per model period: quarterly models give ~4x the annual ratio)",
    "C/Y": "consumption-output ratio",
    "gini": "Gini coefficient of wealth over the stationary distribution (atoms on the grid)",
    "top10": "share of total wealth held by the wealthiest 10% of households",
    "top1": "share of total wealth held by the wealthiest 1% of households",
    "mass_at_limit": "mass of households at the borrowing limit a = a_grid[0]",
    "mpc": "mean marginal propensity to consume out of cash on hand (per model period)",
}


# ---------------------------------------------------------------------------------------------
# moments (pure, jittable)
# ---------------------------------------------------------------------------------------------
def _wealth_moments(mu, a_grid) -> dict[str, Array]:
    """Wealth moments of an ``(n_a, n_e)`` distribution (definitions:
    :mod:`hank_mfg.analysis.distribution`, atoms on grid points, Lorenz curve through them)."""
    s = wealth_stats(a_grid, wealth_marginal(mu))
    return dict(mean=s.mean, gini=s.gini, top10=s.top10, top1=s.top1, mass_at_limit=s.at_limit)


def _mean_mpc(mu, c_policy, a_grid, r):
    """Mass-weighted MPC ``dc/dm`` by forward differences of ``c`` along the grid
    (``(c_{i+1} - c_i) / ((1 + r)(a_{i+1} - a_i))``; the last point uses the backward one)."""
    dc = jnp.diff(c_policy, axis=0) / ((1.0 + r) * jnp.diff(a_grid))[:, None]
    mpc = jnp.concatenate([dc, dc[-1:]], axis=0)
    return jnp.sum(mu * mpc) / jnp.sum(mu)


@eqx.filter_jit
def _firm_side(model, r):
    """Capital demand, labour and the wage at the interest rate ``r`` (jitted once per model)."""
    L = model.labour
    K = capital_demand(model, r, L)
    w = model.prices(K, L, 0.0)[1]
    Y = model.output(K, L, 0.0)
    return K, L, w, Y


@eqx.filter_jit
def _distribution_moments_jit(a_grid, mu, c_policy, R):
    out = _wealth_moments(mu, a_grid)
    out["mpc"] = _mean_mpc(mu, c_policy, a_grid, R - 1.0)
    return out


def steady_state_moments(model, ss) -> dict[str, float]:
    """All moments :func:`calibrate` can target, at a steady state (plain floats).

    Args:
        model: the model ``ss`` was solved for (its wealth grid is used).
        ss: a :class:`hank_mfg.SteadyState` (from :func:`hank_mfg.steady_state`), or an
            economy's :class:`hank_mfg.SteadyState`.

    Returns:
        dict with every aggregate and solved unknown of ``ss.values`` by name (a capital
        economy's ``r, w, K, Y, C, ...``; an economy's ``r``, ``w``, ``Y``, ``C``, ``beta``,
        ...), ``K/Y`` and ``C/Y`` where the economy defines ``K`` / ``Y``, the wealth statistics
        of ``ss.mu`` (``mean, gini, top10, top1, mass_at_limit``:
        :func:`hank_mfg.analysis.wealth_stats`, atoms on grid points) and ``mpc``
        (mass-weighted mean of ``dc/dm`` by forward differences of the consumption policy along
        the wealth grid, per model period, with cash on hand ``R a`` at the budget's gross
        return ``R``). See :data:`TARGETS` for definitions; the residuals are
        ``ss.residuals``.
    """
    m = ss.model
    if model is not None and np.shape(model.a_grid)[0] != ss.mu.shape[0]:
        raise ValueError(f"steady_state_moments: the steady state's distribution is on "
                         f"{ss.mu.shape[0]} wealth points and {type(model).__name__}'s grid has "
                         f"{np.shape(model.a_grid)[0]}; pass the model the steady state was "
                         "solved for")
    out = {k: float(v) for k, v in ss.values.items()}
    if "Y" in out and "K" in out:
        out["K/Y"] = out["K"] / out["Y"]
    if "Y" in out and "C" in out:
        out["C/Y"] = out["C"] / out["Y"]
    R = jnp.asarray(m.budget(ss.values).R, dtype=float)
    dist = _distribution_moments_jit(jnp.asarray(m.a_grid, dtype=float), ss.mu, ss.c_policy, R)
    out.update({k: float(v) for k, v in dist.items()})
    return out


# ---------------------------------------------------------------------------------------------
# result
# ---------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Calibration:
    """The result of :func:`calibrate`.

    Attributes:
        model: the calibrated model (``dataclasses.replace`` of the input with ``params``).
        params: calibrated values of the free parameters, ``{name: float}``.
        targets: the targets, ``{name: float}``.
        moments: every moment of :data:`TARGETS` (and ``K, Y, C, mean``) at the calibrated
            steady state, ``{name: float}``.
        steady_state: the :class:`hank_mfg.SteadyState` at the calibrated parameters.
        diagnostics: ``method`` (``"brent"`` or ``"least_squares"``), ``mode`` (``"r fixed"``:
            market clearing is an equation; ``"general equilibrium"``: a steady state per trial),
            ``success`` (the solver converged and every scaled residual is below
            ``residual_tol``), ``solver_success``, ``message``, ``evaluations`` (steady-state
            solves), ``iterations`` (root-find iterations, or least-squares Jacobian evaluations), ``residuals`` (the
            scaled equation residuals at the solution, ``{equation: float}``), ``max_residual``,
            ``market_residual`` (``A - K``), ``seconds``, ``compilations`` (XLA compilations
            during the call) and ``compilations_after_first`` (those after the first trial:
            0 when nothing retraced), ``history`` (one dict per trial: params, residuals,
            seconds).
    """

    model: AbstractHetAgentModel | AbstractEconomy
    params: dict[str, float]
    targets: dict[str, float]
    moments: dict[str, float]
    steady_state: SteadyState | SteadyState
    diagnostics: dict[str, Any]
    descriptions: dict[str, str] = dataclasses.field(default_factory=dict)

    def _describe(self, name: str) -> str:
        return self.descriptions.get(name, TARGETS.get(name, ""))

    @property
    def fit(self) -> dict[str, dict[str, float]]:
        """``{target: {"target": t, "model": m, "error": m - t}}`` (plain floats)."""
        return {k: dict(target=t, model=self.moments[k], error=self.moments[k] - t)
                for k, t in self.targets.items()}

    def rows(self, untargeted: Mapping[str, float] | None = None) -> list[dict[str, Any]]:
        """The fit as plain rows ``{target, data, model, error, targeted, description}``:
        the targets first, then ``untargeted`` data moments (reported next to the model's)."""
        rows = [dict(target=k, data=v["target"], model=v["model"], error=v["error"],
                     targeted=True, description=self._describe(k)) for k, v in self.fit.items()]
        allowed = list(self.descriptions) or list(TARGETS)
        for k, v in (untargeted or {}).items():
            if k not in allowed or k not in self.moments:
                raise ValueError(f"Calibration.rows: unknown moment {k!r}; allowed: "
                                 f"{', '.join(allowed)}")
            rows.append(dict(target=k, data=float(v), model=self.moments[k],
                             error=self.moments[k] - float(v), targeted=False,
                             description=self._describe(k)))
        return rows

    def table(self, untargeted: Mapping[str, float] | None = None):
        """Targets (and ``untargeted`` data moments) versus the model as a pandas DataFrame.

        Columns ``target, data, model, error, targeted, description``. pandas is imported
        here, lazily, so the analysis layer does not depend on it.
        """
        import pandas as pd

        cols = ["target", "data", "model", "error", "targeted", "description"]
        return pd.DataFrame(self.rows(untargeted), columns=cols)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: params, targets, fit, moments and diagnostics without history."""
        diag = {k: v for k, v in self.diagnostics.items() if k != "history"}
        return dict(model=type(self.model).__name__, params=dict(self.params),
                    targets=dict(self.targets), fit=self.fit, moments=dict(self.moments),
                    diagnostics=diag)


# ---------------------------------------------------------------------------------------------
# calibrate
# ---------------------------------------------------------------------------------------------
def _check_inputs(model, targets, free, allowed=TARGETS, listing=None, solved=()):
    where = "calibrate"
    if not isinstance(model, (AbstractHetAgentModel, AbstractEconomy)):
        raise TypeError(f"{where} expects an AbstractHetAgentModel or an AbstractEconomy; got "
                        f"{type(model).__name__}")
    listing = f"allowed: {', '.join(allowed)}" if listing is None else listing
    if not targets:
        raise ValueError(f"{where}.targets is empty; choose from {sorted(allowed)}")
    if not free:
        raise ValueError(f"{where}.free is empty; give {{field: (lo, hi)}} for at least one "
                         "parameter")
    clean_targets = {}
    for name, value in targets.items():
        if name not in allowed:
            raise ValueError(f"{where}.targets: unknown target {name!r}; {listing}")
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{where}.targets[{name!r}] must be a number; got {value!r}") from None
        if not math.isfinite(v):
            raise ValueError(f"{where}.targets[{name!r}] must be finite; got {v:.6g}")
        clean_targets[name] = v
    return clean_targets, _check_free(model, free, solved)


def _check_free(model, free, solved=()):
    """``{name: (lo, hi)}`` of 0-d parameter fields of ``model`` (``solved``: fields the
    steady state solves for, which cannot be free)."""
    where = "calibrate"
    fields = {f.name: f for f in dataclasses.fields(model)}
    owner = type(model).__name__
    clean_free = {}
    for name, bounds in free.items():
        if name not in fields:
            params = [n for n, f in fields.items() if not f.metadata.get("static", False)
                      and np.ndim(getattr(model, n)) == 0 and getattr(model, n) is not None]
            raise ValueError(f"{where}.free: {name!r} is not a field of {owner}; its parameters "
                             f"are: {', '.join(params)}")
        if fields[name].metadata.get("static", False) or np.ndim(getattr(model, name)) != 0:
            raise ValueError(f"{where}.free: {owner}.{name} is not a 0-d parameter (static or "
                             "shape-defining fields cannot be calibrated)")
        if name in solved:
            raise ValueError(f"{where}.free: {owner}.{name} is a steady-state unknown (the "
                             f"steady state solves {', '.join(solved)}); choose other free "
                             "parameters")
        try:
            lo, hi = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise ValueError(f"{where}.free[{name!r}] must be a pair (lo, hi); got "
                             f"{bounds!r}") from None
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(f"{where}.free[{name!r}] bounds must be finite; got "
                             f"({lo:.6g}, {hi:.6g})")
        if not lo < hi:
            raise ValueError(f"{where}.free[{name!r}] bounds are inverted or empty: need lo < hi; "
                             f"got ({lo:.6g}, {hi:.6g})")
        clean_free[name] = (lo, hi)
    return clean_free


def _solve_free(residuals, model, names, free, eq_names, method, xtol, ftol, maxiter):
    """Zero ``residuals(x)`` over the free parameters: Brent in the bracket (one parameter, one
    equation) or bounded least squares from the model's values. Returns ``(x, success,
    message, iterations)``."""
    from scipy import optimize

    if method == "brent":
        name = names[0]
        lo, hi = free[name]
        f_lo, f_hi = residuals([lo])[0], residuals([hi])[0]
        if not np.isfinite(f_lo) or not np.isfinite(f_hi) or f_lo * f_hi > 0:
            raise ValueError(
                f"calibrate: no solution for free[{name!r}] in the bracket ({lo:.6g}, "
                f"{hi:.6g}): the residual of {eq_names[0]!r} is {f_lo:.6g} and {f_hi:.6g} at "
                "its ends (same sign); widen the bracket or change the targets")
        found = brent(lambda v: float(residuals([v])[0]), lo, hi, xtol=xtol, maxiter=maxiter,
                      f_lo=f_lo, f_hi=f_hi)
        flag = "converged" if found.converged else (
            f"not converged in {maxiter} iterations (bracket width {found.width:.3g})")
        return np.array([found.x]), found.converged, flag, found.evaluations
    lo = np.array([free[n][0] for n in names])
    hi = np.array([free[n][1] for n in names])
    x0 = np.array([float(np.asarray(getattr(model, n))) for n in names])
    inside = (x0 > lo) & (x0 < hi)
    x0 = np.where(inside, x0, 0.5 * (lo + hi))
    sol = optimize.least_squares(
        residuals, x0, bounds=(lo, hi), method="trf", x_scale=hi - lo, xtol=xtol,
        ftol=ftol, gtol=ftol, diff_step=1e-6, max_nfev=maxiter)
    return sol.x, bool(sol.success), str(sol.message), int(sol.njev)


def _scale(target: float) -> float:
    """Residual scale: relative deviation, with a floor of 0.01 for targets near zero."""
    return max(abs(target), 1e-2)


def _compile_counter():
    """``(counts, listener)``: the listener counts XLA compilations into ``counts["n"]``."""
    counts = {"n": 0, "first": None}

    def listener(event: str, duration: float, **_kw) -> None:
        if event == "/jax/core/compile/backend_compile_duration":
            counts["n"] += 1

    return counts, listener


def _choose_method(method: str, names, eq_names) -> str:
    """``auto``: Brent for one free parameter and one equation, least squares otherwise."""
    one = len(names) == 1 and len(eq_names) == 1
    if method == "auto":
        return "brent" if one else "least_squares"
    if method == "brent" and not one:
        raise ValueError(f"calibrate.method 'brent' needs one free parameter and one equation; "
                         f"got free {names} and equations {eq_names}")
    return method


def _record_trial(history, compiles, names, x, res, t0, verbose, callback) -> None:
    """Append one calibration trial to ``history``, print it (``verbose``) and call back."""
    rec = dict(trial=len(history) + 1, params=dict(zip(names, map(float, x))),
               residuals=res, seconds=time.perf_counter() - t0)
    history.append(rec)
    if compiles["first"] is None:
        compiles["first"] = compiles["n"]
    if verbose:
        pars = ", ".join(f"{k} = {v:.10g}" for k, v in rec["params"].items())
        ress = ", ".join(f"{k} {v:+.3e}" for k, v in res.items())
        print(f"calibrate: trial {rec['trial']}: {pars}: {ress} ({rec['seconds']:.2f}s)")
    if callback is not None:
        callback(rec)


@in_float64
def calibrate(
    model: AbstractHetAgentModel | AbstractEconomy,
    targets: Mapping[str, Any],
    free: Mapping[str, Any],
    *,
    method: str = "auto",
    xtol: float = 1e-10,
    ftol: float = 1e-10,
    maxiter: int = 100,
    residual_tol: float = 1e-6,
    steady_state_kwargs: Optional[Mapping[str, Any]] = None,
    callback: Optional[Callable[[dict], None]] = None,
    verbose: bool = False,
) -> Calibration:
    """Calibrate free parameters so that the steady state matches target moments.

    Equations: with an ``r`` target, asset-market clearing ``(A - K)/K = 0`` at ``r = target``
    plus ``(moment - target)/max(|target|, 0.01) = 0`` for every other target; without one, the
    latter for every target at the general-equilibrium steady state. One equation and one free
    parameter: Brent's method inside the bracket; otherwise bounded least squares (scipy's
    trust-region reflective method) starting from the model's current values (clipped into the
    bounds). Every trial replaces the parameters with ``dataclasses.replace`` outside jit, so
    the inner solvers compile once per calibration, and warm-starts from the previous trial.

    **Economies** (:class:`~hank_mfg.AbstractEconomy`: Huggett, the one-asset HANK, your own):
    every trial is the economy's own steady state (:func:`hank_mfg.steady_state`, which solves
    its declared unknowns, e.g. ``beta`` and ``vphi``, warm-started from the previous trial),
    and a target is either a moment the economy defines (``r``, ``w``, ``C/Y``, ``gini``, ...:
    :func:`economy_targets`) or the name of one of its residuals that its steady state does not
    already zero (the residual must equal the given value, usually 0). The steady state's
    unknowns cannot be free, nor its targets targeted.

    Args:
        model: a declared model whose steady state :func:`hank_mfg.steady_state` can solve
            (float64 required: ``jax.config.update("jax_enable_x64", True)``): a capital
            economy or an economy.
        targets: ``{name: value}`` with names from :data:`TARGETS` (``r``, ``w``, ``K/Y``,
            ``C/Y``, ``gini``, ``top10``, ``top1``, ``mass_at_limit``, ``mpc``); ratios and rates
            are per model period. An economy also takes names of its residuals.
        free: ``{field: (lo, hi)}``: 0-d parameter fields of ``model`` and their bounds.
        method: ``"auto"``, ``"brent"`` (needs one free parameter and one equation) or
            ``"least_squares"``.
        xtol: parameter tolerance (Brent's bracket width; least squares' step). ftol: scaled
            residual tolerance of least squares. maxiter: iteration cap (Brent iterations, or
            least-squares function evaluations). residual_tol: ``success`` also needs every
            scaled residual below it (least squares may stop at a bound or a best fit).
        steady_state_kwargs: passed to :func:`hank_mfg.household_steady_state` (``r`` target:
            ``tol``, ``dist_tol``, ...) or :func:`hank_mfg.steady_state` (otherwise).
        callback: called after every trial with ``{"trial", "params", "residuals",
            "seconds"}`` (progress bars, logging).
        verbose: print every trial.

    Returns:
        :class:`Calibration` (``.model``, ``.params``, ``.fit`` / ``.table()``, ``.moments``,
        ``.steady_state``, ``.diagnostics``).

    Raises:
        ValueError: unknown target (the allowed ones are listed: for an economy its moments
            and its residual names), empty or inverted bounds, a free name that is not a
            parameter of the model (its parameters are listed) or that the economy's steady
            state solves, a target the economy's steady state already zeroes, no sign change of
            the residual in the bracket, or an unknown ``method``.
        RuntimeError: an inner solve did not converge.

    Example:
        >>> cal = hm.calibrate(KrusellSmith(alpha=0.11, tfp=0.8816460975, beta=0.975),
        ...                    targets={"r": 0.01}, free={"beta": (0.96, 0.995)})
        >>> cal.params["beta"]                                    # 0.98195...
        >>> cal.table()                                           # target, data, model, error
        >>> cal = hm.calibrate(OneAssetHANK(), targets={"gini": 0.6}, free={"B": (5.0, 12.0)})
        >>> cal.params["B"], cal.steady_state["beta"]             # bonds; beta re-solved
    """
    if isinstance(model, AbstractEconomy) and not isinstance(model, AbstractHetAgentModel):
        return _calibrate_economy(model, targets, free, method=method, xtol=xtol, ftol=ftol,
                                  maxiter=maxiter, residual_tol=residual_tol,
                                  steady_state_kwargs=steady_state_kwargs, callback=callback,
                                  verbose=verbose)
    targets, free = _check_inputs(model, targets, free)
    if method not in ("auto", "brent", "least_squares"):
        raise ValueError(f"calibrate.method must be 'auto', 'brent' or 'least_squares'; got "
                         f"{method!r}")
    names = list(free)
    fixed_r = "r" in targets
    eq_names = (["market"] if fixed_r else []) + [k for k in targets if not (fixed_r and k == "r")]
    method = _choose_method(method, names, eq_names)
    ss_kw = dict(steady_state_kwargs or {})
    a_max = float(np.asarray(model.a_grid)[-1])

    compiles, on_event = _compile_counter()

    warm: dict[str, Any] = {}
    history: list[dict] = []
    solved: dict[tuple, tuple] = {}
    t_start = time.perf_counter()

    def with_params(x) -> AbstractHetAgentModel:
        return dataclasses.replace(model, **{n: float(v) for n, v in zip(names, x)})

    def solve_at(x):
        """Steady state and moments at parameters ``x`` (cached by value)."""
        key = tuple(float(v) for v in x)
        if key in solved:
            return solved[key]
        m = with_params(key)
        if fixed_r:
            r = jnp.asarray(targets["r"], dtype=float)
            K, L, w, Y = _firm_side(m, r)
            beta = float(np.asarray(m.beta))
            if not beta * (1.0 + targets["r"]) < 1.0:
                # no stationary distribution: households accumulate without bound, so asset
                # supply exceeds any capital demand; report the top of the grid (sign matters)
                solved[key] = (m, None, {"A": a_max, "K": float(K)})
                return solved[key]
            hh = household_steady_state(m, r=r, w=w, Va_init=warm.get("Va"),
                                        mu_init=warm.get("mu"), **ss_kw)
            ss = capital_result(m, hh.r, hh.w, K, L, hh, 1)
        else:
            try:
                ss = steady_state(m, **ss_kw)
            except (RuntimeError, ValueError) as err:
                raise _trial_failed(type(model).__name__, dict(zip(names, key)), err,
                                    free) from None
        warm["Va"], warm["mu"] = ss.Va, ss.mu
        mom = steady_state_moments(m, ss)
        mom["A"] = float(ss.A)
        solved[key] = (m, ss, mom)
        return solved[key]

    def residuals(x) -> np.ndarray:
        t0 = time.perf_counter()
        cached = tuple(float(v) for v in x) in solved
        m, ss, mom = solve_at(x)
        res = {}
        for eq in eq_names:
            if eq == "market":
                res[eq] = (mom["A"] - mom["K"]) / mom["K"]
            elif ss is None:  # infeasible trial (beta (1 + r) >= 1): no moments
                res[eq] = 0.0
            else:
                res[eq] = (mom[eq] - targets[eq]) / _scale(targets[eq])
        vec = np.array([res[e] for e in eq_names])
        if cached:  # a point the solver asked for again: no new trial
            return vec
        _record_trial(history, compiles, names, x, res, t0, verbose, callback)
        return vec

    jax.monitoring.register_event_duration_secs_listener(on_event)
    try:
        x, success, message, iterations = _solve_free(
            residuals, model, names, free, eq_names, method, xtol, ftol, maxiter)
        m, ss, mom = solve_at(x)
        if ss is None:
            raise ValueError(f"calibrate: the solution {dict(zip(names, map(float, x)))} has "
                             f"beta (1 + r) >= 1 at target r = {targets['r']:.6g}: no stationary "
                             "distribution; lower the upper bound of the bracket")
        final = residuals(x)
    finally:
        jax.monitoring.unregister_event_duration_listener(on_event)
    seconds = time.perf_counter() - t_start
    max_residual = float(np.max(np.abs(final)))
    if success and not max_residual <= residual_tol:
        message = (f"{message}; but the largest scaled residual {max_residual:.3g} exceeds "
                   f"residual_tol {residual_tol:.3g} (targets not all attainable in the bounds?)")
    diagnostics = dict(
        method=method, mode="r fixed" if fixed_r else "general equilibrium",
        success=success and max_residual <= residual_tol, solver_success=success,
        message=message, evaluations=len(solved), iterations=int(iterations),
        residuals=dict(zip(eq_names, map(float, final))),
        max_residual=max_residual, market_residual=float(ss.A - ss.K),
        seconds=seconds, compilations=compiles["n"],
        compilations_after_first=compiles["n"] - (compiles["first"] or 0),
        euler_mean=float(ss.euler_mean), euler_max=float(ss.euler_max), history=history,
    )
    params = {n: float(v) for n, v in zip(names, x)}
    return Calibration(model=m, params=params, targets=dict(targets), moments=mom,
                       steady_state=ss, diagnostics=diagnostics)


# ---------------------------------------------------------------------------------------------
# economies
# ---------------------------------------------------------------------------------------------
def economy_targets(model: AbstractEconomy) -> tuple[dict[str, str], tuple[str, ...]]:
    """What :func:`calibrate` can target in an economy: ``(moments, residuals)``.

    ``moments``: ``{name: description}`` of the :data:`TARGETS` the economy defines (``r`` and
    ``w`` where it has such aggregates, ``K/Y`` and ``C/Y`` where it has ``K`` and ``Y``, the
    wealth moments and the MPC). ``residuals``: the names of its residuals that its steady
    state does not already zero (not in ``steady_state_targets``). Found by evaluating the
    aggregate block once at the calibrated values (no household solve).
    """
    fields = set(type(model).__dataclass_fields__)
    known = {k: jnp.asarray(v, dtype=float) for k, v in model.steady_state_values().items()}
    for name, guess in model.steady_state_unknowns().items():
        if name not in fields:
            known[name] = jnp.asarray(float(np.mean(guess)))
    v = Variables(known)
    model.aggregates(v)
    for o in HOUSEHOLD_OUTPUTS:
        v[o] = jnp.asarray(1.0)
    residuals = tuple(n for n in model.residuals(v) if n not in model.steady_state_targets)
    have = set(v.keys())
    moments = {}
    for name, text in TARGETS.items():
        needs = {"r": {"r"}, "w": {"w"}, "K/Y": {"K", "Y"}, "C/Y": {"Y"}}.get(name, set())
        if needs <= have:
            moments[name] = text if name != "r" else "interest rate (per model period)"
    return moments, residuals


def _trial_failed(owner, trial: dict, err: Exception, free) -> RuntimeError:
    """The error of a calibration trial whose steady state failed: the trial's free parameters,
    the reason and what to try."""
    at = ", ".join(f"{k} = {v:.8g}" for k, v in trial.items())
    bounds = ", ".join(f"{k} in ({lo:.6g}, {hi:.6g})" for k, (lo, hi) in free.items())
    return RuntimeError(
        f"calibrate: the steady state of {owner} at the trial {at} failed: {err}. Narrow the "
        f"free parameters' bounds ({bounds}) away from that trial, or start the economy's "
        "steady-state unknowns from values that solve near it")


def _calibrate_economy(model, targets, free, *, method, xtol, ftol, maxiter, residual_tol,
                       steady_state_kwargs, callback, verbose) -> Calibration:
    """:func:`calibrate` for an :class:`~hank_mfg.AbstractEconomy`: every trial is the
    economy's steady state (its own unknowns solved), the equations are the scaled moment and
    residual targets."""
    owner = type(model).__name__
    moments, res_names = economy_targets(model)
    fields = set(type(model).__dataclass_fields__)
    solved = tuple(n for n in model.steady_state_unknowns() if n in fields)
    zeroed = tuple(model.steady_state_targets)
    listing = (f"allowed moments: {', '.join(moments)}; residuals of {owner}: "
               f"{', '.join(res_names) or '(none)'}")
    for name in targets:
        if name in zeroed:
            raise ValueError(
                f"calibrate.targets: {name!r} is a steady-state target of {owner}, zeroed by "
                f"its unknowns ({', '.join(model.steady_state_unknowns())}) in every trial; "
                f"target the {listing}")
    targets, free = _check_inputs(model, targets, free, allowed=[*moments, *res_names],
                                  listing=listing, solved=solved)
    if method not in ("auto", "brent", "least_squares"):
        raise ValueError(f"calibrate.method must be 'auto', 'brent' or 'least_squares'; got "
                         f"{method!r}")
    names, eq_names = list(free), list(targets)
    method = _choose_method(method, names, eq_names)
    ss_kw = dict(steady_state_kwargs or {})
    compiles, on_event = _compile_counter()

    warm: dict[str, float] = {}
    history: list[dict] = []
    solved_at: dict[tuple, tuple] = {}
    t_start = time.perf_counter()

    def solve_at(x):
        """The economy's steady state and moments at free parameters ``x`` (cached); the
        steady-state unknowns start from the previous trial's solution."""
        key = tuple(float(v) for v in x)
        if key not in solved_at:
            trial = dict(zip(names, key))
            try:
                m = dataclasses.replace(model, **trial, **warm)
                ss = economy_steady_state(m, **ss_kw)
            except (RuntimeError, ValueError) as err:
                if not warm:
                    raise _trial_failed(owner, trial, err, free) from None
                try:  # the neighbouring trial's solution was a poor start: the model's own
                    m = dataclasses.replace(model, **trial)
                    ss = economy_steady_state(m, **ss_kw)
                except (RuntimeError, ValueError) as err2:
                    raise _trial_failed(owner, trial, err2, free) from None
            warm.update({n: float(ss.values[n]) for n in solved})
            mom = steady_state_moments(ss.model, ss)
            mom.update({k: float(v) for k, v in ss.residuals.items()})
            solved_at[key] = (ss.model, ss, mom)
        return solved_at[key]

    def residuals(x) -> np.ndarray:
        t0 = time.perf_counter()
        cached = tuple(float(v) for v in x) in solved_at
        _, _, mom = solve_at(x)
        res = {k: (mom[k] - t) / _scale(t) for k, t in targets.items()}
        vec = np.array([res[e] for e in eq_names])
        if cached:
            return vec
        _record_trial(history, compiles, names, x, res, t0, verbose, callback)
        return vec

    jax.monitoring.register_event_duration_secs_listener(on_event)
    try:
        x, success, message, iterations = _solve_free(
            residuals, model, names, free, eq_names, method, xtol, ftol, maxiter)
        m, ss, mom = solve_at(x)
        final = residuals(x)
    finally:
        jax.monitoring.unregister_event_duration_listener(on_event)
    max_residual = float(np.max(np.abs(final)))
    if success and not max_residual <= residual_tol:
        message = (f"{message}; but the largest scaled residual {max_residual:.3g} exceeds "
                   f"residual_tol {residual_tol:.3g} (targets not all attainable in the bounds?)")
    descriptions = dict(moments)
    descriptions.update({k: f"residual {k} of {owner} (zero in equilibrium)" for k in res_names})
    diagnostics = dict(
        method=method, mode="economy steady state",
        success=success and max_residual <= residual_tol, solver_success=success,
        message=message, evaluations=len(solved_at), iterations=int(iterations),
        residuals=dict(zip(eq_names, map(float, final))), max_residual=max_residual,
        market_residual=max(abs(float(ss.residuals[t])) for t in zeroed),
        seconds=time.perf_counter() - t_start, compilations=compiles["n"],
        compilations_after_first=compiles["n"] - (compiles["first"] or 0),
        euler_mean=float(ss.euler_mean), euler_max=float(ss.euler_max), history=history,
    )
    params = {n: float(v) for n, v in zip(names, x)}
    return Calibration(model=m, params=params, targets=dict(targets), moments=mom,
                       steady_state=ss, diagnostics=diagnostics, descriptions=descriptions)

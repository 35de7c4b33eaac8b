"""Steady states and perfect-foresight transitions of declared economies (docs/concepts.md,
section 7; docs/models.md, sections 3-4).

**Steady state.** The economy names its unknowns (model fields such as ``beta`` and ``vphi``,
or aggregates such as ``r``) and as many targets (market residuals). For trial unknowns the
aggregate block defines every aggregate, the households solve by EGM under the implied budget
and their stationary distribution gives ``A, C, N``; the targets are the named residuals. One
unknown with a bracket: Brent's method; otherwise Newton's method with Broyden updates
and backtracking, in coordinates that keep every unknown in its declared domain
(:meth:`~hank_mfg.model.economy.AbstractEconomy.steady_state_bounds`, :mod:`.roots`), so
that no trial leaves the region where the model is defined. Every evaluation is one jitted call
(compiled once per economy), warm-started from the previous successful one.

**Transition.** Given shock paths on exogenous aggregates (additive deviations from the steady
state, known at date 0, zero after the path), Newton's method on the paths of the transition
unknowns zeroes the transition targets at every date. Its Jacobian is fixed at the steady state
and composed exactly: the household block's fake-news Jacobians for every input the budget
reads, chained through the aggregate block and the residuals by forward-mode autodiff
(Auclert, Bardóczy, Rognlie and Straub 2021). Leads and lags past the path's ends take the
steady-state values.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np
from jaxtyping import Array, ArrayLike

from ..model.economy import HOUSEHOLD_OUTPUTS, AbstractEconomy, Variables
from .egm import (
    DIST_MAXITER, DIST_TOL, EGM_MAXITER, EGM_TOL, MARKET_TOL, ROOT_MAXITER,
    check_interp,
    check_model,
    default_mu0,
    household_arrays,
    household_solution,
    in_float64,
    initial_marginal_value,
    raise_if_not_converged,
)
from .household import household_block_path, household_jacobians
from .results import SteadyState, TransitionPath, kind_of
from .roots import TrialFailed, brent, newton, newton_in_domain

__all__ = [
    "SteadyState", "EconomySteadyState", "TransitionPath", "EconomyPath",
    "economy_steady_state", "economy_transition", "economy_jacobian",
]


#: The steady state of a declared economy is the one :class:`SteadyState` type (the old name).
EconomySteadyState = SteadyState


#: A declared economy's perfect-foresight path is the one :class:`TransitionPath` type (the
#: old name).
EconomyPath = TransitionPath


# ---------------------------------------------------------------------------------------------
# steady state
# ---------------------------------------------------------------------------------------------
def _with_fields(model, names, x):
    """``model`` with the field unknowns ``names`` set to ``x`` (traceable)."""
    if not names:
        return model
    return eqx.tree_at(lambda m: tuple(getattr(m, n) for n in names), model,
                       tuple(jnp.asarray(xi, dtype=float) for xi in x))


def _split_unknowns(model):
    fields = set(type(model).__dataclass_fields__)
    names = tuple(model.steady_state_unknowns())
    return names, tuple(n for n in names if n in fields)


def _ss_variables(model, names, field_names, x):
    """The economy with its field unknowns at ``x`` and its steady-state aggregates there."""
    xs = dict(zip(names, x))
    m = _with_fields(model, field_names, [xs[n] for n in field_names])
    known = {k: jnp.asarray(v, dtype=float) for k, v in m.steady_state_values().items()}
    v = Variables({**known, **{n: xs[n] for n in names if n not in field_names}})
    m.aggregates(v)
    return m, v, xs


@eqx.filter_jit
def _evaluate_ss(model, names, field_names, x, Va0, mu0, etol, dtol, egm_maxiter, dist_maxiter,
                 interp):
    m, v, xs = _ss_variables(model, names, field_names, x)
    hh = household_solution(m, m.budget(v), Va0, mu0, etol, dtol, egm_maxiter, dist_maxiter,
                            interp)
    v["A"], v["C"], v["N"] = hh.A, hh.C, hh.N
    res = m.residuals(v)
    values = {**v.as_dict(), **{n: xs[n] for n in field_names}}
    return res, values, hh


def _check_targets(model, res: Mapping, targets, field: str):
    missing = [t for t in targets if t not in res]
    if missing:
        raise ValueError(f"{type(model).__name__}.{field} names residuals the economy does not "
                         f"define: {missing}; its residuals are {sorted(res)}")


class Trial(NamedTuple):
    """One evaluation of a steady state's residual at a trial value of its unknown: ``value``
    (what the root find zeroes), ``size`` (the residual's magnitude, which sets how loose the
    inner solves may be), ``cleared`` (the market tolerance is met), the households' solution
    ``hh`` and what the solver keeps beside it (``extra``)."""

    value: float
    size: float
    cleared: bool
    hh: Any
    extra: Any


def warm_start(x, solved: dict):
    """The marginal value and distribution to start the household solve at the unknown ``x``
    from those ``solved`` at other values ``{x_i: (Va_i, mu_i)}``: linear in ``x`` through the
    two nearest when ``x`` lies within their span (or as far beyond it as they lie apart), else
    the nearest one's. The interpolated start is off by the curvature alone, second order in
    the distances, so the fixed-point iterations that follow (contracting by about ``beta``
    each) have less to undo than from the nearest solution, off at first order; the
    distribution is clipped at zero and rescaled to its mass."""
    near = sorted(solved, key=lambda y: abs(y - x))
    Va1, mu1 = solved[near[0]]
    if len(near) < 2 or near[1] == near[0]:
        return Va1, mu1
    s = (x - near[0]) / (near[1] - near[0])
    if not -1.0 <= s <= 1.0:
        return Va1, mu1
    Va2, mu2 = solved[near[1]]
    Va = Va1 + s * (Va2 - Va1)
    mu = jnp.maximum(mu1 + s * (mu2 - mu1), 0.0)
    return jnp.where(Va > 0, Va, Va1), mu * (jnp.sum(mu1) / jnp.sum(mu))


def bracketed_steady_state(evaluate, start, lo: float, hi: float, *, tol: float, egm_tol: float,
                           dist_tol: float, maxiter: int, no_root, not_converged,
                           loosen: bool = False):
    """A steady state with one unknown in the sign-changing bracket ``(lo, hi)``, by Brent's
    method (:func:`~hank_mfg.solvers.roots.brent`, stopped at ``|value| < tol``): the one root
    find of capital economies (``r``) and of declared economies with one bracketed unknown.

    Each trial starts the household solve from the solutions at the two nearest trials,
    interpolated (:func:`warm_start`; the first from ``start(x) -> (Va0, mu0)``). With
    ``loosen`` the inner tolerances are loose far from the root: in proportion to the smallest
    residual seen so far, up to 100 times the tolerances at a residual of one (``1e-3`` for the
    policy, ``1e-6`` for the distribution), tightening to ``egm_tol`` / ``dist_tol`` as the root
    find closes in; a root met with loose inner tolerances is evaluated once more at the strict
    ones, and a bracket that collapses onto a jump of the residual (which loose inner
    tolerances can produce) is searched again at the strict ones. That pays where the
    residual is smooth in the unknown at loose tolerances (a capital economy's excess supply
    in ``r``: 10 household solves instead of 13); where it is steep it makes Brent chase the
    inner solvers' noise, so it is off by default.

    Args:
        evaluate: ``(x, Va0, mu0, egm_tol, dist_tol) -> Trial``.
        no_root: ``(Trial at lo, Trial at hi) -> exception`` when the ends have one sign.
        not_converged: ``(BracketRoot, Trial there) -> exception``.

    Returns:
        ``(Trial at the root, number of evaluations)``.
    """
    cache: dict[float, Trial] = {}
    state = {"n": 0, "best": np.inf if loosen else 0.0}

    def f(x: float) -> float:
        x = float(x)
        if cache:
            Va0, mu0 = warm_start(x, {y: (t.hh.Va, t.hh.mu) for y, t in cache.items()})
        else:
            Va0, mu0 = start(x)
        scale = min(state["best"], 100.0)
        trial = evaluate(x, Va0, mu0, max(egm_tol, 1e-5 * scale), max(dist_tol, 1e-8 * scale))
        state["n"] += 1
        state["best"] = min(state["best"], trial.size)
        cache[x] = trial
        return trial.value

    f_lo, f_hi = f(lo), f(hi)
    if f_lo * f_hi > 0:
        raise no_root(cache[float(lo)], cache[float(hi)])

    def root(f_lo, f_hi):
        found = brent(f, lo, hi, ftol=tol, maxiter=maxiter, f_lo=f_lo, f_hi=f_hi)
        if found.converged and abs(found.fx) < tol:
            return float(found.x)
        raise not_converged(found, cache[float(found.x)])

    try:
        x = root(f_lo, f_hi)
    except RuntimeError:
        state["best"] = 0.0   # the strictest inner tolerances from here on
        x = root(f(lo), f(hi))
    if cache[x].hh.egm_residual > egm_tol or cache[x].hh.dist_residual > dist_tol:
        f(x)  # met the market tolerance with loose inner tolerances: polish once
    if not cache[x].cleared:
        x = root(f_lo, f_hi)
    return cache[x], state["n"]


@in_float64
def economy_steady_state(
    model: AbstractEconomy,
    *,
    tol: float = MARKET_TOL,
    egm_tol: float = EGM_TOL,
    dist_tol: float = DIST_TOL,
    maxiter: int = ROOT_MAXITER,
    egm_maxiter: int = EGM_MAXITER,
    dist_maxiter: int = DIST_MAXITER,
    interp: str = "linear",
    verbose: bool = False,
) -> SteadyState:
    """Stationary equilibrium of a declared economy: its unknowns zero its targets.

    Args:
        model: an :class:`~hank_mfg.model.economy.AbstractEconomy`.
        tol: ``max |target residual|`` at the solution. egm_tol, dist_tol: inner tolerances
            (policy and distribution sup-norm changes). maxiter: root-find evaluations.
        egm_maxiter, dist_maxiter: inner caps. interp: policy interpolation.
        verbose: print every evaluation.

    Returns:
        :class:`SteadyState` (``ss["beta"]``, ``ss["r"]``, ``ss.mu``, ...).

    Raises:
        ValueError: a target the economy does not define (names ``steady_state_targets``), no
            sign change in a one-unknown bracket, or a residual that is not a target and does
            not vanish (the calibrated values are inconsistent).
        RuntimeError: the root find or an inner solve did not converge.
    """
    where = "steady_state"
    check_model(where, model, AbstractEconomy)
    check_interp(where, interp)

    names, field_names = _split_unknowns(model)
    spec = model.steady_state_unknowns()
    targets = tuple(model.steady_state_targets)
    a_grid = household_arrays(model)[0]
    state: dict = {"n": 0, "last": None, "best": None, "best_err": np.inf}

    def solve_at(x, Va0, mu0, e_tol, d_tol):
        """``(residuals, values, hh)`` at the unknowns ``x`` from the start ``(Va0, mu0)``."""
        x = np.array(x, dtype=float, ndmin=1)  # a copy: SciPy reuses its buffer
        if Va0 is None:
            m, v, _ = _ss_variables(model, names, field_names, jnp.asarray(x))
            Va0 = initial_marginal_value(m, m.budget(v), a_grid)
        t0 = time.perf_counter()
        res, values, hh = _evaluate_ss(model, names, field_names, jnp.asarray(x), Va0, mu0,
                                       jnp.asarray(e_tol), jnp.asarray(d_tol), egm_maxiter,
                                       dist_maxiter, interp)
        state["n"] += 1
        at = ", ".join(f"{n} = {xi:.10g}" for n, xi in zip(names, x))
        raise_if_not_converged(where, f"EGM at {at}", hh.egm_iterations, hh.egm_residual,
                               e_tol, egm_maxiter)
        raise_if_not_converged(where, f"stationary distribution at {at}", hh.dist_iterations,
                               hh.dist_residual, d_tol, dist_maxiter)
        _check_targets(model, res, targets, "steady_state_targets")
        out = np.array([float(res[t]) for t in targets])
        if verbose:
            print(f"steady_state: {at}  residuals {out}  egm {int(hh.egm_iterations)} (tol "
                  f"{e_tol:.0e}) dist {int(hh.dist_iterations)} (tol {d_tol:.0e}) "
                  f"({time.perf_counter() - t0:.2f}s)")
        return (x, res, hh, values), out

    def evaluate(x):
        """The targets at ``x``, from the last evaluation's solution (Newton's trials)."""
        if state["last"] is None:
            Va0, mu0 = None, default_mu0(model)
        else:
            Va0, mu0 = state["last"][2].Va, state["last"][2].mu
        state["last"], out = solve_at(x, Va0, mu0, egm_tol, dist_tol)
        if np.max(np.abs(out)) < state["best_err"]:
            state["best_err"], state["best"] = float(np.max(np.abs(out))), state["last"]
        return out

    if len(names) == 1 and isinstance(spec[names[0]], tuple):
        lo, hi = map(float, spec[names[0]])

        def trial(x, Va0, mu0, e_tol, d_tol):
            entry, out = solve_at(x, Va0, mu0, e_tol, d_tol)
            return Trial(value=float(out[0]), size=abs(float(out[0])),
                         cleared=abs(float(out[0])) <= tol, hh=entry[2], extra=entry)

        def no_root(at_lo, at_hi):
            return ValueError(
                f"steady_state: no steady state in {type(model).__name__}'s bracket for "
                f"{names[0]} = ({lo:.6g}, {hi:.6g}): {targets[0]} is {at_lo.value:.6g} and "
                f"{at_hi.value:.6g} at its ends (same sign); change the bracket in "
                "steady_state_unknowns")

        def not_converged(found, at):
            return RuntimeError(
                f"steady_state: root find for {names} did not converge after "
                f"{found.evaluations} evaluations; |{targets[0]}| = {abs(at.value):.6g} > tol "
                f"{tol:.6g} at {names[0]} = {found.x:.12g} (bracket width {found.width:.3g})")

        found, _ = bracketed_steady_state(
            trial, lambda x: (None, default_mu0(model)), lo, hi, tol=tol, egm_tol=egm_tol,
            dist_tol=dist_tol, maxiter=maxiter, no_root=no_root, not_converged=not_converged)
        state["best"] = found.extra
    else:
        def trial(x):
            try:
                return evaluate(x)
            except RuntimeError as err:  # an inner solve that did not converge at this trial
                raise TrialFailed(str(err)) from None

        owner = type(model).__name__
        guess_fields = [n for n in names if n in field_names]
        advice = ("start from other guesses" + (
            f" (the fields {', '.join(guess_fields)} of {owner} are the starting point)"
            if guess_fields else "") + " or check that the calibration has a steady state")
        newton_in_domain(trial, [float(np.mean(spec[n])) for n in names], names=names,
                         domains=model.steady_state_bounds(), tol=tol, maxiter=maxiter,
                         where=where, advice=advice)
    x, res, hh, values = state["best"]  # the evaluation closest to clearing every target
    err = max(abs(float(res[t])) for t in targets)
    if not err <= tol:
        raise RuntimeError(
            f"steady_state: root find for {names} did not converge after {state['n']} "
            f"evaluations; max |target residual| = {err:.6g} > tol {tol:.6g}")
    solved = _with_fields(model, field_names, [x[names.index(n)] for n in field_names])
    for name in model.transition_targets:
        if name not in targets and name in res and not abs(float(res[name])) <= 1e3 * tol:
            raise ValueError(
                f"{type(model).__name__}.steady_state_values: the transition target {name} is "
                f"{float(res[name]):.6g} at the steady state, not zero, and no steady-state "
                "unknown moves it; make the calibrated values consistent")
    return SteadyState(
        model=solved, values=values, residuals=dict(res), unknowns=names, mu=hh.mu,
        a_policy=hh.a_policy, c_policy=hh.c_policy, n_policy=hh.n_policy, Va=hh.Va,
        euler_mean=hh.euler_mean, euler_max=hh.euler_max, iterations=jnp.asarray(state["n"]),
        egm_iterations=hh.egm_iterations, dist_iterations=hh.dist_iterations,
    )


def _differing_fields(model, other, skip=()) -> list[str]:
    """Fields (other than ``skip``) whose values differ between two models of one class."""
    out = []
    for f in dataclasses.fields(model):
        if f.name in skip:
            continue
        a, b = getattr(model, f.name), getattr(other, f.name)
        try:
            same = np.array_equal(np.asarray(a), np.asarray(b))
        except (TypeError, ValueError):
            same = a == b
        if not same:
            out.append(f"{f.name} ({_show(b)} there, {_show(a)} here)")
    return out


def _show(x) -> str:
    arr = np.asarray(x)
    if arr.ndim == 0 and np.issubdtype(arr.dtype, np.number):
        return f"{float(arr):.6g}"
    return f"shape {arr.shape}" if arr.ndim else repr(x)


def _grid_differences(model, other) -> list[str]:
    """The household arrays (wealth grid, income levels, income chain) that differ."""
    out = []
    for name, a, b in zip(("wealth grid", "income levels", "income chain"),
                          household_arrays(model)[:3], household_arrays(other)[:3]):
        if a.shape != b.shape:
            out.append(f"{name} (shape {tuple(b.shape)} in the steady state, "
                       f"{tuple(a.shape)} in the model)")
        elif not np.allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-12):
            out.append(f"{name} (largest difference "
                       f"{float(np.max(np.abs(np.asarray(a) - np.asarray(b)))):.3g})")
    return out


def economy_of_steady_state(where: str, model: AbstractEconomy, steady_state,
                            *, tol: float = 1e-7, interp: str = "linear") -> AbstractEconomy:
    """``model`` with the steady state's solved field unknowns in place, after checking that
    ``steady_state`` is a steady state of it.

    A steady state belongs to an economy when both have the same household arrays (wealth grid,
    income levels and chain) and, with the solved unknowns (e.g. ``beta``, ``vphi``) put into
    the economy, the steady state's policies and distribution are still a fixed point, its
    aggregates are the economy's and every target and transition target vanishes (to ``tol``).
    So a policy-rule change that leaves the steady state as it is (the Taylor coefficient
    ``phi`` in the one-asset HANK) reuses it, and the economy passed, not the one the steady
    state was solved for, is the one used.

    Raises:
        TypeError: ``steady_state`` is not an :class:`SteadyState` of the same class.
        ValueError: it belongs to another economy; the message names what differs.
    """
    owner = type(model).__name__
    if not (isinstance(steady_state, SteadyState)
            and isinstance(steady_state.model, AbstractEconomy)):
        raise TypeError(f"{where}.steady_state must be the SteadyState of the economy "
                        f"(hm.steady_state(model)); got {kind_of(steady_state)}")
    solved = steady_state.model
    if type(solved) is not type(model):
        raise ValueError(f"{where}.steady_state was solved for a {type(solved).__name__}, not "
                         f"a {owner}; solve hm.steady_state(model) for this model")
    names, field_names = _split_unknowns(model)
    fix = ("solve hm.steady_state(model) for this model (or pass the model the steady state "
           "was solved for)")
    grids = _grid_differences(model, solved)
    if grids:
        raise ValueError(f"{where}: the steady state does not belong to this {owner}; these "
                         f"differ: {'; '.join(grids)}; {fix}")
    m = _with_fields(model, field_names, [steady_state.values[n] for n in field_names])
    x = jnp.asarray([steady_state.values[n] for n in names], dtype=float)
    res, values, hh = _evaluate_ss(
        model, names, field_names, x, steady_state.Va, steady_state.mu, jnp.asarray(1e-12),
        jnp.asarray(1e-13), 50_000, 1_000_000, interp)
    problems = []
    checked = dict.fromkeys((*model.steady_state_targets, *model.transition_targets))
    for name in checked:
        if name in res and not abs(float(res[name])) <= tol:
            problems.append(f"residual {name} = {float(res[name]):.3g}")
    for name, x_ss in steady_state.values.items():
        if name in values:
            a, b = float(values[name]), float(x_ss)
            if not abs(a - b) <= tol * max(1.0, abs(b)):
                problems.append(f"{name} = {a:.8g} (steady state: {b:.8g})")
    if problems:
        fields = _differing_fields(model, solved, skip=field_names)
        differ = (f"; the fields that differ from the steady state's economy: "
                  f"{', '.join(fields)}" if fields else "")
        raise ValueError(f"{where}: the steady state is not a steady state of this {owner} "
                         f"(with its solved {', '.join(names)}): "
                         f"{'; '.join(problems[:6])}{differ}; {fix}")
    return m


def with_economy(steady_state: SteadyState, model: AbstractEconomy) -> SteadyState:
    """The steady state with ``model`` (checked by :func:`economy_of_steady_state`) as its
    economy."""
    return dataclasses.replace(steady_state, model=model)


# ---------------------------------------------------------------------------------------------
# transition
# ---------------------------------------------------------------------------------------------
def path_variables(model, ss_values, exog, U, T, before=None):
    """Aggregates on dates ``0..T``: the path of length ``T`` plus one date at which unknowns
    and exogenous variables are back at the steady state. The extra date gives the households'
    budget after the path (a rate set at ``T - 1`` and paid at ``T``, say), so that the last
    unknowns reach the last targets; targets are taken on dates ``0..T-1``. ``before``: values
    at date ``-1`` that lags read (default the steady state)."""
    ext = lambda x, k: jnp.concatenate([x, jnp.full((1,), ss_values[k], x.dtype)])  # noqa: E731
    values = {**{k: ext(x, k) for k, x in exog.items()},
              **{u: ext(x, u) for u, x in zip(model.transition_unknowns, U)}}
    v = Variables(values, ss=ss_values, before=before)
    model.aggregates(v)
    return v


def path_inputs(model, v, T):
    """Household inputs on dates ``0..T`` (``T + 1`` values each)."""
    return {k: jnp.broadcast_to(v[k], (T + 1,)) for k in model.household_inputs}


def stack_targets(model, res, T):
    return jnp.stack([jnp.broadcast_to(res[t], (T + 1,))[:T] for t in model.transition_targets])


def _exogenous_paths(model, ss_values, shocks, T):
    return {k: ss_values[k] + shocks.get(k, jnp.zeros(T)) for k in model.exogenous}


def _unknowns_ss(model, ss_values, T):
    return jnp.stack([jnp.full((T,), ss_values[u]) for u in model.transition_unknowns])


def _household_jacobians(model, ss, T, interp):
    """The household block's fake-news Jacobians at the steady state, over ``T + 1`` dates."""
    x_ss = {k: ss.values[k] for k in model.household_inputs}
    return household_jacobians(model, model.budget, x_ss, ss.Va, ss.mu, T + 1, interp)


def _targets_jacobian(model, ss, J, T, U, exog, start=None):
    """``(dH/dU, {name: dH/dZ_name})`` of the targets with the household block linear at the
    steady state (its Jacobians ``J``) and the aggregate block exact, at the paths ``(U,
    exog)``: the steady state's sequence-space Jacobian at the steady state, and away from it
    the aggregate block's derivatives where the path is (which side of a kink it is on)."""
    vals = ss.values
    x_ss = {k: vals[k] for k in model.household_inputs}
    before = None if start is None else start[1]

    def linear_targets(U, exog):
        v = path_variables(model, vals, exog, U, T, before)
        x = path_inputs(model, v, T)
        for o in HOUSEHOLD_OUTPUTS:
            v[o] = vals[o] + sum(J[o][k] @ (x[k] - x_ss[k]) for k in x_ss)
        return stack_targets(model, model.residuals(v), T).reshape(-1)

    G_U, G_Z = jax.jacfwd(linear_targets, argnums=(0, 1))(U, exog)
    return G_U.reshape(U.size, U.size), G_Z


def _jacobian_core(model, ss, T, interp):
    """``{"unknowns": dH/dU, name: dH/dZ_name for every exogenous name}`` at the steady state."""
    J = _household_jacobians(model, ss, T, interp)
    exog0 = _exogenous_paths(model, ss.values, {}, T)
    G_U, G_Z = _targets_jacobian(model, ss, J, T, _unknowns_ss(model, ss.values, T), exog0)
    return {"unknowns": G_U, **G_Z}


_jacobian_jit = eqx.filter_jit(_jacobian_core)


@in_float64
def economy_jacobian(steady_state: SteadyState, T: int, interp: str = "linear",
                     wrt: str | None = None):
    """Jacobian of the transition targets at the steady state (sequence space).

    With ``wrt=None``, ``d targets / d unknowns``: a ``(n_targets T, n_unknowns T)`` matrix, rows
    target by target (date-major inside), columns unknown by unknown. With ``wrt`` an exogenous
    aggregate, ``d targets / d shock path`` (``(n_targets T, T)``), so that the linear response
    to a shock path ``dZ`` is ``dU = -G^{-1} G_Z dZ``. Both compose the household block's
    fake-news Jacobians with the aggregate block and the residuals by forward-mode autodiff.
    Reuse ``G`` across shocks (``economy_transition(..., jacobian=G)``).
    """
    if wrt is not None and wrt not in steady_state.model.exogenous:
        raise ValueError(f"economy_jacobian.wrt must be an exogenous aggregate of "
                         f"{type(steady_state.model).__name__}: "
                         f"{tuple(steady_state.model.exogenous)}; got {wrt!r}")
    return _jacobian_jit(steady_state.model, steady_state, T, interp)[
        "unknowns" if wrt is None else wrt]


def _evaluate_path(model, ss, exog, U, T, interp, start=None):
    mu0, before = (ss.mu, None) if start is None else start
    v = path_variables(model, ss.values, exog, U, T, before)
    budgets = jax.vmap(model.budget)(path_inputs(model, v, T))
    hp = household_block_path(model, budgets, ss.Va, mu0, interp)
    v["A"], v["C"], v["N"] = hp.A, hp.C, hp.N
    res = model.residuals(v)
    return stack_targets(model, res, T), v, res, hp


def _solve_core(model, ss, exog, shocks, tol, maxiter, interp, G, want_paths: bool,
                start=None):
    T = next(iter(exog.values())).shape[0]
    lu = jsl.lu_factor(G)
    shape = (len(model.transition_unknowns), T)
    U, it = newton(lambda U: _evaluate_path(model, ss, exog, U, T, interp, start)[0],
                   _unknowns_ss(model, ss.values, T),
                   lambda U, H: jsl.lu_solve(lu, H.reshape(-1)).reshape(shape),
                   tol=tol, maxiter=maxiter)
    return _economy_path(model, ss, exog, shocks, U, it, T, interp, want_paths, start)


def _solve_kinked_core(model, ss, exog, shocks, tol, maxiter, interp, J, want_paths: bool,
                       start=None):
    """Newton's method for an economy with a kink in its aggregate block: at every iterate the
    Jacobian of the targets is the aggregate block's, at the iterate, composed with the
    household block's steady-state Jacobians ``J`` (:func:`_targets_jacobian`), so that each
    step sees which side of the kink every date is on; the step is halved (up to 10 times)
    until the largest residual falls. With the steady state's Jacobian alone the iteration
    answers a date at the floor as if it were not, and converges only linearly, the more
    slowly the longer the floor binds (docs/models.md section 8)."""
    T = next(iter(exog.values())).shape[0]
    shape = (len(model.transition_unknowns), T)

    def step(U, H):
        G, _ = _targets_jacobian(model, ss, J, T, U, exog, start)
        return jnp.linalg.solve(G, H.reshape(-1)).reshape(shape)

    U, it = newton(lambda U: _evaluate_path(model, ss, exog, U, T, interp, start)[0],
                   _unknowns_ss(model, ss.values, T), step, tol=tol, maxiter=maxiter,
                   halvings=10)
    return _economy_path(model, ss, exog, shocks, U, it, T, interp, want_paths, start)


_solve_kinked_jit = eqx.filter_jit(_solve_kinked_core)


def _economy_path(model, ss, exog, shocks, U, it, T, interp, want_paths, start):
    """The :class:`TransitionPath` at the unknowns ``U`` (Newton's last iterate)."""
    H, v, res, hp = _evaluate_path(model, ss, exog, U, T, interp, start)
    cut = lambda x: jnp.broadcast_to(x, (T + 1,))[:T]  # noqa: E731
    return TransitionPath(
        model=model, values={k: cut(x) for k, x in v.as_dict().items()},
        residuals={k: cut(x) for k, x in res.items()},
        shocks=shocks, max_residual=jnp.max(jnp.abs(H)), iterations=it,
        mu=hp.mu[:T] if want_paths else None, a_policy=hp.a_policy[:T] if want_paths else None,
        c_policy=hp.c_policy[:T] if want_paths else None,
        n_policy=hp.n_policy[:T] if want_paths else None,
    )


_solve_jit = eqx.filter_jit(_solve_core)


def _initial_state(where, model, ss, mu0, before):
    """``None`` (the steady state) or ``(mu0, before)`` checked: a distribution of the
    steady state's shape, non-negative, of mass one; lags of aggregates the economy defines,
    finite."""
    if mu0 is None and not before:
        return None
    if mu0 is None:
        mu0 = ss.mu
    mu0 = jnp.asarray(mu0, dtype=float)
    if mu0.shape != ss.mu.shape:
        raise ValueError(f"{where}.initial_distribution must have the steady state's shape "
                         f"{tuple(ss.mu.shape)} (wealth x income); got {tuple(mu0.shape)}")
    if not bool(jnp.all(jnp.isfinite(mu0))) or float(jnp.min(mu0)) < -1e-12:
        raise ValueError(f"{where}.initial_distribution must be finite and non-negative; "
                         f"smallest entry {float(jnp.min(mu0)):.3g}")
    if abs(float(jnp.sum(mu0)) - 1.0) > 1e-8:
        raise ValueError(f"{where}.initial_distribution must have mass 1; got "
                         f"{float(jnp.sum(mu0)):.12g}")
    before = {} if before is None else dict(before)
    bad = [k for k in before if k not in ss.values]
    if bad:
        raise ValueError(f"{where}.initial_values: {bad} are not aggregates of "
                         f"{type(model).__name__}; it defines {sorted(ss.values)}")
    out = {}
    for k, x in before.items():
        x = jnp.asarray(x, dtype=float)
        if x.shape != () or not bool(jnp.isfinite(x)):
            raise ValueError(f"{where}.initial_values[{k!r}] must be a finite number; got {x}")
        out[k] = x
    return mu0, out


@in_float64
def economy_transition(
    model: AbstractEconomy,
    *,
    shocks: Mapping[str, ArrayLike],
    steady_state: SteadyState,
    tol: float = 1e-10,
    maxiter: int = 50,
    return_distribution: bool = False,
    interp: str = "linear",
    jacobian: Array | None = None,
    initial_distribution: ArrayLike | None = None,
    initial_values: Mapping[str, ArrayLike] | None = None,
) -> TransitionPath:
    """Perfect-foresight transition of an economy after shocks announced at date 0.

    Args:
        model: the economy whose path is solved; its solved steady-state unknowns (e.g.
            ``beta``, ``vphi``) are taken from ``steady_state``, which must be a steady state
            of it (:func:`economy_of_steady_state`: the same grids and income chain, every
            residual zero), so a rule change that leaves the steady state unchanged (a new
            Taylor coefficient) reuses it.
        shocks: ``{name: path}``, additive deviations of exogenous aggregates from their
            steady-state values, ``(T,)`` each (zero after the path). A shock that is zero
            before date ``k`` is news at date 0 about date ``k`` (forward guidance).
        steady_state: :func:`economy_steady_state` of the same economy.
        tol: ``max_t |target residual|``. maxiter: Newton iterations.
        return_distribution: also return the distribution and policy paths.
        jacobian: a precomputed :func:`economy_jacobian` for the same ``T`` (not used for a
            ``kinked`` economy, whose Newton takes the aggregate block's Jacobian at every
            iterate: docs/models.md section 8).
        initial_distribution: the households' distribution at date 0, ``(n_a, n_e)`` (default
            the steady state's): a path from another state, e.g. a recession's (docs/models.md,
            "Paths from a state away from the steady state").
        initial_values: aggregates at date ``-1`` that the conditions read as lags, e.g.
            ``{"i": 0.004}`` where the real rate paid at date 0 reads ``i_{-1}`` (default the
            steady state's).

    Returns:
        :class:`TransitionPath` (``path["Y"]``, ``path["pi"]``, ...).

    Raises:
        ValueError: a shock on a name that is not an exogenous aggregate (the allowed names
            are listed), paths of different lengths, shorter than 3 dates or not finite, or a
            steady state of another economy (what differs is named).
        RuntimeError: Newton did not converge (iterations and residual).
    """
    where = "transition_path"
    check_model(where, model, AbstractEconomy)
    check_interp(where, interp)
    if not (isinstance(steady_state, SteadyState)
            and isinstance(steady_state.model, AbstractEconomy)):
        raise TypeError(f"{where}.steady_state must be the SteadyState of the economy "
                        f"(hm.steady_state(model)); got {kind_of(steady_state)}")
    if not shocks:
        raise ValueError(f"{where}.shocks must name at least one exogenous aggregate of "
                         f"{type(model).__name__}: {tuple(model.exogenous)}")
    bad = [k for k in shocks if k not in model.exogenous]
    if bad:
        raise ValueError(f"{where}.shocks: {bad} are not exogenous aggregates of "
                         f"{type(model).__name__}; shocks may hit {tuple(model.exogenous)}")
    paths = {k: jnp.asarray(p, dtype=float) for k, p in shocks.items()}
    lengths = {k: p.shape for k, p in paths.items()}
    T = int(next(iter(paths.values())).shape[0]) if paths else 0
    if any(len(s) != 1 or s[0] != T for s in lengths.values()) or T < 3:
        raise ValueError(f"{where}.shocks must be 1-d paths of one common length >= 3; got "
                         f"shapes {lengths}")
    bad_paths = [k for k, p in paths.items() if not bool(jnp.all(jnp.isfinite(p)))]
    if bad_paths:
        raise ValueError(f"{where}.shocks: the paths of {bad_paths} are not finite (NaN or inf "
                         "at some date); give finite deviations from the steady state")
    m = economy_of_steady_state(where, model, steady_state, interp=interp)
    steady_state = with_economy(steady_state, m)
    start = _initial_state(where, m, steady_state, initial_distribution, initial_values)
    exog = _exogenous_paths(m, steady_state.values, paths, T)
    if m.kinked:
        J = _household_jacobians_jit(m, steady_state, T, interp)
        path = _solve_kinked_jit(m, steady_state, exog, paths, jnp.asarray(tol, dtype=float),
                                 maxiter, interp, J, bool(return_distribution), start)
    else:
        G = economy_jacobian(steady_state, T, interp) if jacobian is None else jacobian
        path = _solve_jit(m, steady_state, exog, paths, jnp.asarray(tol, dtype=float), maxiter,
                          interp, G, bool(return_distribution), start)
    err = float(path.max_residual)
    if not err <= tol:
        raise RuntimeError(
            f"{where}: Newton on the paths of {tuple(m.transition_unknowns)} did not converge "
            f"after {int(path.iterations)} iterations (maxiter {maxiter}); max |residual| = "
            f"{err:.6g} > tol {tol:.6g}" + _kink_diagnosis(m, path))
    return path


_household_jacobians_jit = eqx.filter_jit(_household_jacobians)


def _kink_diagnosis(model, path) -> str:
    """What a failed path of a kinked economy says about the kink (dates at a lower bound)."""
    if not model.kinked:
        return ""
    msg = (f". {type(model).__name__}'s aggregate block has a kink; a perfect-foresight path "
           "may not exist when a shock keeps it on the far side for long (docs/models.md "
           "section 8)")
    where = model.describe_kink(path.values)
    return msg + (f"; {where}" if where else "")

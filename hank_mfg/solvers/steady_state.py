"""Stationary general equilibrium (Aiyagari 1994) by a bracketed root find in ``r`` (docs/theory.md §9.3).

For a trial interest rate ``r`` the firm's capital demand ``K(r)`` solves
``model.prices(K, L, 0)[0] = r`` (``L = sum_e pi_e e``, the income chain's mean, is fixed), which
sets the wage ``w(r) = model.prices(K(r), L, 0)[1]``; the household side at ``(r, w(r))`` is the
EGM + lottery stationary distribution of :mod:`hank_mfg.solvers.egm`, giving asset supply
``A(r)``. The equilibrium zeroes the excess supply ``f(r) = A(r) - K(r)``.

The root find is Brent's method (inverse quadratic / secant steps safeguarded by bisection, so it
never leaves the bracket) on the host; every evaluation is one call of a single jitted function in
which ``r`` is a traced argument (compiled once per model shape), warm-started from the previous
trial's marginal value and distribution.
"""

from __future__ import annotations

import dataclasses
import time

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from ..model.base import AbstractHetAgentModel
from .equilibrium import (
    Trial, bracketed_steady_state, economy_of_steady_state, economy_steady_state, warm_start,
)
from .egm import (
    DIST_MAXITER, DIST_TOL, EGM_MAXITER, EGM_TOL, MARKET_TOL, ROOT_MAXITER,
    check_interp,
    check_model,
    default_mu0,
    household_arrays,
    initial_marginal_value,
    price_budget,
    price_household_solution,
    raise_if_not_converged,
    in_float64,
)
from .results import SteadyState
from .roots import bisection

__all__ = ["SteadyState", "steady_state", "capital_steady_state", "capital_demand", "warm_start",
           "capital_result"]


def capital_demand(model: AbstractHetAgentModel, r, L, z=0.0):
    """Capital ``K`` with ``model.prices(K, L, z)[0] = r`` (bisection in ``log K``,
    :func:`~hank_mfg.solvers.roots.bisection`).

    Assumes the interest rate falls with capital (any neoclassical technology). Traceable and
    differentiable (``dK/dr = 1 / (dr/dK)``); the search covers ``K / L`` in ``[1e-12, 1e12]``.
    """
    r = jnp.asarray(r, dtype=float)
    L = jnp.asarray(L, dtype=float)
    log_K = bisection(lambda x: model.prices(jnp.exp(x), L, z)[0] - r,
                      jnp.log(L) + jnp.log(1e-12), jnp.log(L) + jnp.log(1e12))
    return jnp.exp(log_K)


def capital_result(model: AbstractHetAgentModel, r, w, K, L, hh, iterations) -> SteadyState:
    """The :class:`SteadyState` of a capital economy at the rate ``r`` with firm side
    ``(K, L, w)`` and the households' stationary solution ``hh``."""
    K, L, w = (jnp.asarray(x, dtype=float) for x in (K, L, w))
    values = dict(z=jnp.zeros_like(K), L=L, K_next=K, K=K, r=jnp.asarray(r, dtype=float), w=w,
                  Y=model.output(K, L, 0.0), A=hh.A, C=hh.C, N=hh.N)
    return SteadyState(
        model=model, values=values, residuals={"asset_mkt": hh.A - K}, unknowns=("r",),
        mu=hh.mu, a_policy=hh.a_policy, c_policy=hh.c_policy, n_policy=hh.n_policy, Va=hh.Va,
        euler_mean=hh.euler_mean, euler_max=hh.euler_max, iterations=jnp.asarray(iterations),
        egm_iterations=hh.egm_iterations, dist_iterations=hh.dist_iterations)


@eqx.filter_jit
def _evaluate(model, r, Va0, mu0, tol, dist_tol, maxiter, dist_maxiter, interp):
    """Excess supply at ``r`` and the household solution (one compiled function per model)."""
    L = model.labour
    K = capital_demand(model, r, L)
    _, w = model.prices(K, L, 0.0)
    hh = price_household_solution(model, r, w, Va0, mu0, tol, dist_tol, maxiter, dist_maxiter,
                                  interp)
    return hh.A - K, K, L, w, hh


def default_bracket(model) -> tuple[float, float]:
    """``(lo, hi)``: ``lo`` = the rate at which capital demand equals the top of the wealth grid
    (asset supply cannot exceed it, so excess supply is negative there); ``hi`` has
    ``beta (1 + hi) = 1 - 1e-3`` (households patient enough to accumulate)."""
    a_grid = household_arrays(model)[0]
    r_lo = float(model.prices(a_grid[-1] * 1.0, model.labour, 0.0)[0])
    beta = float(np.asarray(model.beta))
    r_hi = (1.0 - 1e-3) / beta - 1.0
    return r_lo, r_hi


def steady_state(model, **kwargs):
    """Stationary equilibrium of a declared model without aggregate risk.

    A capital economy (:class:`AbstractHetAgentModel`: Krusell–Smith, Aiyagari, the paper's
    model) is solved by :func:`capital_steady_state` (a root find in ``r`` clearing capital);
    an :class:`~hank_mfg.model.economy.AbstractEconomy` (Huggett, the one-asset HANK, your own)
    by :func:`~hank_mfg.solvers.equilibrium.economy_steady_state` (its declared unknowns zero
    its declared targets). Keyword arguments go to the solver.

    Example:
        >>> ss = hm.steady_state(KrusellSmith())                  # ss.r, ss.K, ss["Y"]
        >>> ss = hm.steady_state(OneAssetHANK())                  # ss["beta"], ss["vphi"]
    """
    if isinstance(model, AbstractHetAgentModel):
        return capital_steady_state(model, **kwargs)
    return economy_steady_state(model, **kwargs)


@in_float64
def capital_steady_state(
    model: AbstractHetAgentModel,
    *,
    r_bracket: tuple[float, float] | None = None,
    tol: float = MARKET_TOL,
    egm_tol: float = EGM_TOL,
    dist_tol: float = DIST_TOL,
    maxiter: int = ROOT_MAXITER,
    egm_maxiter: int = EGM_MAXITER,
    dist_maxiter: int = DIST_MAXITER,
    interp: str = "linear",
    verbose: bool = False,
) -> SteadyState:
    """Stationary equilibrium (Aiyagari 1994): ``r`` such that asset supply equals capital demand.

    Households solve by EGM (Carroll 2006) at the prices ``(r, w(r))`` of the model's technology;
    their stationary distribution uses the compiled operators' lottery; Brent's method on the
    excess supply ``A(r) - K(r)`` finds ``r`` inside ``r_bracket`` (docs/theory.md §9.3).

    Args:
        model: a declared model with ``prices(K, L, z)`` and ``output(K, L, z)``.
        r_bracket: ``(lo, hi)`` with excess supply of opposite signs; default
            :func:`default_bracket` (``lo``: capital demand at the top of the wealth grid;
            ``hi``: ``beta (1 + hi) = 1 - 1e-3``). ``hi`` must satisfy ``beta (1 + hi) < 1``.
        tol: market clearing relative to the size of the economy, ``|A - K| < tol max(1, K)``
            (the inner solvers' noise floor on ``A`` scales with wealth). egm_tol, dist_tol: inner tolerances (policy and
            distribution sup-norm changes). maxiter: root-find evaluations.
        egm_maxiter, dist_maxiter: inner iteration caps. interp: policy interpolation.
        verbose: print every trial ``r``, ``A - K`` and its time.

    Returns:
        :class:`SteadyState`; the distribution ``mu`` is an ``(n_wealth, n_income)`` table
        (``mu_flat`` the operators' flat wealth-major vector).

    Raises:
        ValueError: no steady state in the bracket (names ``r_bracket``), or
            ``beta (1 + hi) >= 1`` (names ``beta``).
        RuntimeError: root find, EGM or distribution not converged (iterations and residual),

    Example:
        >>> ss = hm.steady_state(KrusellSmith(alpha=0.11, tfp=0.8816460975, beta=0.9819527881))
        >>> float(ss.r), float(ss.K / ss.Y)            # 0.01, 3.142857
    """
    where = "steady_state"
    check_model(where, model)
    check_interp(where, interp)
    beta = float(np.asarray(model.beta))
    lo, hi = default_bracket(model) if r_bracket is None else map(float, r_bracket)
    if not lo < hi:
        raise ValueError(f"steady_state.r_bracket must have lo < hi; got ({lo:.6g}, {hi:.6g})")
    if not beta * (1.0 + hi) < 1.0:
        raise ValueError(
            f"steady_state: {type(model).__name__}.beta * (1 + r) must be < 1 on the whole "
            f"r_bracket; got beta = {beta:.6g}, hi = {hi:.6g}, beta * (1 + hi) = "
            f"{beta * (1 + hi):.6g}"
        )
    a_grid = household_arrays(model)[0]

    def start(r):
        return (initial_marginal_value(model, price_budget(model, jnp.asarray(r, dtype=float),
                                                          1.0), a_grid), default_mu0(model))

    def evaluate(r, Va0, mu0, e_tol, d_tol):
        """Excess supply at ``r``: Brent's value ``2 (A - K) / (A + K)`` in the tolerance's
        units near the root (``(A - K) / max(1, K)``), which stays within ``[-2, 2]`` where
        ``A`` or ``K`` runs to the ends of the grid, so that its secant steps from the wide
        default bracket land nearer the root (``K > 0``; the sign is that of ``A - K``)."""
        t0 = time.perf_counter()
        resid, K, L, w, hh = _evaluate(model, jnp.asarray(r, dtype=float), Va0, mu0,
                                       jnp.asarray(e_tol), jnp.asarray(d_tol), egm_maxiter,
                                       dist_maxiter, interp)
        at = f"r = {r:.10g}"
        raise_if_not_converged(where, f"EGM at {at}", hh.egm_iterations, hh.egm_residual,
                               e_tol, egm_maxiter)
        raise_if_not_converged(where, f"stationary distribution at {at}", hh.dist_iterations,
                               hh.dist_residual, d_tol, dist_maxiter)
        res, Kf, Af = float(resid), abs(float(K)), float(hh.A)
        if verbose:
            print(f"steady_state: r = {r:.12f}  A - K = {res:+.3e}  egm {int(hh.egm_iterations)}"
                  f" (tol {e_tol:.0e}) dist {int(hh.dist_iterations)} (tol {d_tol:.0e}) "
                  f"({time.perf_counter() - t0:.3f}s)")
        return Trial(value=2.0 * res / max(Af + Kf, Kf) * Kf / max(1.0, Kf), size=abs(res),
                     cleared=abs(res) < tol * max(1.0, Kf), hh=hh, extra=(res, K, L, w))

    def no_root(lo_trial, hi_trial):
        return ValueError(
            f"steady_state: no steady state in r_bracket = ({lo:.6g}, {hi:.6g}): excess asset "
            f"supply A - K is {lo_trial.extra[0]:.6g} and {hi_trial.extra[0]:.6g} at its ends "
            "(same sign); widen r_bracket or the wealth grid")

    def not_converged(found, trial):
        res_x, K_x = trial.extra[0], abs(float(trial.extra[1]))
        return RuntimeError(
            f"{where}: root find in r did not converge after {found.evaluations} evaluations; "
            f"|A - K|/max(1, K) = {abs(res_x) / max(1.0, K_x):.6g} > tol {tol:.6g} at "
            f"r = {found.x:.12g} (bracket width {found.width:.3g})"
            + ("; the bracket has collapsed to machine precision, so |A - K| is at the noise "
               "floor of the inner solvers: pass a looser tol or a tighter dist_tol"
               if found.width < 1e-12 else ""))

    trial, evaluations = bracketed_steady_state(
        evaluate, start, lo, hi, tol=tol, egm_tol=egm_tol, dist_tol=dist_tol, maxiter=maxiter,
        no_root=no_root, not_converged=not_converged, loosen=True)
    res, K, L, w = trial.extra
    hh = trial.hh
    return capital_result(model, hh.r, w, K, L, hh, evaluations)


def model_of_steady_state(where: str, model, steady_state, *, interp: str = "linear"):
    """The model to use with ``steady_state``, after checking that it is a steady state of
    ``model``: ``model`` with the solved unknowns in place
    (:func:`~hank_mfg.solvers.equilibrium.economy_of_steady_state`, every economy's check)."""
    return economy_of_steady_state(where, model, steady_state, interp=interp)


def with_steady_state_initial(model: AbstractHetAgentModel, ss: SteadyState | None = None,
                              **steady_state_kwargs) -> AbstractHetAgentModel:
    """The same model with its initial distribution set to the stationary one (``initial_mu``).

    The usual start for aggregate-risk experiments: RSPG and impulse responses then begin at the
    economy's ergodic distribution instead of the uniform one.

    Args:
        model: a declared model. ss: its :func:`steady_state` (computed when omitted, with
            ``steady_state_kwargs``).

    Example:
        >>> model = hm.with_steady_state_initial(KrusellSmith(n_wealth=200))
    """
    if ss is None:
        ss = steady_state(model, **steady_state_kwargs)
    else:
        economy_of_steady_state("with_steady_state_initial", model, ss)
    mu = np.asarray(ss.mu_flat, dtype=float)
    return dataclasses.replace(model, initial_mu=mu / mu.sum())

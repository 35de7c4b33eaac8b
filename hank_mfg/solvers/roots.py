"""The root finders, each written once (docs/concepts.md, section 5).

Every equation the toolkit solves goes through one of these:

* **one unknown with a sign-changing bracket, on the host** (:func:`brent`): Brent's method
  (SciPy's ``brentq``: inverse quadratic and secant steps safeguarded by bisection, so it never
  leaves the bracket), stopped at the first trial whose residual is below a tolerance, since a
  trial is a whole household solve. Steady states with one unknown, the capital economies'
  interest rate, calibration of one parameter to one moment.
* **several unknowns with domains, on the host** (:func:`newton_in_domain`): Newton's method with
  Broyden updates and backtracking in coordinates that keep every unknown inside its domain
  (below). Steady states with several unknowns.
* **one monotone unknown inside a jitted function** (:func:`bisection`): Optimistix's bisection,
  differentiable by the implicit function theorem. Capital demand at an interest rate.
* **one bracketed unknown inside a rollout, in a fixed number of steps** (:func:`illinois`):
  regula falsi with the Illinois modification (no data-dependent loop in a scan, superlinear on
  smooth pieces). A price that clears one market each date.
* **Newton-type iterations on paths, jitted** (:func:`newton`): the step is the caller's
  (a fixed sequence-space Jacobian, factorised once; or one built at each iterate) with
  optional step halving. Perfect-foresight transitions. Inside a rollout the quasi-Newton
  iteration on a date's unknowns uses :func:`forward_difference_jacobian` and
  :func:`broyden_update`.

Optimistix supplies what it has for traced code (bisection with an implicit adjoint); it has
no bracketed Brent, Illinois or Newton with a supplied Jacobian, so those are here, once.

**Unknowns with a domain.** A steady state's unknowns often have a domain: a discount factor
lies in ``(0, 1)`` (and below ``1 / (1 + r)`` for a stationary wealth distribution), a
disutility weight is positive. A trial outside it is not a bad guess but an undefined model
(the household problem has no solution and EGM returns NaN). So the unknowns are solved for in
unbounded coordinates ``y`` mapped into their domain — ``x = lo + (hi - lo) / (1 + e^-y)`` on
``(lo, hi)``, ``x = lo + e^y`` on ``(lo, inf)``, ``x = hi - e^y`` on ``(-inf, hi)`` — and
Newton's method runs on ``y`` with

* a forward-difference Jacobian at the start, Broyden's rank-one updates after each step and a
  fresh finite-difference Jacobian when an updated one stops giving descent;
* backtracking: a trial that fails (an inner solve that does not converge, a non-finite
  residual) or does not lower ``|F|`` halves the step;
* where even a fresh Jacobian gives no descent (a residual flat in an unknown), unit steps
  along each coordinate.

A failure names the trial and the closest point reached.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
from scipy import optimize

__all__ = [
    "BracketRoot", "Domain", "TrialFailed", "bisection", "brent", "broyden_update",
    "forward_difference_jacobian", "from_domain", "illinois", "inside", "newton",
    "newton_in_domain", "to_domain",
]

#: ``(lo, hi)`` with ``None`` for an unbounded side.
Domain = tuple[float | None, float | None]


class TrialFailed(Exception):
    """An evaluation that has no value at this trial (the message says why)."""


def _bounds(domain: Domain | None) -> tuple[float, float]:
    lo, hi = (None, None) if domain is None else domain
    return (-math.inf if lo is None else float(lo)), (math.inf if hi is None else float(hi))


def to_domain(y: float, domain: Domain | None) -> float:
    """The unknown ``x`` in its domain for the unbounded coordinate ``y``."""
    lo, hi = _bounds(domain)
    if math.isfinite(lo) and math.isfinite(hi):
        return lo + (hi - lo) / (1.0 + math.exp(-y)) if y > -700 else lo
    if math.isfinite(lo):
        return lo + math.exp(min(y, 700.0))
    if math.isfinite(hi):
        return hi - math.exp(min(y, 700.0))
    return y


def from_domain(x: float, domain: Domain | None, where: str = "") -> float:
    """The unbounded coordinate of ``x``; ``ValueError`` when ``x`` is not inside the domain."""
    lo, hi = _bounds(domain)
    if not lo < x < hi:
        raise ValueError(f"{where} must lie in ({lo:.6g}, {hi:.6g}); got {x:.6g}")
    if math.isfinite(lo) and math.isfinite(hi):
        return math.log((x - lo) / (hi - x))
    if math.isfinite(lo):
        return math.log(x - lo)
    if math.isfinite(hi):
        return math.log(hi - x)
    return x


def inside(x: float, domain: Domain | None) -> float:
    """A starting guess moved into its domain when it is not (a guess, not a constraint): to
    1% of the interval's width inside the nearer end, or a unit inside a one-sided bound."""
    lo, hi = _bounds(domain)
    if lo < x < hi or not math.isfinite(x):
        return x
    if math.isfinite(lo) and math.isfinite(hi):
        return lo + 0.01 * (hi - lo) if x <= lo else hi - 0.01 * (hi - lo)
    return lo + 1.0 if x <= lo else hi - 1.0


def newton_in_domain(
    evaluate: Callable[[np.ndarray], np.ndarray],
    x0: Sequence[float],
    *,
    names: Sequence[str],
    domains: Mapping[str, Domain],
    tol: float,
    maxiter: int,
    where: str,
    advice: str,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Zero ``evaluate(x)`` (a vector of as many residuals as unknowns) from ``x0``.

    Args:
        evaluate: residuals at ``x`` (in the unknowns' own units); raises :class:`TrialFailed`
            when a trial has no value.
        x0: the starting guess (moved inside its domain when it is not, :func:`inside`).
            names: the unknowns' names.
        domains: ``{name: (lo, hi)}`` (``None`` for an open side); names not given are free.
        tol: ``max |residual|`` to stop. maxiter: evaluations.
        where, advice: the caller's name and what a user can try, for the error messages.

    Returns:
        ``(x, residuals, evaluations)``.

    Raises:
        ValueError: a non-finite starting value (names the unknown).
        RuntimeError: no convergence in ``maxiter`` evaluations, or no step lowers the
            residuals; names the last failed trial and the closest point.
    """
    doms = [domains.get(n) for n in names]
    y = np.array([from_domain(inside(float(x), d), d, f"{where}: the starting value of {n}")
                  for x, d, n in zip(x0, doms, names)])
    n_eval = 0
    best: dict = {"err": math.inf, "x": None}
    failed: dict = {"at": None, "why": None}

    def show(x) -> str:
        return ", ".join(f"{n} = {xi:.10g}" for n, xi in zip(names, x))

    def x_of(yv) -> np.ndarray:
        return np.array([to_domain(float(yi), d) for yi, d in zip(yv, doms)])

    def F(yv):
        nonlocal n_eval
        if n_eval >= maxiter:
            raise _Exhausted
        n_eval += 1
        x = x_of(yv)
        try:
            f = np.asarray(evaluate(x), dtype=float)
        except TrialFailed as err:
            failed.update(at=x, why=str(err))
            return None
        if not np.all(np.isfinite(f)):
            failed.update(at=x, why=f"residuals {f}")
            return None
        if np.max(np.abs(f)) < best["err"]:
            best.update(err=float(np.max(np.abs(f))), x=x)
        return f

    def jacobian(yv, f):
        J = np.empty((f.size, yv.size))
        for j in range(yv.size):
            h = 1e-6 * max(1.0, abs(yv[j]))
            yj = yv.copy()
            yj[j] += h
            fj = F(yj)
            if fj is None:  # the other side
                yj[j] -= 2 * h
                fj = F(yj)
                h = -h
                if fj is None:
                    raise _Stuck
            J[:, j] = (fj - f) / h
        return J

    def fail(reason: str):
        last = (f"; the last trial that failed was {show(failed['at'])} ({failed['why']})"
                if failed["at"] is not None else "")
        closest = (f"; the closest point was {show(best['x'])} with max |residual| "
                   f"{best['err']:.3g}" if best["x"] is not None else "")
        raise RuntimeError(f"{where}: the root find for ({', '.join(names)}) {reason} after "
                           f"{n_eval} evaluations{last}{closest}; {advice}")

    try:
        f = F(y)
        if f is None:
            fail("could not evaluate its starting point")
        J = jacobian(y, f)
        fresh = True
        while np.max(np.abs(f)) > tol:
            try:
                dy = np.linalg.solve(J, -f)
            except np.linalg.LinAlgError:
                dy = np.linalg.lstsq(J, -f, rcond=None)[0]
            big = np.max(np.abs(dy))
            if big > 4.0:  # a step of more than e^4 in a scale unknown is not a local model
                dy *= 4.0 / big
            norm, lam, f1 = np.linalg.norm(f), 1.0, None
            while lam >= 1.0 / 256:
                f1 = F(y + lam * dy)
                if f1 is not None and np.linalg.norm(f1) < (1.0 - 1e-4 * lam) * norm:
                    break
                f1, lam = None, lam / 2
            if f1 is None and fresh:  # no descent along Newton's step: a flat region
                s, f1 = _coordinate_search(F, y, norm)
                if f1 is None:
                    fail("found no step that lowers the residuals")
                y, f, J = y + s, f1, jacobian(y + s, f1)
                continue
            if f1 is None:
                J, fresh = jacobian(y, f), True
                continue
            s = lam * dy
            J = broyden_update(J, s, f1 - f)
            y, f, fresh = y + s, f1, False
    except _Exhausted:
        fail(f"did not converge (maxiter {maxiter})")
    except _Stuck:
        fail("could not take a finite-difference step")
    return x_of(y), f, n_eval


def _coordinate_search(F, y, norm):
    """Steps of 1, 2 and 4 along each coordinate, both ways: the first that lowers ``|F|``
    (where a residual does not respond to an unknown, e.g. every household at the borrowing
    limit when the discount factor is far too low, Newton's step has no component there)."""
    for size in (1.0, 2.0, 4.0):
        for j in range(y.size):
            for sign in (1.0, -1.0):
                s = np.zeros_like(y)
                s[j] = sign * size
                f1 = F(y + s)
                if f1 is not None and np.linalg.norm(f1) < norm:
                    return s, f1
    return None, None


class _Exhausted(Exception):
    pass


class _Stuck(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# one unknown in a bracket, on the host
# ---------------------------------------------------------------------------------------------
class BracketRoot(NamedTuple):
    """What :func:`brent` found: ``x`` and its residual ``fx``; ``evaluations`` of ``f`` (the
    ends included); ``converged`` (``|fx| < ftol``, or the bracket down to ``xtol``); ``width``
    of the last bracket that held a sign change."""

    x: float
    fx: float
    evaluations: int
    converged: bool
    width: float


class _Found(Exception):
    pass


def brent(f: Callable[[float], float], lo: float, hi: float, *, ftol: float = 0.0,
          xtol: float = 4e-16, rtol: float = 4.0 * float(np.finfo(float).eps),
          maxiter: int = 100, f_lo: float | None = None,
          f_hi: float | None = None) -> BracketRoot:
    """A root of ``f`` in ``[lo, hi]``, where it changes sign, by Brent's method (SciPy's
    ``brentq``).

    The search stops at the first trial with ``|f| < ftol`` (each trial may be a whole
    household solve, so the point is not polished further than asked), or when the bracket is
    narrower than ``xtol + rtol |x|``. ``f_lo`` and ``f_hi``, when the caller has them, are not
    evaluated again. Never raises on non-convergence: the caller reads ``converged`` and says
    what it was solving.

    Raises:
        ValueError: ``f`` has the same sign at both ends (SciPy's message).
    """
    known = {float(lo): f_lo, float(hi): f_hi}
    state = {"n": 0, "x": float(lo), "fx": math.inf, "lo": float(lo), "hi": float(hi),
             "f_lo": f_lo}

    def g(x: float) -> float:
        x = float(x)
        fx = known.pop(x, None)
        if fx is None:
            fx = float(f(x))
            state["n"] += 1
        state["x"], state["fx"] = x, fx
        f_lo_now = state["f_lo"]
        if f_lo_now is None or x == state["lo"]:
            state["f_lo"] = fx
        elif np.sign(fx) == np.sign(f_lo_now):
            state["lo"], state["f_lo"] = x, fx
        else:
            state["hi"] = x
        if abs(fx) < ftol:
            raise _Found
        return fx

    state["n"] = sum(v is not None for v in known.values())
    seen: dict[float, float] = {}
    try:
        x, info = optimize.brentq(lambda x: seen.setdefault(float(x), g(x)), lo, hi,
                                  xtol=xtol, rtol=rtol, maxiter=maxiter, full_output=True,
                                  disp=False)
        # SciPy returns the end of its last bracket with the smaller residual, an evaluated point
        x = float(x) if float(x) in seen else state["x"]
        fx = seen.get(x, state["fx"])
        converged = bool(info.converged) or abs(fx) < ftol
    except _Found:
        x, fx, converged = state["x"], state["fx"], True
    return BracketRoot(x=x, fx=fx, evaluations=state["n"], converged=converged,
                       width=abs(state["hi"] - state["lo"]))


# ---------------------------------------------------------------------------------------------
# traced: inside jitted functions and rollouts
# ---------------------------------------------------------------------------------------------
def bisection(f, lo, hi, *, tol: float = 1e-14, max_steps: int = 200):
    """The root of a monotone scalar function ``f`` on ``[lo, hi]`` by Optimistix's
    bisection (to an interval of ``tol (1 + |x|)``), traceable and differentiable by the
    implicit function theorem: ``dx/dθ = -(df/dθ) / (df/dx)`` at the root."""
    lo = jnp.asarray(lo, dtype=float)
    hi = jnp.asarray(hi, dtype=float)
    sol = optx.root_find(lambda x, _: f(x), optx.Bisection(rtol=tol, atol=tol),
                         0.5 * (lo + hi), options=dict(lower=lo, upper=hi),
                         max_steps=max_steps, throw=False)
    return sol.value


def illinois(f, lo, hi, steps: int):
    """A sign change of ``f`` on ``[lo, hi]`` by the Illinois method (regula falsi that halves
    the weight of an end kept twice) in a fixed number of steps: the bracket always holds a sign
    change, convergence is superlinear on smooth pieces, and there is no data-dependent loop.
    Returns the last iterate (an end of the bracket if ``f`` has no sign change there)."""
    f_lo, f_hi = f(lo), f(hi)

    def body(_, b):
        lo, hi, f_lo, f_hi, side, x = b
        denom = f_hi - f_lo
        x = jnp.where(denom != 0, (lo * f_hi - hi * f_lo) / jnp.where(denom != 0, denom, 1.0),
                      0.5 * (lo + hi))
        x = jnp.clip(x, jnp.minimum(lo, hi), jnp.maximum(lo, hi))
        f_x = f(x)
        keep_hi = jnp.sign(f_x) == jnp.sign(f_lo)  # root in [x, hi]: x replaces lo
        new_lo, new_hi = jnp.where(keep_hi, x, lo), jnp.where(keep_hi, hi, x)
        # Illinois: halve the stale end's value when the same end is kept twice in a row
        new_f_lo = jnp.where(keep_hi, f_x, jnp.where(side == -1, 0.5 * f_lo, f_lo))
        new_f_hi = jnp.where(keep_hi, jnp.where(side == 1, 0.5 * f_hi, f_hi), f_x)
        new_side = jnp.where(keep_hi, 1, -1)
        done = f_x == 0
        return (jnp.where(done, x, new_lo), jnp.where(done, x, new_hi),
                jnp.where(done, 0.0, new_f_lo), jnp.where(done, 0.0, new_f_hi), new_side, x)

    init = (lo, hi, f_lo, f_hi, jnp.asarray(0), 0.5 * (lo + hi))
    return jax.lax.fori_loop(0, steps, body, init)[-1]


def forward_difference_jacobian(F, U, step: float = 1e-7):
    """``dF/dU`` by forward differences (steps ``step (1 + |U|)``, all columns in one vmapped
    call): where part of ``F`` is a stop-gradient (households taking prices as given), forward
    mode would miss its response."""
    h = step * (1.0 + jnp.abs(U))
    cols = jax.vmap(F)(U[None, :] + jnp.diag(h))
    return ((cols - F(U)[None, :]) / h[:, None]).T


def broyden_update(J, dx, dF):
    """Broyden's ("good") rank-one update ``J + (dF - J dx) dx^T / (dx^T dx)`` (skipped for a
    negligible step); NumPy arrays on the host stay NumPy (float64), traced ones JAX."""
    xp = np if all(isinstance(x, np.ndarray) for x in (J, dx, dF)) else jnp
    nrm = xp.sum(dx * dx)
    ok = nrm > 1e-28
    upd = xp.outer(dF - J @ dx, dx) / xp.where(ok, nrm, 1.0)
    return xp.where(ok, J + upd, J)


def newton(residual, x0, step, *, tol, maxiter, halvings: int = 0):
    """Newton-type iteration ``x <- x - s step(x, H(x))`` until ``max |H| <= tol`` or
    ``maxiter`` steps, traceable (``lax.while_loop``).

    Args:
        residual: ``H(x)``, any shape. x0: the start.
        step: ``(x, H) -> dx``, the Newton direction: a fixed Jacobian's factorisation applied to
            ``H`` (the chord method: sequence-space transitions), or one built at ``x``.
        halvings: ``0``, full steps, stopping at a non-finite residual (nothing could recover
            from it); ``k > 0``, the step length ``s`` is halved (at most ``k - 1`` times) until
            the largest residual falls, the last trial being taken when none does, and a
            non-finite residual counts as infinitely large (a kink that a full step jumps past).

    Returns:
        ``(x, iterations)``.
    """

    def size(H):
        m = jnp.max(jnp.abs(H))
        return jnp.where(jnp.isfinite(m), m, jnp.inf)

    def cond(st):
        it, _, H, h = st
        go = (h > tol) & (it < maxiter)
        return go if halvings else go & jnp.isfinite(h)

    def body(st):
        it, x, H, h = st
        dx = step(x, H)
        if not halvings:
            H_new = residual(x - dx)
            return it + 1, x - dx, H_new, size(H_new)

        def try_cond(ls):
            k, _, _, h_new = ls
            return (h_new >= h) & (k < halvings)

        def try_body(ls):
            k = ls[0]
            x_new = x - 0.5 ** k * dx
            H_new = residual(x_new)
            return k + 1, x_new, H_new, size(H_new)

        _, x_new, H_new, h_new = jax.lax.while_loop(
            try_cond, try_body, (jnp.asarray(0), x, H, jnp.asarray(jnp.inf, H.dtype)))
        return it + 1, x_new, H_new, h_new

    H0 = residual(x0)
    it, x, _, _ = jax.lax.while_loop(cond, body, (jnp.asarray(0), x0, H0, size(H0)))
    return x, it

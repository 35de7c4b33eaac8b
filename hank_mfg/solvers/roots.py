"""Root finding on the host around jitted evaluations, with unknowns kept in their domain
(docs/concepts.md, section 7).

A steady state's unknowns often have a domain: a discount factor lies in ``(0, 1)`` (and below
``1 / (1 + r)`` for a stationary wealth distribution), a disutility weight is positive. A
trial outside it is not a bad guess but an undefined model (the household problem has no
solution and EGM returns NaN). So the unknowns are solved for in unbounded coordinates ``y``
mapped into their domain — ``x = lo + (hi - lo) / (1 + e^-y)`` on ``(lo, hi)``,
``x = lo + e^y`` on ``(lo, inf)``, ``x = hi - e^y`` on ``(-inf, hi)`` — and Newton's method
runs on ``y`` with

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

import numpy as np

__all__ = ["Domain", "TrialFailed", "from_domain", "inside", "newton_in_domain", "to_domain"]

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
            J = J + np.outer((f1 - f) - J @ s, s) / (s @ s)  # Broyden's good update
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

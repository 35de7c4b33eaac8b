"""Validation helpers shared by the declaration layer.

Range checks run only on concrete values (models are built outside jit); shape checks always.
Every message names the class, the field, what was expected and what was received.
"""

from __future__ import annotations

import jax
import numpy as np


def concrete(x):
    """Return ``x`` as a NumPy array, or ``None`` when it is a tracer (inside jit)."""
    if isinstance(x, jax.core.Tracer):
        return None
    try:
        return np.asarray(x)
    except Exception:  # pragma: no cover - exotic array types
        return None


def fail(owner: str, field: str, expected: str, got) -> None:
    raise ValueError(f"{owner}.{field} must {expected}; got {_fmt(got)}")


def _fmt(x) -> str:
    arr = np.asarray(x)
    if arr.ndim == 0:
        try:
            return f"{float(arr):.6g}"
        except (TypeError, ValueError):
            return repr(x)
    return np.array2string(arr, precision=6, threshold=8)


def check_open_unit(owner: str, field: str, x) -> None:
    v = concrete(x)
    if v is not None and not (0.0 < float(v) < 1.0):
        fail(owner, field, "lie in (0, 1)", v)


def check_positive(owner: str, field: str, x) -> None:
    v = concrete(x)
    if v is not None and not (float(v) > 0.0 and np.isfinite(v)):
        fail(owner, field, "be positive and finite", v)


def check_nonnegative(owner: str, field: str, x) -> None:
    v = concrete(x)
    if v is not None and not (float(v) >= 0.0 and np.isfinite(v)):
        fail(owner, field, "be non-negative and finite", v)


def check_abs_lt_one(owner: str, field: str, x) -> None:
    v = concrete(x)
    if v is not None and not (abs(float(v)) < 1.0):
        fail(owner, field, "satisfy |value| < 1", v)


def check_int_at_least(owner: str, field: str, n, lo: int) -> None:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < lo:
        fail(owner, field, f"be an integer >= {lo}", n)


def check_grid(owner: str, field: str, grid) -> None:
    """A grid is 1-d, has at least 2 points, is finite and strictly increasing."""
    if np.ndim(grid) != 1:
        fail(owner, field, "be a 1-d array", f"shape {np.shape(grid)}")
    if np.shape(grid)[0] < 2:
        fail(owner, field, "have at least 2 points", f"{np.shape(grid)[0]} point(s)")
    g = concrete(grid)
    if g is None:
        return
    if not np.all(np.isfinite(g)):
        fail(owner, field, "be finite", g)
    d = np.diff(g)
    if np.any(d <= 0):
        j = int(np.argmax(d <= 0))
        raise ValueError(
            f"{owner}.{field} must be strictly increasing; got {g[j]:.6g} at index {j} "
            f"followed by {g[j + 1]:.6g}"
        )


def check_markov(owner: str, field: str, Pi, atol: float = 1e-8) -> None:
    """A Markov matrix is square, non-negative and its rows sum to one."""
    if np.ndim(Pi) != 2 or np.shape(Pi)[0] != np.shape(Pi)[1]:
        fail(owner, field, "be a square 2-d Markov matrix", f"shape {np.shape(Pi)}")
    m = concrete(Pi)
    if m is None:
        return
    if not np.all(np.isfinite(m)):
        fail(owner, field, "be finite", m)
    if np.any(m < -atol):
        i, j = np.unravel_index(np.argmin(m), m.shape)
        raise ValueError(
            f"{owner}.{field} must have non-negative entries; got {m[i, j]:.6g} at [{i}, {j}]"
        )
    rows = m.sum(axis=1)
    bad = np.abs(rows - 1.0) > max(atol, 10 * np.finfo(m.dtype).eps * m.shape[0])
    if np.any(bad):
        i = int(np.argmax(bad))
        raise ValueError(
            f"{owner}.{field} rows must sum to 1; got row {i} summing to {rows[i]:.6g}"
        )


def check_distribution(owner: str, field: str, mu, n: int, atol: float = 1e-6) -> None:
    if np.shape(mu) != (n,):
        fail(owner, field, f"have shape ({n},)", f"shape {np.shape(mu)}")
    m = concrete(mu)
    if m is None:
        return
    if np.any(m < -atol) or abs(m.sum() - 1.0) > atol:
        fail(owner, field, "be a probability vector (non-negative, summing to 1)",
             f"sum {m.sum():.6g}, min {m.min():.6g}")


def check_closed_unit(owner: str, field: str, x) -> None:
    v = concrete(x)
    if v is not None and not (0.0 <= float(v) <= 1.0):
        fail(owner, field, "lie in [0, 1]", v)


def check_wealth_bounds(owner: str, wealth_min, wealth_max) -> None:
    """``wealth_max > wealth_min``, named by the model's fields (before any grid is built)."""
    lo, hi = concrete(wealth_min), concrete(wealth_max)
    if lo is not None and hi is not None and not float(hi) > float(lo):
        fail(owner, "wealth_max", f"exceed wealth_min = {float(lo):.6g}", hi)


def check_income_ar1(owner: str, income_rho, income_sd, n_income) -> None:
    """A log-income AR(1) declared by ``income_rho``, ``income_sd`` and ``n_income`` states."""
    check_abs_lt_one(owner, "income_rho", income_rho)
    check_nonnegative(owner, "income_sd", income_sd)
    check_int_at_least(owner, "n_income", n_income, 2)

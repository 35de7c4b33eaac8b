"""Tests of the firms' forecast (docs/theory.md §13.5): the den Haan–Marcet statistic against
its chi-squared law on hand-built errors. On the one-asset HANK, the untrained first-order
start (the linear forecast) passes what the steady-state start fails:
tests/solvers/test_first_order_start.py, beside the start it builds."""

import numpy as np
from scipy import stats

from hank_mfg.metrics.forecast import _orthogonality


def test_orthogonality_statistic_is_chi_squared_and_rejects_a_predictable_error():
    """Errors independent of the instruments: ``J`` follows ``chi^2(k)`` (the share above the
    95% quantile near 5%, the mean near ``k``); errors that load on an instrument: rejected on
    every path. An instrument that never moves drops out of the degrees of freedom."""
    rng = np.random.default_rng(0)
    n, T, k = 400, 200, 4
    inst = np.concatenate([np.ones((n, T, 1)), rng.standard_normal((n, T, k - 1)),
                           np.zeros((n, T, 1))], axis=-1)            # the last never moves
    noise = rng.standard_normal((n, T, 2))
    J = np.stack([_orthogonality(noise[b], inst[b])[0] for b in range(n)])
    dof = _orthogonality(noise[0], inst[0])[1]
    assert dof == k
    share = np.mean(J > stats.chi2.ppf(0.95, k), axis=0)
    assert np.all((share > 0.025) & (share < 0.09)), share          # binomial s.e. 0.011
    assert np.all(np.abs(J.mean(axis=0) - k) < 0.5), J.mean(axis=0)  # s.e. of the mean 0.14
    # a forecast that ignores an instrument worth 0.4 of the error's s.d. (noncentrality T 0.16 = 32)
    bad = noise + 0.4 * inst[..., 1:2]
    Jb = np.stack([_orthogonality(bad[b], inst[b])[0] for b in range(40)])
    assert np.mean(Jb > stats.chi2.ppf(0.95, k)) > 0.9

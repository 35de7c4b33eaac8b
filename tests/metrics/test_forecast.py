"""Tests of the firms' forecast (docs/theory.md §13.5): the den Haan–Marcet statistic against
its chi-squared law on hand-built errors, and the tests on the one-asset HANK, where the
untrained first-order start (the linear forecast) must pass what the steady-state start (a
forecast that ignores the state) fails."""

import jax
import numpy as np
import pytest
from scipy import stats

import hank_mfg as hm
from hank_mfg.metrics.forecast import _orthogonality
from hank_mfg.solvers import continuous as C
from models.hank import OneAssetHANK

jax.config.update("jax_enable_x64", True)


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


@pytest.fixture(scope="module")
def hank():
    m = OneAssetHANK(n_wealth=30, wealth_max=50.0, n_income=3)
    return m, hm.steady_state(m)


def _tests(m, ss, start):
    P = C.savings_problem(m, ss, start=start, horizon=40)
    policy = P.make_policy(key=jax.random.key(0), hidden=4, widths=(8,), n_knots=6)
    return hm.forecast_tests(P, policy=policy, n_paths=8, T=120)


@pytest.mark.slow  # the first-order start of the HANK takes about a minute to build
def test_the_linear_forecast_passes_and_the_steady_state_forecast_fails(hank):
    """The untrained first-order start forecasts with the linear solution: its one-step errors
    are the surprise (at first order), unpredictable from yesterday's prices and today's
    shocks; iterated on its own forecasts it reads no prices, so its dynamic forecast is its
    one-step forecast. The steady-state start predicts the steady state whatever the state:
    its errors are the persistent deviations themselves, predictable on almost every path."""
    m, ss = hank
    good, bad = _tests(m, ss, "first-order"), _tests(m, ss, "steady-state")
    assert good["unknowns"] == bad["unknowns"] == ("pi", "w", "Y")
    # the steady-state forecast is the benchmark's own forecast
    np.testing.assert_allclose(bad["rmse"], bad["rmse_steady_state"], rtol=1e-12)
    np.testing.assert_allclose(bad["sd_expectation"], 0.0, atol=1e-14)
    # measured: 0.44-0.60 of the steady-state forecast's error (the rest is the surprise)
    assert np.all(good["rmse"] < 0.7 * good["rmse_steady_state"]), good
    o_good, o_bad = good["orthogonality"], bad["orthogonality"]
    assert o_good["dof"] == o_bad["dof"] == 1 + 3 + 2    # constant, r w pi lagged, rstar Z
    assert np.all(o_bad["high"] >= 0.75), o_bad["high"]     # measured: every path
    assert np.all(o_good["high"] <= 0.25), o_good["high"]   # measured: none
    # the integrated Phillips-curve residual: the forecast's bias shows there
    assert good["forward"]["names"] == ("nkpc_res",)
    # measured: 0.033 and 0.88 of the s.d. of inflation
    assert good["forward"]["rms"][0] < 0.2 * bad["forward"]["rms"][0], (good["forward"],
                                                                      bad["forward"])
    # a forecaster that reads no prices: iterated on itself it is the one-step forecast
    paths = good["paths"]
    np.testing.assert_allclose(paths["iterated"], paths["forecast"][:, :-1], rtol=0, atol=1e-13)

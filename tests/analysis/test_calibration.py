"""Calibration (issue 6): distribution statistics, root find, least squares, errors, compiles."""

import dataclasses
import time

import jax
import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg.analysis.calibration import TARGETS, wealth_moments
from models.krusell_smith import KrusellSmith

# sequence-jacobian's Krusell–Smith household (alpha 0.11, tfp normalising Y = 1)
KS_SSJ = dict(beta=0.975, alpha=0.11, delta=0.025, sigma=1.0, income_rho=0.966, income_sd=0.5,
              n_income=7, n_wealth=500, wealth_max=200, tfp=0.8816460975)
SMALL = dict(KS_SSJ, n_income=3, n_wealth=60)


@pytest.fixture(scope="module")
def small():
    return KrusellSmith(**SMALL)


# ---- wealth statistics -------------------------------------------------------------------------
def test_wealth_moments_two_points():
    # half the households own nothing, half own 1: Gini 1/2, top 10% own 20%
    m = wealth_moments(np.array([[0.5], [0.5]]), np.array([0.0, 1.0]))
    np.testing.assert_allclose(float(m["gini"]), 0.5, atol=1e-14)
    np.testing.assert_allclose(float(m["top10"]), 0.2, atol=1e-14)
    np.testing.assert_allclose(float(m["top1"]), 0.02, atol=1e-14)
    np.testing.assert_allclose(float(m["mass_at_limit"]), 0.5, atol=1e-14)
    np.testing.assert_allclose(float(m["mean"]), 0.5, atol=1e-14)


def test_wealth_moments_uniform_and_equal():
    n = 4000
    a = (np.arange(n) + 0.5) / n  # equal masses, uniform wealth: Lorenz p^2, Gini 1/3
    mu = np.full((n, 2), 0.5 / n)  # income axis is summed out
    m = wealth_moments(mu, a)
    np.testing.assert_allclose(float(m["gini"]), 1 / 3, atol=1e-6)
    np.testing.assert_allclose(float(m["top10"]), 1 - 0.9**2, atol=1e-6)
    np.testing.assert_allclose(float(m["top1"]), 1 - 0.99**2, atol=1e-6)
    eq = wealth_moments(np.array([0.0, 1.0, 0.0]), np.array([0.0, 2.0, 3.0]))  # all at a = 2
    np.testing.assert_allclose(float(eq["gini"]), 0.0, atol=1e-14)
    np.testing.assert_allclose(float(eq["top10"]), 0.1, atol=1e-14)
    np.testing.assert_allclose(float(eq["mass_at_limit"]), 0.0, atol=1e-14)


def test_steady_state_moments(small):
    ss = hm.steady_state(small)
    mom = hm.steady_state_moments(small, ss)
    assert set(TARGETS) <= set(mom)
    np.testing.assert_allclose(mom["r"], float(ss.r))
    np.testing.assert_allclose(mom["K/Y"], float(ss.K / ss.Y))
    np.testing.assert_allclose(mom["mass_at_limit"], float(ss.mu[0].sum()))
    assert 0 < mom["gini"] < 1 and 0.1 < mom["top10"] < 1 and 0 < mom["mpc"] < 1
    # MPC: finite difference of the consumption policy in cash on hand, mass-weighted
    a = np.asarray(small.a_grid)
    c = np.asarray(ss.c_policy)
    i, e = 10, 1
    mpc_ie = (c[i + 1, e] - c[i, e]) / ((1 + float(ss.r)) * (a[i + 1] - a[i]))
    assert 0 < mpc_ie < 1


# ---- calibration ---------------------------------------------------------------------------------
def test_acceptance_sequence_jacobian_beta():
    """Issue 6 acceptance: sequence-jacobian's KS calibration gives beta = 0.98195."""
    t0 = time.perf_counter()
    cal = hm.calibrate(KrusellSmith(**KS_SSJ), targets={"r": 0.01}, free={"beta": (0.96, 0.995)})
    assert abs(cal.params["beta"] - 0.98195) < 1e-4
    np.testing.assert_allclose(cal.params["beta"], 0.9819527880, atol=1e-8)
    np.testing.assert_allclose(float(cal.model.beta), cal.params["beta"])
    d = cal.diagnostics
    assert d["success"] and d["method"] == "brent" and d["mode"] == "r fixed"
    assert abs(d["market_residual"]) < 1e-8 and d["evaluations"] < 25
    assert d["compilations_after_first"] == 0, "a trial recompiled"
    np.testing.assert_allclose(cal.moments["K/Y"], 0.11 / 0.035, rtol=1e-9)
    np.testing.assert_allclose(cal.moments["Y"], 1.0, rtol=1e-9)
    assert time.perf_counter() - t0 < 60


def test_fixed_r_matches_general_equilibrium(small):
    cal = hm.calibrate(small, targets={"r": 0.01}, free={"beta": (0.96, 0.995)})
    ss = hm.steady_state(cal.model)  # the calibrated model's GE steady state has r = 0.01
    np.testing.assert_allclose(float(ss.r), 0.01, atol=1e-8)
    np.testing.assert_allclose(float(ss.K), float(cal.steady_state.K), rtol=1e-6)
    assert cal.table()["target"].tolist() == ["r"]


def test_general_equilibrium_target_and_no_recompile(small):
    seen = []
    cal = hm.calibrate(small, targets={"K/Y": 3.0}, free={"beta": (0.95, 0.99)},
                       callback=seen.append)
    np.testing.assert_allclose(cal.moments["K/Y"], 3.0, rtol=1e-7)
    assert cal.diagnostics["mode"] == "general equilibrium"
    assert len(seen) == cal.diagnostics["evaluations"] == len(cal.diagnostics["history"])
    assert cal.diagnostics["compilations_after_first"] == 0
    # a second calibration of a model of the same shapes compiles nothing at all
    again = hm.calibrate(dataclasses.replace(small, beta=0.97), targets={"K/Y": 2.5},
                         free={"beta": (0.95, 0.99)})
    assert again.diagnostics["compilations"] == 0
    np.testing.assert_allclose(again.moments["K/Y"], 2.5, rtol=1e-7)


def test_least_squares_two_parameters(small):
    # targets generated by known parameters are recovered
    truth = dataclasses.replace(small, beta=0.978, delta=0.03)
    ss = hm.steady_state(truth)
    mom = hm.steady_state_moments(truth, ss)
    targets = {"r": mom["r"], "gini": mom["gini"]}
    cal = hm.calibrate(dataclasses.replace(small, delta=0.02), targets=targets,
                       free={"beta": (0.96, 0.985), "delta": (0.01, 0.05)})
    d = cal.diagnostics
    assert d["method"] == "least_squares" and d["success"], d["message"]
    np.testing.assert_allclose(cal.params["beta"], 0.978, atol=1e-5)
    np.testing.assert_allclose(cal.params["delta"], 0.03, atol=1e-5)
    tab = cal.table()
    assert list(tab.columns[:4]) == ["target", "data", "model", "error"]
    np.testing.assert_allclose(tab["model"], tab["data"], rtol=1e-5)
    assert d["compilations_after_first"] == 0


def test_unattainable_target_is_not_success(small):
    cal = hm.calibrate(small, targets={"r": 0.01, "gini": 0.99},
                       free={"beta": (0.96, 0.985)}, maxiter=20)
    assert not cal.diagnostics["success"]
    assert "residual" in cal.diagnostics["message"]


# ---- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "targets, free, match",
    [
        ({"gdp": 1.0}, {"beta": (0.9, 0.99)}, "gdp.*allowed.*K/Y"),
        ({"r": 0.01}, {"beta": (0.99, 0.9)}, r"free\['beta'\].*inverted"),
        ({"r": 0.01}, {"beta": (0.9, 0.9)}, r"free\['beta'\].*inverted"),
        ({"r": 0.01}, {"gamma": (0.9, 0.99)}, "gamma.*not a field of KrusellSmith.*beta"),
        ({"r": 0.01}, {"n_wealth": (10, 20)}, "n_wealth.*not a 0-d parameter"),
        ({"r": float("nan")}, {"beta": (0.9, 0.99)}, r"targets\['r'\].*finite"),
        ({}, {"beta": (0.9, 0.99)}, "targets is empty"),
        ({"r": 0.01}, {}, "free is empty"),
    ],
)
def test_bad_input(small, targets, free, match):
    with pytest.raises(ValueError, match=match):
        hm.calibrate(small, targets=targets, free=free)


def test_no_solution_in_bracket(small):
    with pytest.raises(ValueError, match=r"no solution for free\['beta'\].*\(0.9, 0.93\)"):
        hm.calibrate(small, targets={"r": 0.01}, free={"beta": (0.9, 0.93)})


def test_method_errors(small):
    with pytest.raises(ValueError, match="method"):
        hm.calibrate(small, targets={"r": 0.01}, free={"beta": (0.9, 0.99)}, method="newton")
    with pytest.raises(ValueError, match="brent.*one free parameter"):
        hm.calibrate(small, targets={"r": 0.01, "gini": 0.7}, free={"beta": (0.9, 0.99)},
                     method="brent")


def test_needs_float64(small):
    jax.config.update("jax_enable_x64", False)
    try:
        with pytest.raises(RuntimeError, match="float64"):
            hm.calibrate(small, targets={"r": 0.01}, free={"beta": (0.9, 0.99)})
    finally:
        jax.config.update("jax_enable_x64", True)

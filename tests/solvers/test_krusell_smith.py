"""Krusell–Smith with unemployment risk and the Krusell–Smith algorithm (docs/krusell_smith.md):
the chain against the published table and its conditions, the tax rule's budget balance, the
exact expectation over (z', eps') against dense loops, den Haan's statistic on a hand-built
case, and (slow) the algorithm against the comparison project's published numbers."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hank_mfg.metrics.den_haan import den_haan_statistic, stress_path
from hank_mfg.solvers.krusell_smith import LawOfMotion, expected_marginal_value
from models.krusell_smith_unemployment import (
    DJJ_TRANSITION, KrusellSmithUnemployment, employment_chain,
)


def test_the_chain_derived_from_krusell_and_smiths_conditions_is_the_published_table():
    P = employment_chain()
    np.testing.assert_allclose(P, DJJ_TRANSITION, atol=5e-7)   # the table has six digits
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-15)
    ch = KrusellSmithUnemployment().chain
    np.testing.assert_allclose(ch.aggregate.mean_duration(), [8.0, 8.0], rtol=1e-12)
    np.testing.assert_allclose(ch.conditional_shares()[:, 0], [0.10, 0.04], atol=1e-12)
    assert float(ch.share_consistency()) < 1e-14
    # unemployment spells: 2.5 quarters in bad times, 1.5 in good (times unchanged)
    np.testing.assert_allclose([1 / (1 - ch.Pi_e[0, 0, 0, 0]), 1 / (1 - ch.Pi_e[1, 1, 0, 0])],
                               [2.5, 1.5], rtol=1e-12)
    # staying unemployed when times change: 1.25 and 0.75 times the odds when they stay
    assert float(ch.Pi_e[1, 0, 0, 0]) == pytest.approx(1.25 * float(ch.Pi_e[0, 0, 0, 0]))
    assert float(ch.Pi_e[0, 1, 0, 0]) == pytest.approx(0.75 * float(ch.Pi_e[1, 1, 0, 0]))


@pytest.mark.parametrize("z", [0, 1])
def test_benefits_are_paid_by_the_labour_tax_in_both_states(z):
    with jax.enable_x64(True):
        m = KrusellSmithUnemployment()
        K = 39.0
        r, w, tau = m.prices(jnp.asarray(K), z)
        L = float(m.employment[z])
        assert float(tau * m.lbar * L * w) == pytest.approx(float(m.mu * (1 - L) * w), rel=1e-14)
        # factor payments exhaust output: r K + w lbar L = Y
        Y = float(m.z_values[z]) * K ** 0.36 * (float(m.lbar) * L) ** 0.64
        assert float(r * K + w * m.lbar * L) == pytest.approx(Y, rel=1e-13)
        # households' labour income adds up to the wage bill
        R, y = m.factor_incomes(jnp.asarray(K), z)
        assert float((1 - L) * y[0] + L * y[1]) == pytest.approx(float(w * m.lbar * L), rel=1e-14)
        assert float(R) == pytest.approx(1 + float(r) - 0.025)


def test_expected_marginal_value_equals_dense_loops_over_the_joint_table():
    with jax.enable_x64(True):
        m = KrusellSmithUnemployment(n_wealth=6, n_capital=3)
        ch = m.chain
        rng = np.random.default_rng(0)
        Va = jnp.asarray(rng.uniform(0.5, 2.0, (2, 3, 6, 2)))
        law = LawOfMotion(a=jnp.array([0.1, 0.12]), b=jnp.array([0.96, 0.967]))
        Kg = np.asarray(m.K_grid)
        P = employment_chain()
        for z in range(2):
            for K in (31.0, 40.0, 49.0):
                got = np.asarray(expected_marginal_value(ch, law, Va, m.K_grid, z, jnp.asarray(K)))
                Kn = float(np.exp([0.1, 0.12][z] + [0.96, 0.967][z] * np.log(K)))
                i = min(max(np.searchsorted(Kg, Kn, side="right") - 1, 0), 1)
                w = (Kn - Kg[i]) / (Kg[i + 1] - Kg[i])
                ref = np.zeros((6, 2))
                for a in range(6):
                    for e in range(2):
                        for zn in range(2):
                            for en in range(2):
                                v = (1 - w) * Va[zn, i, a, en] + w * Va[zn, i + 1, a, en]
                                ref[a, e] += P[2 * z + e, 2 * zn + en] * float(v)
                np.testing.assert_allclose(got, ref, rtol=1e-13)


def test_den_haan_statistic_by_hand():
    """A law that forecasts 0.1% growth a quarter against capital that stays put: the error
    after t quarters is t log(1.001), the mean over T quarters (T - 1)/2 times it."""
    T = 201
    law = LawOfMotion(a=jnp.full(2, np.log(1.001)), b=jnp.ones(2))
    K = np.full(T, 40.0)
    z = np.asarray(stress_path(100, 101))
    mean, mx, Khat = den_haan_statistic(law, K, z)
    step = 100 * np.log(1.001)
    assert mx == pytest.approx((T - 1) * step, rel=1e-12)
    assert mean == pytest.approx((T - 1) / 2 * step, rel=1e-12)
    np.testing.assert_allclose(Khat, 40.0 * 1.001 ** np.arange(T), rtol=1e-12)


def test_bad_calibrations_are_refused_naming_the_field():
    with pytest.raises(ValueError, match="mu"):
        KrusellSmithUnemployment(mu=1.2)
    with pytest.raises(ValueError, match="capital_min"):
        KrusellSmithUnemployment(capital_min=60.0)
    with pytest.raises(ValueError, match="u_bad"):
        KrusellSmithUnemployment(u_bad=1.5)
    import hank_mfg as hm

    with pytest.raises(ValueError, match=r"KrusellSmithConfig\.memory .* got 0"):
        hm.KrusellSmithConfig(memory=0)
    with pytest.raises(ValueError, match=r"KrusellSmithConfig\.damping"):
        hm.KrusellSmithConfig(damping=1.5)


def test_the_algorithm_reaches_its_own_fixed_point_on_a_small_economy():
    """The returned law is the regression of the simulated capital on itself (the fixed point
    the algorithm looks for), the one-quarter forecasts are nearly exact, and the households'
    policy keeps unemployment at its rate in each state."""
    import hank_mfg as hm
    from hank_mfg.solvers.krusell_smith import regress

    m = KrusellSmithUnemployment(n_wealth=40, n_capital=4)
    sol = hm.solve(m, method="krusell-smith",
                   config=hm.KrusellSmithConfig(T=600, burn_in=200, tol=1e-7), progress=False)
    coef, r2, _ = regress(np.asarray(sol.K), np.asarray(sol.z), 2)
    np.testing.assert_allclose(coef[:, 0], sol.law.a, atol=1e-12)
    np.testing.assert_allclose(coef[:, 1], sol.law.b, atol=1e-12)
    assert np.all(r2 > 0.9999) and np.all(np.asarray(sol.law.b) < 1.0)
    assert 35.0 < float(np.mean(sol.K)) < 45.0
    # the last coefficients moved less than tol from the ones before them
    assert float(np.max(np.abs(np.diff(np.asarray(sol.history)[-2:], axis=0)))) < 2e-7
    # the cross-section keeps the unemployment rate of the last state
    share = float(sol.mu[:, 0].sum())
    assert share == pytest.approx([0.10, 0.04][int(sol.z[-1])], abs=1e-9) or \
        share == pytest.approx([0.10, 0.04][1 - int(sol.z[-1])], abs=1e-9)
    # plain damping reaches the same law; Anderson mixing of the last laws in fewer iterations
    plain = hm.solve(m, method="krusell-smith", config=hm.KrusellSmithConfig(
        T=600, burn_in=200, tol=1e-7, memory=1), progress=False)
    np.testing.assert_allclose(plain.law.a, sol.law.a, atol=2e-6)
    np.testing.assert_allclose(plain.law.b, sol.law.b, atol=5e-7)
    assert sol.iterations < plain.iterations, (sol.iterations, plain.iterations)


@pytest.mark.slow
def test_the_algorithm_meets_the_comparison_projects_numbers():
    """Default calibration and grids: mean capital in the range the comparison project's
    algorithms report, den Haan's mean error as published for this algorithm (about 0.05%),
    Euler errors below 0.01% of consumption on average."""
    import hank_mfg as hm

    sol = hm.solve(KrusellSmithUnemployment(), method="krusell-smith", progress=False)
    dh = hm.den_haan_errors(sol)
    assert 39.0 <= dh.K_mean <= 39.5
    assert dh.mean < 0.06 and dh.max < 0.5
    assert dh.euler_mean < 0.01
    assert np.all(np.asarray(sol.r2) > 0.99999)


def test_declared_as_an_economy_its_steady_state_without_aggregate_risk():
    """``z = 1`` and employment moving by the chain averaged over times (7% unemployed): the
    economy's steady state clears the asset market with prices from its firm block."""
    import hank_mfg as hm

    with jax.enable_x64(True):
        m = KrusellSmithUnemployment(n_wealth=50)
        assert isinstance(m, hm.AbstractEconomy)
        np.testing.assert_allclose(m.income.pi_e, [0.07, 0.93], atol=1e-12)
        ss = hm.steady_state(m)
        assert abs(float(ss.residuals["asset_mkt"])) < 1e-8
        r, w, tau = m.factor_prices(ss["K"], 1.0, 0.93)
        assert float(ss["r"]) == pytest.approx(float(r), rel=1e-12)
        # without aggregate risk, patience is bounded by the interest rate: beta R < 1
        assert 0.99 * (1 + float(ss["r"]) - 0.025) < 1.0


def test_regression_recovers_a_law_with_curvature():
    """On capital generated by a known law with curvature in each state, the regression returns
    its coefficients to rounding, and the law object evaluates the same formula."""
    from hank_mfg.solvers.krusell_smith import regress

    center = np.log(40.0)
    true = np.array([[0.125, 0.965, 0.8], [0.138, 0.963, -0.5]])
    law = LawOfMotion(a=jnp.asarray(true[:, 0]), b=jnp.asarray(true[:, 1]),
                      c=jnp.asarray(true[:, 2]), center=center)
    rng = np.random.default_rng(0)
    z = rng.integers(0, 2, 3_000)
    K = [40.0]
    for t in range(len(z) - 1):
        x = np.log(K[-1])
        K.append(np.exp(true[z[t], 0] + true[z[t], 1] * x + true[z[t], 2] * (x - center) ** 2))
        assert float(law(K[-2], z[t])) == pytest.approx(K[-1], rel=1e-13)
    coef, r2, se = regress(np.asarray(K), z, 2, degree=2, center=center)
    np.testing.assert_allclose(coef, true, atol=1e-8)
    assert np.all(se < 1e-10)
    # the log-linear fit to the same data misses the curvature
    lin, _, se1 = regress(np.asarray(K), z, 2)
    assert np.all(se1 > 1e-7)
    assert law.with_coefficients(law.coefficients()).coefficients() == pytest.approx(
        true.ravel(), abs=1e-15)


def test_the_algorithm_with_curvature_reaches_its_fixed_point():
    """With ``law_degree=2`` the returned law (a, b and the curvature c) is the regression of
    the simulated capital on itself, the one-quarter forecasts are at least as good as the
    log-linear law's on the same economy, and a bad degree is refused by name."""
    import hank_mfg as hm
    from hank_mfg.solvers.krusell_smith import regress

    m = KrusellSmithUnemployment(n_wealth=40, n_capital=4)
    cfg = dict(T=600, burn_in=200, tol=1e-7)
    sol = hm.solve(m, method="krusell-smith", config=hm.KrusellSmithConfig(law_degree=2, **cfg),
                   progress=False)
    assert sol.law.degree == 2 and sol.law.center == pytest.approx(np.log(40.0))
    coef, r2, se = regress(np.asarray(sol.K), np.asarray(sol.z), 2, 2, sol.law.center)
    np.testing.assert_allclose(coef.ravel(), sol.law.coefficients(), atol=1e-10)
    np.testing.assert_allclose(se, sol.se, rtol=1e-12)
    assert np.asarray(sol.history).shape[1] == 6
    lin = hm.solve(m, method="krusell-smith", config=hm.KrusellSmithConfig(**cfg), progress=False)
    assert np.all(np.asarray(sol.se) <= np.asarray(lin.se) * (1 + 1e-6))
    with pytest.raises(ValueError, match="law_degree"):
        hm.KrusellSmithConfig(law_degree=3)

"""Wealth statistics of atoms on grid points against hand computations (docs/theory.md §11)."""

import jax.numpy as jnp
import numpy as np
import pytest

from hank_mfg import analysis as an
from hank_mfg.analysis.distribution import negative_wealth_mass

A = jnp.array([0.0, 1.0, 3.0])
P = jnp.array([0.5, 0.25, 0.25])


def test_hand_computed_three_atoms():
    # wealth 0 (half the people), 1 (a quarter), 3 (a quarter): total wealth 1
    s = an.wealth_stats(A, P)
    # Lorenz points F = 0, .5, .75, 1 ; L = 0, 0, .25, 1
    assert float(s.gini) == pytest.approx(1 - (0.5 * 0 + 0.25 * 0.25 + 0.25 * 1.25), abs=1e-14)
    assert float(s.gini) == pytest.approx(0.625, abs=1e-14)
    assert float(s.mean) == pytest.approx(1.0, abs=1e-14)
    # richest 10% all hold wealth 3: share 0.1 * 3 / 1
    assert float(s.top10) == pytest.approx(0.3, abs=1e-14)
    assert float(s.top1) == pytest.approx(0.03, abs=1e-14)
    assert float(s.bottom50) == pytest.approx(0.0, abs=1e-14)
    assert float(s.at_limit) == pytest.approx(0.5, abs=1e-14)
    # quantiles: min{a_i : F_i >= q}; F = .5, .75, 1 -> p50 is exactly at the first atom
    np.testing.assert_allclose(np.asarray(s.quantiles), [0, 0, 0, 1, 3, 3])


def test_unnormalised_mass_and_splitting_an_atom():
    a = jnp.array([1.0, 2.0, 4.0, 8.0])
    p = 2.0 * jnp.array([0.4, 0.3, 0.2, 0.1])  # total mass 2 (normalised inside)
    s = an.wealth_stats(a, p)
    assert float(s.mass) == pytest.approx(2.0)
    W = 0.4 * 1 + 0.3 * 2 + 0.2 * 4 + 0.1 * 8  # 2.6
    # bottom 50%: the 0.4 at 1 and 0.1 of the 0.3 at 2
    assert float(s.bottom50) == pytest.approx((0.4 * 1 + 0.1 * 2) / W, abs=1e-14)
    assert float(s.top10) == pytest.approx(0.8 / W, abs=1e-14)
    assert float(s.top1) == pytest.approx(0.08 / W, abs=1e-14)
    F = np.array([0.4, 0.7, 0.9, 1.0])
    L = np.cumsum([0.4, 0.6, 0.8, 0.8]) / W
    Lm = np.concatenate([[0.0], L[:-1]])
    gini = 1 - np.sum(np.diff(np.concatenate([[0.0], F])) * (Lm + L))
    assert float(s.gini) == pytest.approx(gini, abs=1e-14)
    np.testing.assert_allclose(np.asarray(s.quantiles), [1, 1, 2, 4, 4, 8])
    assert float(s.at_limit) == pytest.approx(0.4)


def test_equal_and_concentrated():
    a = jnp.linspace(0.0, 5.0, 6)
    s = an.wealth_stats(a, jnp.zeros(6).at[3].set(1.0))  # everyone holds 3
    assert float(s.gini) == pytest.approx(0.0, abs=1e-14)
    assert float(s.top10) == pytest.approx(0.1, abs=1e-14)
    assert float(s.bottom50) == pytest.approx(0.5, abs=1e-14)
    # n equal-mass atoms, all wealth in the last: Gini = 1 - 1/n
    s = an.wealth_stats(jnp.array([0.0, 0.0, 0.0, 1.0]) + jnp.array([0, 1e-300, 2e-300, 0]),
                        jnp.full(4, 0.25))
    assert float(s.gini) == pytest.approx(0.75, abs=1e-12)


def test_lorenz_endpoints_and_monotone():
    rng = np.random.default_rng(0)
    a = jnp.asarray(np.sort(rng.uniform(0, 10, 30)))
    p = jnp.asarray(rng.uniform(0, 1, 30)).at[5].set(0.0)  # an empty atom too
    F, L = an.lorenz_points(a, p)
    assert float(F[0]) == 0.0 and float(L[0]) == 0.0
    assert float(F[-1]) == 1.0 and float(L[-1]) == 1.0
    assert np.all(np.diff(np.asarray(F)) >= 0) and np.all(np.diff(np.asarray(L)) >= 0)
    assert np.all(np.asarray(L) <= np.asarray(F) + 1e-15)


def test_by_income_conditional():
    mu = jnp.array([[0.2, 0.0], [0.1, 0.3], [0.0, 0.4]])
    a = jnp.array([0.0, 1.0, 2.0])
    sb = an.stats_by_income(a, mu)
    np.testing.assert_allclose(np.asarray(sb.mass), [0.3, 0.7])
    np.testing.assert_allclose(np.asarray(sb.mean), [1 / 3, (0.3 + 0.8) / 0.7])
    np.testing.assert_allclose(np.asarray(sb.at_limit), [2 / 3, 0.0])


def test_shares_of_wealth_with_debtors_are_nan():
    """With mass at negative wealth the Lorenz curve dips below zero and the formulas give a
    Gini of 3.3 and a bottom 50% "holding" -200% here: NaN instead; the rest stays."""
    a, p = jnp.array([-1.0, 0.0, 2.0]), jnp.array([0.4, 0.3, 0.3])
    F, L = an.lorenz_points(a, p)
    np.testing.assert_allclose(np.asarray(L), [0, -2, -2, 1], atol=1e-12)  # still returned
    s = an.wealth_stats(a, p)
    for x in (s.gini, s.top10, s.top1, s.bottom50, an.gini(a, p), an.top_share(a, p, 0.1)):
        assert np.isnan(float(x))
    assert float(s.mean) == pytest.approx(0.2) and float(s.at_limit) == pytest.approx(0.4)
    np.testing.assert_allclose(np.asarray(s.quantiles), [-1, -1, 0, 2, 2, 2])
    assert float(negative_wealth_mass(a, p)) == pytest.approx(0.4)
    # round-off below zero is not a debtor, nor is wealth at zero
    s = an.wealth_stats(a, jnp.array([1e-17, 0.5, 0.5]))
    assert float(s.gini) == pytest.approx(0.5, abs=1e-12)

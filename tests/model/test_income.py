"""Income processes: Rouwenhorst, Tauchen, the paper's index walk, user chains (docs/theory.md §10)."""

import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm


def _moments(inc):
    """Stationary mean of income, s.d. and first-order autocorrelation of log income."""
    e, Pi, pi = (np.asarray(x) for x in (inc.e_grid, inc.Pi_e, inc.pi_e))
    y = np.log(e)
    m = pi @ y
    var = pi @ (y - m) ** 2
    cov = pi @ ((y - m) * (Pi @ (y - m)))
    return pi @ e, np.sqrt(var), cov / var


def _stationary(Pi):
    w, V = np.linalg.eig(np.asarray(Pi).T)
    v = np.real(V[:, np.argmin(np.abs(w - 1))])
    return v / v.sum()


@pytest.mark.parametrize("rho,sd,n", [(0.966, 0.5, 7), (0.6, 0.2, 3), (0.9, 0.3, 2), (-0.5, 0.4, 5)])
def test_rouwenhorst_exact_moments(rho, sd, n):
    inc = hm.rouwenhorst(rho, sd, n)
    Pi = np.asarray(inc.Pi_e)
    assert Pi.shape == (n, n)
    assert np.all(Pi >= 0)
    np.testing.assert_allclose(Pi.sum(1), 1.0, atol=1e-14)
    np.testing.assert_allclose(np.asarray(inc.pi_e), _stationary(Pi), atol=1e-12)
    np.testing.assert_allclose(np.asarray(inc.pi_e) @ Pi, np.asarray(inc.pi_e), atol=1e-14)
    mean_e, s, ac = _moments(inc)
    np.testing.assert_allclose(mean_e, 1.0, rtol=1e-13)
    np.testing.assert_allclose(s, sd, rtol=1e-12)
    np.testing.assert_allclose(ac, rho, rtol=1e-12, atol=1e-13)


def test_rouwenhorst_two_states_matrix():
    inc = hm.rouwenhorst(0.8, 0.3, 2)
    p = 0.9
    np.testing.assert_allclose(np.asarray(inc.Pi_e), [[p, 1 - p], [1 - p, p]], atol=1e-15)


def test_tauchen_approximate_moments():
    inc = hm.tauchen(0.6, 0.2, 9)
    Pi = np.asarray(inc.Pi_e)
    assert np.all(Pi >= 0)
    np.testing.assert_allclose(Pi.sum(1), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.asarray(inc.pi_e), _stationary(Pi), atol=1e-10)
    mean_e, s, ac = _moments(inc)
    np.testing.assert_allclose(mean_e, 1.0, rtol=1e-12)
    assert abs(ac - 0.6) < 0.03
    assert abs(s - 0.2) / 0.2 < 0.1


def test_index_walk_is_the_papers_chain():
    levels = np.geomspace(0.35, 2.25, 5) - 0.25
    inc = hm.index_walk(levels, 0.1, 0.1)
    ref = np.array([
        [0.9, 0.1, 0.0, 0.0, 0.0],
        [0.1, 0.8, 0.1, 0.0, 0.0],
        [0.0, 0.1, 0.8, 0.1, 0.0],
        [0.0, 0.0, 0.1, 0.8, 0.1],
        [0.0, 0.0, 0.0, 0.1, 0.9],
    ])
    np.testing.assert_allclose(np.asarray(inc.Pi_e), ref, rtol=0, atol=1e-15)
    np.testing.assert_allclose(np.asarray(inc.e_grid), levels, rtol=1e-15)  # not normalised
    np.testing.assert_allclose(np.asarray(inc.pi_e), np.full(5, 0.2), atol=1e-13)


def test_index_walk_asymmetric():
    inc = hm.index_walk(np.array([1.0, 2.0, 3.0]), p_down=0.2, p_up=0.05)
    ref = np.array([[0.95, 0.05, 0.0], [0.2, 0.75, 0.05], [0.0, 0.2, 0.8]])
    np.testing.assert_allclose(np.asarray(inc.Pi_e), ref, atol=1e-15)


def test_markov_chain_user_given_and_normalised():
    Pi = np.array([[0.7, 0.3], [0.4, 0.6]])
    inc = hm.markov_chain(np.array([0.5, 2.0]), Pi, normalise=True)
    pi = np.array([4 / 7, 3 / 7])
    np.testing.assert_allclose(np.asarray(inc.pi_e), pi, atol=1e-14)
    np.testing.assert_allclose(pi @ np.asarray(inc.e_grid), 1.0, atol=1e-14)


def test_stationary_distribution():
    rng = np.random.default_rng(0)
    Pi = rng.dirichlet(np.ones(4), size=4)
    np.testing.assert_allclose(np.asarray(hm.stationary_distribution(jnp.asarray(Pi))), _stationary(Pi),
                               atol=1e-12)


# ---- errors ---------------------------------------------------------------------------------

def test_markov_rows_must_sum_to_one():
    with pytest.raises(ValueError, match="Pi_e rows must sum to 1"):
        hm.markov_chain(np.array([1.0, 2.0]), np.array([[0.5, 0.4], [0.5, 0.5]]))


def test_markov_entries_non_negative():
    with pytest.raises(ValueError, match="Pi_e must have non-negative entries"):
        hm.markov_chain(np.array([1.0, 2.0]), np.array([[1.2, -0.2], [0.5, 0.5]]))


def test_markov_must_be_square_and_match_levels():
    with pytest.raises(ValueError, match="Pi_e must be a square"):
        hm.markov_chain(np.array([1.0, 2.0]), np.array([[1.0, 0.0]]))
    with pytest.raises(ValueError, match="Pi_e must have shape"):
        hm.markov_chain(np.array([1.0, 2.0, 3.0]), np.array([[1.0, 0.0], [0.0, 1.0]]))


@pytest.mark.parametrize("fn", [hm.rouwenhorst, hm.tauchen])
def test_income_rho_and_sd_checked(fn):
    with pytest.raises(ValueError, match=r"\.rho must satisfy \|value\| < 1"):
        fn(1.0, 0.5, 3)
    with pytest.raises(ValueError, match=r"\.rho"):
        fn(-1.2, 0.5, 3)
    with pytest.raises(ValueError, match=r"\.sd must be non-negative"):
        fn(0.5, -0.1, 3)
    with pytest.raises(ValueError, match=r"\.n must be an integer >= 2"):
        fn(0.5, 0.1, 1)


def test_index_walk_probabilities_checked():
    with pytest.raises(ValueError, match="p_down"):
        hm.index_walk(np.array([1.0, 2.0]), p_down=-0.1)
    with pytest.raises(ValueError, match="p_down \\+ p_up"):
        hm.index_walk(np.array([1.0, 2.0]), p_down=0.6, p_up=0.6)

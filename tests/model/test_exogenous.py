"""Exogenous processes: chains against their declared tables, good and bad times with
unemployment risk that moves with them against dense matrices, quadrature, news timing."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm

# den Haan, Judd and Juillard (2010), the Krusell–Smith comparison model: (z, eps) joint
# transition, order (bad, unemployed), (bad, employed), (good, unemployed), (good, employed).
DJJ = np.array([
    [0.525, 0.35, 0.03125, 0.09375],
    [0.038889, 0.836111, 0.002083, 0.122917],
    [0.09375, 0.03125, 0.291667, 0.583333],
    [0.009115, 0.115885, 0.024306, 0.850694],
])


def _djj_chain():
    # the published table is rounded to 6 digits: its rows sum to 1 within 1e-6 and the
    # aggregate transition is the same for both employment states within that rounding
    P = DJJ / DJJ.sum(axis=1, keepdims=True)
    return hm.AggregateIdiosyncraticChain.from_joint("z", [0.99, 1.01], [0.0, 1.0], P, tol=2e-6)


def _dense(a_next, grid, Pi_e):
    """The dense transition ``M[(a, e), (a', e')] = L(a' | a'(a, e)) Pi_e[e, e']`` by loops."""
    n_a, n_e = a_next.shape
    M = np.zeros((n_a * n_e, n_a * n_e))
    for i in range(n_a):
        for e in range(n_e):
            x = min(max(a_next[i, e], grid[0]), grid[-1])
            j = min(np.searchsorted(grid, x, side="right") - 1, n_a - 2)
            w = (grid[j + 1] - x) / (grid[j + 1] - grid[j])
            for f in range(n_e):
                M[i * n_e + e, j * n_e + f] += w * Pi_e[e, f]
                M[i * n_e + e, (j + 1) * n_e + f] += (1 - w) * Pi_e[e, f]
    return M


def test_joint_chain_reproduces_the_declared_table_and_its_aggregate_part():
    ch = _djj_chain()
    np.testing.assert_allclose(ch.joint(), DJJ, atol=2e-6)
    np.testing.assert_allclose(ch.aggregate.Pi, [[0.875, 0.125], [0.125, 0.875]], atol=1e-6)
    np.testing.assert_allclose(ch.aggregate.mean_duration(), [8.0, 8.0], rtol=1e-5)
    # unemployment: 10% in bad times, 4% in good, kept exactly by every z -> z'
    np.testing.assert_allclose(ch.conditional_shares()[:, 0], [0.10, 0.04], atol=1e-5)
    assert float(ch.share_consistency()) < 1e-5
    # spells of unemployment last 2.5 quarters in bad times and 1.5 in good
    stay = np.array([ch.Pi_e[0, 0, 0, 0], ch.Pi_e[1, 1, 0, 0]])
    np.testing.assert_allclose(1.0 / (1.0 - stay), [2.5, 1.5], rtol=1e-4)


@pytest.mark.parametrize("z, z_next", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_push_forward_and_adjoint_equal_dense_matrices_of_the_declared_chain(z, z_next):
    with jax.enable_x64(True):
        ch = _djj_chain()
        grid = np.array([0.0, 0.3, 1.0, 2.2, 4.0, 7.5, 12.0])
        rng = np.random.default_rng(z * 2 + z_next)
        a_next = rng.uniform(-0.5, 13.0, (7, 2))            # includes points off both ends
        mu = rng.dirichlet(np.ones(14)).reshape(7, 2)
        v = rng.normal(size=(7, 2))
        # the dense matrix from the declared 4 x 4 table: P[(z,e),(z',e')] / P_z[z, z']
        block = DJJ.reshape(2, 2, 2, 2)[z, :, z_next, :]
        M = _dense(a_next, grid, block / block.sum(axis=1, keepdims=True))
        lot = hm.lottery_weights(jnp.asarray(a_next), jnp.asarray(grid))
        Pi = ch.idiosyncratic(z, z_next)
        pushed = hm.operators.push_forward(jnp.asarray(mu), lot, Pi)
        np.testing.assert_allclose(pushed.reshape(-1), mu.reshape(-1) @ M, atol=2e-6)
        expected = hm.operators.expect(jnp.asarray(v), lot, Pi)
        np.testing.assert_allclose(expected.reshape(-1), M @ v.reshape(-1), atol=2e-6)
        # the adjoint identity holds to rounding for the chain's own matrices
        assert float(jnp.sum(v * pushed)) == pytest.approx(float(jnp.sum(expected * mu)), abs=1e-14)
        assert float(pushed.sum()) == pytest.approx(1.0, abs=1e-14)


def test_push_forward_moves_unemployment_with_the_aggregate_state():
    """A distribution with the bad-times unemployment rate moves to the good-times rate when
    times turn good, whatever the wealth policy."""
    with jax.enable_x64(True):
        ch = _djj_chain()
        grid = jnp.linspace(0.0, 10.0, 9)
        s = ch.conditional_shares()
        mu = jnp.outer(jnp.full(9, 1 / 9), s[0])
        lot = hm.lottery_weights(jnp.full((9, 2), 3.3), grid)
        out = hm.operators.push_forward(mu, lot, ch.idiosyncratic(0, 1))
        # exact up to the 6-digit rounding of the published table
        assert float(out[:, 0].sum()) == pytest.approx(float(s[1, 0]), abs=5e-6)


def test_markov_chain_sampling_matches_its_stationary_distribution_and_durations():
    chain = hm.MarkovChain("z", jnp.array([0.99, 1.01]), jnp.array([[0.875, 0.125], [0.125, 0.875]]))
    draws = chain.sample(key=jax.random.key(0), n_paths=8, T=4000)
    path = np.asarray(chain.simulate(draws))
    assert abs(path.mean() - 0.5) < 0.03
    switches = np.sum(path[:, 1:] != path[:, :-1])
    assert 1 / (switches / path[:, 1:].size) == pytest.approx(8.0, rel=0.06)
    # the exact expectation
    f = lambda j: chain.values[j] ** 2  # noqa: E731
    assert float(chain.expectation(f, 0)) == pytest.approx(0.875 * 0.99**2 + 0.125 * 1.01**2)


def test_ar1_quadrature_is_exact_for_low_order_polynomials():
    with jax.enable_x64(True):
        s = hm.AR1("z", jnp.asarray(0.9), jnp.asarray(0.02))
        x = jnp.asarray(0.05)
        assert float(s.expectation(lambda y: y, x)) == pytest.approx(0.045, abs=1e-15)
        assert float(s.expectation(lambda y: y**2, x)) == pytest.approx(0.045**2 + 0.02**2, rel=1e-13)
        assert float(s.expectation(lambda y: y**4, x)) == pytest.approx(
            0.045**4 + 6 * 0.045**2 * 0.02**2 + 3 * 0.02**4, rel=1e-12)
        assert hm.Shock is hm.AR1


def test_news_hits_when_announced_and_keeps_the_innovation_variance():
    with jax.enable_x64(True):
        news = hm.News(hm.AR1("rstar", jnp.asarray(0.6), jnp.asarray(0.003)), horizon=4)
        state = news.initial_state()
        xs = []
        for t in range(8):
            draw = jnp.zeros(5).at[3].set(1.0) if t == 0 else jnp.zeros(5)   # announced for date 3
            state = news.step(state, draw)
            xs.append(float(state[0]))
        part = 0.003 / np.sqrt(5.0)
        expected = [0, 0, 0, part, part * 0.6, part * 0.36, part * 0.216, part * 0.1296]
        np.testing.assert_allclose(xs, expected, atol=1e-16)
        assert float(news.part**2 * 5) == pytest.approx(0.003**2)
        # the announced part is known: E[x' | state] is it plus rho x
        state = (jnp.asarray(0.01), jnp.asarray([0.002, 0.0, 0.0, 0.0]))
        assert float(news.expectation(lambda y: y, state)) == pytest.approx(0.6 * 0.01 + 0.002)


def test_bad_chains_are_refused_naming_the_field():
    with pytest.raises(ValueError, match="Pi rows must sum to 1"):
        hm.MarkovChain("z", jnp.array([0.0, 1.0]), jnp.array([[0.9, 0.2], [0.1, 0.9]]))
    with pytest.raises(ValueError, match="values"):
        hm.MarkovChain("z", jnp.array([0.0, 1.0, 2.0]), jnp.eye(2))
    P = np.array(DJJ)
    P[0] = [0.5, 0.4, 0.05, 0.05]   # the aggregate move would depend on employment
    with pytest.raises(ValueError, match="same for every e"):
        hm.AggregateIdiosyncraticChain.from_joint("z", [0.99, 1.01], [0.0, 1.0], P, tol=2e-6)


def test_a_chain_built_in_float32_is_checked_to_float32_precision():
    """Without x64 a derived chain sums to one only to about 1e-7: that is accepted (the model
    can be built), while a row that is off by more than rounding is still refused."""
    from models.krusell_smith_unemployment import KrusellSmithUnemployment

    with jax.enable_x64(False):
        P = KrusellSmithUnemployment().chain.Pi_e
        assert P.dtype == jnp.float32
        with pytest.raises(ValueError, match="Pi rows must sum to 1"):
            hm.MarkovChain("z", jnp.array([0.0, 1.0]),
                           jnp.array([[0.9, 0.1001], [0.1, 0.9]], jnp.float32))

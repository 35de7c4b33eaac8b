"""Finite-state games: operators against dense matrices built from the games' rules, the
exploitability of fixed policies against values derived by hand, and the games' invariants."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from models.beach_bar import BeachBar
from models.linear_quadratic import LinearQuadratic


def _lq_dense(game: LinearQuadratic, P, z, t):
    """``M[s, s']`` of the linear-quadratic game written from its rules, entry by entry."""
    n, J = game.n_states, game.idio_atoms
    w = np.exp(-0.5 * np.arange(-J, J + 1) ** 2)
    w /= w.sum()
    eps = -game.shift * z if t < game.early else (game.shift * z if t > game.late else 0.0)
    scale = float(game.sigma) * np.sqrt(1 - float(game.rho) ** 2)
    M = np.zeros((n, n))
    for s, (k, a) in itertools.product(range(n), enumerate(range(-game.max_step, game.max_step + 1))):
        det = int(min(max(s + a + float(game.sigma) * float(game.rho) * eps, 0), n - 1))
        for j, xi in enumerate(range(-J, J + 1)):
            M[s, min(max(int(np.round(det + scale * xi)), 0), n - 1)] += P[s, k] * w[j]
    return M


def _bar_dense(game: BeachBar, P, bar):
    """``M[s, s']`` of the beach bar from its rules: walk, stop short of the bar, slip, stop short."""
    n = game.n_states
    slips = {-2: 0.05, -1: 0.1, 0: 0.7, 1: 0.1, 2: 0.05}

    def legal(s, x):
        if s < bar <= x:
            return bar - 1
        if s > bar >= x:
            return bar + 1
        return x

    M = np.zeros((n, n))
    for s, (k, a) in itertools.product(range(n), enumerate(range(-game.max_step, game.max_step + 1))):
        det = legal(s, min(max(s + a, 0), n - 1))
        for d, p in slips.items():
            M[s, legal(s, min(max(det + d, 0), n - 1))] += P[s, k] * p
    return M


def _random_policy(key, n_s, n_a):
    return np.asarray(jax.nn.softmax(jax.random.normal(key, (n_s, n_a)) * 2.0, axis=-1))


@pytest.mark.parametrize("z,t", [(1.0, 3), (-1.0, 3), (1.0, 25), (-1.0, 12)])
def test_linear_quadratic_operators_match_the_dense_matrix(z, t):
    game = LinearQuadratic(n_states=21, max_step=2, idio_atoms=2, horizon=30)
    mf = hm.compile_model(game)
    P = _random_policy(jax.random.key(0), game.n_states, game.n_actions)
    mu = np.asarray(jax.random.dirichlet(jax.random.key(1), jnp.ones(game.n_states)))
    v = np.asarray(jax.random.normal(jax.random.key(2), (game.n_states,)))
    agg = mf.aggregate_state(jnp.asarray(mu), jnp.array([t, z]))
    M = _lq_dense(game, P, z, t)
    np.testing.assert_allclose(mf.push_forward(jnp.asarray(mu), jnp.asarray(P), agg), mu @ M, atol=1e-14)
    np.testing.assert_allclose(mf.expect(jnp.asarray(v), jnp.asarray(P), agg), M @ v, atol=1e-13)
    np.testing.assert_allclose(M.sum(axis=1), 1.0, atol=1e-14)  # the rules' matrix is stochastic


@pytest.mark.parametrize("bar", [25, 40, 75])
def test_beach_bar_operators_match_the_dense_matrix_and_keep_the_bar_empty(bar):
    game = BeachBar()
    mf = hm.compile_model(game)
    P = _random_policy(jax.random.key(3), game.n_states, game.n_actions)
    z0 = jnp.array([0.0, 1.0, bar])
    mu0 = mf.initial_distribution(z0)
    assert float(mu0[bar]) == 0.0 and float(jnp.sum(mu0)) == pytest.approx(1.0, abs=1e-14)
    agg = mf.aggregate_state(mu0, z0)
    M = _bar_dense(game, P, bar)
    mu1 = mf.push_forward(mu0, jnp.asarray(P), agg)
    np.testing.assert_allclose(mu1, np.asarray(mu0) @ M, atol=1e-14)
    assert float(mu1[bar]) == 0.0  # nobody stands on the bar
    v = np.asarray(jax.random.normal(jax.random.key(4), (game.n_states,)))
    np.testing.assert_allclose(mf.expect(jnp.asarray(v), jnp.asarray(P), agg), M @ v, atol=1e-13)


def test_exploitability_of_standing_still_in_a_tiny_linear_quadratic_game_by_hand():
    """Five states, moves -1/0/1, no noise, two dates; everyone stands still.

    The population stays uniform on 0..4 with mean m = 2. Standing still earns
    ``-kappa/2 (2 - s)^2`` at date 0 and ``-c_term/2 (2 - s)^2`` at the last date; with
    ``E(2 - s)^2 = 2`` the policy's return is ``-kappa - beta c_term``. The best response moves
    one step towards the mean from s = 0, 1, 3, 4: from s = 0,
    ``-c_a + q * 2 - kappa/2 * 4 + beta (-c_term/2 * 1)``, from s = 1,
    ``-c_a + q - kappa/2 + 0``; s = 2 stays (0).
    """
    kappa, c_a, q, c_term, beta = 0.5, 0.5, 0.1, 1.0, 0.99
    game = LinearQuadratic(n_states=5, max_step=1, idio_atoms=0, horizon=2, common_noise=False,
                           kappa=kappa, c_action=c_a, q=q, c_term=c_term, beta=beta)
    P = np.zeros((5, 3))
    P[:, 1] = 1.0  # a = 0
    res = hm.exploitability(game, jnp.asarray(P), key=jax.random.key(0), n_paths=2)
    policy_return = -kappa - beta * c_term
    edge = max(-c_a + q * 2 - kappa / 2 * 4 - beta * c_term / 2, -kappa / 2 * 4 - beta * c_term / 2 * 4)
    inner = max(-c_a + q - kappa / 2, -kappa / 2 - beta * c_term / 2)
    best = (2 * edge + 2 * inner + 0.0) / 5
    assert res.policy_return == pytest.approx(policy_return, abs=1e-12)
    assert res.best_response_return == pytest.approx(best, abs=1e-12)
    assert res.exploitability == pytest.approx(best - policy_return, abs=1e-12)


def test_common_noise_of_the_games():
    """The linear-quadratic sign is +-1, fair, fixed along a path; the bar closes only at the
    middle date, for about half the paths, and its position is uniform on 25..75."""
    lq, bar = LinearQuadratic(), BeachBar()
    e = lq.sample_noise(jax.random.key(0), 4000, 30)
    sign = np.asarray(e[:, 0, 0])
    assert set(np.unique(sign)) == {-1.0, 1.0} and abs(sign.mean()) < 0.05
    mf = hm.compile_model(bar)
    eps = mf.sample_noise(key=jax.random.key(1), n_paths=4000)
    z = mf.initial_z(eps[0])
    assert np.asarray(z).tolist()[:2] == [0.0, 1.0]
    positions = np.asarray(eps[:, 0, 0])
    assert positions.min() == 25 and positions.max() == 75

    @jax.jit
    @jax.vmap
    def is_open(e):
        def body(z, xs):
            t, et = xs
            return mf.next_z(z, et, t), z[1]

        return jax.lax.scan(body, mf.initial_z(e), (jnp.arange(bar.horizon), e))[1]

    opened = np.asarray(is_open(eps))
    assert np.all(opened[:, :15] == 1.0)
    assert np.all(opened[:, 15:] == opened[:, 15:16])  # closed for good, or open throughout
    assert 0.35 < 1 - opened[:, -1].mean() < 0.65


def test_games_reject_bad_fields_by_name():
    with pytest.raises(ValueError, match=r"LinearQuadratic.beta must lie in \(0, 1\)"):
        LinearQuadratic(beta=1.5)
    with pytest.raises(ValueError, match=r"BeachBar.close_probability must lie in \[0, 1\]"):
        BeachBar(close_probability=2.0)
    with pytest.raises(ValueError, match="LinearQuadratic.max_step must be"):
        LinearQuadratic(max_step=0)

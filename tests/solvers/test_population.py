"""Sampled populations: the empirical distribution's gap to the exact mean field shrinks like
``1 / sqrt(N)``; agents follow the policy's table and the model's transition."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg.solvers.population import simulate_population
from hank_mfg.solvers.rollout import rollout
from models.beach_bar import BeachBar
from models.krusell_smith import KrusellSmith
from models.linear_quadratic import LinearQuadratic


def _gap(mf, policy, eps, n_agents, n_keys=16):
    """RMS over keys and dates of the L1 distance between the sampled and exact distributions."""
    exact = rollout(mf, policy, eps).mu

    @jax.jit
    def one(key):
        pop = simulate_population(mf, policy, eps, key=key, n_agents=n_agents)
        return jnp.sum(jnp.abs(pop.mu - exact), axis=-1)

    d = jax.vmap(one)(jax.random.split(jax.random.key(n_agents), n_keys))
    return float(jnp.sqrt(jnp.mean(d**2)))


@pytest.mark.parametrize("make", [
    pytest.param(lambda: LinearQuadratic(n_states=31, horizon=8), id="linear_quadratic",
                 marks=pytest.mark.slow),
    pytest.param(lambda: BeachBar(n_states=41, horizon=8), id="beach_bar", marks=pytest.mark.slow)])
def test_sampled_distribution_gap_shrinks_like_one_over_sqrt_n(make):
    """Quadrupling the population halves the gap; 16x divides it by 4 (within 20%)."""
    game = make()
    mf = hm.compile_model(game)
    P = jax.nn.softmax(jax.random.normal(jax.random.key(0), (mf.n_states, mf.n_actions)), axis=-1)
    policy = hm.TablePolicy(P)
    eps = mf.sample_noise(key=jax.random.key(1), n_paths=1)[0]
    gaps = {n: _gap(mf, policy, eps, n) for n in (1000, 4000, 16000)}
    assert gaps[1000] / gaps[4000] == pytest.approx(2.0, rel=0.2)
    assert gaps[1000] / gaps[16000] == pytest.approx(4.0, rel=0.2)


def test_sampled_agents_follow_the_policy_and_the_transition():
    """With one action per state and a deterministic transition (no slip, no common noise) the
    agents' next states are exactly the rules' next states, and their actions the table's."""
    game = LinearQuadratic(n_states=15, max_step=2, idio_atoms=0, horizon=5, common_noise=False)
    mf = hm.compile_model(game)
    k = np.arange(game.n_states) % game.n_actions
    P = jnp.asarray(np.eye(game.n_actions)[k])
    pop = simulate_population(mf, hm.TablePolicy(P), mf.sample_noise(key=jax.random.key(0),
                              n_paths=1)[0], key=jax.random.key(1), n_agents=500)
    s, a, s1 = (np.asarray(x) for x in (pop.states, pop.actions, pop.next_states))
    assert np.array_equal(a, k[s])
    move = a - game.max_step
    assert np.array_equal(s1, np.clip(s + move, 0, game.n_states - 1))
    assert np.array_equal(s[1:], s1[:-1])
    np.testing.assert_allclose(np.asarray(pop.mu).sum(axis=-1), 1.0)


@pytest.mark.slow
def test_an_economy_is_sampled_through_the_same_interface():
    """Krusell–Smith agents: the lottery and the income chain as sampled outcomes; the sampled
    mean wealth tracks the exact one within a few standard errors."""
    mf = hm.compile_model(KrusellSmith(n_wealth=20, n_income=3, horizon=6, n_actions=5))
    P = jnp.full((mf.n_states, mf.n_actions), 1.0 / mf.n_actions)
    policy = hm.TablePolicy(P)
    eps = mf.sample_noise(key=jax.random.key(2), n_paths=1)[0]
    out = mf.outcomes(mf.aggregate_state(mf.initial_distribution(), 0.0))
    np.testing.assert_allclose(np.asarray(out.prob).sum(axis=-1), 1.0, atol=1e-12)
    exact = rollout(mf, policy, eps)
    pop = simulate_population(mf, policy, eps, key=jax.random.key(3), n_agents=40000)
    K_exact, K_sampled = np.asarray(exact.agg.K), np.asarray(pop.agg.K)
    sd = float(jnp.sqrt(exact.mu[-1] @ mf.a_s**2 - exact.agg.K[-1] ** 2)) / np.sqrt(40000)
    assert np.max(np.abs(K_sampled - K_exact)) < 5 * sd * 2

"""A finite population of simulated agents in place of the exact mean field (docs/games.md §4).

``N`` agents, each in one individual state, draw their actions from the policy's table and their
next states from the model's transition (:meth:`outcomes`: next-state indices and
probabilities, for an economy as for a game). The empirical distribution of their states
replaces the exact push-forward: prices, observations and rewards are computed from it. This is
the environment of model-free learners (the RL baselines learn from the agents' sampled
states, actions and rewards, never from the transition), and a measure of what the exact mean
field buys: the empirical distribution's error shrinks like ``1 / sqrt(N)``.
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray

from ..operators.compile import AnyMeanField
from ..operators.game import GameAggregate
from ..operators.meanfield import AggregateState
from ..policies.networks import AbstractPolicy
from .markets import DistributionPrices
from .rollout import AbstractChoiceRule, mean_field_scan, reward_table

__all__ = ["Population", "SampledAgents", "empirical_distribution", "sample_agents",
           "simulate_population"]


class Population(eqx.Module):
    """A simulated population along one path (leading axis ``T``; batched adds ``B``).

    Attributes:
        states, actions: every agent's state and action at each date ``(T, N)``.
        rewards: every agent's reward ``(T, N)``.
        next_states: states at ``t + 1`` ``(T, N)``.
        mu: the empirical distribution at each date ``(T, n_s)``.
        obs: the public observation ``(T, n_obs)``. agg: the aggregate state.
        log_prob: log-probability of each agent's action under the policy ``(T, N)``.
    """

    states: Int[Array, "T N"]
    actions: Int[Array, "T N"]
    rewards: Float[Array, "T N"]
    next_states: Int[Array, "T N"]
    mu: Float[Array, "T n_s"]
    obs: Float[Array, "T n_obs"]
    agg: AggregateState | GameAggregate
    log_prob: Float[Array, "T N"]


def empirical_distribution(states: Int[Array, " N"], n_states: int, dtype=float):
    """The share of agents in each state."""
    counts = jnp.zeros(n_states, dtype).at[states].add(1.0)
    return counts / states.shape[0]


def sample_agents(key: PRNGKeyArray, mu: Float[Array, " n_s"], n_agents: int) -> Int[Array, " N"]:
    """``n_agents`` independent draws of a state from ``mu``."""
    return jax.random.categorical(key, jnp.log(mu), shape=(n_agents,)).astype(jnp.int32)


def _step_agents(key, states, P, out):
    """Actions from the policy's rows, next states from the transition's outcomes."""
    k_a, k_s = jax.random.split(key)
    logp = jnp.log(P[states])
    actions = jax.random.categorical(k_a, logp).astype(jnp.int32)
    j = jax.random.categorical(k_s, jnp.log(out.prob[states, actions]))
    nxt = out.idx[states, actions, j].astype(jnp.int32)
    return actions, nxt, jnp.take_along_axis(logp, actions[:, None], axis=-1)[:, 0]


class SampledAgents(AbstractChoiceRule):
    """``N`` agents in place of the distribution (:func:`simulate_population`): the policy's
    table, from which every agent draws its action and then its next state from the
    transition's outcomes (``keys``: one key a date); the distribution the rollout carries is
    the agents' empirical one, and the policy's history state carries the agents' states."""

    policy: AbstractPolicy
    cache: Any
    keys: Array
    states0: Int[Array, " N"]

    def init_carry(self):
        return self.policy.init_carry(), self.states0

    def actor(self, problem, h, z, t):
        carry, states = h

        def act(agg, factor, obs):
            carry_new, P = self.policy.step(carry, obs, t, self.cache)
            out = problem.outcomes(agg, problem.lottery(agg))
            actions, nxt, logp = _step_agents(self.keys[t], states, jax.lax.stop_gradient(P),
                                              out)
            return (carry_new, nxt), states, actions, nxt, logp
        return act

    def push(self, problem, mu, choices, prices):
        return empirical_distribution(choices[2], problem.n_states, problem.dtype)

    def record(self, problem, date, mu_next, z_next):
        states, actions, nxt, logp = date.choices
        r = reward_table(problem, date, mu_next, z_next)[states, actions]
        return states, actions, r, nxt, date.mu, date.obs, date.prices, logp


def simulate_population(mf: AnyMeanField, policy: AbstractPolicy, eps, *, key: PRNGKeyArray,
                        n_agents: int, z0=0.0) -> Population:
    """Simulate ``n_agents`` agents along one common-noise path ``eps`` under ``policy``: the
    one rollout (:func:`~.rollout.mean_field_scan`) with :class:`SampledAgents` in place of
    the distribution.

    The agents start as independent draws from ``mu_0``. At each date the aggregate state is
    computed from their empirical distribution, the policy sees the public observation, every
    agent samples its action and its next state, and gets ``R_t[s_i, a_i]``. Pure JAX (a
    ``lax.scan``); vmap it over paths and keys.
    """
    z = mf.initial_z(eps, z0)
    mu0 = mf.initial_distribution(z)
    k0, key = jax.random.split(key)
    states0 = sample_agents(k0, mu0, n_agents)
    rule = SampledAgents(policy=policy, cache=policy.prepare(),
                         keys=jax.random.split(key, eps.shape[0]), states0=states0)
    market = DistributionPrices()
    start = (empirical_distribution(states0, mf.n_states, mf.dtype), z, rule.init_carry(),
             market.initial_carry(mf, policy))
    _, (s, a, r, s1, mu, obs, agg, logp) = mean_field_scan(mf, market, rule, eps, start)
    return Population(states=s, actions=a, rewards=r, next_states=s1, mu=mu, obs=obs, agg=agg,
                      log_prob=logp)

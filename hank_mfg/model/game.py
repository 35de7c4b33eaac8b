"""Finite-state mean-field games with common noise (docs/games.md).

The economic models are one family of a wider class: a continuum of agents, each in one of
``n_states`` individual states, choosing one of ``n_actions`` actions; an aggregate state made
of the distribution ``mu_t`` and an exogenous state ``x_t`` driven by common noise; a reward
``R_t(s, a)`` that depends on the aggregate state; a transition given for every state-action
pair as a few next-state indices with their probabilities; and one public observation shared by
every agent. :class:`AbstractFiniteMFG` is that interface. A game declares it;
:func:`hank_mfg.compile_model` turns it into exact mean-field operators that the solvers
(RSPG, SPG, exploitability, the sampled population and the RL baselines) use exactly as they use
an economy's.
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray

from ._checks import check_int_at_least, check_open_unit, fail

__all__ = ["AbstractFiniteMFG", "AbstractLineMFG"]


class AbstractFiniteMFG(eqx.Module):
    """Interface of a finite-state mean-field game with common noise.

    Concrete games declare ``beta`` (discount factor), static ``horizon``, ``n_states`` and
    ``common_noise``, and implement ``n_actions`` and the methods below. All methods are pure
    JAX functions of arrays (jit-able, vmappable over noise paths). The date ``t`` is passed
    explicitly; ``x`` is the game's exogenous aggregate state (a 1-d array, the same shape at
    every date), driven by the noise ``e_t`` that :meth:`sample_noise` draws for a whole path.
    """

    beta: eqx.AbstractVar[Float[Array, ""]]
    horizon: eqx.AbstractVar[int]
    n_states: eqx.AbstractVar[int]
    common_noise: eqx.AbstractVar[bool]

    @property
    @abc.abstractmethod
    def n_actions(self) -> int:
        """The number of actions."""

    # ---- exogenous aggregate state -------------------------------------------------------------
    @abc.abstractmethod
    def sample_noise(self, key: PRNGKeyArray, n_paths: int, T: int) -> Float[Array, "B T d"]:
        """The common noise of ``n_paths`` paths of ``T`` dates (its meaning is the game's)."""

    @abc.abstractmethod
    def initial_exogenous(self, e0: Float[Array, " d"]) -> Float[Array, " n_x"]:
        """The exogenous state ``x_0`` from the noise of date 0."""

    @abc.abstractmethod
    def next_exogenous(self, x: Float[Array, " n_x"], e: Float[Array, " d"], t) -> Float[Array, " n_x"]:
        """``x_{t+1}`` from ``x_t`` and the noise ``e_t`` of date ``t``."""

    @abc.abstractmethod
    def reference_noise(self) -> Float[Array, " d"]:
        """A typical date-0 noise (for the policy's observation normalisation)."""

    # ---- the agents ----------------------------------------------------------------------------
    @abc.abstractmethod
    def initial_distribution(self, x0: Float[Array, " n_x"]) -> Float[Array, " n_s"]:
        """``mu_0`` given the initial exogenous state."""

    @abc.abstractmethod
    def transition(self, mu, x, t) -> tuple[Int[Array, "n_s n_a J"], Float[Array, "n_s n_a J"]]:
        """Next-state indices and their probabilities for every state-action pair at date ``t``
        (probabilities sum to one over the last axis)."""

    @abc.abstractmethod
    def reward(self, mu, x, t, mu_next, x_next) -> Float[Array, "n_s n_a"]:
        """``R_t(s, a)``; it may look at the next date's aggregate state ``(mu_{t+1}, x_{t+1})``
        (both fixed for an agent that takes the population as given)."""

    @abc.abstractmethod
    def observation(self, mu, x, t) -> Float[Array, " n_obs"]:
        """The public observation shared by every agent."""

    @abc.abstractmethod
    def state_features(self) -> Float[Array, "n_s d"]:
        """The individual state as network inputs (scaled to about ``[-1, 1]``)."""

    def __check_init__(self):
        owner = type(self).__name__
        check_open_unit(owner, "beta", self.beta)
        check_int_at_least(owner, "horizon", self.horizon, 1)
        check_int_at_least(owner, "n_states", self.n_states, 2)
        check_int_at_least(owner, "n_actions", self.n_actions, 2)
        if not isinstance(self.common_noise, bool):
            fail(owner, "common_noise", "be True or False", self.common_noise)


class AbstractLineMFG(AbstractFiniteMFG):
    """A game on the integer line ``0, ..., n_states - 1`` whose actions are the moves
    ``-max_step, ..., max_step`` (the linear-quadratic game and the beach bar); the state enters
    the networks as its position scaled to ``[-1, 1]``."""

    max_step: eqx.AbstractVar[int]

    @property
    def n_actions(self) -> int:
        return 2 * self.max_step + 1

    @property
    def actions(self) -> Float[Array, " n_a"]:
        return jnp.arange(-self.max_step, self.max_step + 1, dtype=float)

    @property
    def states(self) -> Float[Array, " n_s"]:
        return jnp.arange(self.n_states, dtype=float)

    def state_features(self) -> Float[Array, "n_s 1"]:
        return (2.0 * self.states / (self.n_states - 1) - 1.0)[:, None]

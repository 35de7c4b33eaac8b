"""Exact mean-field operators of a finite-state game (docs/games.md).

:class:`GameMeanField` gives a declared :class:`~hank_mfg.model.game.AbstractFiniteMFG` the
methods the solvers call on an economy's :class:`~hank_mfg.operators.MeanField` (aggregate state,
observation, transition, rewards, push-forward and its adjoint), so that rollouts, RSPG/SPG,
exploitability and the sampled population run unchanged on either. The push-forward is one
scatter of ``n_s n_a J`` weights onto the next-state indices; its adjoint is the matching gather.
No ``n_s x n_s`` matrix is built.

The exogenous state that rollouts carry (``z``) is ``[t, x_t]``: the date first, then the game's
exogenous state, so that the game's dynamics, transition and rewards may depend on the date.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from ..model.game import AbstractFiniteMFG
from .core import AbstractMeanField, Outcomes, check_policy_table

__all__ = ["GameAggregate", "GameMeanField", "compile_game"]


class GameAggregate(eqx.Module):
    """The aggregate state of a game at one date: distribution, exogenous state and date."""

    mu: Float[Array, "... n_s"]
    x: Float[Array, "... n_x"]
    t: Array


class GameMeanField(AbstractMeanField):
    """Exact mean-field operators of a finite-state game (built by :func:`hank_mfg.compile_model`).

    Attributes:
        model: the declared game. dtype: the floating type of distributions and values.
    """

    model: AbstractFiniteMFG
    dtype: jnp.dtype = eqx.field(static=True)
    #: Rewards look at the next date's aggregate state (see ``AbstractFiniteMFG.reward``).
    needs_next: bool = eqx.field(static=True, default=True)

    @property
    def n_states(self) -> int:
        return self.model.n_states

    @property
    def n_actions(self) -> int:
        return self.model.n_actions

    @property
    def horizon(self) -> int:
        return self.model.horizon

    # ---- exogenous state and noise ---------------------------------------------------------------
    def sample_noise(self, *, key: PRNGKeyArray, n_paths: int, T: int | None = None):
        """The game's common noise for ``n_paths`` paths, ``(B, T, d)``."""
        T = self.horizon if T is None else T
        return jnp.asarray(self.model.sample_noise(key, n_paths, T), self.dtype)

    def initial_z(self, eps, z0=None):
        """``[0, x_0]`` from the path's noise (``z0``, an economy's initial TFP, is unused)."""
        x0 = jnp.asarray(self.model.initial_exogenous(eps[0]), self.dtype)
        return jnp.concatenate([jnp.zeros((1,), self.dtype), x0])

    def next_z(self, z, e, t=None):
        """``[t + 1, x_{t+1}]``."""
        x = jnp.asarray(self.model.next_exogenous(z[1:], e, z[0]), self.dtype)
        return jnp.concatenate([z[:1] + 1, x])

    def initial_distribution(self, z0=None) -> Float[Array, " n_s"]:
        """``mu_0`` (given the initial exogenous state; the reference one when omitted)."""
        if z0 is None:
            z0 = self.initial_z(self.model.reference_noise()[None])
        return jnp.asarray(self.model.initial_distribution(z0[1:]), self.dtype)

    # ---- aggregate state -------------------------------------------------------------------------
    def aggregate_state(self, mu, z) -> GameAggregate:
        return GameAggregate(mu=mu, x=z[1:], t=z[0].astype(jnp.int32))

    def observation(self, agg: GameAggregate) -> Float[Array, " n_obs"]:
        return jnp.asarray(self.model.observation(agg.mu, agg.x, agg.t), self.dtype)

    def reference_observation(self) -> Float[Array, " n_obs"]:
        """The observation at the reference initial state (for input normalisation)."""
        z0 = self.initial_z(self.model.reference_noise()[None])
        return self.observation(self.aggregate_state(self.initial_distribution(z0), z0))

    def prices_finite(self, agg: GameAggregate) -> Array:
        """Whether the path's aggregate state stayed finite (games have no prices to blow up)."""
        return jnp.all(jnp.isfinite(agg.mu))

    # ---- individual choices ----------------------------------------------------------------------
    def lottery(self, agg: GameAggregate) -> Outcomes:
        """The transition's next-state indices and probabilities at this aggregate state."""
        idx, prob = self.model.transition(agg.mu, agg.x, agg.t)
        return Outcomes(idx=jnp.asarray(idx, jnp.int32), prob=jnp.asarray(prob, self.dtype))

    def outcomes(self, agg: GameAggregate, lot: Outcomes | None = None) -> Outcomes:
        """The same table, for sampled populations (``lot`` if already computed)."""
        return self.lottery(agg) if lot is None else lot

    def feasible(self, agg: GameAggregate, t) -> Bool[Array, "n_s n_a"]:
        """Every action is feasible in a game."""
        return jnp.ones((self.n_states, self.n_actions), bool)

    def rewards(self, agg: GameAggregate, t, agg_next: GameAggregate | None = None):
        """``R_t[s, a]`` (the next date's aggregate state is required)."""
        if agg_next is None:
            raise ValueError(f"{type(self.model).__name__}.reward looks at the next date's "
                             "aggregate state; pass agg_next")
        return jnp.asarray(self.model.reward(agg.mu, agg.x, agg.t, agg_next.mu, agg_next.x),
                           self.dtype)

    # ---- the operators ---------------------------------------------------------------------------
    def push_forward(self, mu, P, agg: GameAggregate, lot: Outcomes | None = None):
        """``mu'(s') = sum_{s, a, j} mu(s) P[s, a] prob[s, a, j] 1[idx[s, a, j] = s']``."""
        check_policy_table(P, self.n_states, self.n_actions)
        lot = self.lottery(agg) if lot is None else lot
        mass = (mu[:, None] * P)[..., None] * lot.prob
        return jnp.zeros(self.n_states, mass.dtype).at[lot.idx].add(mass)

    def expect_actions(self, v, agg: GameAggregate, lot: Outcomes | None = None):
        """``Q[s, a] = sum_j prob[s, a, j] v(idx[s, a, j])`` (the adjoint's gather)."""
        lot = self.lottery(agg) if lot is None else lot
        return jnp.sum(lot.prob * v[lot.idx], axis=-1)

    # ---- policy inputs ---------------------------------------------------------------------------
    def state_features(self) -> Float[Array, "n_s d"]:
        return jnp.asarray(self.model.state_features(), self.dtype)

    def action_coordinates(self) -> Float[Array, " n_a"]:
        """Actions as points of (0, 1), in their order (for a Beta head)."""
        n = self.n_actions
        return (jnp.arange(n, dtype=self.dtype) + 0.5) / n


def compile_game(model: AbstractFiniteMFG) -> GameMeanField:
    """The exact mean-field operators of a declared game."""
    return GameMeanField(model=model, dtype=jnp.asarray(0.0).dtype)

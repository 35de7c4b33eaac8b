"""What every solver needs from a compiled model: the abstract mean field (docs/theory.md §3).

An economy (:class:`~hank_mfg.operators.meanfield.MeanField`) and a finite-state game
(:class:`~hank_mfg.operators.game.GameMeanField`) both implement :class:`AbstractMeanField`, so
that rollouts, RSPG/SPG, exploitability and the sampled population run unchanged on either.
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import numpy as np
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

__all__ = ["AbstractMeanField", "Outcomes", "check_policy_table"]


class Outcomes(eqx.Module):
    """Next states ``idx[s, a, j]`` with probabilities ``prob[s, a, j]`` (summing to one over
    ``j``): the transition in the form a sampled population draws from."""

    idx: Int[Array, "n_s n_a J"]
    prob: Float[Array, "n_s n_a J"]


class AbstractMeanField(eqx.Module):
    """The exact mean-field operators of a compiled model.

    A state is an integer ``s < n_states``, a choice an integer ``k < n_actions``; a policy is a
    row-stochastic table ``P[s, k]``; the exogenous state a rollout carries is ``z``. Besides the
    methods below a mean field has the attributes ``model``, ``n_states``, ``n_actions``,
    ``horizon``, ``dtype`` and ``needs_next`` (whether rewards read the next date's aggregates).
    """

    # ---- exogenous state ---------------------------------------------------------------------
    @abc.abstractmethod
    def sample_noise(self, *, key: PRNGKeyArray, n_paths: int, T: int | None = None):
        """Common noise for ``n_paths`` paths of ``T`` dates."""

    @abc.abstractmethod
    def initial_z(self, eps, z0=None):
        """The exogenous state at date 0."""

    @abc.abstractmethod
    def next_z(self, z, eps, t=None):
        """The exogenous state one date on, given the date's noise."""

    def enter(self, mu, z, eps, shock=None):
        """The distribution and exogenous state a rollout's date starts from, given the state
        carried in: the carried ``z`` plus a deterministic innovation ``shock`` (an impulse;
        here the date's noise moves the state only when the date ends, :meth:`leave`)."""
        return mu, (z if shock is None else z + shock)

    def leave(self, z, eps, t=None):
        """The exogenous state carried to the next date: :meth:`next_z`."""
        return self.next_z(z, eps, t)

    # ---- distribution and aggregates ---------------------------------------------------------
    @abc.abstractmethod
    def initial_distribution(self, z0=None) -> Float[Array, " n_s"]:
        """``mu_0``."""

    @abc.abstractmethod
    def aggregate_state(self, mu, z):
        """Aggregates (and prices) of the distribution ``mu`` at exogenous state ``z``."""

    @abc.abstractmethod
    def observation(self, agg) -> Float[Array, " n_obs"]:
        """The public observation every household sees."""

    @abc.abstractmethod
    def reference_observation(self) -> Float[Array, " n_obs"]:
        """The observation at the reference state (input normalisation)."""

    @abc.abstractmethod
    def prices_finite(self, agg) -> Array:
        """Whether the aggregate state stayed finite."""

    # ---- choices and transitions -------------------------------------------------------------
    @abc.abstractmethod
    def lottery(self, agg):
        """The transition at this aggregate state, computed once and passed to the operators."""

    @abc.abstractmethod
    def outcomes(self, agg, lot=None) -> Outcomes:
        """The transition as next-state indices and probabilities (for sampled populations)."""

    @abc.abstractmethod
    def feasible(self, agg, t) -> Bool[Array, "n_s n_k"]:
        """Which state-action pairs are feasible at date ``t``."""

    @abc.abstractmethod
    def rewards(self, agg, t, agg_next=None) -> Float[Array, "n_s n_k"]:
        """The reward table ``R_t[s, k]``."""

    @abc.abstractmethod
    def push_forward(self, mu, P, agg, lot=None) -> Float[Array, " n_s"]:
        """``mu_{t+1}`` from ``mu_t`` under the policy table ``P``."""

    @abc.abstractmethod
    def expect_actions(self, v, agg, lot=None) -> Float[Array, "n_s n_k"]:
        """``Q[s, k]``: the expectation of next date's ``v`` after choice ``k`` in state ``s``."""

    def expect(self, v, P, agg, lot=None) -> Float[Array, " n_s"]:
        """Adjoint of :meth:`push_forward`: ``(E v)(s) = sum_k P[s, k] Q[s, k]``."""
        check_policy_table(P, self.n_states, self.n_actions)
        return (P * self.expect_actions(v, agg, lot)).sum(axis=-1)

    # ---- policy inputs -----------------------------------------------------------------------
    @abc.abstractmethod
    def state_features(self) -> Float[Array, "n_s d"]:
        """Normalised individual states (network inputs)."""

    @abc.abstractmethod
    def action_coordinates(self) -> Float[Array, " n_k"]:
        """Actions as points of (0, 1), in their order (for a Beta head)."""


def check_policy_table(P, n_states: int, n_actions: int) -> None:
    """A policy table must be ``(n_states, n_actions)`` and row-stochastic (checked on concrete
    tables; inside jit only the shape)."""
    shape = (n_states, n_actions)
    if P.shape != shape:
        raise ValueError(f"MeanField policy table P must have shape {shape} "
                         f"(n_states, n_actions); got shape {tuple(P.shape)}")
    if not isinstance(P, jax.core.Tracer):
        Pn = np.asarray(P)
        rows = Pn.sum(axis=1)
        tol = 1e-5 if Pn.dtype == np.float32 else 1e-9
        if Pn.min() < -tol or np.max(np.abs(rows - 1)) > tol:
            i = int(np.argmax(np.abs(rows - 1)))
            raise ValueError(
                f"MeanField policy table P must be row-stochastic (non-negative rows summing "
                f"to 1); got row {i} summing to {rows[i]:.6g}, min entry {Pn.min():.6g}")

"""Compiled, factorised mean-field operators (docs/theory.md §3).

``compile_model(model)`` turns a declared model into a :class:`MeanField` whose methods are pure
JAX functions of arrays: jit-able, vmappable over noise paths, float32 by default and float64
when ``jax_enable_x64`` is on. The transition is applied factorised — a Young (2010) lottery
along wealth (a scatter of ``n_s * n_k`` weights), then the small income matrix — and its adjoint
is the matching gather; no ``n_s x n_s`` matrix is ever built.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from ..model.base import INFEASIBLE_REWARD, AbstractHetAgentModel
from .core import AbstractMeanField, Outcomes, check_policy_table
from .lottery import GridLocator, Lottery, grid_locator, lottery_weights
from .lottery import expect as lottery_expect
from .lottery import push_forward as lottery_push_forward

__all__ = ["AggregateState", "MeanField", "compile_economy"]


class AggregateState(eqx.Module):
    """Aggregates and prices at one date: capital ``K``, labour ``L``, log TFP ``z``,
    output ``Y``, interest rate ``r`` and wage ``w`` (each 0-d, or batched with a leading axis)."""

    K: Array
    L: Array
    z: Array
    Y: Array
    r: Array
    w: Array


class MeanField(AbstractMeanField):
    """Exact mean-field operators of a model (state ``s = i_a * n_income + i_e``).

    Attributes:
        model: the declared model. a_grid, e_grid, Pi_e, action_grid: its arrays.
        a_s, e_s, ie_s: wealth, income and income index of every state (``n_s``).
        n_wealth, n_income, n_states, n_actions, horizon: sizes (static).
    """

    model: AbstractHetAgentModel
    a_grid: Float[Array, " n_a"]
    e_grid: Float[Array, " n_e"]
    Pi_e: Float[Array, "n_e n_e"]
    action_grid: Float[Array, " n_k"]
    a_s: Float[Array, " n_s"]
    e_s: Float[Array, " n_s"]
    ie_s: Int[Array, " n_s"]
    n_wealth: int = eqx.field(static=True)
    n_income: int = eqx.field(static=True)
    n_actions: int = eqx.field(static=True)
    locator: GridLocator | None = None

    @property
    def n_states(self) -> int:
        return self.n_wealth * self.n_income

    @property
    def horizon(self) -> int:
        return self.model.horizon

    # ---- distribution and aggregates ---------------------------------------------------------
    def initial_distribution(self, z0=None) -> Float[Array, " n_s"]:
        """``mu_0`` (wealth-major flat vector summing to one; the same for every ``z0``)."""
        return self.model.initial_distribution().astype(self.a_s.dtype)

    def aggregate_state(self, mu: Float[Array, " n_s"], z) -> AggregateState:
        """Aggregates ``K = sum mu a``, ``L = sum mu e`` and market-clearing prices at log TFP ``z``."""
        K = mu @ self.a_s
        L = mu @ self.e_s
        z = jnp.asarray(z, dtype=self.a_s.dtype)
        r, w = self.model.prices(K, L, z)
        return AggregateState(K=K, L=L, z=z, Y=self.model.output(K, L, z), r=r, w=w)

    def observation(self, agg: AggregateState) -> Float[Array, " n_obs"]:
        """The shared public observation ``o_t`` (default ``(r, w)``)."""
        return self.model.observation(agg)

    def next_z(self, z, eps, t=None):
        """Log-TFP law of motion ``z' = rho_z z + sigma_z eps``.

        Without common noise the sampled innovations are zero (:meth:`sample_noise`), so ``z``
        stays 0 for ever unless a deterministic shock is fed to the rollout (MIT shock).
        """
        return self.model.shocks()[0].step(z, eps)

    def sample_noise(self, *, key: PRNGKeyArray, n_paths: int, T: int | None = None):
        """Standard normal innovations ``eps[b, t]`` (zeros without common noise)."""
        T = self.horizon if T is None else T
        if not self.model.common_noise:
            return jnp.zeros((n_paths, T), dtype=self.a_s.dtype)
        return jax.random.normal(key, (n_paths, T), dtype=self.a_s.dtype)

    # ---- individual choices ------------------------------------------------------------------
    def cash_on_hand(self, agg: AggregateState) -> Float[Array, " n_s"]:
        """Cash on hand ``m = R a + y(e)`` of every state from the model's one budget
        (:meth:`AbstractHousehold.budget`; ``(1 + r) a + w e`` for a capital economy)."""
        return self.model.budget(agg).cash_on_hand(self.a_grid).reshape(-1)

    def choices(self, agg: AggregateState) -> tuple[Float[Array, "n_s n_k"], Float[Array, "n_s n_k"]]:
        """Next wealth ``a'[s, k]`` and consumption ``c[s, k]`` of every state-action pair."""
        m = self.cash_on_hand(agg)[:, None]
        if self.model.action_kind == "share":
            c = self.action_grid[None, :] * (m - self.a_grid[0])
            return m - c, c
        a_next = jnp.broadcast_to(self.action_grid[None, :], (self.n_states, self.n_actions))
        return a_next, m - a_next

    def expected_choices(self, P: Float[Array, "n_s n_k"], agg: AggregateState):
        """Expected consumption, next wealth and consumption share of every state under the
        action lottery ``P``: ``(c, a', share)``, each ``(n_s,)``, with ``c = sum_k P c[s,k]``,
        ``a' = sum_k P a'[s,k]`` and ``share = c / (m - a_0)`` (1 where ``m <= a_0``)."""
        a_next, c = self.choices(agg)
        cbar = jnp.sum(P * c, axis=-1)
        abar = jnp.sum(P * a_next, axis=-1)
        room = self.cash_on_hand(agg) - self.a_grid[0]
        share = jnp.where(room > 0, cbar / jnp.where(room > 0, room, 1.0), 1.0)
        return cbar, abar, share

    def lottery(self, agg: AggregateState) -> Lottery:
        """Lottery of every state-action's next wealth onto the wealth grid (``n_a x n_e x n_k``)."""
        a_next, _ = self.choices(agg)
        a_next = a_next.reshape(self.n_wealth, self.n_income, self.n_actions)
        return lottery_weights(a_next, self.a_grid, self.locator)

    def feasible(self, agg: AggregateState, t) -> Bool[Array, "n_s n_k"]:
        """Which state-action pairs are feasible at date ``t``: consumption ``c[s, k] > 0``.

        At ``t = horizon - 1`` with ``terminal="consume_all"`` the household consumes
        ``m - a_min`` whatever the action, so a pair is feasible exactly when cash on hand
        exceeds the borrowing limit, ``m > a_min``. In ``share`` mode every action is feasible
        when ``m > a_min`` and none is otherwise; in ``savings`` mode the choice ``a' >= m`` is not.
        """
        _, c = self.choices(agg)
        ok = c > 0
        if self.model.terminal == "consume_all":
            last = (self.cash_on_hand(agg) - self.a_grid[0] > 0)[:, None]
            ok = jnp.where(jnp.asarray(t) == self.horizon - 1, last, ok)
        return ok

    def rewards(self, agg: AggregateState, t, agg_next=None) -> Float[Array, "n_s n_k"]:
        """Reward table ``R_t[s, k] = u(c[s, k])``; at ``t = horizon - 1`` the terminal rule.

        With ``terminal="consume_all"`` the household ends at the borrowing limit, ``a' = a_min``
        (``a_grid[0]``): the last reward is ``u(m - a_min)`` whatever the action, the utility of
        consuming all cash on hand above the limit. With ``a_min = 0`` this is ``u(m)`` (the
        paper's rule); with ``a_min < 0`` the household may end owing at most the limit, and
        ``m - a_min > 0`` keeps the reward finite (negative for ``sigma > 1``) — debt at the
        horizon is never rewarded, where ``u(m)`` of a negative ``m`` would be positive for
        ``sigma > 1``. Infeasible pairs (see :meth:`feasible`) get
        ``INFEASIBLE_REWARD``; evaluations report their mass separately
        (:attr:`~hank_mfg.metrics.exploitability.ExploitabilityResult.infeasible_mass`).
        ``agg_next`` (the next date's aggregate state, which a game's rewards may use) is unused.
        """
        _, c = self.choices(agg)
        u = self.model.utility
        R = jnp.where(c > 0, u(jnp.where(c > 0, c, 1.0)), INFEASIBLE_REWARD)
        if self.model.terminal == "consume_all":
            x = self.cash_on_hand(agg) - self.a_grid[0]  # consumption at the horizon
            last = jnp.where(x > 0, u(jnp.where(x > 0, x, 1.0)), INFEASIBLE_REWARD)
            last = jnp.broadcast_to(last[:, None], R.shape)
            R = jnp.where(jnp.asarray(t) == self.horizon - 1, last, R)
        return R

    # ---- the operators -----------------------------------------------------------------------
    def push_forward(
        self, mu: Float[Array, " n_s"], P: Float[Array, "n_s n_k"], agg: AggregateState,
        lot: Lottery | None = None,
    ) -> Float[Array, " n_s"]:
        """``mu'(a', e') = sum_e Pi[e, e'] sum_{a, k} mu(a, e) P[s, k] L(a' | s, k)`` (docs/theory.md §3.3).

        Cost ``O(n_s n_k + n_a n_e^2)``: one scatter along wealth, one small matmul. Pass a
        precomputed ``lot = self.lottery(agg)`` to reuse it across calls.
        """
        check_policy_table(P, self.n_states, self.n_actions)
        lot = self.lottery(agg) if lot is None else lot
        mass = (mu[:, None] * P).reshape(lot.idx.shape)
        return lottery_push_forward(mass, lot, self.Pi_e).reshape(-1)

    def expect_actions(
        self, v: Float[Array, " n_s"], agg: AggregateState, lot: Lottery | None = None
    ) -> Float[Array, "n_s n_k"]:
        """Action-conditional expectation ``Q[s, k] = sum_{a', e'} L(a'|s,k) Pi[e, e'] v(a', e')``."""
        lot = self.lottery(agg) if lot is None else lot
        Q = lottery_expect(v.reshape(self.n_wealth, self.n_income), lot, self.Pi_e)
        return Q.reshape(self.n_states, self.n_actions)

    # ---- the interface that games share (hank_mfg.operators.game) --------------------------------
    #: Rewards look at the current date only.
    needs_next = False

    @property
    def dtype(self):
        return self.a_s.dtype

    def initial_z(self, eps, z0=0.0):
        """Log TFP at date 0: ``z0`` (the noise enters from date 1 on)."""
        return jnp.asarray(z0, dtype=self.a_s.dtype)

    def prices_finite(self, agg: AggregateState) -> Array:
        """Whether the prices along a path stayed finite."""
        return jnp.all(jnp.isfinite(agg.r)) & jnp.all(jnp.isfinite(agg.w))

    def reference_observation(self) -> Float[Array, " n_obs"]:
        """The observation at the initial distribution and ``z = 0`` (input normalisation)."""
        return self.observation(self.aggregate_state(self.initial_distribution(), 0.0))

    def state_features(self) -> Float[Array, "n_s 2"]:
        """Normalised individual state in [-1, 1]: log-scaled wealth and the income index."""
        a = self.a_s - self.a_grid[0]
        span = self.a_grid[-1] - self.a_grid[0]
        fa = 2.0 * jnp.log1p(a) / jnp.log1p(span) - 1.0
        fe = 2.0 * self.ie_s / max(self.n_income - 1, 1) - 1.0
        return jnp.stack([fa, fe], axis=-1)

    def action_coordinates(self) -> Float[Array, " n_k"]:
        """Actions as points of (0, 1) for a Beta head: the share itself, or the normalised rank."""
        if self.model.action_kind == "share":
            return self.action_grid
        return (jnp.arange(self.n_actions) + 0.5) / self.n_actions

    def outcomes(self, agg: AggregateState, lot: Lottery | None = None):
        """The transition as next-state indices and probabilities ``(n_s, n_k, 2 n_e)``: the
        lottery's two wealth points times the next income states (for sampled populations)."""
        lot = self.lottery(agg) if lot is None else lot
        n_e = self.n_income
        pi = self.Pi_e[self.ie_s][:, None, :]  # (n_s, 1, n_e)
        shape = (self.n_states, self.n_actions)
        lo = lot.idx.reshape(shape)[..., None] * n_e + jnp.arange(n_e)
        w_lo = lot.w_lo.reshape(shape)[..., None]
        idx = jnp.concatenate([lo, lo + n_e], axis=-1)
        prob = jnp.concatenate([w_lo * pi, (1.0 - w_lo) * pi], -1)
        return Outcomes(idx=idx, prob=prob)


def compile_economy(model: AbstractHetAgentModel) -> MeanField:
    """The exact mean-field operators of a declared capital economy (see
    :func:`hank_mfg.operators.compile_model`)."""
    a_grid = jnp.asarray(model.a_grid, dtype=float)
    inc = model.income
    e_grid = jnp.asarray(inc.e_grid, dtype=float)
    n_a, n_e = a_grid.shape[0], e_grid.shape[0]
    return MeanField(
        model=model,
        a_grid=a_grid,
        e_grid=e_grid,
        Pi_e=jnp.asarray(inc.Pi_e, dtype=float),
        action_grid=jnp.asarray(model.action_grid, dtype=float),
        a_s=jnp.repeat(a_grid, n_e),
        e_s=jnp.tile(e_grid, n_a),
        ie_s=jnp.tile(jnp.arange(n_e), n_a),
        n_wealth=int(n_a),
        n_income=int(n_e),
        n_actions=int(model.action_grid.shape[0]),
        locator=grid_locator(a_grid),
    )

"""Mean-field rollout along a common-noise path and exact evaluation along it (docs/theory.md §5).

One rollout, :func:`mean_field_scan`, serves every mean field, every choice rule (a table over a
grid of choices; a continuous savings choice) and every market strategy, in training,
evaluation and reports. Along a path the population moves deterministically given
``(mu_t, z_t)`` and the policy: all idiosyncratic risk is integrated exactly, only the aggregate
noise ``z`` is sampled.
"""

from __future__ import annotations

import abc
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..model.base import INFEASIBLE_REWARD
from ..operators.meanfield import AggregateState
from ..operators.compile import AnyMeanField
from ..operators.game import GameAggregate
from ..policies.networks import AbstractPolicy
from .markets import DistributionPrices
from .values import backward_values

__all__ = [
    "AbstractChoiceRule", "Date", "Evaluation", "TableChoices", "Trajectory", "action_values",
    "best_response_values", "evaluate_paths", "explain_prices", "feasible_values",
    "mean_field_scan", "policy_values", "replay_tables", "reward_table", "rollout",
    "rollout_batch",
]


class Trajectory(eqx.Module):
    """One mean-field path (leading axis ``T``; batched rollouts add a leading ``B``).

    Attributes:
        mu: distribution at the start of each date, ``(T, n_s)``.
        agg: aggregates and prices, fields of shape ``(T,)``.
        obs: shared observations ``(T, n_obs)``.
        P: policy tables ``(T, n_s, n_k)``. R: reward tables ``(T, n_s, n_k)``.
        eps: the common-noise innovations used, ``(T,)``.
        hidden: the policy's history state after each date (to branch on the next date's
            shock, as the Euler errors do).
    """

    mu: Float[Array, "T n_s"]
    agg: AggregateState | GameAggregate
    obs: Float[Array, "T n_obs"]
    P: Float[Array, "T n_s n_k"]
    R: Float[Array, "T n_s n_k"]
    eps: Float[Array, "T *d"]
    hidden: Any = None


class Date(eqx.Module):
    """What one date of a rollout formed, handed to the choice rule's :meth:`record`: the date
    ``t``, the distribution ``mu`` the households start it with, the exogenous state ``z``, the
    prices (an aggregate state, or a budget), the observation, the policy's ``choices``, the
    market's record of named aggregates and its residual, the policy's history state after
    the date and the market's carry."""

    t: Array
    mu: Array
    z: Array
    prices: Any
    obs: Array
    choices: tuple
    record: Any
    residual: Any
    hidden: Any
    carry: Any


class AbstractChoiceRule(eqx.Module):
    """How a policy chooses at a date and where its choices send the population: the one fork
    of :func:`mean_field_scan` between a table over a grid of choices (:class:`TableChoices`)
    and a continuous savings choice (:class:`~hank_mfg.solvers.continuous.SavingsChoices`)."""

    policy: eqx.AbstractVar[Any]

    @abc.abstractmethod
    def init_carry(self):
        """The policy's history state at the start."""

    @abc.abstractmethod
    def actor(self, problem, h, z, t):
        """``act(prices, factor, obs) -> (h, *choices)``: the households' choices at date ``t``
        given the policy's history ``h`` and the exogenous state ``z``, for the market to call
        (once, or at every candidate price); ``factor`` scales the continuation the structural
        start expects (unused by a table)."""

    @abc.abstractmethod
    def push(self, problem, mu, choices, prices):
        """The distribution one date on."""

    @abc.abstractmethod
    def record(self, problem, date: Date, mu_next, z_next):
        """What the rollout keeps of the date (a pytree, stacked over dates)."""


def mean_field_scan(problem, market, rule: AbstractChoiceRule, eps, start, shocks=None):
    """The one rollout of every mean field (docs/theory.md §5): ``T = len(eps)`` dates from
    ``start = (mu, z, h, carry)``, each
    ``(mu, z) = problem.enter(mu, z, e_t, shock_t)`` (the date's exogenous state, and with an
    aggregate chain the income draw that comes with it), prices and choices from
    ``market.clear(problem, policy, mu, z, carry, act)`` with ``act = rule.actor(...)``,
    ``mu_{t+1} = rule.push(...)`` and ``z = problem.leave(z, e_t, t)``. The mean field and the
    market's carry carry a stop-gradient: policies are price takers and the gradient flows
    through the choices only (docs/theory.md §6.1). Returns ``(final state, records)``."""
    sg = jax.lax.stop_gradient

    def body(state, xs):
        mu, z_prev, h, carry = state
        t, e, shock = xs
        mu, z = problem.enter(mu, z_prev, e, shock)
        prices, obs, out, carry, record, residual = market.clear(
            problem, rule.policy, mu, z, carry, rule.actor(problem, h, z, t))
        h_new, choices = out[0], out[1:]
        mu_next = sg(rule.push(problem, mu, choices, prices))
        z_next = problem.leave(z, e, t)
        carry = sg(carry)
        date = Date(t=t, mu=mu, z=z, prices=prices, obs=obs, choices=choices, record=record,
                    residual=residual, hidden=h_new, carry=carry)
        return (mu_next, z_next, h_new, carry), rule.record(problem, date, mu_next, z_next)

    return jax.lax.scan(body, start, (jnp.arange(eps.shape[0]), eps, shocks))


class TableChoices(AbstractChoiceRule):
    """A table over the mean field's grid of choices, ``P_t[s, k]`` (the paper's method;
    finite-state games); the push-forward is the mean field's own. Records
    ``(mu, agg, obs, P, R)`` with ``R_t`` the reward table (a game's rewards may look at the
    next date's aggregate state)."""

    policy: AbstractPolicy
    cache: Any

    def init_carry(self):
        return self.policy.init_carry()

    def actor(self, problem, h, z, t):
        return lambda prices, factor, obs: self.policy.step(h, obs, t, self.cache)

    def push(self, problem, mu, choices, prices):
        return problem.push_forward(mu, jax.lax.stop_gradient(choices[0]), prices,
                                    problem.lottery(prices))

    def record(self, problem, date, mu_next, z_next):
        R = reward_table(problem, date, mu_next, z_next)
        return date.mu, date.prices, date.obs, date.choices[0], R, date.hidden


def reward_table(problem, date: Date, mu_next, z_next):
    """``R_t[s, k]`` at the date's aggregate state (a game's rewards may look at the next
    date's, that of ``mu_next`` and ``z_next``)."""
    if problem.needs_next:
        return problem.rewards(date.prices, date.t, problem.aggregate_state(mu_next, z_next))
    return problem.rewards(date.prices, date.t)


def rollout(mf: AnyMeanField, policy: AbstractPolicy, eps: Float[Array, "T *d"],
            mu0: Float[Array, " n_s"] | None = None, z0=0.0,
            z_shock: Float[Array, " T"] | None = None) -> Trajectory:
    """Roll the population forward ``T = len(eps)`` dates with ``policy`` from ``mu0`` and ``z0``
    (:func:`mean_field_scan` with the policy's tables and the mean field's own prices).

    At date ``t``: prices from ``(mu_t, z_t)``, observation, policy table ``P_t`` (the policy's
    hidden state is reset at ``t = 0``), rewards ``R_t``, then ``mu_{t+1} = T(mu_t; P_t)`` and
    ``z_{t+1} = rho_z z_t + sigma_z eps_t``. ``z_shock[t]`` (optional) is an extra,
    deterministic innovation added to ``z_t`` at date ``t`` (it then decays at rate ``rho_z``):
    the tool for impulse responses, with or without common noise. For a finite-state game
    (docs/games.md) ``z`` is ``[t, x_t]``, its dynamics and ``mu_0`` come from the path's noise,
    and the rewards may look at the next date's aggregate state. Differentiable in the policy parameters through
    ``P_t`` only: the mean-field and price path are held fixed (docs/theory.md §6.1).
    """
    z0 = mf.initial_z(eps, z0)
    mu0 = mf.initial_distribution(z0) if mu0 is None else mu0
    rule = TableChoices(policy=policy, cache=policy.prepare())
    market = DistributionPrices()
    start = (jax.lax.stop_gradient(mu0), z0, rule.init_carry(), market.initial_carry(mf, policy))
    shocks = None if z_shock is None else jnp.asarray(z_shock, eps.dtype)
    _, (mu, agg, obs, P, R, hidden) = mean_field_scan(mf, market, rule, eps, start, shocks)
    return Trajectory(mu=mu, agg=agg, obs=obs, P=P, R=R, eps=eps, hidden=hidden)


def rollout_batch(mf: AnyMeanField, policy: AbstractPolicy, eps: Float[Array, "B T *d"],
                  mu0=None, z0=0.0, z_shock=None) -> Trajectory:
    """:func:`rollout` vmapped over ``B`` noise paths (every field gains a leading ``B`` axis)."""
    return jax.vmap(lambda e: rollout(mf, policy, e, mu0, z0, z_shock))(eps)


def _agg_at(agg: AggregateState | GameAggregate, t):
    return jax.tree_util.tree_map(lambda x: x[t], agg)


def policy_values(mf: AnyMeanField, traj: Trajectory) -> Float[Array, "T n_s"]:
    """Exact value of the recorded policy along the fixed path, by backward recursion.

    ``V_T = 0``; ``V_t(s) = sum_k P_t[s,k] (R_t[s,k] + beta Q_t[s,k](V_{t+1}))`` with
    ``Q_t`` the action-conditional expectation under date-``t`` prices (docs/theory.md §5).
    Returns ``V_t`` for every date (``V_0`` first).
    """
    return action_values(mf, traj)[0]


def action_values(mf: AnyMeanField, traj: Trajectory):
    """Values ``V_t (T, n_s)`` and action values ``A_t[s,k] = R_t[s,k] + beta Q_t[s,k](V_{t+1})``
    ``(T, n_s, n_k)`` of the recorded policy along the fixed path."""
    return backward_values(jnp.zeros(mf.n_states, dtype=traj.R.dtype), traj.R,
                           mf.expect_actions, traj.agg, mf.model.beta, P=traj.P)


def best_response_values(mf: AnyMeanField, traj: Trajectory):
    """Best response to the fixed path by backward induction over the discrete actions.

    ``V*_t(s) = max_k R_t[s,k] + beta Q_t[s,k](V*_{t+1})``. The responder knows the realised
    path (clairvoyant), so against a path with common noise this bounds exploitability above
    (docs/theory.md §7). Returns ``(V*, argmax)`` with shapes ``(T, n_s)`` and ``(T, n_s)``.
    """
    return backward_values(jnp.zeros(mf.n_states, dtype=traj.R.dtype), traj.R,
                           mf.expect_actions, traj.agg, mf.model.beta, best=True)


def relative_exploitability(exploitability, policy_return):
    """Exploitability relative to the policy's own value, ``|sum_s mu_0 V^pi_0|``: the one
    definition every certificate uses (discrete and continuous choices)."""
    return exploitability / abs(policy_return)


def consumption_equivalent(exploitability, consumption_return, sigma, discount_sum):
    """Exploitability in consumption units: the permanent share ``lambda`` of consumption by
    which the policy's consumption at every date would have to grow for its population value to
    equal the best response's (docs/theory.md §7.1) — what a household would pay, as a share of
    its consumption forever, to be allowed to switch.

    With CRRA utility the consumption part of the value scales exactly, so ``lambda`` is closed
    form: ``exp(exploitability / discount_sum) - 1`` with log utility (``sigma == 1``;
    ``discount_sum`` the discounted number of dates the scaling covers, ``1/(1 - beta)`` when
    it runs forever), else ``(1 + exploitability / consumption_return)^(1/(1 - sigma)) - 1``
    (``consumption_return`` the ``mu_0``-weighted value of consumption alone, so that hours'
    disutility, which the scaling leaves unchanged, does not enter). Traceable.
    """
    sigma = jnp.asarray(sigma)
    one = sigma == 1.0
    s = jnp.where(one, 2.0, sigma)  # keep the unused branch finite
    crra = (1.0 + exploitability / consumption_return) ** (1.0 / (1.0 - s)) - 1.0
    return jnp.where(one, jnp.expm1(exploitability / discount_sum), crra)


def model_consumption_equivalent(model, exploitability, consumption_return,
                                 horizon: int | None = None) -> float:
    """:func:`consumption_equivalent` for a model whose payoff is CRRA utility of consumption
    (``model.sigma``, ``model.beta``), the scaling covering ``horizon`` dates (values with a
    zero terminal value) or every date (``None``: values continued by a stationary value).
    ``nan`` for a model without consumption utility (a game)."""
    sigma = getattr(model, "sigma", None)
    if sigma is None or not hasattr(model, "utility"):
        return float("nan")
    beta = float(model.beta)
    dates = 1.0 / (1.0 - beta) if horizon is None else (1.0 - beta ** horizon) / (1.0 - beta)
    return float(consumption_equivalent(exploitability, consumption_return, float(sigma), dates))


class Evaluation(eqx.Module):
    """Exploitability certificate along sampled paths (docs/theory.md §7); per-path arrays ``(B,)``.

    ``exploitability = mean_b sum_s mu_0(s) (V*_0 - V^pi_0)(s)``; ``policy_return`` and
    ``best_response_return`` are the ``mu_0``-weighted ``V^pi_0`` and ``V*_0``. Infeasible
    choices (no positive consumption, see :meth:`MeanField.feasible`) never enter these values:
    the policy is evaluated as it can be executed, its probability on infeasible choices
    redrawn among the feasible ones in the same state (``P[s, k] 1[feasible] / sum_j P[s, j]
    1[feasible]``), and the best response picks a feasible choice wherever one exists.
    ``infeasible_mass`` reports what was set aside: the largest share of the population that,
    at some date of the path, makes an infeasible choice under the policy as given (all
    households whose cash on hand leaves no feasible choice, plus the policy's probability of
    infeasible choices elsewhere). States without any feasible choice add no utility.
    """

    exploitability: Float[Array, " B"]
    policy_return: Float[Array, " B"]
    best_response_return: Float[Array, " B"]
    prices_finite: Array
    infeasible_mass: Float[Array, " B"]


def feasible_values(mf: AnyMeanField, traj: Trajectory):
    """Values that keep infeasible choices out of the averages (one path).

    Splits each reward into the utility of feasible choices ``U = R 1[feasible]`` and the
    indicator of an infeasible choice ``I = 1[infeasible]`` (which :meth:`MeanField.rewards`
    prices at ``INFEASIBLE_REWARD``). Returns ``(v_pi, v_br, infeasible)``:

    * ``v_pi`` ``(T, n_s)``: value of ``U`` under the executable policy, the policy's
      probability on infeasible choices redrawn among the feasible ones of the same state
      (rows without any feasible choice keep ``P``);
    * ``v_br`` ``(T, n_s)``: value of ``U`` under the best response, which maximises
      ``U + INFEASIBLE_REWARD I`` and so makes an infeasible choice only where no other exists;
    * ``infeasible`` ``(T,)``: the policy's infeasible mass ``sum_s mu_t(s) sum_k P_t[s,k] I_t[s,k]``.

    Without infeasible choices ``v_pi`` and ``v_br`` equal :func:`policy_values` and
    :func:`best_response_values` bit for bit; ``v_br >= v_pi`` wherever a feasible choice exists.
    """
    dates = jnp.arange(traj.R.shape[0])

    def split(x):
        """``(U, I, the executable policy)`` of one date."""
        t, P, R, agg = x
        ok = mf.feasible(agg, t)
        P_ok = jnp.where(ok, P, 0.0)
        keep = jnp.all(ok, axis=-1, keepdims=True) | ~jnp.any(ok, axis=-1, keepdims=True)
        P_exec = jnp.where(keep, P, P_ok / jnp.sum(P_ok, axis=-1, keepdims=True))
        return jnp.where(ok, R, 0.0), jnp.where(ok, 0.0, 1.0).astype(R.dtype), P_exec

    def rewards(x):
        U, I, _ = split(x)
        return U, U + INFEASIBLE_REWARD * I, U

    def choose(Q, x):
        """Three values through one expectation: the executable policy's value of ``U``; the
        best response to ``U + INFEASIBLE_REWARD I`` (the values are linear in the rewards,
        so it makes an infeasible choice only where no other exists); its value of ``U``."""
        U, I, P_exec = split(x)
        k = jnp.argmax(Q[1], axis=-1)
        v_br = jnp.take_along_axis(Q[2], k[:, None], axis=-1)[:, 0]
        V = jnp.sum(P_exec * Q[0], axis=-1), jnp.max(Q[1], axis=-1), v_br
        return V, jnp.sum(x[1] * I, axis=-1)

    zero = jnp.zeros(mf.n_states, dtype=traj.R.dtype)
    V, I_pi = backward_values((zero, zero, zero), rewards,
                              lambda v, x: _expect_each(mf, v, x[3]),
                              (dates, traj.P, traj.R, traj.agg), mf.model.beta, choose=choose)
    return V[0], V[2], jnp.sum(traj.mu * I_pi, axis=-1)


def _expect_each(mf: AnyMeanField, v, agg):
    """:meth:`expect_actions` of each value ``v[i]`` through one lottery."""
    lot = mf.lottery(agg)
    return tuple(mf.expect_actions(x, agg, lot) for x in v)


def evaluate_paths(mf: AnyMeanField, policy: AbstractPolicy, eps: Float[Array, "B T *d"],
                   mu0=None) -> Evaluation:
    """Roll out, evaluate the policy exactly and compute the best response on every path."""

    def one(e):
        traj = rollout(mf, policy, e, mu0)
        v_pi, v_br, infeasible = feasible_values(mf, traj)
        ret_pi = traj.mu[0] @ v_pi[0]
        ret_br = traj.mu[0] @ v_br[0]
        finite = mf.prices_finite(traj.agg)
        return ret_br - ret_pi, ret_pi, ret_br, finite, jnp.max(infeasible)

    ex, rp, rb, ok, bad = jax.vmap(one)(eps)
    return Evaluation(exploitability=ex, policy_return=rp, best_response_return=rb,
                      prices_finite=ok, infeasible_mass=bad)


def explain_prices(traj: Trajectory) -> str:
    """Say where a batched rollout's prices first left their domain, and what to try.

    Finds the first path ``b`` and date ``t`` with a non-finite interest rate or wage and names
    the aggregate responsible (``K <= 0``, ``L <= 0`` or a non-finite aggregate), for messages of
    ``FloatingPointError``. ``traj`` holds concrete arrays with leading axes ``(B, T)``.
    """
    r, w = np.asarray(traj.agg.r), np.asarray(traj.agg.w)
    K, L, z = (np.asarray(x) for x in (traj.agg.K, traj.agg.L, traj.agg.z))
    bad = ~(np.isfinite(r) & np.isfinite(w))
    if not bad.any():
        return "prices are finite on every path"
    b, t = (int(i) for i in np.argwhere(bad)[0])
    k, l_, zz = float(K[b, t]), float(L[b, t]), float(z[b, t])
    ks = K[b, : t + 1]
    trail = ", ".join(f"{x:.4g}" for x in ks[-min(len(ks), 8):])
    where = f"at date {t} on path {b} (K on the way: {trail})"
    advice = ("The policy ran the economy out of the prices' domain; try "
              "RSPGConfig(init='stationary') (a first policy that keeps capital at its initial "
              "level), a smaller lr or a shorter horizon")
    if not (np.isfinite(k) and np.isfinite(l_) and np.isfinite(zz)):
        what = f"an aggregate is not finite (K = {k:.6g}, L = {l_:.6g}, z = {zz:.6g})"
    elif k <= 0:
        what = f"capital K = {k:.6g} <= 0"
    elif l_ <= 0:
        what = f"labour L = {l_:.6g} <= 0"
    else:
        what = (f"the model's prices(K = {k:.6g}, L = {l_:.6g}, z = {zz:.6g}) returned "
                f"r = {float(r[b, t]):.6g}, w = {float(w[b, t]):.6g}")
        advice = "Check the model's prices(K, L, z) at these aggregates"
    return f"{what} {where}. {advice}"


def replay_tables(policy: AbstractPolicy, obs: Float[Array, "T n_obs"]) -> Float[Array, "T n_s n_k"]:
    """Policy tables ``P_t`` the policy plays after the public history ``obs[0..t]``.

    Used to evaluate a (new) policy against a *fixed* observation path, e.g. the policy function
    at a given date and history, or the RSPG objective with the mean-field path held fixed.
    """
    return policy.sequence_tables(obs)

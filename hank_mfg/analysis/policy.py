"""Policy functions ``c(a, e)``, ``a'(a, e)``, values and rewards on the grid and off it.

A learned policy depends on the public history: its table at date ``t`` is what it plays after
the observations ``o_0..o_t`` (:func:`~hank_mfg.solvers.rollout.replay_tables`). Expected
quantities average over the policy's action lottery: ``c(s) = sum_k P[s,k] c[s,k]`` and so on.
Off the grid, every function of wealth is interpolated linearly within each income state
(clamped to the end values outside the grid).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..model.base import AbstractHetAgentModel
from ..operators.meanfield import AggregateState, MeanField, lottery_weights
from ..policies.networks import AbstractPolicy
from ..solvers.rollout import replay_tables
from .simulation import expected_choices

__all__ = ["PolicyFunctions", "policy_functions", "policy_at", "interpolate_in_wealth",
           "stationary_value"]


class PolicyFunctions(eqx.Module):
    """Expected policy functions on the grid, each ``(n_a, n_e)`` (``[i_a, i_e]``).

    Attributes:
        consumption: ``c(a, e)``. savings: next wealth ``a'(a, e)``. share: ``c / (m - a_0)``.
        expected_action: ``sum_k P[s,k] action_grid[k]`` (a share, or a savings level).
        reward: expected period reward ``sum_k P[s,k] R[s,k]`` (``u(m)`` at a consume-all end).
        cash: cash on hand ``m = (1 + r) a + w e``.
    """

    consumption: Float[Array, "n_a n_e"]
    savings: Float[Array, "n_a n_e"]
    share: Float[Array, "n_a n_e"]
    expected_action: Float[Array, "n_a n_e"]
    reward: Float[Array, "n_a n_e"]
    cash: Float[Array, "n_a n_e"]


def policy_functions(mf: MeanField, P: Float[Array, "n_s n_k"], agg: AggregateState,
                     t=0) -> PolicyFunctions:
    """Expected consumption, savings, share, action and reward of table ``P`` at prices ``agg``.

    ``t`` is the date (only the terminal rule of the reward depends on it).
    """
    c, a_next, share = expected_choices(mf, P, agg)
    act = P @ mf.action_grid
    R = jnp.sum(P * mf.rewards(agg, t), axis=-1)
    shp = (mf.n_wealth, mf.n_income)
    return PolicyFunctions(consumption=c.reshape(shp), savings=a_next.reshape(shp),
                           share=share.reshape(shp), expected_action=act.reshape(shp),
                           reward=R.reshape(shp), cash=mf.cash_on_hand(agg).reshape(shp))


def policy_at(policy: AbstractPolicy, obs: Float[Array, "T n_obs"], date: int) -> Float[Array, "n_s n_k"]:
    """The table a policy plays at ``date`` after the public history ``obs[0..date]``.

    Later observations in ``obs`` (if any) are ignored: policies are causal, so the whole history
    is replayed once (one compilation for every date) and date ``date`` is taken.
    """
    return _replay(policy, obs)[int(date)]


_replay = eqx.filter_jit(replay_tables)


def interpolate_in_wealth(a_grid: Float[Array, " n_a"], table: Float[Array, "n_a n_e"],
                          wealth: Float[Array, " n_q"]) -> Float[Array, "n_q n_e"]:
    """Linear interpolation of ``table[:, e]`` at ``wealth`` for every income state (clamped)."""
    return jax.vmap(lambda col: jnp.interp(wealth, a_grid, col), in_axes=1, out_axes=1)(table)


@eqx.filter_jit
def _stationary_value(model, a_grid, Pi_e, c, a_pol, tol, maxiter):
    lot = lottery_weights(a_pol, a_grid)
    u = model.utility(c)
    beta = model.beta

    def expect(V):
        W = V @ Pi_e.T  # W[a', e] = sum_e' Pi[e, e'] V[a', e']
        e_idx = jnp.arange(V.shape[1])[None, :]
        return lot.w_lo * W[lot.idx, e_idx] + (1.0 - lot.w_lo) * W[lot.idx + 1, e_idx]

    def cond(st):
        it, _, err = st
        return (it < maxiter) & (err > tol)

    def body(st):
        it, V, _ = st
        V_new = u + beta * expect(V)
        return it + 1, V_new, jnp.max(jnp.abs(V_new - V)) / (1.0 + jnp.max(jnp.abs(V_new)))

    V0 = u / (1.0 - beta)
    it, V, err = jax.lax.while_loop(cond, body, (0, V0, jnp.asarray(jnp.inf, c.dtype)))
    return V, it, err


def stationary_value(model: AbstractHetAgentModel, c_policy: Float[Array, "n_a n_e"],
                     a_policy: Float[Array, "n_a n_e"], *, tol: float = 1e-10,
                     maxiter: int = 100_000) -> Float[Array, "n_a n_e"]:
    """Value ``V = u(c) + beta E[V(a', e')]`` of a stationary policy (e.g. the EGM steady state).

    Next wealth ``a'`` is put on the grid by the Young lottery (as the push-forward does) and
    ``V`` is found by value iteration to relative sup-norm change ``tol``.

    Raises:
        RuntimeError: not converged within ``maxiter`` iterations (gives the residual).
    """
    V, it, err = _stationary_value(model, jnp.asarray(model.a_grid, dtype=float),
                                   jnp.asarray(model.income.Pi_e, dtype=float),
                                   jnp.asarray(c_policy), jnp.asarray(a_policy), tol, maxiter)
    if not float(err) <= tol:
        raise RuntimeError(f"stationary_value: value iteration did not converge after {int(it)} "
                           f"iterations; relative change {float(err):.6g} > tol {tol:.6g}")
    return V

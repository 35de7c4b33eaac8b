"""The certificate of continuous savings choices along sampled paths (docs/theory.md §12.4,
§13.3): on each path the perfect-information best response — the household problem under the
path's known prices, solved by EGM backward from the steady state's value — against the
learned policy's own value (:func:`evaluate_savings`), the learned policy's Euler errors along
the path with next date's aggregate risk integrated (:func:`path_euler_tables`), and the
residuals of the conditions the rollout does not solve exactly.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from ..model.household import Budget
from ..operators.lottery import expect, lottery_weights
from ..policies.savings import SavingsPolicy
from .continuous import (
    CONSTRAINED_SHARE, SavingsPath, SavingsProblem, _advance, next_date, path_transitions,
    path_values, period_utility, realised_unknowns, savings_rollout,
)
from .egm import euler_error_table, euler_summary
from .household import household_policies
from .markets import ForecastClearing
from .rollout import relative_exploitability
from .training import over_paths
from .values import backward_values

__all__ = ["SavingsEvaluation", "best_response_value", "equilibrium_columns", "evaluate_savings",
           "path_euler_errors", "path_euler_tables"]


class SavingsEvaluation(eqx.Module):
    """Certificate along sampled paths (per-path arrays ``(B,)``; docs/theory.md §12.4, §13.3).

    exploitability: ``sum_s mu_0(s) (V_BR,0 - V_pi,0)(s)``; relative: divided by
    ``|sum_s mu_0 V_pi,0|``. policy_return, best_response_return: the two ``mu_0``-weighted
    values; consumption_return: the policy's ``mu_0``-weighted value of consumption alone (the
    denominator of the consumption-equivalent exploitability,
    :func:`~hank_mfg.solvers.rollout.consumption_equivalent`). euler_mean, euler_max: mean
    (over dates, each date mass-weighted over unconstrained states) and max of
    ``log10 |1 - c_hat / c|`` of the learned policy along the path.
    residual: ``max_t |market residual|`` of the conditions solved each date. forward: ``max_t``
    of each forward-looking condition's expected residual ``|E_t res_t|`` (next date's shocks
    integrated by quadrature), ``(B, n_forward)``; market: ``max_t |residual|`` of every other
    named residual the economy reports (e.g. the goods market, cleared by Walras' law),
    ``(B, n_market)``. forecast_error: root mean squared forecast error of each forecast
    unknown, ``(B, n_u)``. finite: every price and value finite.
    """

    exploitability: Array
    relative: Array
    policy_return: Array
    best_response_return: Array
    consumption_return: Array
    euler_mean: Array
    euler_max: Array
    residual: Array
    finite: Array
    forward: Array
    market: Array
    forecast_error: Array


def best_response_value(problem: SavingsProblem, budget: Budget, Pis=None,
                        every_date: bool = False):
    """``V_BR,0`` of the perfect-information best response to a known budget path (EGM backward
    from ``(Va_ss, V_ss)``; the value under the lottery's interpolation, as the policy's).
    ``Pis (T, n_e, n_e)``: the income matrix from each date to the next (default ``Pi_e``;
    :func:`path_transitions` with an aggregate chain). ``every_date``: ``V_BR,t`` of every
    date ``(T, n_a, n_e)`` (the best response from that date on)."""
    model, a_grid = problem.model, problem.a_grid
    if Pis is None:
        Pis = jnp.broadcast_to(problem.Pi_e, (budget.R.shape[0],) + problem.Pi_e.shape)
    # the best response of a continuous choice: the endogenous grid method's policies, valued
    # by the one recursion (the lottery's interpolation, as the policy's value)
    a_pol, c_pol, n_pol = household_policies(model, budget, problem.Va_ss, Pis=Pis)
    V, _ = backward_values(problem.V_ss, period_utility(model, c_pol, n_pol),
                           lambda V_next, x: expect(V_next, *x),
                           (lottery_weights(a_pol, a_grid), Pis),
                           model.beta * jnp.broadcast_to(budget.discount, budget.R.shape))
    return V if every_date else V[0]


def path_euler_errors(problem: SavingsProblem, policy: SavingsPolicy, path: SavingsPath,
                      n_nodes: int | None = None, by_date: bool = False):
    """Euler errors of the policy along one path (dates ``0..T-2``) and the expected residuals
    of the forward-looking conditions: ``(mean, max, E_t res (T-1, n_forward))``.

    The expectation covers idiosyncratic and aggregate risk: next date's distribution is known
    today, its shocks' surprises take Gauss–Hermite nodes (``n_nodes`` per shock; default 5
    for one shock, 3 for more; announcements at their mean, zero); at each node the prices
    form (or clear) and the policy chooses after that observation, from today's history
    state. Each date's errors are mass-weighted over households not at the borrowing limit
    (saved share above ``CONSTRAINED_SHARE``); dates count equally in the mean. ``by_date``:
    each date's ``(mean log10, max log10, log10 of the mean error, E_t res)`` instead. With an
    aggregate Markov chain the expectation is exact: every next aggregate state with its
    probability, next date's distribution and incomes moved by that state's ``Pi_e[z, z']``.
    The tables behind these numbers: :func:`path_euler_tables`.
    """
    _, _, mean_log, max_log, log_mean, exp_res = path_euler_tables(problem, policy, path, n_nodes)
    if by_date:
        return mean_log, max_log, log_mean, exp_res
    return jnp.mean(mean_log), jnp.max(max_log), exp_res


def path_euler_tables(problem: SavingsProblem, policy: SavingsPolicy, path: SavingsPath,
                      n_nodes: int | None = None):
    """What :func:`path_euler_errors` computes, date by date (``0..T-2``): ``(errors,
    unconstrained, mean log10, max log10, log10 of the mean error, E_t res)``, the first two
    ``(T-1, n_a, n_e)`` tables of ``|1 - c_hat / c|`` and of households off the borrowing
    limit (saved share above ``CONSTRAINED_SHARE``)."""
    a_grid, e_grid = problem.a_grid, problem.e_grid
    chain = problem.chain is not None
    if n_nodes is None:
        n_nodes = 5 if problem.n_shocks == 1 else 3
    # without common noise next date's shocks are known: one node at zero
    nodes, weights = problem.surprise_nodes(n_nodes if problem.common_noise else 1)
    forward = problem.prices.forward_targets

    def one(xs):
        c, a_next, x, mu, mu_next, z, h, prev, carry, hh, disc = xs
        if chain:
            i = problem.chain_index(z)
            after = lottery_weights(a_next, a_grid).push(mu)
            states = jnp.arange(problem.chain.aggregate.n_states, dtype=z.dtype)[:, None]
            R_n, c_n, carry_n = jax.vmap(lambda zn: next_date(
                problem, policy, after @ problem.transition(z, zn), zn, h, carry))(states)
            wgt, Pis = problem.chain.aggregate.Pi[i], problem.chain.Pi_e[i]
        else:
            R_n, c_n, carry_n = jax.vmap(lambda nd: next_date(
                problem, policy, mu_next, _advance(problem, z, nd, jnp.zeros_like(nd)), h,
                carry))(nodes)
            wgt, Pis = weights, problem.Pi_e
        err, _ = euler_error_table(problem.model, c, a_next, R_n, c_n,
                                   (a_grid, e_grid, Pis, None), weights=wgt, discount=disc)
        unconstrained = x > CONSTRAINED_SHARE
        mean_log, max_log, log_mean = euler_summary(err, unconstrained, mu)
        if forward:
            exp_res = problem.prices.expected_residuals(problem, prev, carry, hh, carry_n,
                                                        weights)
        else:
            exp_res = jnp.zeros((0,), c.dtype)
        return err, unconstrained, mean_log, max_log, log_mean, exp_res

    cut = lambda x: jax.tree_util.tree_map(lambda y: y[:-1], x)
    init_carry = problem.prices.initial_carry(problem, policy)
    prev = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a[None], b[:-2]]),
                                  init_carry, path.carry)
    hh = {k: path.agg[k][:-1] for k in ("A", "C")}
    hh["N"] = jnp.sum(path.mu * path.n * problem.e_grid, axis=(1, 2))[:-1]
    xs = (path.c[:-1], path.a_next[:-1], path.share[:-1], path.mu[:-1], path.mu[1:],
          path.z[:-1], path.hidden[:-1], prev, cut(path.carry), hh,
          jnp.broadcast_to(path.budget.discount, path.budget.R.shape)[:-1])
    return jax.lax.map(one, xs)


def evaluate_savings(problem: SavingsProblem, policy: SavingsPolicy, eps,
                     sharding=None) -> SavingsEvaluation:
    """Roll out on every path ``eps (B, T, n_noise)`` and certify the policy (``sharding``:
    each device its own paths, :func:`~.training.over_paths`)."""
    prices = problem.prices
    markets = prices.market_names if isinstance(prices, ForecastClearing) else ()

    def one(policy, e):
        path = savings_rollout(problem, policy, e)
        mu0 = path.mu[0]
        V_pi = path_values(problem, path)[0][0]
        V_br = best_response_value(problem, path.budget, path_transitions(problem, path))
        ret_pi, ret_br = jnp.sum(mu0 * V_pi), jnp.sum(mu0 * V_br)
        ret_c = (jnp.sum(mu0 * path_values(problem, path, hours=False)[0][0])
                 if problem.model.endogenous_labour else ret_pi)
        em, ex, exp_res = path_euler_errors(problem, policy, path)
        finite = (jnp.all(jnp.isfinite(path.c)) & jnp.isfinite(ret_pi) & jnp.isfinite(ret_br)
                  & jnp.all(jnp.isfinite(path.budget.R)))
        market = jnp.stack([jnp.max(jnp.abs(path.agg[k])) for k in markets]) if markets \
            else jnp.zeros((0,), ret_pi.dtype)
        if policy.forecaster is not None:
            F = (policy.forecaster.forecasts(path.obs)
                 + jax.vmap(problem.linear_forecast)(path.z))[:-1]
            U = realised_unknowns(problem, path)[1:]
            fe = jnp.sqrt(jnp.mean((F - U) ** 2, axis=0))
        else:
            fe = jnp.zeros((0,), ret_pi.dtype)
        return (ret_br - ret_pi, relative_exploitability(ret_br - ret_pi, ret_pi), ret_pi, ret_br,
                ret_c, em, ex,
                jnp.max(jnp.abs(path.residual)), finite, jnp.max(jnp.abs(exp_res), axis=0),
                market, fe)

    params, static = eqx.partition(policy, eqx.is_array)
    def each(params, eps):
        policy = eqx.combine(params, static)
        return jax.vmap(lambda e: one(policy, e))(eps)

    return SavingsEvaluation(*over_paths(each, sharding, per_path=True)(params, eps))


def equilibrium_columns(problem: SavingsProblem, ev: SavingsEvaluation) -> dict[str, float]:
    """History columns of the equilibrium conditions that are not solved exactly each date
    (an economy with the firms' forecast): ``<target>_expected`` (``max`` over paths and dates
    of ``|E_t res_t|``), ``<market>_max`` (``max |residual|``) and ``forecast_rmse_<unknown>``."""
    prices = problem.prices
    if not isinstance(prices, ForecastClearing):
        return {}
    out = {f"{k}_expected": float(np.max(np.asarray(ev.forward)[:, i]))
           for i, k in enumerate(prices.forward_targets)}
    out.update({f"{k}_max": float(np.max(np.asarray(ev.market)[:, i]))
                for i, k in enumerate(prices.market_names)})
    out.update({f"forecast_rmse_{u}": float(np.sqrt(np.mean(np.asarray(ev.forecast_error)[:, i]
                                                             ** 2)))
                for i, u in enumerate(prices.unknowns)})
    return out

"""Euler-equation errors ``log10 |1 - c_hat / c|`` (docs/theory.md §8.1).

``c_hat = (u')^{-1}(beta E[(1 + r') u'(c'(a'(a, e), e')) | e])`` with next period's consumption
``c'`` interpolated linearly in wealth at the chosen ``a' = m - c`` (the EGM's own interpolation).
Errors are reported at unconstrained states (``a' > a_grid[0]``); the mean is weighted by the
distribution, the max is over unconstrained states with positive mass.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Bool, Float

from ..model.base import AbstractHetAgentModel
from ..model.economy import AbstractEconomy
from ..solvers.egm import (
    HouseholdSteadyState, euler_error_table, euler_summary, household_arrays, price_budget,
)
from ..solvers.steady_state import SteadyState
from ..solvers.transition import TransitionPath

__all__ = ["EulerErrors", "euler_errors"]


class EulerErrors(eqx.Module):
    """Euler-equation errors of a policy (docs/theory.md §8.1).

    Attributes:
        errors: ``|1 - c_hat / c|`` on the grid, ``(n_a, n_e)`` (or ``(T-1, n_a, n_e)`` on a path).
        unconstrained: states with ``a' > a_grid[0]`` (same shape).
        mean: mass-weighted mean of ``log10 |1 - c_hat/c|`` over unconstrained states (per date
            on a path). max: their max over unconstrained states with positive mass.
        log10_mean: ``log10`` of the mass-weighted mean absolute error.
    """

    errors: Float[Array, "..."]
    unconstrained: Bool[Array, "..."]
    mean: Float[Array, "..."]
    max: Float[Array, "..."]
    log10_mean: Float[Array, "..."]


@eqx.filter_jit
def _one(model, c, budget, n, c_next, R_next, mu, interp):
    """Errors of consumption ``c`` (hours ``n``) under ``budget``; next period ``c_next``, ``R_next``."""
    arrays = household_arrays(model)
    a_pol = budget.cash_on_hand(arrays[0], n) - c
    err, unc = euler_error_table(model, c, a_pol, R_next, c_next, arrays, interp,
                                 discount=budget.discount)
    mean_log, max_log, log_mean = euler_summary(err, unc, mu)
    return EulerErrors(errors=err, unconstrained=unc, mean=mean_log, max=max_log,
                       log10_mean=log_mean)


def euler_errors(
    model: AbstractHetAgentModel | AbstractEconomy,
    policy: (SteadyState | HouseholdSteadyState | TransitionPath
             | Float[Array, "n_a n_e"]),
    *,
    r: Float[ArrayLike, ""] | None = None,
    w: Float[ArrayLike, ""] | None = None,
    mu: Float[Array, "n_a n_e"] | None = None,
    interp: str = "linear",
) -> EulerErrors:
    """Euler-equation errors of a household consumption policy on the grid (docs/theory.md §8.1).

    Args:
        model: the declared model (grid, income chain, ``beta``, marginal utility).
        policy: a :class:`SteadyState` of any economy / :class:`HouseholdSteadyState` (uses
            its prices or budget, distribution, ``c_policy`` and hours; a declared economy's
            with its solved unknowns is the steady state's own, ``model`` is not read), a
            :class:`TransitionPath` of any economy solved with ``return_distribution=True``
            (errors at dates ``0..T-2``, using ``c_{t+1}`` and the return ``R_{t+1}``; a
            declared economy's budget of each date from its aggregates, with the date's
            discount shifter), or a stationary consumption table ``c(a, e)``
            ``(n_a, n_e)`` of a capital economy with prices ``r, w`` (and optionally ``mu``;
            default: uniform) given.
        interp: interpolation of next period's consumption in wealth (linear default).

    Returns:
        :class:`EulerErrors` (``mean``/``max`` are ``log10`` values; per date on a path).

    Example:
        >>> ee = hm.euler_errors(model, hm.steady_state(model))
        >>> float(ee.mean), float(ee.max)
    """
    if isinstance(policy, SteadyState) and policy.is_economy:
        budget = policy.model.budget(policy.values)
        return _one(policy.model, policy.c_policy, budget, policy.n_policy, policy.c_policy,
                    budget.R, policy.mu, interp)
    if isinstance(policy, (SteadyState, HouseholdSteadyState)):
        c, mu = policy.c_policy, policy.mu
        budget = price_budget(model, policy.r, policy.w)
        return _one(model, c, budget, 1.0, c, budget.R, mu, interp)
    if isinstance(policy, TransitionPath) and policy.is_economy:
        return _economy_path_errors(policy, interp)
    if isinstance(policy, TransitionPath):
        _needs_policies(policy)
        budgets = jax.vmap(lambda r, w: price_budget(model, r, w))(policy.r, policy.w)
        # next date's return: the rate of t + 1 with the wage of t (the wage does not enter R)
        return _path_errors(model, policy, budgets, jnp.ones_like(policy.c_policy),
                            budgets.R[1:], interp)
    c = jnp.asarray(policy, dtype=float)
    if not isinstance(model, AbstractHetAgentModel):
        raise ValueError(f"euler_errors.policy: give {type(model).__name__}'s steady state "
                         "(hm.steady_state) or a path solved with return_distribution=True; a "
                         "bare consumption table needs a capital economy's prices r and w")
    if r is None or w is None:
        raise ValueError("euler_errors: a consumption table needs the prices r and w")
    if mu is None:
        mu = jnp.full(c.shape, 1.0 / c.size)
    budget = price_budget(model, r, w)
    return _one(model, c, budget, 1.0, c, budget.R, mu, interp)


def _needs_policies(path) -> None:
    if path.c_policy is None:
        raise ValueError("euler_errors.policy: a TransitionPath needs its policies; solve it "
                         "with transition_path(..., return_distribution=True)")


def _economy_path_errors(path, interp) -> EulerErrors:
    """Per-date errors along an economy's perfect-foresight path: the budget of each date from
    its aggregates, next date's gross return and consumption, the date's discount shifter."""
    _needs_policies(path)
    model = path.model
    budgets = jax.vmap(model.budget)({k: path.values[k] for k in model.household_inputs})
    hours = path.n_policy if path.n_policy is not None else jnp.ones_like(path.c_policy)
    return _path_errors(model, path, budgets, hours, budgets.R[1:], interp)


def _path_errors(model, path, budgets, hours, R_next, interp) -> EulerErrors:
    """Errors at dates ``0..T-2`` of a path's policies, all dates in one vmapped call."""
    cut = lambda x: x[:-1]  # noqa: E731
    return jax.vmap(lambda c, b, n, c_next, R, mu: _one(model, c, b, n, c_next, R, mu, interp))(
        cut(path.c_policy), jax.tree_util.tree_map(cut, budgets), cut(hours),
        path.c_policy[1:], R_next, cut(path.mu))


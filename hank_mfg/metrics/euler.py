"""Euler-equation errors ``log10 |1 - c_hat / c|`` of every kind of solution (docs/theory.md §8).

One entry, :func:`euler_errors`, for a steady state, a perfect-foresight path, a stationary
consumption table, and a learned policy along sampled paths (a :class:`Solution` of either
kind of choice, or a compiled model with its policy):

* on the grid (steady states, paths, tables): ``c_hat = (u')^{-1}(beta E[(1 + r') u'(c'(a'(a,
  e), e')) | e])`` with next period's consumption ``c'`` interpolated linearly in wealth at the
  chosen ``a' = m - c`` (the EGM's own interpolation); errors at unconstrained states
  (``a' > a_grid[0]``), the mean weighted by the distribution, the max over unconstrained states
  with positive mass (:func:`~hank_mfg.solvers.egm.euler_error_table`);
* a learned policy with continuous savings choices: the same residual along each rollout, with
  the expectation over next date's aggregate shock by quadrature (or exactly, over an
  aggregate Markov chain), the prices and the policy's own choice at each node
  (:func:`~hank_mfg.solvers.savings_certificates.path_euler_tables`);
* a learned policy over a discrete action grid: along each rollout, with the expectation over
  the policy's action lottery and the wealth lottery (the operators' adjoint), next date's
  innovation by Gauss–Hermite quadrature and the history-aware policy's own next choice at each
  node (below, :func:`learned_euler_errors`).

What is computed for discrete choices, exactly. Along each sampled common-noise path the
population is rolled forward under the policy (as in :func:`~hank_mfg.rollout`). At every date
``t = 0..T-2`` and state ``s``:

* ``c_t(s) = sum_k P_t[s,k] c_t[s,k]``: the policy's expected consumption (at ``t = T-1`` under
  ``terminal="consume_all"`` consumption is cash on hand ``m``, which is what the reward values);
* next period's aggregate state is known up to the innovation: ``mu_{t+1}`` is deterministic and
  ``z_{t+1} = rho_z z_t + sigma_z eps`` with ``eps ~ N(0, 1)``, integrated by Gauss–Hermite
  quadrature (``n_nodes`` nodes; a single node ``eps = 0`` without common noise). For each node the
  policy is stepped from its date-``t`` hidden state with the node's observation, giving
  ``P_{t+1}`` and ``c_{t+1}`` — the history-aware policy's own forecast of its behaviour;
* ``c_hat_t(s) = (u')^{-1}(beta E_t[(1 + r_{t+1}) u'(c_{t+1}(s'))])`` where ``E_t`` averages over
  the quadrature nodes, the policy's action lottery at ``t`` (``P_t``), the wealth lottery of each
  action's ``a'`` onto the grid and the income transition (the operators' adjoint ``E``);
* the error is ``log10 |1 - c_hat / c|`` at *unconstrained* states (expected next wealth
  ``sum_k P_t a'_t > a_0``); its mass-weighted mean over states with ``mu_t(s) > 0`` and its max
  are reported per date and path, and averaged (mean) / maximised (max) over dates and paths.

With a discrete action grid the Euler equation cannot hold exactly; the numbers say how far from
intertemporal optimality the learned consumption rule is, in the units economists use.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Bool, Float

from ..model.base import AbstractHetAgentModel
from ..model.exogenous import gauss_hermite
from ..operators.compile import compile_model
from ..operators.meanfield import MeanField
from ..policies.networks import AbstractPolicy
from ..policies.savings import SavingsPolicy
from ..solvers.continuous import SavingsProblem, savings_rollout_batch
from ..solvers.egm import (
    HouseholdSteadyState, euler_error_table, euler_summary, household_arrays, price_budget,
)
from ..solvers.krusell_smith import KrusellSmithSolution
from ..solvers.rollout import rollout
from ..solvers.rspg import Solution
from ..solvers.savings_certificates import path_euler_tables
from ..solvers.steady_state import SteadyState
from ..solvers.training import placed, run_keys
from ..solvers.transition import TransitionPath
from .exploitability import as_policy

__all__ = ["EulerErrors", "LearnedEulerErrors", "euler_errors", "learned_euler_errors"]


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
    model,
    policy=None,
    *,
    r: Float[ArrayLike, ""] | None = None,
    w: Float[ArrayLike, ""] | None = None,
    mu: Float[Array, "n_a n_e"] | None = None,
    interp: str = "linear",
    key=None,
    n_paths: int | None = None,
    n_nodes: int | None = None,
):
    """Euler-equation errors of any solution (docs/theory.md §8).

    Args:
        model: the declared model (grid, income chain, ``beta``, marginal utility); or a
            learned :class:`~hank_mfg.solvers.rspg.Solution` alone (either kind of choice); or
            a compiled problem (a :class:`~hank_mfg.MeanField` or a
            :class:`~hank_mfg.solvers.continuous.SavingsProblem`) followed by its policy.
        policy: a :class:`SteadyState` of any economy / :class:`HouseholdSteadyState` (uses
            its prices or budget, distribution, ``c_policy`` and hours; a declared economy's
            with its solved unknowns is the steady state's own, ``model`` is not read), a
            :class:`TransitionPath` of any economy solved with ``return_distribution=True``
            (errors at dates ``0..T-2``, using ``c_{t+1}`` and the return ``R_{t+1}``; a
            declared economy's budget of each date from its aggregates, with the date's
            discount shifter), a stationary consumption table ``c(a, e)`` ``(n_a, n_e)`` of a
            capital economy with prices ``r, w`` (and optionally ``mu``; default: uniform)
            given; or a learned policy (a Solution, a trained policy, a
            :class:`~hank_mfg.TablePolicy`, a :class:`~hank_mfg.SavingsPolicy`).
        interp: interpolation of next period's consumption in wealth (linear default).
        key, n_paths: a learned policy's noise paths (default: a Solution's own evaluation
            paths, those of its history; else ``key`` is required and ``n_paths`` is 8).
        n_nodes: quadrature nodes of next date's shock for a learned policy (default 7 for
            discrete choices; 5 per shock, 3 with several shocks, for continuous ones).

    Returns:
        :class:`EulerErrors` on the grid (``mean``/``max`` are ``log10`` values; per date on a
        path), or :class:`LearnedEulerErrors` along the sampled paths of a learned policy.

    Example:
        >>> ee = hm.euler_errors(model, hm.steady_state(model))
        >>> float(ee.mean), float(ee.max)
        >>> hm.euler_errors(sol).mean_log10                      # any learned solution
    """
    learned = _learned(model, policy)
    if learned is not None:
        return _learned_errors(*learned, key=key, n_paths=n_paths, n_nodes=n_nodes)
    if policy is None:
        if isinstance(model, KrusellSmithSolution):
            raise TypeError("euler_errors: a Krusell-Smith algorithm's solution has its Euler "
                            "errors along simulated paths in hm.den_haan_errors(solution) "
                            "(euler_mean, euler_max, euler_log10_mean, euler_log10_max)")
        raise TypeError(f"euler_errors: give a Solution alone, or {type(model).__name__} and its "
                        "steady state, path, consumption table or policy")
    if isinstance(policy, SteadyState):
        budget = policy.model.budget(policy.values)
        return _one(policy.model, policy.c_policy, budget, policy.n_policy, policy.c_policy,
                    budget.R, policy.mu, interp)
    if isinstance(policy, HouseholdSteadyState):
        c, mu = policy.c_policy, policy.mu
        budget = price_budget(model, policy.r, policy.w)
        return _one(model, c, budget, 1.0, c, budget.R, mu, interp)
    if isinstance(policy, TransitionPath):
        return _path_errors_of(policy, interp)
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


def _path_errors_of(path, interp) -> EulerErrors:
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



# ---------------------------------------------------------------------------------------------
# learned policies along sampled paths
# ---------------------------------------------------------------------------------------------
class LearnedEulerErrors(eqx.Module):
    """Euler-equation errors of a learned policy along ``B`` paths (dates ``0..T-2``).

    Attributes:
        errors: ``|1 - c_hat / c|`` at every date and state, ``(B, T-1, *states)`` (states:
            the flat wealth-major ``n_s`` of discrete choices, ``(n_a, n_e)`` of continuous
            ones). unconstrained: households off the borrowing limit, the same shape.
        mu: the distribution at each date, the same shape.
        mean, max: per path and date ``(B, T-1)``: mass-weighted mean and max of ``log10`` errors
            over unconstrained states with mass.
        mean_log10, max_log10: their mean and max over paths and dates (0-d).
    """

    errors: Float[Array, "B Tm1 ..."]
    unconstrained: Array
    mu: Float[Array, "B Tm1 ..."]
    mean: Float[Array, "B Tm1"]
    max: Float[Array, "B Tm1"]
    mean_log10: Array
    max_log10: Array


def _learned(model, policy):
    """``(problem, policy, solution or None)`` when ``model, policy`` name a learned policy."""
    sol = model if isinstance(model, Solution) else policy if isinstance(policy, Solution) \
        else None
    if sol is not None:
        if isinstance(model, Solution) and policy is not None:
            raise ValueError("euler_errors: give a Solution alone, or a model and a policy")
        return sol.compiled(), sol.policy, sol
    if isinstance(policy, SavingsPolicy):
        if not isinstance(model, SavingsProblem):
            raise TypeError("euler_errors: a SavingsPolicy's errors need its compiled problem "
                            "(hm.savings_problem(model, ss)) or its Solution")
        return model, policy, None
    if isinstance(policy, AbstractPolicy):
        mf = model if isinstance(model, MeanField) else compile_model(model)
        return mf, policy, None
    if isinstance(model, MeanField):
        return model, as_policy(policy, model, "euler_errors"), None
    return None


def _learned_errors(problem, policy, sol, *, key, n_paths, n_nodes) -> LearnedEulerErrors:
    if key is None:
        if sol is None:
            raise ValueError("euler_errors: key= (the noise paths) is required unless a "
                             "Solution is given")
        key = run_keys(sol.config)[2]
        n_paths = sol.config.eval_paths if n_paths is None else n_paths
    n_paths = 8 if n_paths is None else int(n_paths)
    if isinstance(problem, SavingsProblem):
        with jax.enable_x64(True):  # continuous choices are solved in float64
            eps = placed(problem.sample_noise(key=key, n_paths=n_paths))
            return _savings_errors(problem, policy, eps, n_nodes)
    return learned_euler_errors(problem, policy, problem.sample_noise(key=key, n_paths=n_paths),
                                n_nodes=7 if n_nodes is None else n_nodes)


@eqx.filter_jit
def _savings_errors(problem, policy, eps, n_nodes) -> LearnedEulerErrors:
    paths = savings_rollout_batch(problem, policy, eps)
    err, unc, mean, mx, _, _ = jax.vmap(
        lambda p: path_euler_tables(problem, policy, p, n_nodes))(paths)
    return LearnedEulerErrors(errors=err, unconstrained=unc, mu=paths.mu[:, :-1], mean=mean,
                              max=mx, mean_log10=jnp.mean(mean), max_log10=jnp.max(mx))


@eqx.filter_jit
def _errors(mf: MeanField, policy: AbstractPolicy, eps, mu0, nodes, weights):
    cache = policy.prepare()
    T = eps.shape[-1]
    model = mf.model
    consume_all = model.terminal == "consume_all"
    a0 = mf.a_grid[0]

    def cons(P, agg, t):
        c, a_next, _ = mf.expected_choices(P, agg)
        if consume_all:
            c = jnp.where(t == T - 1, mf.cash_on_hand(agg), c)
        return c, a_next

    def one(e):
        traj = rollout(mf, policy, e, mu0)

        def date(t, mu, agg, P, carry, mu_next):   # date t's errors, branching on t + 1's shock
            c, a_next = cons(P, agg, t)
            lot = mf.lottery(agg)

            def node(x):
                agg1 = mf.aggregate_state(mu_next, mf.next_z(agg.z, x))
                _, P1 = policy.step(carry, mf.observation(agg1), t + 1, cache)
                c1, _ = cons(P1, agg1, t + 1)
                return mf.expect((1.0 + agg1.r) * model.marginal_utility(c1), P, agg, lot)

            Ev = weights @ jax.vmap(node)(nodes)
            c_hat = model.inverse_marginal_utility(model.beta * Ev)
            return jnp.abs(1.0 - c_hat / c), a_next > a0 + 1e-10 * (1.0 + jnp.abs(a0))

        head = lambda x: jax.tree_util.tree_map(lambda y: y[:-1], x)  # noqa: E731
        # one date at a time (a map, not a vmap: the nodes' tables of every date at once
        # would not stay in cache)
        err, unc = jax.lax.map(lambda x: date(*x), (jnp.arange(T - 1), traj.mu[:-1],
                                                    head(traj.agg), traj.P[:-1],
                                                    head(traj.hidden), traj.mu[1:]))
        return err, unc, traj.mu[:-1]

    err, unc, mu = jax.vmap(one)(eps)
    mean, mx, _ = jax.vmap(jax.vmap(euler_summary))(err, unc, mu)  # per path and date
    return LearnedEulerErrors(errors=err, unconstrained=unc, mu=mu, mean=mean, max=mx,
                              mean_log10=jnp.mean(mean), max_log10=jnp.max(mx))


def learned_euler_errors(
    mf: MeanField, policy: AbstractPolicy, eps: Float[Array, "B T"],
    mu0: Float[Array, " n_s"] | None = None, *, n_nodes: int = 7,
) -> LearnedEulerErrors:
    """Euler-equation errors of a discrete-choice ``policy`` along the noise paths ``eps`` (see
    the module docstring); :func:`euler_errors` calls it for such a policy.

    Args:
        mf: compiled model. policy: a learned (or table) policy. eps: innovations ``(B, T)``.
        mu0: initial distribution (default the model's). n_nodes: Gauss–Hermite nodes for the
            next-period TFP innovation (ignored without common noise).

    Returns:
        :class:`LearnedEulerErrors`.

    Raises:
        ValueError: fewer than 2 dates, or ``n_nodes < 1``.
    """
    if eps.shape[-1] < 2:
        raise ValueError(f"learned_euler_errors.eps needs at least 2 dates; got shape {eps.shape}")
    if n_nodes < 1:
        raise ValueError(f"learned_euler_errors.n_nodes must be at least 1; got {n_nodes}")
    dtype = mf.a_s.dtype
    if mf.model.common_noise:
        x, w = gauss_hermite(n_nodes)
    else:
        x, w = np.zeros(1), np.ones(1)
    mu0 = mf.initial_distribution() if mu0 is None else jnp.asarray(mu0, dtype)
    return _errors(mf, policy, eps, mu0, jnp.asarray(x, dtype), jnp.asarray(w, dtype))

"""RSPG with continuous savings choices around a steady state (docs/theory.md §12).

The problem is built from a model's steady state (EGM, the gold standard): the population
starts at the steady-state distribution, the horizon ``T`` is the first with ``beta^T`` below
``horizon_tol`` and the continuation value at ``T`` is the steady-state value ``V_ss``
(infinite-horizon economics on a finite horizon). Along a common-noise path, each date:

1. prices form from the current distribution and shocks — in closed form for a capital economy
   (:class:`CapitalPrices`), or by clearing a market inside the rollout for a bond economy
   (:class:`ClearedPrice`: the policy observes the candidate price, aggregate supply is a
   function of it, a bracketed bisection finds the clearing price; households take it as given);
2. every household saves ``a' = a_min + x (m - a_min)`` with the policy's share ``x``
   (:class:`~hank_mfg.policies.savings.SavingsPolicy`), consumes ``c = m - a'``;
3. the distribution moves with the lottery of EGM's distribution (:func:`lottery_weights`) and the
   income matrix.

With the mean-field (and price) path held fixed, the household's value is the backward
recursion ``V_t = u(c_t) + beta E[V_{t+1}(a'_t, e')]`` (``V_{t+1}`` linear in ``a'`` between grid
points, as the lottery) and the RSPG gradient is the deterministic policy-gradient identity
``dJ = sum_t beta^t sum_s mu_t(s) dQ_t/da'(s) da'_t(s)`` (:func:`savings_value_and_grad`), equal to
reverse mode through the rollout (:func:`savings_loss`; tested against each other and finite
differences). The certificate on each path is the perfect-information best response — the
household problem under the path's known prices, solved by EGM backward from the same terminal
value (:func:`evaluate_savings`) — and the Euler errors of the learned policy along the path.
"""

from __future__ import annotations

import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from ..model.base import AbstractHetAgentModel
from ..model.economy import AbstractEconomy, Variables
from ..model.household import Budget
from ..operators.meanfield import lottery_weights
from ..policies.savings import SavingsPolicy
from .egm import _lottery_step, euler_error_table, euler_summary, household_arrays, household_step

__all__ = [
    "CapitalPrices", "ClearedPrice", "SavingsEvaluation", "SavingsProblem", "SavingsPath",
    "evaluate_savings", "horizon_for", "savings_loss", "savings_problem", "savings_rollout",
    "savings_value_and_grad", "stationary_policy_value",
]

#: Savings shares below this are read as "at the borrowing limit" (Euler errors skip them).
CONSTRAINED_SHARE = 1e-4
#: The structural starting point's shares are kept in ``[EDGE, 1 - EDGE]`` (its logit is finite).
EDGE = 1e-9


def horizon_for(beta: float, tol: float) -> int:
    """The first ``T`` with ``beta^T <= tol``."""
    return max(2, int(math.ceil(math.log(tol) / math.log(float(beta)))))


def stationary_policy_value(model, c, a_next, tol: float = 1e-12, maxiter: int = 100_000):
    """Value ``V(a, e)`` of a stationary savings policy, by iterating
    ``V = u(c) + beta E[V(a', e') | e]`` with ``V`` linear in ``a'`` between grid points (the
    lottery's interpolation) until the relative sup-norm change is below ``tol``.

    Returns ``(V, iterations, relative change)`` (traceable; no error raised here).
    """
    a_grid, _, Pi_e, _ = household_arrays(model)
    u = model.utility(c)
    lot = lottery_weights(a_next, a_grid)

    def cond(s):
        it, _, err = s
        return (err > tol) & (it < maxiter)

    def body(s):
        it, V, _ = s
        new = u + model.beta * _expect_at(V @ Pi_e.T, lot)
        return it + 1, new, jnp.max(jnp.abs(new - V)) / (1.0 + jnp.max(jnp.abs(new)))

    V0 = u / (1.0 - model.beta)
    it, V, err = jax.lax.while_loop(cond, body, (0, V0, jnp.asarray(jnp.inf, u.dtype)))
    return V, it, err


def _expect_at(W, lot):
    """``W`` (``(n_a, n_e)``, a function of next wealth per today's income) at each state's
    lottery: ``w_lo W[idx] + (1 - w_lo) W[idx + 1]`` column by column."""
    cols = jnp.arange(W.shape[1])[None, :]
    return lot.w_lo * W[lot.idx, cols] + (1.0 - lot.w_lo) * W[lot.idx + 1, cols]


def _slope_at(W, lot, a_grid):
    """``d/da'`` of :func:`_expect_at` (zero where the lottery is clipped at a grid end)."""
    cols = jnp.arange(W.shape[1])[None, :]
    slope = (W[lot.idx + 1, cols] - W[lot.idx, cols]) / (a_grid[lot.idx + 1] - a_grid[lot.idx])
    return jnp.where((lot.w_lo > 0) & (lot.w_lo < 1), slope, 0.0)


def _bracketed_root(f, lo, hi, steps: int):
    """A sign change of ``f`` on ``[lo, hi]`` by the Illinois method (regula falsi that halves
    the weight of an end kept twice) in a fixed number of steps: the bracket always holds a sign
    change, convergence is superlinear on smooth pieces, and there is no data-dependent loop.
    Returns the last iterate (an end of the bracket if ``f`` has no sign change there)."""
    f_lo, f_hi = f(lo), f(hi)

    def body(_, b):
        lo, hi, f_lo, f_hi, side, x = b
        denom = f_hi - f_lo
        x = jnp.where(denom != 0, (lo * f_hi - hi * f_lo) / jnp.where(denom != 0, denom, 1.0),
                      0.5 * (lo + hi))
        x = jnp.clip(x, jnp.minimum(lo, hi), jnp.maximum(lo, hi))
        f_x = f(x)
        keep_hi = jnp.sign(f_x) == jnp.sign(f_lo)  # root in [x, hi]: x replaces lo
        new_lo, new_hi = jnp.where(keep_hi, x, lo), jnp.where(keep_hi, hi, x)
        # Illinois: halve the stale end's value when the same end is kept twice in a row
        new_f_lo = jnp.where(keep_hi, f_x, jnp.where(side == -1, 0.5 * f_lo, f_lo))
        new_f_hi = jnp.where(keep_hi, jnp.where(side == 1, 0.5 * f_hi, f_hi), f_x)
        new_side = jnp.where(keep_hi, 1, -1)
        done = f_x == 0
        return (jnp.where(done, x, new_lo), jnp.where(done, x, new_hi),
                jnp.where(done, 0.0, new_f_lo), jnp.where(done, 0.0, new_f_hi), new_side, x)

    init = (lo, hi, f_lo, f_hi, jnp.asarray(0), 0.5 * (lo + hi))
    return jax.lax.fori_loop(0, steps, body, init)[-1]


# ---------------------------------------------------------------------------------------------
# how prices form
# ---------------------------------------------------------------------------------------------
class CapitalPrices(eqx.Module):
    """Prices in closed form from the distribution: ``K = sum mu a``, ``L = sum mu e`` and
    ``(r, w) = model.prices(K, L, z)`` (an :class:`AbstractHetAgentModel`). The households
    observe ``model.observation`` (``(r, w)``); the structural start expects steady-state
    returns (``factor = 1``)."""

    names = ("K", "L", "Y", "r", "w", "z")

    def initial_carry(self, problem):
        return jnp.zeros((), problem.a_grid.dtype)

    def clear(self, problem, mu, z, carry, act):
        from ..operators.meanfield import AggregateState

        model = problem.model
        K = jnp.sum(mu * problem.a_grid[:, None])
        L = jnp.sum(mu * problem.e_grid[None, :])
        r, w = model.prices(K, L, z[0])
        agg = AggregateState(K=K, L=L, z=z[0], Y=model.output(K, L, z[0]), r=r, w=w)
        budget = model.budget(agg)
        obs = model.observation(agg)
        out = act(budget, jnp.ones((), K.dtype), obs)
        record = dict(K=K, L=L, Y=agg.Y, r=r, w=w, z=z[0])
        return budget, obs, out, carry, record, jnp.zeros((), K.dtype)


class ClearedPrice(eqx.Module):
    """One price that clears a market inside the rollout (an :class:`AbstractEconomy` with one
    transition unknown, e.g. Huggett's ``r`` clearing ``asset_mkt``).

    At date ``t`` the economy's aggregate block runs on the two dates ``(t - 1, t)`` with the
    candidate price at ``t``; the budget reads its household inputs at ``t`` (e.g. the rate set
    at ``t - 1``), the households observe the candidate price and the exogenous variables, and
    the market's residual (the economy's ``residuals`` with ``A = sum mu a'``) is zeroed by
    ``steps`` Illinois steps on the steady-state price ``± width`` (a fixed number of steps:
    no data-dependent loop inside the rollout; the bracket always keeps a sign change). The clearing price is a stop-gradient: households are
    price takers. The structural start scales the steady-state continuation by the gross return
    the households' savings will earn (``factor = R_{t+1} / R_ss``, the budget of date ``t + 1``
    with today's price and the rest at the steady state).
    """

    unknown: str = eqx.field(static=True)
    target: str = eqx.field(static=True)
    width: float = eqx.field(static=True, default=0.5)
    steps: int = eqx.field(static=True, default=40)

    @property
    def names(self):
        return (self.unknown,)

    def initial_carry(self, problem):
        ss = problem.ss_values
        return {k: ss[k] for k in (self.unknown,) + tuple(problem.model.exogenous)}

    def _variables(self, problem, prev, now):
        v = Variables({k: jnp.stack([prev[k], now[k]]) for k in now}, ss=problem.ss_values)
        problem.model.aggregates(v)
        return v

    def clear(self, problem, mu, z, carry, act):
        model, ss = problem.model, problem.ss_values
        exo = {s: ss[s] + z[i] for i, s in enumerate(problem.shock_names)}
        exo = {k: exo.get(k, ss[k]) for k in model.exogenous}

        def at(price):
            now = {self.unknown: price, **exo}
            v = self._variables(problem, carry, now)
            budget = model.budget({k: v[k][1] for k in model.household_inputs})
            after = self._variables(problem, now, {self.unknown: ss[self.unknown],
                                                   **{k: ss[k] for k in model.exogenous}})
            R_next = model.budget({k: after[k][1] for k in model.household_inputs}).R
            obs = jnp.stack([price] + [exo[k] for k in model.exogenous])
            out = act(budget, R_next / problem.R_ss, obs)
            a_next, c = out[2], out[3]
            v["A"] = jnp.full((2,), jnp.sum(mu * a_next))
            v["C"] = jnp.full((2,), jnp.sum(mu * c))
            v["N"] = jnp.full((2,), jnp.sum(mu * problem.e_grid[None, :]))
            return model.residuals(v)[self.target][1], (budget, obs, out, v)

        lo = ss[self.unknown] - self.width
        price = _bracketed_root(lambda p: at(p)[0], lo, lo + 2.0 * self.width, self.steps)
        price = jax.lax.stop_gradient(price)
        res, (budget, obs, out, v) = at(price)
        record = {k: v[k][1] for k in (self.unknown,) + tuple(model.household_inputs)
                  + tuple(model.exogenous)}
        return budget, obs, out, {self.unknown: price, **exo}, record, res


# ---------------------------------------------------------------------------------------------
# the compiled problem
# ---------------------------------------------------------------------------------------------
class SavingsProblem(eqx.Module):
    """A model compiled for continuous-choice RSPG around its steady state.

    Attributes:
        model: the model (an economy with its solved steady-state fields in place).
        prices: :class:`CapitalPrices` or :class:`ClearedPrice`.
        a_grid, e_grid, Pi_e: household arrays. mu_ss, a_ss, c_ss, Va_ss, V_ss: the steady
            state's distribution, policies, marginal value and value ``(n_a, n_e)``.
        ss_values: steady-state aggregates by name. R_ss: steady-state gross return.
        rho, sigma: the shocks' AR(1) coefficients ``(n_shocks,)``; shock_names their names.
        obs_ref, obs_scale: the observation at the steady state and its normalising scale.
        horizon: ``T``. common_noise: whether paths are sampled (else ``eps = 0``).
        steady_state: the EGM steady state the problem was built from.
    """

    model: eqx.Module
    prices: eqx.Module
    a_grid: Float[Array, " n_a"]
    e_grid: Float[Array, " n_e"]
    Pi_e: Float[Array, "n_e n_e"]
    mu_ss: Float[Array, "n_a n_e"]
    a_ss: Float[Array, "n_a n_e"]
    c_ss: Float[Array, "n_a n_e"]
    Va_ss: Float[Array, "n_a n_e"]
    V_ss: Float[Array, "n_a n_e"]
    ss_values: dict
    R_ss: Float[Array, ""]
    rho: Float[Array, " n_shocks"]
    sigma: Float[Array, " n_shocks"]
    obs_ref: Float[Array, " n_obs"]
    obs_scale: Float[Array, " n_obs"]
    shock_names: tuple = eqx.field(static=True)
    horizon: int = eqx.field(static=True)
    common_noise: bool = eqx.field(static=True)
    steady_state: Any = None

    @property
    def n_shocks(self) -> int:
        return len(self.shock_names)

    @property
    def beta(self):
        return self.model.beta

    def sample_noise(self, *, key: PRNGKeyArray, n_paths: int, T: int | None = None):
        """Standard normal innovations ``(n_paths, T, n_shocks)`` (zeros without common noise)."""
        T = self.horizon if T is None else T
        shape = (n_paths, T, self.n_shocks)
        if not self.common_noise:
            return jnp.zeros(shape, self.a_grid.dtype)
        return jax.random.normal(key, shape, self.a_grid.dtype)

    def make_policy(self, *, key, **arch) -> SavingsPolicy:
        return SavingsPolicy(self.a_grid, self.e_grid.shape[0], self.obs_ref, self.obs_scale,
                             key=key, **arch)


def check_supported(model) -> None:
    """``ValueError`` (naming the model and the declaration it cannot take) unless continuous-choice
    RSPG covers ``model``: a capital economy, or an economy without a labour choice whose one
    transition unknown clears one market each date."""
    if isinstance(model, AbstractEconomy):
        if model.endogenous_labour:
            raise ValueError(
                f"RSPG with continuous choices: {type(model).__name__} has a labour choice; the "
                "savings policy covers households without one")
        if len(model.transition_unknowns) != 1:
            raise ValueError(
                f"RSPG with continuous choices clears one price per date; "
                f"{type(model).__name__}.transition_unknowns is {model.transition_unknowns}")
    elif not isinstance(model, AbstractHetAgentModel):
        raise TypeError(f"RSPG with continuous choices expects an AbstractHetAgentModel or an "
                        f"AbstractEconomy; got {type(model).__name__}")


def savings_problem(model, steady_state, *, horizon: int | None = None,
                    horizon_tol: float = 1e-2) -> SavingsProblem:
    """Compile ``model`` around its ``steady_state`` for continuous-choice RSPG.

    Args:
        model: an :class:`AbstractHetAgentModel` (prices in closed form) or an
            :class:`AbstractEconomy` with one transition unknown cleared each date.
        steady_state: ``hm.steady_state(model)`` (EGM).
        horizon: ``T`` (default: the first with ``beta^T <= horizon_tol``).
    """
    check_supported(model)
    if isinstance(model, AbstractEconomy):
        solved = steady_state.model
        prices = ClearedPrice(unknown=model.transition_unknowns[0],
                              target=model.transition_targets[0])
        ss_values = {k: jnp.asarray(v, dtype=float) for k, v in steady_state.values.items()}
        shocks = solved.shocks()
        names = tuple(s.name for s in shocks)
        rho = jnp.asarray([s.rho for s in shocks], dtype=float)
        sigma = jnp.asarray([s.sigma for s in shocks], dtype=float)
        budget = solved.budget(ss_values)
        obs_ref = jnp.stack([ss_values[prices.unknown]]
                            + [ss_values[k] for k in solved.exogenous])
    elif isinstance(model, AbstractHetAgentModel):
        solved, prices = model, CapitalPrices()
        ss_values = {k: jnp.asarray(v, dtype=float) for k, v in steady_state.values.items()}
        names = ("z",)
        rho = jnp.asarray([model.rho_z], dtype=float)
        sigma = jnp.asarray([model.sigma_z], dtype=float)
        budget = solved.budget(ss_values)
        from ..operators.meanfield import AggregateState

        agg = AggregateState(K=ss_values["K"], L=ss_values["L"], z=jnp.zeros(()),
                             Y=ss_values["Y"], r=ss_values["r"], w=ss_values["w"])
        obs_ref = model.observation(agg)
    else:
        raise TypeError(f"RSPG with continuous choices expects an AbstractHetAgentModel or an "
                        f"AbstractEconomy; got {type(model).__name__}")
    a_grid, e_grid, Pi_e, _ = household_arrays(solved)
    a_ss, c_ss = jnp.asarray(steady_state.a_policy), jnp.asarray(steady_state.c_policy)
    V_ss, it, err = stationary_policy_value(solved, c_ss, a_ss)
    if not float(err) <= 1e-12:
        raise RuntimeError(f"savings_problem: the steady-state value did not converge after "
                           f"{int(it)} iterations (relative change {float(err):.3g})")
    T = horizon_for(float(solved.beta), horizon_tol) if horizon is None else int(horizon)
    if T < 2:
        raise ValueError(f"RSPGConfig.horizon must be at least 2; got {T}")
    problem = SavingsProblem(
        model=solved, prices=prices, a_grid=a_grid, e_grid=e_grid, Pi_e=Pi_e,
        mu_ss=jnp.asarray(steady_state.mu), a_ss=a_ss, c_ss=c_ss,
        Va_ss=jnp.asarray(steady_state.Va), V_ss=V_ss, ss_values=ss_values, R_ss=budget.R,
        rho=rho, sigma=sigma, obs_ref=obs_ref, obs_scale=jnp.ones_like(obs_ref),
        shock_names=names, horizon=T, common_noise=bool(model.common_noise),
        steady_state=steady_state,
    )
    return eqx.tree_at(lambda p: p.obs_scale, problem, observation_scale(problem))


def observation_scale(problem: SavingsProblem, n_paths: int = 4, seed: int = 0):
    """The s.d. of each observation over dates and paths under the structural start (the
    untrained policy), so that the network reads deviations of order one. Without common
    noise (or for an observation that does not move): 1% of its steady-state level (1e-4 at
    zero)."""
    policy = problem.make_policy(key=jax.random.key(seed), hidden=1, widths=(1,), n_knots=2)
    fallback = 1e-2 * jnp.abs(problem.obs_ref) + 1e-4
    if not problem.common_noise:
        return fallback
    eps = problem.sample_noise(key=jax.random.key(seed), n_paths=n_paths)
    obs = jax.jit(jax.vmap(lambda e: savings_rollout(problem, policy, e).obs))(eps)
    sd = jnp.std(obs.reshape(-1, obs.shape[-1]), axis=0)
    return jnp.where(sd > 1e-12 * (1.0 + jnp.abs(problem.obs_ref)), sd, fallback)


# ---------------------------------------------------------------------------------------------
# rollout
# ---------------------------------------------------------------------------------------------
class SavingsPath(eqx.Module):
    """One mean-field path under a savings policy (leading axis ``T``; batched adds ``B``).

    mu: distribution at the start of each date ``(T, n_a, n_e)``. a_next, c: savings and
    consumption. share: the saved share ``x``. dshare: ``da'/d logit = x (1 - x) (m - a_min)``.
    obs: observations ``(T, n_obs)``. budget: the :class:`Budget` of each date. agg: named
    aggregates ``(T,)`` (prices, ``C``, ``A``). residual: the cleared market's residual ``(T,)``.
    z: the shocks' states ``(T, n_shocks)``. hidden, carry: the policy's history state and the
    prices' carry after each date (to branch on next date's shock, :func:`path_euler_errors`).
    """

    mu: Array
    a_next: Array
    c: Array
    share: Array
    dshare: Array
    obs: Array
    budget: Budget
    agg: dict
    residual: Array
    z: Array
    hidden: Array
    carry: Any


def _act(problem: SavingsProblem, policy: SavingsPolicy, h, budget, factor, obs):
    """The households' choices at one date: the structural start plus the learned correction."""
    model, a_grid = problem.model, problem.a_grid
    arrays = (a_grid, problem.e_grid, problem.Pi_e, None)
    m = budget.cash_on_hand(a_grid)
    span = m - a_grid[0]
    _, a_base, _, _ = household_step(model, factor * problem.Va_ss, budget, arrays=arrays)
    xb = jnp.clip((a_base - a_grid[0]) / span, EDGE, 1.0 - EDGE)
    base = jax.lax.stop_gradient(jnp.log(xb) - jnp.log1p(-xb))
    h, delta = policy.step(h, obs)
    x = jax.nn.sigmoid(base + delta)
    a_next = a_grid[0] + x * span
    return h, x, a_next, m - a_next, x * (1.0 - x) * span


def savings_rollout(problem: SavingsProblem, policy: SavingsPolicy, eps, mu0=None,
                    z_shock=None) -> SavingsPath:
    """Roll the population forward ``T = eps.shape[0]`` dates (``eps (T, n_shocks)``).

    Shocks: ``z_t = rho z_{t-1} + sigma eps_t + z_shock_t`` from ``z_{-1} = 0``, so the first
    innovation hits at date 0 (the policy learns to read a shock from its first observation).
    ``z_shock (T, n_shocks)``: deterministic innovations (impulse responses). The mean field,
    prices and observations carry a stop-gradient (docs/theory.md §12.3); the policy's choices
    stay differentiable.
    """
    mu0 = problem.mu_ss if mu0 is None else mu0
    z_shock = jnp.zeros_like(eps) if z_shock is None else jnp.asarray(z_shock, eps.dtype)
    sg = jax.lax.stop_gradient

    def body(state, xs):
        mu, z_prev, h, carry = state
        e, shock = xs
        z = problem.rho * z_prev + problem.sigma * e + shock

        def act(budget, factor, obs):
            return _act(problem, policy, h, budget, sg(factor), sg(obs))

        budget, obs, out, carry, record, res = problem.prices.clear(problem, mu, z, carry, act)
        h_new, x, a_next, c, dx = out
        record = dict(record, C=jnp.sum(mu * c), A=jnp.sum(mu * a_next))
        lot = lottery_weights(sg(a_next), problem.a_grid)
        mu_next = sg(_lottery_step(mu, lot, problem.Pi_e))
        carry = sg(carry)
        return (mu_next, z, h_new, carry), (mu, a_next, c, x, dx, sg(obs),
                                                 jax.tree_util.tree_map(sg, budget),
                                                 jax.tree_util.tree_map(sg, record), sg(res),
                                                 z, sg(h_new), carry)

    init = (sg(mu0), jnp.zeros((problem.n_shocks,), eps.dtype), policy.init_carry(),
            problem.prices.initial_carry(problem))
    _, (mu, a_next, c, x, dx, obs, budget, agg, res, z, hid, carry) = jax.lax.scan(
        body, init, (eps, z_shock))
    return SavingsPath(mu=mu, a_next=a_next, c=c, share=x, dshare=dx, obs=obs, budget=budget,
                       agg=agg, residual=res, z=z, hidden=hid, carry=carry)


def savings_rollout_batch(problem, policy, eps, mu0=None, z_shock=None) -> SavingsPath:
    """:func:`savings_rollout` over ``B`` paths ``eps (B, T, n_shocks)``."""
    return jax.vmap(lambda e: savings_rollout(problem, policy, e, mu0, z_shock))(eps)


# ---------------------------------------------------------------------------------------------
# values, gradient, certificate
# ---------------------------------------------------------------------------------------------
def path_values(problem: SavingsProblem, path: SavingsPath):
    """Values ``V_t`` and ``G_t = dQ_t/da'`` at the chosen ``a'`` along a fixed path (``(T, n_a, n_e)``).

    ``V_T = V_ss``; ``V_t = u(c_t) + beta E[V_{t+1}(a'_t, e')]`` with ``V_{t+1}`` linear in ``a'``
    between grid points; ``G_t = -u'(c_t) + beta d/da' E[V_{t+1}(a', e')]``.
    """
    model, a_grid = problem.model, problem.a_grid

    def body(V_next, xs):
        a_next, c = xs
        W = V_next @ problem.Pi_e.T
        lot = lottery_weights(a_next, a_grid)
        V = model.utility(c) + model.beta * _expect_at(W, lot)
        G = -model.marginal_utility(c) + model.beta * _slope_at(W, lot, a_grid)
        return V, (V, G)

    _, (V, G) = jax.lax.scan(body, problem.V_ss, (path.a_next, path.c), reverse=True)
    return V, G


def savings_loss(policy: SavingsPolicy, problem: SavingsProblem, eps) -> Array:
    """RSPG loss ``-mean_b sum_s mu_0(s) V_0(s)`` by reverse mode through the rollout (mean field
    and prices stop-gradient)."""
    path = savings_rollout_batch(problem, policy, eps)
    V0 = jax.vmap(lambda p: path_values(problem, p)[0][0])(path)
    return -jnp.mean(jnp.sum(V0 * problem.mu_ss, axis=(1, 2)))


def savings_value_and_grad(params, static, problem: SavingsProblem, eps):
    """RSPG loss and gradient by the deterministic policy-gradient identity (docs/theory.md §12.3).

    A gradient-free rollout records the path, a gradient-free backward recursion gives ``V``
    and ``G = dQ/da'``, and the policy is replayed on the recorded observations with one reverse
    sweep of the surrogate ``sum_t sum_s kappa_t(s) delta_t(s)``, ``kappa_t = -beta^t mu_t G_t
    da'/d logit / B``. Equal to differentiating :func:`savings_loss` (tested). Returns
    ``(loss, grads, max |market residual|)``.
    """
    policy = eqx.combine(jax.lax.stop_gradient(params), static)
    path = savings_rollout_batch(problem, policy, eps)
    V, G = jax.vmap(lambda p: path_values(problem, p))(path)
    B, T = eps.shape[:2]
    disc = problem.beta ** jnp.arange(T, dtype=V.dtype)
    kappa = jax.lax.stop_gradient(-disc[None, :, None, None] * path.mu * G * path.dshare / B)

    def surrogate(p):
        pol = eqx.combine(p, static)
        return jnp.sum(jax.vmap(pol.deltas)(path.obs) * kappa)

    grads = jax.grad(surrogate)(params)
    loss = -jnp.mean(jnp.sum(V[:, 0] * problem.mu_ss, axis=(1, 2)))
    return loss, grads, jnp.max(jnp.abs(path.residual))


class SavingsEvaluation(eqx.Module):
    """Certificate along sampled paths (per-path arrays ``(B,)``; docs/theory.md §12.4).

    exploitability: ``sum_s mu_0(s) (V_BR,0 - V_pi,0)(s)``; relative: divided by
    ``|sum_s mu_0 V_pi,0|``. policy_return, best_response_return: the two ``mu_0``-weighted
    values. euler_mean, euler_max: mean (over dates, each date mass-weighted over unconstrained
    states) and max of ``log10 |1 - c_hat / c|`` of the learned policy along the path.
    residual: ``max_t |market residual|``. finite: every price and value finite.
    """

    exploitability: Array
    relative: Array
    policy_return: Array
    best_response_return: Array
    euler_mean: Array
    euler_max: Array
    residual: Array
    finite: Array


def best_response_value(problem: SavingsProblem, budget: Budget):
    """``V_BR,0`` of the perfect-information best response to a known budget path (EGM backward
    from ``(Va_ss, V_ss)``; the value under the lottery's interpolation, as the policy's)."""
    model, a_grid = problem.model, problem.a_grid
    arrays = (a_grid, problem.e_grid, problem.Pi_e, None)

    def body(carry, b):
        Va_next, V_next = carry
        Va, a_pol, c_pol, _ = household_step(model, Va_next, b, arrays=arrays)
        lot = lottery_weights(a_pol, a_grid)
        V = model.utility(c_pol) + model.beta * _expect_at(V_next @ problem.Pi_e.T, lot)
        return (Va, V), None

    (_, V0), _ = jax.lax.scan(body, (problem.Va_ss, problem.V_ss), budget, reverse=True)
    return V0


def shock_nodes(n_shocks: int, n_nodes: int = 5):
    """Gauss–Hermite nodes ``(n_nodes^n_shocks, n_shocks)`` and weights of standard normal
    innovations (tensor product over shocks)."""
    x, w = np.polynomial.hermite_e.hermegauss(n_nodes)
    w = w / w.sum()
    grids = np.meshgrid(*([x] * n_shocks), indexing="ij")
    wgt = np.prod(np.meshgrid(*([w] * n_shocks), indexing="ij"), axis=0)
    return np.stack([g.reshape(-1) for g in grids], axis=-1), wgt.reshape(-1)


def path_euler_errors(problem: SavingsProblem, policy: SavingsPolicy, path: SavingsPath,
                      n_nodes: int = 5):
    """``(mean, max)`` of ``log10`` Euler errors of the policy along one path (dates ``0..T-2``).

    The expectation covers idiosyncratic and aggregate risk: next date's distribution is known
    today, its shocks take Gauss–Hermite nodes (``n_nodes`` per shock); at each node the prices
    form (or clear) and the policy chooses after that observation, from today's history state.
    Each date's errors are mass-weighted over households not at the borrowing limit (saved
    share above ``CONSTRAINED_SHARE``); dates count equally in the mean.
    """
    arrays = (problem.a_grid, problem.e_grid, problem.Pi_e, None)
    # without common noise next date's shocks are known: one node at zero
    nodes, weights = shock_nodes(problem.n_shocks, n_nodes if problem.common_noise else 1)
    nodes = jnp.asarray(nodes, problem.a_grid.dtype)
    weights = jnp.asarray(weights, problem.a_grid.dtype)

    def at_node(mu_next, z, h, carry, node):
        z_next = problem.rho * z + problem.sigma * node
        act = lambda b, f, o: _act(problem, policy, h, b, f, o)  # noqa: E731
        budget, _, out, *_ = problem.prices.clear(problem, mu_next, z_next, carry, act)
        return budget.R, out[3]

    def one(xs):
        c, a_next, x, mu, mu_next, z, h, carry = xs
        R_n, c_n = jax.vmap(lambda nd: at_node(mu_next, z, h, carry, nd))(nodes)
        err, _ = euler_error_table(problem.model, c, a_next, R_n, c_n, arrays, weights=weights)
        mean_log, max_log, _ = euler_summary(err, x > CONSTRAINED_SHARE, mu)
        return mean_log, max_log

    cut = lambda x: jax.tree_util.tree_map(lambda y: y[:-1], x)  # noqa: E731
    xs = (path.c[:-1], path.a_next[:-1], path.share[:-1], path.mu[:-1], path.mu[1:],
          path.z[:-1], path.hidden[:-1], cut(path.carry))
    mean_log, max_log = jax.lax.map(one, xs)
    return jnp.mean(mean_log), jnp.max(max_log)


def evaluate_savings(problem: SavingsProblem, policy: SavingsPolicy, eps) -> SavingsEvaluation:
    """Roll out on every path ``eps (B, T, n_shocks)`` and certify the policy."""
    mu0 = problem.mu_ss

    def one(e):
        path = savings_rollout(problem, policy, e)
        V_pi = path_values(problem, path)[0][0]
        V_br = best_response_value(problem, path.budget)
        ret_pi, ret_br = jnp.sum(mu0 * V_pi), jnp.sum(mu0 * V_br)
        em, ex = path_euler_errors(problem, policy, path)
        finite = (jnp.all(jnp.isfinite(path.c)) & jnp.isfinite(ret_pi) & jnp.isfinite(ret_br)
                  & jnp.all(jnp.isfinite(path.budget.R)))
        return (ret_br - ret_pi, (ret_br - ret_pi) / jnp.abs(ret_pi), ret_pi, ret_br, em, ex,
                jnp.max(jnp.abs(path.residual)), finite)

    return SavingsEvaluation(*jax.vmap(one)(eps))

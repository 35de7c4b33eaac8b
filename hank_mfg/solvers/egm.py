"""Endogenous grid method (Carroll 2006) and the stationary distribution (docs/theory.md §9.1-§9.2).

The household of a declared model — wealth grid ``a_grid`` (``a_grid[0]`` is the borrowing
limit), income chain ``(e_grid, Pi_e)``, discount factor ``beta`` and CRRA marginal utility
``model.marginal_utility`` / ``model.inverse_marginal_utility`` — chooses next wealth
``a' >= a_grid[0]`` out of cash on hand ``m = (1 + r) a + w e``; ``c = m - a'``.

Arrays here are ``(n_a, n_e)`` tables ``x[i_a, i_e]``; ``x.reshape(-1)`` is the flat wealth-major
vector of the compiled operators (state ``s = i_a * n_income + i_e``).

One EGM step (:func:`egm_step`) maps next period's marginal value of wealth
``Va' = (1 + r') u'(c')`` on the grid into today's policies: the Euler equation
``u'(c) = beta E[Va'(a', e') | e]`` is inverted at every *grid* value of ``a'`` (the endogenous
grid of cash on hand ``m = c + a'``), and the savings policy on the exogenous grid is read off by
interpolating ``a'(m)`` (interpax, linear by default, linear extrapolation beyond the endogenous
grid, then the borrowing limit). The stationary distribution of a continuous savings policy uses
the same Young (2010) lottery as the compiled operators (:func:`hank_mfg.operators.lottery_weights`)
followed by the income matrix.
"""

from __future__ import annotations

import functools
import warnings

import equinox as eqx
import interpax
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, Int

from ..model.base import AbstractHetAgentModel
from ..model.household import AbstractHousehold, Budget
from ..operators.lottery import lottery_weights, push_forward

__all__ = [
    "HouseholdSteadyState",
    "constrained_consumption",
    "egm_step",
    "household_solution",
    "household_step",
    "household_steady_state",
    "policy_push_forward",
    "stationary_policy_distribution",
    "INTERP_METHODS",
]

#: The one set of tolerances of every steady state (a household at given prices, a capital
#: economy, a declared economy): market clearing ``MARKET_TOL`` (relative to the market's size
#: for capital, absolute on a declared economy's targets), the policy's fixed point ``EGM_TOL``
#: (sup-norm change of the savings policy), the stationary distribution's ``DIST_TOL``
#: (sup-norm change of the distribution), and their iteration caps.
MARKET_TOL = 1e-9
EGM_TOL = 1e-12
DIST_TOL = 1e-14
ROOT_MAXITER = 100
EGM_MAXITER = 50_000
DIST_MAXITER = 1_000_000

#: interpax methods accepted for the ``a'(m)`` interpolation. ``linear`` (default) keeps the
#: policy monotone and matches the sequence-space codes; the cubic ones are smoother but may
#: overshoot near the borrowing-limit kink.
INTERP_METHODS = ("linear", "monotonic", "cubic", "akima")


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def in_float64(fn):
    """Run a classical entry point in float64 even when the session is in float32.

    The classical solvers' tolerances (down to 1e-10) need float64. When ``jax_enable_x64`` is
    off, the call runs inside ``jax.enable_x64(True)`` (scoped, no global side effect) with every
    float32 input array promoted to float64, and warns: parameters of a model built in float32
    were rounded to float32 (about 1e-7 relative), so for full accuracy enable x64 before
    building models.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if jax.config.jax_enable_x64:
            return fn(*args, **kwargs)
        warnings.warn(
            f"{fn.__name__} runs in float64 (enabled for this call only); model parameters built "
            "in float32 keep float32 precision: call jax.config.update('jax_enable_x64', True) "
            "before building models for full accuracy", stacklevel=2)
        with jax.enable_x64(True):
            # float32 leaves (e.g. the parameters of a model built in float32) are promoted so
            # that every array of the computation is float64
            args, kwargs = jax.tree_util.tree_map(
                lambda x: x.astype(jnp.float64)
                if eqx.is_array(x) and x.dtype == jnp.float32 else x, (args, kwargs))
            return fn(*args, **kwargs)

    return wrapper


def check_model(where: str, model, kind=AbstractHetAgentModel) -> None:
    """``TypeError`` naming ``where`` unless ``model`` is a ``kind`` (a declared model)."""
    if not isinstance(model, kind):
        raise TypeError(f"{where} expects an {kind.__name__}; got {type(model).__name__}")


def check_interp(where: str, interp: str) -> None:
    """``ValueError`` naming ``where.interp`` unless it is one of ``INTERP_METHODS``."""
    if interp not in INTERP_METHODS:
        raise ValueError(f"{where}.interp must be one of {INTERP_METHODS}; got {interp!r}")


def household_arrays(model: AbstractHousehold):
    """``(a_grid, e_grid, Pi_e, pi_e)`` of a model as float arrays."""
    inc = model.income
    return (
        jnp.asarray(model.a_grid, dtype=float),
        jnp.asarray(inc.e_grid, dtype=float),
        jnp.asarray(inc.Pi_e, dtype=float),
        jnp.asarray(inc.pi_e, dtype=float),
    )


def _search_cells(xq, x):
    """Cells ``i`` (``x[i] <= xq < x[i+1]`` per column, clipped to ``[0, n-2]``) by one flat
    binary search: the columns' knots are shifted into disjoint ranges and concatenated."""
    n, ncol = x.shape
    lo = jnp.minimum(jnp.min(x), jnp.min(xq))
    span = jnp.maximum(jnp.max(x), jnp.max(xq)) - lo + 1.0
    off = jnp.arange(ncol, dtype=x.dtype) * span
    kf = (x - lo + off).T.reshape(-1)
    qf = (xq - lo + off).T.reshape(-1)
    i = jnp.searchsorted(kf, qf, side="right").reshape(ncol, -1).T - 1
    return jnp.clip(i - jnp.arange(ncol) * n, 0, n - 2).astype(jnp.int32)


def _linear_columns(xq, x, f):
    """Linear interpolation/extrapolation per column.

    Same numbers as ``interpax.interp1d(..., method="linear", extrap=True)`` column by column
    (tested). On CPU the binary search dominates the cost of an EGM step; one flat search over
    all columns is several times faster than interpax's search vmapped over columns.
    """
    n, ncol = x.shape
    i = _search_cells(xq, x)
    base = (jnp.arange(ncol, dtype=jnp.int32) * n)[None, :]
    xf = x.T.reshape(-1)
    x0, x1 = xf[i + base], xf[i + 1 + base]
    if f.ndim == 1:
        f0, f1 = f[i], f[i + 1]
    else:
        ff = f.T.reshape(-1)
        f0, f1 = ff[i + base], ff[i + 1 + base]
    return f0 + (xq - x0) * (f1 - f0) / (x1 - x0)


def interp_columns(xq, x, f, method: str = "linear"):
    """Interpolate column by column: ``out[:, j] = f_j(xq[:, j])`` with knots ``x[:, j]``.

    ``f`` is either a table like ``x`` or a single column shared by all columns. Linear
    extrapolation beyond the knots (interpax ``extrap=True``). ``method="linear"`` uses a fused
    flat search (:func:`_linear_columns`, identical to interpax's linear interpolation); other
    methods call ``interpax.interp1d`` column by column.
    """
    if method == "linear":
        return _linear_columns(xq, x, f)
    fn = lambda q, k, v: interpax.interp1d(q, k, v, method=method, extrap=True)  # noqa: E731
    if f.ndim == 1:
        return jax.vmap(fn, in_axes=(1, 1, None), out_axes=1)(xq, x, f)
    return jax.vmap(fn, in_axes=(1, 1, 1), out_axes=1)(xq, x, f)


def initial_marginal_value(model, budget, a_grid):
    """Starting guess ``Va = R u'(0.1 m)`` (consume a tenth of cash on hand at one hour)."""
    m = budget.cash_on_hand(a_grid)
    return budget.R * model.marginal_utility(0.1 * jnp.maximum(m, 1e-3 * jnp.max(m)))


def price_budget(model, r, w) -> Budget:
    """The model's :class:`Budget` at an interest rate ``r`` and a wage ``w``."""
    return model.budget({"r": jnp.asarray(r, dtype=float), "w": jnp.asarray(w, dtype=float)})


# ---------------------------------------------------------------------------------------------
# one backward step
# ---------------------------------------------------------------------------------------------
def egm_step(
    model: AbstractHousehold,
    Va_next: Float[Array, "n_a n_e"],
    r: Float[ArrayLike, ""] | None = None,
    w: Float[ArrayLike, ""] | None = None,
    *,
    budget: Budget | None = None,
    interp: str = "linear",
    arrays=None,
) -> tuple[Float[Array, "n_a n_e"], Float[Array, "n_a n_e"], Float[Array, "n_a n_e"]]:
    """One endogenous-grid step backward in time (Carroll 2006).

    Args:
        model: the declared model (grid, income chain, ``beta``, marginal utility, budget).
        Va_next: next period's marginal value of wealth ``Va'(a', e') = R' u'(c'(a', e'))``
            on the grid, ``(n_a, n_e)``.
        r, w: this period's interest rate and wage (a capital economy's budget
            ``m = (1 + r) a + w e``); or ``budget``: this period's :class:`Budget`.
        interp: interpax method (see ``INTERP_METHODS``); ``linear`` by default.
        arrays: optional precomputed ``household_arrays(model)``.

    Returns:
        ``(Va, a_policy, c_policy)``: today's marginal value ``R u'(c)``, savings
        ``a'(a, e) >= a_grid[0]`` and consumption ``c(a, e)``, each ``(n_a, n_e)``
        (:func:`household_step` also returns hours).
    """
    budget = price_budget(model, r, w) if budget is None else budget
    Va, a_pol, c_pol, _ = household_step(model, Va_next, budget, interp=interp, arrays=arrays)
    return Va, a_pol, c_pol


def constrained_consumption(model, budget: Budget, rhs, uc_seed=None, iterations: int = 12):
    """Consumption and hours of households at the borrowing limit with a labour choice.

    Solves ``c - we n(c) = rhs`` (``rhs = R a + y - a_min``) with ``n(c) = (we u'(c)/vphi)^frisch``
    by Newton's method in ``log u'(c)`` (the left side is monotone in it), started at ``uc_seed``
    (default ``u'(rhs + we)``, consumption at one hour: the residual is at rounding level after
    four steps on the shipped calibrations; twelve are taken).
    """
    if uc_seed is None:
        uc_seed = model.marginal_utility(jnp.maximum(rhs + budget.we[None, :], 1e-8))
    we = jnp.broadcast_to(budget.we[None, :], rhs.shape)

    def body(_, x):
        uc = jnp.exp(x)
        c = model.inverse_marginal_utility(uc)
        n = model.hours(we, uc)
        f = c - we * n - rhs
        df = -c / model.sigma - we * n * model.frisch  # d f / d log u'(c)
        return x - f / df

    x = jax.lax.fori_loop(0, iterations, body, jnp.log(uc_seed), unroll=True)  # fuses on CPU
    uc = jnp.exp(x)
    return model.inverse_marginal_utility(uc), model.hours(we, uc)


def household_step(model: AbstractHousehold, Va_next, budget: Budget, *, interp: str = "linear",
                   arrays=None, limit=None):
    """:func:`egm_step` under a :class:`Budget`; returns ``(Va, a_policy, c_policy, n_policy)``.

    Without a labour choice the savings policy ``a'(m)`` is interpolated on the endogenous grid
    of cash on hand ``m = c + a'`` (hours are one). With one, consumption and hours on the
    endogenous grid come from the Euler equation and the intratemporal condition, today's
    wealth from the budget ``R a = c + a' - y - we n``, and consumption is interpolated in
    ``R a``; households at the borrowing limit solve :func:`constrained_consumption` (or take
    ``limit = (c, n)``, its solution for this budget, when the caller has it).
    """
    a_grid, _, Pi_e, _ = household_arrays(model) if arrays is None else arrays
    # expected discounted marginal value at every grid a' and today's income state e
    W = model.beta * budget.discount * (Va_next @ Pi_e.T)
    return invert_euler(model, W, budget, a_grid, interp=interp, limit=limit)


def invert_euler(model, W, budget: Budget, a_grid, *, interp: str = "linear", limit=None,
                 query=None):
    """The endogenous-grid step from ``W[a', e] = beta E[V_a(a', e') | e]`` (the expected
    discounted marginal value of each grid ``a'`` for today's income state ``e``, however
    the expectation was taken): ``(Va, a_policy, c_policy, n_policy)`` under ``budget``.
    ``query``: the wealth where the policy is read (default ``a_grid``; its first point must
    be the borrowing limit ``a_grid[0]``); ``limit`` is then given on it."""
    query = a_grid if query is None else query
    c_endo = model.inverse_marginal_utility(W)
    if model.endogenous_labour:
        n_endo = model.hours(budget.we[None, :], W)
        x_endo = c_endo + a_grid[:, None] - budget.we[None, :] * n_endo - budget.y[None, :]
        x = jnp.broadcast_to(budget.R * query[:, None], (query.shape[0], c_endo.shape[1]))
        c_pol = interp_columns(x, x_endo, c_endo, interp)
        n_pol = model.hours(budget.we[None, :], model.marginal_utility(c_pol))
        a_pol = budget.cash_on_hand(query, n_pol) - c_pol
        bound = a_pol < a_grid[0]
        rhs = x + budget.y[None, :] - a_grid[0]
        c_con, n_con = constrained_consumption(model, budget, rhs) if limit is None else limit
        c_pol = jnp.where(bound, c_con, c_pol)
        n_pol = jnp.where(bound, n_con, n_pol)
        a_pol = jnp.where(bound, a_grid[0], a_pol)
    else:
        m_endo = c_endo + a_grid[:, None]  # endogenous grid of cash on hand, increasing in a'
        m = budget.cash_on_hand(query)
        a_pol = interp_columns(m, m_endo, a_grid, interp)
        a_pol = jnp.maximum(a_pol, a_grid[0])  # borrowing limit
        c_pol = m - a_pol
        n_pol = jnp.ones_like(c_pol)
    Va = budget.R * model.marginal_utility(c_pol)
    return Va, a_pol, c_pol, n_pol


# ---------------------------------------------------------------------------------------------
# distribution
# ---------------------------------------------------------------------------------------------
def policy_push_forward(
    mu: Float[Array, "n_a n_e"],
    a_policy: Float[Array, "n_a n_e"],
    a_grid: Float[Array, " n_a"],
    Pi_e: Float[Array, "n_e n_e"],
    lot=None,
) -> Float[Array, "n_a n_e"]:
    """Push a distribution forward one period under a continuous savings policy.

    ``mu'(a', e') = sum_e Pi_e[e, e'] sum_a mu(a, e) L(a' | a'(a, e))`` with the compiled
    operators' lottery (:func:`hank_mfg.operators.lottery_weights`): factorised, a scatter
    along wealth then the small income matrix. Pass ``lot = lottery_weights(a_policy, a_grid)``
    to reuse the lottery across many steps.
    """
    lot = lottery_weights(a_policy, a_grid) if lot is None else lot
    return push_forward(mu, lot, Pi_e)


def _stationary_loop(mu0, lot, Pi_e, tol, maxiter, check_every: int = 10):
    """Forward iteration to ``sup|mu_{k+1} - mu_k| < tol``; checks every ``check_every`` steps."""
    def step(mu):
        return push_forward(mu, lot, Pi_e)

    def cond(state):
        it, _, err = state
        return (err > tol) & (it < maxiter)

    def body(state):
        it, mu, _ = state
        mu = jax.lax.fori_loop(0, check_every - 1, lambda _, m: step(m), mu)
        new = step(mu)
        return it + check_every, new, jnp.max(jnp.abs(new - mu))

    it, mu, err = jax.lax.while_loop(cond, body, (jnp.asarray(0), mu0, jnp.asarray(jnp.inf)))
    return mu / jnp.sum(mu), it, err


def stationary_policy_distribution(
    a_policy: Float[Array, "n_a n_e"],
    a_grid: Float[Array, " n_a"],
    Pi_e: Float[Array, "n_e n_e"],
    mu0: Float[Array, "n_a n_e"] | None = None,
    *,
    tol: float = DIST_TOL,
    maxiter: int = DIST_MAXITER,
):
    """Stationary distribution of a continuous savings policy by lottery forward iteration.

    Args:
        a_policy: savings ``a'(a, e)``, ``(n_a, n_e)``. a_grid, Pi_e: the model's grid and
            income matrix. mu0: starting distribution (default: uniform wealth times the
            income chain's stationary law). tol: sup-norm of one step's change. maxiter: cap.

    Returns:
        ``(mu, iterations, residual)`` with ``mu`` an ``(n_a, n_e)`` table summing to one.
        Check ``residual <= tol`` (traceable; no error is raised here).
    """
    n_a, n_e = a_policy.shape
    if mu0 is None:
        mu0 = jnp.full((n_a, n_e), 1.0 / (n_a * n_e))
    lot = lottery_weights(a_policy, a_grid)
    return _stationary_loop(mu0, lot, Pi_e, tol, maxiter)


# ---------------------------------------------------------------------------------------------
# stationary household problem
# ---------------------------------------------------------------------------------------------
def solve_policy(model, budget, Va0, tol, maxiter, interp="linear", arrays=None):
    """Iterate :func:`household_step` under a constant budget until ``sup|a'_{k+1} - a'_k| < tol``.

    Returns ``(Va, a_policy, c_policy, n_policy, iterations, residual)`` (traceable, no error
    raised).
    """
    arrays = household_arrays(model) if arrays is None else arrays

    def cond(state):
        it, _, _, err = state
        return (err > tol) & (it < maxiter)

    def body(state):
        it, _, pol, _ = state
        out = household_step(model, pol[0], budget, interp=interp, arrays=arrays)
        return it + 1, pol[1], out, jnp.max(jnp.abs(out[1] - pol[1]))

    pol0 = (Va0, jnp.full(Va0.shape, jnp.inf), jnp.zeros_like(Va0), jnp.ones_like(Va0))
    state = (jnp.asarray(0), pol0[1], pol0, jnp.asarray(jnp.inf))
    it, _, (Va, a_pol, c_pol, n_pol), err = jax.lax.while_loop(cond, body, state)
    return Va, a_pol, c_pol, n_pol, it, err


def euler_error_table(model, c_policy, a_policy, R_next, c_next, arrays=None,
                      interp: str = "linear", weights=None, discount=1.0):
    """``|1 - c_hat / c|`` on the grid and the unconstrained mask (docs/theory.md, Euler errors).

    ``c_hat = (u')^{-1}(beta E[R' u'(c'(a'(a, e), e')) | e])`` with next period's gross return
    ``R'`` and consumption ``c'`` interpolated in wealth at the chosen ``a'`` (``interp``, linear
    extrapolation). Unconstrained: ``a'(a, e) > a_grid[0]`` (by more than ``1e-10`` relative).
    Separable labour disutility leaves the Euler equation in consumption unchanged.

    With aggregate risk, ``weights (n_nodes,)`` integrates over next period's aggregate states:
    ``R_next (n_nodes,)`` and ``c_next (n_nodes, n_a, n_e)`` are given at each node (e.g.
    Gauss–Hermite nodes of the next shock, or the states of an aggregate Markov chain) and the
    expectation is their weighted sum. The income matrix of ``arrays`` may then be one per
    node, ``(n_nodes, n_e, n_e)`` (an idiosyncratic chain that moves with the aggregate one).
    ``discount``: today's discount-factor shifter (:class:`Budget`), multiplying ``beta``.
    """
    a_grid, _, Pi_e, _ = household_arrays(model) if arrays is None else arrays
    n_a, n_e = c_policy.shape
    if weights is None:
        weights, R_next, c_next = jnp.ones((1,), c_policy.dtype), jnp.reshape(R_next, (1,)), c_next[None]
    Pi_nodes = Pi_e if jnp.ndim(Pi_e) == 3 else jnp.broadcast_to(Pi_e, (weights.shape[0],)
                                                                 + jnp.shape(Pi_e))
    # c'(a'(a, e), e') for every e': interpolate each next-income column at all a'
    q = a_policy.reshape(-1)
    fn = lambda col: interpax.interp1d(q, a_grid, col, method=interp, extrap=True)  # noqa: E731

    def marginal(R, c, Pi):
        c_at = jax.vmap(fn, in_axes=1, out_axes=1)(c).reshape(n_a, n_e, n_e)  # [a, e, e']
        return jnp.einsum("aef,ef->ae", R * model.marginal_utility(c_at), Pi)

    expect = jnp.einsum("k,kae->ae", weights, jax.vmap(marginal)(R_next, c_next, Pi_nodes))
    c_hat = model.inverse_marginal_utility(model.beta * discount * expect)
    err = jnp.abs(1.0 - c_hat / c_policy)
    scale = 1e-10 * (1.0 + jnp.abs(a_grid[0]))
    unconstrained = a_policy > a_grid[0] + scale
    return err, unconstrained


def euler_summary(err, unconstrained, mu):
    """``(mean log10, max log10, log10 of mean)`` over unconstrained states with mass."""
    tiny = jnp.finfo(err.dtype).tiny
    lerr = jnp.log10(jnp.maximum(err, tiny))
    mask = unconstrained & (mu > 0)
    wgt = jnp.where(mask, mu, 0.0)
    tot = jnp.maximum(jnp.sum(wgt), tiny)
    mean_log = jnp.sum(wgt * lerr) / tot
    max_log = jnp.max(jnp.where(mask, lerr, -jnp.inf))
    log_mean = jnp.log10(jnp.maximum(jnp.sum(wgt * err) / tot, tiny))
    return mean_log, max_log, log_mean


class HouseholdSteadyState(eqx.Module):
    """The household side at constant prices (partial equilibrium).

    Attributes:
        r, w: prices. A: aggregate assets ``sum mu a'`` (= ``sum mu a`` at the stationary
            distribution). C: aggregate consumption ``sum mu c``.
        mu: stationary distribution, an ``(n_wealth, n_income)`` table ``mu[i_a, i_e]`` summing
            to one; ``mu.reshape(-1)`` is the operators' flat wealth-major vector.
        a_policy, c_policy: savings ``a'(a, e)`` and consumption ``c(a, e)``, ``(n_a, n_e)``.
        n_policy: hours ``n(a, e)`` (ones without a labour choice). N: effective labour
            ``sum mu e n``. budget: the :class:`Budget` the households faced.
        Va: marginal value of wealth ``R u'(c)`` (the EGM's backward state).
        euler_mean, euler_max: mass-weighted mean and max of ``log10|1 - c_hat/c|`` over
            unconstrained states with positive mass (docs/theory.md, Euler errors).
        egm_iterations, egm_residual: EGM steps and final ``sup|a'_{k+1} - a'_k|``.
        dist_iterations, dist_residual: forward steps and final ``sup|mu_{k+1} - mu_k|``.
    """

    r: Float[Array, ""]
    w: Float[Array, ""]
    A: Float[Array, ""]
    C: Float[Array, ""]
    mu: Float[Array, "n_a n_e"]
    a_policy: Float[Array, "n_a n_e"]
    c_policy: Float[Array, "n_a n_e"]
    Va: Float[Array, "n_a n_e"]
    euler_mean: Float[Array, ""]
    euler_max: Float[Array, ""]
    egm_iterations: Int[Array, ""]
    egm_residual: Float[Array, ""]
    n_policy: Float[Array, "n_a n_e"]
    N: Float[Array, ""]
    budget: Budget
    dist_iterations: Int[Array, ""]
    dist_residual: Float[Array, ""]

    @property
    def mu_flat(self) -> Float[Array, " n_s"]:
        """The distribution as the operators' flat wealth-major vector (``s = i_a n_e + i_e``)."""
        return self.mu.reshape(-1)


def household_solution(model, budget, Va0, mu0, tol, dist_tol, maxiter, dist_maxiter,
                       interp="linear", r=jnp.nan, w=jnp.nan) -> HouseholdSteadyState:
    """Stationary policies and distribution under a constant :class:`Budget` (traceable).

    ``r, w`` are recorded on the result (for a capital economy's ``(1 + r) a + w e``).
    """
    arrays = household_arrays(model)
    a_grid, e_grid, Pi_e, _ = arrays
    Va, a_pol, c_pol, n_pol, it, err = solve_policy(model, budget, Va0, tol, maxiter, interp,
                                                    arrays)
    lot = lottery_weights(a_pol, a_grid)
    mu, dit, derr = _stationary_loop(mu0, lot, Pi_e, dist_tol, dist_maxiter)
    e, unc = euler_error_table(model, c_pol, a_pol, budget.R, c_pol, arrays, interp)
    mean_log, max_log, _ = euler_summary(e, unc, mu)
    return HouseholdSteadyState(
        r=jnp.asarray(r, dtype=float), w=jnp.asarray(w, dtype=float), A=jnp.sum(mu * a_pol),
        C=jnp.sum(mu * c_pol), mu=mu, a_policy=a_pol, c_policy=c_pol, Va=Va,
        euler_mean=mean_log, euler_max=max_log, egm_iterations=it, egm_residual=err,
        dist_iterations=dit, dist_residual=derr, n_policy=n_pol,
        N=jnp.sum(mu * e_grid[None, :] * n_pol), budget=budget,
    )


def price_household_solution(model, r, w, Va0, mu0, tol, dist_tol, maxiter, dist_maxiter,
                             interp="linear") -> HouseholdSteadyState:
    """:func:`household_solution` of a capital economy at an interest rate and a wage."""
    return household_solution(model, price_budget(model, r, w), Va0, mu0, tol, dist_tol, maxiter,
                              dist_maxiter, interp, r, w)


_household_jit = eqx.filter_jit(price_household_solution)


def default_mu0(model) -> Float[Array, "n_a n_e"]:
    """Uniform wealth times the income chain's stationary law (an ``(n_a, n_e)`` table)."""
    a_grid, _, _, pi_e = household_arrays(model)
    n_a = a_grid.shape[0]
    return jnp.broadcast_to(pi_e[None, :] / n_a, (n_a, pi_e.shape[0]))


def check_patience(where: str, model, r) -> None:
    """``beta (1 + r) < 1`` is needed for a stationary wealth distribution."""
    b = float(np.asarray(model.beta))
    rv = float(np.asarray(r))
    if not b * (1.0 + rv) < 1.0:
        raise ValueError(
            f"{where}: {type(model).__name__}.beta * (1 + r) must be < 1 for a stationary "
            f"distribution; got beta = {b:.6g}, r = {rv:.6g}, beta * (1 + r) = {b * (1 + rv):.6g}"
        )


def raise_if_not_converged(where, name, it, err, tol, maxiter) -> None:
    it, err = int(it), float(err)
    if not err <= tol:
        raise RuntimeError(
            f"{where}: {name} did not converge after {it} iterations (maxiter {maxiter}); "
            f"residual {err:.6g} > tol {tol:.6g}"
        )


@in_float64
def household_steady_state(
    model: AbstractHetAgentModel,
    *,
    r: ArrayLike,
    w: ArrayLike,
    tol: float = EGM_TOL,
    dist_tol: float = DIST_TOL,
    maxiter: int = EGM_MAXITER,
    dist_maxiter: int = DIST_MAXITER,
    interp: str = "linear",
    Va_init: Float[Array, "n_a n_e"] | None = None,
    mu_init: Float[Array, "n_a n_e"] | None = None,
) -> HouseholdSteadyState:
    """Household policies and stationary distribution at constant prices (partial equilibrium).

    Solves the consumption-savings problem with the endogenous grid method (Carroll 2006) on the
    model's wealth grid and income chain, then iterates the compiled operators' lottery
    push-forward to the stationary distribution (docs/theory.md §9.2).

    Args:
        model: a declared model (float64 arrays; ``beta``, ``sigma``, ``a_grid``, income chain).
        r, w: constant interest rate and wage; requires ``beta (1 + r) < 1``.
        tol: EGM convergence, ``sup|a'_{k+1} - a'_k|``. dist_tol: distribution convergence,
            ``sup|mu_{k+1} - mu_k|``. maxiter, dist_maxiter: iteration caps.
        interp: interpax method for the policy (``"linear"`` default; see ``INTERP_METHODS``).
        Va_init, mu_init: warm starts (marginal value and distribution, ``(n_a, n_e)``).

    Returns:
        :class:`HouseholdSteadyState` with ``A, C``, the ``(n_wealth, n_income)`` distribution
        ``mu``, policies ``a_policy, c_policy`` and Euler-error summaries.

    Raises:
        ValueError: ``beta (1 + r) >= 1`` (names ``beta``) or an unknown ``interp``.
        RuntimeError: EGM or distribution not converged (iterations and residual given).

    Example:
        >>> hh = hm.household_steady_state(KrusellSmith(n_wealth=100), r=0.01, w=0.89)
        >>> float(hh.A), hh.mu.shape
    """
    where = "household_steady_state"
    check_model(where, model)
    check_interp(where, interp)
    check_patience(where, model, r)
    a_grid = household_arrays(model)[0]
    r = jnp.asarray(r, dtype=float)
    w = jnp.asarray(w, dtype=float)
    Va0 = (initial_marginal_value(model, price_budget(model, r, w), a_grid) if Va_init is None
           else Va_init)
    mu0 = default_mu0(model) if mu_init is None else mu_init
    hh = _household_jit(model, r, w, Va0, mu0, jnp.asarray(tol, dtype=float),
                        jnp.asarray(dist_tol, dtype=float), maxiter, dist_maxiter, interp)
    raise_if_not_converged(where, "EGM", hh.egm_iterations, hh.egm_residual, tol, maxiter)
    raise_if_not_converged(where, "stationary distribution", hh.dist_iterations,
                           hh.dist_residual, dist_tol, dist_maxiter)
    return hh

"""RSPG with continuous savings choices around a steady state (docs/theory.md §12).

The problem is built from a model's steady state (EGM, the gold standard): the population
starts at the steady-state distribution, the horizon ``T`` is the first with ``beta^T`` below
``horizon_tol`` and the continuation value at ``T`` is the steady-state value ``V_ss``
(infinite-horizon economics on a finite horizon). Along a common-noise path, each date:

1. prices form from the current distribution and shocks (:mod:`hank_mfg.solvers.markets`): in
   closed form from the capital in place for a capital economy (:class:`ClosedFormPrices`), by
   clearing one market inside the date for a bond economy (:class:`ClearedPrice`: the policy
   observes the candidate price and the Illinois method finds the clearing price; households
   take it as given), or by Newton given the firms' forecast (:class:`ForecastClearing`);
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
value — and the Euler errors of the learned policy along the path
(:mod:`hank_mfg.solvers.savings_certificates`).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from ..model.economy import AbstractEconomy
from ..model.exogenous import AR1, AggregateIdiosyncraticChain, News, gauss_hermite
from ..model.household import Budget
from ..operators.lottery import expect, lottery_weights, push_forward
from ..policies.savings import Forecaster, SavingsPolicy
from .egm import (
    constrained_consumption,
    household_arrays,
    household_step,
    invert_euler,
)
from .equilibrium import (
    economy_of_steady_state, economy_transition, with_economy,
)
from .markets import (
    ClearedPrice, ClosedFormPrices, ForecastClearing, _forward_targets, carried_unknown,
    check_timing,
)
from .rollout import AbstractChoiceRule, mean_field_scan
from .training import PATHS, over_paths, path_sum
from .transition import transition_jacobian
from .values import backward_values

__all__ = [
    "FirstOrderStart",
    "aggregate_chain",
    "chain_innovations",
    "expected_shock_path",
    "first_order_start", "floor_shifts", "FloorExpectations",
    "risk_adjustment", "time_iteration_step", "quadrature_cells",
    "path_transitions",
    "initial_state",
    "limit_consumption",
    "SavingsChoices",
    "SavingsPath",
    "SavingsProblem",
    "CONTINUATIONS",
    "CONTINUATION_UNITS",
    "SavingsActor",
    "consumption_units_move",
    "corrected_share",
    "egm_marginal_utility",
    "euler_step_gap",
    "structural_logit",
    "horizon_for",
    "innovation_residual",
    "relative_curvature",
    "savings_loss",
    "savings_problem",
    "savings_rollout",
    "savings_value_and_grad",
    "stationary_policy_value",
]

#: Savings shares below this are read as "at the borrowing limit" (Euler errors skip them).
CONSTRAINED_SHARE = 1e-4
#: The structural starting point's shares are kept in ``[EDGE, 1 - EDGE]`` (its logit is finite).
EDGE = 1e-9
#: How the training direction values saving (:func:`savings_value_and_grad`).
CONTINUATIONS = ("egm", "lottery", "egm-pointwise")
#: Structural starts of the households' policy (:func:`savings_problem`).
STARTS = ("steady-state", "first-order", "risk-adjusted", "time-iteration")
#: What the first-order start's expected continuation is linear in (:class:`FirstOrderStart`).
CONTINUATION_UNITS = ("consumption", "marginal value")


def horizon_for(beta: float, tol: float) -> int:
    """The first ``T`` with ``beta^T <= tol``."""
    return max(2, int(math.ceil(math.log(tol) / math.log(float(beta)))))


def period_utility(model, c, n):
    """``u(c) - v(n)``: consumption utility less the disutility of hours (zero without a
    labour choice)."""
    return model.utility(c) - model.labour_disutility(n)


def stationary_policy_value(model, c, a_next, n=None, tol: float = 1e-12,
                            maxiter: int = 100_000, *, hours: bool = True):
    """Value ``V(a, e)`` of a stationary savings policy, by iterating
    ``V = u(c) - v(n) + beta E[V(a', e') | e]`` with ``V`` linear in ``a'`` between grid points
    (the lottery's interpolation) until the relative sup-norm change is below ``tol``.
    ``hours=False``: the value of consumption alone (``u(c)``; the disutility of hours left
    out).

    Returns ``(V, iterations, relative change)`` (traceable; no error raised here).
    """
    a_grid, _, Pi_e, _ = household_arrays(model)
    u = (period_utility(model, c, jnp.ones_like(c) if n is None else n) if hours
         else model.utility(c))
    lot = lottery_weights(a_next, a_grid)

    def cond(s):
        it, _, err = s
        return (err > tol) & (it < maxiter)

    def body(s):
        it, V, _ = s
        new = u + model.beta * expect(V, lot, Pi_e)
        return it + 1, new, jnp.max(jnp.abs(new - V)) / (1.0 + jnp.max(jnp.abs(new)))

    V0 = u / (1.0 - model.beta)
    it, V, err = jax.lax.while_loop(cond, body, (0, V0, jnp.asarray(jnp.inf, u.dtype)))
    return V, it, err




# ---------------------------------------------------------------------------------------------
# the compiled problem
# ---------------------------------------------------------------------------------------------
class SavingsProblem(eqx.Module):
    """A model compiled for continuous-choice RSPG around its steady state.

    Attributes:
        model: the model (an economy with its solved steady-state fields in place).
        prices: how prices form each date: :class:`ClosedFormPrices`, :class:`ClearedPrice` or
            :class:`ForecastClearing`.
        a_grid, e_grid, Pi_e: household arrays. mu_ss, a_ss, c_ss, Va_ss, V_ss: the steady
            state's distribution, policies, marginal value and value ``(n_a, n_e)``; Vc_ss:
            the value of its consumption alone (``V_ss`` without hours).
        ss_values: steady-state aggregates by name. R_ss: steady-state gross return.
        processes: the exogenous modules that move the noise state, one per shock
            (:class:`~hank_mfg.model.exogenous.AR1`, or :class:`~hank_mfg.model.exogenous.News`
            for the shock ``news_index`` whose innovations are also announced ``1..news``
            dates ahead; an aggregate Markov chain's ``MarkovChain``); shock_names their
            names. Read from them: ``rho``, the shocks' AR(1) coefficients ``(n_shocks,)``, and
            ``sigma``, the s.d. of every innovation ``(n_noise,)`` (the shocks' surprises, then
            the announcements; noise_names their names, ``rstar_news4``).
        obs_ref, obs_scale: the observation at the steady state and its normalising scale.
        forecast_scale: the normalising scale of the forecast unknowns (economies whose
            conditions look ahead; ones otherwise).
        horizon: ``T``. common_noise: whether paths are sampled (else ``eps = 0``).
        steady_state: the EGM steady state the problem was built from.
        chain: the aggregate Markov chain with its idiosyncratic transitions ``Pi_e[z, z']``
            (an :class:`~hank_mfg.model.exogenous.AggregateIdiosyncraticChain`), or ``None``
            for AR(1) shocks. With a chain the noise state holds the aggregate state's index
            and each standard normal innovation draws the next state through its cumulative
            probability (:func:`_advance`); ``Pi_e`` is then the steady state's averaged matrix.
        first_order: the first-order structural start (:class:`FirstOrderStart`), or ``None``.
        base_ss: the logit of the steady state's savings share (:func:`corrected_share`).
        uc_limit: with a labour choice, the marginal utility of a household that saves the
            borrowing limit at the steady state, where the Newton iteration for that
            household's consumption at other budgets starts (:func:`limit_consumption`).
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
    Vc_ss: Float[Array, "n_a n_e"]
    ss_values: dict
    R_ss: Float[Array, ""]
    processes: tuple
    obs_ref: Float[Array, " n_obs"]
    obs_scale: Float[Array, " n_obs"]
    forecast_scale: Float[Array, " n_u"]
    shock_names: tuple = eqx.field(static=True)
    horizon: int = eqx.field(static=True)
    common_noise: bool = eqx.field(static=True)
    news: int = eqx.field(static=True, default=0)
    news_index: int = eqx.field(static=True, default=0)
    steady_state: Any = None
    chain: Any = None
    first_order: Any = None
    uc_limit: Float[Array, "n_a n_e"] | None = None
    base_ss: Float[Array, "n_a n_e"] | None = None

    @property
    def history_length(self) -> int:
        """``H``: the dates of innovations the first-order start reads (0 without one)."""
        return 0 if self.first_order is None else self.first_order.households.shape[0]

    @property
    def n_state(self) -> int:
        """Length of the noise state: shocks, announcements, then (with a first-order start)
        the last ``H`` dates of innovations."""
        floor = 0 if self.first_order is None or self.first_order.floor is None else \
            self.first_order.floor.size
        return self.n_noise * (1 + self.history_length) + floor

    def continuation(self, z) -> Float[Array, "n_a n_e"]:
        """The marginal value of saving the households expect before today's return factor:
        :meth:`linear_continuation`, or with a start that takes next date's expectation by
        quadrature (``FirstOrderStart.quadrature``) :meth:`quadrature_continuation`."""
        if self.first_order is not None and self.first_order.quadrature:
            return self.quadrature_continuation(z)
        return self.linear_continuation(z)

    def linear_continuation(self, z, rows: int | None = None) -> Float[Array, "n_a n_e"]:
        """The steady state's ``Va_ss``, plus with a first-order start its first-order response
        to the surprises held in ``z``, with a lower bound its response to the shifts of the
        rule that keep the expected path at the bound (:class:`FloorExpectations`) and,
        risk-adjusted, the adjustment ``D`` (:class:`FirstOrderStart`). ``rows``: only the
        first ``rows`` wealth points."""
        cut = slice(None) if rows is None else slice(0, rows)
        if self.first_order is None:
            return self.Va_ss[cut]
        start = self.first_order
        moved = jnp.einsum("jsae,js->ae", start.households[:, :, cut], _history(self, z))
        if start.floor is not None:
            moved = moved + start.floor.households_term(_floor_state(self, z))[cut]
        return self._continuation_of(moved, cut)

    def _continuation_of(self, moved, cut):
        """The continuation whose first-order move is ``moved`` (on the wealth points
        ``cut``): in the start's units, plus ``Va_ss`` and the risk adjustment."""
        start, Va_ss = self.first_order, self.Va_ss[cut]
        if start.linear_in == "consumption":
            moved = consumption_units_move(self.model, Va_ss, self.R_ss, moved)
        return Va_ss + moved if start.risk is None else Va_ss + start.risk[cut] + moved

    def surprise_nodes(self, n_nodes: int):
        """Gauss–Hermite nodes ``(n_nodes^n_shocks, n_noise)`` of next date's innovations in
        standard deviations — the shocks' surprises on a tensor grid, announcements at zero —
        and their weights (:func:`shock_nodes`)."""
        nodes, weights = shock_nodes(self.n_shocks, n_nodes)
        nodes = np.concatenate([nodes, np.zeros((nodes.shape[0], self.news))], axis=1)
        return (jnp.asarray(nodes, self.a_grid.dtype), jnp.asarray(weights, self.a_grid.dtype))

    def _budget_of(self, move):
        """The budget with the household inputs at the steady state's values plus ``move``."""
        names = self.model.household_inputs
        return self.model.budget({k: self.ss_values[k] + move[i] for i, k in enumerate(names)})

    def quadrature_continuation(self, z) -> Float[Array, "n_a n_e"]:
        """The expected continuation with one step of time iteration where next date's choice
        may be at the borrowing limit (``FirstOrderStart.cells``): there ``E_t[R_{t+1}
        u'(c_{t+1})]`` over the Gauss–Hermite nodes of next date's surprises (``quadrature``
        per shock, announcements at zero), ``c_{t+1}`` one EGM step at each node's
        first-order budget (the household inputs' first-order responses to the innovations
        held then, and with :class:`FloorExpectations` to the shifts of the rule that keep
        the bound at that node) from that node's :meth:`linear_continuation` (scaled by the
        return it expects, where the start scales by the return); elsewhere
        :meth:`linear_continuation`.
        Next to the borrowing limit next date's choice is kinked in the shocks (constrained in
        some, not in others), which a continuation linear in the history cannot follow; the
        expected return factor the actor applies is divided out (``R_ss E[R u'(c)] / E[R]``)
        where the start scales by it (docs/theory.md §12.7)."""
        start, model = self.first_order, self.model
        K, E, J = start.cells
        nodes, weights = self.surprise_nodes(start.quadrature)
        innovations = nodes * self.sigma
        scales = self.prices.scales_by_return
        knots, query = self.a_grid[:J], self.a_grid[:K]
        uc_limit = None if self.uc_limit is None else self.uc_limit[:K, :E]
        # next date's history is the node's innovations, then today's less its oldest date:
        # the older dates' part of every first-order term is the same at every node
        past = _history(self, z)[:-1]
        H = self.history_length
        moved = jnp.einsum("jsae,js->ae", start.households[1:, :, :J], past)
        inputs = jnp.einsum("jsk,js->k", start.inputs[1:H], past)
        inputs_ahead = jnp.einsum("jsk,js->k", start.inputs[2:H + 1], past)

        def one(innovation):
            move = moved + jnp.einsum("sae,s->ae", start.households[0, :, :J], innovation)
            now = inputs + innovation @ start.inputs[0]
            ahead = inputs_ahead + innovation @ start.inputs[1]
            if start.floor is not None:    # next date's shifts at this node's innovations
                state = start.floor.advance(jnp.concatenate([innovation[None], past]),
                                            _floor_state(self, z))
                move = move + start.floor.households_term(state)[:J]
                now = now + start.floor.inputs_term(state)
                ahead = ahead + start.floor.inputs_term(state, ahead=1)
            full = self._budget_of(now)
            budget = eqx.tree_at(lambda b: (b.y, b.we), full, (full.y[:E], full.we[:E]))
            factor = self._budget_of(ahead).R / self.R_ss if scales else 1.0
            V = self._continuation_of(move, slice(0, J))
            W = model.beta * budget.discount * ((factor * V) @ self.Pi_e[:E].T)
            limit = (limit_consumption(model, budget, query, uc_limit)
                     if model.endogenous_labour else None)
            c = invert_euler(model, W, budget, knots, limit=limit, query=query)[2]
            return full.R, model.marginal_utility(c)

        R, uc = jax.vmap(one)(innovations)
        EV = jnp.einsum("n,nae->ae", weights, R[:, None, None] * uc)
        EV = self.R_ss * EV / jnp.sum(weights * R) if scales else EV
        return self.linear_continuation(z).at[:K, :E].set(EV)

    def linear_nowcast(self, z) -> Float[Array, " n_u"]:
        """With a first-order start, the first-order response of today's unknowns
        ``U_t - U_ss`` to the surprises held in ``z`` (the rule's shifts at a lower bound
        left out), else zeros: where the quasi-Newton clearing of :class:`ForecastClearing`
        starts."""
        n_u = self.forecast_scale.shape[0]
        start = self.first_order
        if start is None or start.impact is None:
            return jnp.zeros((n_u,), self.a_grid.dtype)
        # an innovation j >= 1 dates ago moves today's unknowns as it moved the forecast made
        # the date before: the forecast's response one date earlier
        responses = jnp.concatenate([start.impact[None], start.forecast[:-1]])
        return jnp.einsum("jsu,js->u", responses, _history(self, z))

    def linear_forecast(self, z) -> Float[Array, " n_u"]:
        """With a first-order start, the first-order response of the forecast unknowns
        ``E_t U_{t+1} - U_ss`` to the surprises held in ``z`` (and to the rule's shifts at a
        lower bound, as :meth:`continuation`), else zeros."""
        n_u = self.forecast_scale.shape[0]
        if self.first_order is None or self.first_order.forecast is None:
            return jnp.zeros((n_u,), self.a_grid.dtype)
        start = self.first_order
        out = jnp.einsum("jsu,js->u", start.forecast, _history(self, z))
        if start.floor is not None:
            out = out + start.floor.forecast_term(_floor_state(self, z))
        return out

    def enter(self, mu, z_prev, e, shock):
        """The distribution and noise state a rollout's date starts from: the noise state
        moved by the date's innovations (:func:`_advance`), and with an aggregate chain the
        income draw that comes with the new aggregate state, ``mu Pi_e[z_{t-1}, z_t]``."""
        z = _advance(self, z_prev, e, shock)
        return (mu @ self.transition(z_prev, z) if self.chain is not None else mu), z

    def leave(self, z, e, t=None):
        """The noise state carried to the next date (it moves when the next date enters)."""
        return z

    def chain_index(self, z) -> Array:
        """The aggregate chain's state index held in the noise state ``z``."""
        return z[0].astype(jnp.int32)

    def transition(self, z_prev, z) -> Float[Array, "n_e n_e"]:
        """The households' income matrix between the dates with noise states ``z_prev`` and
        ``z``: ``Pi_e[z_prev, z]`` of the chain (else the constant ``Pi_e``)."""
        if self.chain is None:
            return self.Pi_e
        return self.chain.idiosyncratic(self.chain_index(z_prev), self.chain_index(z))

    def expected_transition(self, z) -> Float[Array, "n_e n_e"]:
        """The income matrix a household expects today in noise state ``z``: with a chain,
        ``sum_z' Pi_z[z, z'] Pi_e[z, z']`` (else ``Pi_e``)."""
        if self.chain is None:
            return self.Pi_e
        i = self.chain_index(z)
        return jnp.einsum("w,wef->ef", self.chain.aggregate.Pi[i], self.chain.Pi_e[i])

    @property
    def n_shocks(self) -> int:
        return len(self.shock_names)

    @property
    def rho(self) -> Float[Array, " n_shocks"]:
        """The shocks' AR(1) coefficients (zero for an aggregate chain's index)."""
        if self.chain is not None:
            return jnp.zeros((1,), self.a_grid.dtype)
        return jnp.stack([jnp.asarray((p.shock if isinstance(p, News) else p).rho,
                                      self.a_grid.dtype) for p in self.processes])

    @property
    def sigma(self) -> Float[Array, " n_noise"]:
        """The s.d. of every innovation: the shocks' surprises, then the announcements (one
        for an aggregate chain's standard normal draw)."""
        if self.chain is not None:
            return jnp.ones((1,), self.a_grid.dtype)
        parts = [jnp.asarray(p.part if isinstance(p, News) else p.sigma, self.a_grid.dtype)
                 for p in self.processes]
        news = [parts[self.news_index]] * self.news
        return jnp.stack(parts + news)

    @property
    def n_noise(self) -> int:
        """Innovations per date: one surprise per shock and ``news`` announcements."""
        return self.n_shocks + self.news

    @property
    def noise_names(self) -> tuple[str, ...]:
        name = self.shock_names[self.news_index] if self.shock_names else ""
        return self.shock_names + tuple(f"{name}_news{k}" for k in range(1, self.news + 1))

    def innovation_path(self, i: int, T: int):
        """``(shock name, path (T,))``: the path of the exogenous aggregate that innovation
        ``i`` (a shock's surprise, hitting now, or the announcement ``news_m``, hitting at
        ``m``) of one standard deviation gives it, ``sigma_i rho^(t - lag)`` from its date on."""
        s, lag = (i, 0) if i < self.n_shocks else (self.news_index, i - self.n_shocks + 1)
        t = jnp.arange(T, dtype=self.a_grid.dtype)
        shape = jnp.where(t >= lag, self.rho[s] ** jnp.maximum(t - lag, 0.0), 0.0)
        return self.shock_names[s], self.sigma[i] * shape

    @property
    def beta(self):
        return self.model.beta

    def sample_noise(self, *, key: PRNGKeyArray, n_paths: int, T: int | None = None):
        """Standard normal innovations ``(n_paths, T, n_noise)`` (zeros without common noise)."""
        T = self.horizon if T is None else T
        shape = (n_paths, T, self.n_noise)
        if not self.common_noise:
            return jnp.zeros(shape, self.a_grid.dtype)
        return jax.random.normal(key, shape, self.a_grid.dtype)

    def make_policy(self, *, key, **arch) -> SavingsPolicy:
        """A policy for this problem (with the firms' forecaster when the economy needs one)."""
        k_hh, k_f = jax.random.split(key)
        if not arch.get("linear", True) and self.first_order is None:
            raise ValueError("linear=False (a learned correction without a linear term) needs a "
                             "structural start that is exact at first order (start="
                             "'first-order', 'risk-adjusted' or 'time-iteration'); this "
                             "problem's start is the steady state")
        policy = SavingsPolicy(self.a_grid, self.e_grid.shape[0], self.obs_ref, self.obs_scale,
                               key=k_hh, **arch)
        if isinstance(self.prices, ForecastClearing):
            ss = self.ss_values
            ref = jnp.stack([ss[u] for u in self.prices.unknowns])
            widths = arch.get("widths", (64, 64))
            forecaster = Forecaster(self.obs_ref, self.obs_scale, ref, self.forecast_scale,
                                    len(self.prices.observed), key=k_f,
                                    hidden=arch.get("hidden", 32), widths=widths,
                                    activation=arch.get("activation", "tanh"),
                                    linear=arch.get("linear", True))
            policy = policy.with_forecaster(forecaster)
        return policy


def aggregate_chain(model) -> AggregateIdiosyncraticChain | None:
    """The economy's aggregate Markov chain (its ``chain``, an
    :class:`~hank_mfg.model.exogenous.AggregateIdiosyncraticChain`, with
    ``exogenous_values(z_index)`` giving its exogenous aggregates in each aggregate state), or
    ``None`` for an economy driven by AR(1) shocks."""
    chain = getattr(model, "chain", None)
    return chain if isinstance(chain, AggregateIdiosyncraticChain) else None


def check_supported(model) -> None:
    """``TypeError`` unless continuous-choice RSPG covers ``model``: a capital economy
    (:class:`AbstractHetAgentModel`) or an :class:`AbstractEconomy` (with or without a labour
    choice; one transition unknown is cleared by bisection, several by Newton with the firms'
    forecast of the next date)."""
    if not isinstance(model, AbstractEconomy):
        raise TypeError(f"RSPG with continuous choices expects an AbstractEconomy (a capital "
                        f"economy, AbstractHetAgentModel, is one); got {type(model).__name__}")


def savings_problem(model, steady_state, *, horizon: int | None = None,
                    horizon_tol: float = 1e-2, news: int = 0,
                    news_shock: str | None = None, start: str = "steady-state",
                    floor_expectations: bool = False) -> SavingsProblem:
    """Compile ``model`` around its ``steady_state`` for continuous-choice RSPG.

    Args:
        model: an :class:`AbstractEconomy`: prices in closed form from the capital the
            households carry in where its unknown is their saving (:func:`carried_unknown`,
            e.g. a capital economy), else one transition unknown cleared each date by the
            Illinois method, several solved by Newton with the firms' forecast
            (:class:`ForecastClearing`).
        steady_state: ``hm.steady_state(model)`` (EGM).
        horizon: ``T`` (default: the first with ``beta^T <= horizon_tol``).
        news: ``K``, announced innovations of ``news_shock`` (default: the first shock) that hit
            ``1..K`` dates after they are announced. The shock's innovation variance is split
            equally between its surprise and the ``K`` announcements, so that its unconditional
            variance stays the calibrated one.
        start: ``"steady-state"``, ``"first-order"`` (:func:`first_order_start`),
            ``"risk-adjusted"`` (the first-order start with :func:`risk_adjustment`) or
            ``"time-iteration"`` (the risk-adjusted start with :func:`time_iteration_step`);
            an economy with a Markov aggregate state, or without common noise, keeps the
            steady-state start.
        floor_expectations: with a first-order start and an economy with a lower bound,
            expectations that respect the bound (:class:`FloorExpectations`).
    """
    check_supported(model)
    if start not in STARTS:
        raise ValueError(f"RSPGConfig.start must be one of {STARTS}; got {start!r}")
    if floor_expectations and (start == "steady-state" or model.lower_bound_of() is None):
        raise ValueError(f"RSPGConfig.floor_expectations needs a first-order start and an "
                         f"economy with a lower bound; got start={start!r} and "
                         f"{type(model).__name__} without one")
    chain = aggregate_chain(model)
    news = int(news)
    if news < 0:
        raise ValueError(f"RSPGConfig.news must be a non-negative number of dates; got {news}")
    if news and chain is not None:
        raise ValueError(f"RSPGConfig.news: {type(model).__name__}'s aggregate state is a Markov "
                         f"chain, which has no announced innovations; got {news}")
    solved = economy_of_steady_state("savings_problem", model, steady_state)
    steady_state = with_economy(steady_state, solved)
    ss_values = {k: jnp.asarray(v, dtype=float) for k, v in steady_state.values.items()}
    budget = solved.budget(ss_values)
    carried = carried_unknown(solved, ss_values)
    if carried is not None:     # prices in closed form from the capital households carried in
        prices = ClosedFormPrices(unknown=carried)
        # the households see the prices, and the aggregate state's value where it is a chain
        observed = tuple(solved.household_inputs) + (
            (chain.aggregate.name,) if chain is not None else ())
    elif chain is not None:
        raise ValueError(f"savings_problem: {type(model).__name__}'s aggregate state is a Markov "
                         f"chain, whose prices must follow in closed form from the capital the "
                         f"households carry in (its one transition unknown, cleared by the "
                         f"households' saving A - U and not read by the budget of its own date); "
                         f"unknowns {tuple(model.transition_unknowns)}")
    else:
        forward, markets = _forward_targets(solved, ss_values)
        check_timing(solved, ss_values, forward=bool(forward) or
                     len(model.transition_unknowns) > 1)
        if len(model.transition_unknowns) == 1 and not forward:
            prices = ClearedPrice(unknown=model.transition_unknowns[0],
                                  target=model.transition_targets[0])
            observed = (prices.unknown,) + tuple(solved.exogenous)
        else:
            prices = ForecastClearing(
                unknowns=tuple(model.transition_unknowns),
                targets=tuple(model.transition_targets),
                observed=tuple(model.observed) or tuple(model.transition_unknowns),
                forward_targets=forward, market_names=markets,
                exact=bool(getattr(model, "kinked", False)))
            observed = prices.observed + tuple(solved.exogenous)
    obs_ref = jnp.stack([ss_values[k] for k in observed])
    # the exogenous modules, one per shock (docs/exogenous.md)
    processes = tuple(AR1(s.name, jnp.asarray(s.rho, dtype=float),
                          jnp.asarray(s.sigma, dtype=float), s.n_nodes) for s in solved.shocks())
    names = tuple(s.name for s in processes)
    if chain is not None:       # one standard normal draw per date picks the next state
        names, processes = (chain.aggregate.name,), (chain.aggregate,)
    news_index = 0
    if news:
        if news_shock is None:
            news_shock = names[0]
        if news_shock not in names:
            raise ValueError(f"RSPGConfig.news_shock must name one of the shocks {names}; got "
                             f"{news_shock!r}")
        news_index = names.index(news_shock)
        processes = processes[:news_index] + (News(processes[news_index], news),) \
            + processes[news_index + 1:]
        obs_ref = jnp.concatenate([obs_ref, jnp.zeros((news,), obs_ref.dtype)])
    a_grid, e_grid, Pi_e, _ = household_arrays(solved)
    a_ss, c_ss = jnp.asarray(steady_state.a_policy), jnp.asarray(steady_state.c_policy)
    n_ss = getattr(steady_state, "n_policy", None)
    V_ss, it, err = stationary_policy_value(solved, c_ss, a_ss, n_ss)
    if not float(err) <= 1e-12:
        raise RuntimeError(f"savings_problem: the steady-state value did not converge after "
                           f"{int(it)} iterations (relative change {float(err):.3g})")
    Vc_ss = V_ss
    if solved.endogenous_labour:
        Vc_ss, it, err = stationary_policy_value(solved, c_ss, a_ss, hours=False)
        if not float(err) <= 1e-12:
            raise RuntimeError(f"savings_problem: the steady-state value of consumption did "
                               f"not converge after {int(it)} iterations (relative change "
                               f"{float(err):.3g})")
    T = horizon_for(float(solved.beta), horizon_tol) if horizon is None else int(horizon)
    if T < 2:
        raise ValueError(f"RSPGConfig.horizon must be at least 2; got {T}")
    n_u = len(prices.unknowns) if isinstance(prices, ForecastClearing) else 0
    c_limit = limit_consumption(solved, budget, a_grid)[0]   # saving a_min at the steady state
    problem = SavingsProblem(
        model=solved, prices=prices, a_grid=a_grid, e_grid=e_grid, Pi_e=Pi_e,
        mu_ss=jnp.asarray(steady_state.mu), a_ss=a_ss, c_ss=c_ss,
        Va_ss=jnp.asarray(steady_state.Va), V_ss=V_ss, Vc_ss=Vc_ss, ss_values=ss_values,
        R_ss=budget.R, processes=processes, obs_ref=obs_ref, obs_scale=jnp.ones_like(obs_ref),
        forecast_scale=jnp.ones((n_u,), obs_ref.dtype),
        shock_names=names, horizon=T, common_noise=bool(model.common_noise), news=news,
        news_index=news_index, steady_state=steady_state, chain=chain,
        uc_limit=solved.marginal_utility(c_limit) if solved.endogenous_labour else None,
        base_ss=_logit(1.0 - c_ss / c_limit),
    )
    if isinstance(prices, ForecastClearing):
        policy = problem.make_policy(key=jax.random.key(0), hidden=1, widths=(1,), n_knots=2)
        J = _forecast_jacobian(problem, policy)
        problem = eqx.tree_at(lambda p: p.prices.jacobian, problem, J,
                              is_leaf=lambda x: x is None)
    if start != "steady-state" and chain is None:
        problem = first_order_start(problem, expect_bound=floor_expectations)
        if start in ("risk-adjusted", "time-iteration") and problem.first_order is not None:
            problem = risk_adjustment(problem)
        if start == "time-iteration" and problem.first_order is not None:
            problem = time_iteration_step(problem)
    obs_scale, forecast_scale = observation_scale(problem)
    return eqx.tree_at(lambda p: (p.obs_scale, p.forecast_scale), problem,
                       (obs_scale, forecast_scale))


@jax.jit
def _forecast_jacobian(problem: SavingsProblem, policy: SavingsPolicy):
    """The forecast-and-clear step's starting Jacobian, the households choosing from the
    policy's first state (:meth:`ForecastClearing.steady_state_jacobian`)."""
    h0 = policy.init_carry()
    return problem.prices.steady_state_jacobian(
        problem, policy, SavingsActor(problem, policy, h0))


class FirstOrderStart(eqx.Module):
    """The first-order (certainty-equivalent) solution the structural start reads.

    households: ``M[j, i] (H, n_noise, n_a, n_e)``, the response of the households' expected
        continuation ``E_t Lambda_{t+1}`` to a unit innovation ``i`` (a shock's surprise, or an
        announcement of one that hits ``k`` dates later) ``j`` dates ago
        (``Lambda = Va`` for prices in closed form; ``Lambda = Va R_ss / R`` where the start
        scales by the expected return factor, so that the factor still reacts to today's
        prices). forecast: ``N[j, i] (H, n_noise, n_u)``, the same for the firms' forecast of
        next date's unknowns, or ``None``; impact: ``(n_noise, n_u)``, the response of today's
        unknowns to today's innovations (with ``forecast``, today's unknowns' response to every
        innovation: where the clearing starts its search), or ``None``. size: the surprise (in s.d.) of the
        perfect-foresight paths they were measured on. horizon: the perfect-foresight paths'
        length; ``H`` is where every later response is below ``tol`` of the largest.
    risk: the risk adjustment ``D (n_a, n_e)`` of the expected continuation (``None``: the
        certainty-equivalent start; :func:`risk_adjustment`). risk_steps, risk_change: the
        fixed-point steps that computed it and the last step's largest change relative to the
        largest marginal value.
    floor: the expectations' respect for a lower bound (:class:`FloorExpectations`), or
        ``None``: the linear expectations.
    inputs: ``P[j, i] (H + 1, n_noise, n_inputs)``, the response of the household inputs
        (the budget's prices, ``model.household_inputs``) ``j`` dates after a unit innovation
        ``i``: the first-order budgets of :meth:`SavingsProblem.quadrature_continuation`.
    quadrature: Gauss–Hermite nodes per shock of that continuation (0: the linear one);
        cells: its ``(K, E, J)`` (:func:`quadrature_cells`). Set by
        :func:`time_iteration_step`.
    linear_in: what the continuation is linear in: ``"consumption"`` (default; the
        consumption ``(u')^{-1}(Lambda / R_ss)`` it stands for,
        :func:`consumption_units_move`) or ``"marginal value"`` (``Lambda`` itself). The same
        at first order.
    """

    households: Float[Array, "H n_noise n_a n_e"]
    forecast: Float[Array, "H n_noise n_u"] | None
    size: float = eqx.field(static=True)
    tol: float = eqx.field(static=True)
    horizon: int = eqx.field(static=True)
    impact: Float[Array, "n_noise n_u"] | None = None
    risk: Float[Array, "n_a n_e"] | None = None
    risk_steps: int = eqx.field(static=True, default=0)
    risk_change: float = eqx.field(static=True, default=0.0)
    floor: Any = None
    linear_in: str = eqx.field(static=True, default="consumption")
    inputs: Float[Array, "H1 n_noise n_in"] | None = None
    quadrature: int = eqx.field(static=True, default=0)
    cells: tuple = eqx.field(static=True, default=(0, 0, 0))

    def __check_init__(self):
        if self.linear_in not in CONTINUATION_UNITS:
            raise ValueError(f"FirstOrderStart.linear_in must be one of {CONTINUATION_UNITS}; "
                             f"got {self.linear_in!r}")


def consumption_units_move(model, Va_ss, R_ss, moved):
    """The move of the expected continuation when its first-order move ``moved`` is taken
    linear in the consumption it stands for, ``T = (u')^{-1}(Lambda / R_ss)``, rather than
    in ``Lambda`` itself: ``R_ss u'(T_ss + moved / (R_ss u''(T_ss))) - Lambda_ss``. The same at
    first order; exact where tomorrow's consumption is linear in the shocks (households at
    the borrowing limit, whose consumption is their income), and without the convexity of
    ``u'`` elsewhere (docs/theory.md §12.7). ``T`` is kept above a thousandth of ``T_ss``."""
    T_ss = model.inverse_marginal_utility(Va_ss / R_ss)
    u1, u2 = jax.jvp(model.marginal_utility, (T_ss,), (jnp.ones_like(T_ss),))
    T = jnp.maximum(T_ss + moved / (R_ss * u2), 1e-3 * T_ss)
    return R_ss * (model.marginal_utility(T) - u1)


def gauss_jordan_solve(A: Float[Array, "n n"], b: Float[Array, " n"]) -> Float[Array, " n"]:
    """``A^{-1} b`` by Gauss–Jordan elimination with partial pivoting, in plain array
    operations: for the small systems solved at every date of a rollout, where XLA on the CPU
    can deadlock when LAPACK's solver runs inside the rollout's nested maps and loops."""
    n = A.shape[0]
    M = jnp.concatenate([A, b[:, None]], axis=1)
    rows = jnp.arange(n)

    def eliminate(k, M):
        p = jnp.argmax(jnp.where(rows >= k, jnp.abs(M[:, k]), -1.0))
        M = M.at[jnp.stack([k, p])].set(M[jnp.stack([p, k])])       # swap rows k and p
        pivot = M[k] / M[k, k]
        return (M - jnp.outer(M[:, k], pivot)).at[k].set(pivot)

    return jax.lax.fori_loop(0, n, eliminate, M)[:, n]


def floor_shifts(jacobian: Float[Array, "L L"], gap: Float[Array, " L"],
                 max_steps: int = 8) -> tuple[Float[Array, " L"], Array]:
    """The shifts ``v >= 0`` of a rule that keep a linear path at or above its bound: the
    linear complementarity problem ``w = gap + J v >= 0``, ``v >= 0``, ``v_h w_h = 0``
    (``gap``: the path's distance above the bound without shifts; ``J[h, s]``: the path's
    response at date ``h`` to a unit shift at date ``s``), solved by iterating on the set of
    dates at the bound (each step solves ``w_h = 0`` on the set and ``v_h = 0`` off it, then
    keeps the dates with ``v_h > 0`` and adds those with ``w_h < 0``) until the set stops
    changing or ``max_steps``. Started from the dates where the path is below the bound, it
    finds the solution with the fewest dates at the bound where there are several (a short
    spell rather than a self-fulfilling long one). Off the bound everywhere the set is empty
    and stays so: ``v = 0``.
    Returns ``(v, solved)``; where the iteration finds no solution (the linear economy may
    have none for a deep enough fall: the shifts that keep one date at the bound push earlier
    dates below it), ``v = 0`` and ``solved`` is False.
    """
    L = gap.shape[0]
    eye = jnp.eye(L, dtype=gap.dtype)

    def solve(active):
        A = jnp.where(active[:, None], jacobian, eye)
        return gauss_jordan_solve(A, jnp.where(active, -gap, 0.0))

    def body(_, state):
        active, _ = state
        v = solve(active)
        new = jnp.where(active, v > 0.0, gap + jacobian @ v < 0.0)
        return new, jnp.any(new != active)

    # a fixed number of steps (a converged set stays put): XLA on the CPU can deadlock in a
    # data-dependent loop of linear solves nested in the rollout's scans and maps
    active, changing = jax.lax.fori_loop(0, max_steps, body, (gap < 0.0, jnp.any(gap < 0.0)))
    v = solve(active)
    tiny = 1e-12 * (1.0 + jnp.max(jnp.abs(gap)))
    solved = ~changing & jnp.all(v >= -tiny) & jnp.all(gap + jacobian @ v >= -tiny)
    return jax.lax.stop_gradient(jnp.where(solved, jnp.maximum(v, 0.0), 0.0)), solved


class FloorExpectations(eqx.Module):
    """How the first-order start's expectations respect a lower bound (an economy's
    :class:`~hank_mfg.model.economy.LowerBound`; docs/theory.md §12.7).

    The piecewise-linear expectation of the path with the bound: the linear solution with
    announced shifts of the rule (news to its intercept) that keep the bounded variable at or
    above its bound. At date ``t`` the expected path over today and the ``L - 1`` dates ahead is
    the steady state plus the responses to the history of innovations and to every shift
    announced in the past; the shifts ``v_t (L,)`` solve the complementarity problem of
    :func:`floor_shifts` for that path, and today's revision ``n_t = v_t - v_{t-1}`` (shifted
    one date) is announced today, like an innovation. The households' continuation and the
    firms' forecast move with the history of revisions as with the history of innovations.
    The noise state carries the last ``H`` revisions and ``v_t``
    (:meth:`SavingsProblem.n_state`).

    response: ``(H, n_noise, L)``, the variable's response at date ``j + h`` to a unit
        innovation made at date 0 (``j`` dates ago). pulses: ``(H, L, L)``, ``[j, h, k]`` its
        response at date ``j + h`` to a unit shift of the rule at date ``k`` announced at 0
        (``pulses[0]`` is the problem's matrix ``J``). households: ``(H, L, n_a, n_e)`` and
        forecast ``(H, L, n_u)`` (or ``None``): the responses of the continuation at date
        ``j + 1`` and of the forecast unknowns to the same shifts. gap: the steady-state value
        less the bound. inputs: ``(H + 1, L, n_inputs)``, the household inputs' responses at
        date ``j`` to the same shifts: the piecewise-linear budgets of
        :meth:`SavingsProblem.quadrature_continuation`.
    """

    response: Float[Array, "H n_noise L"]
    pulses: Float[Array, "H L L"]
    households: Float[Array, "H L n_a n_e"]
    forecast: Float[Array, "H L n_u"] | None
    gap: float = eqx.field(static=True)
    max_steps: int = eqx.field(static=True, default=8)
    inputs: Float[Array, "H1 L n_in"] | None = None

    @property
    def length(self) -> int:
        """``L``: today and the dates ahead the shifts are solved for."""
        return self.pulses.shape[1]

    @property
    def size(self) -> int:
        """Its part of the noise state: ``H`` revisions of ``L`` dates and ``v_t``."""
        return (self.pulses.shape[0] + 1) * self.length

    def split(self, state):
        """``(revisions (H, L), shifts (L,))`` from its part of the noise state."""
        H, L = self.pulses.shape[0], self.length
        return state[:H * L].reshape(H, L), state[H * L:]

    def advance(self, history: Float[Array, "H n_noise"], state) -> Array:
        """Its part of the noise state after today's innovations (``history``, row 0 today's):
        today's shifts and revision, from yesterday's ``state``."""
        revisions, before = self.split(state)
        expected = jnp.concatenate([before[1:], jnp.zeros((1,), before.dtype)])
        path = (self.gap + jnp.einsum("jsh,js->h", self.response, history)
                + jnp.einsum("jhk,jk->h", self.pulses[1:], revisions[:-1]))
        J = self.pulses[0]
        v, solved = floor_shifts(J, path - J @ expected, self.max_steps)
        # no solution: keep the shifts expected yesterday (none after a quiet history)
        v = jnp.where(solved, v, expected)
        revisions = jnp.concatenate([(v - expected)[None], revisions[:-1]])
        return jnp.concatenate([revisions.reshape(-1), v])

    def households_term(self, state) -> Float[Array, "n_a n_e"]:
        return jnp.einsum("jkae,jk->ae", self.households, self.split(state)[0])

    def forecast_term(self, state) -> Float[Array, " n_u"]:
        return jnp.einsum("jku,jk->u", self.forecast, self.split(state)[0])

    def inputs_term(self, state, ahead: int = 0) -> Float[Array, " n_in"]:
        """The household inputs' move ``ahead`` dates after the date of ``state`` from the
        shifts revised so far (0: that date's own budget)."""
        H = self.pulses.shape[0]
        return jnp.einsum("jki,jk->i", self.inputs[ahead:ahead + H], self.split(state)[0])


def first_order_start(problem: SavingsProblem, *, size: float = 1e-2, tol: float = 1e-4,
                      horizon: int | None = None, expect_bound: bool = False,
                      floor_horizon: int = 40,
                      linear_in: str = "consumption") -> SavingsProblem:
    """``problem`` with a first-order structural start (docs/theory.md §12.7).

    Under certainty equivalence the linear solution is linear in the history of innovations:
    an innovation ``eps`` at date ``t - j`` (a surprise, or an announcement of a shock that
    hits ``k`` dates after it is made) moves what households expect at ``t``,
    ``E_t Lambda_{t+1}``, by what the perfect-foresight response to that innovation made at
    date 0 shows at date ``j + 1``. Those responses are measured by central differences of two
    perfect-foresight transitions, ``±size`` s.d. of each innovation (``hm.transition_path``,
    the steady state's own Jacobian), and the households' start becomes one EGM step at
    today's actual budget from ``Lambda_ss + sum_j M_j eps_{t-j}``; the firms' forecaster
    (economies that clear with a forecast) starts at ``U_ss + sum_j N_j eps_{t-j}``. The
    history is cut at ``H`` dates, after which every response is below ``tol`` of its
    largest. Markov aggregate states have no first-order start here.

    ``linear_in``: what the households' expected continuation is linear in
    (:class:`FirstOrderStart`; ``"consumption"``, the default, or ``"marginal value"``).

    With ``expect_bound``, an economy with a lower bound (``lower_bound_of()``) also gets
    :class:`FloorExpectations` over ``floor_horizon`` dates: the same expectations with the
    bound kept by shifts of its rule (responses to shifts at each date measured the same way,
    by central differences of perfect-foresight transitions).
    """
    if problem.chain is not None:
        raise ValueError("first_order_start: the aggregate state is a Markov chain, which has "
                         "no linear (certainty-equivalent) solution in this form")
    if problem.n_shocks == 0 or not problem.common_noise:
        return problem
    model, ss = problem.model, problem.steady_state
    bound = model.lower_bound_of() if expect_bound else None
    # with a bound, room for the bounded variable's path L dates ahead of the oldest innovation
    # kept (the responses die out within about 100 dates at the shipped persistences; a longer
    # history is refused below with the numbers)
    T = int(horizon) if horizon is not None else (
        problem.horizon + 50 if bound is None
        else max(problem.horizon + 50, 150) + int(floor_horizon))
    closed = isinstance(problem.prices, ClosedFormPrices)
    forecasting = isinstance(problem.prices, ForecastClearing)
    R_ss = problem.R_ss
    G = transition_jacobian(model, ss, T)

    def run(name, dz):
        """``(Lambda, U, bounded variable)`` along the perfect-foresight path of ``dz``."""
        path = economy_transition(model, shocks={name: dz}, steady_state=ss,
                                  return_distribution=True, jacobian=G)
        R = jax.vmap(lambda v: model.budget(v).R)(
            {k: path.values[k] for k in model.household_inputs})
        U = (jnp.stack([path.values[u] for u in problem.prices.unknowns], axis=-1)
             if forecasting else None)
        x = None if bound is None else jnp.asarray(path.values[bound.variable])
        mu_prime = model.marginal_utility(path.c_policy)
        lam = (R[:, None, None] if closed else R_ss) * mu_prime
        inputs = jnp.stack([jnp.broadcast_to(jnp.asarray(path.values[k], R.dtype), R.shape)
                            for k in model.household_inputs], axis=-1)
        return lam, U, x, inputs

    def central(name, dz, unit):
        """The responses per unit of ``dz / unit``, by central differences."""
        up, down = run(name, dz), run(name, -dz)
        return tuple(None if a is None else (a - b) / (2.0 * unit) for a, b in zip(up, down))

    M, N, N0, X, P = [], [], [], [], []
    for i in range(problem.n_noise):
        name, dz = problem.innovation_path(i, T)
        lam, U, x, inputs = central(name, size * dz, size * problem.sigma[i])
        M.append(lam[1:])
        P.append(inputs)
        N.append(None if U is None else U[1:])
        N0.append(None if U is None else U[0])
        X.append(x)
    M = jnp.stack(M, axis=1)                                  # (T - 1, n_noise, n_a, n_e)
    peak = jnp.max(jnp.abs(M), axis=(1, 2, 3))
    alive = np.flatnonzero(np.asarray(peak) > tol * float(jnp.max(peak)))
    H = int(alive[-1]) + 1 if alive.size else 1
    forecast = jnp.stack(N, axis=1)[:H] if forecasting else None
    impact = jnp.stack(N0) if forecasting else None
    floor = None
    if bound is not None:
        L = int(floor_horizon)
        if not 1 <= L <= T - H:
            raise ValueError(f"first_order_start.floor_horizon must lie in [1, {T - H}] (the "
                             f"paths' {T} dates less the history's {H}); got {floor_horizon}")
        # the bounded variable at date j + h after an innovation j dates ago
        response = jnp.stack([jnp.stack([x[j:j + L] for x in X]) for j in range(H)])
        shock_sd = {s.name: float(s.sigma) for s in model.shocks()}
        amp = size * shock_sd.get(bound.instrument, 1e-3)
        dates = jnp.arange(T)
        cols = [central(bound.instrument, jnp.where(dates == k, amp * bound.scale, 0.0), amp)
                for k in range(L)]
        # [j, h, k]: at date j + h (the variable) or j + 1 (continuation, forecast) after a
        # shift for date k announced j dates ago
        pulses = jnp.stack([jnp.stack([c[2][j:j + L] for c in cols], axis=1) for j in range(H)])
        floor = FloorExpectations(
            response=response, pulses=pulses,
            households=jnp.stack([c[0][1:H + 1] for c in cols], axis=1),
            forecast=jnp.stack([c[1][1:H + 1] for c in cols], axis=1) if forecasting else None,
            gap=float(ss.values[bound.variable]) - float(bound.bound),
            inputs=jnp.stack([c[3][:H + 1] for c in cols], axis=1))
    start = FirstOrderStart(households=M[:H], forecast=forecast, impact=impact,
                            size=float(size), tol=float(tol), horizon=T, floor=floor,
                            linear_in=linear_in, inputs=jnp.stack(P, axis=1)[:H + 1])
    return eqx.tree_at(lambda p: p.first_order, problem, start, is_leaf=lambda x: x is None)


def risk_adjustment(problem: SavingsProblem, *, n_nodes: int | None = None, tol: float = 1e-6,
                    max_steps: int = 200) -> SavingsProblem:
    """``problem`` (with a first-order start) with its households' expected continuation
    adjusted for risk at the steady state (docs/theory.md §12.7).

    The certainty-equivalent start expects the marginal value of saving at next date's mean
    state; the Euler equation asks for its mean over next date's shocks. The adjustment
    ``D(a', e')`` is the fixed point, at the steady state with no shock realised, of
    ``D = sum_n w_n R_n u'(c_n(a', e')) - Va_ss`` over the Gauss–Hermite nodes ``n`` of next
    date's surprises (``n_nodes`` per shock, as the Euler errors: 5 for one shock, 3 for
    more; announcements at zero), where ``R_n`` and ``c_n`` are next date's return and the
    start's consumption at node ``n`` with prices formed (or cleared) there from the
    continuation ``Va_ss + D`` plus the first-order response to the node: time iteration on
    the adjustment alone, until its largest change is below ``tol`` of the largest marginal
    value (or ``max_steps``). ``D`` is second order in the shocks where the expected
    marginal utility is smooth in them and larger next to the borrowing limit, where it is
    kinked, so the start stays exact at first order.
    """
    if problem.first_order is None:
        raise ValueError("risk_adjustment: the problem has no first-order start (an economy "
                         "without common noise, or a Markov aggregate state)")
    if n_nodes is None:
        n_nodes = 5 if problem.n_shocks == 1 else 3
    nodes, weights = problem.surprise_nodes(n_nodes)
    policy = problem.make_policy(key=jax.random.key(0), hidden=1, widths=(1,), n_knots=2)
    Va_ss, model = problem.Va_ss, problem.model
    with_risk = lambda D: eqx.tree_at(lambda p: p.first_order.risk, problem, D,  # noqa: E731
                                      is_leaf=lambda x: x is None)

    @jax.jit
    def step(D):
        P = with_risk(D)
        path = savings_rollout(P, policy, jnp.zeros((2, P.n_noise), D.dtype))
        z, h, mu_next = path.z[0], path.hidden[0], path.mu[1]
        carry = jax.tree_util.tree_map(lambda x: x[0], path.carry)

        R_n, c_n, _ = jax.vmap(lambda node: next_date(
            P, policy, mu_next, _advance(P, z, node, jnp.zeros_like(node)), h, carry))(nodes)
        D_new = jnp.einsum("n,nae->ae", weights,
                           R_n[:, None, None] * model.marginal_utility(c_n)) - Va_ss
        return D_new, jnp.max(jnp.abs(D_new - D)) / jnp.max(jnp.abs(Va_ss))

    D, change, k = jnp.zeros_like(Va_ss), float("inf"), 0
    while k < max_steps and not change < tol:   # a host loop, once, when the problem is built
        D, change = step(D)
        change, k = float(change), k + 1
    if not np.isfinite(change):
        raise RuntimeError(f"risk_adjustment: the fixed point is not finite after {k} steps")
    start = dataclasses.replace(problem.first_order, risk=D, risk_steps=k, risk_change=change)
    return eqx.tree_at(lambda p: p.first_order, problem, start)


def time_iteration_step(problem: SavingsProblem, *, n_nodes: int | None = None,
                        cells: tuple[int, int, int] | None = None) -> SavingsProblem:
    """``problem`` (with a risk-adjusted first-order start) whose households take next date's
    expectation by quadrature where they may be at the borrowing limit next date: one step of
    time iteration from the risk-adjusted start's own next-date choices
    (:meth:`SavingsProblem.quadrature_continuation`; docs/theory.md §12.7). ``n_nodes``
    Gauss–Hermite nodes per shock (default 5 for one shock, 2 for more: 4 nodes a date with
    two shocks, against the Euler errors' 9); ``cells``: ``(K, E, J)`` of
    :func:`quadrature_cells` (default from the steady state; with expectations that keep a
    lower bound, :class:`FloorExpectations`, the whole grid: whether the bound binds next
    date moves every household's budget with the node, not only those near the borrowing
    limit)."""
    start = problem.first_order
    if start is None or start.risk is None:
        raise ValueError("time_iteration_step: the problem needs a risk-adjusted first-order "
                         "start (risk_adjustment)")
    n_nodes = (5 if problem.n_shocks == 1 else 2) if n_nodes is None else int(n_nodes)
    if n_nodes < 1:
        raise ValueError(f"time_iteration_step.n_nodes must be at least 1; got {n_nodes}")
    n_a, n_e = problem.a_ss.shape
    if cells is None:
        cells = (n_a, n_e, n_a) if start.floor is not None else quadrature_cells(problem)
    cells = tuple(int(c) for c in cells)
    K, E, J = cells
    if not (1 <= K <= n_a and 1 <= E <= n_e and 2 <= J <= n_a):
        raise ValueError(f"time_iteration_step.cells must be (K, E, J) with 1 <= K <= {n_a}, "
                         f"1 <= E <= {n_e}, 2 <= J <= {n_a}; got {cells}")
    start = dataclasses.replace(start, quadrature=n_nodes, cells=cells)
    return eqx.tree_at(lambda p: p.first_order, problem, start)


def quadrature_cells(problem: SavingsProblem, near: int = 4) -> tuple[int, int, int]:
    """``(K, E, J)``: the wealth points ``a' < a_K`` and income states ``e' < E`` whose
    continuation takes next date's expectation by quadrature, and the grid points ``a'' <
    a_J`` its endogenous-grid step reads, from the steady state's policy: ``E`` one income
    state beyond the last one with households at the borrowing limit; ``K`` twice the last
    point from which a household of those income states saves less than ``a_near`` (room for
    the shocks to move the limit's reach), plus two; ``J`` the first point beyond twice what
    any of those households saves."""
    a_grid, a_ss = np.asarray(problem.a_grid), np.asarray(problem.a_ss)
    n_a, n_e = a_ss.shape
    at_limit = np.flatnonzero((a_ss <= a_grid[0] + 1e-10 * (1.0 + abs(a_grid[0]))).any(axis=0))
    E = min(n_e, int(at_limit[-1]) + 2) if at_limit.size else 1
    close = np.flatnonzero((a_ss[:, :E] < a_grid[min(near, n_a - 1)]).any(axis=1))
    K = min(n_a, 2 * int(close[-1]) + 2) if close.size else 2
    reach = a_grid[0] + 2.0 * (a_ss[:K, :E].max() - a_grid[0])
    J = min(n_a, int(np.searchsorted(a_grid, reach)) + 1)
    return K, E, max(J, 2)


@eqx.filter_jit
def _observed_paths(problem: SavingsProblem, policy: SavingsPolicy, eps):
    """The observations and forecast unknowns along the rollouts of ``eps`` (compiled once for
    every problem of the same structure and shapes, not once per problem built)."""
    names = problem.prices.unknowns if isinstance(problem.prices, ForecastClearing) else ()

    def one(e):
        path = savings_rollout(problem, policy, e)
        U = jnp.stack([path.agg[u] for u in names], axis=-1) if names else path.obs[:, :0]
        return path.obs, U

    return jax.vmap(one)(eps)


def observation_scale(problem: SavingsProblem, n_paths: int = 4, seed: int = 0):
    """The s.d. of each observation (and of each forecast unknown) over dates and paths under
    the structural start (the untrained policy), so that the networks read and write
    deviations of order one. Without common noise (or for a series that does not move): 1% of
    its steady-state level (1e-4 at zero)."""
    policy = problem.make_policy(key=jax.random.key(seed), hidden=1, widths=(1,), n_knots=2)
    names = problem.prices.unknowns if isinstance(problem.prices, ForecastClearing) else ()
    ref_u = jnp.stack([problem.ss_values[u] for u in names]) if names else jnp.zeros((0,))
    fallback = 1e-2 * jnp.abs(problem.obs_ref) + 1e-4
    fallback_u = 1e-2 * jnp.abs(ref_u) + 1e-4
    if not problem.common_noise:
        return fallback, fallback_u
    eps = problem.sample_noise(key=jax.random.key(seed), n_paths=n_paths)
    obs, U = _observed_paths(problem, policy, eps)

    def sd_of(x, ref, fb):
        if x.shape[-1] == 0:
            return fb
        sd = jnp.std(x.reshape(-1, x.shape[-1]), axis=0)
        return jnp.where(sd > 1e-12 * (1.0 + jnp.abs(ref)), sd, fb)

    return sd_of(obs, problem.obs_ref, fallback), sd_of(U, ref_u, fallback_u)


# ---------------------------------------------------------------------------------------------
# rollout
# ---------------------------------------------------------------------------------------------
def expected_shock_path(problem, z_prev, z_shock):
    """The shocks' levels ``(T, n_shocks)`` — deviations of the exogenous aggregates from the
    steady state — from the noise state ``z_prev`` (the state after date ``-1``: shock levels
    and announcements already made) when no innovation arrives but the deterministic
    ``z_shock (T, n_noise)``: what a perfect-foresight path from that state takes as given."""
    def step(z, shock):
        z = _advance(problem, z, jnp.zeros_like(shock), shock)
        return z, z[:problem.n_shocks]

    return jax.lax.scan(step, z_prev, z_shock)[1]


def _history(problem, z) -> Float[Array, "H n_noise"]:
    """The innovations (surprises and announcements) of today and the ``H - 1`` dates before
    (row ``j``: ``j`` dates ago) held in the noise state when the problem has a first-order
    start."""
    H = problem.history_length
    return z[problem.n_noise:problem.n_noise * (1 + H)].reshape(H, problem.n_noise)


def _floor_state(problem, z):
    """The first-order start's expectations at a lower bound held in the noise state
    (:class:`FloorExpectations`): the last revisions of the rule's shifts and today's shifts."""
    return z[problem.n_noise * (1 + problem.history_length):]


class SavingsPath(eqx.Module):
    """One mean-field path under a savings policy (leading axis ``T``; batched adds ``B``).

    mu: distribution at the start of each date ``(T, n_a, n_e)``. a_next, c, n: savings,
    consumption and hours (ones without a labour choice). share: the share ``x`` of the
    borrowing-limit consumption that is not consumed. dshare: ``da'/d logit``.
    obs: observations ``(T, n_obs)``. budget: the :class:`Budget` of each date. agg: named
    aggregates ``(T,)`` (prices, ``C``, ``A``). residual: the cleared market's residual ``(T,)``.
    z: the noise states ``(T, n_noise)`` (shocks, then announcements). hidden, carry: the
    policy's history state and the prices' carry after each date (to branch on next date's
    shock, :func:`~.savings_certificates.path_euler_errors`). final: the rollout's state after
    the last date (to continue from it, :func:`savings_rollout` ``start``). expected: the
    continuation the households' structural start read at each date
    (:meth:`SavingsProblem.continuation`, ``(T, n_a, n_e)``).
    """

    mu: Array
    a_next: Array
    c: Array
    n: Array
    share: Array
    dshare: Array
    obs: Array
    budget: Budget
    agg: dict
    residual: Array
    z: Array
    hidden: Array
    carry: Any
    expected: Array
    final: Any = None


def limit_consumption(model, budget: Budget, a_grid, uc_seed=None):
    """Consumption and hours of a household that saves the borrowing limit ``a_min``:
    ``(m - a_min, 1)`` without a labour choice, else the root of ``c - we n(c) = R a + y -
    a_min`` (:func:`~hank_mfg.solvers.egm.constrained_consumption`). ``uc_seed``: the
    marginal utility of that root at a nearby budget, e.g. the steady state's
    (:attr:`SavingsProblem.uc_limit`); Newton's method then takes 6 steps instead of 12 (from
    the steady state's root they reach rounding at budgets with every income halved or
    doubled; tested)."""
    if not model.endogenous_labour:
        m = budget.cash_on_hand(a_grid)
        return m - a_grid[0], jnp.ones_like(m)
    rhs = budget.R * a_grid[:, None] + budget.y[None, :] - a_grid[0]
    if uc_seed is None:
        return constrained_consumption(model, budget, rhs)
    return constrained_consumption(model, budget, rhs, uc_seed=uc_seed, iterations=6)


class SavingsActor(eqx.Module):
    """The households' choices at one date, ``actor(budget, factor, obs)`` (:func:`_act`).

    ``read(obs)`` is the policy's reading of an observation, ``(history state, correction)``;
    a market whose observation does not move with its candidate prices reads it once and
    passes it to every candidate (``actor(budget, factor, obs, reading)``), instead of running
    the network again at each step of its search."""

    problem: SavingsProblem
    policy: SavingsPolicy
    h: Array
    Pi: Array | None = None
    Va_next: Array | None = None

    def read(self, obs):
        return self.policy.step(self.h, jax.lax.stop_gradient(obs))

    def __call__(self, budget, factor, obs, reading=None):
        """:func:`_act`'s choices, and the continuation the households expected."""
        sg = jax.lax.stop_gradient
        expected = self.problem.Va_ss if self.Va_next is None else self.Va_next
        return _act(self.problem, self.policy, self.h, budget, sg(factor), sg(obs), self.Pi,
                    self.Va_next, reading) + (sg(expected),)


def _act(problem: SavingsProblem, policy: SavingsPolicy, h, budget, factor, obs, Pi=None,
         Va_next=None, reading=None):
    """The households' choices at one date: the structural start plus the learned correction.

    The start is one EGM step at today's budget from the marginal value ``Va_next`` the
    households expect (default the steady state's; :meth:`SavingsProblem.continuation`),
    scaled by ``factor``, with the income matrix ``Pi`` the households expect today (default
    ``problem.Pi_e``). ``reading``: the policy's ``step(h, obs)``, where the caller has it.

    Consumption is ``c = (1 - x) c_max`` with ``c_max`` the consumption of a household that
    saves the borrowing limit; hours follow from the intratemporal condition and savings from
    the budget, so ``a' >= a_min`` and ``c > 0`` for every ``x`` in ``(0, 1)``. Without a labour
    choice this is ``a' = a_min + x (m - a_min)``. Returns ``(h, x, a', c, da'/d logit, n)``.
    """
    model, a_grid = problem.model, problem.a_grid
    arrays = (a_grid, problem.e_grid, problem.Pi_e if Pi is None else Pi, None)
    limit = limit_consumption(model, budget, a_grid, problem.uc_limit)
    c_max = limit[0]
    Va_next = problem.Va_ss if Va_next is None else Va_next
    _, _, c_base, _ = household_step(model, factor * Va_next, budget, arrays=arrays,
                                     limit=limit if model.endogenous_labour else None)
    base = jax.lax.stop_gradient(_logit(1.0 - c_base / c_max))
    h, delta = policy.step(h, obs) if reading is None else reading
    x, dx = corrected_share(base, delta, None if policy.linear else problem.base_ss)
    return (h, x) + share_choices(model, budget, a_grid, x, c_max, dx)


def _logit(x):
    x = jnp.clip(x, EDGE, 1.0 - EDGE)
    return jnp.log(x) - jnp.log1p(-x)


def corrected_share(base, delta, base_ss=None):
    """The savings share from the structural start's logit ``base`` and the learned correction
    ``delta``, and its derivative in ``delta``: ``(x, dx/d delta)``.

    ``base_ss=None``: ``x = sigmoid(base + delta)``. Else the correction keeps the start's
    slope in its logit at the steady state's, ``base_ss``:

        x = sigmoid(base_ss + delta + k(delta) (base - base_ss)),
        k(delta) = s'(base_ss) / s'(base_ss + delta)        (s' = sigmoid'),

    so that ``dx/d base`` at ``base_ss`` is the start's ``s'(base_ss)`` whatever ``delta`` is:
    a constant correction moves the share's level, not its first-order response to the
    state (docs/theory.md §12.12). ``k`` is kept within ``[1/4, 4]``.
    """
    if base_ss is None:
        x = jax.nn.sigmoid(base + delta)
        return x, x * (1.0 - x)
    k, dlog_k = _slope_factor(base_ss, delta)
    gap = base - base_ss
    x = jax.nn.sigmoid(base_ss + delta + k * gap)
    return x, x * (1.0 - x) * (1.0 + k * dlog_k * gap)


def _slope_factor(base_ss, delta):
    """``k(delta)`` of :func:`corrected_share`, within ``[1/4, 4]``, and ``d log k / d delta``
    (``-(1 - 2 sigmoid(base_ss + delta))`` inside the bounds, 0 outside)."""
    lo, hi = jnp.log(0.25), jnp.log(4.0)
    log_slope = lambda v: jax.nn.log_sigmoid(v) + jax.nn.log_sigmoid(-v)  # noqa: E731
    log_k = log_slope(base_ss) - log_slope(base_ss + delta)
    dlog_k = jnp.where((log_k > lo) & (log_k < hi),
                       -(1.0 - 2.0 * jax.nn.sigmoid(base_ss + delta)), 0.0)
    return jnp.exp(jnp.clip(log_k, lo, hi)), dlog_k


def structural_logit(x, delta, base_ss=None):
    """The structural start's logit ``base`` behind a share ``x`` played with correction
    ``delta`` (the inverse of :func:`corrected_share` in ``base``)."""
    arg = jnp.log(x) - jnp.log1p(-x)   # not clipped: a share below the start's bounds is exact
    if base_ss is None:
        return arg - delta
    return base_ss + (arg - base_ss - delta) / _slope_factor(base_ss, delta)[0]


def share_choices(model, budget: Budget, a_grid, x, c_max, dx=None):
    """``(a', c, da'/d delta, n)`` of households that leave the share ``x`` of the
    borrowing-limit consumption ``c_max`` unconsumed (see :func:`_act`); ``dx``: the share's
    derivative in the learned correction (default ``x (1 - x)``, the logit's)."""
    dx = x * (1.0 - x) if dx is None else dx
    if model.endogenous_labour:
        c = (1.0 - x) * c_max
        n = model.hours(budget.we[None, :], model.marginal_utility(c))
        a_next = budget.cash_on_hand(a_grid, n) - c
        # a' = R a + y + we n(c) - c:  da'/dc = -(1 + frisch sigma we n / c)
        dshare = dx * c_max * (1.0 + model.frisch * model.sigma * budget.we[None, :] * n / c)
    else:
        a_next = a_grid[0] + x * c_max
        c = budget.cash_on_hand(a_grid) - a_next
        n = jnp.ones_like(c)
        dshare = dx * c_max
    return a_next, c, dshare, n


def _advance(problem: SavingsProblem, z_prev, e, shock):
    """The noise state after one date: each shock's module steps it, ``z_t = rho z_{t-1} +
    sigma eps_t`` (plus the announced innovation that hits now, announcements shifted one
    date closer and today's appended), and ``shock`` adds deterministic innovations in the
    shocks' units (e.g. an impulse).

    With an aggregate Markov chain the state is its index: the innovation (plus ``shock``)
    is a standard normal draw whose probability ``Phi(e)`` picks the next index by the
    cumulative transition probabilities of today's."""
    if problem.chain is not None:
        u = jax.scipy.special.ndtr(e[0] + shock[0])
        nxt = problem.chain.aggregate.step(problem.chain_index(z_prev), u)
        return jnp.stack([nxt.astype(z_prev.dtype)])
    k, n = problem.n_shocks, problem.n_noise
    levels, queue = [], z_prev[k:n]
    for i, process in enumerate(problem.processes):     # each shock's own module moves it
        if isinstance(process, News):   # its surprise, then its announcements' draws
            x, queue = process.step((z_prev[i], queue), jnp.concatenate([e[i:i + 1], e[k:n]]))
            queue = queue + shock[k:n]
        else:
            x = process.step(z_prev[i], e[i])
        levels.append(x + shock[i])
    z = jnp.concatenate([jnp.stack(levels), queue])
    if problem.history_length:
        past = _history(problem, z_prev)   # the innovations, in the shocks' units
        z = jnp.concatenate([z, problem.sigma * e + shock, past[:-1].reshape(-1)])
        floor = problem.first_order.floor
        if floor is not None:
            z = jnp.concatenate([z, floor.advance(_history(problem, z),
                                                  _floor_state(problem, z_prev))])
    return z


def initial_state(problem: SavingsProblem, policy: SavingsPolicy, mu0=None):
    """The rollout's state at the start: ``(mu, noise state, policy history, prices' carry)``
    at the steady state (or from the distribution ``mu0``).

    With an aggregate chain the state's distribution is the one before the income draw that
    comes with the first date's aggregate state (:func:`savings_rollout`); the default is the
    steady state's wealth with the income shares of the chain's initial state."""
    if mu0 is None and problem.chain is not None:
        shares = problem.chain.conditional_shares()[problem.chain.aggregate.initial]
        mu0 = problem.mu_ss / jnp.sum(problem.mu_ss, axis=0) * shares
    mu0 = problem.mu_ss if mu0 is None else mu0
    dtype = problem.a_grid.dtype
    z0 = jnp.zeros((problem.n_state,), dtype)
    if problem.chain is not None:
        z0 = z0.at[0].set(problem.chain.aggregate.initial)
    return (jax.lax.stop_gradient(mu0), z0,
            policy.init_carry(), problem.prices.initial_carry(problem, policy))


class SavingsChoices(AbstractChoiceRule):
    """A continuous savings choice (docs/theory.md §12): the households' share of the
    borrowing-limit consumption left unconsumed, the structural start plus the policy's
    correction (:func:`_act`), pushed forward by the wealth lottery and the income matrix. Records
    the date's distribution, choices, observation, budget, named aggregates (with ``C``, ``A``),
    residual, noise state, history state and the market's carry (:class:`SavingsPath`)."""

    policy: SavingsPolicy

    def init_carry(self):
        return self.policy.init_carry()

    def actor(self, problem, h, z, t):
        return SavingsActor(problem, self.policy, h, problem.expected_transition(z),
                            problem.continuation(z))

    def push(self, problem, mu, choices, prices):
        lot = lottery_weights(jax.lax.stop_gradient(choices[1]), problem.a_grid)
        return lot.push(mu) if problem.chain is not None else push_forward(mu, lot, problem.Pi_e)

    def record(self, problem, date, mu_next, z_next):
        sg = jax.lax.stop_gradient
        x, a_next, c, dx, n, expected = date.choices
        record = dict(date.record, C=jnp.sum(date.mu * c), A=jnp.sum(date.mu * a_next))
        return (date.mu, a_next, c, n, x, dx, sg(date.obs),
                jax.tree_util.tree_map(sg, date.prices), jax.tree_util.tree_map(sg, record),
                sg(date.residual), date.z, sg(date.hidden), date.carry, expected)


def savings_rollout(problem: SavingsProblem, policy: SavingsPolicy, eps, mu0=None,
                    z_shock=None, start=None) -> SavingsPath:
    """Roll the population forward ``T = eps.shape[0]`` dates (``eps (T, n_noise)``):
    :func:`~.rollout.mean_field_scan` with :class:`SavingsChoices` and the problem's market.

    Shocks: ``z_t = rho z_{t-1} + sigma eps_t + z_shock_t`` from ``z_{-1} = 0``, so the first
    innovation hits at date 0 (the policy learns to read a shock from its first observation);
    announced innovations hit ``k`` dates after their announcement (:func:`_advance`).
    ``z_shock (T, n_noise)``: deterministic innovations (impulse responses). ``start``: the
    state to start from (:func:`initial_state`, or the ``final`` state of another path); default
    the steady state (distribution ``mu0``). The mean field, prices and observations carry a
    stop-gradient (docs/theory.md §12.3); the policy's choices stay differentiable.

    With an aggregate Markov chain the households' income moves with the aggregate
    transition: the state carries the distribution after the wealth lottery, and each date
    first draws its aggregate state and then moves incomes by ``Pi_e[z_{t-1}, z_t]``
    (:meth:`SavingsProblem.enter`).
    """
    z_shock = jnp.zeros_like(eps) if z_shock is None else jnp.asarray(z_shock, eps.dtype)
    init = initial_state(problem, policy, mu0) if start is None else start
    final, (mu, a_next, c, n, x, dx, obs, budget, agg, res, z, hid, carry, expected) = \
        mean_field_scan(problem, problem.prices, SavingsChoices(policy=policy), eps, init,
                        z_shock)
    return SavingsPath(mu=mu, a_next=a_next, c=c, n=n, share=x, dshare=dx, obs=obs,
                       budget=budget, agg=agg, residual=res, z=z, hidden=hid, carry=carry,
                       expected=expected, final=final)


def chain_innovations(problem: SavingsProblem, z_path, z_prev=None) -> Float[Array, "T 1"]:
    """Innovations ``(T, 1)`` under which the rollout visits the aggregate chain's states
    ``z_path`` (indices, from ``z_prev``, default the chain's initial state): each is the
    normal quantile of the middle of the next state's slice of today's cumulative transition
    probabilities (:func:`_advance`), so that the learned solution can be run on a given
    aggregate-shock path (e.g. the one another algorithm was simulated on)."""
    if problem.chain is None:
        raise ValueError("chain_innovations: the problem's aggregate state is not a Markov "
                         "chain")
    agg = problem.chain.aggregate
    z_path = jnp.asarray(z_path, jnp.int32)
    z_prev = agg.initial if z_prev is None else z_prev
    prev = jnp.concatenate([jnp.asarray([z_prev], jnp.int32), z_path[:-1]])
    cum = jnp.cumsum(agg.Pi[prev], axis=1)                       # (T, n_z)
    hi = jnp.take_along_axis(cum, z_path[:, None], axis=1)[:, 0]
    lo = hi - agg.Pi[prev, z_path]
    u = 0.5 * (lo + hi)
    return jax.scipy.special.ndtri(u)[:, None].astype(problem.a_grid.dtype)


def savings_rollout_batch(problem, policy, eps, mu0=None, z_shock=None,
                          start=None) -> SavingsPath:
    """:func:`savings_rollout` over ``B`` paths ``eps (B, T, n_noise)`` (``start``: one state per
    path, batched, or none)."""
    if start is None:
        return jax.vmap(lambda e: savings_rollout(problem, policy, e, mu0, z_shock))(eps)
    return jax.vmap(lambda e, s0: savings_rollout(problem, policy, e, None, z_shock, s0))(
        eps, start)


# ---------------------------------------------------------------------------------------------
# values, gradient, certificate
# ---------------------------------------------------------------------------------------------
def path_values(problem: SavingsProblem, path: SavingsPath, *, hours: bool = True):
    """Values ``V_t`` and ``G_t = dQ_t/da'`` at the chosen ``a'`` along a fixed path (``(T, n_a, n_e)``).

    ``V_T = V_ss``; ``V_t = u(c_t) - v(n_t) + beta E[V_{t+1}(a'_t, e')]`` with ``V_{t+1}`` linear in ``a'``
    between grid points; ``G_t = -u'(c_t) + beta d/da' E[V_{t+1}(a', e')]``. The income
    expectation uses the path's own transitions (:func:`path_transitions`). ``hours=False``:
    the value of consumption alone (``u(c_t)``, from ``V_T = Vc_ss``).
    """
    model, a_grid = problem.model, problem.a_grid
    flow = period_utility(model, path.c, path.n) if hours else model.utility(path.c)
    Pis = path_transitions(problem, path)
    lots = lottery_weights(path.a_next, a_grid)
    disc = model.beta * jnp.broadcast_to(path.budget.discount, path.budget.R.shape)
    V_T = problem.V_ss if hours else problem.Vc_ss
    V, _ = backward_values(V_T, flow, lambda V_next, x: expect(V_next, *x), (lots, Pis), disc)
    # the envelope: with hours at their intratemporal optimum, dQ/da' = -u'(c) + beta E V'
    W = jnp.concatenate([V[1:], V_T[None]]) @ jnp.swapaxes(Pis, -1, -2)
    G = -model.marginal_utility(path.c) + disc[:, None, None] * jax.vmap(
        lambda lot, w: lot.slope(w, a_grid))(lots, W)
    return V, G


def euler_step_gap(problem: SavingsProblem, path: SavingsPath,
                   linearised: bool | None = None):
    """The marginal value of saving as the endogenous grid method reads it, ``G_t = u'(c*_t) -
    u'(c_t)`` along a fixed path (``(T, n_a, n_e)``; docs/theory.md §12.3).

    ``c*_t`` is one EGM step at date ``t``'s budget from the marginal value the path realises
    next date, ``V_a,t+1 = R_t+1 u'(c_t+1)`` on the grid (the envelope condition; ``Va_ss``
    after the last date), expected over the path's income transitions: the consumption the
    households' Euler equation asks for, in the discretisation of the structural start, the
    best response and the perfect-foresight benchmarks. So a policy that is EGM's fixed point
    (the steady state without noise) has ``G = 0`` to rounding, where the lottery's secant
    slope (:func:`path_values`) differs from it at first order in the grid spacing. The sign
    and, to first order, the size are those of ``dQ_t/da'``: positive when saving more pays.
    Savings at or above the top of the grid buy nothing (the lottery keeps them at the top):
    there ``G_t = -u'(c_t)``, the lottery's own slope, which no EGM step extrapolated beyond
    the grid would give.

    ``linearised`` (default: with a first-order start): the EGM step is taken to first order
    about the marginal value the households expect at ``t`` (the start's continuation),
    ``u'(c*(V^e)) + [d u'(c*)/dV](V^e) (V_t+1 - V^e)``: linear in the realised marginal value,
    so that its mean over next date's shocks is the EGM step from their mean, to second order
    in the expectation's error; the EGM step itself is not linear (its inversion and the
    interpolation on its endogenous grid), and its mean over the shocks differs from the step
    from their mean by a term of the order of the shocks' variance — the order of the
    precautionary effects training is meant to learn (docs/theory.md §12.3).
    """
    model, a_grid = problem.model, problem.a_grid
    uc = model.marginal_utility(path.c)
    Va = path.budget.R[:, None, None] * uc
    Va_next = jnp.concatenate([Va[1:], problem.Va_ss[None]])
    if linearised is None:
        linearised = problem.first_order is not None
    if linearised:
        # the households' own expectation of that marginal value, known at t: the start's
        # continuation, scaled by the realised return where the start scales by the return
        R_next = jnp.concatenate([path.budget.R[1:], problem.R_ss[None]])
        scale = R_next / problem.R_ss if problem.prices.scales_by_return \
            else jnp.ones_like(R_next)
        expected = scale[:, None, None] * path.expected
    else:
        expected = Va_next

    def one(Va_n, Va_e, Pi, budget):
        return egm_marginal_utility(problem, budget, Pi, Va_n, Va_e if linearised else None)

    G = jax.vmap(one)(Va_next, expected, path_transitions(problem, path), path.budget) - uc
    return jnp.where(path.a_next >= a_grid[-1], -uc, G)


def egm_marginal_utility(problem: SavingsProblem, budget, Pi, Va_next, Va_expected=None):
    """``u'(c*)`` of one EGM step at ``budget`` from next date's marginal value ``Va_next``
    (income matrix ``Pi``); with ``Va_expected``, the step to first order about it:
    ``u'(c*(V^e)) + [d u'(c*)/dV](V^e) (Va_next - V^e)``, linear in ``Va_next``
    (:func:`euler_step_gap`)."""
    model, a_grid = problem.model, problem.a_grid
    limit = (limit_consumption(model, budget, a_grid, problem.uc_limit)
             if model.endogenous_labour else None)

    def step(V):
        W = model.beta * budget.discount * (V @ Pi.T)
        return model.marginal_utility(invert_euler(model, W, budget, a_grid, limit=limit)[2])
    if Va_expected is None:
        return step(Va_next)
    at, along = jax.jvp(step, (Va_expected,), (Va_next - Va_expected,))
    return at + along


def path_transitions(problem: SavingsProblem, path: SavingsPath):
    """The income matrix from each date of a path to the next, ``(T, n_e, n_e)``: with an
    aggregate chain ``Pi_e[z_t, z_{t+1}]`` of the path's own states (at the last date, whose
    successor the path does not draw, the matrix expected given ``z_{T-1}``); else ``Pi_e``."""
    T = path.z.shape[0]
    if problem.chain is None:
        return jnp.broadcast_to(problem.Pi_e, (T,) + problem.Pi_e.shape)
    moved = jax.vmap(problem.transition)(path.z[:-1], path.z[1:])
    return jnp.concatenate([moved, problem.expected_transition(path.z[-1])[None]])


def savings_loss(policy: SavingsPolicy, problem: SavingsProblem, eps) -> Array:
    """RSPG loss ``-mean_b sum_s mu_0(s) V_0(s)`` by reverse mode through the rollout (mean field
    and prices stop-gradient)."""
    path = savings_rollout_batch(problem, policy, eps)
    V0 = jax.vmap(lambda p: path_values(problem, p)[0][0])(path)
    return -jnp.mean(jnp.sum(V0 * path.mu[:, 0], axis=(1, 2)))


def innovation_residual(Y, innov, lags: int, axis: str | None = None):
    """``Y`` less its least-squares projection on the innovations that follow each date: a
    control variate with zero conditional mean (docs/theory.md §12.3).

    ``Y (B, T, ...)`` is a quantity recorded at date ``t`` that also moves with what happens
    after it (a realised continuation value); ``innov (B, T, n)``: the innovations of the first
    date after each ``t`` (standard normal, independent of everything known at ``t``). The
    regressors of date ``t`` are ``innov[:, t + k]`` for ``k = 0..lags-1`` (zero past the end);
    the coefficients, one set per trailing index of ``Y``, are fitted on every path and date
    of the batch. Every regressor is independent of the date-``t`` state, so ``E_t`` of the
    result is ``E_t Y``, with the part of ``Y``'s noise linear in those innovations removed.
    ``axis``: the batch's paths are split over devices (:func:`~.training.over_paths`); the
    normal equations are summed over them, so the fit is the whole batch's.
    """
    B, T = Y.shape[:2]
    n = innov.shape[-1]
    pad = jnp.concatenate([innov, jnp.zeros((B, lags, n), innov.dtype)], axis=1)
    X = jnp.stack([pad[:, k:k + T] for k in range(lags)], axis=2).reshape(B * T, lags * n)
    Yf = Y.reshape(B * T, -1)
    # fitted on deviations from the batch mean: a level's sampling covariance with the
    # regressors would otherwise enter the coefficients; a ridge of a millionth of the
    # regressors' scale keeps the solve defined without noise (X = 0)
    XtX = path_sum(X.T @ X, axis)
    mean = path_sum(jnp.sum(Yf, axis=0), axis) / path_sum(B * T, axis)
    ridge = 1e-6 * (jnp.trace(XtX) / (lags * n) + 1.0)
    coef = jnp.linalg.solve(XtX + ridge * jnp.eye(lags * n, dtype=X.dtype),
                            path_sum(X.T @ (Yf - mean), axis))
    return (Yf - X @ coef).reshape(Y.shape)


def _next_innovations(eps):
    """The innovations of the date after each date ``(B, T, n)`` (zero after the last)."""
    return jnp.concatenate([eps[:, 1:], jnp.zeros_like(eps[:, :1])], axis=1)


def relative_curvature(model, c):
    """``1 / (-u''(c) c^2)``: the inverse curvature of period utility in log consumption, the
    per-household scale that turns a marginal value of saving into a relative consumption
    step (docs/theory.md §12.3; ``c^(sigma - 1) / sigma`` for CRRA)."""
    _, du = jax.jvp(model.marginal_utility, (c,), (jnp.ones_like(c),))
    return 1.0 / (-du * c * c)


def savings_value_and_grad(params, static, problem: SavingsProblem, eps, control_lags: int = 0,
                           precondition: bool = False, continuation: str = "lottery",
                           sharding=None):
    """RSPG loss and gradient by the deterministic policy-gradient identity (docs/theory.md §12.3).

    A gradient-free rollout records the path, a gradient-free backward recursion gives ``V``
    and ``G = dQ/da'``, and the policy is replayed on the recorded observations with one reverse
    sweep of the surrogate ``sum_t sum_s kappa_t(s) delta_t(s)``, ``kappa_t = -beta^t mu_t G_t
    da'/d logit / B``. Equal to differentiating :func:`savings_loss` (tested). Returns
    ``(loss, grads, max |market residual|)``.

    With the firms' :class:`~hank_mfg.policies.savings.Forecaster`, its parameters descend the
    mean squared normalised forecast error ``mean_{b,t} |(F_t - U_{t+1}) / scale|^2`` against
    the realised unknowns of the same paths (docs/theory.md §13.2).

    ``control_lags > 0``: ``G_t`` (a single draw of the future: the realised continuation) is
    replaced by its residual on the innovations of the ``control_lags`` dates after ``t``, and
    the forecast target ``U_{t+1}`` by its residual on the innovations of ``t + 1``
    (:func:`innovation_residual`): the same expected gradient, with the noise of the shocks
    still to come taken out. ``0``: the plain estimate (equal to reverse mode).

    ``precondition``: each household's ``G_t`` is scaled by :func:`relative_curvature` at its
    consumption — a Gauss–Newton step in log consumption, household by household — so that a
    relative consumption error weighs the same for a rich household as for a poor one (the
    plain gradient weighs it by ``-u''(c) c^2``, ``sigma c^(1 - sigma)`` for CRRA: with
    ``sigma = 2`` ten times more at consumption 0.3 than at 3). Every weight is positive and
    known at ``t``: a policy with ``E_t G_t = 0`` at every state is still a fixed point.

    ``continuation``: how ``G_t`` values saving. ``"lottery"``: ``dQ_t/da'`` of the lottery's
    continuation value (the exact gradient of :func:`savings_loss`). ``"egm"``: the Euler
    equation as the endogenous grid method discretises it (:func:`euler_step_gap`), whose zero
    is the structural start's and the best response's rule, so that a start that solves the
    model is a fixed point of training (docs/theory.md §12.3); from a first-order start the
    step is linearised about the households' expectation, ``"egm-pointwise"`` keeps the step
    from the realised marginal value itself.

    ``sharding`` (:func:`~.training.path_sharding`): each device rolls out, values and
    differentiates its own paths (:func:`~.training.over_paths`); the control variate's normal
    equations, the loss and the gradient are summed over the devices
    (:func:`~.training.path_sum`), so that each is the whole batch's.
    """
    if continuation not in CONTINUATIONS:
        raise ValueError(f"continuation must be one of {CONTINUATIONS}; got {continuation!r}")
    n_paths = eps.shape[0]
    axis = None if sharding is None else PATHS

    def local(params, eps):
        """One device's paths: their loss, gradient and residual, summed over the devices."""
        policy = eqx.combine(jax.lax.stop_gradient(params), static)
        path = savings_rollout_batch(problem, policy, eps)
        V, G = jax.vmap(lambda p: path_values(problem, p))(path)
        if continuation in ("egm", "egm-pointwise"):
            linearised = None if continuation == "egm" else False
            G = jax.vmap(lambda p: euler_step_gap(problem, p, linearised))(path)
        T = eps.shape[1]
        target = None
        if control_lags:
            G = innovation_residual(G, _next_innovations(eps), control_lags, axis)
            if policy.forecaster is not None:
                U = realised_unknowns(problem, path)[:, 1:]
                # U_{t+1} is known at t + 1: only that date's innovations move it unforeseeably
                target = innovation_residual(U, eps[:, 1:], 1, axis)
        if precondition:
            G = G * relative_curvature(problem.model, path.c)
        disc = problem.beta ** jnp.arange(T, dtype=V.dtype)
        kappa = jax.lax.stop_gradient(-disc[None, :, None, None] * path.mu * G * path.dshare
                                      / n_paths)

        def surrogate(p):
            pol = eqx.combine(p, static)
            out = jnp.sum(jax.vmap(pol.deltas)(path.obs) * kappa)
            if pol.forecaster is not None:
                out = out + forecast_loss(problem, pol.forecaster, path, target, n_paths)
            return out

        grads = path_sum(jax.grad(surrogate)(params), axis)
        loss = path_sum(-jnp.sum(V[:, 0] * path.mu[:, 0]) / n_paths, axis)
        residual = jnp.max(jnp.abs(path.residual))
        return loss, grads, residual if axis is None else jax.lax.pmax(residual, axis)

    return over_paths(local, sharding)(params, eps)


def realised_unknowns(problem: SavingsProblem, path: SavingsPath):
    """The forecast unknowns along a (batched) path, ``(..., T, n_u)``."""
    return jnp.stack([path.agg[u] for u in problem.prices.unknowns], axis=-1)


def forecast_loss(problem: SavingsProblem, forecaster: Forecaster, path: SavingsPath,
                  target=None, n_paths: int | None = None):
    """Mean squared normalised error of the forecasts made at ``t = 0..T-2`` against the
    realised unknowns at ``t + 1`` (the path's own, a stop-gradient; or ``target (B, T-1,
    n_u)``), over a batch of paths (``n_paths``: of a batch these paths are a share of, whose
    mean the sum over devices makes; default ``B``)."""
    F = jax.vmap(forecaster.forecasts)(path.obs) + jax.vmap(jax.vmap(problem.linear_forecast))(
        path.z)
    F = F[:, :-1]
    U = realised_unknowns(problem, path)[:, 1:] if target is None else target
    U = jax.lax.stop_gradient(U)
    sq = jnp.sum(((F - U) / problem.forecast_scale) ** 2, axis=-1)
    return jnp.sum(sq) / ((sq.shape[0] if n_paths is None else n_paths) * sq.shape[1])


def shock_nodes(n_shocks: int, n_nodes: int = 5):
    """Gauss–Hermite nodes ``(n_nodes^n_shocks, n_shocks)`` and weights of standard normal
    innovations (tensor product over shocks)."""
    x, w = gauss_hermite(n_nodes)
    grids = np.meshgrid(*([x] * n_shocks), indexing="ij")
    wgt = np.prod(np.meshgrid(*([w] * n_shocks), indexing="ij"), axis=0)
    return np.stack([g.reshape(-1) for g in grids], axis=-1), wgt.reshape(-1)


def next_date(problem: SavingsProblem, policy: SavingsPolicy, mu_next, z_next, h, carry):
    """Next date's gross return, the policy's consumption table ``(n_a, n_e)`` and the prices'
    carry in the noise state ``z_next``, from next date's distribution ``mu_next``, the
    policy's history state ``h`` and the prices' ``carry`` (prices formed or cleared there)."""
    act = SavingsActor(problem, policy, h, problem.expected_transition(z_next),
                       problem.continuation(z_next))
    budget, _, out, carry_next, *_ = problem.prices.clear(problem, policy, mu_next, z_next,
                                                          carry, act)
    return budget.R, out[3], carry_next

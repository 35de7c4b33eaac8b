"""The canonical one-asset HANK economy (Auclert, Bardóczy, Rognlie and Straub 2021, *Using
the Sequence-Space Jacobian to Solve and Estimate Heterogeneous-Agent Models*, Econometrica
89(5), the ``hank`` example), with its timing (docs/models.md, section 6).

Households: ``c + a' = (1 + r_t) a + w_t e n + d_t(e) - tau_t(e)``, ``a' >= 0``, utility
``c^(1-1/eis)/(1-1/eis) - vphi n^(1+1/frisch)/(1+1/frisch)``; dividends ``Div`` and taxes
``Tax`` are distributed in proportion to productivity, ``d(e) = Div e / sum_e pi_e e``.
Firms: ``Y = Z L``, Rotemberg price-adjustment costs
``Adj_t = mu/(mu-1)/(2 kappa) log(1+pi_t)^2 Y_t`` (a resource cost, as in the ``hank``
example), ``Div = Y - w L - Adj``, Phillips curve
``kappa (w_t/Z_t - 1/mu) + (Y_{t+1}/Y_t) log(1+pi_{t+1})/(1+r_{t+1}) - log(1+pi_t) = 0``.
Monetary policy ``i_t = rstar_t + phi pi_t``, or with interest-rate smoothing
``i_t = rho_i i_{t-1} + (1 - rho_i)(rstar_t + phi pi_t)``, optionally at a lower bound
``i_t = max(i_lb, ...)``; the ex-post real rate on assets carried into
``t`` is ``r_t = (1 + i_{t-1})/(1 + pi_t) - 1``. An optional demand shock ``db`` shifts the
households' discount factor, ``beta_t = beta exp(db_t)``. Fiscal policy ``Tax_t = r_t B``. Markets:
assets ``A_t = B``, effective labour ``sum mu e n = L``, goods ``Y = C + Adj`` (Walras).
``price_adjustment_costs="none"`` leaves ``Adj`` out of dividends and the goods market
(``Div = Y - w L``, ``Y = C``). With ``pi = 0`` in the steady state ``Adj`` is zero there,
and second order in inflation around it: steady states and first-order (sequence-space)
responses are the same either way; nonlinear transitions and aggregate risk are not.
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

import hank_mfg as hm

#: The allowed values of ``OneAssetHANK.price_adjustment_costs``.
PRICE_ADJUSTMENT_COSTS = ("resource", "none")


class OneAssetHANK(hm.AbstractEconomy):
    """One-asset HANK with sticky prices, a Taylor rule and government bonds.

    Defaults: the calibration of the sequence-space Jacobian paper's ``hank`` example — eis
    0.5, frisch 0.5, Rouwenhorst log productivity with ``income_rho`` 0.966, ``income_sd`` 0.5
    on ``n_income`` 7 states, ``n_wealth`` 500 points up to ``wealth_max`` 150 (shifted
    geometric grid), ``Y`` 1, ``Z`` 1, markup ``mu`` 1.2, ``kappa`` 0.1, ``rstar`` 0.005
    (quarterly), ``phi`` 1.5, bonds ``B`` 5.6. ``beta`` and ``vphi`` are the steady-state
    unknowns that clear the asset and labour markets: their field values are only the root
    find's starting guesses (0.982 and 0.786, near their values at this calibration; the root
    find keeps ``beta (1 + rstar) < 1`` and ``vphi > 0``, so far guesses converge to the same
    solution, docs/models.md section 3). Shocks: ``rstar`` (monetary) and
    ``Z`` (TFP), each an AR(1) with persistence ``rho_rstar`` 0.61 / ``rho_Z`` 0.9 and s.d.
    ``sigma_rstar`` 0.0025 / ``sigma_Z`` 0.007. ``phi`` must exceed 1 (the Taylor principle;
    with ``phi <= 1`` the equilibrium is indeterminate) unless ``allow_indeterminacy=True``.

    ``price_adjustment_costs``: ``"resource"`` (default, the ``hank`` example's treatment)
    deducts the Rotemberg cost ``mu/(mu-1)/(2 kappa) log(1+pi)^2 Y`` from dividends and
    counts it in the goods market, ``Y = C + cost``; ``"none"`` leaves it out of both
    (``Div = Y - w L``, ``Y = C``: this class's dividends before the cost was added). The
    Phillips curve is the same. The cost is zero in the steady state (``pi = 0``) and second
    order in inflation, so only nonlinear transitions and solutions under aggregate risk
    differ (a 25 bp cut in ``rstar``, persistence 0.61, default grid: output +0.199% on
    impact with the cost, +0.190% without; docs/validation.md).

    ``rho_i`` (default 0): interest-rate smoothing, ``i_t = rho_i i_{t-1} + (1 - rho_i)(rstar_t
    + phi pi_t)``. With ``rho_i > 0`` the nominal rate carries the past, so it becomes a
    transition unknown and the rule a target, ``taylor_res`` (static: it changes which
    variables are solved for).

    ``i_lb`` (default None, no bound): the effective lower bound on the nominal rate, ``i_t =
    max(i_lb, rule_t)``; the rule's own value is the aggregate ``i_shadow`` (the shadow rate),
    so the floor binds where ``i_shadow < i_lb``. It must lie below the steady-state rate
    ``rstar``. ``demand_shock`` (default False): add the discount-factor shock ``db`` (log
    deviation of ``beta``), an AR(1) with ``rho_db`` 0.9 and ``sigma_db`` 0.0014 — a rise makes
    households more patient, so they spend less today (a fall in demand). Both static: they
    change the variables of the model. :meth:`lower_bound` is the calibration with both
    (docs/models.md section 8).
    """

    beta: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.982)
    vphi: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.786)
    eis: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.5)
    frisch: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.5)
    income_rho: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.966)
    income_sd: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.5)
    wealth_min: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.0)
    wealth_max: Float[Array, ""] = eqx.field(converter=hm.as_param, default=150.0)
    Y: Float[Array, ""] = eqx.field(converter=hm.as_param, default=1.0)
    Z: Float[Array, ""] = eqx.field(converter=hm.as_param, default=1.0)
    mu: Float[Array, ""] = eqx.field(converter=hm.as_param, default=1.2)
    kappa: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.1)
    rstar: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.005)
    phi: Float[Array, ""] = eqx.field(converter=hm.as_param, default=1.5)
    B: Float[Array, ""] = eqx.field(converter=hm.as_param, default=5.6)
    rho_rstar: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.61)
    sigma_rstar: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.0025)
    rho_Z: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.9)
    sigma_Z: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.007)
    n_income: int = eqx.field(static=True, default=7)
    n_wealth: int = eqx.field(static=True, default=500)
    common_noise: bool = eqx.field(static=True, default=True)
    allow_indeterminacy: bool = eqx.field(static=True, default=False)
    price_adjustment_costs: str = eqx.field(static=True, default="resource")
    rho_i: float = eqx.field(static=True, default=0.0)
    i_lb: float | None = eqx.field(static=True, default=None)
    demand_shock: bool = eqx.field(static=True, default=False)
    rho_db: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.9)
    sigma_db: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.0014)

    steady_state_targets: ClassVar[tuple[str, ...]] = ("asset_mkt", "labor_mkt")
    observed: ClassVar[tuple[str, ...]] = ("r", "w", "pi")

    def __check_init__(self):
        # fields first, so that errors name them rather than the grid or chain built from them
        check = hm.model_checks
        if self.i_lb is not None:
            if not (isinstance(self.i_lb, (int, float)) and np.isfinite(self.i_lb)):
                check.fail("OneAssetHANK", "i_lb", "be a finite number (the lower bound on the "
                           "quarterly nominal rate) or None", self.i_lb)
            rstar = check.concrete(self.rstar)
            if rstar is not None and not float(self.i_lb) < float(rstar):
                check.fail("OneAssetHANK", "i_lb", f"lie below the steady-state nominal rate "
                           f"rstar = {float(rstar):.6g} (the steady state must be off the floor)",
                           self.i_lb)
        if not isinstance(self.demand_shock, bool):
            check.fail("OneAssetHANK", "demand_shock", "be True or False", self.demand_shock)
        if not (isinstance(self.rho_i, (int, float)) and 0.0 <= self.rho_i < 1.0):
            check.fail("OneAssetHANK", "rho_i", "lie in [0, 1) (the weight of last quarter's "
                       "rate in the Taylor rule)", self.rho_i)
        if self.price_adjustment_costs not in PRICE_ADJUSTMENT_COSTS:
            check.fail("OneAssetHANK", "price_adjustment_costs",
                       f"be one of {PRICE_ADJUSTMENT_COSTS}", self.price_adjustment_costs)
        check.check_wealth_bounds("OneAssetHANK", self.wealth_min, self.wealth_max)
        check.check_income_ar1("OneAssetHANK", self.income_rho, self.income_sd, self.n_income)
        for name in ("eis", "frisch", "vphi", "Z", "Y", "kappa", "B"):
            check.check_positive("OneAssetHANK", name, getattr(self, name))
        check.check_open_unit("OneAssetHANK", "beta", self.beta)
        mu = check.concrete(self.mu)
        if mu is not None and not float(mu) > 1.0:
            check.fail("OneAssetHANK", "mu", "exceed 1 (a gross markup)", mu)
        phi = check.concrete(self.phi)
        if phi is not None:
            if not (np.isfinite(phi) and float(phi) >= 0.0):
                check.fail("OneAssetHANK", "phi", "be finite and non-negative (a rate that "
                           "rises with inflation)", phi)
            if not float(phi) > 1.0 and not self.allow_indeterminacy:
                check.fail("OneAssetHANK", "phi", "exceed 1 (the Taylor principle: with phi <= 1 "
                           "the rule does not pin down inflation and the equilibrium of this "
                           "model is indeterminate; set allow_indeterminacy=True to solve it "
                           "anyway)", phi)

    # ---- households ---------------------------------------------------------------------------
    @property
    def sigma(self):
        """CRRA coefficient ``1 / eis``."""
        return 1.0 / self.eis

    @property
    def endogenous_labour(self) -> bool:
        return True

    @property
    def household_inputs(self) -> tuple[str, ...]:
        """``r, w, Div, Tax``, and the demand shock ``db`` when there is one."""
        return ("r", "w", "Div", "Tax") + (("db",) if self.demand_shock else ())

    @property
    def exogenous(self) -> tuple[str, ...]:
        """``rstar`` and ``Z``, and ``db`` with the demand shock."""
        return ("rstar", "Z") + (("db",) if self.demand_shock else ())

    @property
    def kinked(self) -> bool:
        """The lower bound's ``max`` is a kink in the aggregate block."""
        return self.i_lb is not None

    def lower_bound_of(self):
        """The bound ``i >= i_lb``, met by shifts of the rule's intercept ``rstar`` (weighted
        ``1 - rho_i`` in the inertial rule); ``None`` without a bound."""
        if self.i_lb is None:
            return None
        return hm.LowerBound(variable="i", bound=float(self.i_lb), instrument="rstar",
                             scale=1.0 / (1.0 - float(self.rho_i)))

    def describe_kink(self, values) -> str:
        """The dates a path's rate sits at the lower bound (its shadow below ``i_lb``)."""
        if self.i_lb is None or "i_shadow" not in values:
            return ""
        shadow = np.asarray(values["i_shadow"])
        if not np.all(np.isfinite(shadow)):
            return "the last iterate is not finite"
        dates = np.nonzero(shadow < self.i_lb)[0]
        if not dates.size:
            return ""
        return (f"in the last iterate the rate is at its lower bound {self.i_lb:g} on "
                f"{dates.size} dates ({dates[0]}..{dates[-1]})")

    @property
    def rates(self) -> tuple[str, ...]:
        """Aggregates that are rates (reported in basis points)."""
        return ("r", "i", "pi", "rstar") + (("i_shadow",) if self.i_lb is not None else ())

    @classmethod
    def lower_bound(cls, **kw) -> "OneAssetHANK":
        """The economy with a zero lower bound on the nominal rate and the demand shock
        (``i_lb`` 0, ``demand_shock`` True) and a flatter Phillips curve, ``kappa`` 0.02: with
        the default 0.1 deflation at the floor is so strong that perfect-foresight paths stop
        existing for two-s.d. TFP and demand shocks (docs/models.md section 8 for the
        calibration and the measurements); keywords override."""
        return cls(**{"i_lb": 0.0, "demand_shock": True, "kappa": 0.02, **kw})

    @property
    def a_grid(self) -> Float[Array, " n_a"]:
        return hm.shifted_geometric_grid(self.wealth_min, self.wealth_max, self.n_wealth)

    @property
    def income(self) -> hm.IncomeProcess:
        return hm.rouwenhorst(self.income_rho, self.income_sd, self.n_income)

    def budget(self, p) -> hm.Budget:
        """``c + a' = (1 + r) a + w e n + (Div - Tax) e / sum_e pi_e e``."""
        inc = self.income
        e = jnp.asarray(inc.e_grid, dtype=float)
        share = e / jnp.sum(jnp.asarray(inc.pi_e, dtype=float) * e)
        discount = jnp.exp(p["db"]) if self.demand_shock else 1.0
        return hm.Budget(R=1.0 + p["r"], y=(p["Div"] - p["Tax"]) * share, we=p["w"] * e,
                         discount=discount)

    # ---- aggregate block ----------------------------------------------------------------------
    def shocks(self):
        return (hm.Shock("rstar", self.rho_rstar, self.sigma_rstar),
                hm.Shock("Z", self.rho_Z, self.sigma_Z)) + (
            (hm.Shock("db", self.rho_db, self.sigma_db),) if self.demand_shock else ())

    def steady_state_unknowns(self):
        return {"beta": float(self.beta), "vphi": float(self.vphi)}

    def steady_state_bounds(self):
        """``beta (1 + r) < 1`` (with ``r = rstar`` in the steady state: otherwise wealth grows
        without bound and there is no stationary distribution) and ``vphi > 0``."""
        return {"beta": (0.0, 1.0 / (1.0 + float(self.rstar))), "vphi": (0.0, None)}

    @property
    def transition_unknowns(self) -> tuple[str, ...]:
        """``pi, w, Y``, and the nominal rate ``i`` when the Taylor rule is inertial (a
        variable that reads its own past is a transition unknown whose law of motion is a
        target: docs/models.md section 6)."""
        return ("pi", "w", "Y") + (("i",) if self.rho_i else ())

    @property
    def transition_targets(self) -> tuple[str, ...]:
        """The Phillips curve, the asset and labour markets, and the inertial Taylor rule."""
        return ("nkpc_res", "asset_mkt", "labor_mkt") + (("taylor_res",) if self.rho_i else ())

    def steady_state_values(self):
        out = {"Y": self.Y, "Z": self.Z, "pi": 0.0, "rstar": self.rstar, "w": self.Z / self.mu}
        if self.demand_shock:
            out["db"] = 0.0
        if self.rho_i:
            out["i"] = self.rstar
        return out

    def taylor_rule(self, v):
        """The rate the rule prescribes today, ``rstar_t + phi pi_t``."""
        return v["rstar"] + self.phi * v["pi"]

    def policy_rate(self, v):
        """The nominal rate set today and its shadow: ``(i_t, i_shadow_t)``, the shadow the
        rule's own value (``rstar_t + phi pi_t``, with smoothing on last quarter's actual rate)
        and ``i_t = max(i_lb, i_shadow_t)`` (the shadow itself without a bound)."""
        rule = self.taylor_rule(v)
        shadow = rule if not self.rho_i else self.rho_i * v.lag("i") + (1.0 - self.rho_i) * rule
        return (shadow if self.i_lb is None else jnp.maximum(self.i_lb, shadow)), shadow

    def price_adjustment_cost(self, pi, Y):
        """Rotemberg cost of changing prices, in units of output:
        ``mu/(mu-1)/(2 kappa) log(1+pi)^2 Y`` (zero with ``price_adjustment_costs="none"``).

        That is ``psi/2 log(1+pi)^2 Y`` with the Rotemberg scale ``psi = epsilon / kappa``
        implied by the Phillips curve's slope (``epsilon = mu/(mu-1)``, the elasticity of
        demand), as in the ``hank`` example of Auclert, Bardóczy, Rognlie and Straub (2021).
        Zero at ``pi = 0``.
        """
        if self.price_adjustment_costs == "none":
            return 0.0 * Y
        return self.mu / (self.mu - 1.0) / (2.0 * self.kappa) * jnp.log1p(pi) ** 2 * Y

    def aggregates(self, v):
        v["L"] = v["Y"] / v["Z"]
        v["Div"] = v["Y"] - v["w"] * v["L"] - self.price_adjustment_cost(v["pi"], v["Y"])
        if not self.rho_i:
            v["i"] = self.policy_rate(v)[0]
        if self.i_lb is not None:
            v["i_shadow"] = self.policy_rate(v)[1]
        v["r"] = (1.0 + v.lag("i")) / (1.0 + v["pi"]) - 1.0
        v["Tax"] = v["r"] * self.B

    def residuals(self, v):
        nkpc = (self.kappa * (v["w"] / v["Z"] - 1.0 / self.mu)
                + v.lead("Y") / v["Y"] * jnp.log1p(v.lead("pi")) / (1.0 + v.lead("r"))
                - jnp.log1p(v["pi"]))
        out = {"nkpc_res": nkpc, "asset_mkt": v["A"] - self.B, "labor_mkt": v["N"] - v["L"],
               "goods_mkt": v["Y"] - v["C"] - self.price_adjustment_cost(v["pi"], v["Y"])}
        if self.rho_i:
            out["taylor_res"] = v["i"] - self.policy_rate(v)[0]
        return out

"""Aiyagari (1994) economy: idiosyncratic income risk, a borrowing limit, no aggregate risk.

Households save in capital subject to ``a >= wealth_min``; a competitive firm with Cobb–Douglas
technology ``Y = Z e^z K^alpha L^(1-alpha)`` pays ``r = alpha Z e^z (K/L)^(alpha-1) - delta``
and ``w = (1-alpha) Z e^z (K/L)^alpha``. By default there is no common noise
(``common_noise=False``: ``z = 0`` for ever), so the model's equilibrium is the stationary one of
Aiyagari (1994); turning ``common_noise`` on adds a log-TFP AR(1) as in Krusell–Smith.
Aggregate labour ``L = 1`` because income is normalised to mean one.
"""

from __future__ import annotations

from typing import Optional

import equinox as eqx
from jaxtyping import Array, Float

import hank_mfg as hm

INCOME_METHODS = ("tauchen", "rouwenhorst")


class Aiyagari(hm.AbstractHetAgentModel):
    """Aiyagari (1994) with a Tauchen (or Rouwenhorst) income chain and a geometric wealth grid.

    Defaults and their sources (Aiyagari 1994, *Uninsured Idiosyncratic Risk and Aggregate
    Saving*, QJE 109(3), section IV — an annual model):
        beta 0.96, alpha 0.36, delta 0.08 — the paper's annual calibration.
        sigma 3 — CRRA coefficient ``mu``; the paper reports ``mu`` in {1, 3, 5} (3 = middle case).
        income_rho 0.6, income_innovation_sd 0.2 — the paper's log labour-endowment AR(1)
        ``log l' = rho log l + sigma (1 - rho^2)^(1/2) eps``, i.e. *stationary* s.d. of log
        income ``sigma = 0.2`` (one cell of its grid rho in {0, 0.3, 0.6, 0.9},
        sigma in {0.2, 0.4}); so ``income_sd`` (stationary s.d., the toolkit's convention)
        defaults to 0.2. n_income 7 — the paper's seven-state Tauchen (1986) discretisation
        (``income_method="tauchen"``; ``"rouwenhorst"`` is the better choice at high rho).
        wealth_min 0 — the paper's zero borrowing limit (its ``b = 0`` case).
        tfp 1.0, rho_z 0.9, sigma_z 0.0 — no aggregate risk; ``common_noise=False``.
        n_wealth 200, wealth_max 100 — shifted geometric grid (docs/theory.md §10.2 convention,
        ``p = |a_min| + 0.25``); n_actions 50 consumption shares of cash on hand above the
        borrowing limit (``action_kind="share"``) or next-wealth levels
        (``action_kind="savings"``). horizon 128 years.
    """

    beta: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.96)
    sigma: Float[Array, ""] = eqx.field(converter=hm.as_param, default=3.0)
    alpha: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.36)
    delta: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.08)
    tfp: Float[Array, ""] = eqx.field(converter=hm.as_param, default=1.0)
    rho_z: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.9)
    sigma_z: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.0)
    income_rho: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.6)
    income_sd: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.2)
    wealth_min: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.0)
    wealth_max: Float[Array, ""] = eqx.field(converter=hm.as_param, default=100.0)
    n_income: int = eqx.field(static=True, default=7)
    n_wealth: int = eqx.field(static=True, default=200)
    n_actions: int = eqx.field(static=True, default=50)
    income_method: str = eqx.field(static=True, default="tauchen")
    horizon: int = eqx.field(static=True, default=128)
    common_noise: bool = eqx.field(static=True, default=False)
    action_kind: str = eqx.field(static=True, default="share")
    terminal: str = eqx.field(static=True, default="consume_all")
    initial_mu: Optional[Array] = None

    def __check_init__(self):
        # fields first, so that errors name them rather than the grid or chain built from them
        check = hm.model_checks
        check.check_closed_unit("Aiyagari", "delta", self.delta)
        check.check_wealth_bounds("Aiyagari", self.wealth_min, self.wealth_max)
        check.check_income_ar1("Aiyagari", self.income_rho, self.income_sd, self.n_income)
        hm.model_checks.check_open_unit("Aiyagari", "alpha", self.alpha)
        hm.model_checks.check_positive("Aiyagari", "tfp", self.tfp)
        if self.income_method not in INCOME_METHODS:
            hm.model_checks.fail("Aiyagari", "income_method", f"be one of {INCOME_METHODS}",
                                 self.income_method)

    @property
    def a_grid(self) -> Float[Array, " n_a"]:
        return hm.shifted_geometric_grid(self.wealth_min, self.wealth_max, self.n_wealth)

    @property
    def income(self) -> hm.IncomeProcess:
        if self.income_method == "rouwenhorst":
            return hm.rouwenhorst(self.income_rho, self.income_sd, self.n_income)
        return hm.tauchen(self.income_rho, self.income_sd, self.n_income)

    @property
    def action_grid(self) -> Float[Array, " n_k"]:
        return hm.action_grid(self.action_kind, self.n_actions, self.wealth_min, self.wealth_max)

    def prices(self, K, L, z):
        return hm.cobb_douglas_prices(K, L, z, self.alpha, self.delta, self.tfp)

    def output(self, K, L, z):
        return hm.cobb_douglas_output(K, L, z, self.alpha, self.tfp)

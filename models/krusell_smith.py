"""Krusell and Smith (1998) economy with idiosyncratic income risk and aggregate TFP risk.

Households save in capital subject to a borrowing limit ``a >= wealth_min``; a competitive firm
with Cobb–Douglas technology ``Y = Z e^z K^alpha L^(1-alpha)`` pays
``r = alpha Z e^z (K/L)^(alpha-1) - delta`` and ``w = (1-alpha) Z e^z (K/L)^alpha``.
Aggregate labour ``L = 1`` because income is normalised to mean one.
"""

from __future__ import annotations

from typing import Optional

import equinox as eqx
from jaxtyping import Array, Float

import hank_mfg as hm


class KrusellSmith(hm.AbstractHetAgentModel):
    """Krusell–Smith with Rouwenhorst income and a shifted geometric wealth grid.

    Defaults and their sources:
        beta 0.99, sigma 1 (log), alpha 0.36, delta 0.025 — quarterly calibration of
        Krusell and Smith (1998, JPE 106(5)) and Den Haan (2010, JEDC 34(1)).
        tfp 1.0 — level ``Z`` (sequence-jacobian's tutorial uses 0.8816460975 with alpha 0.11
        to normalise ``Y = 1``). rho_z 0.95, sigma_z 0.007 — quarterly Solow-residual AR(1) of
        Cooley and Prescott (1995, *Frontiers of Business Cycle Research*, ch. 1).
        income_rho 0.966, income_sd 0.5, n_income 7 — Rouwenhorst log-income AR(1), the default
        of the sequence-space Jacobian codes (Auclert, Bardóczy, Rognlie and Straub 2021).
        n_wealth 500, wealth_min 0, wealth_max 200 — the same codes' wealth grid
        (``geomspace(a_min + p, a_max + p, n) - p`` with ``p = |a_min| + 0.25``).
        n_actions 100 consumption shares ``(k + 0.5)/100`` of cash on hand above the borrowing
        limit (``action_kind="share"``); ``action_kind="savings"`` makes the actions next-wealth
        levels on a geometric grid instead. horizon 128 quarters.
    """

    beta: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.99)
    sigma: Float[Array, ""] = eqx.field(converter=hm.as_param, default=1.0)
    alpha: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.36)
    delta: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.025)
    tfp: Float[Array, ""] = eqx.field(converter=hm.as_param, default=1.0)
    rho_z: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.95)
    sigma_z: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.007)
    income_rho: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.966)
    income_sd: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.5)
    wealth_min: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.0)
    wealth_max: Float[Array, ""] = eqx.field(converter=hm.as_param, default=200.0)
    n_income: int = eqx.field(static=True, default=7)
    n_wealth: int = eqx.field(static=True, default=500)
    n_actions: int = eqx.field(static=True, default=100)
    horizon: int = eqx.field(static=True, default=128)
    common_noise: bool = eqx.field(static=True, default=True)
    action_kind: str = eqx.field(static=True, default="share")
    terminal: str = eqx.field(static=True, default="consume_all")
    initial_mu: Optional[Array] = None

    def __check_init__(self):
        # fields first, so that errors name them rather than the grid or chain built from them
        check = hm.model_checks
        check.check_closed_unit("KrusellSmith", "delta", self.delta)
        check.check_wealth_bounds("KrusellSmith", self.wealth_min, self.wealth_max)
        check.check_income_ar1("KrusellSmith", self.income_rho, self.income_sd, self.n_income)
        hm.model_checks.check_open_unit("KrusellSmith", "alpha", self.alpha)
        hm.model_checks.check_positive("KrusellSmith", "tfp", self.tfp)

    @property
    def a_grid(self) -> Float[Array, " n_a"]:
        return hm.shifted_geometric_grid(self.wealth_min, self.wealth_max, self.n_wealth)

    @property
    def income(self) -> hm.IncomeProcess:
        return hm.rouwenhorst(self.income_rho, self.income_sd, self.n_income)

    @property
    def action_grid(self) -> Float[Array, " n_k"]:
        return hm.action_grid(self.action_kind, self.n_actions, self.wealth_min, self.wealth_max)

    def prices(self, K, L, z):
        return hm.cobb_douglas_prices(K, L, z, self.alpha, self.delta, self.tfp)

    def output(self, K, L, z):
        return hm.cobb_douglas_output(K, L, z, self.alpha, self.tfp)

"""Huggett (1993) bond economy with an aggregate endowment shock.

Households trade a one-period bond in zero net supply subject to a borrowing limit below zero;
each receives the endowment ``e^z e`` (idiosyncratic ``e`` on a Markov chain with mean one,
aggregate log endowment ``z``):

    c_t + b_{t+1} = (1 + r_{t-1}) b_t + e^(z_t) e,        b_{t+1} >= wealth_min,

and the interest rate ``r_t`` on the bonds bought at ``t`` (paid at ``t + 1``) clears the bond
market at ``t``, ``A_t = sum mu_t b_{t+1} = B`` (``B = 0``). Timing: ``r_t`` and ``z_t`` are known
at ``t``; the return paid at ``t``, ``r_paid_t = r_{t-1}``, was set when the bonds were bought (at
date 0 of a transition it is the steady-state rate). In a steady state this is the textbook
``c + b' = (1 + r) b + y e^z`` (docs/models.md, section 5).
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

import hank_mfg as hm


class Huggett(hm.AbstractEconomy):
    """Huggett (1993) with aggregate endowment risk (the structural-RL paper's calibration).

    Defaults: the annual calibration of the Huggett economy with aggregate shocks in Yang,
    Wang, Schaab and Moll (2025, *Structural Reinforcement Learning for Heterogeneous Agent
    Macroeconomics*): beta 0.96, sigma 2, log-income AR(1) with persistence ``income_rho`` 0.6
    and unconditional s.d. ``income_sd`` 0.2 on ``n_income`` 3 Rouwenhorst states, aggregate
    log endowment AR(1) ``rho_z`` 0.9, ``sigma_z`` 0.02, borrowing limit ``wealth_min`` -1 and
    ``n_wealth`` 200 points up to ``wealth_max`` 50 (shifted geometric grid, pivot
    ``|wealth_min| + 0.25``). ``bond_supply`` 0: zero net supply. ``r_bracket``: where the
    steady-state rate is searched.
    """

    beta: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.96)
    sigma: Float[Array, ""] = eqx.field(converter=hm.as_param, default=2.0)
    income_rho: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.6)
    income_sd: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.2)
    rho_z: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.9)
    sigma_z: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.02)
    wealth_min: Float[Array, ""] = eqx.field(converter=hm.as_param, default=-1.0)
    wealth_max: Float[Array, ""] = eqx.field(converter=hm.as_param, default=50.0)
    bond_supply: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.0)
    n_income: int = eqx.field(static=True, default=3)
    n_wealth: int = eqx.field(static=True, default=200)
    r_bracket: tuple = eqx.field(static=True, default=(-0.05, 0.04))
    common_noise: bool = eqx.field(static=True, default=True)

    household_inputs: ClassVar[tuple[str, ...]] = ("r_paid", "z")
    exogenous: ClassVar[tuple[str, ...]] = ("z",)
    steady_state_targets: ClassVar[tuple[str, ...]] = ("asset_mkt",)
    transition_unknowns: ClassVar[tuple[str, ...]] = ("r",)
    transition_targets: ClassVar[tuple[str, ...]] = ("asset_mkt",)
    rates: ClassVar[tuple[str, ...]] = ("r", "r_paid")

    def __check_init__(self):
        # fields first, so that errors name them rather than the grid or chain built from them
        hm.model_checks.check_wealth_bounds("Huggett", self.wealth_min, self.wealth_max)
        hm.model_checks.check_income_ar1("Huggett", self.income_rho, self.income_sd, self.n_income)
        hm.model_checks.check_open_unit("Huggett", "beta", self.beta)
        hm.model_checks.check_positive("Huggett", "sigma", self.sigma)
        lo, hi = self.r_bracket
        if not (-1.0 < lo < hi and float(self.beta) * (1.0 + hi) < 1.0):
            hm.model_checks.fail("Huggett", "r_bracket",
                                 "satisfy -1 < lo < hi with beta (1 + hi) < 1", self.r_bracket)

    @property
    def a_grid(self) -> Float[Array, " n_a"]:
        return hm.shifted_geometric_grid(self.wealth_min, self.wealth_max, self.n_wealth)

    @property
    def income(self) -> hm.IncomeProcess:
        return hm.rouwenhorst(self.income_rho, self.income_sd, self.n_income)

    def budget(self, p) -> hm.Budget:
        """``c + b' = (1 + r_paid) b + e^z e``."""
        e = jnp.asarray(self.income.e_grid, dtype=float)
        return hm.Budget(R=1.0 + p["r_paid"], y=jnp.exp(p["z"]) * e, we=jnp.zeros_like(e))

    def shocks(self):
        return (hm.Shock("z", self.rho_z, self.sigma_z),)

    def steady_state_unknowns(self):
        return {"r": tuple(self.r_bracket)}

    def steady_state_values(self):
        return {"z": 0.0}

    def aggregates(self, v):
        v["r_paid"] = v.lag("r")  # the rate set when the bonds were bought
        v["Y"] = jnp.exp(v["z"])  # aggregate endowment (mean income is one)

    def residuals(self, v):
        return {"asset_mkt": v["A"] - self.bond_supply, "goods_mkt": v["Y"] - v["C"]}

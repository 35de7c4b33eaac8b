"""The macro model of *Recurrent Structural Policy Gradient for Partially Observable Mean Field
Games* (arXiv 2602.20141), exactly as docs/theory.md §10.1 describes it.

Households hold wealth on a 200-point shifted geometric grid and earn income on a 5-state
clipped index walk; each period they consume a share of cash on hand ``m = (1 + r) a + w e``
chosen from 20 bin midpoints of (0, 1). Prices come from a Cobb–Douglas technology without
depreciation and an AR(1) log-TFP shock; households observe only ``(r, w)``.
"""

from __future__ import annotations

from typing import Optional

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

import hank_mfg as hm


class RSPGMacro(hm.AbstractHetAgentModel):
    """The paper's heterogeneous-agent macro model (defaults = the paper's code defaults).

    Fields (every one a keyword, e.g. ``RSPGMacro(horizon=32, common_noise=False)``):
        beta: discount factor 0.95 (paper's RL discount). sigma: CRRA 2.
        alpha: capital share 0.36. rho_z, sigma_z: log-TFP AR(1), 0.9 and 0.03; ``z_0 = 0``.
        n_wealth, wealth_min, wealth_max, wealth_pivot: ``geomspace(0.25, 99.25, 200) - 0.25``.
        n_income, income_min, income_max, income_pivot: ``geomspace(0.35, 2.25, 5) - 0.25``.
        income_p_move: probability 0.1 of moving the income index down and 0.1 of moving it up.
        n_actions: 20 consumption shares ``(k + 0.5) / 20``. horizon: 128.
        terminal: ``consume_all`` (``u(m)`` at ``t = T - 1``). initial_mu: None = uniform.

    Prices (no depreciation, 1e-6 added to denominators as in the paper):
    ``r = e^z alpha (L / (K + 1e-6))^(1 - alpha)``, ``w = e^z (1 - alpha) (K / (L + 1e-6))^alpha``.
    """

    beta: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.95)
    sigma: Float[Array, ""] = eqx.field(converter=hm.as_param, default=2.0)
    alpha: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.36)
    rho_z: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.9)
    sigma_z: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.03)
    wealth_min: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.0)
    wealth_max: Float[Array, ""] = eqx.field(converter=hm.as_param, default=99.0)
    wealth_pivot: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.25)
    income_min: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.1)
    income_max: Float[Array, ""] = eqx.field(converter=hm.as_param, default=2.0)
    income_pivot: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.25)
    income_p_move: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.1)
    n_wealth: int = eqx.field(static=True, default=200)
    n_income: int = eqx.field(static=True, default=5)
    n_actions: int = eqx.field(static=True, default=20)
    horizon: int = eqx.field(static=True, default=128)
    common_noise: bool = eqx.field(static=True, default=True)
    action_kind: str = eqx.field(static=True, default="share")
    terminal: str = eqx.field(static=True, default="consume_all")
    initial_mu: Optional[Array] = None

    def __check_init__(self):
        # fields first, so that errors name them rather than the grid or chain built from them
        check = hm.model_checks
        for lo_name, hi_name, pivot_name in (("wealth_min", "wealth_max", "wealth_pivot"),
                                             ("income_min", "income_max", "income_pivot")):
            lo, hi = check.concrete(getattr(self, lo_name)), check.concrete(getattr(self, hi_name))
            p = check.concrete(getattr(self, pivot_name))
            if lo is not None and hi is not None and not float(hi) > float(lo):
                check.fail("RSPGMacro", hi_name, f"exceed {lo_name} = {float(lo):.6g}", hi)
            if lo is not None and p is not None and not float(lo) + float(p) > 0:
                check.fail("RSPGMacro", pivot_name, f"exceed -{lo_name} = {0.0 - float(lo):.6g}", p)
        q = check.concrete(self.income_p_move)
        if q is not None and not 0.0 <= float(q) <= 0.5:
            check.fail("RSPGMacro", "income_p_move", "lie in [0, 0.5]", q)
        check.check_int_at_least("RSPGMacro", "n_income", self.n_income, 2)

    @property
    def a_grid(self) -> Float[Array, " n_a"]:
        return hm.shifted_geometric_grid(
            self.wealth_min, self.wealth_max, self.n_wealth, self.wealth_pivot
        )

    @property
    def income(self) -> hm.IncomeProcess:
        levels = hm.shifted_geometric_grid(
            self.income_min, self.income_max, self.n_income, self.income_pivot
        )
        return hm.index_walk(levels, self.income_p_move, self.income_p_move)

    @property
    def action_grid(self) -> Float[Array, " n_k"]:
        return hm.share_grid(self.n_actions)

    def prices(self, K, L, z):
        tfp = jnp.exp(z)
        r = tfp * self.alpha * (L / (K + 1e-6)) ** (1.0 - self.alpha)  # paper: +1e-6
        w = tfp * (1.0 - self.alpha) * (K / (L + 1e-6)) ** self.alpha
        return r, w

    def output(self, K, L, z):
        return jnp.exp(z) * K**self.alpha * L ** (1.0 - self.alpha)

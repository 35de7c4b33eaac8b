"""Tiny models and shared checks for solver tests (not collected: no ``test_`` prefix)."""

from __future__ import annotations

from typing import Optional

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

import hank_mfg as hm


class FixedPriceModel(hm.AbstractHetAgentModel):
    """Prices do not react to the distribution: a single-agent consumption-savings problem."""

    beta: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.95)
    sigma: Float[Array, ""] = eqx.field(converter=hm.as_param, default=2.0)
    rho_z: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.9)
    sigma_z: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.05)
    r_fixed: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.03)
    w_fixed: Float[Array, ""] = eqx.field(converter=hm.as_param, default=1.0)
    n_wealth: int = eqx.field(static=True, default=10)
    n_actions: int = eqx.field(static=True, default=8)
    horizon: int = eqx.field(static=True, default=5)
    common_noise: bool = eqx.field(static=True, default=False)
    action_kind: str = eqx.field(static=True, default="share")
    terminal: str = eqx.field(static=True, default="consume_all")
    initial_mu: Optional[Array] = None

    @property
    def a_grid(self):
        return hm.shifted_geometric_grid(0.0, 6.0, self.n_wealth)

    @property
    def income(self):
        return hm.markov_chain(jnp.array([0.6, 1.4]), jnp.array([[0.8, 0.2], [0.3, 0.7]]))

    @property
    def action_grid(self):
        return hm.share_grid(self.n_actions)

    def prices(self, K, L, z):
        # r and w move with z (so common noise matters) but never with the distribution.
        return self.r_fixed + 0.0 * K + 0.01 * z, self.w_fixed * jnp.exp(z)

    def output(self, K, L, z):
        return jnp.exp(z) * K**0.36 * L**0.64


class ArrayModel(hm.AbstractHetAgentModel):
    """A user-declared model with given grids, income chain and actions (arrays as fields).

    The income chain is passed to the model unvalidated so that the model's own checks name
    the offending field; prices are Cobb–Douglas with depreciation.
    """

    grid_a: Array = None  # type: ignore[assignment]
    levels_e: Array = None  # type: ignore[assignment]
    Pi: Array = None  # type: ignore[assignment]
    actions: Array = None  # type: ignore[assignment]
    beta: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.9)
    sigma: Float[Array, ""] = eqx.field(converter=hm.as_param, default=2.0)
    alpha: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.36)
    delta: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.1)
    rho_z: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.9)
    sigma_z: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.02)
    horizon: int = eqx.field(static=True, default=6)
    common_noise: bool = eqx.field(static=True, default=True)
    action_kind: str = eqx.field(static=True, default="share")
    terminal: str = eqx.field(static=True, default="consume_all")
    initial_mu: Optional[Array] = None

    @property
    def a_grid(self):
        return self.grid_a

    @property
    def income(self):
        n = self.levels_e.shape[0]
        return hm.IncomeProcess(e_grid=self.levels_e, Pi_e=self.Pi, pi_e=jnp.full((n,), 1.0 / n))

    @property
    def action_grid(self):
        return self.actions

    def prices(self, K, L, z):
        return hm.cobb_douglas_prices(K, L, z, self.alpha, self.delta)

    def output(self, K, L, z):
        return hm.cobb_douglas_output(K, L, z, self.alpha)


def learned_gap(model, sol, shock_path, variables, T=40):
    """The largest gap of a learned noise-free response to the perfect-foresight path of the
    same one-time shock over ``T`` quarters, as a share of the perfect-foresight peak
    (``hm.irf_gap``)."""
    ss = hm.steady_state(model)
    if isinstance(model, hm.AbstractEconomy):
        pf = hm.transition_path(model, steady_state=ss, shocks={"z": shock_path})
    else:
        pf = hm.transition_path(model, steady_state=ss, z=shock_path)
    ref = {v: np.asarray(pf[v][:T]) - float(ss[v]) for v in variables}
    irf = hm.learned_irf(sol, {"z": float(shock_path[0])}, T=T)
    return hm.irf_gap(irf, ref, variables)

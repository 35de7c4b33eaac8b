"""Krusell and Smith (1998) with good and bad times and unemployment risk that moves with
them, in the calibration that den Haan, Judd and Juillard (2010, *Computational suite of models
with heterogeneous agents: incomplete markets and aggregate uncertainty*, JEDC 34(1), 1-3) gave
to every algorithm of their comparison project (docs/krusell_smith.md).

Households: ``c + k' = (1 + r_t - delta) k + [(1 - tau_t) lbar eps + mu (1 - eps)] w_t``,
``k' >= 0``, log utility, ``eps`` 1 employed / 0 unemployed. Firms:
``Y = z K^alpha (lbar L)^(1-alpha)``, ``r = alpha z (K / lbar L)^(alpha-1)``,
``w = (1 - alpha) z (K / lbar L)^alpha``. Government: unemployment benefits ``mu w`` financed
by a labour-income tax with ``tau_t lbar L_t = mu (1 - L_t)``. Aggregate states ``z`` (bad,
good) and employment ``eps`` move jointly (:func:`employment_chain`).
"""

from __future__ import annotations

from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

import hank_mfg as hm

#: The published joint transition of den Haan, Judd and Juillard (2010), rows today, columns
#: tomorrow, order (bad, unemployed), (bad, employed), (good, unemployed), (good, employed).
DJJ_TRANSITION = np.array([
    [0.525, 0.35, 0.03125, 0.09375],
    [0.038889, 0.836111, 0.002083, 0.122917],
    [0.09375, 0.03125, 0.291667, 0.583333],
    [0.009115, 0.115885, 0.024306, 0.850694],
])


def chain_blocks(duration_z=8.0, duration_u=(2.5, 1.5), u=(0.10, 0.04), into_bad=1.25,
                 into_good=0.75):
    """``(Pi_z, Pi_e)`` from Krusell and Smith's conditions (traceable in ``u``).

    Args:
        duration_z: mean length of good and bad times (quarters): ``Pi_z[z, z] = 1 - 1/d``.
        duration_u: mean unemployment spell in bad and in good times when times stay:
            ``P(u -> u | z -> z) = 1 - 1/d_u(z)``.
        u: unemployment rates in bad and good times.
        into_bad, into_good: the unemployed's chance of staying unemployed when times turn
            bad (good), relative to its value when they stay bad (good).

    The employed's job-loss probabilities follow from the unemployment rates: for every move
    ``z -> z'`` the unemployment rate must go from ``u_z`` to ``u_z'``,
    ``u_z P(u -> u | z, z') + (1 - u_z) P(e -> u | z, z') = u_z'``. ``Pi_e[z, z']`` is the
    ``2 x 2`` transition of (unemployed, employed) given the move of times.
    """
    p = 1.0 - 1.0 / duration_z
    Pz = jnp.array([[p, 1.0 - p], [1.0 - p, p]])
    stay_b, stay_g = 1.0 - 1.0 / duration_u[0], 1.0 - 1.0 / duration_u[1]
    uu = jnp.array([[stay_b, into_good * stay_g], [into_bad * stay_b, stay_g]])   # [z, z']
    u = jnp.stack([jnp.asarray(u[0], float), jnp.asarray(u[1], float)])
    eu = (u[None, :] - u[:, None] * uu) / (1.0 - u[:, None])
    Pi_e = jnp.stack([jnp.stack([uu, 1.0 - uu], -1), jnp.stack([eu, 1.0 - eu], -1)], -2)
    return Pz, Pi_e                                                 # Pi_e[z, z', e, e']


def employment_chain(duration_z=8.0, duration_u=(2.5, 1.5), u=(0.10, 0.04),
                     into_bad=1.25, into_good=0.75) -> np.ndarray:
    """The joint ``4 x 4`` transition of (z, eps), order (bad, u), (bad, e), (good, u),
    (good, e), rows today: ``Pi_z[z, z'] Pi_e[z, z', e, e']`` (:func:`chain_blocks`)."""
    Pz, Pi_e = chain_blocks(duration_z, duration_u, u, into_bad, into_good)
    J = np.asarray(Pz)[:, :, None, None] * np.asarray(Pi_e)
    return J.transpose(0, 2, 1, 3).reshape(4, 4)


class KrusellSmithUnemployment(hm.AbstractEconomy):
    """Krusell–Smith with unemployment risk (den Haan, Judd and Juillard 2010 calibration).

    Defaults (quarterly): ``beta`` 0.99, log utility, ``alpha`` 0.36, ``delta`` 0.025, TFP
    ``z`` 0.99 in bad and 1.01 in good times, unemployment 10% and 4%, time endowment ``lbar``
    ``1/0.9``, benefit ``mu`` 0.15 of the wage; good and bad times last 8 quarters, unemployment
    2.5 quarters in bad and 1.5 in good times (:func:`employment_chain`; equal to the published
    table to its six digits). Individual capital on ``n_wealth`` 150 points of a shifted
    geometric grid on ``[0, wealth_max]`` (200; a grid to 1,000 with 200 points moves mean capital
    under aggregate risk by less than 0.002. In the steady state without aggregate risk,
    where ``beta (1 + r - delta)`` is 0.9999, 3e-4 of the households reach the top and the
    goods market is off by 3e-5 there); aggregate capital on ``n_capital`` 12 points of
    ``[capital_min, capital_max]`` = ``[34, 46]`` (mean capital is about 39.4 with a standard
    deviation of about 1; a wider grid of 8 points on [30, 50] raised den Haan's errors).

    Declared as an economy (the firm block as in sequence-jacobian's Krusell–Smith example:
    prices from last period's capital ``K_{t-1}``, the households' assets ``A_t = K_t``): its
    steady state without aggregate risk has ``z = 1`` and the employment chain averaged over
    good and bad times (unemployment 7%, :attr:`income`); ``K`` is the unknown that clears
    the asset market. Under aggregate risk the aggregate state is the Markov chain
    :attr:`chain`, solved by ``hm.solve(model, method="krusell-smith")``.
    """

    beta: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.99)
    alpha: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.36)
    delta: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.025)
    z_bad: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.99)
    z_good: Float[Array, ""] = eqx.field(converter=hm.as_param, default=1.01)
    u_bad: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.10)
    u_good: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.04)
    lbar: Float[Array, ""] = eqx.field(converter=hm.as_param, default=1.0 / 0.9)
    mu: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.15)
    sigma: Float[Array, ""] = eqx.field(converter=hm.as_param, default=1.0)
    duration_z: float = eqx.field(static=True, default=8.0)
    duration_u: tuple = eqx.field(static=True, default=(2.5, 1.5))
    wealth_max: float = eqx.field(static=True, default=200.0)
    n_wealth: int = eqx.field(static=True, default=150)
    capital_min: float = eqx.field(static=True, default=34.0)
    capital_max: float = eqx.field(static=True, default=46.0)
    n_capital: int = eqx.field(static=True, default=12)
    common_noise: bool = eqx.field(static=True, default=True)

    household_inputs: ClassVar[tuple[str, ...]] = ("r", "w", "tau")
    exogenous: ClassVar[tuple[str, ...]] = ("z", "L")
    steady_state_targets: ClassVar[tuple[str, ...]] = ("asset_mkt",)
    transition_unknowns: ClassVar[tuple[str, ...]] = ("K",)
    transition_targets: ClassVar[tuple[str, ...]] = ("asset_mkt",)
    rates: ClassVar[tuple[str, ...]] = ("r",)

    def __check_init__(self):
        check = hm.model_checks
        name = "KrusellSmithUnemployment"
        check.check_open_unit(name, "beta", self.beta)
        check.check_open_unit(name, "alpha", self.alpha)
        check.check_open_unit(name, "delta", self.delta)
        for f in ("z_bad", "z_good", "lbar"):
            check.check_positive(name, f, getattr(self, f))
        for f in ("u_bad", "u_good"):
            check.check_open_unit(name, f, getattr(self, f))
        mu = check.concrete(self.mu)
        if mu is not None and not 0.0 <= float(mu) < 1.0:
            check.fail(name, "mu", "lie in [0, 1) (a replacement rate)", mu)
        if not 0.0 < self.capital_min < self.capital_max:
            check.fail(name, "capital_min", "satisfy 0 < capital_min < capital_max",
                       (self.capital_min, self.capital_max))
        if self.n_capital < 2:
            check.fail(name, "n_capital", "be at least 2", self.n_capital)
        if self.n_wealth < 4:
            check.fail(name, "n_wealth", "be at least 4", self.n_wealth)

    @classmethod
    def original(cls, **kw) -> "KrusellSmithUnemployment":
        """Closer to Krusell and Smith's (1998) own economy, which has no unemployment
        insurance: a token benefit (``mu`` 0.01 of the wage, our choice, so that an unemployed
        household without wealth can still consume under log utility), no tax to pay for more,
        and the time endowment normalised to one (``lbar`` 1); the rest as above."""
        return cls(**{"mu": 0.01, "lbar": 1.0, **kw})

    # ---- the exogenous states ------------------------------------------------------------------
    @property
    def chain(self) -> hm.AggregateIdiosyncraticChain:
        """Good/bad times and employment: aggregate state 0 bad, 1 good; ``e_grid`` (0, 1)."""
        Pz, Pi_e = chain_blocks(self.duration_z, self.duration_u, (self.u_bad, self.u_good))
        return hm.AggregateIdiosyncraticChain(
            aggregate=hm.MarkovChain("z", self.z_values, Pz), e_grid=jnp.array([0.0, 1.0]),
            Pi_e=Pi_e)

    @property
    def z_values(self) -> Float[Array, " n_z"]:
        return jnp.stack([self.z_bad, self.z_good])

    @property
    def employment(self) -> Float[Array, " n_z"]:
        """Aggregate employment ``L_z = 1 - u_z`` in bad and good times."""
        return 1.0 - jnp.stack([self.u_bad, self.u_good])

    def exogenous_values(self, z_index) -> dict[str, Array]:
        """The exogenous aggregates in aggregate state ``z_index``: TFP and employment."""
        return {"z": self.z_values[z_index], "L": self.employment[z_index]}

    # ---- grids ----------------------------------------------------------------------------------
    @property
    def a_grid(self) -> Float[Array, " n_a"]:
        return hm.shifted_geometric_grid(0.0, self.wealth_max, self.n_wealth)

    @property
    def K_grid(self) -> Float[Array, " n_K"]:
        return jnp.linspace(self.capital_min, self.capital_max, self.n_capital)

    # ---- the aggregate block ----------------------------------------------------------------------
    def factor_prices(self, K, z, L):
        """``(r, w, tau)``: marginal products at capital ``K``, TFP ``z`` and employment ``L``,
        and the tax that pays the benefits, ``tau lbar L = mu (1 - L)``."""
        KL = K / (self.lbar * L)
        r = self.alpha * z * KL ** (self.alpha - 1.0)
        w = (1.0 - self.alpha) * z * KL ** self.alpha
        tau = self.mu * (1.0 - L) / (self.lbar * L)
        return r, w, tau

    def prices(self, K, z_index):
        """``(r, w, tau)`` at aggregate capital ``K`` in aggregate state ``z_index``."""
        return self.factor_prices(K, self.z_values[z_index], self.employment[z_index])

    def budget(self, p) -> hm.Budget:
        """``c + k' = (1 + r - delta) k + [mu, (1 - tau) lbar] w`` (unemployed, employed)."""
        y = jnp.stack([self.mu * p["w"], (1.0 - p["tau"]) * self.lbar * p["w"]], axis=-1)
        return hm.Budget(R=1.0 + p["r"] - self.delta, y=y, we=jnp.zeros_like(y))

    def factor_incomes(self, K, z_index) -> tuple[Array, Array]:
        """The budget's gross return ``R = 1 + r - delta`` and labour incomes ``y[e]`` at
        aggregate capital ``K`` in aggregate state ``z_index``."""
        r, w, tau = self.prices(K, z_index)
        b = self.budget({"r": r, "w": w, "tau": tau})
        return b.R, b.y

    # ---- the economy without aggregate risk ------------------------------------------------------
    @property
    def income(self) -> hm.IncomeProcess:
        """Employment without aggregate risk: the chain's transition of ``eps`` averaged over
        good and bad times, ``P(e' | e) = sum_{z, z'} Pr(z | e) Pi_z[z, z'] Pi_e[z, z', e, e']``
        (the one-quarter transition of a household whose times are unknown; its stationary
        unemployment rate is the average, 7%)."""
        ch = self.chain
        n_z = ch.n_aggregate
        joint = hm.stationary_distribution(ch.joint()).reshape(n_z, -1)      # [z, e]
        pz_e = joint / joint.sum(axis=0, keepdims=True)                      # Pr(z | e)
        P = jnp.einsum("ze,zw,zwef->ef", pz_e, ch.aggregate.Pi, ch.Pi_e)
        return hm.IncomeProcess(e_grid=ch.e_grid, Pi_e=P, pi_e=hm.stationary_distribution(P))

    def shocks(self):
        """None of the AR(1) kind: the aggregate state is the Markov chain :attr:`chain`."""
        return ()

    def steady_state_unknowns(self):
        return {"K": (36.0, 46.0)}

    def steady_state_values(self):
        return {"z": 1.0, "L": 1.0 - self.income.pi_e[0]}

    def aggregates(self, v):
        K_lag = v.lag("K")  # capital in place this quarter: what households saved last quarter
        v["r"], v["w"], v["tau"] = self.factor_prices(K_lag, v["z"], v["L"])
        v["Y"] = v["z"] * K_lag ** self.alpha * (self.lbar * v["L"]) ** (1.0 - self.alpha)

    def residuals(self, v):
        return {"asset_mkt": v["A"] - v["K"],
                "goods_mkt": v["Y"] - v["C"] - v["K"] + (1.0 - self.delta) * v.lag("K")}

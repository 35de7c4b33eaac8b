"""The abstract heterogeneous-agent model that economists subclass (docs/theory.md §1, §2).

A model is an immutable ``eqx.Module``: parameters are 0-d arrays (traced, differentiable),
shape-defining sizes are static ints. Concrete models implement the grids, the income chain,
the action grid, ``prices(K, L, z)`` and ``output(K, L, z)``; everything else (utility, the
shared observation, the initial distribution, validation) lives here once.
"""

from __future__ import annotations

import abc
from typing import ClassVar, Optional

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from ._checks import (
    check_abs_lt_one,
    check_distribution,
    check_grid,
    check_int_at_least,
    check_markov,
    check_nonnegative,
    check_open_unit,
    check_positive,
    concrete,
    fail,
)
from .economy import AbstractEconomy
from .exogenous import AR1
from .household import Budget, crra_utility

__all__ = ["AbstractHetAgentModel", "crra_utility", "ACTION_KINDS", "TERMINAL_RULES"]

#: ``share``: the action is the share of disposable cash on hand ``m - a_min`` consumed
#: (``c = share (m - a_min)``, ``a' = m - c``); with ``a_min = 0`` this is the paper's rule.
#: ``savings``: the action is the next-period wealth level ``a'`` itself, ``c = m - a'``;
#: infeasible choices (``c <= 0``) get the reward ``INFEASIBLE_REWARD``.
ACTION_KINDS = ("share", "savings")
#: ``consume_all``: at ``t = horizon - 1`` the household consumes its cash on hand above the
#: borrowing limit and ends at it, reward ``u(m - a_min)`` whatever the action (the paper's
#: ``u(m)`` when ``a_min = 0``; with ``a_min < 0`` debt beyond the limit is never rewarded);
#: ``none``: the last period is an ordinary period and the continuation value is zero.
TERMINAL_RULES = ("consume_all", "none")
INFEASIBLE_REWARD = -1e10


class AbstractHetAgentModel(AbstractEconomy):
    """Interface of a capital economy: a heterogeneous-agent economy with aggregate TFP risk
    whose households save in the capital that firms rent.

    Concrete subclasses are final and declare these fields (parameters as 0-d arrays):
    ``beta`` (discount factor, also the RL discount), ``sigma`` (CRRA), ``rho_z``/``sigma_z``
    (log-TFP AR(1)), and static ``horizon``, ``common_noise``, ``action_kind``, ``terminal``,
    plus ``initial_mu`` (``None`` = uniform over all states). They implement the properties
    ``a_grid``, ``income``, ``action_grid`` and the methods ``prices`` and ``output``; the budget
    ``c + a' = (1 + r) a + w e`` and the preferences come from :class:`AbstractHousehold`.

    It is an :class:`~hank_mfg.model.economy.AbstractEconomy` whose aggregate block is the
    firm (as in sequence-jacobian's Krusell–Smith example): the capital in use at ``t`` is what
    households carried out of ``t - 1``, ``K_t = K_next_{t-1}``; prices ``(r_t, w_t) =
    prices(K_t, L, z_t)`` and output from it; the asset market clears when the households'
    end-of-period assets are next date's capital, ``A_t = K_next_t``. Effective labour ``L``
    is the income chain's mean and log TFP ``z`` the one shock. So its steady state and
    perfect-foresight paths are solved by the same core as every economy's, and a path
    reports ``K`` as the capital in use at ``t`` (``K_0 = K_ss``).

    State index convention: ``s = i_a * n_income + i_e`` (wealth-major).
    """

    household_inputs: ClassVar[tuple[str, ...]] = ("r", "w")
    exogenous: ClassVar[tuple[str, ...]] = ("z",)
    steady_state_targets: ClassVar[tuple[str, ...]] = ("asset_mkt",)
    transition_unknowns: ClassVar[tuple[str, ...]] = ("K_next",)
    transition_targets: ClassVar[tuple[str, ...]] = ("asset_mkt",)
    rates: ClassVar[tuple[str, ...]] = ("r",)
    discrete_actions: ClassVar[bool] = True
    reported: ClassVar[tuple[str, ...]] = ("z", "K", "Y", "C", "r", "w")

    beta: eqx.AbstractVar[Float[Array, ""]]
    sigma: eqx.AbstractVar[Float[Array, ""]]
    rho_z: eqx.AbstractVar[Float[Array, ""]]
    sigma_z: eqx.AbstractVar[Float[Array, ""]]
    horizon: eqx.AbstractVar[int]
    common_noise: eqx.AbstractVar[bool]
    action_kind: eqx.AbstractVar[str]
    terminal: eqx.AbstractVar[str]
    initial_mu: eqx.AbstractVar[Optional[Array]]

    # ---- declared by concrete models -------------------------------------------------------
    @property
    @abc.abstractmethod
    def action_grid(self) -> Float[Array, " n_k"]:
        """Consumption shares in (0, 1) (``share``) or next-wealth levels (``savings``)."""

    @abc.abstractmethod
    def prices(self, K, L, z) -> tuple[Array, Array]:
        """Market-clearing ``(r, w)`` from capital ``K``, labour ``L`` and log TFP ``z``."""

    @abc.abstractmethod
    def output(self, K, L, z) -> Array:
        """Output ``Y`` from capital, labour and log TFP."""

    # ---- shared economics --------------------------------------------------------------------
    def budget(self, prices) -> Budget:
        """Capital-economy budget ``c + a' = (1 + r) a + w e`` at prices with ``r`` and ``w``
        (a mapping or an object such as :class:`AggregateState`); hours are fixed at one."""
        get = prices.__getitem__ if hasattr(prices, "keys") else prices.__getattribute__
        r, w = get("r"), get("w")
        e = jnp.asarray(self.income.e_grid, dtype=jnp.result_type(r, w, float))
        return Budget(R=1.0 + r, y=w * e, we=jnp.zeros_like(e))

    # ---- the aggregate block ------------------------------------------------------------------
    @property
    def labour(self) -> Float[Array, ""]:
        """Effective labour ``L = sum_e pi_e e`` (hours fixed at one)."""
        inc = self.income
        return jnp.asarray(inc.pi_e, dtype=float) @ jnp.asarray(inc.e_grid, dtype=float)

    def steady_state_unknowns(self):
        """Capital, searched between a thousandth of the wealth grid's top and its top."""
        top = self.a_grid[-1]
        return {"K_next": (1e-3 * top, top)}

    def steady_state_values(self):
        return {"z": 0.0}

    def aggregates(self, v):
        v["L"] = self.labour
        v["K"] = v.lag("K_next")  # capital in use: what households carried out of last date
        v["r"], v["w"] = self.prices(v["K"], v["L"], v["z"])
        v["Y"] = self.output(v["K"], v["L"], v["z"])

    def residuals(self, v):
        return {"asset_mkt": v["A"] - v["K_next"]}

    def observation(self, agg) -> Float[Array, " n_obs"]:
        """The shared public signal ``o_t``; by default the prices ``(r, w)`` (docs/theory.md §2)."""
        return jnp.stack([agg.r, agg.w])

    def shocks(self) -> tuple[AR1, ...]:
        """The aggregate shock: log TFP ``z' = rho_z z + sigma_z eps`` (docs/exogenous.md)."""
        return (AR1("z", self.rho_z, self.sigma_z),)

    def initial_distribution(self) -> Float[Array, " n_s"]:
        """``mu_0`` over states (wealth-major): ``initial_mu`` if given, else uniform."""
        if self.initial_mu is not None:
            return jnp.asarray(self.initial_mu, dtype=float)
        n = self.n_states
        return jnp.full((n,), 1.0 / n)

    # ---- validation (runs at construction for every concrete model) --------------------------
    def __check_init__(self):
        owner = type(self).__name__
        check_open_unit(owner, "beta", self.beta)
        check_positive(owner, "sigma", self.sigma)
        check_abs_lt_one(owner, "rho_z", self.rho_z)
        check_nonnegative(owner, "sigma_z", self.sigma_z)
        check_int_at_least(owner, "horizon", self.horizon, 1)
        if self.action_kind not in ACTION_KINDS:
            fail(owner, "action_kind", f"be one of {ACTION_KINDS}", self.action_kind)
        if self.terminal not in TERMINAL_RULES:
            fail(owner, "terminal", f"be one of {TERMINAL_RULES}", self.terminal)
        if not isinstance(self.common_noise, bool):
            fail(owner, "common_noise", "be True or False", self.common_noise)
        # Size fields (when the model declares them) are named in errors before grids are built.
        for name, lo in (("n_wealth", 2), ("n_income", 1), ("n_actions", 1)):
            if hasattr(type(self), "__dataclass_fields__") and name in type(self).__dataclass_fields__:
                check_int_at_least(owner, name, getattr(self, name), lo)
        check_grid(owner, "a_grid", self.a_grid)
        inc = self.income
        e = concrete(inc.e_grid)
        if np.ndim(inc.e_grid) != 1:
            fail(owner, "e_grid", "be a 1-d array", f"shape {np.shape(inc.e_grid)}")
        if e is not None and not (np.all(np.isfinite(e)) and np.all(e >= 0)):
            fail(owner, "e_grid", "hold finite, non-negative income levels", e)
        check_markov(owner, "Pi_e", inc.Pi_e)
        if inc.Pi_e.shape[0] != inc.e_grid.shape[0]:
            fail(owner, "Pi_e", f"be {inc.e_grid.shape[0]}x{inc.e_grid.shape[0]}",
                 f"shape {inc.Pi_e.shape}")
        if self.action_kind == "share":
            g = concrete(self.action_grid)
            if g is not None and (g.min() <= 0 or g.max() >= 1):
                fail(owner, "action_grid", "hold consumption shares in (0, 1)", g)
        else:
            check_grid(owner, "action_grid", self.action_grid)
        if self.initial_mu is not None:
            check_distribution(owner, "initial_mu", self.initial_mu, self.n_states)
        self._check_borrowing_limit(owner, inc)

    def _check_borrowing_limit(self, owner: str, inc) -> None:
        """The borrowing limit ``a_min = a_grid[0]`` lies above the natural borrowing limit.

        Every household must be able to stay at or above the limit with positive consumption:
        cash on hand at the lowest wealth and lowest income, ``(1 + r) a_min + w e_min``, must
        exceed ``a_min`` — i.e. ``a_min > -w e_min / r`` when ``r > 0`` (Aiyagari 1994) — at
        the prices the model can reach: for log TFP at zero and three unconditional standard
        deviations either side, labour at its stationary level and capital ``K`` between
        ``1e-4`` times the grid's top and its top, the highest interest rate below the rate of
        time preference ``1/beta - 1`` (the bound of any stationary equilibrium), where
        ``-w e_min / r`` binds. Cash on hand is lowest at the lowest wealth (``R > 0``).
        Skipped inside jit and where no such prices are finite (evaluations then report any
        infeasible mass).
        """
        a, e, pi = concrete(self.a_grid), concrete(inc.e_grid), concrete(inc.pi_e)
        beta, rho, sz = concrete(self.beta), concrete(self.rho_z), concrete(self.sigma_z)
        if any(x is None for x in (a, e, pi, beta, rho, sz)) or a[-1] <= 0:
            return
        fields = getattr(type(self), "__dataclass_fields__", {})
        field = "wealth_min" if "wealth_min" in fields else "a_grid"
        a_min, L = float(a[0]), jnp.asarray(float(pi @ e))
        sd = float(sz) / np.sqrt(1.0 - float(rho) ** 2) if self.common_noise else 0.0
        # Fixed shapes (128 capital levels, 3 price points) so that the check compiles once.
        K = jnp.asarray(np.geomspace(1e-4 * float(a[-1]), float(a[-1]), 128))
        try:
            shapes = jax.eval_shape(self.prices, K, L, jnp.asarray(0.0))
            elementwise = all(np.broadcast_shapes(np.shape(x), K.shape) == K.shape for x in shapes)
        except (TypeError, ValueError):
            elementwise = False
        zs = (-3.0 * sd, 0.0, 3.0 * sd)
        # Parameters given as Python floats (a calibration trial's dataclasses.replace) enter
        # as traced arrays, so that a new value reuses the compiled check.
        model = jax.tree.map(lambda x: jnp.asarray(x, dtype=float) if isinstance(x, float) else x,
                             self)
        found, Kp, rp, wp, m_low, R = (np.asarray(x) for x in _cash_at_the_highest_rate(
            model, K, L, jnp.asarray(zs), jnp.asarray(a[:1], dtype=float), elementwise))
        # (K, z, r, w) at the highest reachable interest rate, per log TFP
        points = [(float(Kp[i]), zs[i], float(rp[i]), float(wp[i])) for i in range(3) if found[i]]
        if not points:
            return
        m_low, R = m_low[found], R[found]
        gap = np.where(np.isfinite(m_low), m_low - a_min, np.inf)
        j = int(np.argmin(gap))
        if gap[j] > 0:
            return
        (Ki, z, r, w), m, y_low = points[j], float(m_low[j]), float(m_low[j] - R[j] * a_min)
        natural = (f"the natural borrowing limit -y_min / r = {-y_low / r:.6g}"
                   if r > 0 else "the natural borrowing limit")
        fail(owner, field,
             f"exceed {natural}, so that cash on hand at the lowest wealth and income exceeds "
             f"the borrowing limit at the prices the model can reach (at r = {r:.6g}, "
             f"w = {w:.6g}, K = {Ki:.6g}, log TFP {z:.6g} it is {m:.6g})", a_min)


@eqx.filter_jit  # one program for the whole check, not one per operation
def _cash_at_the_highest_rate(model, K, L, zs, lowest, elementwise: bool):
    """Per log TFP in ``zs``: whether some capital in ``K`` gives finite prices with ``r`` below
    the rate of time preference, the capital and prices where ``r`` is highest there, the lowest
    cash on hand at the wealth ``lowest`` at those prices, and the return factor ``R``."""
    prices = model.prices if elementwise else jax.vmap(model.prices, in_axes=(0, None, None))
    out = []
    for z in zs:
        r, w = (jnp.broadcast_to(x, K.shape) for x in prices(K, L, z))
        ok = jnp.isfinite(r) & jnp.isfinite(w) & (r < 1.0 / model.beta - 1.0)
        i = jnp.argmax(jnp.where(ok, r, -jnp.inf))
        Ki, ri, wi = K[i], r[i], w[i]
        budget = model.budget(dict(K=Ki, L=L, z=z, Y=model.output(Ki, L, z), r=ri, w=wi))
        out.append((ok.any(), Ki, ri, wi, jnp.min(budget.cash_on_hand(lowest)), budget.R))
    return tuple(jnp.stack(x) for x in zip(*out))


def as_param(x: ArrayLike) -> Array:
    """Field converter for parameters: a 0-d (or array) float JAX array."""
    return jnp.asarray(x, dtype=float)

"""The household every model shares: preferences, the budget constraint, optional labour supply.

One budget serves every layer (operators, EGM, transitions, Euler errors, simulation, reports).
At a date with prices ``p`` a household with wealth ``a`` and income state ``e`` has

    c + a' = R(p) a + y(e, p) + we(e, p) n            (docs/models.md, section 1)

with ``R`` the gross return on wealth, ``y`` non-labour or exogenous income (wages times fixed
hours, dividends, minus taxes, transfers — distributed by the model's rule) and ``we`` the wage
per hour worked times productivity when hours ``n`` are a choice. With separable disutility
``vphi n^(1+1/frisch)/(1+1/frisch)`` the intratemporal condition ``vphi n^(1/frisch) = we u'(c)``
gives hours from consumption in closed form, ``n = (we u'(c) / vphi)^frisch``, so the savings
choice stays the only dynamic decision and the endogenous grid method stays exact.
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

from .income import IncomeProcess

__all__ = ["AbstractHousehold", "Budget", "crra_utility"]


def crra_utility(c, sigma):
    """CRRA utility ``c^(1-sigma)/(1-sigma)``; ``log c`` when ``sigma == 1``."""
    one = sigma == 1.0
    s = jnp.where(one, 2.0, sigma)  # keep the unused branch finite for autodiff
    return jnp.where(one, jnp.log(c), c ** (1.0 - s) / (1.0 - s))


class Budget(eqx.Module):
    """The budget constraint at one date, ``c + a' = R a + y[e] + we[e] n``.

    Attributes:
        R: gross return on wealth ``1 + r`` (0-d).
        y: income that does not depend on hours, per income state ``(n_e,)``.
        we: wage per hour times productivity per income state ``(n_e,)``; zero when hours are
            not a choice (then ``y`` holds the labour income at fixed hours).
        discount: the date's shifter of the discount factor (0-d, default 1): households
            discount next date's value by ``beta * discount`` (a discount-factor, or demand,
            shock; docs/models.md).
    """

    R: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    y: Float[Array, " n_e"] = eqx.field(converter=jnp.asarray)
    we: Float[Array, " n_e"] = eqx.field(converter=jnp.asarray)
    discount: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=1.0)

    def cash_on_hand(self, a: Float[Array, " n_a"], n=1.0) -> Float[Array, "n_a n_e"]:
        """``m[i_a, i_e] = R a + y[e] + we[e] n`` on a wealth grid (``n`` hours, scalar or table).

        ``m.reshape(-1)`` is the operators' flat wealth-major vector (``s = i_a n_e + i_e``).
        """
        return self.R * a[:, None] + self.y[None, :] + self.we[None, :] * n


class AbstractHousehold(eqx.Module):
    """Preferences, wealth grid, income chain and budget of a model's households.

    Concrete models declare ``beta`` and ``sigma`` (CRRA, ``1/eis``), the properties ``a_grid``
    (``a_grid[0]`` is the borrowing limit) and ``income``, and :meth:`budget`. Models with a
    labour choice set ``endogenous_labour = True`` and declare ``vphi`` and ``frisch``.
    """

    beta: eqx.AbstractVar[Float[Array, ""]]
    # ``sigma`` (CRRA, ``1/eis``) is a field or a property of concrete models

    @property
    @abc.abstractmethod
    def a_grid(self) -> Float[Array, " n_a"]:
        """Wealth grid; ``a_grid[0]`` is the borrowing limit."""

    @property
    @abc.abstractmethod
    def income(self) -> IncomeProcess:
        """Idiosyncratic income chain (levels, Markov matrix, stationary distribution)."""

    @abc.abstractmethod
    def budget(self, prices) -> Budget:
        """The :class:`Budget` at prices ``prices`` (a mapping or object with named prices)."""

    @property
    def endogenous_labour(self) -> bool:
        """Whether hours are chosen (intratemporal condition); ``False`` unless overridden."""
        return False

    @property
    def e_grid(self) -> Float[Array, " n_e"]:
        return self.income.e_grid

    @property
    def Pi_e(self) -> Float[Array, "n_e n_e"]:
        return self.income.Pi_e

    @property
    def n_states(self) -> int:
        """Number of individual states ``n_wealth * n_income``."""
        return int(self.a_grid.shape[0]) * int(self.e_grid.shape[0])

    def utility(self, c):
        """Period utility of consumption ``u(c)`` (CRRA with ``sigma``)."""
        return crra_utility(c, self.sigma)

    def marginal_utility(self, c):
        """``u'(c) = c^(-sigma)``."""
        return c ** (-self.sigma)

    def inverse_marginal_utility(self, up):
        """``(u')^{-1}(x) = x^(-1/sigma)``."""
        return up ** (-1.0 / self.sigma)

    def hours(self, we, uc):
        """Hours from the intratemporal condition, ``n = (we u'(c) / vphi)^frisch``."""
        return (we * uc / self.vphi) ** self.frisch

    def labour_disutility(self, n):
        """``vphi n^(1 + 1/frisch) / (1 + 1/frisch)`` (zero without a labour choice)."""
        if not self.endogenous_labour:
            return jnp.zeros_like(n)
        k = 1.0 + 1.0 / self.frisch
        return self.vphi * n**k / k

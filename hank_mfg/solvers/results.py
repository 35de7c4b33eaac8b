"""The steady state every economy's solver returns (docs/concepts.md, section 7).

One type for a declared economy (:class:`~hank_mfg.model.economy.AbstractEconomy`: Huggett,
the one-asset HANK, your own) and a capital economy
(:class:`~hank_mfg.model.base.AbstractHetAgentModel`: Krusell–Smith, Aiyagari, the paper's
model): the economy solved, every aggregate by name, every residual by name, and the
households' stationary policies and distribution, with one set of tolerances behind them.
"""

from __future__ import annotations

import equinox as eqx
from jaxtyping import Array, Float, Int

from ..model.economy import AbstractEconomy

__all__ = ["SteadyState"]


class SteadyState(eqx.Module):
    """Stationary equilibrium without aggregate risk.

    ``ss["r"]`` or ``ss.r``: any aggregate or solved unknown by name.

    Attributes:
        model: the economy solved, with its solved field unknowns (e.g. ``beta``, ``vphi``) in
            place.
        values: every aggregate (and every solved unknown) by name, 0-d arrays; includes the
            households' ``A`` (assets) and ``C`` (consumption), and for a declared economy
            ``N`` (effective labour). A capital economy's are ``r, w, K, L, Y, C, A``
            (``K`` the capital firms use, ``L`` effective labour ``sum_e pi_e e``).
        residuals: every named residual at the solution (targets and the rest, e.g. the goods
            market that Walras' law clears); a capital economy's is ``asset_mkt = A - K``.
        unknowns: the names solved for, in order (a capital economy: ``("r",)``).
        mu: stationary distribution ``(n_wealth, n_income)`` summing to one; ``mu_flat`` is the
            operators' flat wealth-major vector (``s = i_a n_income + i_e``).
        a_policy, c_policy, n_policy: savings, consumption and hours ``(n_a, n_e)`` (hours
            ``None`` without a labour choice).
        Va: marginal value of wealth ``R u'(c)`` (the terminal condition of transitions).
        euler_mean, euler_max: mass-weighted mean and max of ``log10|1 - c_hat/c|`` over
            unconstrained states with mass (docs/theory.md §8.1).
        iterations: household evaluations of the root find. egm_iterations,
            dist_iterations: inner steps of the last evaluation.
    """

    model: eqx.Module
    values: dict
    residuals: dict
    unknowns: tuple = eqx.field(static=True)
    mu: Float[Array, "n_a n_e"] = None
    a_policy: Float[Array, "n_a n_e"] = None
    c_policy: Float[Array, "n_a n_e"] = None
    n_policy: Float[Array, "n_a n_e"] = None
    Va: Float[Array, "n_a n_e"] = None
    euler_mean: Float[Array, ""] = None
    euler_max: Float[Array, ""] = None
    iterations: Int[Array, ""] = None
    egm_iterations: Int[Array, ""] = None
    dist_iterations: Int[Array, ""] = None

    def __getitem__(self, name: str) -> Array:
        if name in self.values:
            return self.values[name]
        raise KeyError(f"SteadyState has no aggregate {name!r}; it has {sorted(self.values)}")

    def __getattr__(self, name: str):
        # only reached when no field or method has the name: the aggregates as attributes
        values = self.__dict__.get("values")
        if name.startswith("_") or values is None or name not in values:
            raise AttributeError(f"SteadyState has no attribute or aggregate {name!r}"
                                 + (f"; its aggregates are {sorted(values)}" if values else ""))
        return values[name]

    @property
    def is_economy(self) -> bool:
        """Whether the model is a declared economy (an ``AbstractEconomy``), not a capital
        economy."""
        return isinstance(self.model, AbstractEconomy)

    @property
    def residual(self) -> Array:
        """The asset market's residual (households' assets less what is demanded)."""
        if "asset_mkt" not in self.residuals:
            raise AttributeError(f"SteadyState.residual: {type(self.model).__name__} has no "
                                 f"asset_mkt residual; its residuals are {sorted(self.residuals)}")
        return self.residuals["asset_mkt"]

    @property
    def mu_flat(self) -> Float[Array, " n_s"]:
        """The distribution as the operators' flat wealth-major vector."""
        return self.mu.reshape(-1)

"""The steady state and the perfect-foresight path every economy's solvers return
(docs/concepts.md, section 7).

One type of each for a declared economy (:class:`~hank_mfg.model.economy.AbstractEconomy`:
Huggett, the one-asset HANK, your own) and a capital economy
(:class:`~hank_mfg.model.base.AbstractHetAgentModel`: Krusell–Smith, Aiyagari, the paper's
model): the economy, every aggregate by name, every residual by name, and the households'
policies and distribution.
"""

from __future__ import annotations

import equinox as eqx
from jaxtyping import Array, Float, Int

from ..model.base import AbstractHetAgentModel
from ..model.economy import AbstractEconomy

__all__ = ["SteadyState", "TransitionPath", "kind_of"]


class _Aggregates(eqx.Module):
    """What a steady state and a path share: the ``model`` they belong to and its aggregates
    ``values`` by name (``x["K"]``), also as attributes (``x.K``) where no field or method has
    the name."""

    def __getitem__(self, name: str) -> Array:
        if name in self.values:
            return self.values[name]
        raise KeyError(f"{type(self).__name__} has no aggregate {name!r}; it has "
                       f"{sorted(self.values)}")

    def __getattr__(self, name: str):
        values = self.__dict__.get("values")
        if name.startswith("_") or values is None or name not in values:
            raise AttributeError(f"{type(self).__name__} has no attribute or aggregate {name!r}"
                                 + (f"; its aggregates are {sorted(values)}" if values else ""))
        return values[name]

    @property
    def is_economy(self) -> bool:
        """Whether the model is an economy other than a capital economy (an
        ``AbstractHetAgentModel``, whose steady states and paths also report the capital
        market's ``residual`` and a path its ``terminal_gap``)."""
        return (isinstance(self.model, AbstractEconomy)
                and not isinstance(self.model, AbstractHetAgentModel))


class SteadyState(_Aggregates):
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


class TransitionPath(_Aggregates):
    """A perfect-foresight equilibrium path of any economy, from its steady state.

    ``path["Y"]`` or ``path.Y``: the level path ``(T,)`` of any aggregate. Timing: as the
    economy declares it; the households' date-``t`` budget is known at ``t`` and ``A_t`` is the
    wealth they carry out of ``t``. A capital economy's aggregates are ``z`` (log TFP), ``K``
    (capital used in production at ``t``, ``K_0 = K_ss``), ``Y``, ``C``, ``r``, ``w`` and ``A``
    (``= K_{t+1}``).

    Attributes:
        model: the economy.
        values: every aggregate's path ``(T,)`` by name (exogenous ones included).
        residuals: every named residual's path ``(T,)``; a capital economy's is
            ``asset_mkt = A_t - K_{t+1}``, whose last date (``K_T = K_ss``, not a target) is
            the gap left at the end of the horizon (``terminal_gap``).
        shocks: the shock paths given (deviations from the steady state).
        max_residual: ``max_t`` over the transition targets of ``|residual|``.
        iterations: Newton iterations.
        mu, a_policy, c_policy, n_policy: ``(T, n_a, n_e)`` paths when requested, else None.
    """

    model: eqx.Module
    values: dict
    residuals: dict
    shocks: dict
    max_residual: Float[Array, ""]
    iterations: Array
    mu: Float[Array, "T n_a n_e"] | None = None
    a_policy: Float[Array, "T n_a n_e"] | None = None
    c_policy: Float[Array, "T n_a n_e"] | None = None
    n_policy: Float[Array, "T n_a n_e"] | None = None

    @property
    def T(self) -> int:
        return int(next(iter(self.values.values())).shape[0])

    @property
    def residual(self) -> Array:
        """A capital economy's market-clearing residuals ``A_t - K_{t+1}``, ``t = 0..T-2``."""
        return self._capital("residual")[:-1]

    @property
    def terminal_gap(self) -> Array:
        """A capital economy's ``A_{T-1} - K_ss`` (small when ``T`` is long enough)."""
        return self._capital("terminal_gap")[-1]

    def _capital(self, what: str) -> Array:
        if self.is_economy:
            raise TypeError(f"TransitionPath.{what} is a capital economy's; "
                                 f"{type(self.model).__name__}'s residuals are "
                                 f"path.residuals {sorted(self.residuals)}")
        return self.residuals["asset_mkt"]


def kind_of(steady_state) -> str:
    """What was passed as a steady state, for messages: the model it was solved for."""
    if isinstance(steady_state, SteadyState):
        return f"the steady state of a {type(steady_state.model).__name__}"
    return type(steady_state).__name__

"""General-equilibrium economies: households, an aggregate block, markets and named shocks.

An economy is declared the way a paper's model section reads (docs/concepts.md, section 7):

* **households** (:class:`~hank_mfg.model.household.AbstractHousehold`): preferences, the
  income chain, the wealth grid and its borrowing limit, and the budget as a function of the
  named aggregates listed in ``household_inputs`` (e.g. ``r, w, Div, Tax``);
* **the aggregate block** (:meth:`AbstractEconomy.aggregates`): firms, policy rules and
  accounting identities, computing named aggregates from the exogenous variables and the
  unknowns, with leads and lags by name (``v.lead("Y")``, ``v.lag("i")``);
* **markets** (:meth:`AbstractEconomy.residuals`): named residuals (``asset_mkt``,
  ``labor_mkt``, ``nkpc_res``, ...) of the aggregates and the households' aggregate outputs
  ``A`` (end-of-period assets), ``C`` (consumption) and ``N`` (effective labour ``sum mu e n``);
* **unknowns and targets** for the steady state (model parameters such as ``beta`` or
  aggregates such as ``r``) and for transitions (paths of aggregates);
* **shocks**: any number of named AR(1) processes on exogenous variables
  (:class:`Shock`); ``common_noise=False`` switches them all off.

The same two block functions serve the steady state (where a lead or a lag is the value itself)
and perfect-foresight transitions (where leads and lags past the path's ends take the steady-
state value), so the equations are written once.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from ._checks import check_abs_lt_one, check_int_at_least, check_nonnegative, concrete, fail
from .exogenous import AR1
from .household import AbstractHousehold

__all__ = ["AbstractEconomy", "HOUSEHOLD_OUTPUTS", "LowerBound", "Shock", "Variables"]

#: Aggregates the household block returns: end-of-period assets ``A = sum mu a'``, consumption
#: ``C = sum mu c`` and effective labour ``N = sum mu e n``.
HOUSEHOLD_OUTPUTS = ("A", "C", "N")


class LowerBound(eqx.Module):
    """A lower bound in an economy's aggregate block, as the expectations of a first-order
    start respect it (docs/theory.md §12.7): the aggregate ``variable`` (e.g. the policy rate
    ``i``) never falls below ``bound``; where the linear solution would take it below, the
    rule that sets it is shifted up, today and on the dates ahead, by announced shifts of the
    exogenous ``instrument`` (e.g. ``rstar``, the rule's intercept) — ``scale`` units of the
    instrument per unit shift of the rule (``1 / (1 - rho_i)`` for a rule that gives today's
    intercept the weight ``1 - rho_i``)."""

    variable: str = eqx.field(static=True)
    bound: float = eqx.field(static=True)
    instrument: str = eqx.field(static=True)
    scale: float = eqx.field(static=True, default=1.0)


#: An AR(1) aggregate shock ``x_t - x_ss = rho (x_{t-1} - x_ss) + sigma eps_t`` on the exogenous
#: variable ``name`` (:class:`~hank_mfg.model.exogenous.AR1`).
Shock = AR1


class Variables:
    """Named aggregates at one date (steady state) or along a path (transition).

    ``v["Y"]`` reads a variable, ``v["L"] = ...`` defines one, ``v.lead("Y")`` is ``Y_{t+1}`` and
    ``v.lag("i")`` is ``i_{t-1}``. In the steady state (``ss=None``) a lead or a lag is the value
    itself; on a path of length ``T`` the value past either end is the steady-state one,
    except that ``before`` may give the value at date ``-1`` (a path started away from the
    steady state: ``v.lag("i")`` at date 0 reads ``before["i"]``).
    """

    def __init__(self, values: Mapping[str, Array], ss: Mapping[str, Array] | None = None,
                 before: Mapping[str, Array] | None = None):
        self._v = {k: jnp.asarray(x) for k, x in values.items()}
        self._ss = None if ss is None else dict(ss)
        self._before = {} if before is None else dict(before)

    def __getitem__(self, name: str) -> Array:
        try:
            return self._v[name]
        except KeyError:
            raise KeyError(f"aggregate {name!r} is not defined yet; defined: "
                           f"{sorted(self._v)}") from None

    def __setitem__(self, name: str, value) -> None:
        self._v[name] = jnp.asarray(value)

    def __contains__(self, name: str) -> bool:
        return name in self._v

    def keys(self):
        return self._v.keys()

    def as_dict(self) -> dict[str, Array]:
        return dict(self._v)

    def _ss_of(self, name):
        if name not in self._ss:
            raise KeyError(f"aggregate {name!r} has no steady-state value for a lead or a lag")
        return jnp.asarray(self._ss[name], dtype=self[name].dtype)

    def lead(self, name: str, k: int = 1) -> Array:
        """``x_{t+k}`` (the steady-state value past the end of the path)."""
        x = self[name]
        if self._ss is None or k == 0:
            return x
        tail = jnp.full((k,), self._ss_of(name))
        return jnp.concatenate([x[k:], tail])

    def lag(self, name: str, k: int = 1) -> Array:
        """``x_{t-k}`` (before the start of the path: the value at date ``-1`` given as
        ``before``, earlier dates the steady-state one)."""
        x = self[name]
        if self._ss is None or k == 0:
            return x
        head = jnp.full((k,), self._ss_of(name))
        if name in self._before:
            head = head.at[k - 1].set(jnp.asarray(self._before[name], dtype=x.dtype))
        return jnp.concatenate([head, x[:-k]])


class AbstractEconomy(AbstractHousehold):
    """Interface of a heterogeneous-agent economy in general equilibrium.

    Concrete economies are final ``eqx.Module`` classes whose fields are the calibration. They
    declare (class-level tuples of names):

    * ``household_inputs``: the aggregates the budget reads (``budget`` gets a mapping of them);
    * ``exogenous``: exogenous aggregates (shocks may hit only these);
    * ``steady_state_targets`` and :meth:`steady_state_unknowns` (names of model fields, e.g.
      ``beta``, or of aggregates, e.g. ``r``, with a guess or a ``(lo, hi)`` bracket);
    * ``transition_unknowns`` / ``transition_targets``: paths solved for and residuals zeroed;
    * ``rates``: aggregates reported in basis points (the others in percent deviations);
    * ``observed``: the public aggregates households observe under aggregate risk besides the
      exogenous variables (default: the transition unknowns);
    * ``reported``: the aggregates a perfect-foresight path's responses report, in order
      (default ``()``: every aggregate);
    * ``discrete_actions``: True when the households may also choose from a finite action grid
      (``action_grid``: the capital economies of :class:`~hank_mfg.model.base.AbstractHetAgentModel`),
      so that RSPG with discrete choices and the model-free learners apply (default False:
      continuous savings choices only);
    * ``kinked``: True when the aggregate block has a kink (a ``max`` or ``min``, such as a
      lower bound on the policy rate), so that perfect-foresight paths are solved with the
      aggregate block's derivatives at each iterate rather than at the steady state alone
      (default False);

    and implement :meth:`steady_state_values` (calibrated aggregates),
    :meth:`aggregates`, :meth:`residuals` and :meth:`shocks`.
    """

    household_inputs: ClassVar[tuple[str, ...]]
    exogenous: ClassVar[tuple[str, ...]]
    steady_state_targets: ClassVar[tuple[str, ...]]
    transition_unknowns: ClassVar[tuple[str, ...]]
    transition_targets: ClassVar[tuple[str, ...]]
    rates: ClassVar[tuple[str, ...]] = ()
    observed: ClassVar[tuple[str, ...]] = ()
    kinked: ClassVar[bool] = False
    discrete_actions: ClassVar[bool] = False
    reported: ClassVar[tuple[str, ...]] = ()
    common_noise: eqx.AbstractVar[bool]

    @abc.abstractmethod
    def steady_state_unknowns(self) -> dict[str, float | tuple[float, float]]:
        """Steady-state unknowns: a guess or a ``(lo, hi)`` bracket (one unknown) per name."""

    def steady_state_bounds(self) -> dict[str, tuple[float | None, float | None]]:
        """Open domains ``(lo, hi)`` of steady-state unknowns (``None``: unbounded), kept by
        the root find (a trial outside would be an undefined model, not a bad guess).

        Default: a discount factor ``beta`` in ``(0, 1)``. Economies narrow it where their
        economics says so (a stationary wealth distribution needs ``beta (1 + r) < 1``) and
        bound scale parameters below by zero.
        """
        return {"beta": (0.0, 1.0)}

    @abc.abstractmethod
    def steady_state_values(self) -> dict[str, Array]:
        """Calibrated steady-state values of the exogenous variables and transition unknowns."""

    @abc.abstractmethod
    def aggregates(self, v: Variables) -> None:
        """Define every aggregate the households and the markets need (firms, policy rules)."""

    @abc.abstractmethod
    def residuals(self, v: Variables) -> dict[str, Array]:
        """Named market and equilibrium residuals, given the aggregates and ``A, C, N``."""

    def describe_kink(self, values: dict) -> str:
        """For a ``kinked`` economy, where a path's ``values`` (aggregates by name) sit on the
        far side of the kink, in words (e.g. the dates at a lower bound); used in the error
        of a path that did not converge. Default: nothing to say."""
        return ""

    def lower_bound_of(self) -> LowerBound | None:
        """For a ``kinked`` economy whose kink is a lower bound set by a rule, the
        :class:`LowerBound` (what the first-order start's expectations respect); default
        ``None``: none."""
        return None

    @abc.abstractmethod
    def shocks(self) -> tuple[Shock, ...]:
        """The aggregate shocks (AR(1) on exogenous variables)."""

    # ---- validation ------------------------------------------------------------------------
    def check_declaration(self) -> None:
        """Errors naming the field for declarations that cannot be solved.

        Called at construction (``__check_init__``): every target needs an unknown, names must
        be fields or aggregates, shocks must hit exogenous variables.
        """
        owner = type(self).__name__
        fields = set(getattr(type(self), "__dataclass_fields__", {}))
        # size fields are named before any grid is built from them
        for name, lo in (("n_wealth", 2), ("n_income", 1)):
            if name in fields:
                check_int_at_least(owner, name, getattr(self, name), lo)
        for name in sorted(fields):  # every numeric parameter is finite
            value = getattr(self, name)
            if eqx.is_array(value) and jnp.issubdtype(value.dtype, jnp.inexact):
                v = concrete(value)
                if v is not None and not np.all(np.isfinite(v)):
                    fail(owner, name, "be finite", v)
        unknowns = self.steady_state_unknowns()
        values = self.steady_state_values()
        if len(unknowns) != len(self.steady_state_targets):
            fail(owner, "steady_state_targets",
                 f"have one target per unknown ({sorted(unknowns)})",
                 tuple(self.steady_state_targets))
        if len(self.transition_unknowns) != len(self.transition_targets):
            fail(owner, "transition_targets",
                 f"have one target per unknown {tuple(self.transition_unknowns)}",
                 tuple(self.transition_targets))
        for name in self.transition_unknowns:
            if name not in values and (name not in unknowns or name in fields):
                fail(owner, "transition_unknowns",
                     "name aggregates with a steady-state value (calibrated: "
                     f"{sorted(values)}; solved: {sorted(set(unknowns) - fields)})", name)
        for name in self.exogenous:
            if name not in values and name not in unknowns:
                fail(owner, "exogenous", f"name calibrated aggregates {sorted(values)}", name)
        for name in unknowns:
            if name in fields and name in values:
                fail(owner, "steady_state_unknowns",
                     "name either a model field or an aggregate, not both", name)
        for s in self.shocks():
            if s.name not in self.exogenous:
                fail(owner, "shocks", f"hit exogenous variables {tuple(self.exogenous)}", s.name)
            check_abs_lt_one(owner, f"rho_{s.name}", s.rho)
            check_nonnegative(owner, f"sigma_{s.name}", s.sigma)
        if not isinstance(self.common_noise, bool):
            fail(owner, "common_noise", "be True or False", self.common_noise)

    def __check_init__(self):
        self.check_declaration()

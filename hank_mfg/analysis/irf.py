"""Impulse responses: generalised (under aggregate risk) and MIT-shock (perfect foresight).

**Generalised impulse response** (Koop, Pesaran and Potter 1996) of a learned policy: roll the
population forward along ``B`` common-noise paths twice with the *same* innovations (common
random numbers), once as is and once with an extra innovation ``shock`` added to log TFP at
``date`` (``z_date += shock``, decaying at ``rho_z`` afterwards); average each variable over the
paths and compare the two mean paths. The policy reacts to the shock only through what it
observes (prices), exactly as in the equilibrium it was trained for. Both passes run the same
compiled function on identical inputs except the shock, so a zero shock gives a response that is
exactly zero.

Units of the responses (:data:`IRF_UNITS`): ``percent`` = ``100 (x_shock / x_base - 1)`` of the
mean paths; ``bp`` (rates) = ``10^4 (x_shock - x_base)``; ``pp`` (shares, Gini, masses, log TFP)
= ``100 (x_shock - x_base)``.
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float

from ..operators.meanfield import MeanField
from ..policies.networks import AbstractPolicy
from ..solvers.steady_state import SteadyState
from ..solvers.transition import TransitionPath
from .simulation import Panel, simulate_paths

__all__ = [
    "IRF_UNITS", "IRF_VARIABLES", "generalized_irf", "deviations", "mit_deviations",
    "response_units", "check_mit_arguments",
]

#: Unit of each response variable (see the module docstring).
IRF_UNITS = dict(z="pp", K="percent", L="percent", Y="percent", C="percent", r="bp",
                 w="percent", share="pp", gini="pp", top10="pp", top1="pp", bottom50="pp",
                 at_limit="pp")
#: Variables of generalised impulse responses, in table order.
IRF_VARIABLES = tuple(IRF_UNITS)


def response_units(steady_state) -> dict:
    """Unit of each aggregate's response for a steady state's model.

    The model says which aggregates are rates (``rates``: basis points); other aggregates are
    in percent deviations, or in percentage points of their level when their steady-state
    value is zero (below 1e-8, the steady-state tolerance: bonds in zero net supply, log
    shocks). Without a steady state, :data:`IRF_UNITS` (the learned panels' variables).
    """
    if not isinstance(steady_state, SteadyState):
        return dict(IRF_UNITS)
    rates = set(steady_state.model.rates)
    return {k: "bp" if k in rates else ("pp" if abs(float(v)) < 1e-8 else "percent")
            for k, v in steady_state.values.items()}


def deviations(base: dict, shocked: dict, variables=IRF_VARIABLES, units=None) -> dict:
    """Responses of ``shocked`` against ``base`` in ``units`` (default :data:`IRF_UNITS`)."""
    units = IRF_UNITS if units is None else units
    out = {}
    for v in variables:
        x0, x1 = jnp.asarray(base[v]), jnp.asarray(shocked[v])
        unit = units[v]
        if unit == "percent":
            out[v] = 100.0 * (x1 / x0 - 1.0)
        elif unit == "bp":
            out[v] = 1e4 * (x1 - x0)
        else:
            out[v] = 100.0 * (x1 - x0)
    return out


def _as_dict(panel: Panel) -> dict:
    return {k: getattr(panel, k) for k in panel.__dataclass_fields__}


def generalized_irf(
    mf: MeanField, policy: AbstractPolicy, eps: Float[Array, "B T"], *, shock: float,
    date: int = 0, mu0: Float[Array, " n_s"] | None = None,
) -> tuple[Panel, Panel, dict]:
    """Generalised impulse response to an extra log-TFP innovation ``shock`` at ``date``.

    Args:
        mf: compiled model. policy: learned policy. eps: innovations ``(B, T)`` shared by the
            baseline and shocked passes (common random numbers). shock: size (e.g. 0.01 = 1%).
        date: date of the extra innovation (``0 <= date < T``). mu0: initial distribution.

    Returns:
        ``(base, shocked, response)``: the mean :class:`Panel` of each pass (fields ``(T,)``)
        and a dict ``variable -> (T,)`` response in :data:`IRF_UNITS`.

    Raises:
        ValueError: ``date`` outside ``[0, T)``.
    """
    T = int(eps.shape[-1])
    if not 0 <= int(date) < T:
        raise ValueError(f"generalized_irf.date must lie in [0, {T}); got {date}")
    z_base = jnp.zeros((T,), eps.dtype)
    z_shock = z_base.at[int(date)].set(jnp.asarray(shock, eps.dtype))
    base, _ = simulate_paths(mf, policy, eps, mu0, 0.0, z_base)
    shocked, _ = simulate_paths(mf, policy, eps, mu0, 0.0, z_shock)
    base, shocked = base.mean(), shocked.mean()
    return base, shocked, deviations(_as_dict(base), _as_dict(shocked))


def check_mit_arguments(path, steady_state, where: str) -> None:
    """A ``TypeError`` unless ``path`` is a :class:`~hank_mfg.TransitionPath` and
    ``steady_state`` a :class:`~hank_mfg.SteadyState` of the same kind of economy."""
    if (isinstance(steady_state, SteadyState) and isinstance(path, TransitionPath)
            and type(path.model) is type(steady_state.model)):
        return
    got = (f"a path of a {type(path.model).__name__} and the steady state of a "
           f"{type(steady_state.model).__name__}"
           if isinstance(steady_state, SteadyState) and isinstance(path, TransitionPath)
           else f"{type(path).__name__} and {type(steady_state).__name__}")
    raise TypeError(
        f"{where}(transition_path, steady_state) expected a perfect-foresight path "
        "(hm.transition_path(model, ..., steady_state=ss)) and the steady state it starts "
        f"from (hm.steady_state(model)), both of the same kind of economy; got {got}")


def mit_deviations(path, steady_state) -> tuple[dict, dict]:
    """Responses of a perfect-foresight transition path to its shocks, against the steady state.

    Returns ``(levels, response)``: dicts ``variable -> (T,)`` of the path's levels and of the
    responses in :func:`response_units` (baseline: the steady state), for the aggregates the
    model reports (``reported``: a capital economy's ``z, K, Y, C, r, w``; by default every
    aggregate).

    Raises:
        TypeError: ``path`` is not a transition path or ``steady_state`` not a steady state
            (of the same kind of model).
    """
    check_mit_arguments(path, steady_state, "mit_deviations")
    ss = steady_state
    names = path.model.reported or tuple(path.values)
    levels = {k: path[k] for k in names if k in ss.values}
    T = next(iter(levels.values())).shape
    base = {k: jnp.broadcast_to(ss.values[k], T) for k in levels}
    return levels, deviations(base, levels, tuple(levels), response_units(ss))

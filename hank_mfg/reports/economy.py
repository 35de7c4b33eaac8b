"""Tables and figures of economies: steady-state aggregates and residuals, forward guidance,
and who responds to a shock (built on :mod:`hank_mfg.analysis.economy`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..analysis.economy import consumption_response_by_group, news_responses
from ..solvers.results import SteadyState

__all__ = ["steady_state_table", "forward_guidance_table", "forward_guidance_figure",
           "consumption_response_table", "distribution_table", "response_variables"]

#: Order in which headline responses are shown (variables a model does not define are skipped).
_HEADLINE_ORDER = ("K", "Y", "C", "pi", "r", "w")


def response_variables(steady_state) -> tuple[str, ...]:
    """The headline aggregates of a model's impulse responses, for tables and figures.

    The aggregates the model reports (``reported``, exogenous ones left out: a capital
    economy's ``K, Y, C, r, w``); else its transition unknowns (the aggregates its equilibrium
    moves: HANK's ``pi, w, Y``, Huggett's ``r``) with consumption ``C`` and the real rate
    ``r`` where it defines them, exogenous aggregates left out, in the order
    ``K, Y, C, pi, r, w`` then as declared. HANK: ``Y, C, pi, r, w``; Huggett: ``C, r``.
    """
    if not isinstance(steady_state, SteadyState):
        raise TypeError(f"response_variables: give a SteadyState (hm.steady_state(model)); got "
                        f"{type(steady_state).__name__}")
    m = steady_state.model
    names = list(m.reported or (*m.transition_unknowns, "C", "r"))
    names = [n for n in dict.fromkeys(names)
             if n in steady_state.values and n not in m.exogenous]
    if m.reported:
        return tuple(names)
    ranked = [n for n in _HEADLINE_ORDER if n in names]
    return tuple(ranked + [n for n in names if n not in ranked])


def distribution_table(steady_state, model=None) -> pd.DataFrame:
    """The stationary distribution and policies, one row per ``(wealth, income state)``.

    Columns ``wealth, income_state, income, mass, consumption, savings`` (the vocabulary of
    :func:`hank_mfg.policy_table` and :func:`hank_mfg.wealth_distribution`), plus ``hours``
    for an economy with a labour choice; wealth-major rows (income states vary fastest);
    ``mass`` sums to one.

    Args:
        steady_state: a :class:`~hank_mfg.SteadyState` of any economy (its model gives
            the grids; a ``model`` given is checked to be the steady state's).
    """
    if model is not None:  # the model given must be the steady state's
        from ..solvers.steady_state import model_of_steady_state

        model = model_of_steady_state("distribution_table", model, steady_state)
    elif isinstance(steady_state, SteadyState):
        model = steady_state.model
    else:
        raise TypeError(f"distribution_table.steady_state must be a SteadyState "
                        f"(hm.steady_state(model)); got {type(steady_state).__name__}")
    a = np.asarray(model.a_grid, dtype=float)
    e = np.asarray(model.e_grid, dtype=float)
    n_a, n_e = a.shape[0], e.shape[0]
    cols = dict(wealth=np.repeat(a, n_e), income_state=np.tile(np.arange(n_e), n_a),
                income=np.tile(e, n_a))
    for name, x in (("mass", steady_state.mu), ("consumption", steady_state.c_policy),
                    ("savings", steady_state.a_policy)):
        cols[name] = np.asarray(x, dtype=float).reshape(-1)
    if getattr(model, "endogenous_labour", False):
        cols["hours"] = np.asarray(steady_state.n_policy, dtype=float).reshape(-1)
    return pd.DataFrame(cols)


def steady_state_table(steady_state: SteadyState) -> pd.DataFrame:
    """Every aggregate, solved unknown and residual of an economy's steady state.

    Columns ``name, kind`` (``unknown``, ``aggregate`` or ``residual``), ``value``.
    """
    ss = steady_state
    rows = [dict(name=k, kind="unknown" if k in ss.unknowns else "aggregate", value=float(v))
            for k, v in ss.values.items()]
    rows += [dict(name=k, kind="residual", value=float(v)) for k, v in ss.residuals.items()]
    return pd.DataFrame(rows)


def forward_guidance_table(steady_state: SteadyState, *, shock: str = "rstar",
                           size: float = -0.0025, horizons=range(21), T: int = 300,
                           variables=("C", "Y", "pi", "r"), jacobian=None) -> pd.DataFrame:
    """Impact responses to a shock announced at date 0 for date ``k`` (forward guidance), beside
    the representative-agent economy with the same rules.

    One row per horizon ``k`` and variable: ``response`` at date 0 (``unit``: percent for
    quantities, bp for rates) and ``relative``, the response over the one to the same shock at
    ``k = 0``; ``ra_response`` and ``ra_relative``, the same for the representative-agent
    version of the economy (the same aggregate block, policy rule and Phillips curve, one
    household with the same ``eis`` and complete markets, first order:
    :func:`~hank_mfg.analysis.economy.representative_agent_responses`); and, on consumption's
    rows (missing on the others), ``ra_given_rates``: the representative household's date-0
    consumption response (percent) to this economy's own equilibrium real-rate path held
    fixed. Its Euler equation alone would give the same response to a given one-date real-rate
    cut whatever ``k`` is (the forward-guidance puzzle), so ``ra_given_rates`` against
    ``response`` separates what the households do from what the rate path does
    (docs/models.md, section 7).

    Example:
        >>> ss = hm.steady_state(OneAssetHANK())
        >>> hm.forward_guidance_table(ss, horizons=range(0, 21, 4)).query("variable == 'C'")
    """
    table, units = news_responses(steady_state, shock=shock, size=size, horizons=horizons, T=T,
                                  variables=variables, jacobian=jacobian)
    k = table["k"]
    at0 = np.flatnonzero(k == 0)
    frames = []
    for v in variables:
        resp, ra = table[v], table["ra_" + v]
        base = resp[at0[0]] if at0.size else np.nan
        ra_base = ra[at0[0]] if at0.size else np.nan
        given = table["ra_given_rates"] if v == "C" else np.full(k.shape, np.nan)
        frames.append(pd.DataFrame(dict(
            k=k, variable=v, unit=units[v], response=resp, relative=resp / base,
            ra_response=ra, ra_relative=ra / ra_base, ra_given_rates=given)))
    return pd.concat(frames, ignore_index=True)


def forward_guidance_figure(table: pd.DataFrame, variable: str = "C") -> Figure:
    """The impact response to a cut announced ``k`` quarters ahead, in the economy and in the
    representative-agent economy with the same rules (left; for consumption also the
    representative household at the economy's own real-rate path), and each relative to its
    response at ``k = 0`` (right)."""
    sub = table[table["variable"] == variable]
    fig = Figure(figsize=(8.0, 3.4), layout="constrained")
    ax0, ax1 = fig.subplots(1, 2)
    ax0.plot(sub["k"], sub["response"], marker="o", ms=3, label="heterogeneous agents")
    ax0.plot(sub["k"], sub["ra_response"], ls="--", marker=".", ms=3,
             label="representative agent, same rules")
    if sub["ra_given_rates"].notna().any():
        ax0.plot(sub["k"], sub["ra_given_rates"], ls=":", marker=".", ms=3,
                 label="representative agent at these real rates")
    ax0.axhline(0.0, color="grey", lw=0.6)
    ax0.set_xlabel("quarters until the announced cut, k")
    unit = {"percent": "% deviation", "bp": "basis points", "pp": "percentage points"}
    ax0.set_ylabel(f"{variable} at date 0 ({unit.get(sub['unit'].iloc[0], '')})")
    ax0.set_title("impact response to news")
    ax0.legend(fontsize=7)
    ax1.plot(sub["k"], sub["relative"], marker="o", ms=3, label="heterogeneous agents")
    ax1.plot(sub["k"], sub["ra_relative"], ls="--", marker=".", ms=3,
             label="representative agent, same rules")
    ax1.axhline(0.0, color="grey", lw=0.6)
    ax1.set_xlabel("quarters until the announced cut, k")
    ax1.set_ylabel("relative to k = 0")
    ax1.set_title("decay with the horizon")
    ax1.legend(fontsize=7)
    return fig


def consumption_response_table(path, steady_state: SteadyState, *, date: int = 0,
                               n_groups: int = 10) -> pd.DataFrame:
    """Who responds: percent change of consumption at ``date`` by wealth decile and income
    state, with each group's share of steady-state consumption and its mass of households
    (``return_distribution=True`` paths only)."""
    out = consumption_response_by_group(path, steady_state, date=date, n_groups=n_groups)
    e = np.asarray(steady_state.model.income.e_grid)
    wealth = pd.DataFrame(dict(group="wealth", label=[f"decile {i + 1}" if n_groups == 10
                                                      else f"group {i + 1}"
                                                      for i in range(n_groups)],
                               response=np.asarray(out["wealth"]),
                               consumption_share=np.asarray(out["wealth_share"]),
                               mass=np.asarray(out["wealth_mass"])))
    income = pd.DataFrame(dict(group="income", label=[f"e = {x:.3g}" for x in e],
                               response=np.asarray(out["income"]),
                               consumption_share=np.asarray(out["income_share"]),
                               mass=np.asarray(out["income_mass"])))
    return pd.concat([wealth, income], ignore_index=True)


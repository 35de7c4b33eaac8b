"""Tables and figures of an economy solved under aggregate risk with the firms' forecast
(docs/theory.md §13), for ``hank-mfg report``.

Every table is tidy (one observation per row) and built from
:mod:`hank_mfg.analysis.aggregate_risk`; figures are matplotlib ``Figure`` objects (never
pyplot). Responses are in the units of :func:`~hank_mfg.analysis.irf.response_units`: basis
points for rates (``r``, ``i``, ``pi``, ``rstar``: ``1e4`` times the level deviation), percent
of the steady-state level for quantities (``100 * deviation / ss``), percentage points for an
aggregate whose steady-state value is zero. The learned responses are level deviations from the
learned economy's own path without the shock, scaled by the steady-state levels of
``solution.compiled().ss_values``, so they read in the same units as the perfect-foresight ones.

Signs: shocks are innovations of the exogenous aggregates in their own units. A positive
``rstar`` raises the policy rate's intercept (a monetary tightening; ``-0.0025`` is a 25 bp
cut); a positive ``Z`` raises TFP (``0.0025``: a quarter percent of its steady-state level 1).

* :func:`girf_table` / :func:`girf_figure`: generalized responses to several sizes of each
  shock (the nonlinearity);
* :func:`state_girf_table` / :func:`state_girf_figure`: responses from recession and boom states
  (the state dependence);
* :func:`group_response_table` / :func:`group_response_figure`: who responds on impact, by
  wealth decile and income state;
* :func:`anticipation_table` / :func:`anticipation_comparison_figure`: the response today to a
  cut announced ``k`` quarters ahead, learned beside perfect foresight;
* :func:`equilibrium_conditions_table`: the certificates of the last evaluation;
* :func:`forecast_table`: the firms' forecast tested (accuracy, orthogonality, the dynamic
  forecast, the integrated forward-looking residual);
* :func:`write_aggregate_risk_report`: all of them, as CSV/Parquet and PNG files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..analysis.aggregate_risk import (
    IRF_TRANSITION_T, floor_certificates, floor_responses, floor_statistics, girf_by_size,
    learned_group_responses, learned_news_responses, state_dependent_girf,
)
from ..analysis.continuous_report import perfect_foresight_irf
from ..analysis.irf import mit_deviations, response_units
from ..metrics.forecast import forecast_tests
from ..solvers.markets import ForecastClearing
from ..solvers.equilibrium import economy_jacobian, economy_transition
from ..solvers.transition import transition_jacobian
from .export import save_figure, write_table
from .figures import _LABELS, _UNIT_LABELS

__all__ = [
    "RESPONSE_VARIABLES", "anticipation_comparison_figure", "anticipation_table",
    "equilibrium_conditions_table", "forecast_table", "girf_figure", "girf_table",
    "group_response_figure", "group_response_table", "has_forecast", "state_girf_figure",
    "state_girf_table",
    "write_aggregate_risk_report",
]

#: Aggregates of the response tables, in order (those the solution records).
RESPONSE_VARIABLES = ("Y", "C", "pi", "r", "w")


def has_forecast(solution) -> bool:
    """Whether ``solution`` is a continuous-choice solution of an economy whose prices are
    solved each date with the firms' forecast (:class:`~hank_mfg.solvers.continuous.
    ForecastClearing`, e.g. the one-asset HANK)."""
    problem = getattr(solution, "problem", None)
    return isinstance(getattr(problem, "prices", None), ForecastClearing)


def _steady_state(problem):
    ss = problem.steady_state
    if ss is None:
        raise ValueError("the solution's problem keeps no steady state; rebuild it with "
                         "hm.solve or hm.load_run")
    return ss


def _scales(problem) -> tuple[dict, dict]:
    """``(units, factor)``: each aggregate's unit (:func:`response_units`) and the factor that
    turns its level deviation into that unit."""
    units = response_units(_steady_state(problem))
    factor = {}
    for k, unit in units.items():
        if unit == "bp":
            factor[k] = 1e4
        elif unit == "percent":
            factor[k] = 100.0 / float(problem.ss_values[k])
        else:
            factor[k] = 100.0
    return units, factor


def _variables(recorded, variables, where: str) -> list:
    if variables is None:
        return [v for v in RESPONSE_VARIABLES if v in recorded]
    names = list(variables)
    missing = [v for v in names if v not in recorded]
    if missing:
        raise ValueError(f"{where}.variables: {', '.join(missing)} not recorded; the solution "
                         f"records {', '.join(sorted(recorded))}")
    return names


def _check_shock(problem, shock: dict, where: str) -> dict:
    if not isinstance(shock, dict) or not shock:
        raise ValueError(f"{where}.shock must be a dict {{name: size}} naming one of "
                         f"{problem.noise_names}; got {shock!r}")
    bad = [k for k in shock if k not in problem.noise_names]
    if bad:
        raise ValueError(f"{where}.shock: {', '.join(map(repr, bad))} not one of the model's "
                         f"innovations {problem.noise_names}")
    return {k: float(v) for k, v in shock.items()}


def _label(v: str, unit: str | None = None) -> str:
    name = _LABELS.get(v, v)
    return name if unit is None else f"{name} ({_UNIT_LABELS.get(unit, unit)})"


# ---- generalized responses by size -------------------------------------------------------------
def girf_table(solution, shocks: dict | None = None, multiples=(1, 4, 8), *, T: int = 20,
               n_paths: int = 8, seed: int = 0, variables=None,
               T_transition: int = IRF_TRANSITION_T) -> pd.DataFrame:
    """Generalized impulse responses to each shock at several sizes (the nonlinearity), beside
    the nonlinear perfect-foresight responses to the same innovations.

    For each ``shock: size`` and each ``multiple``, the innovation ``multiple * size`` hits at
    date 0 (:func:`~hank_mfg.analysis.aggregate_risk.girf_by_size`: the mean over ``n_paths``
    noise paths of the shocked minus the unshocked path, common random numbers; ``n_paths = 0``:
    no other noise, from the steady state). The benchmark is the economy's own nonlinear
    perfect-foresight transition (``T_transition`` dates, from the steady state) to the path the
    innovation gives the shock, ``size * rho^t``: without aggregate risk and from the steady
    state it is the exact nonlinear response, so where the learned response per unit changes
    with the size and the perfect-foresight one does not, the difference is not the model's
    nonlinearity. Innovations larger than two standard deviations of the training
    innovations are marked ``extrapolation``: the policies were never trained there.

    Args:
        solution: a continuous-choice solution of an economy.
        shocks: ``{name: base size}`` (default: ``0.0025`` of each of the model's shocks, HANK's
            ``{"rstar": 0.0025, "Z": 0.0025}``: a 25 bp tightening and a quarter-percent TFP
            rise). multiples: the sizes as multiples of the base size (non-zero). T: dates.
        n_paths, seed: the noise paths. variables: aggregates (default ``Y, C, pi, r, w``, those
            recorded).

    Returns:
        Columns ``shock, multiple, size, variable, unit, date, response, se,
        response_per_unit, perfect_foresight, perfect_foresight_per_unit, innovation_sd,
        extrapolation``: ``response`` in ``unit`` (bp for rates, percent of the steady state
        for quantities) and its Monte Carlo standard error ``se`` over the ``n_paths`` paths
        (``nan`` with fewer than two),
        ``response_per_unit = response / size`` (equal across multiples when the response is
        linear in the shock); ``innovation_sd`` the s.d. of the shock's training innovation;
        ``extrapolation``: ``|size| > 2 innovation_sd``.

    Raises:
        ValueError: an unknown shock or variable, or a zero size.
    """
    problem = solution.compiled()
    shocks = ({name: 0.0025 for name in problem.shock_names} if shocks is None
              else _check_shock(problem, shocks, "girf_table"))
    multiples = [float(m) for m in multiples]
    if not multiples or any(m == 0.0 for m in multiples) or any(s == 0.0 for s in shocks.values()):
        raise ValueError(f"girf_table: sizes must be non-zero (response_per_unit divides by "
                         f"them); got shocks {shocks} and multiples {multiples}")
    units, factor = _scales(problem)
    if variables is not None:  # before anything is simulated
        _variables(units, variables, "girf_table")
    ss = _steady_state(problem)
    T_pf = max(int(T_transition), T)
    G = transition_jacobian(problem.model, ss, T_pf)   # one Jacobian for every benchmark path
    frames = []
    for shock, base in shocks.items():
        sizes = [m * base for m in multiples]
        resp = girf_by_size(solution, shock, sizes, T=T, n_paths=n_paths, seed=seed,
                            return_se=True)
        names = _variables(next(iter(resp.values()))[0], variables, "girf_table")
        i = problem.shock_names.index(shock)
        rho, sd = float(problem.rho[i]), float(problem.sigma[i])
        if problem.news and i == problem.news_index:   # the surprise and the announcements
            sd = sd * np.sqrt(problem.news + 1.0)       # share the shock's innovation variance
        for m, size in zip(multiples, sizes):
            pf = perfect_foresight_irf(problem.model, shock, size, T=T, rho=rho,
                                       T_transition=T_pf, steady_state=ss, jacobian=G)
            mean, se = resp[float(size)]
            for v in names:
                r = factor[v] * np.asarray(mean[v], dtype=float)
                p = factor[v] * np.asarray(pf[v], dtype=float)
                frames.append(pd.DataFrame(dict(
                    shock=shock, multiple=m, size=size, variable=v, unit=units[v],
                    date=np.arange(T), response=r, se=factor[v] * np.abs(se[v]),
                    response_per_unit=r / size,
                    perfect_foresight=p, perfect_foresight_per_unit=p / size,
                    innovation_sd=sd, extrapolation=bool(abs(size) > 2.0 * sd))))
    return pd.concat(frames, ignore_index=True)


def girf_figure(table: pd.DataFrame) -> Figure:
    """One panel per shock (row) and aggregate (column): the response to each multiple of the
    base size divided by the multiple (coinciding lines: a linear response), from
    :func:`girf_table`."""
    shocks = list(dict.fromkeys(table["shock"]))
    names = list(dict.fromkeys(table["variable"]))
    fig = Figure(figsize=(3.0 * len(names), 2.9 * len(shocks)), layout="constrained")
    axes = fig.subplots(len(shocks), len(names), squeeze=False)
    for i, shock in enumerate(shocks):
        sub = table[table["shock"] == shock]
        base = sub["size"].iloc[0] / sub["multiple"].iloc[0]
        for j, v in enumerate(names):
            ax = axes[i, j]
            g = sub[sub["variable"] == v]
            for k, (m, h) in enumerate(g.groupby("multiple", sort=True)):
                extra = " (extrapolated)" if bool(h["extrapolation"].iloc[0]) else ""
                ax.plot(h["date"], h["response"] / m, color=f"C{k}", lw=1.2,
                        label=f"{m:g} x {base:.4g}{extra}")
                ax.plot(h["date"], h["perfect_foresight"] / m, color=f"C{k}", lw=0.9, ls="--")
            ax.axhline(0.0, color="grey", lw=0.6)
            ax.set_title(f"{_LABELS.get(v, v)} ({shock} shock)", fontsize=9)
            ax.set_xlabel("quarters after the shock")
            ax.set_ylabel(f"per base shock ({_UNIT_LABELS.get(g['unit'].iloc[0], '')})",
                          fontsize=8)
        axes[i, 0].legend(fontsize=7, title="size", title_fontsize=7)
    fig.suptitle("generalized responses scaled to the base size (solid: learned; dashed: "
                 "nonlinear perfect foresight)")
    return fig


# ---- state dependence --------------------------------------------------------------------------
def state_girf_table(solution, shock: dict, *, T: int = 20, n_paths: int = 32,
                     burn_in: int = 100, variable: str = "Y", quantile: float = 0.25,
                     seed: int = 0, variables=None,
                     T_transition: int = IRF_TRANSITION_T) -> pd.DataFrame:
    """Responses to ``shock`` from recession and boom states (the state dependence).

    :func:`~hank_mfg.analysis.aggregate_risk.state_dependent_girf`: ``n_paths`` simulations run
    ``burn_in`` dates from the steady state; those ending with ``variable`` in its lowest
    ``quantile`` are the recession states, in its highest the boom states, all of them "all".
    From each state the same future noise runs with and without the shock.

    Args:
        solution: a continuous-choice solution of an economy. shock: ``{name: size}``, e.g.
            ``{"rstar": 0.0025}`` (a 25 bp tightening). T: dates. n_paths, burn_in, seed: the
            simulations. variable, quantile: how states are sorted. variables: aggregates
            (default ``Y, C, pi, r, w``, those recorded). T_transition: dates of the
            perfect-foresight transitions.

    Returns:
        Columns ``state`` (``recession``, ``boom``, ``all``), ``variable, unit, date, response``
        (in ``unit``, as :func:`girf_table`) and its Monte Carlo standard error ``se`` over the
        group's states, ``perfect_foresight`` (the same group's mean
        nonlinear perfect-foresight response from the same states, the benchmark of the
        state dependence: :func:`~hank_mfg.analysis.aggregate_risk.
        perfect_foresight_from_states`; ``nan`` where the economy has no such transition),
        ``state_variable`` (``variable``) and ``state_level``, the mean level of ``variable``
        at the branching date in the group.
    """
    problem = solution.compiled()
    shock = _check_shock(problem, shock, "state_girf_table")
    if variable not in problem.ss_values:
        raise ValueError(f"state_girf_table.variable: {variable!r} is not an aggregate of the "
                         f"model; choose one of {', '.join(sorted(problem.ss_values))}")
    units, factor = _scales(problem)
    if variables is not None:  # before anything is simulated
        _variables(units, variables, "state_girf_table")
    out = state_dependent_girf(solution, shock, T=T, n_paths=n_paths, burn_in=burn_in,
                               variable=variable, quantile=quantile, seed=seed,
                               T_transition=T_transition)
    names = _variables(out["all"], variables, "state_girf_table")
    pf = out.get("perfect_foresight", {})
    frames = []
    for state in ("recession", "boom", "all"):
        for v in names:
            bench = (factor[v] * np.asarray(pf[state][v], dtype=float)
                     if state in pf and v in pf[state] else np.full(T, np.nan))
            frames.append(pd.DataFrame(dict(
                state=state, variable=v, unit=units[v], date=np.arange(T),
                response=factor[v] * np.asarray(out[state][v], dtype=float),
                se=factor[v] * np.abs(np.asarray(out["se"][state][v], dtype=float)),
                perfect_foresight=bench, state_variable=variable,
                state_level=out["level"][state])))
    return pd.concat(frames, ignore_index=True)


def state_girf_figure(table: pd.DataFrame) -> Figure:
    """One panel per aggregate: the responses from recession, boom and all states (legend:
    the mean level of the state variable in each), from :func:`state_girf_table`."""
    names = list(dict.fromkeys(table["variable"]))
    fig = Figure(figsize=(3.0 * len(names), 3.0), layout="constrained")
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    styles = dict(recession=("C3", "-"), boom=("C2", "-"), all=("grey", "--"))
    sv = table["state_variable"].iloc[0]
    for ax, v in zip(axes, names):
        g = table[table["variable"] == v]
        for state, (color, ls) in styles.items():
            h = g[g["state"] == state]
            ax.plot(h["date"], h["response"], color=color, ls=ls, lw=1.2,
                    label=f"{state} ({sv} = {h['state_level'].iloc[0]:.4g})")
            if state != "all" and np.isfinite(h["perfect_foresight"]).any():
                ax.plot(h["date"], h["perfect_foresight"], color=color, ls=":", lw=1.0)
        ax.axhline(0.0, color="grey", lw=0.6)
        ax.set_title(_label(v, g["unit"].iloc[0]), fontsize=9)
        ax.set_xlabel("quarters after the shock")
    axes[0].legend(fontsize=7)
    fig.suptitle("responses from recession and boom states (dotted: perfect foresight from "
                 "the same states)")
    return fig


# ---- at the lower bound -------------------------------------------------------------------------
def floor_table(solution, *, T: int = 400, burn_in: int = 100, n_paths: int = 4,
                seed: int = 0) -> pd.DataFrame:
    """The lower bound in a learned economy (docs/models.md section 8): one row per measure,
    columns ``measure, at_floor, off_floor, unit``. The share of quarters at the floor (with
    its standard error), the number of spells and their mean and longest length, and the
    mean of output, inflation and the rates at and off the floor
    (:func:`~hank_mfg.analysis.aggregate_risk.floor_statistics`, ``n_paths`` paths of ``T``
    dates after ``burn_in``); then the certificates on each side
    (:func:`~hank_mfg.analysis.aggregate_risk.floor_certificates` on ``min(T, 200)`` dates):
    relative exploitability, mean and largest log10 Euler error, the largest market residual
    and the largest expected residual of each forward-looking condition."""
    fs = floor_statistics(solution, T=T, burn_in=burn_in, n_paths=n_paths, seed=seed)
    fc = floor_certificates(solution, T=min(T, 200), burn_in=burn_in, n_paths=n_paths,
                            seed=seed)
    rows = [("share of quarters", fs["share"], 1.0 - fs["share"], "share"),
            ("standard error of the share", fs["share_se"], fs["share_se"], "share"),
            ("spells", sum(fs["spells"].values()), float("nan"), "count"),
            ("mean spell", fs["mean_spell"], float("nan"), "quarters"),
            ("longest spell", fs["max_spell"], float("nan"), "quarters")]
    for v in ("Y", "C", "pi", "i", "r"):
        if v in fs["at_floor"] or v in fs["off_floor"]:
            rows.append((f"mean {v}", fs["at_floor"].get(v, float("nan")),
                         fs["off_floor"].get(v, float("nan")), "level"))
    at, off = fc["at_floor"], fc["off_floor"]
    for key in ("relative_exploitability", "euler_mean", "euler_max") + tuple(
            k for k in off if k.endswith("_max") and k != "euler_max"
            or k.endswith("_expected")):
        unit = "log10" if key.startswith("euler") else "level"
        rows.append((key, at.get(key, float("nan")), off.get(key, float("nan")), unit))
    return pd.DataFrame(rows, columns=["measure", "at_floor", "off_floor", "unit"])


def floor_response_table(solution, shocks: dict | None = None, *, T: int = 20,
                         n_paths: int = 64, burn_in: int = 100, seed: int = 0,
                         variables=None) -> pd.DataFrame:
    """Generalized responses from states at the lower bound and away from it
    (:func:`~hank_mfg.analysis.aggregate_risk.floor_responses`), for each shock (default:
    ``0.0025`` of each of the model's shocks, a 25 bp tightening for ``rstar``). Columns
    ``shock, size, state, states, variable, unit, date, response, se``, in the units of
    :func:`girf_table`."""
    problem = solution.compiled()
    shocks = ({name: 0.0025 for name in problem.shock_names} if shocks is None
              else _check_shock(problem, shocks, "floor_response_table"))
    units, factor = _scales(problem)
    frames = []
    for shock, size in shocks.items():
        fr = floor_responses(solution, {shock: size}, T=T, n_paths=n_paths, burn_in=burn_in,
                             seed=seed)
        names = _variables(fr["at_floor"], variables or ("Y", "C", "pi", "i", "r"),
                           "floor_response_table")
        for state in ("at_floor", "off_floor"):
            for v in names:
                frames.append(pd.DataFrame(dict(
                    shock=shock, size=size, state=state, states=fr["states"][state],
                    variable=v, unit=units[v], date=np.arange(T),
                    response=factor[v] * np.asarray(fr[state][v], dtype=float),
                    se=factor[v] * np.abs(np.asarray(fr["se"][state][v], dtype=float)))))
    return pd.concat(frames, ignore_index=True)


def floor_response_figure(table: pd.DataFrame) -> Figure:
    """One panel per shock (row) and aggregate (column): the responses from states at the floor
    and away from it (:func:`floor_response_table`), with two standard errors."""
    shocks = list(dict.fromkeys(table["shock"]))
    names = list(dict.fromkeys(table["variable"]))
    fig = Figure(figsize=(2.8 * len(names), 2.6 * len(shocks)), layout="constrained")
    axes = fig.subplots(len(shocks), len(names), squeeze=False)
    for row, shock in zip(axes, shocks):
        for ax, v in zip(row, names):
            g = table[(table["shock"] == shock) & (table["variable"] == v)]
            for state, color in (("at_floor", "C3"), ("off_floor", "C0")):
                h = g[g["state"] == state]
                ax.plot(h["date"], h["response"], color=color, lw=1.2,
                        label=f"{state.replace('_', ' ')} ({h['states'].iloc[0]} states)")
                ax.fill_between(h["date"], h["response"] - 2 * h["se"],
                                h["response"] + 2 * h["se"], color=color, alpha=0.15, lw=0)
            ax.axhline(0.0, color="grey", lw=0.6)
            ax.set_title(f"{shock}: {_label(v, g['unit'].iloc[0])}", fontsize=9)
        row[0].legend(fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("quarters after the shock")
    fig.suptitle("responses at the lower bound and away from it")
    return fig


# ---- who responds ------------------------------------------------------------------------------
def group_response_table(solution, shock: dict, *, date: int = 0,
                         n_groups: int = 10) -> pd.DataFrame:
    """Who responds: the percent change of consumption by wealth decile and income state at
    ``date`` after ``shock`` (:func:`~hank_mfg.analysis.aggregate_risk.learned_group_responses`:
    from the steady-state distribution without other noise).

    Args:
        solution: a continuous-choice solution of an economy. shock: ``{name: size}``, e.g.
            ``{"rstar": -0.0025}`` (a 25 bp cut). date: the date compared (0: on impact).
            n_groups: wealth groups (10: deciles).

    Returns:
        Columns ``grouping`` (``"wealth decile"``, or ``"wealth n-tile"`` for other
        ``n_groups``; ``"income state"``), ``group`` (wealth: 1 = poorest to ``n_groups``;
        income: the state's index, 0 = lowest productivity), ``label``, ``response_pct``
        (100 times the group's consumption over its consumption without the shock, minus 1),
        ``consumption_share`` (the group's share of consumption without the shock) and
        ``mass`` (its share of households). Within a grouping the shares and masses sum to
        one, and the ``consumption_share``-weighted responses sum to the aggregate's.
    """
    problem = solution.compiled()
    shock = _check_shock(problem, shock, "group_response_table")
    out = learned_group_responses(solution, shock, date=date, n_groups=n_groups)
    grouping = "wealth decile" if n_groups == 10 else f"wealth {n_groups}-tile"
    e = np.asarray(problem.e_grid, dtype=float)
    wealth = pd.DataFrame(dict(
        grouping=grouping, group=np.arange(1, n_groups + 1),
        label=[f"{grouping.split()[1]} {i + 1}" for i in range(n_groups)],
        response_pct=out["wealth"], consumption_share=out["wealth_share"],
        mass=out["wealth_mass"]))
    income = pd.DataFrame(dict(
        grouping="income state", group=np.arange(e.shape[0]),
        label=[f"e = {x:.3g}" for x in e], response_pct=out["income"],
        consumption_share=out["income_share"], mass=out["income_mass"]))
    return pd.concat([wealth, income], ignore_index=True)


def group_response_figure(table: pd.DataFrame) -> Figure:
    """Bars of the consumption response by wealth group (left) and income state (right), the
    aggregate response (the consumption-share-weighted mean) dashed, from
    :func:`group_response_table`."""
    fig = Figure(figsize=(10.0, 3.4), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, (grouping, g) in zip(axes, table.groupby("grouping", sort=False)):
        ax.bar(np.arange(len(g)), g["response_pct"], color="C0")
        agg = float(np.sum(g["response_pct"] * g["consumption_share"]))
        ax.axhline(agg, color="C3", ls="--", lw=1.0, label=f"aggregate {agg:.3g}%")
        ax.axhline(0.0, color="grey", lw=0.6)
        ax.set_xticks(np.arange(len(g)), g["label"], rotation=45, fontsize=7)
        ax.set_ylabel("consumption (% change)")
        ax.set_title(f"by {grouping}")
        ax.legend(fontsize=7)
    fig.suptitle("who responds: consumption on impact")
    return fig


# ---- anticipation ------------------------------------------------------------------------------
def anticipation_table(solution, size: float = -0.0025, *, horizons=None,
                       variables=("C", "Y", "pi", "r"), T: int = 20,
                       T_transition: int = IRF_TRANSITION_T) -> pd.DataFrame:
    """The response today to an innovation of ``size`` announced ``k`` quarters ahead, learned
    beside perfect foresight (anticipation; docs/theory.md §13.4).

    Learned: :func:`~hank_mfg.analysis.aggregate_risk.learned_news_responses` (the announced
    innovation ``<shock>_news<k>``, ``k = 0`` the surprise, without other noise). Perfect
    foresight: the transition (``T_transition`` dates) of the same economy to the same shock
    path, announced at date 0: zero before ``k``, then ``size * rho^(t - k)`` (the learned
    announcement is an innovation of the AR(1) shock, so it persists after it hits; a one-date
    shock at ``k``, as in :func:`~hank_mfg.analysis.economy.news_responses`, would be another
    experiment unless ``rho = 0``). Both at date 0 and in the same units (bp for rates, percent
    of the steady state for quantities).

    Args:
        solution: a continuous-choice solution trained with announcements
            (``RSPGConfig.continuous(news=K)``). size: the innovation (``-0.0025``: a 25 bp
            cut). horizons: the ``k`` values (default ``0..K``). variables: aggregates. T:
            dates of the learned rollouts (only date 0 is reported). T_transition: dates of
            the perfect-foresight transitions.

    Returns:
        Columns ``k, variable, unit, learned, perfect_foresight`` and ``learned_relative``,
        ``perfect_foresight_relative`` (each over its response at ``k = 0``; missing without
        ``k = 0`` in ``horizons``).

    Raises:
        ValueError: a solution trained without announcements (``news = 0``: there is nothing
            learned to compare), horizons outside ``[0, K]``, an unknown variable.
    """
    problem = solution.compiled()
    if not problem.news:
        raise ValueError("anticipation_table: the solution was trained without announcements "
                         "(RSPGConfig.news = 0); solve with RSPGConfig.continuous(news=K) to "
                         "learn the responses to news")
    units, factor = _scales(problem)
    variables = _variables(units, variables, "anticipation_table")
    # the problem and policy, not the Solution: learned_news_responses hands its resolved
    # policy on to learned_irf beside its first argument, which must then be the problem
    learned = learned_news_responses(problem, size=size, horizons=horizons, T=T,
                                     variables=tuple(variables), policy=solution.policy)
    ks = [int(k) for k in learned["k"]]
    ss = _steady_state(problem)
    name = problem.shock_names[problem.news_index]
    rho = float(problem.rho[problem.news_index])
    G = economy_jacobian(ss, T_transition)
    t = np.arange(T_transition)
    pf = {v: [] for v in variables}
    for k in ks:
        dz = np.where(t >= k, size * rho ** np.maximum(t - k, 0), 0.0)
        path = economy_transition(ss.model, shocks={name: dz}, steady_state=ss, jacobian=G)
        _, resp = mit_deviations(path, ss)
        for v in variables:
            pf[v].append(float(np.asarray(resp[v])[0]))
    frames = []
    for v in variables:
        lr = factor[v] * np.asarray(learned[v], dtype=float)
        pr = np.asarray(pf[v])
        at0 = [i for i, k in enumerate(ks) if k == 0]
        frames.append(pd.DataFrame(dict(
            k=ks, variable=v, unit=units[v], learned=lr, perfect_foresight=pr,
            learned_relative=lr / lr[at0[0]] if at0 else np.nan,
            perfect_foresight_relative=pr / pr[at0[0]] if at0 else np.nan)))
    return pd.concat(frames, ignore_index=True)


def anticipation_comparison_figure(table: pd.DataFrame) -> Figure:
    """One panel per aggregate: the response today to an announcement ``k`` quarters ahead,
    learned (solid) and perfect foresight (dashed), from :func:`anticipation_table`."""
    names = list(dict.fromkeys(table["variable"]))
    fig = Figure(figsize=(3.0 * len(names), 3.0), layout="constrained")
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, v in zip(axes, names):
        g = table[table["variable"] == v]
        ax.plot(g["k"], g["learned"], "-o", ms=3, label="learned")
        ax.plot(g["k"], g["perfect_foresight"], "--s", ms=3, label="perfect foresight")
        ax.axhline(0.0, color="grey", lw=0.6)
        ax.set_title(_label(v, g["unit"].iloc[0]), fontsize=9)
        ax.set_xlabel("quarters until the announced shock, k")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].set_ylabel("response at date 0")
    axes[0].legend(fontsize=7)
    fig.suptitle("anticipation: the response today to news about quarter k")
    return fig


# ---- certificates ------------------------------------------------------------------------------
_DESCRIPTIONS = {
    "relative_exploitability": "what a household gains by deviating, as a share of its value",
    "exploitability": "what a household gains by deviating (best response minus policy value)",
    "consumption_equivalent": "what a household would pay, as a permanent share of its "
                              "consumption, to switch to the best response",
    "euler_mean": "mean log10 Euler error |1 - c_hat / c| along the evaluation paths",
    "euler_max": "largest log10 Euler error along the evaluation paths",
    "market_residual": "largest residual of the conditions solved each date",
}


def _describe(measure: str) -> str | None:
    if measure in _DESCRIPTIONS:
        return _DESCRIPTIONS[measure]
    if measure.endswith("_expected"):
        target = measure[: -len("_expected")]
        return (f"largest |E_t {target}| over paths and dates, next date's shocks integrated "
                "by quadrature (the condition the equilibrium must satisfy, free of the "
                "forecaster's error)")
    if measure.startswith("forecast_rmse_"):
        u = measure[len("forecast_rmse_"):]
        return (f"root mean squared error of the firms' forecast of next date's {u} (includes "
                "the unforecastable innovation)")
    if measure.endswith("_mkt_max"):
        market = measure[: -len("_max")]
        gloss = " (Walras' law: not solved, implied)" if market == "goods_mkt" else ""
        return f"largest |{market} residual| along the evaluation paths{gloss}"
    return None


def equilibrium_conditions_table(history) -> pd.DataFrame:
    """The certificates of a run's last evaluation (docs/theory.md §13.3), one row per measure.

    Measures, those the history records: the expected forward-looking conditions
    (``nkpc_res_expected``), the market residuals (``asset_mkt_max``, ``labor_mkt_max``,
    ``goods_mkt_max``), the forecast errors (``forecast_rmse_pi``, ...), then the households'
    ``consumption_equivalent``, ``relative_exploitability``, ``euler_mean`` and ``euler_max``
    (log10).

    Args:
        history: ``solution.history`` (a DataFrame, or a list of rows).

    Returns:
        Columns ``iteration, measure, value, description``.

    Raises:
        ValueError: an empty history.
    """
    df = history if isinstance(history, pd.DataFrame) else pd.DataFrame(list(history))
    if df.empty:
        raise ValueError("equilibrium_conditions_table.history is empty: the run has no "
                         "evaluation")
    last = df.iloc[-1]
    cols = list(df.columns)
    order = ([c for c in cols if c.endswith("_expected")]
             + [c for c in cols if c.endswith("_mkt_max")]
             + [c for c in cols if c.startswith("forecast_rmse_")]
             + [c for c in ("consumption_equivalent", "relative_exploitability", "euler_mean",
                            "euler_max") if c in cols])
    rows = [dict(iteration=int(last["iteration"]), measure=c,
                 value=float(np.nan if last[c] is None else last[c]), description=_describe(c))
            for c in order]
    return pd.DataFrame(rows, columns=["iteration", "measure", "value", "description"])


def forecast_table(solution, *, n_paths: int = 16, T: int | None = None,
                   seed: int = 7) -> pd.DataFrame:
    """The firms' forecast tested (``hm.forecast_tests``, docs/theory.md §13.5), one row per
    test and variable.

    Rows: ``rmse`` (one-step error; benchmark: the steady-state forecast's), ``sd_expectation``
    and ``sd_realised``; ``orthogonality_high`` and ``orthogonality_low`` (den Haan–Marcet: the
    shares of paths above the 97.5% and below the 2.5% quantile of ``chi^2``; benchmark 0.025
    each); ``dynamic_mean`` and ``dynamic_max`` (the forecaster iterated on its own forecasts,
    in realised s.d.); ``<condition>_rms`` and ``<condition>_max`` (the integrated
    forward-looking residual over the s.d. of inflation).

    Returns:
        Columns ``test, variable, value, benchmark, description``.
    """
    ft = forecast_tests(solution, n_paths=n_paths, T=T, seed=seed)
    o, d, f = ft["orthogonality"], ft["dynamic"], ft["forward"]
    rows = []
    for j, u in enumerate(ft["unknowns"]):
        rows += [
            ("rmse", u, ft["rmse"][j], ft["rmse_steady_state"][j],
             "root-mean-square one-step forecast error (benchmark: always the steady state)"),
            ("sd_expectation", u, ft["sd_expectation"][j], np.nan, "s.d. of the forecast"),
            ("sd_realised", u, ft["sd_realised"][j], np.nan, "s.d. of the realised value"),
            ("orthogonality_high", u, o["high"][j], 0.025,
             f"share of paths with J above the 97.5% quantile of chi2({o['dof']})"),
            ("orthogonality_low", u, o["low"][j], 0.025,
             f"share of paths with J below the 2.5% quantile of chi2({o['dof']})"),
            ("dynamic_mean", u, d["mean"][j], np.nan,
             "mean |error| of the forecast iterated on itself, in realised s.d."),
            ("dynamic_max", u, d["max"][j], np.nan,
             "largest |error| of the forecast iterated on itself, in realised s.d."),
        ]
    for j, c in enumerate(f["names"]):
        rows += [(f"{c}_rms", c, f["rms"][j], np.nan,
                  f"root mean square of E_t {c}, over the s.d. of {f['scale_variable']}"),
                 (f"{c}_max", c, f["max"][j], np.nan,
                  f"largest |E_t {c}|, over the s.d. of {f['scale_variable']}")]
    return pd.DataFrame([dict(test=t, variable=v, value=float(x), benchmark=float(b),
                              description=s) for t, v, x, b, s in rows],
                        columns=["test", "variable", "value", "benchmark", "description"])


# ---- all of them -------------------------------------------------------------------------------
def write_aggregate_risk_report(solution, out: str, *, T: int = 20, n_paths: int = 8,
                                seed: int = 0, multiples=(1, 4, 8), burn_in: int = 100,
                                T_transition: int = IRF_TRANSITION_T) -> dict:
    """Write the tables (CSV + Parquet) and figures (PNG) of this module for ``solution`` into
    ``out`` (what ``hank-mfg report`` adds for an economy solved with the firms' forecast).

    Tables: ``girf_by_size`` (:func:`girf_table`: ``0.0025`` of each shock, a tightening for
    ``rstar``, times ``multiples``, over ``n_paths`` noise paths), ``state_dependent_girf``
    (:func:`state_girf_table`: ``+0.0025`` of the first shock, a 25 bp tightening for HANK,
    from ``4 max(n_paths, 1)`` simulations of ``burn_in`` dates, states sorted by output
    ``Y``), ``group_responses`` (:func:`group_response_table`: ``-0.0025`` of the first shock,
    a 25 bp cut), ``anticipation`` (:func:`anticipation_table`: a 25 bp cut; only for a
    solution trained with announcements); for an economy with a lower bound, ``lower_bound``
    (:func:`floor_table` on ``max(10 T, 200)`` dates) and ``floor_responses``
    (:func:`floor_response_table` from ``8 max(n_paths, 1)`` states); every perfect-foresight
    benchmark (beside the
    responses by size, from the recession and boom states and to announcements) over
    ``T_transition`` dates;
    ``equilibrium_conditions`` (:func:`equilibrium_conditions_table`) and ``forecast_tests``
    (:func:`forecast_table`, ``max(n_paths, 2)`` paths of ``max(4 T, 40)`` dates); a figure of the
    same name for each of the first four. ``T`` dates throughout; noise from ``seed``.

    Returns:
        ``{"tables": [paths], "figures": [paths]}``.
    """
    problem = solution.compiled()
    first = problem.shock_names[0]
    tables = {
        "girf_by_size": girf_table(solution, multiples=multiples, T=T, n_paths=n_paths,
                                   seed=seed, T_transition=T_transition),
        "state_dependent_girf": state_girf_table(
            solution, {first: 0.0025}, T=T, n_paths=4 * max(n_paths, 1), burn_in=burn_in,
            seed=seed, T_transition=T_transition),
        "group_responses": group_response_table(solution, {first: -0.0025}),
    }
    if problem.news:
        tables["anticipation"] = anticipation_table(solution, -0.0025, T=T,
                                                    T_transition=T_transition)
    if getattr(problem.model, "i_lb", None) is not None:
        tables["lower_bound"] = floor_table(solution, T=max(10 * T, 200), burn_in=burn_in,
                                            n_paths=max(n_paths, 2), seed=seed)
        tables["floor_responses"] = floor_response_table(
            solution, T=T, n_paths=8 * max(n_paths, 1), burn_in=burn_in, seed=seed)
    tables["equilibrium_conditions"] = equilibrium_conditions_table(solution.history)
    tables["forecast_tests"] = forecast_table(solution, n_paths=max(n_paths, 2),
                                              T=max(4 * T, 40), seed=seed)
    drawers = {"girf_by_size": girf_figure, "state_dependent_girf": state_girf_figure,
               "group_responses": group_response_figure,
               "anticipation": anticipation_comparison_figure,
               "floor_responses": floor_response_figure}
    written = {"tables": [], "figures": []}
    for name, df in tables.items():
        written["tables"].extend(write_table(df, out, name))
        if name in drawers:
            written["figures"].append(save_figure(drawers[name](df), out, name))
    return written

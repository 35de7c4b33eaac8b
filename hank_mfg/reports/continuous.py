"""Tables and figures of a continuous-choice solution (docs/theory.md §12), for ``hank-mfg report``.

Every table is tidy (one observation per row) and built from :mod:`hank_mfg.analysis`
(:mod:`~hank_mfg.analysis.continuous_report`, :mod:`~hank_mfg.analysis.aggregate_risk`); figures
are matplotlib ``Figure`` objects (never pyplot). :func:`hank_mfg.reports.write_report` writes
them for a continuous run:

* :func:`policy_comparison` / :func:`policy_comparison_figure`: learned ``a'(a, e)`` and
  ``c(a, e)`` at the steady state beside EGM's, with their gap;
* :func:`impulse_comparison` / :func:`impulse_comparison_figure`: the learned response to a
  one-time shock beside the perfect-foresight transition;
* :func:`ergodic_moments_table`: means, standard deviations and correlations of the aggregates;
* :func:`risky_steady_state_table`: the ergodic means and the risky steady state against the
  deterministic steady state, in percent or basis points;
* :func:`continuous_quality`, :func:`quality_table` and :func:`history_figure`: the quality
  verdicts of the run's last evaluation and its training history.
"""

from __future__ import annotations

import math

import jax
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..analysis.aggregate_risk import ergodic_moments, first_order_moments, risky_steady_state
from ..analysis.continuous_report import (
    IRF_TRANSITION_T, ContinuousThresholds, history_verdicts, irf_comparison,
    steady_state_policies,
)
from ..analysis.irf import deviations, response_units
from ..solvers.continuous import SavingsProblem
from ..solvers.steady_state import steady_state as solve_steady_state
from .figures import _LABELS, _UNIT_LABELS

__all__ = [
    "continuous_quality", "ergodic_moments_table", "history_figure", "impulse_comparison",
    "impulse_comparison_figure", "is_continuous", "policy_comparison", "policy_comparison_figure",
    "quality_table", "risky_steady_state_table",
]

#: Order of the headline aggregates in tables and figures (others follow as recorded).
_HEADLINE = ("K", "Y", "C", "pi", "r", "w")


def is_continuous(solution) -> bool:
    """Whether ``solution`` was solved with continuous savings choices."""
    return isinstance(getattr(solution, "problem", None), SavingsProblem)


def _num(x):
    x = float(np.nan if x is None else x)
    return x if math.isfinite(x) else None


# ---- policy functions --------------------------------------------------------------------------
def policy_comparison(solution) -> pd.DataFrame:
    """Learned and EGM policies at the steady state, long format.

    One row per ``(wealth, income state, source)`` with ``source`` in ``{"learned", "egm"}``:
    ``wealth, income_state, income, source, savings`` (next wealth ``a'``), ``consumption``,
    ``cash_on_hand`` and the gaps ``savings_gap, consumption_gap`` (learned minus EGM, the same
    on both rows of a state). The learned policy is the one played at date 0 of a noise-free
    rollout from the steady-state distribution
    (:func:`~hank_mfg.analysis.continuous_report.steady_state_policies`).
    """
    pol = steady_state_policies(solution)
    a, e = pol["a_grid"], pol["e_grid"]
    n_a, n_e = a.shape[0], e.shape[0]
    wealth = np.repeat(a, n_e)
    state = np.tile(np.arange(n_e), n_a)
    income = np.tile(e, n_a)
    gap_a = (pol["learned_savings"] - pol["egm_savings"]).reshape(-1)
    gap_c = (pol["learned_consumption"] - pol["egm_consumption"]).reshape(-1)
    frames = []
    for source in ("learned", "egm"):
        frames.append(pd.DataFrame(dict(
            wealth=wealth, income_state=state, income=income, source=source,
            savings=pol[f"{source}_savings"].reshape(-1),
            consumption=pol[f"{source}_consumption"].reshape(-1),
            cash_on_hand=pol["cash_on_hand"].reshape(-1),
            savings_gap=gap_a, consumption_gap=gap_c)))
    return pd.concat(frames, ignore_index=True)


def policy_comparison_figure(table: pd.DataFrame) -> Figure:
    """Net saving ``a'(a, e) - a`` and consumption against wealth, learned (solid) and EGM
    (dashed), one colour per income state, and the consumption gap (learned minus EGM), from
    :func:`policy_comparison`."""
    fig = Figure(figsize=(14, 3.8), layout="constrained")
    axes = fig.subplots(1, 3)
    for i, g in table.groupby("income_state"):
        label = f"e{i} = {g['income'].iloc[0]:.3g}"
        for source, ls in (("learned", "-"), ("egm", "--")):
            s = g[g["source"] == source]
            axes[0].plot(s["wealth"], s["savings"] - s["wealth"], ls=ls, color=f"C{i}", lw=1.2,
                         label=f"{label} ({source})")
            axes[1].plot(s["wealth"], s["consumption"], ls=ls, color=f"C{i}", lw=1.2)
        s = g[g["source"] == "learned"]
        axes[2].plot(s["wealth"], s["consumption_gap"], color=f"C{i}", lw=1.2, label=label)
    axes[0].set_ylabel("net saving a'(a, e) - a")
    axes[1].set_ylabel("consumption c(a, e)")
    axes[2].set_ylabel("c learned - c EGM")
    axes[2].axhline(0.0, color="grey", lw=0.6)
    for ax, title in zip(axes, ("net saving", "consumption", "consumption gap")):
        ax.set_xlabel("wealth a")
        ax.set_title(title)
    axes[0].legend(fontsize=6)
    fig.suptitle("policy at the steady state: learned (solid) and EGM (dashed)")
    return fig


# ---- impulse responses -------------------------------------------------------------------------
def _ordered(names) -> list:
    names = list(names)
    return [v for v in _HEADLINE if v in names] + [v for v in names if v not in _HEADLINE]


def _response_scales(steady_state) -> tuple[dict, dict]:
    """``(units, factor)`` of every steady-state aggregate: its response unit
    (:func:`~hank_mfg.analysis.irf.response_units`: bp for rates, percent for quantities,
    percentage points where the steady state is zero) and the factor that turns a level
    deviation into it."""
    values = {k: float(v) for k, v in steady_state.values.items()}
    declared = response_units(steady_state)
    units, factor = {}, {}
    for k in dict.fromkeys([*values, *declared]):
        unit = declared.get(k, "percent")
        if unit == "bp":
            units[k], factor[k] = "bp", 1e4
        elif unit == "percent" and abs(values.get(k, 0.0)) > 1e-8:
            units[k], factor[k] = "percent", 100.0 / values[k]
        else:
            units[k], factor[k] = "pp", 100.0
    return units, factor


def impulse_comparison(solution, size: float = 0.01, *, T: int = 40,
                       steady_state=None, T_transition: int = IRF_TRANSITION_T) -> pd.DataFrame:
    """The learned response to a one-time innovation ``size`` of each of the model's shocks
    beside the perfect-foresight transition to the same path ``size * rho^t``.

    Columns ``shock, date, variable, unit, learned, perfect_foresight, gap_share_of_peak``:
    responses over ``T`` dates in the units of :func:`hank_mfg.mit_responses` (``unit``:
    ``percent`` deviation from the steady state for quantities, ``bp`` for rates, ``pp``
    (percentage points) for an aggregate whose steady state is zero, such as log TFP ``z``),
    and ``|learned - perfect foresight|`` over the largest ``|perfect foresight|``
    (:func:`~hank_mfg.analysis.continuous_report.irf_comparison`: no other noise; the
    transition runs ``T_transition`` dates, 300 by default, so that its end does not move
    these). Variables: every aggregate both record whose perfect-foresight response is not
    zero (above a millionth of ``size`` in levels), headline ones (``K, Y, C, pi, r, w``)
    first.

    Args:
        steady_state: the model's steady state (default: the one the solution was built
            from, else solved here).
    """
    if steady_state is None:
        steady_state = getattr(solution.compiled(), "steady_state", None)
    if steady_state is None:
        steady_state = solve_steady_state(solution.model)
    comp = irf_comparison(solution, size, T=T, steady_state=steady_state,
                          T_transition=T_transition)
    units, factor = _response_scales(steady_state)
    frames = []
    for shock, by_var in comp.items():
        for v in _ordered(by_var):
            d = by_var[v]
            f = factor.get(v, 100.0)
            frames.append(pd.DataFrame(dict(
                shock=shock, date=np.arange(T), variable=v, unit=units.get(v, "pp"),
                learned=f * np.asarray(d["learned"], dtype=float),
                perfect_foresight=f * np.asarray(d["perfect_foresight"], dtype=float),
                gap_share_of_peak=d["gap_share_of_peak"])))
    return pd.concat(frames, ignore_index=True)


def impulse_comparison_figure(table: pd.DataFrame, *, size: float | None = None,
                              variables=None, n_cols: int = 5) -> Figure:
    """Learned (solid) and perfect-foresight (dashed) responses from
    :func:`impulse_comparison`: one row of panels per shock, in the table's units.

    ``variables``: the panels of each row (default: the headline aggregates ``K, Y, C, pi,
    r, w`` that respond, else the first ``n_cols`` that do; the shocks' own paths are left
    out). ``size``: the innovation, named in the title with the shocks.
    """
    shocks = list(dict.fromkeys(table["shock"]))
    rows = []
    for s in shocks:
        have = [v for v in dict.fromkeys(table.loc[table["shock"] == s, "variable"])
                if v not in shocks]
        if variables is not None:
            names = [v for v in variables if v in have]
        else:
            names = [v for v in _HEADLINE if v in have] or have[:n_cols]
        rows.append(names or [s])
    n_col = max(len(r) for r in rows)
    fig = Figure(figsize=(2.9 * n_col, 2.5 * len(shocks) + 0.4), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(shocks), n_col, squeeze=False))
    for i, (shock, names) in enumerate(zip(shocks, rows)):
        sub = table[table["shock"] == shock]
        for j in range(n_col):
            ax = axes[i, j]
            if j >= len(names):
                ax.remove()
                continue
            g = sub[sub["variable"] == names[j]]
            ax.plot(g["date"], g["learned"], "-", marker=".", ms=3, label="learned")
            ax.plot(g["date"], g["perfect_foresight"], "--", label="perfect foresight")
            ax.axhline(0.0, color="grey", lw=0.6)
            ax.set_title(f"{_LABELS.get(names[j], names[j])} ({shock} shock)", fontsize=10)
            ax.set_xlabel("periods after the shock")
            unit = g["unit"].iloc[0] if "unit" in g and len(g) else None
            ax.set_ylabel(_UNIT_LABELS.get(unit, "deviation from steady state"))
        axes[i, 0].legend(fontsize=7)
    what = ", ".join(shocks)
    innovation = "a one-time innovation" if size is None else f"a one-time innovation of {size:.4g}"
    import textwrap

    title = (f"responses to {innovation} to {what} at date 0 (each decaying at its rho): "
             "learned (solid), perfect foresight (dashed)")
    fig.suptitle("\n".join(textwrap.wrap(title, int(13 * 2.9 * n_col))), fontsize=10)
    return fig


# ---- ergodic moments ---------------------------------------------------------------------------
def ergodic_moments_table(solution, *, T: int = 2000, burn_in: int = 200, n_paths: int = 4,
                          seed: int = 1, variables=None, first_order: bool = True,
                          T_transition: int = IRF_TRANSITION_T) -> pd.DataFrame:
    """Business-cycle moments of the learned economy beside the first-order solution's, tidy:
    ``moment`` (``mean``, ``sd``, ``corr``), ``variable``, ``other`` (the second variable of a
    correlation, else missing), ``value`` and its Monte Carlo standard error ``se``, from
    :func:`~hank_mfg.analysis.aggregate_risk.ergodic_moments` over ``n_paths`` simulations of
    ``T`` dates after ``burn_in`` (pooled); ``first_order``: the same moment of the linear
    (sequence-space) solution (:func:`~hank_mfg.analysis.aggregate_risk.first_order_moments`;
    ``nan`` where the economy has none, e.g. an aggregate Markov chain, or with
    ``first_order=False``; its responses over ``T_transition`` dates)."""
    mom = ergodic_moments(solution, T=T, burn_in=burn_in, n_paths=n_paths, seed=seed,
                          variables=variables)
    lin = {"mean": {}, "sd": {}, "corr": {}}
    if first_order and solution.compiled().chain is None:
        lin = first_order_moments(solution, variables=list(mom["sd"]),
                                  T_transition=T_transition)
    rows = [dict(moment=m, variable=v, other=None, value=x, se=mom["se"][m][v],
                 first_order=lin[m].get(v, np.nan))
            for m in ("mean", "sd") for v, x in mom[m].items()]
    rows += [dict(moment="corr", variable=x, other=y, value=c, se=mom["se"]["corr"][(x, y)],
                  first_order=lin["corr"].get((x, y), np.nan))
             for (x, y), c in mom["corr"].items()]
    return pd.DataFrame(rows, columns=["moment", "variable", "other", "value", "se",
                                       "first_order"])


def risky_steady_state_table(solution, **kwargs) -> pd.DataFrame:
    """What aggregate risk does to the economy's level, one row per aggregate:
    ``variable, unit`` (of the gaps: ``percent`` of the steady-state level, ``bp`` for rates,
    ``pp`` for an aggregate whose steady state is zero), ``deterministic`` (the steady state
    without aggregate risk), ``ergodic_mean`` and its Monte Carlo ``se``, ``mean_gap`` and
    ``mean_gap_se`` (the ergodic mean against the steady state, in ``unit``), ``risky`` (the
    risky steady state: no shock realised, risk expected), ``risky_gap`` and ``rest_drift``
    (its change over the last tenth of the path that reached it, in ``unit``; large: not yet at
    rest). Keyword arguments go to
    :func:`~hank_mfg.analysis.aggregate_risk.risky_steady_state` (docs/theory.md §12.10)."""
    out = risky_steady_state(solution, **kwargs)
    units = response_units(solution.compiled().steady_state)
    rows = []
    for v, x0 in out["deterministic"].items():
        unit = units.get(v, "pp" if abs(x0) < 1e-8 else "percent")
        def gap(x, v=v, x0=x0, unit=unit):
            with jax.enable_x64(True):      # a gap of 1e-4 of a level needs float64
                return float(deviations({v: x0}, {v: x}, (v,), {v: unit})[v])

        scale = abs(gap(x0 + 1.0))          # the unit's change per unit of the level
        risky = None if out["risky"] is None else out["risky"][v]
        rows.append(dict(
            variable=v, unit=unit, deterministic=x0, ergodic_mean=out["mean"][v],
            se=out["se"][v], mean_gap=gap(out["mean"][v]), mean_gap_se=scale * out["se"][v],
            risky=risky, risky_gap=np.nan if risky is None else gap(risky),
            rest_drift=np.nan if risky is None else scale * out["rest_drift"][v]))
    return pd.DataFrame(rows, columns=["variable", "unit", "deterministic", "ergodic_mean", "se",
                                       "mean_gap", "mean_gap_se", "risky", "risky_gap",
                                       "rest_drift"])


# ---- quality -----------------------------------------------------------------------------------
def certify_first_order(solution, paths: int = 4) -> dict | None:
    """``hm.first_order_certificate(solution, paths=paths)`` for a solution whose shocks are
    innovations (``None`` for an economy whose aggregate state is a Markov chain, whose
    impulses are not a small innovation, or one without aggregate shocks): the impulse
    responses, and the gaps along ``paths`` noisy paths."""
    from ..metrics.first_order import first_order_certificate

    problem = solution.compiled()
    if problem.chain is not None or not problem.noise_names:
        return None
    return first_order_certificate(solution, paths=paths)


def continuous_quality(history, *, n_paths: int | None = None,
                       thresholds: ContinuousThresholds | None = None,
                       first_order: dict | None = None) -> dict:
    """The quality verdicts of a continuous run's last evaluation, JSON-ready (``summary.json``).

    Checks (:func:`~hank_mfg.analysis.continuous_report.continuous_quality_verdicts`): first,
    when ``first_order`` (:func:`certify_first_order`) is given, the first-order certificate below
    0.1 of the peak response and, when it was taken along paths, its root-mean-square gap
    there below 0.25 of the learned aggregates' standard deviation; then relative exploitability below 1e-3, mean log10 Euler error
    below -3, largest market residual below 1e-6.

    Returns:
        ``{"passed", "warnings": [sentence, ...], "checks": {check: {"value", "threshold",
        "passed", "message"}}, "iteration", "exploitability", "relative_exploitability",
        "consumption_equivalent", "euler_mean_log10", "euler_max_log10", "market_residual",
        "n_paths"}``, and with ``first_order`` its ``"first_order": {"gap": {variable: gap},
        "by_innovation": {innovation: {variable: gap}}, "wealth_groups": {innovation: largest
        gap of a wealth group's consumption}, "paths": {"rms", "max", "wealth_groups"}}``
        (the last when taken along paths); non-finite numbers are ``None``.
    """
    gap = None if first_order is None else first_order["max"]
    path_gap = None if first_order is None else first_order.get("path_max")
    last, verdicts = history_verdicts(history, thresholds, first_order_gap=gap,
                                      first_order_path_gap=path_gap)
    extra = {} if first_order is None else {"first_order": dict(
        gap={k: _num(v) for k, v in first_order["gap"].items()},
        by_innovation={n: {k: _num(v) for k, v in g.items()}
                       for n, g in first_order["by_innovation"].items()},
        wealth_groups={n: _num(v) for n, v in first_order.get("groups", {}).items()},
        **({} if "paths" not in first_order else {"paths": dict(
            rms={k: _num(v) for k, v in first_order["paths"]["rms"].items()},
            max={k: _num(v) for k, v in first_order["paths"]["max"].items()},
            wealth_groups=[_num(v) for v in first_order["paths"]["groups"]])}))}
    return dict(**extra,
        passed=all(v.passed for v in verdicts),
        warnings=[v.message for v in verdicts if not v.passed],
        checks={v.check: dict(value=_num(v.value), threshold=float(v.threshold),
                              passed=bool(v.passed), message=v.message) for v in verdicts},
        iteration=int(last["iteration"]), exploitability=_num(last["exploitability"]),
        relative_exploitability=_num(last["relative_exploitability"]),
        consumption_equivalent=_num(last.get("consumption_equivalent")),
        euler_mean_log10=_num(last["euler_mean"]), euler_max_log10=_num(last["euler_max"]),
        market_residual=_num(last["market_residual"]),
        n_paths=None if n_paths is None else int(n_paths))


def quality_table(solution, quality: dict | None = None) -> pd.DataFrame:
    """One row: ``method, choice, horizon, iteration, exploitability, relative_exploitability,
    consumption_equivalent, policy_return, best_response_return, euler_mean_log10,
    euler_max_log10, market_residual, quality_passed, quality_warnings`` (the failing checks'
    sentences joined by ``"; "``), from the run's last evaluation."""
    q = continuous_quality(solution.history) if quality is None else quality
    last = solution.history.iloc[-1]
    return pd.DataFrame([dict(
        method=solution.method, choice="continuous", horizon=int(solution.compiled().horizon),
        iteration=int(last["iteration"]), exploitability=float(last["exploitability"]),
        relative_exploitability=float(last["relative_exploitability"]),
        consumption_equivalent=float(last.get("consumption_equivalent", np.nan)),
        policy_return=float(last["policy_return"]),
        best_response_return=float(last["best_response_return"]),
        euler_mean_log10=float(last["euler_mean"]), euler_max_log10=float(last["euler_max"]),
        market_residual=float(last["market_residual"]), quality_passed=bool(q["passed"]),
        quality_warnings="; ".join(q["warnings"]))])


def history_figure(history: pd.DataFrame, thresholds: ContinuousThresholds | None = None) -> Figure:
    """Training history: relative exploitability (log scale), mean and largest Euler errors and
    the market residual against the iteration, with the pass marks dotted."""
    th = ContinuousThresholds() if thresholds is None else thresholds
    fig = Figure(figsize=(12, 3.4), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    it = history["iteration"]
    ax1.semilogy(it, np.abs(history["relative_exploitability"]), marker=".")
    ax1.axhline(th.relative_exploitability, color="grey", ls=":")
    ax1.set_title("relative exploitability")
    ax2.plot(it, history["euler_mean"], marker=".", label="mean")
    ax2.plot(it, history["euler_max"], marker=".", label="largest")
    ax2.axhline(th.euler_mean_log10, color="grey", ls=":")
    ax2.set_title("Euler errors (log10)")
    ax2.legend(fontsize=7)
    floor = 1e-17  # a residual of exactly zero (prices in closed form) is drawn here
    ax3.semilogy(it, np.maximum(np.abs(history["market_residual"]), floor), marker=".")
    ax3.axhline(th.market_residual, color="grey", ls=":")
    ax3.set_title("largest market residual (0 drawn at 1e-17)")
    for ax in (ax1, ax2, ax3):
        ax.set_xlabel("iteration")
    return fig

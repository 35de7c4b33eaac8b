"""Matplotlib figures of solutions (object-oriented API: each function returns a
``matplotlib.figure.Figure``; nothing touches pyplot's global state or shows a window).

Save with ``fig.savefig("x.png", dpi=120)`` (Agg renderer, works headless).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import analysis as an
from ..solvers.steady_state import SteadyState
from .tables import _distributions, _eps, _horizon, continuous_solution, resolve, savings_paths

__all__ = ["wealth_figure", "distribution_heatmaps", "impulse_figure", "anticipation_figure",
           "policy_figure", "response_horizon"]

_LABELS = dict(z="log TFP z", K="capital K", L="labour L", Y="output Y", C="consumption C",
               r="interest rate r", w="wage w", share="consumption share", gini="wealth Gini",
               top10="top-10% share", top1="top-1% share", bottom50="bottom-50% share",
               at_limit="mass at borrowing limit", pi="inflation pi", i="nominal rate i",
               rstar="policy shock r*", N="effective labour N", A="assets A",
               Div="dividends Div", Tax="taxes Tax", r_paid="return paid r_{t-1}")
_UNIT_LABELS = dict(percent="% deviation", bp="basis points", pp="percentage points")


def wealth_figure(source, policy=None, *, model=None, date=None, key=None) -> Figure:
    """Wealth density by income state (mass per grid point of each conditional distribution)
    and the Lorenz curve, for one distribution (sources as in :func:`hank_mfg.wealth_distribution`;
    a rollout is shown at ``date``, default ``T - 1``)."""
    dates = None if date is None else (int(date),)
    if date is None and not isinstance(source, (SteadyState, np.ndarray)):
        try:
            dates = (_horizon(source, policy, "wealth_figure") - 1,)
        except TypeError:
            dates = None
    a, e, items = _distributions(source, policy, model, dates, key, 1, "wealth_figure")
    labels, mu = items[0]
    mu = np.asarray(mu, dtype=float)
    a_np = np.asarray(a, dtype=float)
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    for i in range(mu.shape[1]):
        col = mu[:, i]
        if col.sum() > 0:
            ax1.plot(a_np, col / col.sum(), marker=".", ms=3, lw=1, label=f"e{i} = {float(e[i]):.3g}")
    ax1.set_xscale("symlog", linthresh=max(1e-2, float(a_np[1] - a_np[0])))
    ax1.set_yscale("log")
    ax1.set_ylim(bottom=1e-6)
    ax1.set_xlabel("wealth a")
    ax1.set_ylabel("mass per grid point (within income state, log)")
    ax1.set_title("wealth distribution by income state")
    ax1.legend(fontsize=8)
    F, L = an.lorenz_points(a, an.wealth_marginal(jnp.asarray(mu)))
    s = an.wealth_stats(a, an.wealth_marginal(jnp.asarray(mu)))
    ax2.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--", label="equality")
    gini = (f"Gini {float(s.gini):.3f}" if np.isfinite(float(s.gini))
            else "Gini undefined: negative wealth")
    ax2.plot(np.asarray(F), np.asarray(L), lw=1.5, label=f"Lorenz ({gini})")
    ax2.set_xlabel("population share (poorest first)")
    ax2.set_ylabel("wealth share")
    ax2.set_title("Lorenz curve")
    ax2.set_xlim(0, 1)
    ax2.set_ylim(min(0.0, float(np.min(L))), 1)
    ax2.legend(fontsize=8)
    if labels:
        fig.suptitle(", ".join(f"{k} {v}" for k, v in labels.items()))
    return fig


def distribution_heatmaps(source, policy=None, *, key=None, path: int = 0) -> Figure:
    """The paper's heatmaps of the distribution over (wealth, income) at ``t = 0, T/2, T-1``
    beside the paths of ``r`` and ``w`` (one noise path: ``key``, ``path``; ``None`` = no-shock
    path; a solution with continuous savings choices shows its own path and the prices it
    has of ``r, w``). Colour: mass per state (``log10``, masses below ``1e-8`` clipped)."""
    b = path if key is not None else 0
    n_paths = path + 1 if key is not None else 1
    sp = continuous_solution(source)
    if sp is not None:  # continuous savings choices: the learned economy's own path
        problem, pol = sp
        sim = savings_paths(problem, pol, key, n_paths)
        a_grid, mus = problem.a_grid, sim.mu[b]
        prices = {k: sim.agg[k][b] for k in ("r", "w") if k in sim.agg}
    else:
        mf, pol = resolve(source, policy, where="distribution_heatmaps")
        panel, traj = an.simulate_paths(mf, pol, _eps(mf, key, n_paths))
        a_grid = mf.a_grid
        mus = traj.mu[b].reshape(mf.horizon, mf.n_wealth, mf.n_income)
        prices = dict(r=panel.r[b], w=panel.w[b])
    T, n_a, n_e = mus.shape
    dates = (0, T // 2, T - 1)
    fig = Figure(figsize=(15, 4.2), layout="constrained")
    axes = fig.subplots(1, 4, gridspec_kw=dict(width_ratios=[1, 1, 1, 1.4]))
    a = np.asarray(a_grid, dtype=float)
    im = None
    for ax, t in zip(axes[:3], dates):
        mu = np.asarray(mus[t], dtype=float)
        im = ax.imshow(np.log10(np.maximum(mu, 1e-8)), aspect="auto", origin="lower",
                       cmap="viridis", vmin=-8, vmax=0, interpolation="nearest")
        ax.set_xticks(range(n_e))
        ax.set_xlabel("income state e")
        ticks = np.unique(np.linspace(0, n_a - 1, 6).astype(int))
        ax.set_yticks(ticks)
        ax.set_yticklabels([f"{a[i]:.3g}" for i in ticks])
        ax.set_ylabel("wealth a (grid)")
        ax.set_title(f"distribution at t = {t}")
    fig.colorbar(im, ax=axes[:3], label="log10 mass", shrink=0.9)
    ax = axes[3]
    t = np.arange(T)
    labels = {"r": "interest rate r", "w": "wage w"}
    for i, (name, x) in enumerate(prices.items()):
        axis = ax if i == 0 else ax.twinx()
        axis.plot(t, np.asarray(x), color=f"C{i}", label=name)
        axis.set_ylabel(labels[name], color=f"C{i}")
    ax.set_xlabel("date t")
    ax.set_title("prices along the path")
    return fig


def response_horizon(responses: pd.DataFrame, variables=None, *, tol: float = 0.01,
                     at_least: int = 12, at_most: int = 60, value: str = "response",
                     date: str = "t") -> int:
    """Dates worth plotting of impulse responses: through the last date at which some
    response still exceeds ``tol`` of its own peak (the responses have died out after it),
    at least ``at_least`` and at most ``at_most`` dates, and no more than the table has.

    ``responses``: a tidy table with ``variable``, ``date`` (default ``t``) and ``value``
    (default ``response``) columns (:func:`hank_mfg.mit_responses`,
    :func:`hank_mfg.impulse_responses`); ``variables``: those considered (default all).
    """
    df = responses if variables is None else responses[responses["variable"].isin(variables)]
    n_dates = int(df[date].max()) + 1 if len(df) else 0
    last = 0
    for _, g in df.groupby(["variable", "kind"] if "kind" in df else "variable", sort=False):
        x = np.abs(np.asarray(g.sort_values(date)[value], dtype=float))
        x = np.where(np.isfinite(x), x, 0.0)
        peak = float(np.max(x)) if x.size else 0.0
        if peak > 0.0:
            last = max(last, int(np.flatnonzero(x > tol * peak)[-1]) + 1)
    return int(min(n_dates, max(at_least, min(at_most, last + 1))))


def impulse_figure(responses: pd.DataFrame, other: pd.DataFrame | None = None,
                   variables=None, *, horizon: int | None = None, title: str | None = None,
                   n_cols: int = 3) -> Figure:
    """Overlay of impulse responses: every ``kind`` in ``responses`` (e.g. generalised,
    no-noise) and in ``other`` (e.g. :func:`hank_mfg.mit_responses`), one panel per variable,
    at most ``n_cols`` panels a row.

    ``variables``: the panels, in order (those missing from the tables are skipped); default
    ``K, Y, C, pi, r, w`` as far as the tables have them. A model's headline variables are
    :func:`hank_mfg.reports.response_variables` (HANK: ``Y, C, pi, r, w``; Huggett:
    ``C, r``). ``horizon``: the dates shown, ``0..horizon-1`` (default all;
    :func:`response_horizon` finds where the responses have died out). ``title``: the
    figure's title; name the shock and its size there (e.g. ``"rstar = -0.0025 x 0.61^t"``).
    """
    df = responses if other is None else pd.concat([responses, other], ignore_index=True)
    if variables is None:
        variables = ("K", "Y", "C", "pi", "r", "w")
    variables = [v for v in variables if v in set(df["variable"])]
    if not variables:
        raise ValueError(f"impulse_figure.variables: none of them is in the table; it has "
                         f"{sorted(set(df['variable']))}")
    if horizon is not None:
        if int(horizon) < 2:
            raise ValueError(f"impulse_figure.horizon must be at least 2; got {horizon}")
        df = df[df["t"] < int(horizon)]
    n_cols = max(1, min(int(n_cols), len(variables)))
    n_rows = -(-len(variables) // n_cols)
    fig = Figure(figsize=(3.3 * n_cols, 2.7 * n_rows + (0.5 if title else 0.0)),
                 layout="constrained")
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False)).reshape(-1)
    styles = dict(generalized="-", no_noise="--", mit=":")
    single = len(set(df["kind"])) == 1  # one kind of response: a solid line
    for ax in axes[len(variables):]:
        ax.remove()
    for i, (ax, v) in enumerate(zip(axes, variables)):
        sub = df[df["variable"] == v]
        kinds = list(dict.fromkeys(sub["kind"]))
        for kind, g in sub.groupby("kind", sort=False):
            ax.plot(g["t"], g["response"], ls="-" if single else styles.get(kind, "-"),
                    marker=".", ms=3, label=kind)
        ax.axhline(0.0, color="grey", lw=0.6)
        ax.set_title(_LABELS.get(v, v))
        ax.set_xlabel("periods after the shock" if "mit" in kinds else "date t")
        ax.set_ylabel(_UNIT_LABELS[sub["unit"].iloc[0]])
        if not single and i == 0:
            ax.legend(fontsize=7)
    if title:
        import textwrap

        # about 13 characters of a 10-point title per inch of figure
        fig.suptitle("\n".join(textwrap.wrap(title, int(13 * 3.3 * n_cols))), fontsize=10)
    return fig


def anticipation_figure(table: pd.DataFrame) -> Figure:
    """Anticipatory consumption (from :func:`hank_mfg.anticipatory_consumption`): the mean
    consumption share and level against time to the end of the horizon, and the share against
    the latest change of the interest rate, one colour per method."""
    fig = Figure(figsize=(14, 4.0), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    for i, (name, g) in enumerate(table.groupby("method", sort=False)):
        m = g.groupby("time_to_end")[["share", "consumption"]].mean().sort_index()
        ax1.plot(m.index, m["share"], marker=".", color=f"C{i}", label=name.upper())
        ax2.plot(m.index, m["consumption"], marker=".", color=f"C{i}", label=name.upper())
        h = g[~g["terminal"] & (g["t"] > 0)]
        ax3.scatter(1e4 * h["dr"], h["share"], s=8, alpha=0.6, color=f"C{i}", label=name.upper())
    for ax in (ax1, ax2):
        ax.invert_xaxis()
        ax.set_xlabel("periods to the end of the horizon (T - 1 - t)")
        ax.legend(fontsize=8)
    ax1.set_ylabel("mean consumption share c / (m - a_0)")
    ax1.set_title("consumption share")
    ax2.set_ylabel("aggregate consumption C")
    ax2.set_title("consumption level")
    ax3.set_xlabel("latest change of r, r_t - r_(t-1) (bp)")
    ax3.set_ylabel("mean consumption share")
    ax3.set_title("share against the price history")
    ax3.legend(fontsize=8)
    return fig


def policy_figure(table: pd.DataFrame, *, date=None) -> Figure:
    """The paper's per-income policy plots: value, consumption share, consumption and reward
    against wealth, one line per income state (from :func:`hank_mfg.policy_table`, grid rows;
    ``date`` picks one date when the table has several). The share panel plots the expected
    consumption share of cash on hand above the borrowing limit, ``c / (m - a_0)`` (the expected
    action when the actions are shares)."""
    df = table[table["on_grid"]]
    if date is not None:
        df = df[df["date"] == date]
    elif df["date"].notna().any() and df["date"].nunique() > 1:
        df = df[df["date"] == df["date"].min()]
    fig = Figure(figsize=(14, 3.6), layout="constrained")
    axes = fig.subplots(1, 4)
    what = [("value", "value V(a, e)"), ("share", "consumption share c / (m - a_0)"),
            ("consumption", "consumption c(a, e)"), ("reward", "expected reward")]
    for ax, (col, lab) in zip(axes, what):
        for i, g in df.groupby("income_state"):
            ax.plot(g["wealth"], g[col], lw=1.2, label=f"e{i} = {g['income'].iloc[0]:.3g}")
        ax.set_xlabel("wealth a")
        ax.set_ylabel(lab)
        ax.set_title(lab)
    axes[0].legend(fontsize=7)
    d = df["date"].iloc[0] if len(df) else pd.NA
    fig.suptitle("steady state" if pd.isna(d) else f"policy at date t = {int(d)}")
    return fig

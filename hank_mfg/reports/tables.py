"""Tidy pandas tables of a solution: panels, wealth distributions, impulse responses,
anticipatory consumption, policy functions and solution quality (docs/theory.md §11).

Every function takes a *source*: a :class:`~hank_mfg.Solution` (its model and policy), or a model
/ :class:`~hank_mfg.MeanField` together with ``policy=`` (a trained policy or an ``n_s x n_k``
table); distribution and policy tables also accept a :class:`~hank_mfg.SteadyState` (it
carries its model). Where a rollout is needed and no ``key`` is given, the *no-shock path* is used
(all common-noise innovations zero), so results are deterministic.

Statistic definitions (atoms on grid points) are in :mod:`hank_mfg.analysis.distribution`.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from .. import analysis as an
from ..analysis.irf import check_mit_arguments
from ..analysis.policy import quality_verdicts
from ..metrics.euler import euler_errors
from ..metrics.exploitability import as_policy, exploitability
from ..metrics.first_order import impulse
from ..model.base import AbstractHetAgentModel
from ..model.economy import AbstractEconomy
from ..operators.compile import compile_model
from ..operators.meanfield import MeanField
from ..solvers.continuous import (
    SavingsProblem, path_values, period_utility, savings_rollout_batch, stationary_policy_value,
)
from ..solvers.rollout import Trajectory, policy_values, rollout
from ..solvers.rspg import Solution
from ..solvers.steady_state import SteadyState
from ..solvers.transition import TransitionPath

_rollout = eqx.filter_jit(rollout)
_policy_values = eqx.filter_jit(policy_values)
_stationary_policy_value = eqx.filter_jit(stationary_policy_value)

__all__ = [
    "simulate", "wealth_distribution", "lorenz_curve", "impulse_responses", "mit_responses",
    "anticipatory_consumption", "policy_table", "solution_quality", "resolve", "policy_dates",
    "verdict_table", "quality_summary",
]


# ---- sources -------------------------------------------------------------------------------------
def continuous_solution(source):
    """``(problem, policy)`` of a Solution with continuous savings choices (its compiled
    :class:`SavingsProblem` and learned policy), else ``None``."""
    if isinstance(source, Solution) and (
            (isinstance(source.model, AbstractEconomy) and not source.model.discrete_actions)
            or isinstance(source.problem, SavingsProblem)):
        return source.compiled(), source.policy
    return None


_savings_batch = eqx.filter_jit(savings_rollout_batch)


def savings_paths(problem: SavingsProblem, policy, key, n_paths: int, T: int | None = None,
                  z_shock=None):
    """The learned economy rolled out along ``n_paths`` noise paths (``key``; ``None``: the
    no-shock path, repeated), a batched :class:`~hank_mfg.solvers.continuous.SavingsPath`;
    ``z_shock``: deterministic innovations ``(T, n_noise)`` on every path (an impulse)."""
    T = problem.horizon if T is None else int(T)
    if key is None:
        eps = jnp.zeros((n_paths, T, problem.n_noise), problem.a_grid.dtype)
    else:
        eps = problem.sample_noise(key=key, n_paths=n_paths, T=T)
    return _savings_batch(problem, policy, eps, None, z_shock)


def savings_wealth_moments(problem: SavingsProblem, mu) -> dict:
    """The panel's wealth moments (:func:`hank_mfg.analysis.wealth_moments`) of distributions
    ``mu (..., n_a, n_e)``, each ``(...)``."""
    flat = mu.reshape((-1,) + mu.shape[-2:])
    out = jax.vmap(lambda m: an.wealth_moments(problem.a_grid, m))(flat)
    return {k: v.reshape(mu.shape[:-2]) for k, v in out.items()}


def savings_cash_share(problem: SavingsProblem, path):
    """Cash on hand ``m = R a + y + we n`` and the consumption share of it above the borrowing
    limit ``c / (m - a_0)`` along a (batched) path, both ``(..., T, n_a, n_e)``."""
    a, b = problem.a_grid, path.budget
    m = (b.R[..., None, None] * a[:, None] + b.y[..., None, :] + b.we[..., None, :] * path.n)
    room = m - a[0]
    return m, jnp.where(room > 0, path.c / jnp.where(room > 0, room, 1.0), 1.0)


def _horizon(source, policy, where: str) -> int:
    """The rollout length of a source (a continuous solution's or a mean field's)."""
    sp = continuous_solution(source)
    return sp[0].horizon if sp is not None else resolve(source, policy, where=where)[0].horizon


def resolve(source, policy=None, *, where: str = "report"):
    """``(mf, policy)`` from a Solution, or a model / MeanField plus ``policy``."""
    if isinstance(source, Solution):
        if continuous_solution(source) is not None:
            raise TypeError(f"{where}: {type(source.model).__name__} was solved with continuous "
                            "savings choices, which this report does not take; its responses "
                            "are hm.learned_irf(solution, shock) (news: "
                            "hm.learned_news_responses), its certificates hm.exploitability and "
                            "hm.first_order_certificate, its learned policy beside EGM's "
                            "hank_mfg.reports.continuous.policy_comparison(solution), and "
                            "hank-mfg report writes all of its tables")
        mf = compile_model(source.model)
        return mf, as_policy(source.policy if policy is None else policy, mf)
    if isinstance(source, MeanField):
        mf = source
    elif isinstance(source, AbstractHetAgentModel):
        mf = compile_model(source)
    elif isinstance(source, AbstractEconomy):
        raise TypeError(f"{where}: {type(source).__name__} is an economy, whose households "
                        "choose savings continuously: give its steady state "
                        "(hm.steady_state(model)) or a transition path with "
                        "return_distribution=True (with model=)")
    else:
        raise TypeError(f"{where}: expected a Solution, a model or a MeanField; "
                        f"got {type(source).__name__}")
    if policy is None:
        raise ValueError(f"{where}: a model needs policy= (a trained policy or an n_s x n_k table)")
    return mf, as_policy(policy, mf)


def _eps(mf: MeanField, key, n_paths: int, T: int | None = None):
    T = mf.horizon if T is None else int(T)
    if key is None:
        return jnp.zeros((n_paths, T), dtype=mf.a_s.dtype)
    return mf.sample_noise(key=key, n_paths=n_paths, T=T)


def _model_of(source, model):
    if model is not None:
        return model
    if isinstance(source, Solution):
        return source.model
    if isinstance(source, MeanField):
        return source.model
    if isinstance(source, AbstractHetAgentModel):
        return source
    return None


def _distributions(source, policy, model, dates, key, n_paths, where):
    """``(a_grid, e_grid, [(labels, mu (n_a, n_e))])`` for any distribution source."""
    if isinstance(source, SteadyState):
        model = source.model if model is None else model
        a, e = jnp.asarray(model.a_grid, dtype=float), jnp.asarray(model.e_grid, dtype=float)
        return a, e, [({}, source.mu)]
    if isinstance(source, TransitionPath):
        model = source.model if model is None else model
        if source.mu is None:
            raise ValueError(f"{where}: a TransitionPath has distributions only when solved with "
                             "return_distribution=True")
        a, e = jnp.asarray(model.a_grid, dtype=float), jnp.asarray(model.e_grid, dtype=float)
        T = source.mu.shape[0]
        dates = (0, T // 2, T - 1) if dates is None else dates
        return a, e, [({"date": int(t)}, source.mu[t]) for t in dates]
    if isinstance(source, (np.ndarray, jax.Array)):
        m = _model_of(None, model)
        if m is None:
            raise ValueError(f"{where}: a distribution array needs model= (for the grids)")
        a, e = jnp.asarray(m.a_grid, dtype=float), jnp.asarray(m.e_grid, dtype=float)
        return a, e, [({}, jnp.asarray(source).reshape(a.shape[0], e.shape[0]))]
    sp = continuous_solution(source)
    if sp is not None:
        problem, pol = sp
        T = problem.horizon
        dates = (0, T // 2, T - 1) if dates is None else tuple(int(t) for t in dates)
        mus = savings_paths(problem, pol, key, n_paths).mu
        return problem.a_grid, problem.e_grid, [
            ({"path": b, "date": t}, mus[b, t]) for b in range(mus.shape[0]) for t in dates]
    mf, pol = resolve(source, policy, where=where)
    T = mf.horizon
    dates = (0, T // 2, T - 1) if dates is None else tuple(int(t) for t in dates)
    _, traj = an.simulate_paths(mf, pol, _eps(mf, key, n_paths))
    out = []
    for b in range(traj.mu.shape[0]):
        for t in dates:
            mu = traj.mu[b, t].reshape(mf.n_wealth, mf.n_income)
            out.append(({"path": b, "date": t}, mu))
    return mf.a_grid, mf.e_grid, out


_STAT_COLUMNS = ["mean", "p10", "p25", "p50", "p75", "p90", "p99", "gini", "top10_share",
                 "top1_share", "bottom50_share", "at_limit"]


def _stat_row(s: an.WealthStats) -> dict:
    q = np.asarray(s.quantiles)
    return dict(mean=float(s.mean), p10=q[0], p25=q[1], p50=q[2], p75=q[3], p90=q[4], p99=q[5],
                gini=float(s.gini), top10_share=float(s.top10), top1_share=float(s.top1),
                bottom50_share=float(s.bottom50), at_limit=float(s.at_limit))


def _simulate_savings(problem, policy, *, key, n_paths, T) -> pd.DataFrame:
    path = savings_paths(problem, policy, key, n_paths, T)
    B, T_ = path.mu.shape[:2]
    cols = {"path": np.repeat(np.arange(B), T_), "t": np.tile(np.arange(T_), B)}
    names = [n for n in problem.noise_names if n not in path.agg]
    for j, name in enumerate(problem.noise_names):
        if name in names:
            cols[name] = np.asarray(path.z[..., j], dtype=float).reshape(-1)
    for k, v in path.agg.items():
        cols[k] = np.asarray(v, dtype=float).reshape(-1)
    for k, v in savings_wealth_moments(problem, path.mu).items():
        cols[k] = np.asarray(v, dtype=float).reshape(-1)
    return pd.DataFrame(cols)


# ---- tables --------------------------------------------------------------------------------------
def simulate(source, policy=None, *, key, n_paths: int = 8, T: int | None = None) -> pd.DataFrame:
    """Tidy panel of a population rolled forward along sampled common-noise paths.

    Args:
        source: Solution, or model / MeanField with ``policy``. key: PRNG key of the noise
            paths (``None``: the no-shock path). n_paths: number of paths ``B``.
        T: dates (default the model's horizon).

    Returns:
        DataFrame with one row per ``(path, t)``: ``z, K, L, Y, C, r, w, share`` and the wealth
        moments ``mean_wealth, gini, top10, top1, bottom50, p10, p50, p90, p99, at_limit``
        (see :class:`hank_mfg.analysis.Panel`). A solution with continuous savings choices: the
        aggregates it records (its prices, ``A``, ``C``, the exogenous variables, ...), the
        noise states by name (the shocks' deviations, then the announcements) and the same
        wealth moments.

    Example:
        >>> hm.simulate(sol, key=jax.random.key(0), n_paths=4).groupby("t")[["K", "r"]].mean()
    """
    sp = continuous_solution(source)
    if sp is not None:
        return _simulate_savings(*sp, key=key, n_paths=n_paths, T=T)
    mf, pol = resolve(source, policy, where="simulate")
    panel, _ = an.simulate_paths(mf, pol, _eps(mf, key, n_paths, T))
    B, T_ = panel.K.shape
    cols = {"path": np.repeat(np.arange(B), T_), "t": np.tile(np.arange(T_), B)}
    for f in an.PANEL_FIELDS:
        cols[f] = np.asarray(getattr(panel, f), dtype=float).reshape(-1)
    return pd.DataFrame(cols)


def wealth_distribution(source, policy=None, *, model=None, dates=None, key=None,
                        n_paths: int = 1, by_income: bool = True) -> pd.DataFrame:
    """Wealth-distribution table: mean, p10..p99, Gini, top 10%/1% and bottom 50% shares, mass at
    the borrowing limit — overall and by income state.

    Args:
        source: :class:`~hank_mfg.SteadyState` (its own model's grids); a
            :class:`~hank_mfg.TransitionPath` with distributions (``dates``); a
            distribution array ``(n_a, n_e)`` (``model=``); or a Solution / model + ``policy``,
            rolled out along ``n_paths`` paths (``key``; ``None`` = the no-shock path) and
            summarised at ``dates`` (default ``0, T//2, T-1``).
        by_income: add one row per income state (statistics of the conditional distribution).

    Returns:
        DataFrame: ``[path, date,] group`` (``"all"`` or ``"e<i>"``), ``income`` (level; NaN for
        ``all``), ``population`` (mass of the group) and the statistics ``mean, p10, p25, p50,
        p75, p90, p99, gini, top10_share, top1_share, bottom50_share, at_limit``. Quantiles are
        grid points ``min{a_i : F_i >= q}``; shares split the straddling atom; Gini is exact for
        atoms (definitions in :mod:`hank_mfg.analysis.distribution` and docs/validation.md).
        A group with households at negative wealth (a borrowing limit below zero, e.g.
        Huggett's) has NaN Gini and shares: shares of total wealth are defined for nonnegative
        wealth only (with debtors they can exceed one); a ``UserWarning`` says which groups.
    """
    a, e, items = _distributions(source, policy, model, dates, key, n_paths, "wealth_distribution")
    rows = []
    for labels, mu in items:
        mu = jnp.asarray(mu)
        s = an.wealth_stats(a, an.wealth_marginal(mu))
        rows.append(dict(labels, group="all", income=np.nan, population=float(jnp.sum(mu)),
                         **_stat_row(s)))
        if by_income:
            sb = an.stats_by_income(a, mu)
            for i in range(e.shape[0]):
                si = jax.tree_util.tree_map(lambda x: x[i], sb)
                rows.append(dict(labels, group=f"e{i}", income=float(e[i]),
                                 population=float(si.mass), **_stat_row(si)))
    df = pd.DataFrame(rows)
    _note_negative_wealth(df, a, "wealth_distribution")
    return df


def _note_negative_wealth(df: pd.DataFrame, a_grid, where: str) -> None:
    """Warn that the Gini and the shares of the groups with debtors are NaN, and why."""
    if float(np.asarray(a_grid)[0]) >= 0.0:
        return
    undefined = df[df["gini"].isna() & (df["population"] > 0)]
    if len(undefined):
        import warnings

        groups = ", ".join(dict.fromkeys(undefined["group"]))
        warnings.warn(
            f"{where}: gini, top10_share, top1_share and bottom50_share are NaN for {groups}: "
            f"these households hold negative wealth (borrowing limit {float(a_grid[0]):.6g}), "
            "and shares of total wealth are defined for nonnegative wealth only (with debtors "
            "they can exceed one); mean, quantiles and at_limit are unaffected",
            UserWarning, stacklevel=3)


def lorenz_curve(source, policy=None, *, model=None, date=None, key=None) -> pd.DataFrame:
    """Lorenz curve of wealth: ``population_share`` ``F_i`` and ``wealth_share`` ``L_i`` at each atom.

    Starts at ``(0, 0)`` and ends at ``(1, 1)``; join the points linearly (exact for atoms).
    ``wealth`` is the grid point whose atom each row has counted through; the first row, the
    origin before any atom, sits at the borrowing limit ``a_0`` (so ``a_0`` appears twice). For a
    rollout (Solution / model + policy) the distribution at ``date`` (default ``T - 1``) of the
    first path (``key``; ``None`` = no-shock path) is used; other sources as in
    :func:`wealth_distribution`.
    """
    dates = None if date is None else (int(date),)
    if date is None and not isinstance(source, (SteadyState, np.ndarray, jax.Array)):
        if isinstance(source, TransitionPath):
            dates = (source.T - 1,)
        else:
            dates = (_horizon(source, policy, "lorenz_curve") - 1,)
    a, _, items = _distributions(source, policy, model, dates, key, 1, "lorenz_curve")
    labels, mu = items[0]
    F, L = an.lorenz_points(a, an.wealth_marginal(jnp.asarray(mu)))
    df = pd.DataFrame(dict(population_share=np.asarray(F, dtype=float),
                           wealth_share=np.asarray(L, dtype=float),
                           wealth=np.concatenate([np.asarray(a[:1], dtype=float),
                                                  np.asarray(a, dtype=float)])))
    for k, v in labels.items():
        df.insert(0, k, v)
    return df


def _irf_frame(base: dict, shocked: dict, response: dict, kind: str,
               units: dict | None = None) -> pd.DataFrame:
    units = an.IRF_UNITS if units is None else units
    frames = []
    for v, resp in response.items():
        resp = np.asarray(resp, dtype=float)
        frames.append(pd.DataFrame(dict(
            kind=kind, variable=v, unit=units[v], t=np.arange(resp.shape[0]),
            baseline=np.asarray(base[v], dtype=float) * np.ones_like(resp),
            shocked=np.asarray(shocked[v], dtype=float), response=resp)))
    return pd.concat(frames, ignore_index=True)


def _savings_irf(problem, policy, shock, date, key, n_paths, kind) -> pd.DataFrame:
    """:func:`impulse_responses` of a continuous-choice solution (common random numbers)."""
    sizes = shock if isinstance(shock, dict) else {problem.noise_names[0]: shock}
    z_shock = impulse(problem, sizes, problem.horizon, date)
    n = n_paths if key is not None else 1
    moments = ("gini", "top10", "top1", "bottom50", "at_limit")

    def levels(path):
        out = dict(path.agg)
        shocks = problem.noise_names[:problem.n_shocks]
        out.update({s: path.z[..., j] for j, s in enumerate(shocks) if s not in out})
        wm = savings_wealth_moments(problem, path.mu)
        out.update({k: wm[k] for k in moments})
        return {k: jnp.mean(v, axis=0) for k, v in out.items()}

    base = levels(savings_paths(problem, policy, key, n))
    hit = levels(savings_paths(problem, policy, key, n, z_shock=z_shock))
    # the steady state's units (rates in bp, zero steady states in pp, else percent); what it
    # does not name, in percent of its steady state or in pp (the shocks' states, the shares)
    ss = problem.ss_values
    units = {k: "percent" if k in ss and abs(float(ss[k])) >= 1e-8 else "pp" for k in base}
    units.update({k: u for k, u in an.response_units(problem.steady_state).items()
                  if k in base and k not in moments})
    return _irf_frame(base, hit, an.deviations(base, hit, tuple(base), units), kind, units)


def impulse_responses(source, policy=None, *, shock: float | dict = 0.01, date: int = 0, key,
                      n_paths: int = 8, deterministic: bool = False) -> pd.DataFrame:
    """Generalised impulse responses of a learned policy to a log-TFP shock (common random numbers).

    Mean paths over ``n_paths`` common-noise paths (``key``) with and without an extra innovation
    ``shock`` at ``date``; the same innovations in both (common random numbers), so a zero shock
    gives exactly zero. Responses: percent deviations of the mean paths (``K, L, Y, C, w``), basis
    points for ``r``, percentage points for log TFP, the consumption share and the distribution
    moments (``gini, top10, top1, bottom50, at_limit``); see :mod:`hank_mfg.analysis.irf`.

    A solution with continuous savings choices responds to an innovation of its own shocks:
    ``shock`` a size (its first shock, e.g. TFP ``z``) or ``{name: size}`` by innovation name
    (``problem.noise_names``: a shock's surprise, or an announcement ``"<shock>_news<k>"``);
    its responses are every aggregate it records and the wealth moments, in basis points for
    the model's rates, in percentage points for the shocks' states and for aggregates whose
    steady state is zero, and in percent otherwise.

    Args:
        source: Solution, or model / MeanField with ``policy``. shock: innovation size
            (0.01 = 1% TFP). date: when it hits. key: noise paths (``None``: the no-shock path,
            one path — the learned policy's response to an MIT shock).
        deterministic: also add the no-shock-path response (``kind="no_noise"``).

    Returns:
        Tidy DataFrame: ``kind`` (``"generalized"`` / ``"no_noise"``), ``variable``, ``unit``,
        ``t``, ``baseline``, ``shocked`` (mean levels), ``response``.

    Example:
        >>> irf = hm.impulse_responses(sol, shock=0.01, key=jax.random.key(0), n_paths=16)
        >>> irf.pivot(index="t", columns="variable", values="response")[["K", "Y", "r"]]
    """
    sp = continuous_solution(source)
    if sp is not None:
        kinds = [("generalized" if key is not None else "no_noise", key)]
        if deterministic and key is not None:
            kinds.append(("no_noise", None))
        return pd.concat([_savings_irf(*sp, shock, int(date), k, n_paths, kind)
                          for kind, k in kinds], ignore_index=True)
    mf, pol = resolve(source, policy, where="impulse_responses")
    frames = []
    runs = [("generalized", _eps(mf, key, n_paths if key is not None else 1))]
    if deterministic and key is not None:
        runs.append(("no_noise", _eps(mf, None, 1)))
    for kind, eps in runs:
        b, s, r = an.generalized_irf(mf, pol, eps, shock=shock, date=date)
        d = lambda p: {k: getattr(p, k) for k in an.IRF_VARIABLES}  # noqa: E731
        frames.append(_irf_frame(d(b), d(s), r, "no_noise" if key is None else kind))
    return pd.concat(frames, ignore_index=True)


def mit_responses(transition_path, steady_state) -> pd.DataFrame:
    """Responses of a perfect-foresight transition path, in the format of
    :func:`impulse_responses` (``kind="mit"``; baseline = the steady state).

    Works for a capital economy's :class:`TransitionPath` (``z, K, Y, C, r, w``) and for an
    economy's path (every aggregate it defines). Units come from the model: rates in basis
    points, quantities in percent deviations, aggregates whose steady state is zero in
    percentage points of their level (:func:`hank_mfg.analysis.response_units`).

    Example:
        >>> ss = hm.steady_state(OneAssetHANK())
        >>> path = hm.transition_path(OneAssetHANK(), shocks={"rstar": -0.0025 * 0.61 ** np.arange(300)}, steady_state=ss)
        >>> hm.mit_responses(path, ss).query("t == 0")

    Raises:
        TypeError: the arguments are not a transition path and its steady state.
    """
    check_mit_arguments(transition_path, steady_state, "mit_responses")
    levels, resp = an.mit_deviations(transition_path, steady_state)
    base = {k: steady_state.values.get(k, 0.0) for k in levels}
    return _irf_frame(base, levels, resp, "mit", an.response_units(steady_state))


def anticipatory_consumption(rspg_solution, spg_solution=None, *, key=None, n_paths: int = 8,
                             labels=None) -> pd.DataFrame:
    """Consumption share and level against time to the end of the horizon and against the recent
    public price history, for RSPG (history-aware) versus SPG (memoryless).

    Both solutions are rolled out along the *same* ``n_paths`` noise paths (``key``; ``None`` =
    the no-shock path). Per path and date: ``share`` = mass-weighted mean consumption share of
    cash on hand above the borrowing limit ``c / (m - a_0)``; ``consumption`` = aggregate chosen
    consumption ``C``; the public prices ``r, w`` and their recent history ``dr = r_t - r_{t-1}``,
    ``r_gap = r_t - mean(r_0..r_{t-1})`` (0 at ``t = 0``). ``terminal`` flags ``t = T-1``, where
    under ``consume_all`` the reward is ``u(m)`` whatever the chosen share (the paper's
    end-of-horizon effect is the rise of the share at the dates before it).

    Returns:
        DataFrame: ``method, path, t, time_to_end, terminal, share, consumption, r, w, dr, r_gap``.
    """
    sols = [rspg_solution] + ([] if spg_solution is None else [spg_solution])
    names = list(labels) if labels is not None else [getattr(s, "method", f"policy{i}")
                                                     for i, s in enumerate(sols)]
    if len(set(names)) < len(names):
        names = [f"{n}_{i}" for i, n in enumerate(names)]
    frames = []
    for name, sol in zip(names, sols):
        n = n_paths if key is not None else 1
        sp = continuous_solution(sol)
        if sp is not None:  # continuous savings choices: the learned economy's own paths
            path = savings_paths(*sp, key, n)
            share = jnp.sum(path.mu * savings_cash_share(sp[0], path)[1], axis=(-2, -1))
            nan = jnp.full(share.shape, jnp.nan)
            panel = dict(share=share, C=path.agg["C"], r=path.agg.get("r", nan),
                         w=path.agg.get("w", nan))
        else:
            mf, pol = resolve(sol, where="anticipatory_consumption")
            p, _ = an.simulate_paths(mf, pol, _eps(mf, key, n))
            panel = dict(share=p.share, C=p.C, r=p.r, w=p.w)
        r = np.asarray(panel["r"], dtype=float)
        B, T = r.shape
        dr = np.concatenate([np.zeros((B, 1)), np.diff(r, axis=1)], axis=1)
        csum = np.cumsum(r, axis=1)
        prev_mean = np.concatenate([r[:, :1], csum[:, :-1] / np.arange(1, T)[None, :]], axis=1)
        t = np.tile(np.arange(T), B)
        frames.append(pd.DataFrame(dict(
            method=name, path=np.repeat(np.arange(B), T), t=t, time_to_end=T - 1 - t,
            terminal=t == T - 1,
            share=np.asarray(panel["share"], dtype=float).reshape(-1),
            consumption=np.asarray(panel["C"], dtype=float).reshape(-1),
            r=r.reshape(-1), w=np.asarray(panel["w"], dtype=float).reshape(-1),
            dr=dr.reshape(-1), r_gap=(r - prev_mean).reshape(-1))))
    return pd.concat(frames, ignore_index=True)


def _history(mf, pol, history, date, r, w):
    """``(obs[0..date], agg at date, trajectory or None)``."""
    if history is None or isinstance(history, Trajectory):
        traj = _rollout(mf, pol, _eps(mf, None, 1)[0]) if history is None else history
        agg = jax.tree_util.tree_map(lambda x: x[date], traj.agg)
        return traj.obs, agg, traj
    obs = jnp.asarray(history, dtype=mf.a_s.dtype)
    if r is None or w is None:
        if type(mf.model).observation is not AbstractHetAgentModel.observation:
            raise ValueError("policy_table: an observation history of a model with a custom "
                             "observation needs the prices r= and w= at the date")
        r, w = obs[date, 0], obs[date, 1]
    from ..operators.meanfield import AggregateState

    nan = jnp.asarray(jnp.nan, mf.a_s.dtype)
    agg = AggregateState(K=nan, L=nan, z=nan, Y=nan, r=jnp.asarray(r, mf.a_s.dtype),
                         w=jnp.asarray(w, mf.a_s.dtype))
    return obs, agg, None


def _dates(date, n: int):
    """A date column: int64, or nullable ``Int64`` of ``<NA>`` for a stationary policy."""
    if date is None:
        return pd.array([pd.NA] * n, dtype="Int64")
    return np.full(n, int(date), dtype=np.int64)


def policy_table(source, policy=None, *, model=None, date: int = 0, history=None, r=None,
                 w=None, wealth=None, value: bool = True) -> pd.DataFrame:
    """Tidy policy functions ``c(a, e)`` and ``a'(a, e)`` at a date and public history.

    Args:
        source: a capital economy's :class:`~hank_mfg.SteadyState` (stationary: ``date`` is missing,
            ``<NA>`` in an integer column; the value comes from
            :func:`hank_mfg.analysis.stationary_value`); an economy's
            :class:`~hank_mfg.SteadyState` (its own model; cash on hand from the
            model's budget at the steady-state aggregates, ``expected_action`` = next wealth,
            ``reward = u(c) - v(n)``, an ``hours`` column with a labour choice); an economy
            (:class:`~hank_mfg.AbstractEconomy`, no ``policy``: its steady state, solved here
            in float64 by :func:`hank_mfg.steady_state`); a Solution with continuous savings
            choices (its policy at ``date`` of its no-shock path, values from
            :func:`~hank_mfg.solvers.continuous.path_values`, ``expected_action`` = next
            wealth); or a Solution / model + ``policy`` (a learned discrete policy: its table
            after the history ``o_0..o_date``).
        date: the date ``t``. history: for learned policies, a :class:`~hank_mfg.Trajectory`
            (one path; prices and values are taken from it), an observation array
            ``(>= date+1, n_obs)`` (then ``r=, w=`` unless the observation is the default
            ``(r, w)``), or ``None``: the no-shock path.
        wealth: optional wealth levels at which to evaluate the functions off the grid
            (linear interpolation within each income state, clamped outside the grid).
        value: include the value function (NaN where unavailable).

    Returns:
        DataFrame, one row per ``(wealth, income state)``: ``wealth, income_state, income, date,
        on_grid, cash, consumption, savings, share, expected_action, reward, value`` — expected
        values under the policy's action lottery (``share = c / (m - a_0)``, the consumption
        share of cash on hand above the borrowing limit; ``expected_action`` = mean action value:
        the same share for ``action_kind="share"``, next wealth for ``"savings"``; ``reward`` =
        expected period reward). ``date`` is an integer column.

    Raises:
        TypeError: a source of another kind (the message says which it takes), an economy
            with a ``policy``, or a continuous-choice Solution (its table is
            ``hank_mfg.reports.continuous.policy_comparison``).

    Example:
        >>> ss = hm.steady_state(OneAssetHANK(n_wealth=50, n_income=3))
        >>> hm.policy_table(ss).query("income_state == 0")[["wealth", "consumption", "hours"]]
    """
    if isinstance(source, AbstractEconomy) and not source.discrete_actions:
        if policy is not None:
            raise TypeError(f"policy_table: {type(source).__name__} is an economy, whose "
                            "households choose savings continuously: its policy is its steady "
                            "state's (give no policy=), or a continuous Solution's "
                            "(hank_mfg.reports.continuous.policy_comparison)")
        from ..solvers.steady_state import steady_state as solve_steady_state

        source = solve_steady_state(source)
    extra = {}
    if isinstance(source, SteadyState):
        if model is None:
            model = source.model
        else:  # the model given must be the steady state's
            from ..solvers.steady_state import model_of_steady_state

            model = model_of_steady_state("policy_table", model, source)
        a = jnp.asarray(model.a_grid, dtype=float)
        e = jnp.asarray(model.e_grid, dtype=float)
        c, ap = jnp.asarray(source.c_policy), jnp.asarray(source.a_policy)
        labour = bool(model.endogenous_labour) and source.n_policy is not None
        n = jnp.asarray(source.n_policy) if labour else jnp.ones_like(c)
        m = model.budget(source.values).cash_on_hand(a, n)
        room = m - a[0]
        share = jnp.where(room > 0, c / jnp.where(room > 0, room, 1.0), 1.0)
        if value:
            V, it, err = _stationary_policy_value(model, c, ap, n if labour else None)
            if not float(err) <= 1e-10:
                raise RuntimeError(f"policy_table: value iteration did not converge after "
                                   f"{int(it)} iterations; relative change {float(err):.6g}")
        else:
            V = jnp.full(c.shape, jnp.nan)
        # a capital economy's action: its consumption share, or the savings level
        act = share if getattr(model, "action_kind", None) == "share" else ap
        tabs = dict(cash=m, consumption=c, savings=ap, share=share, expected_action=act,
                    reward=model.utility(c) - model.labour_disutility(n), value=V)
        if labour:
            extra = dict(hours=n)
        d = None
    elif (sp := continuous_solution(source)) is not None:
        tabs, extra, a, e = _savings_policy(*sp, int(date), history, value)
        d = int(date)
    else:
        mf, pol = resolve(source, policy, where="policy_table")
        a, e = mf.a_grid, mf.e_grid
        date = int(date)
        obs, agg, traj = _history(mf, pol, history, date, r, w)
        P = an.policy_at(pol, obs, date)
        pf = an.policy_functions(mf, P, agg, date)
        if value and traj is not None:
            V = _policy_values(mf, traj)[date].reshape(mf.n_wealth, mf.n_income)
        else:
            V = jnp.full((mf.n_wealth, mf.n_income), jnp.nan)
        tabs = dict(cash=pf.cash, consumption=pf.consumption, savings=pf.savings, share=pf.share,
                    expected_action=pf.expected_action, reward=pf.reward, value=V)
        d = date
    n_a, n_e = a.shape[0], e.shape[0]
    grid_rows = dict(wealth=np.repeat(np.asarray(a, float), n_e),
                     income_state=np.tile(np.arange(n_e), n_a),
                     income=np.tile(np.asarray(e, float), n_a), date=_dates(d, n_a * n_e),
                     on_grid=True)
    tabs.update(extra)
    cols = {k: np.asarray(v, dtype=float).reshape(-1) for k, v in tabs.items()}
    df = pd.DataFrame(dict(grid_rows, **cols))
    if wealth is not None:
        q = jnp.atleast_1d(jnp.asarray(wealth, dtype=a.dtype))
        nq = q.shape[0]
        icols = {k: np.asarray(an.interpolate_in_wealth(a, jnp.asarray(v), q), float).reshape(-1)
                 for k, v in tabs.items()}
        off = pd.DataFrame(dict(wealth=np.repeat(np.asarray(q, float), n_e),
                                income_state=np.tile(np.arange(n_e), nq),
                                income=np.tile(np.asarray(e, float), nq),
                                date=_dates(d, nq * n_e), on_grid=False,
                                **icols))
        df = pd.concat([df, off], ignore_index=True)
    return df


def _savings_policy(problem, policy, date, history, value):
    """A continuous-choice solution's policy at ``date`` of its no-shock path: the table
    columns, the extra ones (hours with a labour choice) and the grids."""
    if history is not None:
        raise ValueError("policy_table.history: a solution with continuous savings choices is "
                         "tabulated along its own no-shock path; leave history=None")
    if not 0 <= date < problem.horizon:
        raise ValueError(f"policy_table.date must lie in [0, {problem.horizon}) (the solution's "
                         f"horizon); got {date}")
    path = jax.tree_util.tree_map(lambda x: x[0], savings_paths(problem, policy, None, 1))
    model, a, e = problem.model, problem.a_grid, problem.e_grid
    c, ap, n = path.c[date], path.a_next[date], path.n[date]
    m, share = (x[date] for x in savings_cash_share(problem, path))
    V = path_values(problem, path)[0][date] if value else jnp.full(c.shape, jnp.nan)
    tabs = dict(cash=m, consumption=c, savings=ap, share=share, expected_action=ap,
                reward=period_utility(model, c, n), value=V)
    labour = bool(getattr(model, "endogenous_labour", False))
    return tabs, (dict(hours=n) if labour else {}), a, e


def policy_dates(T: int) -> tuple[int, ...]:
    """Dates at which reports show and check policy functions: ``0, T // 2, T - 2``."""
    return tuple(sorted({0, T // 2, max(T - 2, 0)}))


def _consumption_at(mf, pol, dates, history):
    """Expected consumption ``(n_d, n_a, n_e)`` at ``dates`` along ``history`` (None: no-shock)."""
    out = []
    for t in dates:
        obs, agg, _ = _history(mf, pol, history, int(t), None, None)
        pf = an.policy_functions(mf, an.policy_at(pol, obs, int(t)), agg, int(t))
        out.append(np.asarray(pf.consumption, dtype=float))
    return np.stack(out)


def _quality(source, policy, *, key, n_paths, n_nodes, dates, history, thresholds,
             evaluated=None):
    cont = continuous_solution(source)
    if cont is not None:
        if policy is not None or history is not None:
            raise ValueError("solution_quality: a solution with continuous savings choices is "
                             "judged by its own policy along its own no-shock path; leave "
                             "policy and history None")
        problem, pol = cont
        dates = policy_dates(problem.horizon) if dates is None else tuple(int(t) for t in dates)
        consumption = np.asarray(savings_paths(problem, pol, None, 1).c[0][np.asarray(dates)])
        a_grid = problem.a_grid
        ex = exploitability(source, key=key, n_paths=n_paths) if evaluated is None else evaluated
        ee = euler_errors(source, key=key, n_paths=n_paths, n_nodes=n_nodes)
    else:
        mf, pol = resolve(source, policy, where="solution_quality")
        dates = policy_dates(mf.horizon) if dates is None else tuple(int(t) for t in dates)
        if history is None:
            history = _rollout(mf, pol, _eps(mf, None, 1)[0])
        consumption, a_grid = _consumption_at(mf, pol, dates, history), mf.a_grid
        ex = exploitability(mf, pol, key=key, n_paths=n_paths) if evaluated is None else evaluated
        ee = euler_errors(mf, pol, key=key, n_paths=n_paths,
                          n_nodes=7 if n_nodes is None else n_nodes)
    verdicts = quality_verdicts(
        consumption=consumption, a_grid=a_grid, dates=dates,
        euler_mean_log10=float(ee.mean_log10), euler_max_log10=float(ee.max_log10),
        exploitability=ex.exploitability, value=ex.policy_return, thresholds=thresholds)
    row = dict(
        method=getattr(source, "method", "policy"), exploitability=ex.exploitability,
        relative_exploitability=ex.relative, policy_return=ex.policy_return,
        best_response_return=ex.best_response_return,
        euler_mean_log10=float(ee.mean_log10), euler_max_log10=float(ee.max_log10),
        consumption_largest_fall=float(verdicts[0].value),
        monotone_consumption=bool(verdicts[0].passed),
        quality_passed=all(v.passed for v in verdicts),
        quality_warnings="; ".join(v.message for v in verdicts if not v.passed),
        n_paths=int(n_paths))
    return row, verdicts


def solution_quality(source, policy=None, *, key, n_paths: int = 8, n_nodes: int | None = None,
                     dates=None, history=None, thresholds=None) -> pd.DataFrame:
    """Exploitability beside Euler-equation errors of a learned policy, with verdicts (one row).

    Both on the same ``n_paths`` noise paths (``key``), for either kind of choice.
    Exploitability as in :func:`hank_mfg.exploitability` (docs/theory.md §7); Euler errors as
    in :func:`hank_mfg.euler_errors` (mass-weighted mean of ``log10|1 - c_hat/c|`` over
    unconstrained states, averaged over dates ``0..T-2`` and paths; and the max; ``n_nodes``
    quadrature nodes of next date's shock, default as there). A solution with continuous
    savings choices is judged along its own no-shock path (``policy`` and ``history`` None).
    Verdicts as in :func:`hank_mfg.analysis.policy.quality_verdicts`: consumption must rise
    with wealth in every income state at ``dates`` (default :func:`policy_dates`) along
    ``history`` (a :class:`~hank_mfg.Trajectory`; ``None`` = the no-shock path), Euler errors
    and the relative exploitability must stay within ``thresholds``
    (:class:`hank_mfg.analysis.policy.QualityThresholds`).

    Returns:
        DataFrame: ``method, exploitability, relative_exploitability, policy_return,
        best_response_return, euler_mean_log10, euler_max_log10, consumption_largest_fall``
        (relative to max consumption), ``monotone_consumption, quality_passed``,
        ``quality_warnings`` (the failing checks' sentences joined by ``"; "``), ``n_paths``.
    """
    row, _ = _quality(source, policy, key=key, n_paths=n_paths, n_nodes=n_nodes, dates=dates,
                      history=history, thresholds=thresholds)
    return pd.DataFrame([row])


def verdict_table(verdicts) -> pd.DataFrame:
    """Quality verdicts (:func:`hank_mfg.analysis.policy.quality_verdicts`) as a table: one row per
    check with ``check, value, threshold, passed, message``."""
    return pd.DataFrame([dict(check=v.check, value=float(v.value), threshold=float(v.threshold),
                              passed=bool(v.passed), message=v.message) for v in verdicts],
                        columns=["check", "value", "threshold", "passed", "message"])


def quality_summary(source, policy=None, *, key, n_paths: int = 8, n_nodes: int = 7,
                    dates=None, history=None, thresholds=None, evaluated=None) -> dict:
    """The quality verdicts as a JSON-ready dict (for ``summary.json``).

    ``evaluated``: an exploitability already computed for this policy (anything with
    ``exploitability``, ``relative``, ``policy_return``, ``best_response_return``, e.g. a
    :class:`~hank_mfg.metrics.exploitability.ExploitabilityResult`) to use instead of a new
    evaluation on ``n_paths`` paths of ``key``; the Euler errors still use those paths.

    Returns:
        ``{"passed": bool, "warnings": [sentence, ...], "checks": {check: {"value",
        "threshold", "passed", "message"}}, "exploitability", "relative_exploitability",
        "euler_mean_log10", "euler_max_log10", "n_paths"}``; non-finite numbers are ``None``.
    """
    row, verdicts = _quality(source, policy, key=key, n_paths=n_paths, n_nodes=n_nodes,
                             dates=dates, history=history, thresholds=thresholds,
                             evaluated=evaluated)
    return _quality_dict(row, verdicts)


def _num(x):
    x = float(x)
    return x if np.isfinite(x) else None


def _quality_dict(row: dict, verdicts) -> dict:
    return dict(
        passed=all(v.passed for v in verdicts),
        warnings=[v.message for v in verdicts if not v.passed],
        checks={v.check: dict(value=_num(v.value), threshold=float(v.threshold),
                              passed=bool(v.passed), message=v.message) for v in verdicts},
        exploitability=_num(row["exploitability"]),
        relative_exploitability=_num(row["relative_exploitability"]),
        euler_mean_log10=_num(row["euler_mean_log10"]),
        euler_max_log10=_num(row["euler_max_log10"]), n_paths=int(row["n_paths"]))

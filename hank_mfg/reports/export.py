"""Export: tables as CSV and Parquet, solution bundles, and the full report of a solved run.

* :func:`write_table` / :func:`read_table`: a DataFrame as ``NAME.csv`` and ``NAME.parquet``;
  both read back exactly (CSV floats are written with full precision and parsed round-trip).
* :func:`save_bundle` / :func:`load_bundle`: a directory with ``bundle.json`` (model file, class
  and scalar fields, method, training config, summary), ``policy.eqx`` (the trained leaves),
  ``history`` and any tables — loads back into an equal :class:`~hank_mfg.Solution`.
* :func:`load_run` rebuilds the Solution of a ``hank-mfg solve`` run directory;
  :func:`write_report` writes every table and figure of it (``hank-mfg report``): a discrete
  run's from :mod:`.tables` and :mod:`.figures`, a continuous run's from :mod:`.continuous`.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os

import equinox as eqx
import jax
import numpy as np
import pandas as pd

from ..analysis.aggregate_risk import IRF_TRANSITION_T
from ..loading import build_model, load_model_class
from ..model.economy import AbstractEconomy
from ..operators.compile import compile_model
from ..policies.networks import make_policy
from ..solvers.continuous import SavingsProblem
from ..solvers.rspg import RSPGConfig, Solution, load_solution

__all__ = ["write_table", "read_table", "save_bundle", "load_bundle", "load_run", "write_report",
           "save_figure"]


def write_table(df: pd.DataFrame, directory: str, name: str) -> tuple[str, str]:
    """Write ``df`` as ``directory/name.csv`` and ``directory/name.parquet``; returns both paths."""
    os.makedirs(directory, exist_ok=True)
    csv = os.path.join(directory, f"{name}.csv")
    pq = os.path.join(directory, f"{name}.parquet")
    df.to_csv(csv, index=False, float_format=None)
    df.to_parquet(pq, index=False)
    return csv, pq


def read_table(path: str) -> pd.DataFrame:
    """Read a table written by :func:`write_table` (``.csv`` or ``.parquet``), exactly."""
    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    if path.endswith(".csv"):
        if int(pd.__version__.split(".")[0]) >= 3:
            return pd.read_csv(path)  # pandas >= 3 parses floats round-trip by default
        return pd.read_csv(path, float_precision="round_trip")
    raise ValueError(f"read_table.path must end in .csv or .parquet; got {path!r}")


def save_figure(fig, directory: str, name: str, dpi: int = 120) -> str:
    """Save a figure as ``directory/name.png`` (Agg renderer)."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"{name}.png")
    fig.savefig(path, dpi=dpi)
    return path


# ---- bundles -------------------------------------------------------------------------------------
def _model_spec(model) -> tuple[dict, dict]:
    scalars, arrays = {}, {}
    for f in dataclasses.fields(model):
        if not f.init:
            continue
        v = getattr(model, f.name)
        if v is None or isinstance(v, (bool, int, float, str)):
            scalars[f.name] = v
        elif np.ndim(v) == 0:
            scalars[f.name] = float(np.asarray(v))
        else:
            arrays[f.name] = np.asarray(v)
    return scalars, arrays


def save_bundle(solution: Solution, directory: str, *, tables: dict | None = None) -> str:
    """Write a self-contained solution bundle to ``directory``.

    Contents: ``bundle.json`` (model file/class/fields, method, config, summary), ``policy.eqx``,
    ``model_arrays.npz`` (array-valued model fields, e.g. ``initial_mu``), ``history.csv|.parquet``
    and ``tables/NAME.csv|.parquet`` for each DataFrame in ``tables``. Returns ``directory``.

    The model class must be defined in an importable file (``inspect.getfile``) and be
    constructible from its fields; otherwise pass ``model=`` to :func:`load_bundle`.
    """
    os.makedirs(directory, exist_ok=True)
    model = solution.model
    scalars, arrays = _model_spec(model)
    try:
        model_file = os.path.abspath(inspect.getfile(type(model)))
    except (TypeError, OSError):
        model_file = None
    meta = dict(model_file=model_file, model_class=type(model).__name__, model_fields=scalars,
                model_arrays=sorted(arrays), method=solution.method,
                config=solution.config.to_dict(), summary=solution.summary)
    with open(os.path.join(directory, "bundle.json"), "w") as f:
        json.dump(meta, f, indent=1, default=float)
    np.savez(os.path.join(directory, "model_arrays.npz"), **arrays)
    eqx.tree_serialise_leaves(os.path.join(directory, "policy.eqx"), solution.policy)
    if solution.history is not None:
        write_table(pd.DataFrame(solution.history), directory, "history")
    for name, df in (tables or {}).items():
        write_table(df, os.path.join(directory, "tables"), name)
    return directory


def load_bundle(directory: str, model=None) -> Solution:
    """Load a bundle written by :func:`save_bundle` into an equal :class:`~hank_mfg.Solution`.

    ``model``: the model to attach (default: rebuilt from the recorded file, class and fields).
    Tables are read with :func:`read_table` from ``directory/tables``.
    """
    with open(os.path.join(directory, "bundle.json")) as f:
        meta = json.load(f)
    if model is None:
        if not meta.get("model_file"):
            raise ValueError(f"load_bundle: {directory} records no model file; pass model=")
        cls = load_model_class(meta["model_file"], meta["model_class"])
        arrays = dict(np.load(os.path.join(directory, "model_arrays.npz")))
        model = cls(**meta["model_fields"], **arrays)
    cfg = dict(meta["config"])
    cfg["widths"] = tuple(cfg["widths"])
    config = RSPGConfig(**cfg)
    mf = compile_model(model)
    skeleton = make_policy(mf, meta["method"], key=jax.random.key(config.seed),
                           **config.architecture())
    policy = eqx.tree_deserialise_leaves(os.path.join(directory, "policy.eqx"), skeleton)
    hist_path = os.path.join(directory, "history.parquet")
    history = pd.read_parquet(hist_path) if os.path.exists(hist_path) else None
    return Solution(model=model, method=meta["method"], config=config, policy=policy,
                    history=history, summary=meta["summary"])


def run_choice(cfg: dict) -> str:
    """``"continuous"`` or ``"discrete"``: how the run of a ``config.json`` (as a dict) chose.

    Its recorded ``choice``, else the training config's (``"auto"``: continuous for an economy).
    """
    choice = cfg.get("choice") or cfg.get("config", {}).get("choice", "auto")
    if choice == "auto":
        cls = load_model_class(cfg["model_file"], cfg.get("model_class"))
        choice = "continuous" if issubclass(cls, AbstractEconomy) else "discrete"
    return choice


def load_run(run_dir: str) -> Solution:
    """The :class:`~hank_mfg.Solution` of a ``hank-mfg solve`` run directory (``config.json``,
    ``checkpoint.eqx``, ``state.json``, ``summary.json``).

    A continuous-choice run is rebuilt in float64, as it was solved (model, steady state and
    policy): analyse it with ``jax_enable_x64`` on, or inside ``jax.enable_x64(True)``.

    Raises:
        FileNotFoundError: missing files. ModelLoadError: the model file cannot be rebuilt.
    """
    cfg_path = os.path.join(run_dir, "config.json")
    for need in (cfg_path, os.path.join(run_dir, "checkpoint.eqx"), os.path.join(run_dir, "state.json")):
        if not os.path.exists(need):
            raise FileNotFoundError(f"{run_dir} is not a solved run: missing {os.path.basename(need)} "
                                    f"(write one with hank-mfg solve ... --out {run_dir})")
    with open(cfg_path) as f:
        cfg = json.load(f)
    if run_choice(cfg) == "continuous" and not jax.config.jax_enable_x64:
        with jax.enable_x64(True):  # built as the solve built it: parameters in float64
            return load_run(run_dir)
    model = build_model(cfg["model_file"], cfg.get("overrides", []), name=cfg.get("model_class"))
    sol = load_solution(model, run_dir)
    summary_path = os.path.join(run_dir, "summary.json")
    if os.path.exists(summary_path):
        with open(summary_path) as f:
            sol.summary = json.load(f)
    return sol


def write_report(run_dir: str, out: str, *, n_paths: int = 8, seed: int = 0, shock: float = 0.01,
                 compare: str | None = None, bundle: bool = True, ergodic_T: int = 2000,
                 irf_T: int = 40, T_transition: int = IRF_TRANSITION_T) -> dict:
    """Every table (CSV + Parquet) and figure (PNG) of a solved run, written to ``out``.

    Discrete choices. Tables: ``wealth_distribution`` (dates 0, T/2, T-1 of the first sampled
    path, overall and by income), ``wealth_lorenz`` (at T-1), ``impulse_responses``
    (generalised, ``n_paths`` paths, and the no-noise response), ``anticipatory_consumption``
    (this run, and the ``compare`` run if given, on the same paths), ``policy_functions``
    (dates 0, T/2, T-2 along the first path), ``solution_quality`` (the run's last evaluated
    exploitability beside Euler errors on its own evaluation paths, with the verdicts: the
    numbers ``hank-mfg solve`` stated, :func:`hank_mfg.reports.verdicts.run_quality`),
    ``quality_verdicts`` (one row per check: monotone consumption at the policy dates along
    the no-noise path, mean and largest Euler error, relative exploitability),
    ``simulation_panel``. Figures: ``wealth_distribution``, ``distribution_heatmaps``,
    ``impulse_responses``, ``anticipatory_consumption``, ``policy_functions``. With ``bundle``,
    also ``out/bundle``.

    Continuous choices (:mod:`hank_mfg.reports.continuous`; run in float64). Tables:
    ``policy_functions`` (learned ``a'(a, e)`` and ``c(a, e)`` at the steady state beside EGM's,
    with their gap), ``impulse_responses`` (the learned response to a one-time innovation
    ``shock`` of each of the model's shocks beside the perfect-foresight transition, ``irf_T``
    dates, percent for quantities and bp for rates; the figure shows the headline aggregates),
    ``ergodic_moments`` (``n_paths`` simulations of ``ergodic_T`` dates after a burn-in of a
    tenth of that, noise from ``seed``, beside the first-order moments), ``risky_steady_state``
    (the ergodic means on antithetic pairs of the same paths and the risky steady state, against
    the deterministic steady state), ``solution_quality``
    (the last evaluation, with the verdicts), ``quality_verdicts`` (relative exploitability,
    mean Euler error, market residual) and ``history``. Figures: ``policy_functions``,
    ``impulse_responses``, ``solution_quality`` (the history). No bundle, and no ``compare``.
    Every perfect-foresight benchmark (the transitions beside the responses, the first-order
    moments) runs ``T_transition`` dates.

    Returns:
        ``{"tables": [paths], "figures": [paths], "quality": {...}, "choice": "discrete" |
        "continuous"}`` (``quality``: ``passed``, ``warnings`` and ``checks`` as
        :func:`hank_mfg.reports.tables.quality_summary` or, continuous,
        :func:`hank_mfg.reports.continuous.continuous_quality`).

    Raises:
        ValueError: ``compare`` with a continuous run, or a continuous ``compare`` run.
    """
    from . import figures as fg
    from . import tables as tb
    from .verdicts import discrete_quality

    cfg_path = os.path.join(run_dir, "config.json")
    if os.path.exists(cfg_path):
        with open(cfg_path) as f:
            if run_choice(json.load(f)) == "continuous":
                if compare:
                    raise ValueError(
                        f"write_report: {run_dir} is a continuous-choice run; --compare sets a "
                        "discrete run beside another (anticipatory consumption); drop --compare")
                with jax.enable_x64(True):  # continuous choices are solved in float64
                    return _write_continuous_report(
                        load_run(run_dir), out, n_paths=n_paths, seed=seed, shock=shock,
                        ergodic_T=ergodic_T, irf_T=irf_T, T_transition=T_transition)
    sol = load_run(run_dir)
    other = load_run(compare) if compare else None
    if other is not None and isinstance(other.problem, SavingsProblem):
        raise ValueError(f"write_report: --compare {compare} is a continuous-choice run; it can "
                         "only be set beside a discrete one")
    mf = compile_model(sol.model)
    T = mf.horizon
    k_paths = jax.random.split(jax.random.key(seed))[0]
    eps1 = mf.sample_noise(key=k_paths, n_paths=1)
    traj = tb._rollout(mf, sol.policy, eps1[0])
    dates = tb.policy_dates(T)
    # the verdicts of the run itself, as `hank-mfg solve` stated them (run_quality)
    quality, verdicts = discrete_quality(sol)
    tables = {
        "wealth_distribution": tb.wealth_distribution(sol, dates=(0, T // 2, T - 1), key=k_paths),
        "wealth_lorenz": tb.lorenz_curve(sol, date=T - 1, key=k_paths),
        "impulse_responses": tb.impulse_responses(sol, shock=shock, key=k_paths, n_paths=n_paths,
                                                  deterministic=True),
        "anticipatory_consumption": tb.anticipatory_consumption(sol, other, key=k_paths,
                                                                n_paths=n_paths),
        "policy_functions": pd.concat([tb.policy_table(sol, date=t, history=traj)
                                       for t in dates], ignore_index=True),
        "solution_quality": pd.DataFrame([quality]),
        "quality_verdicts": tb.verdict_table(verdicts),
        "simulation_panel": tb.simulate(sol, key=k_paths, n_paths=n_paths),
    }
    written = {"tables": [], "figures": [], "quality": tb._quality_dict(quality, verdicts),
               "choice": "discrete"}
    for name, df in tables.items():
        written["tables"].extend(write_table(df, out, name))
    figs = {
        "wealth_distribution": fg.wealth_figure(sol, date=T - 1, key=k_paths),
        "distribution_heatmaps": fg.distribution_heatmaps(sol, key=k_paths),
        "impulse_responses": fg.impulse_figure(
            tables["impulse_responses"],
            title=f"{type(sol.model).__name__}: responses to a log-TFP innovation of "
                  f"{shock:.4g} at date 0 (decaying at rho_z "
                  f"{float(getattr(sol.model, 'rho_z', np.nan)):.4g}; mean of {n_paths} noise "
                  "paths, and the no-noise path)"),
        "anticipatory_consumption": fg.anticipation_figure(tables["anticipatory_consumption"]),
        "policy_functions": fg.policy_figure(tables["policy_functions"], date=0),
    }
    for name, fig in figs.items():
        written["figures"].append(save_figure(fig, out, name))
    if bundle:
        save_bundle(sol, os.path.join(out, "bundle"), tables=tables)
    return written


def _write_continuous_report(sol: Solution, out: str, *, n_paths: int, seed: int, shock: float,
                             ergodic_T: int, irf_T: int, T_transition: int) -> dict:
    """The tables and figures of a continuous-choice run (see :func:`write_report`)."""
    from ..analysis.continuous_report import history_verdicts
    from . import continuous as ct
    from .tables import verdict_table

    if ergodic_T < 2:
        raise ValueError(f"write_report.ergodic_T must be at least 2; got {ergodic_T}")
    if irf_T < 3:
        raise ValueError(f"write_report.irf_T must be at least 3; got {irf_T}")
    from .verdicts import run_quality

    history = pd.DataFrame(sol.history)
    quality = run_quality(sol)
    gaps = {}  # the certificate's verdicts, when they were given (a non-finite gap fails)
    for check in ("first_order_gap", "first_order_path_gap"):
        if check in quality["checks"]:
            value = quality["checks"][check]["value"]
            gaps[check] = float("nan") if value is None else value
    tables = {
        "policy_functions": ct.policy_comparison(sol),
        "impulse_responses": ct.impulse_comparison(sol, shock, T=irf_T,
                                                   T_transition=T_transition),
        "ergodic_moments": ct.ergodic_moments_table(sol, T=ergodic_T, burn_in=ergodic_T // 10,
                                                    n_paths=n_paths, seed=seed,
                                                    T_transition=T_transition),
        # antithetic pairs of as many paths as the moments' (for an even n_paths the same
        # compiled rollout)
        "risky_steady_state": ct.risky_steady_state_table(
            sol, T=ergodic_T, burn_in=ergodic_T // 10, n_pairs=max(1, (n_paths + 1) // 2),
            seed=seed, T_rest=max(ergodic_T, 10)),
        "solution_quality": ct.quality_table(sol, quality),
        "quality_verdicts": verdict_table(history_verdicts(history, **gaps)[1]),
        "history": history,
    }
    written = {"tables": [], "figures": [], "quality": quality, "choice": "continuous"}
    for name, df in tables.items():
        written["tables"].extend(write_table(df, out, name))
    figs = {
        "policy_functions": ct.policy_comparison_figure(tables["policy_functions"]),
        "impulse_responses": ct.impulse_comparison_figure(tables["impulse_responses"],
                                                          size=shock),
        "solution_quality": ct.history_figure(history),
    }
    for name, fig in figs.items():
        written["figures"].append(save_figure(fig, out, name))
    return written

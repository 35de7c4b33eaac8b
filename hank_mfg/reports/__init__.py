"""Reports: the only layer that imports pandas/matplotlib/seaborn and writes files.

Tables (:mod:`.tables`), figures (:mod:`.figures`, matplotlib ``Figure`` objects, never pyplot)
and export (:mod:`.export`: CSV/Parquet tables, solution bundles, the ``hank-mfg report`` run
report), all built on the pure-JAX :mod:`hank_mfg.analysis`. Continuous-choice solutions:
:mod:`.continuous`; economies under aggregate risk with the firms' forecast (the one-asset
HANK): :mod:`.aggregate_risk`.
"""

import json
import os

import jax

from ..analysis.aggregate_risk import IRF_TRANSITION_T
from . import export as _export
from .aggregate_risk import (
    anticipation_comparison_figure, anticipation_table, equilibrium_conditions_table,
    girf_figure, girf_table, group_response_figure, group_response_table, has_forecast,
    state_girf_figure, state_girf_table, write_aggregate_risk_report,
)
from .economy import (
    consumption_response_table, distribution_table, forward_guidance_figure,
    forward_guidance_table, response_variables, steady_state_table,
)
from .export import load_bundle, load_run, read_table, save_bundle, save_figure, write_table
from .figures import anticipation_figure, distribution_heatmaps, impulse_figure, policy_figure, wealth_figure
from .tables import (
    anticipatory_consumption,
    impulse_responses,
    lorenz_curve,
    mit_responses,
    policy_table,
    simulate,
    solution_quality,
    wealth_distribution,
)

__all__ = [
    "load_bundle", "load_run", "read_table", "save_bundle", "save_figure", "write_report",
    "write_table", "anticipation_figure", "distribution_heatmaps", "impulse_figure",
    "policy_figure", "wealth_figure", "anticipatory_consumption", "impulse_responses",
    "lorenz_curve", "mit_responses", "policy_table", "simulate", "solution_quality",
    "wealth_distribution", "consumption_response_table", "forward_guidance_figure",
    "forward_guidance_table", "steady_state_table", "distribution_table", "response_variables",
    "anticipation_comparison_figure", "anticipation_table", "equilibrium_conditions_table",
    "girf_figure", "girf_table", "group_response_figure", "group_response_table", "has_forecast",
    "state_girf_figure", "state_girf_table", "write_aggregate_risk_report",
]


def _is_game(cfg_path: str) -> bool:
    """Whether the run's model is a finite-state game (docs/games.md)."""
    from ..loading import load_model_class
    from ..model.game import AbstractFiniteMFG

    with open(cfg_path) as f:
        cfg = json.load(f)
    return issubclass(load_model_class(cfg["model_file"], cfg.get("model_class")), AbstractFiniteMFG)


def write_report(run_dir: str, out: str, *, n_paths: int = 8, seed: int = 0, shock: float = 0.01,
                 compare: str | None = None, bundle: bool = True, ergodic_T: int = 2000,
                 irf_T: int = 40, risk_T: int = 20, risk_paths: int | None = None,
                 T_transition: int = IRF_TRANSITION_T) -> dict:
    """Every table (CSV + Parquet) and figure (PNG) of a solved run, written to ``out``
    (``hank-mfg report``).

    Discrete and continuous runs as :func:`hank_mfg.reports.export.write_report` (same
    arguments, same files); a finite-state game's run as
    :func:`hank_mfg.reports.games.write_game_report` (``n_paths`` and ``seed`` only). A continuous run of an economy whose prices are solved each date
    with the firms' forecast (:func:`~hank_mfg.reports.aggregate_risk.has_forecast`: the
    one-asset HANK) also gets the tables and figures of
    :func:`~hank_mfg.reports.aggregate_risk.write_aggregate_risk_report` beside them:
    ``girf_by_size``, ``state_dependent_girf``, ``group_responses``, ``anticipation`` (a run
    trained with announcements only) and ``equilibrium_conditions``, over ``risk_T`` dates
    (20) and ``risk_paths`` noise paths (default ``n_paths``; the state-dependent responses
    use four times as many); every perfect-foresight benchmark runs ``T_transition`` dates
    (300: long enough for the economy to return to its steady state).

    Returns:
        ``{"tables": [paths], "figures": [paths], "quality": {...}, "choice": ...}`` (see
        :func:`hank_mfg.reports.export.write_report`).

    Raises:
        ValueError: as :func:`hank_mfg.reports.export.write_report`; ``risk_T`` below 2,
            ``risk_paths`` negative, or ``T_transition`` shorter than the responses.
    """
    if risk_T < 2:
        raise ValueError(f"write_report.risk_T must be at least 2; got {risk_T}")
    if risk_paths is not None and risk_paths < 0:
        raise ValueError(f"write_report.risk_paths must be >= 0; got {risk_paths}")
    if T_transition < max(irf_T, risk_T):
        raise ValueError(f"write_report.T_transition must be at least irf_T = {irf_T} and "
                         f"risk_T = {risk_T} (the responses it benchmarks); got {T_transition}")
    args = dict(n_paths=n_paths, seed=seed, shock=shock, ergodic_T=ergodic_T, irf_T=irf_T,
                T_transition=T_transition)
    cfg_path = os.path.join(run_dir, "config.json")
    continuous = False
    if compare is None and os.path.exists(cfg_path):
        with open(cfg_path) as f:
            continuous = _export.run_choice(json.load(f)) == "continuous"
    if compare is None and os.path.exists(cfg_path) and _is_game(cfg_path):
        from .games import write_game_report

        return write_game_report(load_run(run_dir), out, n_paths=n_paths, seed=seed)
    if not continuous:  # discrete runs, and every refusal, as the export module writes them
        return _export.write_report(run_dir, out, compare=compare, bundle=bundle, **args)
    with jax.enable_x64(True):  # continuous choices are solved in float64
        sol = load_run(run_dir)  # loaded once for both reports
        written = _export._write_continuous_report(sol, out, **args)
        if has_forecast(sol):
            extra = write_aggregate_risk_report(
                sol, out, T=risk_T, n_paths=n_paths if risk_paths is None else risk_paths,
                seed=seed, T_transition=T_transition)
            written["tables"].extend(extra["tables"])
            written["figures"].extend(extra["figures"])
    return written

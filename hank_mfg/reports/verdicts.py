"""The quality verdicts of a solved run, one function for every place that states them:
``hank-mfg solve`` (summary.json and its printout), ``hank-mfg report`` and ``hm.solve``
(``sol.summary["quality"]``), so that the same run reads the same numbers everywhere.

* a finite-state game: its exploitability fell over the run;
* continuous choices: the first-order certificate (when the shocks are innovations), then the
  last evaluation's relative exploitability, Euler errors and market residual
  (:func:`~hank_mfg.reports.continuous.continuous_quality`);
* discrete choices: monotone consumption, Euler errors on the run's own evaluation paths
  (``config.n_paths`` paths of the key ``config.seed``), and the last evaluation's
  exploitability (:func:`~hank_mfg.reports.tables.quality_summary`).
"""

from __future__ import annotations

import types

import jax
import numpy as np

from ..model.game import AbstractFiniteMFG
from ..policies.savings import SavingsPolicy
from ..solvers.rollout import relative_exploitability
from . import tables as tb
from .continuous import certify_first_order, continuous_quality

__all__ = ["game_quality", "run_quality"]


def game_quality(summary: dict) -> dict:
    """A finite-state game's check: the exploitability fell over the run."""
    first, last = summary["initial_exploitability"], summary["final_exploitability"]
    ok = bool(np.isfinite(last) and last < first)
    return dict(passed=ok, checks=dict(exploitability_fell=ok),
                warnings=[] if ok else [f"exploitability did not fall ({first:.4g} -> {last:.4g})"])


def _last_evaluation(summary: dict):
    """The run's last evaluation, as the exploitability of the discrete verdicts."""
    value = summary["final_policy_return"]
    return types.SimpleNamespace(
        exploitability=summary["final_exploitability"], policy_return=value,
        best_response_return=summary["final_best_response_return"],
        relative=relative_exploitability(summary["final_exploitability"], value)
        if value else float("nan"))


def discrete_quality(solution):
    """``(row, verdicts)`` of a discrete-choice run (see the module docstring)."""
    cfg = solution.config
    n_paths = getattr(cfg, "n_paths", None) or cfg.eval_paths
    return tb._quality(solution, None, key=jax.random.key(int(cfg.seed)),
                       n_paths=int(n_paths), n_nodes=7, dates=None, history=None,
                       thresholds=None, evaluated=_last_evaluation(solution.summary))


def run_quality(solution) -> dict:
    """The quality verdicts of a solved run, JSON-ready (see the module docstring).

    Returns:
        ``{"passed", "warnings", "checks", ...}`` as :func:`game_quality`,
        :func:`~hank_mfg.reports.continuous.continuous_quality` or
        :func:`~hank_mfg.reports.tables.quality_summary`.
    """
    if isinstance(solution.model, AbstractFiniteMFG):
        return game_quality(dict(solution.summary))
    if isinstance(solution.policy, SavingsPolicy):
        with jax.enable_x64(True):  # continuous choices are solved in float64
            return continuous_quality(solution.history, n_paths=solution.config.eval_paths,
                                      first_order=certify_first_order(solution))
    return tb._quality_dict(*discrete_quality(solution))

"""Reports: the only layer that imports pandas/matplotlib/seaborn and writes files.

Tables (:mod:`.tables`), figures (:mod:`.figures`, matplotlib ``Figure`` objects, never pyplot)
and export (:mod:`.export`: CSV/Parquet tables, solution bundles, the ``hank-mfg report`` run
report), all built on the pure-JAX :mod:`hank_mfg.analysis`.
"""

from .economy import (
    consumption_response_table, distribution_table, forward_guidance_figure,
    forward_guidance_table, response_variables, steady_state_table,
)
from .export import load_bundle, load_run, read_table, save_bundle, save_figure, write_report, write_table
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
]

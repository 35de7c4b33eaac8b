"""Analysis of solutions in pure JAX: distribution statistics, simulated panels, impulse
responses and policy functions (no pandas; tables and figures
are built from these in :mod:`hank_mfg.reports`)."""

from .distribution import (
    QUANTILES,
    WealthStats,
    gini,
    income_conditional,
    lorenz_points,
    stats_by_income,
    top_share,
    wealth_marginal,
    wealth_quantile,
    wealth_stats,
)
from ..metrics.euler import LearnedEulerErrors, learned_euler_errors
from .calibration import TARGETS, Calibration, calibrate, steady_state_moments
from .economy import consumption_response_by_group, news_responses
from .irf import (
    IRF_UNITS, IRF_VARIABLES, deviations, generalized_irf, mit_deviations, response_units,
)
from .policy import (
    PolicyFunctions,
    interpolate_in_wealth,
    policy_at,
    policy_functions,
    stationary_value,
)
from .simulation import (
    PANEL_FIELDS, Panel, expected_choices, moments, panel_from_trajectory, simulate_paths,
    wealth_moments,
)

__all__ = [
    "QUANTILES", "WealthStats", "gini", "income_conditional", "lorenz_points", "stats_by_income",
    "top_share", "wealth_marginal", "wealth_quantile", "wealth_stats",
    "LearnedEulerErrors", "learned_euler_errors", "consumption_response_by_group",
    "news_responses",
    "IRF_UNITS", "IRF_VARIABLES", "deviations", "generalized_irf", "mit_deviations",
    "response_units",
    "PolicyFunctions", "interpolate_in_wealth", "policy_at", "policy_functions", "stationary_value",
    "PANEL_FIELDS", "Panel", "expected_choices", "moments", "panel_from_trajectory", "simulate_paths",
    "wealth_moments",
    "TARGETS", "Calibration", "calibrate", "steady_state_moments",
]

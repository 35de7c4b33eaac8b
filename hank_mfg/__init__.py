"""hank_mfg: heterogeneous-agent macroeconomics as mean-field games with common noise.

Layers (imports point one way): ``model`` (declaration) -> ``operators`` (compiled mean-field
operators) -> ``solvers`` (EGM, transition paths, RSPG/SPG, best response) -> ``metrics`` ->
``reports`` -> ``cli``.
"""

# first, before anything computes: the number of CPU devices is fixed when JAX starts
from .devices import available_cores, use_cpu_cores

use_cpu_cores()

from .model import (  # noqa: E402
    ACTION_KINDS,
    INFEASIBLE_REWARD,
    TERMINAL_RULES,
    AbstractFiniteMFG,
    AbstractHetAgentModel,
    AbstractLineMFG,
    action_grid,
    IncomeProcess,
    as_param,
    cobb_douglas_output,
    cobb_douglas_prices,
    crra_utility,
    double_exponential_grid,
    index_walk,
    markov_chain,
    model_checks,
    rouwenhorst,
    savings_grid,
    share_grid,
    shifted_geometric_grid,
    stationary_distribution,
    tauchen,
    uniform_grid,
)
from .operators import (  # noqa: E402
    AggregateState, GameMeanField, Lottery, MeanField, compile_model, lottery_weights,
)

__all__ = [
    "available_cores", "use_cpu_cores",
    "ACTION_KINDS", "INFEASIBLE_REWARD", "TERMINAL_RULES", "AbstractHetAgentModel", "action_grid",
    "IncomeProcess", "as_param", "cobb_douglas_output", "cobb_douglas_prices", "crra_utility",
    "double_exponential_grid", "index_walk",
    "markov_chain", "model_checks", "rouwenhorst", "savings_grid", "share_grid",
    "shifted_geometric_grid", "stationary_distribution", "tauchen", "uniform_grid",
    "AggregateState", "Lottery", "MeanField", "compile_model", "lottery_weights",
    "AbstractFiniteMFG", "AbstractLineMFG", "GameMeanField",
]

# --- classical solvers and Euler errors ---------------------------------------------------------
from .metrics.euler import (  # noqa: E402
    EulerErrors, LearnedEulerErrors, euler_errors, learned_euler_errors,
)
from .solvers import (  # noqa: E402
    HouseholdSteadyState,
    SteadyState,
    TransitionPath,
    household_steady_state,
    sequence_jacobian,
    steady_state,
    transition_path,
    with_steady_state_initial,
)

__all__ += [
    "EulerErrors", "LearnedEulerErrors", "euler_errors", "learned_euler_errors",
    "HouseholdSteadyState", "SteadyState", "TransitionPath",
    "household_steady_state", "sequence_jacobian", "steady_state", "transition_path",
    "with_steady_state_initial",
]

# --- general-equilibrium economies --------------------------------------------------------------
from .model import (  # noqa: E402
    AR1, HOUSEHOLD_OUTPUTS, AbstractEconomy, AbstractExogenous, AbstractHousehold,
    AggregateIdiosyncraticChain, Budget, LowerBound, MarkovChain, News, Shock, Variables,
)
from .solvers.equilibrium import EconomyPath, EconomySteadyState, economy_jacobian  # noqa: E402
from .solvers.krusell_smith import (  # noqa: E402
    KrusellSmithConfig, KrusellSmithSolution, LawOfMotion, krusell_smith,
)
from .metrics.den_haan import (  # noqa: E402
    CapitalPathGap, DenHaanErrors, capital_path_gap, den_haan_errors,
)

__all__ += [
    "HOUSEHOLD_OUTPUTS", "AbstractEconomy", "AbstractHousehold", "Budget", "LowerBound", "Shock",
    "Variables", "AR1", "AbstractExogenous", "AggregateIdiosyncraticChain", "MarkovChain", "News",
    "EconomyPath", "EconomySteadyState", "economy_jacobian",
    "KrusellSmithConfig", "KrusellSmithSolution", "LawOfMotion", "krusell_smith",
    "CapitalPathGap", "DenHaanErrors", "capital_path_gap", "den_haan_errors",
]

# --- RSPG / SPG, exploitability -----------------------------------------------------------------
from .metrics.exploitability import (  # noqa: E402
    DeviationResult, ExploitabilityResult, exploitability, exploitability_floor,
    trained_best_response,
)
from .metrics.first_order import (  # noqa: E402
    best_response_irf, first_order_certificate, path_certificate)
from .metrics.forecast import forecast_tests  # noqa: E402
from .policies import (  # noqa: E402
    PAPER_ARCHITECTURE, AbstractPolicy, MemorylessPolicy, RecurrentPolicy, TablePolicy,
    TimeTablePolicy, make_policy,
)
from .solvers.rollout import (  # noqa: E402
    Trajectory, best_response_values, policy_values, rollout, rollout_batch,
)
from .solvers.rspg import RSPGConfig, Solution, load_solution  # noqa: E402
from .api import solve  # noqa: E402  (the solvers' solve; its summary answers "quality")
from .solvers.rl import RLConfig  # noqa: E402
from .policies.savings import SavingsPolicy  # noqa: E402
from .solvers.continuous import SavingsProblem, savings_problem  # noqa: E402
from .solvers.savings_certificates import evaluate_savings  # noqa: E402

__all__ += [
    "DeviationResult", "ExploitabilityResult", "exploitability", "exploitability_floor",
    "trained_best_response", "best_response_irf",
    "first_order_certificate", "path_certificate",
    "forecast_tests", "PAPER_ARCHITECTURE", "AbstractPolicy",
    "MemorylessPolicy", "RecurrentPolicy", "TablePolicy", "TimeTablePolicy", "make_policy",
    "Trajectory", "best_response_values", "policy_values", "rollout", "rollout_batch",
    "RSPGConfig", "RLConfig", "Solution", "load_solution", "solve",
    "SavingsPolicy", "SavingsProblem", "evaluate_savings", "savings_problem",
]

# --- CLI helpers --------------------------------------------------------------------------------
from .loading import ModelLoadError, build_model, load_model_class  # noqa: E402

__all__ += ["ModelLoadError", "build_model", "load_model_class"]

__version__ = "0.1.0"

# --- calibration --------------------------------------------------------------------------------
from .analysis.calibration import TARGETS as CALIBRATION_TARGETS  # noqa: E402
from .analysis.calibration import Calibration, calibrate, steady_state_moments  # noqa: E402
from .analysis.targets_file import TargetFile, load_targets  # noqa: E402

__all__ += ["CALIBRATION_TARGETS", "Calibration", "calibrate", "steady_state_moments",
            "TargetFile", "load_targets"]

# --- analysis -----------------------------------------------------------------------------------
from .analysis import (  # noqa: E402
    QUANTILES, Panel, PolicyFunctions, WealthStats, generalized_irf, lorenz_points,
    policy_functions, simulate_paths, stationary_value, wealth_stats,
)
from .analysis import consumption_response_by_group, news_responses, response_units  # noqa: E402
from .analysis.aggregate_risk import (  # noqa: E402
    ergodic_moments, first_order_moments, floor_certificates, floor_responses, floor_statistics,
    girf_by_size, horizon_stability,
    irf_gap, learned_group_responses, learned_irf, learned_news_responses, risky_steady_state,
    state_dependent_girf,
)

__all__ += [
    "QUANTILES", "Panel", "PolicyFunctions", "WealthStats", "generalized_irf", "lorenz_points",
    "policy_functions",
    "simulate_paths", "stationary_value", "wealth_stats", "consumption_response_by_group",
    "news_responses", "response_units", "ergodic_moments", "irf_gap", "learned_irf",
    "girf_by_size", "learned_group_responses", "learned_news_responses", "state_dependent_girf",
    "first_order_moments", "risky_steady_state", "floor_certificates", "floor_responses",
    "floor_statistics", "horizon_stability",
]

# --- reports: imported on first use -------------------------------------------------------------
# The reports layer alone imports pandas, matplotlib and seaborn; ``import hank_mfg`` stays light
# and ``hm.wealth_distribution`` (or ``hank_mfg.reports``) loads it when first asked for.
_REPORTS = (
    "anticipation_figure", "anticipatory_consumption", "distribution_heatmaps", "impulse_figure",
    "impulse_responses", "load_bundle", "load_run", "lorenz_curve", "mit_responses",
    "policy_figure", "policy_table", "read_table", "save_bundle", "save_figure", "simulate",
    "solution_quality", "wealth_distribution", "wealth_figure", "write_report", "write_table",
    "steady_state_table", "forward_guidance_table", "forward_guidance_figure",
    "consumption_response_table", "distribution_table",
)
__all__ += list(_REPORTS)


def __getattr__(name: str):
    if name == "reports" or name in _REPORTS:
        import importlib

        reports = importlib.import_module(".reports", __name__)
        value = reports if name == "reports" else getattr(reports, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hank_mfg' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))

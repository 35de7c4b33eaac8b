"""Solvers: EGM steady state and transition paths (classical), RSPG/SPG, best response."""

__all__: list[str] = []

# --- classical solvers (EGM, stationary distribution, steady state, transition path) ---------
from .egm import (
    HouseholdSteadyState,
    egm_step,
    household_steady_state,
    policy_push_forward,
    stationary_policy_distribution,
)
from .steady_state import SteadyState, capital_demand, steady_state, with_steady_state_initial
from .transition import TransitionPath, household_path, sequence_jacobian, transition_path

__all__ += [
    "HouseholdSteadyState", "egm_step", "household_steady_state", "policy_push_forward",
    "stationary_policy_distribution", "SteadyState", "capital_demand", "steady_state", "with_steady_state_initial",
    "TransitionPath", "household_path", "sequence_jacobian", "transition_path",
]

# --- mean-field rollout, evaluation, best response, RSPG/SPG ---------------------------------
from .rollout import (  # noqa: E402
    Evaluation, Trajectory, best_response_values, evaluate_paths, policy_values, rollout,
    rollout_batch,
)
from .rspg import METHODS, RSPGConfig, Solution, load_solution, rspg_loss, solve, trainable_filter  # noqa: E402

__all__ += [
    "Evaluation", "Trajectory", "best_response_values", "evaluate_paths", "policy_values",
    "rollout", "rollout_batch", "METHODS", "RSPGConfig", "Solution", "load_solution", "rspg_loss",
    "solve", "trainable_filter",
]

# --- finite-state games: sampled populations and model-free baselines --------------------------
from .population import Population, simulate_population  # noqa: E402
from .rl import RL_METHODS, RLConfig  # noqa: E402

__all__ += ["Population", "simulate_population", "RL_METHODS", "RLConfig"]

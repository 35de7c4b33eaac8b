"""Declaration layer: grids, income processes, the abstract model."""

from . import _checks as model_checks
from .base import ACTION_KINDS, INFEASIBLE_REWARD, TERMINAL_RULES, AbstractHetAgentModel, as_param
from .household import AbstractHousehold, Budget, crra_utility
from .game import AbstractFiniteMFG, AbstractLineMFG
from .economy import HOUSEHOLD_OUTPUTS, AbstractEconomy, LowerBound, Shock, Variables
from .exogenous import AR1, AbstractExogenous, AggregateIdiosyncraticChain, MarkovChain, News, gauss_hermite
from .grids import (
    action_grid, double_exponential_grid, savings_grid, share_grid, shifted_geometric_grid,
    uniform_grid,
)
from .technology import cobb_douglas_output, cobb_douglas_prices
from .income import IncomeProcess, index_walk, markov_chain, rouwenhorst, stationary_distribution, tauchen

__all__ = [
    "ACTION_KINDS", "AbstractFiniteMFG", "AbstractLineMFG", "INFEASIBLE_REWARD", "TERMINAL_RULES", "AbstractHetAgentModel", "as_param",
    "AbstractHousehold", "Budget", "HOUSEHOLD_OUTPUTS", "AbstractEconomy", "LowerBound", "Shock",
    "Variables",
    "crra_utility", "action_grid", "double_exponential_grid", "savings_grid", "share_grid",
    "shifted_geometric_grid", "uniform_grid", "IncomeProcess", "index_walk", "markov_chain",
    "rouwenhorst", "stationary_distribution", "tauchen", "model_checks",
    "cobb_douglas_output", "cobb_douglas_prices",
    "AR1", "AbstractExogenous", "AggregateIdiosyncraticChain", "MarkovChain", "News", "gauss_hermite",
]

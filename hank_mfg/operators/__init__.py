"""Compiled mean-field operators (push-forward, adjoint expectation, rewards)."""

from .core import AbstractMeanField, Outcomes, check_policy_table
from .lottery import GridLocator, Lottery, expect, grid_locator, lottery_weights, push_forward
from .meanfield import AggregateState, MeanField, compile_economy
from .game import GameAggregate, GameMeanField, compile_game
from .compile import AnyMeanField, compile_model

__all__ = ["AbstractMeanField", "AggregateState", "AnyMeanField", "GameAggregate", "GameMeanField",
           "GridLocator", "Lottery", "MeanField", "Outcomes", "check_policy_table", "compile_economy",
           "compile_game", "compile_model", "expect", "grid_locator", "lottery_weights",
           "push_forward"]

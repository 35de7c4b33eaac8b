"""Compiled mean-field operators (push-forward, adjoint expectation, rewards)."""

from .meanfield import (
    AggregateState, GridLocator, Lottery, MeanField, compile_model, grid_locator, lottery_weights,
)
from .game import AnyMeanField, GameAggregate, GameMeanField, Outcomes, compile_game

__all__ = ["AggregateState", "GridLocator", "Lottery", "MeanField", "compile_model", "grid_locator",
           "lottery_weights", "AnyMeanField", "GameAggregate", "GameMeanField", "Outcomes", "compile_game"]

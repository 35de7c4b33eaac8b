"""Compiled mean-field operators (push-forward, adjoint expectation, rewards)."""

from .meanfield import AggregateState, Lottery, MeanField, compile_model, lottery_weights

__all__ = ["AggregateState", "Lottery", "MeanField", "compile_model", "lottery_weights"]

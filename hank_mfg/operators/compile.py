"""``compile_model``: a declared economy or game to its exact mean-field operators."""

from __future__ import annotations

from ..model.base import AbstractHetAgentModel
from ..model.game import AbstractFiniteMFG
from .core import AbstractMeanField
from .game import compile_game
from .meanfield import compile_economy

__all__ = ["AnyMeanField", "compile_model"]

#: What the solvers accept: any compiled mean field (an economy's or a game's).
AnyMeanField = AbstractMeanField


def compile_model(model: AbstractHetAgentModel | AbstractFiniteMFG) -> AbstractMeanField:
    """Compile a declared model into its exact mean-field operators.

    Example:
        >>> mf = hm.compile_model(RSPGMacro())           # n_states 1000, n_actions 20
        >>> mu = mf.initial_distribution(); agg = mf.aggregate_state(mu, 0.0)
        >>> P = jnp.full((mf.n_states, mf.n_actions), 1 / mf.n_actions)
        >>> mu1 = mf.push_forward(mu, P, agg)
    """
    if isinstance(model, AbstractFiniteMFG):
        return compile_game(model)
    if not isinstance(model, AbstractHetAgentModel):
        raise TypeError("compile_model expects an AbstractHetAgentModel or an AbstractFiniteMFG; "
                        f"got {type(model).__name__}")
    return compile_economy(model)

"""Solvers: EGM steady state and transition paths (classical), RSPG/SPG, best response."""

__all__: list[str] = []

# --- classical solvers (EGM, stationary distribution, steady state, transition path) ---------

# --- mean-field rollout, evaluation, best response, RSPG/SPG ---------------------------------

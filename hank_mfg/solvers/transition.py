"""Perfect-foresight transition paths (docs/theory.md §9.4), and the household block along a
price path and its sequence-space Jacobians.

Every economy's path is solved by one core,
:func:`~hank_mfg.solvers.equilibrium.economy_transition`: Newton's method on the paths of its
transition unknowns with the steady state's sequence-space Jacobian (the household block's
fake-news Jacobians composed with the aggregate block; Auclert, Bardóczy, Rognlie and Straub
2021). A capital economy (Krusell–Smith, Aiyagari, the paper's model) is one whose aggregate
block is the firm: its unknown is the capital households carry out of each date, ``K_next``,
and its path reports ``K_t`` as the capital used in production at ``t`` (predetermined, ``K_0 =
K_ss``), prices ``(r_t, w_t) = model.prices(K_t, L, z_t)``, ``mu_t`` the distribution over
``(a_t, e_t)`` at the start of ``t``, and the asset market ``A_t = K_{t+1}``.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from ..model.base import AbstractHetAgentModel
from .egm import in_float64, price_budget
from .equilibrium import economy_jacobian, economy_of_steady_state, economy_transition
from .household import household_block_path, household_jacobians
from .results import SteadyState, TransitionPath
from .steady_state import steady_state as solve_steady_state

__all__ = [
    "TransitionPath", "transition_path", "capital_view", "household_path",
    "sequence_jacobian", "transition_jacobian",
]


def household_path(model, r, w, Va_T, mu_0, interp: str = "linear"):
    """Households along a price path: EGM backward from ``Va_T``, lottery forward from ``mu_0``.

    Args:
        r, w: price paths ``(T,)``. Va_T: marginal value after the path (terminal steady
            state). mu_0: ``(n_a, n_e)`` distribution at ``t = 0``.

    Returns:
        ``(A, C, mu, a_policy, c_policy)``: end-of-period assets and consumption ``(T,)``, the
        distribution path ``(T, n_a, n_e)`` (``mu[t]`` over ``(a_t, e_t)``) and policies.
    """
    budgets = jax.vmap(lambda rr, ww: price_budget(model, rr, ww))(r, w)
    hp = household_block_path(model, budgets, Va_T, mu_0, interp)
    return hp.A, hp.C, hp.mu, hp.a_policy, hp.c_policy


def _fake_news(model, ss: SteadyState, T: int, interp: str):
    """Household Jacobians ``J[x][t, s] = dA_t / dx_s`` at the steady state, ``x in (r, w)``."""
    J = household_jacobians(model, model.budget, {"r": ss.r, "w": ss.w}, ss.Va, ss.mu, T,
                            interp, outputs=("A",))["A"]
    return J["r"], J["w"]


@in_float64
def sequence_jacobian(model: AbstractHetAgentModel, ss: SteadyState, T: int,
                      interp: str = "linear"):
    """Sequence-space Jacobians of asset supply at the steady state (fake-news algorithm).

    Returns ``(J_r, J_w)``, each ``(T, T)`` with ``J_x[t, s] = d A_t / d x_s`` (``A_t`` the
    end-of-period assets chosen at ``t``, ``x_s`` the price at ``s``).

    Raises:
        ValueError: ``ss`` is not the steady state of ``model`` (what differs is named).
    """
    economy_of_steady_state("sequence_jacobian", model, ss, interp=interp)
    return _sj_jit(model, ss, T, interp)


_sj_jit = eqx.filter_jit(_fake_news)


def transition_path(model, steady_state=None, *, shocks=None, **kwargs):
    """Perfect-foresight transition after shocks announced at date 0 (MIT shocks, news).

    Shocks are paths of deviations from the steady state, named as the model names its
    exogenous variables, given either as keywords (``z=path``, ``rstar=path``) or as
    ``shocks={name: path}`` (``model.exogenous``: log TFP ``z`` for a capital economy), and
    solved by :func:`~hank_mfg.solvers.equilibrium.economy_transition`; a capital economy's
    path is reported as :func:`capital_view` says. ``steady_state`` defaults to
    ``hm.steady_state(model)``. Other keyword arguments go to the solver.

    Example:
        >>> path = hm.transition_path(KrusellSmith(), ss, z=0.01 * 0.9 ** jnp.arange(300))
        >>> path = hm.transition_path(OneAssetHANK(), hank_ss, rstar=-0.0025 * 0.61 ** jnp.arange(300))
        >>> path["Y"], path["pi"]
    """
    names = tuple(model.exogenous)
    named = {k: kwargs.pop(k) for k in names if k in kwargs}
    shocks = {} if shocks is None else dict(shocks)
    both = sorted(set(named) & set(shocks))
    if both:
        raise ValueError(f"transition_path: {both} given both as a keyword and in shocks=")
    shocks.update(named)
    unknown = sorted(set(shocks) - set(names))
    if unknown:
        raise ValueError(f"transition_path.shocks: {type(model).__name__}'s shocks are named "
                         f"{names}; got {unknown}")
    if not shocks:
        raise ValueError(f"transition_path: give at least one shock path, named as "
                         f"{type(model).__name__}'s exogenous variables {names} (e.g. "
                         f"{names[0]}=path)")
    if steady_state is None:
        steady_state = solve_steady_state(model)
    if isinstance(kwargs.get("jacobian"), tuple):
        raise TypeError("transition_path.jacobian: give the targets' Jacobian, "
                        "transition_jacobian(model, steady_state, T), not the households' "
                        "(J_r, J_w) of sequence_jacobian")
    path = economy_transition(model, shocks=shocks, steady_state=steady_state, **kwargs)
    if isinstance(model, AbstractHetAgentModel):
        path = capital_view(path, steady_state)
    return path


def capital_view(path: TransitionPath, steady_state: SteadyState) -> TransitionPath:
    """A capital economy's path as it reports it: ``K`` the capital in use at ``t`` (``K_0 =
    K_ss``, as the aggregate block defines it) and the asset market's residual ``A_t -
    K_{t+1}`` whose last date, ``A_{T-1} - K_ss``, is the gap left at the end of the horizon
    (``path.terminal_gap``: how far the path's end still is from the steady state it is
    assumed to return to)."""
    A, K = path.values["A"], path.values["K"]
    gap = jnp.concatenate([A[:-1] - K[1:], (A[-1] - steady_state.values["K"])[None]])
    return eqx.tree_at(lambda p: p.residuals, path, {**path.residuals, "asset_mkt": gap})


def transition_jacobian(model, steady_state, T: int):
    """The steady state's sequence-space Jacobian that :func:`transition_path` solves with, for
    ``T`` dates (:func:`~hank_mfg.solvers.equilibrium.economy_jacobian`, every economy's).
    Compute it once and pass it as ``jacobian=`` to every transition of the same length."""
    return economy_jacobian(steady_state, T)



"""Perfect-foresight transition paths after an MIT shock to log TFP (docs/theory.md §9.4).

Timing convention (the sequence-space codes' and the compiled operators'): ``mu_t`` is the
distribution over ``(a_t, e_t)`` at the start of period ``t``, where ``a_t`` was chosen at
``t - 1``; ``K_t = sum mu_t a`` is the capital used in production at ``t`` (predetermined),
prices are ``(r_t, w_t) = model.prices(K_t, L, z_t)``, cash on hand is
``m = (1 + r_t) a + w_t e``, households choose ``a'_t(a, e)`` (EGM backward from the terminal
steady state), and ``mu_{t+1}`` is the lottery push-forward of ``mu_t`` under ``a'_t`` followed by
the income matrix. Markets clear when end-of-period assets equal next period's capital,
``A_t = sum mu_t a'_t = K_{t+1}`` for ``t = 0..T-2``; ``K_0 = K_ss`` and the economy is back at the
steady state after ``T`` (``Va_T = Va_ss``).

Solver: Newton's method on the capital path ``(K_1, ..., K_{T-1})`` with a *fixed* Jacobian, the
sequence-space Jacobian of the market-clearing residual at the steady state (Auclert, Bardóczy,
Rognlie and Straub 2021), computed once by the fake-news algorithm: one forward-mode (``jvp``)
backward sweep of the EGM step for a shock at the last date, ``T`` expectation vectors and a
``T x T`` accumulation — about the cost of two path evaluations, against ``T`` for a brute-force
Jacobian. Because the path stays near the steady state after an MIT shock, this quasi-Newton
iteration converges linearly with a tiny rate (a handful of iterations to 1e-10), unlike a damped
fixed point on prices which needs hundreds.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
from jaxtyping import Array, ArrayLike, Float

from ..model.base import AbstractHetAgentModel
from ..model.economy import AbstractEconomy
from .egm import check_interp, check_model, household_arrays, in_float64, price_budget
from .equilibrium import economy_jacobian, economy_transition
from .household import household_block_path, household_jacobians
from .roots import newton
from .results import SteadyState, TransitionPath
from .steady_state import check_capital_steady_state
from .steady_state import steady_state as solve_steady_state

__all__ = [
    "TransitionPath", "transition_path", "capital_transition_path", "household_path",
    "sequence_jacobian", "transition_jacobian",
]


def _labour(model):
    _, e_grid, _, pi_e = household_arrays(model)
    return pi_e @ e_grid


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


def _prices_path(model, K, z, L):
    return jax.vmap(lambda k, zz: model.prices(k, L, zz))(K, z)


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
    check_capital_steady_state("sequence_jacobian", model, ss, interp=interp)
    return _sj_jit(model, ss, T, interp)


_sj_jit = eqx.filter_jit(_fake_news)


def _market_jacobian(model, ss, J_r, J_w, T):
    L = _labour(model)
    r_K = jax.grad(lambda k: model.prices(k, L, 0.0)[0])(ss.K)
    w_K = jax.grad(lambda k: model.prices(k, L, 0.0)[1])(ss.K)
    M = J_r[: T - 1, 1:] * r_K + J_w[: T - 1, 1:] * w_K
    return M - jnp.eye(T - 1)


def _solve_core(model, ss, z, tol, maxiter, interp, J_r, J_w, want_paths: bool):
    T = z.shape[0]
    L = _labour(model)
    lu = jsl.lu_factor(_market_jacobian(model, ss, J_r, J_w, T))

    def residual(U):
        K = jnp.concatenate([ss.K[None], U])
        r, w = _prices_path(model, K, z, L)
        A, C, mus, a_p, c_p = household_path(model, r, w, ss.Va, ss.mu, interp)
        return A[:-1] - U, (K, r, w, A, C, mus, a_p, c_p)

    U, it = newton(lambda U: residual(U)[0], jnp.full((T - 1,), ss.K),
                   lambda U, H: jsl.lu_solve(lu, H), tol=tol, maxiter=maxiter)
    H, (K, r, w, A, C, mus, a_p, c_p) = residual(U)
    Y = jax.vmap(lambda k, zz: model.output(k, L, zz))(K, z)
    return TransitionPath(
        model=model, values=dict(z=z, K=K, Y=Y, C=C, r=r, w=w, A=A),
        residuals={"asset_mkt": jnp.concatenate([H, (A[-1] - ss.K)[None]])},
        shocks={"z": z}, max_residual=jnp.max(jnp.abs(H)),
        iterations=it, mu=mus if want_paths else None,
        a_policy=a_p if want_paths else None, c_policy=c_p if want_paths else None,
    )


_solve_jit = eqx.filter_jit(_solve_core)


def transition_path(model, steady_state=None, *, shocks=None, **kwargs):
    """Perfect-foresight transition after shocks announced at date 0 (MIT shocks, news).

    Shocks are paths of deviations from the steady state, named as the model names its
    exogenous variables, given either as keywords (``z=path``, ``rstar=path``) or as
    ``shocks={name: path}``: log TFP ``z`` for a capital economy
    (:class:`AbstractHetAgentModel`, solved by :func:`capital_transition_path`), any of
    ``model.exogenous`` for an :class:`~hank_mfg.model.economy.AbstractEconomy` (solved by
    :func:`~hank_mfg.solvers.equilibrium.economy_transition`). ``steady_state`` defaults to
    ``hm.steady_state(model)``. Other keyword arguments go to the solver.

    Example:
        >>> path = hm.transition_path(KrusellSmith(), ss, z=0.01 * 0.9 ** jnp.arange(300))
        >>> path = hm.transition_path(OneAssetHANK(), hank_ss, rstar=-0.0025 * 0.61 ** jnp.arange(300))
        >>> path["Y"], path["pi"]
    """
    names = tuple(model.exogenous) if isinstance(model, AbstractEconomy) else ("z",)
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
    if isinstance(model, AbstractEconomy):
        return economy_transition(model, shocks=shocks, steady_state=steady_state, **kwargs)
    return capital_transition_path(model, z=shocks["z"], steady_state=steady_state, **kwargs)


def transition_jacobian(model, steady_state, T: int):
    """The steady state's sequence-space Jacobian that :func:`transition_path` solves with, for
    ``T`` dates: :func:`~hank_mfg.solvers.equilibrium.economy_jacobian` for an economy,
    :func:`sequence_jacobian` for a capital economy. Compute it once and pass it as
    ``jacobian=`` to every transition of the same length."""
    if isinstance(model, AbstractEconomy):
        return economy_jacobian(steady_state, T)
    return sequence_jacobian(model, steady_state, T)


@in_float64
def capital_transition_path(
    model: AbstractHetAgentModel,
    *,
    z: Float[ArrayLike, " T"],
    steady_state: SteadyState,
    tol: float = 1e-10,
    maxiter: int = 50,
    return_distribution: bool = False,
    interp: str = "linear",
    jacobian: tuple[Array, Array] | None = None,
) -> TransitionPath:
    """Perfect-foresight transition after an MIT shock to log TFP (docs/theory.md §9.4).

    The economy starts at ``steady_state`` (``mu_0 = mu_ss``, ``K_0 = K_ss``), learns the whole
    path ``z_0, ..., z_{T-1}`` at ``t = 0`` (zero afterwards) and returns to the steady state after
    ``T``. Solves for ``K_1..K_{T-1}`` so that ``A_t = K_{t+1}`` every period by Newton's method
    with the steady-state sequence-space Jacobian (fake-news algorithm, computed once and
    LU-factorised); see the module docstring for the timing and why.

    Args:
        model: the declared model. z: log-TFP path ``(T,)``, e.g. ``0.01 * 0.9 ** arange(300)``.
        steady_state: the :class:`SteadyState` of the same model (``hm.steady_state(model)``).
        tol: ``max_t |A_t - K_{t+1}|``. maxiter: Newton iterations.
        return_distribution: also return ``mu`` ``(T, n_a, n_e)`` and the policy paths.
        interp: policy interpolation (as for the steady state).
        jacobian: precomputed ``sequence_jacobian(model, ss, T)`` to reuse across shocks.

    Returns:
        :class:`TransitionPath` with ``K, Y, C, r, w`` paths (``(T,)``).

    Raises:
        RuntimeError: not converged (iterations and residual).
        ValueError: ``z`` not 1-d with at least 3 dates.

    Example:
        >>> ss = hm.steady_state(model)
        >>> path = hm.transition_path(model, z=0.01 * 0.9 ** jnp.arange(300), steady_state=ss)
        >>> 100 * (path.Y[0] / ss.Y - 1)                 # output response on impact, in %
    """
    where = "transition_path"
    check_model(where, model)
    check_interp(where, interp)
    if not isinstance(steady_state, SteadyState):
        raise TypeError(f"{where}.steady_state must be a SteadyState (hm.steady_state(model)); "
                        f"got {type(steady_state).__name__}")
    z = jnp.asarray(z, dtype=float)
    if z.ndim != 1 or z.shape[0] < 3:
        raise ValueError(f"{where}.z must be a 1-d log-TFP path with at least 3 dates; "
                         f"got shape {tuple(z.shape)}")
    if not bool(jnp.all(jnp.isfinite(z))):
        raise ValueError(f"{where}.z is not finite (NaN or inf at some date); give a finite "
                         "log-TFP path")
    check_capital_steady_state(where, model, steady_state, interp=interp)
    T = int(z.shape[0])
    J_r, J_w = _sj_jit(model, steady_state, T, interp) if jacobian is None else jacobian
    path = _solve_jit(model, steady_state, z, jnp.asarray(tol, dtype=float), maxiter, interp,
                      J_r, J_w, bool(return_distribution))
    err = float(path.max_residual)
    if not err <= tol:
        raise RuntimeError(
            f"{where}: Newton on the capital path did not converge after "
            f"{int(path.iterations)} iterations (maxiter {maxiter}); max |A_t - K_(t+1)| = "
            f"{err:.6g} > tol {tol:.6g}"
        )
    return path

"""The Krusell–Smith algorithm (docs/krusell_smith.md): households who forecast aggregate capital
with a log-linear law of motion, the cross-section simulated exactly, the law updated by
regression until it stops moving.

1. Given ``log K' = a_z + b_z log K``, households solve by EGM on ``(k, eps)`` for every point
   of an aggregate-capital grid and every aggregate state ``z``: next period's marginal value is
   interpolated linearly in ``K`` at the forecast ``K'`` and its expectation over ``(z', eps')``
   is exact (the joint chain).
2. The cross-section (a distribution on the wealth grid, no sampled households) moves along a
   long path of aggregate states: at date ``t`` the policy at the actual ``K_t`` (linear in
   ``K`` between grid points), the wealth lottery, then ``Pi_e[z_t, z_{t+1}]``.
3. On the dates after a burn-in, ``log K_{t+1}`` is regressed on ``log K_t`` separately in each
   aggregate state; the law moves part of the way to the estimate; stop when no coefficient
   moves more than ``tol``.
"""

from __future__ import annotations

import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int

from ..model.household import Budget
from ..operators.lottery import grid_locator, lottery_weights, push_forward
from .egm import invert_euler

__all__ = ["KrusellSmithConfig", "KrusellSmithSolution", "LawOfMotion", "krusell_smith"]


class LawOfMotion(eqx.Module):
    """The households' forecast ``log K' = a[z] + b[z] log K``, with ``c`` the optional
    curvature ``+ c[z] (log K - center)^2`` (``center`` a fixed log capital, so that the three
    regressors are not nearly collinear; docs/krusell_smith.md)."""

    a: Float[Array, " n_z"]
    b: Float[Array, " n_z"]
    c: Float[Array, " n_z"] | None = None
    center: float = eqx.field(static=True, default=0.0, converter=float)

    def __call__(self, K, z):
        x = jnp.log(K)
        out = self.a[z] + self.b[z] * x
        if self.c is not None:
            out = out + self.c[z] * (x - self.center) ** 2
        return jnp.exp(out)

    @property
    def degree(self) -> int:
        """1 for the log-linear law, 2 with the curvature term."""
        return 1 if self.c is None else 2

    def coefficients(self) -> np.ndarray:
        """``(a, b[, c])`` of each aggregate state in turn, as one vector."""
        cols = [self.a, self.b] + ([] if self.c is None else [self.c])
        return np.stack([np.asarray(v) for v in cols], axis=1).ravel()

    def with_coefficients(self, x) -> "LawOfMotion":
        """The same form with the coefficients ``x`` (laid out as :meth:`coefficients`)."""
        x = np.asarray(x).reshape(self.a.shape[0], self.degree + 1)
        c = None if self.c is None else jnp.asarray(x[:, 2])
        return LawOfMotion(a=jnp.asarray(x[:, 0]), b=jnp.asarray(x[:, 1]), c=c,
                           center=self.center)


class KrusellSmithConfig(eqx.Module):
    """Settings of :func:`krusell_smith`.

    T: simulated dates (after ``burn_in``); seed: the key of the aggregate-state path.
    law_degree: 1 for Krusell and Smith's log-linear law, 2 to add the curvature term
    ``c_z (log K - center)^2`` (the centre is the log of the capital grid's midpoint).
    damping: the share of the way the law moves to each new estimate; memory: the laws
    mixed with it (Anderson mixing; 1 is plain damping). tol: stop when no
    coefficient moves more than this. max_iterations: outer iterations. egm_tol, egm_maxiter:
    the households' fixed point (sup-norm change of the savings policy).
    """

    T: int = eqx.field(static=True, default=10_000)
    burn_in: int = eqx.field(static=True, default=1_000)
    seed: int = eqx.field(static=True, default=0)
    damping: float = eqx.field(static=True, default=0.3)
    memory: int = eqx.field(static=True, default=4)
    tol: float = eqx.field(static=True, default=1e-6)
    max_iterations: int = eqx.field(static=True, default=60)
    egm_tol: float = eqx.field(static=True, default=1e-9)
    egm_maxiter: int = eqx.field(static=True, default=20_000)
    law_degree: int = eqx.field(static=True, default=1)

    def __check_init__(self):
        for name in ("T", "burn_in", "max_iterations", "egm_maxiter", "memory"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < (0 if name == "burn_in" else 1):
                raise ValueError(f"KrusellSmithConfig.{name} must be a "
                                 f"{'non-negative' if name == 'burn_in' else 'positive'} "
                                 f"integer; got {value!r}")
        if not 0.0 < self.damping <= 1.0:
            raise ValueError(f"KrusellSmithConfig.damping must lie in (0, 1]; got {self.damping!r}")
        if self.law_degree not in (1, 2):
            raise ValueError(f"KrusellSmithConfig.law_degree must be 1 (log-linear) or 2 (with "
                             f"curvature in log K); got {self.law_degree!r}")


class KrusellSmithSolution(eqx.Module):
    """What the Krusell–Smith algorithm found.

    law: the converged law of motion. r2, se: the regression's R^2 and standard error per
    aggregate state. a_policy, c_policy: savings and consumption ``(n_z, n_K, n_a, n_e)``.
    Va: marginal value of wealth, same shape. z: the simulated aggregate states ``(T,)`` and
    K: aggregate capital ``(T,)`` on them (after the burn-in). mu: the cross-section at the end.
    mu_by_state: the mean cross-section over the simulated dates in each aggregate state.
    iterations: outer iterations. history: the estimated coefficients of each iteration,
    ``(a, b[, c])`` of each aggregate state in turn (``a_bad, b_bad, a_good, b_good`` for the
    log-linear law). seconds: wall time.
    """

    model: eqx.Module
    config: KrusellSmithConfig
    law: LawOfMotion
    r2: Float[Array, " n_z"]
    se: Float[Array, " n_z"]
    a_policy: Float[Array, "n_z n_K n_a n_e"]
    c_policy: Float[Array, "n_z n_K n_a n_e"]
    Va: Float[Array, "n_z n_K n_a n_e"]
    z: Int[Array, " T"]
    K: Float[Array, " T"]
    mu: Float[Array, "n_a n_e"]
    mu_by_state: Float[Array, "n_z n_a n_e"]
    iterations: int
    history: Float[Array, "n k"]
    seconds: float


def _interp_in_K(values, K_grid, K):
    """``values[..., iK, ...]`` on the grid of aggregate capital (axis 0), linear at ``K``
    (extrapolated linearly past the ends)."""
    n = K_grid.shape[0]
    i = jnp.clip(jnp.searchsorted(K_grid, K, side="right") - 1, 0, n - 2)
    w = (K - K_grid[i]) / (K_grid[i + 1] - K_grid[i])
    return (1.0 - w) * values[i] + w * values[i + 1]


def expected_marginal_value(chain, law, Va, K_grid, z, K):
    """``E[V_a(a', e', K', z') | e, z]`` at every grid ``a'`` (``(n_a, n_e)``, today's ``e`` in
    columns) for aggregate state ``z`` and capital ``K``: next period's marginal value at the
    forecast ``K' = law(K, z)`` (linear in ``K``), weighted by the joint chain,
    ``Pi_z[z, z'] Pi_e[z, z', e, e']``."""
    K_next = law(K, z)
    W_next = jax.vmap(lambda zn: _interp_in_K(Va[zn], K_grid, K_next))(
        jnp.arange(chain.n_aggregate))
    return jnp.einsum("w,wef,waf->ae", chain.aggregate.Pi[z], chain.Pi_e[z], W_next)


def _egm_step(model, chain, law, Va):
    """One EGM step on every ``(z, K)``: ``Va (n_z, n_K, n_a, n_e)`` of next period."""
    K_grid, a_grid = model.K_grid, model.a_grid
    n_z = chain.n_aggregate

    def one(z, K):
        EV = expected_marginal_value(chain, law, Va, K_grid, z, K)
        R, y = model.factor_incomes(K, z)
        budget = Budget(R=R, y=y, we=jnp.zeros_like(y))
        return invert_euler(model, model.beta * EV, budget, a_grid)

    zs = jnp.repeat(jnp.arange(n_z), K_grid.shape[0])
    Ks = jnp.tile(K_grid, n_z)
    out = jax.vmap(one)(zs, Ks)
    return jax.tree_util.tree_map(lambda x: x.reshape((n_z, K_grid.shape[0]) + x.shape[1:]), out)


@eqx.filter_jit
def _solve_households(model, chain, law, Va0, tol, maxiter):
    """EGM to the fixed point given the law of motion (warm-started from ``Va0``)."""
    def cond(s):
        it, _, _, err = s
        return (err > tol) & (it < maxiter)

    def body(s):
        it, Va, a_old, _ = s
        Va_new, a_pol, _, _ = _egm_step(model, chain, law, Va)
        return it + 1, Va_new, a_pol, jnp.max(jnp.abs(a_pol - a_old))

    a0 = jnp.full(Va0.shape, jnp.inf)
    it, Va, a_pol, err = jax.lax.while_loop(cond, body, (0, Va0, a0, jnp.asarray(jnp.inf)))
    _, a_pol, c_pol, _ = _egm_step(model, chain, law, Va)
    return Va, a_pol, c_pol, it, err


def _cross_section_step(model, chain, a_policy, mu, z, z_next, locator=None):
    """One date: aggregate capital of ``mu``, the policy at it, the lottery, the employment move
    (``locator``: :func:`~hank_mfg.operators.lottery.grid_locator` of the wealth grid)."""
    K = jnp.sum(mu * model.a_grid[:, None])
    a_next = _interp_in_K(a_policy[z], model.K_grid, K)
    lot = lottery_weights(a_next, model.a_grid, locator)
    return K, push_forward(mu, lot, chain.idiosyncratic(z, z_next))


def simulate_cross_section(model, chain, a_policy, z_path, mu0, keep: bool = False):
    """Aggregate capital along ``z_path`` (``(T + 1,)`` states; the last only moves the
    distribution): the cross-section on the wealth grid, the policy at the actual ``K_t``.
    Returns ``(K (T,), mu)``: the distribution after the last date, or with ``keep`` the one at
    the start of every date ``(T, n_a, n_e)``."""
    return _simulate(model, chain, a_policy, z_path, mu0, keep, grid_locator(model.a_grid))


@eqx.filter_jit
def _simulate(model, chain, a_policy, z_path, mu0, keep, locator):
    def step(mu, zz):
        K, mu_next = _cross_section_step(model, chain, a_policy, mu, *zz, locator)
        return mu_next, (K, mu) if keep else K

    mu, out = jax.lax.scan(step, mu0, (z_path[:-1], z_path[1:]))
    return out if keep else (out, mu)


@eqx.filter_jit
def _simulate_state_means(model, chain, a_policy, z_path, mu0, burn_in, locator):
    """:func:`simulate_cross_section` that also averages the cross-section over the dates from
    ``burn_in`` on in each aggregate state (without keeping every date's distribution).
    Returns ``(K (T,), mu, means (n_z, n_a, n_e))``."""
    n_z = chain.n_aggregate

    def step(carry, tz):
        mu, sums, counts = carry
        t, z, z_next = tz
        K, mu_next = _cross_section_step(model, chain, a_policy, mu, z, z_next, locator)
        w = (t >= burn_in) * jax.nn.one_hot(z, n_z, dtype=mu.dtype)
        return (mu_next, sums + w[:, None, None] * mu, counts + w), K

    T = z_path.shape[0] - 1
    init = (mu0, jnp.zeros((n_z,) + mu0.shape, mu0.dtype), jnp.zeros(n_z, mu0.dtype))
    (mu, sums, counts), K = jax.lax.scan(step, init, (jnp.arange(T), z_path[:-1], z_path[1:]))
    return K, mu, sums / jnp.maximum(counts, 1.0)[:, None, None]


def aggregate_path(chain, seed: int, n: int) -> Int[Array, " n"]:
    """``n`` aggregate states of the chain drawn with the key ``seed`` (from its initial state)."""
    agg = chain.aggregate
    return agg.simulate(agg.sample(key=jax.random.key(seed), n_paths=1, T=n)[0])


def initial_cross_section(model, chain, z0) -> Float[Array, "n_a n_e"]:
    """A start for the simulated cross-section: everyone at the wealth grid point nearest the
    middle of the capital grid, with the employment shares of aggregate state ``z0`` (a
    burn-in then takes it to the ergodic set)."""
    a_grid = model.a_grid
    at = jnp.zeros(a_grid.shape[0]).at[jnp.argmin(jnp.abs(a_grid - model.K_grid.mean()))].set(1.0)
    return jnp.outer(at, chain.conditional_shares()[z0])


def regress(K, z, n_z: int, degree: int = 1, center: float = 0.0):
    """Per aggregate state: OLS of ``log K_{t+1}`` on ``log K_t`` (and, with ``degree`` 2, on
    ``(log K_t - center)^2``) over the dates in that state. Returns ``(coef, r2, se)`` as
    NumPy arrays: ``coef (n_z, degree + 1)`` holds ``(a, b[, c])`` of each state."""
    x, y, zz = np.log(K[:-1]), np.log(K[1:]), np.asarray(z[:-1])
    coef, r2, se = np.zeros((n_z, degree + 1)), np.zeros(n_z), np.zeros(n_z)
    for s in range(n_z):
        xs, ys = x[zz == s], y[zz == s]
        X = np.stack([np.ones_like(xs), xs] + ([(xs - center) ** 2] if degree == 2 else []),
                     axis=1)
        coef[s], *_ = np.linalg.lstsq(X, ys, rcond=None)
        resid = ys - X @ coef[s]
        r2[s] = 1.0 - resid.var() / ys.var()
        se[s] = np.sqrt(np.sum(resid**2) / max(len(ys) - degree - 1, 1))
    return coef, r2, se


def _anderson(xs, ds, damping):
    """The next law by Anderson mixing of the last few laws ``xs`` and their regression steps
    ``ds`` (each estimate minus the law it came from).

    The regression map answers slowly in one direction of the coefficients and overshoots in
    another (slopes of about -0.2 and -2.3, inferred from how fast the steps shrink under a
    fixed share of 30% and how they oscillate under 60%), so no single share of the way
    converges fast in both. Anderson mixing takes the combination of the recent steps with the smallest
    step (a least-squares fit over their differences, as GMRES would on a linear map) and moves
    ``damping`` of the way from it; with one pair it is plain damping."""
    x, d = xs[-1], ds[-1]
    if len(xs) < 2:
        return x + damping * d
    dX = np.stack([xs[i + 1] - xs[i] for i in range(len(xs) - 1)], axis=1)
    dD = np.stack([ds[i + 1] - ds[i] for i in range(len(ds) - 1)], axis=1)
    gamma, *_ = np.linalg.lstsq(dD, d, rcond=None)
    return x + damping * d - (dX + damping * dD) @ gamma


def krusell_smith(model, config: KrusellSmithConfig | None = None, *, law: LawOfMotion | None = None,
                  progress: bool = False) -> KrusellSmithSolution:
    """Solve ``model`` (e.g. ``KrusellSmithUnemployment()``) by the Krusell–Smith algorithm.

    Args:
        model: an economy with a joint aggregate/idiosyncratic ``chain``, grids ``a_grid``
            and ``K_grid``, ``factor_incomes(K, z)`` and CRRA marginal utility.
        config: :class:`KrusellSmithConfig`. law: the starting law of motion (default:
            capital constant at the middle of the capital grid, ``b = 1``).
        progress: print each iteration's coefficients.

    Returns:
        :class:`KrusellSmithSolution`.

    Raises:
        RuntimeError: the households' fixed point or the law of motion did not converge.
    """
    config = KrusellSmithConfig() if config is None else config
    t0 = time.perf_counter()
    with jax.enable_x64(True):
        chain = model.chain
        n_z = chain.n_aggregate
        if law is None:
            law = LawOfMotion(a=jnp.zeros(n_z), b=jnp.ones(n_z))
        if config.law_degree == 2 and law.c is None:
            center = float(np.log(0.5 * (model.K_grid[0] + model.K_grid[-1])))
            law = LawOfMotion(a=law.a, b=law.b, c=jnp.zeros(n_z), center=center)
        elif config.law_degree == 1 and law.c is not None:
            raise ValueError("krusell_smith: the starting law has a curvature term but "
                             "config.law_degree is 1")
        # a sure start: every household consumes its income and a twentieth of its wealth
        R, y = jax.vmap(jax.vmap(model.factor_incomes, (0, None)), (None, 0))(model.K_grid, jnp.arange(n_z))
        c0 = y[:, :, None, :] + (R[:, :, None, None] - 1.0 + 0.05) * model.a_grid[None, None, :, None]
        Va = R[:, :, None, None] * model.marginal_utility(c0)
        z_path = aggregate_path(chain, config.seed, config.burn_in + config.T + 1)
        mu0 = initial_cross_section(model, chain, z_path[0])
        locator, burn_in = grid_locator(model.a_grid), jnp.asarray(config.burn_in)
        history, move = [], 1e-2  # the first fixed point to 1e-5
        xs, ds = [], []
        for it in range(1, config.max_iterations + 1):
            # the households' fixed point only as precise as the law it answers: a thousandth
            # of the law's last move (the final iterations run at egm_tol)
            tol = max(config.egm_tol, 1e-3 * move)
            Va, a_pol, c_pol, n_it, err = _solve_households(model, chain, law, Va,
                                                             jnp.asarray(tol, float),
                                                             jnp.asarray(config.egm_maxiter, int))
            if not float(err) <= tol:
                raise RuntimeError(f"krusell_smith: EGM did not converge in {int(n_it)} "
                                   f"iterations (change {float(err):.3g}) at iteration {it}")
            K, mu, mu_by_state = _simulate_state_means(model, chain, a_pol, z_path, mu0,
                                                       burn_in, locator)
            K, zs = np.asarray(K)[config.burn_in:], np.asarray(z_path)[config.burn_in:-1]
            coef, r2, se = regress(K, zs, n_z, law.degree, law.center)
            old = law.coefficients()
            step = coef.ravel() - old
            move = np.max(np.abs(step))
            history.append(coef.ravel())
            if progress:
                print(f"krusell_smith {it}: (a, b[, c]) by state {coef.tolist()}, R2 {r2}, "
                      f"move {move:.2e}, EGM {int(n_it)} steps, {time.perf_counter() - t0:.1f}s")
            if it > 1:  # the first estimate answers the flat start law: no slope to learn from
                xs, ds = (xs + [old])[-config.memory:], (ds + [step])[-config.memory:]
            nxt = _anderson(xs, ds, config.damping) if xs else old + config.damping * step
            law = law.with_coefficients(nxt)
            if move < config.tol:
                break
        else:
            raise RuntimeError(f"krusell_smith: the law of motion still moved {move:.3g} after "
                               f"{config.max_iterations} iterations (tol {config.tol:.3g})")
        law = law.with_coefficients(coef)
        return KrusellSmithSolution(
            model=model, config=config, law=law, r2=jnp.asarray(r2), se=jnp.asarray(se),
            a_policy=a_pol, c_policy=c_pol, Va=Va, z=jnp.asarray(zs), K=jnp.asarray(K), mu=mu,
            mu_by_state=mu_by_state, iterations=it, history=jnp.asarray(history), seconds=time.perf_counter() - t0)

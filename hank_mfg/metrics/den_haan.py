"""den Haan's accuracy statistics for a law of motion of aggregate capital (docs/krusell_smith.md).

den Haan (2010, *Assessing the accuracy of the aggregate law of motion in models with
heterogeneous agents*, JEDC 34(1)): iterate the law on its own forecasts,
``Khat_{t+1} = exp(a_z + b_z log Khat_t)`` from ``Khat_0 = K_0``, along the same aggregate
shocks as a simulation of the cross-section, and report the percentage gap
``100 |log Khat_t - log K_t|`` (mean and maximum). Unlike the regression's R^2, which judges
one-step forecasts, errors accumulate here as they would for a household planning ahead.
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..solvers.egm import euler_error_table
from ..solvers.krusell_smith import (
    KrusellSmithSolution, LawOfMotion, _interp_in_K, aggregate_path, initial_cross_section,
    simulate_cross_section,
)

__all__ = ["CapitalPathGap", "DenHaanErrors", "capital_path_gap", "den_haan_errors",
           "den_haan_statistic", "stress_path"]


@dataclasses.dataclass(frozen=True)
class DenHaanErrors:
    """den Haan's statistics on one aggregate-shock path.

    mean, max: of ``100 |log Khat_t - log K_t|`` (percent). K_mean, K_std: mean and s.d. of
    the simulated ``K``; Khat_mean, Khat_std: the same for the law's own path. euler_mean,
    euler_max: individual Euler-equation errors ``100 |1 - c_hat / c|`` (percent of
    consumption; mass-weighted mean and maximum over unconstrained households with positive
    mass, at every ``euler_every``-th date); euler_log10_mean, euler_log10_max: the same in
    ``log10 |1 - c_hat / c|``. K, Khat, z: the paths (NumPy).
    """

    mean: float
    max: float
    K_mean: float
    K_std: float
    Khat_mean: float
    Khat_std: float
    euler_mean: float | None
    euler_max: float | None
    euler_log10_mean: float | None
    euler_log10_max: float | None
    K: np.ndarray
    Khat: np.ndarray
    z: np.ndarray


def den_haan_statistic(law: LawOfMotion, K, z):
    """``(mean, max, Khat)``: the law iterated on its own forecasts from ``K[0]`` along the
    aggregate states ``z`` (``z[t]`` moves ``K_t`` to ``K_{t+1}``), against ``K``."""
    K = jnp.asarray(K, dtype=float)

    def step(Kh, zt):
        nxt = law(Kh, zt)
        return nxt, nxt

    _, rest = jax.lax.scan(step, K[0], jnp.asarray(z)[:-1])
    Khat = jnp.concatenate([K[:1], rest])
    err = 100.0 * jnp.abs(jnp.log(Khat) - jnp.log(K))
    return float(jnp.mean(err)), float(jnp.max(err)), np.asarray(Khat)


def stress_path(n_bad: int = 100, n_good: int = 100):
    """den Haan's stress test: ``n_bad`` bad quarters, then ``n_good`` good ones."""
    return np.concatenate([np.zeros(n_bad, int), np.ones(n_good, int)])


def den_haan_errors(solution: KrusellSmithSolution, *, T: int = 10_000, seed: int = 1,
                    z_path=None, burn_in: int = 1_000, euler_every: int = 10) -> DenHaanErrors:
    """den Haan's statistics of a Krusell–Smith solution on a fresh aggregate-shock path.

    Args:
        solution: from ``hm.solve(model, method="krusell-smith")``.
        T: quarters compared. seed: the path's key (the solution was estimated on
            ``config.seed``; a different one tests out of sample). z_path: the aggregate
            states instead (e.g. :func:`stress_path`); the cross-section first runs
            ``burn_in`` quarters of a sampled path, so that it starts from the ergodic set.
        euler_every: the Euler errors are computed at every ``euler_every``-th date.
    """
    model = solution.model
    with jax.enable_x64(True):
        chain = model.chain
        n = burn_in + (T if z_path is None else len(z_path)) + 1
        z = np.array(aggregate_path(chain, seed, n))
        if z_path is not None:
            z[burn_in:burn_in + len(z_path)] = np.asarray(z_path)
            z[-1] = z[-2]
        mu0 = initial_cross_section(model, chain, z[0])
        _, mu_b = simulate_cross_section(model, chain, solution.a_policy,
                                         jnp.asarray(z[:burn_in + 1]), mu0)
        zz = jnp.asarray(z[burn_in:])
        K, mus = simulate_cross_section(model, chain, solution.a_policy, zz, mu_b, keep=True)
        K = np.asarray(K)
        mean, mx, Khat = den_haan_statistic(solution.law, K, z[burn_in:-1])
        e = _path_euler_errors(model, chain, solution, mus[::euler_every], K[::euler_every],
                               zz[:-1][::euler_every])
    return DenHaanErrors(mean=mean, max=mx, K_mean=float(K.mean()), K_std=float(K.std()),
                         Khat_mean=float(Khat.mean()), Khat_std=float(Khat.std()),
                         euler_mean=e[0], euler_max=e[1], euler_log10_mean=e[2],
                         euler_log10_max=e[3], K=K, Khat=Khat, z=np.asarray(z[burn_in:-1]))


def _euler_table(model, chain, solution_law, a_policy, c_policy, K, z):
    """``|1 - c_hat / c|`` on the grid at aggregate ``(K, z)``, expectations by the law: the
    toolkit's one Euler residual (:func:`~hank_mfg.solvers.egm.euler_error_table`) with the
    next aggregate states as nodes, weighted ``Pi_z[z, z']``, each with its income matrix
    ``Pi_e[z, z']``."""
    K_grid, a_grid = model.K_grid, model.a_grid
    a_next = _interp_in_K(a_policy[z], K_grid, K)
    c = _interp_in_K(c_policy[z], K_grid, K)
    K_next = solution_law(K, z)
    states = jnp.arange(chain.n_aggregate)
    c_n = jax.vmap(lambda zn: _interp_in_K(c_policy[zn], K_grid, K_next))(states)
    R_n = jax.vmap(lambda zn: model.factor_incomes(K_next, zn)[0])(states)
    arrays = (a_grid, chain.e_grid, chain.Pi_e[z], None)
    return euler_error_table(model, c, a_next, R_n, c_n, arrays, weights=chain.aggregate.Pi[z])


@eqx.filter_jit
def _euler_tables(model, chain, solution_law, a_policy, c_policy, K, z):
    """:func:`_euler_table` at every date of ``(K, z)`` at once."""
    return jax.vmap(lambda Kt, zt: _euler_table(model, chain, solution_law, a_policy, c_policy,
                                                Kt, zt))(K, z)


def _path_euler_errors(model, chain, solution, mus, K, z):
    err, unc = _euler_tables(model, chain, solution.law, solution.a_policy, solution.c_policy,
                             jnp.asarray(K), jnp.asarray(z, jnp.int32))
    mus = np.asarray(mus)
    keep = np.asarray(unc) & (mus > 1e-10)
    e, m = np.asarray(err)[keep], mus[keep]
    if e.size == 0:
        return None, None, None, None
    mean = float(np.sum(e * m) / np.sum(m))
    logs = np.log10(np.maximum(e, 1e-17))
    return 100.0 * mean, 100.0 * float(e.max()), float(np.sum(logs * m) / np.sum(m)), float(logs.max())


@dataclasses.dataclass(frozen=True)
class CapitalPathGap:
    """A learned solution's aggregate capital against the Krusell–Smith algorithm's on the same
    aggregate-shock path (the learned households face the exact mean field and hold no law of
    motion, so den Haan's statistic does not apply; the gap of the two paths does).

    mean, max: ``100 |log K_t - log K_ref,t|`` over the compared quarters. K_mean, K_std,
    reference_mean, reference_std: mean and s.d. of each path. euler_mean, euler_max: the
    learned policy's Euler-equation errors along its own path in percent of consumption
    (mass-weighted mean over households off the borrowing limit, dates equally weighted; the
    largest), and in log10 (euler_log10_mean, euler_log10_max); the expectation over next
    quarter's aggregate state is exact. K, K_reference, z: the paths.
    """

    mean: float
    max: float
    K_mean: float
    K_std: float
    reference_mean: float
    reference_std: float
    euler_mean: float
    euler_max: float
    euler_log10_mean: float
    euler_log10_max: float
    K: np.ndarray = dataclasses.field(repr=False)
    K_reference: np.ndarray = dataclasses.field(repr=False)
    z: np.ndarray = dataclasses.field(repr=False)


def capital_path_gap(solution, reference: KrusellSmithSolution, *, T: int = 10_000,
                     seed: int = 1, burn_in: int = 1_000) -> CapitalPathGap:
    """Run a learned solution (``hm.solve(model, method="rspg")`` on an economy with an
    aggregate Markov chain) and the Krusell–Smith algorithm's ``reference`` on the same
    aggregate-shock path (:func:`den_haan_errors`'s, from ``seed``) and compare their capital
    over ``T`` quarters after ``burn_in``. The learned economy starts from its steady state,
    the reference's cross-section as in :func:`den_haan_errors`; both run the burn-in first.
    """
    from ..solvers import continuous as cont
    from ..solvers.savings_certificates import path_euler_errors

    problem, policy = solution.problem, solution.policy
    if getattr(problem, "chain", None) is None:
        raise ValueError("capital_path_gap: the solution's economy has no aggregate Markov chain "
                         "(its model declares no AggregateIdiosyncraticChain `chain`)")
    model = reference.model
    with jax.enable_x64(True):
        chain = model.chain
        z = np.asarray(aggregate_path(chain, seed, burn_in + T + 1))
        mu0 = initial_cross_section(model, chain, z[0])
        K_ref, _ = simulate_cross_section(model, chain, reference.a_policy, jnp.asarray(z), mu0)
        eps = cont.chain_innovations(problem, z[:-1])

        @eqx.filter_jit
        def run(policy, eps):
            path = cont.savings_rollout(problem, policy, eps)
            dated = eqx.tree_at(lambda p: p.final, path, None)   # every leaf has the date axis
            keep = jax.tree_util.tree_map(lambda y: y[burn_in:], dated)
            return path.agg["K"], path_euler_errors(problem, policy, keep, by_date=True)

        K, (mean_log, max_log, log_mean, _) = run(policy, eps)
    K, K_ref = np.asarray(K)[burn_in:], np.asarray(K_ref)[burn_in:]
    gap = 100.0 * np.abs(np.log(K) - np.log(K_ref))
    return CapitalPathGap(
        mean=float(gap.mean()), max=float(gap.max()), K_mean=float(K.mean()),
        K_std=float(K.std()), reference_mean=float(K_ref.mean()),
        reference_std=float(K_ref.std()),
        euler_mean=float(100.0 * np.mean(10.0 ** np.asarray(log_mean))),
        euler_max=float(100.0 * 10.0 ** np.max(np.asarray(max_log))),
        euler_log10_mean=float(np.mean(np.asarray(mean_log))),
        euler_log10_max=float(np.max(np.asarray(max_log))),
        K=K, K_reference=K_ref, z=z[burn_in:-1])

"""A best response that does not see the future (docs/theory.md §7.2).

The clairvoyant best response of the exploitability certificate knows each path's future
prices, so even an exact equilibrium scores above zero: the value of knowing the future. Here
one household type deviates instead with a policy of its own that reads only the public
history, as the learned households do, trained by the same deterministic policy gradient
against the learned economy's price process, which stays frozen: the population keeps its
learned policy, so prices, observations and the income draws are those of the learned
economy, and the deviators are too few to move them. What the trained deviator gains over the
learned households on fresh paths is what a feasible, non-clairvoyant deviation is worth: a
lower bound of the policy's exploitability, where the clairvoyant number is an upper bound.

* :func:`deviation_path`: the deviating households' choices and distribution along a path of
  the learned economy.
* :func:`deviation_loss`: minus the deviators' value (differentiable in their policy).
* :func:`deviation_values`: the deviators' and the learned households' values on paths.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from ..policies.savings import SavingsPolicy, trainable
from .continuous import (
    SavingsPath, SavingsProblem, corrected_share, limit_consumption, path_transitions,
    path_values, savings_rollout_batch, share_choices, structural_logit,
)
from .household import distribution_path

__all__ = ["deviation_loss", "deviation_path", "deviation_values", "deviator_spec"]


def deviator_spec(deviator: SavingsPolicy):
    """The deviator's trained leaves: the households' network, not the firms' forecaster
    (prices stay those of the learned economy)."""
    spec = trainable(deviator)
    if deviator.forecaster is not None:
        spec = eqx.tree_at(lambda p: p.forecaster, spec,
                           jax.tree_util.tree_map(lambda _: False, deviator.forecaster))
    return spec


def deviation_path(problem: SavingsProblem, population: SavingsPolicy, deviator: SavingsPolicy,
                   path: SavingsPath) -> SavingsPath:
    """The deviating households along one path of the learned economy (``path``, unbatched).

    Both policies add their learned correction ``delta`` (a function of the public history
    alone) to the same structural start, so the deviator's share at each state is its
    correction applied to the start's logit behind the learned households' share ``x`` on the
    path (:func:`~hank_mfg.solvers.continuous.corrected_share`; with logit corrections
    ``sigmoid(logit(x) - delta_population + delta_deviator)``); budgets, observations and
    income transitions are the path's. Their
    distribution starts at the path's and moves under their own savings. Returns the path with
    the deviators' ``mu, a_next, c, n, share, dshare``.
    """
    model, a_grid = problem.model, problem.a_grid
    def base_ss(policy):
        return None if policy.linear else problem.base_ss

    base = jax.lax.stop_gradient(structural_logit(path.share, population.deltas(path.obs),
                                                  base_ss(population)))
    x, dx = corrected_share(base, deviator.deltas(path.obs), base_ss(deviator))
    c_max = jax.vmap(lambda b: limit_consumption(model, b, a_grid, problem.uc_limit)[0])(
        path.budget)
    a_next, c, dshare, n = jax.vmap(
        lambda b, xx, cm, d: share_choices(model, b, a_grid, xx, cm, d))(path.budget, x, c_max,
                                                                           dx)

    mus = distribution_path(path.mu[0], jax.lax.stop_gradient(a_next), a_grid,
                            path_transitions(problem, path))
    return eqx.tree_at(lambda p: (p.mu, p.a_next, p.c, p.n, p.share, p.dshare), path,
                       (mus, a_next, c, n, x, dshare))


def deviation_loss(deviator: SavingsPolicy, problem: SavingsProblem, population: SavingsPolicy,
                   paths: SavingsPath):
    """``-mean_b sum_s mu_0(s) V_0(s)`` of the deviators along batched paths of the learned
    economy: its gradient is the deviators' policy gradient (the value recursion carries how
    their choices move their own future; prices do not move)."""
    dev = jax.vmap(lambda p: deviation_path(problem, population, deviator, p))(paths)
    V0 = jax.vmap(lambda p: path_values(problem, p)[0][0])(dev)
    return -jnp.mean(jnp.sum(V0 * dev.mu[:, 0], axis=(1, 2)))


@eqx.filter_jit
def deviation_values(problem: SavingsProblem, population: SavingsPolicy,
                     deviator: SavingsPolicy, eps):
    """Per path of ``eps (B, T, n_noise)``: the ``mu_0``-weighted values of the deviators and
    of the learned households, and the learned households' value of consumption alone (the
    consumption-equivalent's denominator), ``(3, B)``."""
    paths = savings_rollout_batch(problem, population, eps)
    dev = jax.vmap(lambda p: deviation_path(problem, population, deviator, p))(paths)

    def ret(p, hours=True):
        return jnp.sum(p.mu[0] * path_values(problem, p, hours=hours)[0][0])

    r_dev = jax.vmap(ret)(dev)
    r_pop = jax.vmap(ret)(paths)
    r_c = (jax.vmap(lambda p: ret(p, hours=False))(paths)
           if problem.model.endogenous_labour else r_pop)
    return jnp.stack([r_dev, r_pop, r_c])

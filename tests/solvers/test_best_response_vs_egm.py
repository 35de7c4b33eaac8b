"""Cross-validation of the two halves of the library: dynamic programming over the discrete
action grid with the mean-field operators (the best response) against the continuous EGM policy.
At the steady-state prices held fixed and a long horizon (so that t = 0 is far from the end),
the best response's consumption at t = 0 must approach the EGM consumption function as the
share grid refines (first order in the share step), with the same wealth grid and income chain.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

import hank_mfg as hm
from hank_mfg.solvers.rollout import Trajectory
from models.krusell_smith import KrusellSmith


def _br_consumption_error(n_actions, n_wealth=100, n_income=3, T=400):
    model = KrusellSmith(n_wealth=n_wealth, n_income=n_income, n_actions=n_actions, horizon=T,
                         common_noise=False, terminal="none")
    ss = hm.steady_state(model)
    mf = hm.compile_model(model)
    mu = jnp.asarray(ss.mu_flat)
    base = mf.aggregate_state(mu, 0.0)
    agg = hm.AggregateState(K=base.K, L=base.L, z=base.z, Y=base.Y, r=ss.r, w=ss.w)
    R = jax.vmap(lambda t: mf.rewards(agg, t))(jnp.arange(T))
    path = Trajectory(mu=jnp.tile(mu, (T, 1)), agg=jax.tree_util.tree_map(lambda x: jnp.full((T,), x), agg),
                      obs=jnp.zeros((T, 2)), P=jnp.zeros_like(R), R=R, eps=jnp.zeros(T))
    _, best = hm.best_response_values(mf, path)
    _, c = mf.choices(agg)
    c_br = jnp.take_along_axis(c, best[0][:, None], axis=1)[:, 0]
    err = jnp.abs(c_br / jnp.asarray(ss.c_policy).reshape(-1) - 1.0)
    return float(mu @ err)


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_best_response_converges_to_egm_policy_as_action_grid_refines():
    errors = [_br_consumption_error(k) for k in (25, 100, 400)]
    # first order in the share step: each 4x refinement cuts the mean error by ~4
    assert errors[0] > 3.0 * errors[1] > 9.0 * errors[2]
    assert errors[2] < 0.02

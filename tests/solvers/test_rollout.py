"""The one rollout (docs/theory.md §5) with a table over a grid of choices, against a loop
written out by hand: the timing of the shock and of an impulse, the firms' prices at capital
and labour in place, the transition as a dense matrix built from the choices, the lottery and
the income chain, and the policy's history state replayed step by step. (The same scan with a
continuous savings choice is checked against dense matrices in test_chain_rspg.py.)"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import hank_mfg as hm
from models.rspg_macro import RSPGMacro

jax.config.update("jax_enable_x64", True)


def _dense_transition(a_next, P, grid, Pi_e):
    """``M[s, s']`` of a table policy: each choice's savings on the wealth lottery, by loops,
    then the income chain (state ``s = i_a n_e + i_e``)."""
    n_a, n_e = len(grid), Pi_e.shape[0]
    M = np.zeros((n_a * n_e, n_a * n_e))
    for s in range(n_a * n_e):
        e = s % n_e
        for k in range(P.shape[1]):
            x = min(max(a_next[s, k], grid[0]), grid[-1])
            j = min(np.searchsorted(grid, x, side="right") - 1, n_a - 2)
            w = (grid[j + 1] - x) / (grid[j + 1] - grid[j])
            for f in range(n_e):
                M[s, j * n_e + f] += P[s, k] * w * Pi_e[e, f]
                M[s, (j + 1) * n_e + f] += P[s, k] * (1.0 - w) * Pi_e[e, f]
    return M


def test_the_table_rollout_is_the_hand_written_loop():
    model = RSPGMacro(n_wealth=8, n_income=2, n_actions=4, horizon=6)
    mf = hm.compile_model(model)
    pol = hm.make_policy(mf, "rspg", key=jax.random.key(0), hidden=5, widths=(6,))
    eps = mf.sample_noise(key=jax.random.key(1), n_paths=1)[0]
    impulse = jnp.zeros(6).at[2].set(0.03)
    traj = hm.rollout(mf, pol, eps, z_shock=impulse)

    rho, sigma = model.shocks()[0].rho, model.shocks()[0].sigma
    grid, e_grid, Pi_e = (np.asarray(x) for x in (mf.a_grid, mf.e_grid, mf.Pi_e))
    a_s = np.repeat(grid, len(e_grid))
    e_s = np.tile(e_grid, len(grid))
    mu, z, h = np.asarray(mf.initial_distribution()), 0.0, pol.init_carry()
    cache = pol.prepare()
    for t in range(6):
        z = z + float(impulse[t])                   # an impulse hits at its date and persists
        K, L = mu @ a_s, mu @ e_s
        r, w = model.prices(jnp.asarray(K), jnp.asarray(L), jnp.asarray(z))
        np.testing.assert_allclose(float(traj.agg.z[t]), z, rtol=0, atol=1e-15)
        np.testing.assert_allclose([traj.agg.K[t], traj.agg.L[t]], [K, L], rtol=1e-14)
        np.testing.assert_allclose([traj.agg.r[t], traj.agg.w[t]], [r, w], rtol=1e-13)
        np.testing.assert_allclose(np.asarray(traj.mu[t]), mu, atol=1e-14)
        agg = jax.tree_util.tree_map(lambda x, t=t: x[t], traj.agg)
        h, P = pol.step(h, mf.observation(agg), t, cache)
        np.testing.assert_allclose(np.asarray(traj.P[t]), np.asarray(P), atol=1e-14)
        np.testing.assert_allclose(np.asarray(traj.hidden[t]), np.asarray(h), atol=1e-14)
        np.testing.assert_allclose(np.asarray(traj.R[t]), np.asarray(mf.rewards(agg, t)),
                                   atol=1e-14)
        a_next, _ = mf.choices(agg)
        mu = mu @ _dense_transition(np.asarray(a_next), np.asarray(P), grid, Pi_e)
        z = rho * z + sigma * float(eps[t])            # the date's innovation moves z_{t+1}
    assert float(np.max(np.abs(np.diff(np.asarray(traj.agg.K))))) > 1e-4  # the path moves

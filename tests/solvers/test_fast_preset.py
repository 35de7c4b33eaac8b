"""The speed preset's pieces: the knot head, the head's initial scale, wall-clock history."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg.policies.networks import head_table
from models.rspg_macro import RSPGMacro

SMALL = dict(n_wealth=12, n_income=3, n_actions=6, horizon=6)


def _head_outputs(policy, obs, t):
    """The per-state trunk's head outputs (before the Beta transform) in every state."""
    trunk = policy.trunk
    h = policy.gru(policy.norm.inputs(obs, t), policy.init_carry())
    act = jax.nn.relu
    z = act(trunk.state_part(policy.norm.state_feats) + trunk.first_hist(h)[None, :])
    for layer in trunk.hidden_layers:
        z = act(jax.vmap(layer)(z))
    return np.asarray(jax.vmap(trunk.head)(z)), h


@pytest.mark.parametrize("head", ["beta", "categorical"])
def test_knot_head_interpolates_the_per_state_network_between_its_knots(head):
    """With the same weights, the knot policy plays the per-state network's table at the knots
    and, between them, the table of the head outputs interpolated linearly in wealth."""
    mf = hm.compile_model(RSPGMacro(**SMALL))
    arch = dict(hidden=6, widths=(8, 8), head=head, head_scale=1.0)
    full = hm.make_policy(mf, "rspg", key=jax.random.key(3), **arch)
    knot = hm.make_policy(mf, "rspg", key=jax.random.key(3), knots=5, **arch)
    obs = mf.observation(mf.aggregate_state(mf.initial_distribution(), 0.1))
    _, P_knot = knot.step(knot.init_carry(), obs, 2, knot.prepare())
    out, _ = _head_outputs(full, obs, 2)

    a = np.asarray(mf.a_grid, dtype=np.float64)
    knots = hm.policies.knots.knot_points(a, 5)
    n_e = mf.n_income
    out = out.reshape(a.size, n_e, -1)
    ik = np.searchsorted(a, knots)
    interp = np.stack([np.stack([np.interp(a, knots, out[ik, e, j]) for j in range(out.shape[-1])],
                                axis=-1) for e in range(n_e)], axis=1).reshape(a.size * n_e, -1)
    ref = head_table(jnp.asarray(interp, dtype=P_knot.dtype), knot.norm.action_x, head)
    np.testing.assert_allclose(np.asarray(P_knot), np.asarray(ref), rtol=2e-5, atol=1e-7)
    _, P_full = full.step(full.init_carry(), obs, 2, full.prepare())
    rows = (ik[:, None] * n_e + np.arange(n_e)).reshape(-1)  # at the knots: the same table
    np.testing.assert_allclose(np.asarray(P_knot)[rows], np.asarray(P_full)[rows], rtol=2e-5,
                               atol=1e-7)
    np.testing.assert_allclose(np.asarray(P_knot).sum(axis=1), 1.0, rtol=1e-6)


def test_head_scale_sets_how_much_the_first_tables_vary_across_states():
    """Zero bias: the first table is the symmetric start everywhere up to the head's weights,
    which are the default initialisation times head_scale."""
    mf = hm.compile_model(RSPGMacro(**SMALL))
    obs = mf.observation(mf.aggregate_state(mf.initial_distribution(), 0.0))
    spread = {}
    for scale in (0.0, 0.01, 1.0):
        pol = hm.make_policy(mf, "rspg", key=jax.random.key(0), hidden=6, widths=(8,),
                             head_scale=scale)
        _, P = pol.step(pol.init_carry(), obs, 0, pol.prepare())
        spread[scale] = float(np.ptp(np.asarray(P), axis=0).max())
    assert spread[0.0] == 0.0
    assert 0.0 < spread[0.01] < 0.05 * spread[1.0]
    with pytest.raises(ValueError, match="head_scale"):
        hm.RSPGConfig(head_scale=-1.0)
    with pytest.raises(ValueError, match="table_head"):
        hm.RSPGConfig(table_head="grid")


@pytest.mark.slow  # the CLI's fast-preset test trains the same policy in the default suite
def test_knot_policy_starts_at_the_stationary_mean_and_trains():
    """head_for_mean sets the knot head's bias like the per-state head's (the same start), and
    the fast preset's solve reduces exploitability on a small model."""
    from hank_mfg.solvers.rspg import _init_state, stationary_action_mean

    mf = hm.compile_model(RSPGMacro(**SMALL))
    cfg = hm.RSPGConfig.fast(hidden=6, widths=(8,), n_knots=4, init="stationary", head_scale=0.0)
    params, static, _ = _init_state(mf, "rspg", cfg)
    policy = eqx.combine(params, static)
    agg = mf.aggregate_state(mf.initial_distribution(), 0.0)
    _, P = policy.step(policy.init_carry(), mf.observation(agg), 0, policy.prepare())
    target, values = stationary_action_mean(mf)
    np.testing.assert_allclose(np.asarray(P) @ np.asarray(values), target, rtol=1e-5)

    for method in ("rspg", "spg"):
        sol = hm.solve(RSPGMacro(**SMALL), method,
                       hm.RSPGConfig.fast(iterations=20, eval_every=10, hidden=8, widths=(16,),
                                          n_knots=4), progress=False)
        ex = sol.history.exploitability.to_numpy()
        assert ex[-1] < 0.3 * ex[0]
        assert sol.config.table_head == "knots" and sol.config.eval_paths == 8

"""Impulse responses, Euler errors of learned policies and policy functions (issue 5)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg import analysis as an
from models.rspg_macro import RSPGMacro


@pytest.fixture(scope="module")
def setup():
    mf = hm.compile_model(RSPGMacro(n_wealth=12, n_income=3, n_actions=6, horizon=8))
    pol = hm.make_policy(mf, "rspg", key=jax.random.key(0), hidden=8, widths=(8,))
    eps = mf.sample_noise(key=jax.random.key(1), n_paths=2)
    return mf, pol, eps


def test_zero_shock_gives_exactly_zero(setup):
    mf, pol, eps = setup
    base, shocked, resp = an.generalized_irf(mf, pol, eps, shock=0.0, date=1)
    for v, r in resp.items():
        assert np.all(np.asarray(r) == 0.0), v


def test_small_shocks_scale_linearly(setup):
    mf, pol, eps = setup
    _, _, r1 = an.generalized_irf(mf, pol, eps, shock=1e-4, date=0)
    _, _, r2 = an.generalized_irf(mf, pol, eps, shock=2e-4, date=0)
    for v in ("K", "Y", "C", "r", "w", "gini"):
        a1, a2 = np.asarray(r1[v]), np.asarray(r2[v])
        assert np.max(np.abs(a1)) > 0, v
        np.testing.assert_allclose(a2, 2 * a1, rtol=2e-3, atol=1e-9 * np.max(np.abs(a1)))
    # capital is predetermined: no response on impact; output responds by ~100 (e^shock - 1) %
    assert float(r1["K"][0]) == 0.0
    assert float(r1["Y"][0]) == pytest.approx(100 * np.expm1(1e-4), rel=1e-9)


def test_irf_rejects_bad_date(setup):
    mf, pol, eps = setup
    with pytest.raises(ValueError, match="date"):
        an.generalized_irf(mf, pol, eps, shock=0.01, date=8)


def test_learned_euler_errors(setup):
    mf, pol, eps = setup
    ee = an.learned_euler_errors(mf, pol, eps, n_nodes=3)
    assert ee.errors.shape == (2, 7, mf.n_states) and ee.mean.shape == (2, 7)
    assert np.isfinite(float(ee.mean_log10)) and float(ee.max_log10) >= float(ee.mean_log10)


def test_euler_error_zero_for_exact_euler_consumer():
    """Without common noise, a household that knows the prices: check c_hat by hand at t = 0."""
    mf = hm.compile_model(RSPGMacro(n_wealth=12, n_income=3, n_actions=6, horizon=3,
                                    common_noise=False))
    P = jnp.zeros((mf.n_states, mf.n_actions)).at[:, 2].set(1.0)
    pol = hm.TablePolicy(P)
    eps = jnp.zeros((1, 3))
    ee = an.learned_euler_errors(mf, pol, eps)
    traj = hm.rollout(mf, pol, eps[0])
    agg0 = jax.tree_util.tree_map(lambda x: x[0], traj.agg)
    agg1 = jax.tree_util.tree_map(lambda x: x[1], traj.agg)
    c0 = P @ mf.action_grid * 0 + mf.action_grid[2] * (mf.cash_on_hand(agg0) - mf.a_grid[0])
    c1 = mf.action_grid[2] * (mf.cash_on_hand(agg1) - mf.a_grid[0])
    Ev = mf.expect((1 + agg1.r) * c1 ** -2.0, P, agg0)
    c_hat = (0.95 * Ev) ** -0.5
    np.testing.assert_allclose(np.asarray(ee.errors[0, 0]), np.abs(1 - c_hat / c0), rtol=1e-12)


def test_policy_functions_and_interpolation(setup):
    mf, pol, eps = setup
    traj = hm.rollout(mf, pol, eps[0])
    P = an.policy_at(pol, traj.obs, 3)
    np.testing.assert_allclose(np.asarray(P), np.asarray(traj.P[3]), rtol=1e-12)
    agg = jax.tree_util.tree_map(lambda x: x[3], traj.agg)
    pf = an.policy_functions(mf, P, agg, 3)
    np.testing.assert_allclose(np.asarray(pf.consumption + pf.savings), np.asarray(pf.cash),
                               rtol=1e-12)
    mid = 0.5 * (mf.a_grid[4] + mf.a_grid[5])
    q = an.interpolate_in_wealth(mf.a_grid, pf.consumption, jnp.array([mid]))
    np.testing.assert_allclose(np.asarray(q[0]), 0.5 * np.asarray(pf.consumption[4] + pf.consumption[5]))

"""Impulse responses, Euler errors of learned policies and policy functions."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg import analysis as an
from models.krusell_smith import KrusellSmith
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


@pytest.fixture(scope="module")
def egm_table():
    """A stationary equilibrium by EGM, its savings policy played as a table policy.

    The actions are next-wealth levels on the wealth grid itself, so the lottery of the EGM's
    ``a'(a, e)`` onto the two neighbouring actions reproduces ``a'`` (hence ``c``) exactly.
    """
    n = 40
    model = KrusellSmith(n_wealth=n, n_income=3, n_actions=n, action_kind="savings", beta=0.98,
                         common_noise=False, horizon=3)
    ss = hm.steady_state(model)
    mf = hm.compile_model(model)
    np.testing.assert_allclose(np.asarray(mf.action_grid), np.asarray(mf.a_grid), rtol=1e-14)
    lot = hm.lottery_weights(ss.a_policy.reshape(-1), mf.action_grid)
    rows = jnp.arange(mf.n_states)
    P = (jnp.zeros((mf.n_states, mf.n_actions)).at[rows, lot.idx].add(lot.w_lo)
         .at[rows, lot.idx + 1].add(1.0 - lot.w_lo))
    return model, ss, mf, P


def test_learned_euler_errors_of_the_egm_policy(egm_table):
    """The learned-policy Euler error of the EGM policy is the textbook Euler error, by hand.

    ``c_hat = (u')^{-1}(beta (1 + r_1) sum_e' Pi[e, e'] u'(c_1(a', e')))`` with ``u'(c_1)``
    interpolated linearly in ``a'`` (what the wealth lottery does), at the prices the
    population itself generates at dates 0 and 1; then the EGM policy is accurate (mean error
    below 1e-3.5) and a perturbed policy is at least ten times worse.
    """
    model, ss, mf, P = egm_table
    eps = jnp.zeros((1, model.horizon))
    ee = an.learned_euler_errors(mf, hm.TablePolicy(P), eps, ss.mu_flat)
    traj = hm.rollout(mf, hm.TablePolicy(P), eps[0], ss.mu_flat)
    r0, w0, r1, w1 = (float(x) for x in (traj.agg.r[0], traj.agg.w[0], traj.agg.r[1],
                                          traj.agg.w[1]))
    # an independent NumPy reference on (n_a, n_e) tables
    a, e = np.asarray(mf.a_grid), np.asarray(mf.e_grid)
    Pi, beta, sigma = np.asarray(mf.Pi_e), float(model.beta), float(model.sigma)
    a_next = np.clip(np.asarray(ss.a_policy), a[0], a[-1])  # what the table can play
    c0 = (1 + r0) * a[:, None] + w0 * e[None, :] - a_next
    c1 = (1 + r1) * a[:, None] + w1 * e[None, :] - a_next
    mu1 = c1 ** -sigma
    Emu = np.stack([sum(Pi[j, k] * np.interp(a_next[:, j], a, mu1[:, k]) for k in range(len(e)))
                    for j in range(len(e))], axis=1)
    ref = np.abs(1 - (beta * (1 + r1) * Emu) ** (-1 / sigma) / c0).reshape(-1)
    unc = np.asarray(ee.unconstrained[0, 0])
    assert unc.sum() > mf.n_states // 2
    np.testing.assert_array_equal(unc, (a_next > a[0] + 1e-10).reshape(-1))
    np.testing.assert_allclose(np.asarray(ee.errors[0, 0])[unc], ref[unc], rtol=1e-6)
    mean_egm = float(ee.mean[0, 0])
    assert mean_egm < -3.5
    # shift a tenth of every state's mass one action up (save more): clearly off the Euler equation
    worse = an.learned_euler_errors(mf, hm.TablePolicy(0.9 * P + 0.1 * jnp.roll(P, 1, axis=1)),
                                    eps, ss.mu_flat)
    assert float(worse.mean[0, 0]) > mean_egm + 1.0


def test_learned_euler_errors_summaries(setup):
    """Shapes, and the summaries are the mass-weighted mean / max of the per-state log10 errors."""
    mf, pol, eps = setup
    ee = an.learned_euler_errors(mf, pol, eps, n_nodes=3)
    assert ee.errors.shape == (2, 7, mf.n_states) and ee.mean.shape == (2, 7)
    mask = np.asarray(ee.unconstrained & (ee.mu > 0))
    lerr = np.log10(np.asarray(ee.errors))
    wgt = np.where(mask, np.asarray(ee.mu), 0.0)
    np.testing.assert_allclose(np.asarray(ee.mean), (wgt * lerr).sum(-1) / wgt.sum(-1), rtol=1e-10)
    np.testing.assert_allclose(np.asarray(ee.max), np.where(mask, lerr, -np.inf).max(-1),
                               rtol=1e-12)
    assert float(ee.mean_log10) == pytest.approx(float(np.mean(np.asarray(ee.mean))), rel=1e-12)
    assert float(ee.max_log10) == float(np.max(np.asarray(ee.max)))


def test_euler_error_by_hand_for_a_fixed_share():
    """Without common noise, every state consumes the third share: ``c_hat`` by hand at t = 0."""
    mf = hm.compile_model(RSPGMacro(n_wealth=12, n_income=3, n_actions=6, horizon=3,
                                    common_noise=False))
    P = jnp.zeros((mf.n_states, mf.n_actions)).at[:, 2].set(1.0)
    pol = hm.TablePolicy(P)
    eps = jnp.zeros((1, 3))
    ee = an.learned_euler_errors(mf, pol, eps)
    traj = hm.rollout(mf, pol, eps[0])
    agg0 = jax.tree_util.tree_map(lambda x: x[0], traj.agg)
    agg1 = jax.tree_util.tree_map(lambda x: x[1], traj.agg)
    c0 = mf.action_grid[2] * (mf.cash_on_hand(agg0) - mf.a_grid[0])
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

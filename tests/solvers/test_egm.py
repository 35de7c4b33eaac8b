"""EGM household solver and the stationary distribution (docs/theory.md §9.1, §9.2)."""

import interpax
import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg.solvers import egm
from models.krusell_smith import KrusellSmith


def small_ks(**kw):
    base = dict(alpha=0.11, tfp=0.8816460975, beta=0.9819527881, n_wealth=40, n_income=3,
                wealth_max=60.0, n_actions=5)
    base.update(kw)
    return KrusellSmith(**base)


def test_flat_consumption_without_risk_when_beta_one_plus_r_is_one():
    # no income risk and beta (1 + r) = 1: c = r a + w is the fixed point, a' = a (analytic).
    # (the income grid must be strictly increasing, so the risk is 1e-12, not exactly 0)
    model = small_ks(income_sd=1e-12)
    r = 1.0 / float(model.beta) - 1.0
    w = 0.9
    a = model.a_grid
    c_next = jnp.broadcast_to((r * a + w)[:, None], (a.shape[0], 3))
    Va_next = (1.0 + r) * model.marginal_utility(c_next)
    Va, a_pol, c_pol = hm.solvers.egm_step(model, Va_next, r, w)
    np.testing.assert_allclose(c_pol, c_next, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(a_pol, jnp.broadcast_to(a[:, None], a_pol.shape), atol=1e-9)
    np.testing.assert_allclose(Va, Va_next, rtol=1e-10)
    # along a path of such prices consumption stays flat in every period
    T = 6
    A, C, mus, a_path, c_path = hm.solvers.household_path(
        model, jnp.full(T, r), jnp.full(T, w), Va_next, egm.default_mu0(model))
    np.testing.assert_allclose(c_path, jnp.broadcast_to(c_next, c_path.shape), rtol=1e-10)
    np.testing.assert_allclose(C, C[0], rtol=1e-10)


def test_linear_interpolation_matches_interpax():
    rng = np.random.default_rng(0)
    x = jnp.asarray(np.sort(rng.uniform(0, 5, (12, 3)), axis=0))
    xq = jnp.asarray(np.sort(rng.uniform(-1, 6, (9, 3)), axis=0))  # extrapolates both sides
    f = jnp.asarray(rng.normal(size=(12, 3)))
    got = egm.interp_columns(xq, x, f, "linear")
    for j in range(3):
        ref = interpax.interp1d(xq[:, j], x[:, j], f[:, j], method="linear", extrap=True)
        np.testing.assert_allclose(got[:, j], ref, rtol=1e-13, atol=1e-13)


def test_policy_push_forward_is_the_operators_lottery():
    model = small_ks(n_wealth=10, n_income=2)
    mf = hm.compile_model(model)
    rng = np.random.default_rng(1)
    a_pol = jnp.asarray(rng.uniform(-1.0, 70.0, (10, 2)))  # includes off-grid ends
    mu = jnp.asarray(rng.dirichlet(np.ones(20))).reshape(10, 2)
    got = hm.solvers.policy_push_forward(mu, a_pol, mf.a_grid, mf.Pi_e)
    # the compiled operator with a one-hot policy on action 0 whose lottery is a'(s)
    lot = hm.lottery_weights(a_pol.reshape(-1), mf.a_grid)
    k = mf.n_actions
    lot_k = hm.Lottery(idx=jnp.repeat(lot.idx[:, None], k, 1).reshape(10, 2, k),
                       w_lo=jnp.repeat(lot.w_lo[:, None], k, 1).reshape(10, 2, k))
    P = jnp.zeros((mf.n_states, k)).at[:, 0].set(1.0)
    agg = mf.aggregate_state(mu.reshape(-1), 0.0)
    ref = mf.push_forward(mu.reshape(-1), P, agg, lot=lot_k)
    np.testing.assert_allclose(got.reshape(-1), ref, atol=1e-15)
    assert float(got.sum()) == pytest.approx(1.0, abs=1e-14)


def test_household_steady_state_fields_and_accuracy():
    model = small_ks(n_wealth=80, wealth_max=100.0)
    hh = hm.household_steady_state(model, r=0.01, w=0.89)
    assert hh.mu.shape == (80, 3) and hh.mu_flat.shape == (240,)
    assert float(hh.mu.sum()) == pytest.approx(1.0, abs=1e-12)
    assert float(hh.mu.min()) >= 0.0
    a = model.a_grid[:, None]
    # stationarity: assets chosen = assets held
    assert abs(float(jnp.sum(hh.mu * a) - hh.A)) < 1e-9
    np.testing.assert_allclose(hh.c_policy + hh.a_policy,
                               1.01 * a + 0.89 * model.e_grid[None, :], rtol=1e-13)
    assert bool(jnp.all(hh.a_policy >= model.a_grid[0]))
    assert float(hh.egm_residual) <= 1e-11
    assert float(hh.euler_mean) < -4.0


def test_household_steady_state_requires_impatience():
    model = small_ks()
    r = 1.0 / float(model.beta) - 1.0 + 1e-4
    with pytest.raises(ValueError, match="beta"):
        hm.household_steady_state(model, r=r, w=0.9)


def test_bad_interp_is_named():
    with pytest.raises(ValueError, match="interp"):
        hm.household_steady_state(small_ks(), r=0.01, w=0.9, interp="quintic")


def test_non_convergence_raises_runtime_error():
    with pytest.raises(RuntimeError, match="iterations"):
        hm.household_steady_state(small_ks(), r=0.01, w=0.9, maxiter=3)

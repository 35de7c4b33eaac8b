"""Stationary general equilibrium (Aiyagari) by a bracketed root find in r (docs/theory.md §9.3)."""

import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from models.krusell_smith import KrusellSmith

SSJ = dict(alpha=0.11, delta=0.025, sigma=1.0, income_rho=0.966, income_sd=0.5,
           tfp=0.8816460975, beta=0.9819527881)


def small_ks(n_wealth=60, n_income=3, wealth_max=100.0):
    return KrusellSmith(**SSJ, n_wealth=n_wealth, n_income=n_income, wealth_max=wealth_max,
                        n_actions=5)


@pytest.fixture(scope="module")
def ss_small():
    model = small_ks()
    return model, hm.steady_state(model)


def test_markets_clear_and_fields(ss_small):
    model, ss = ss_small
    assert abs(float(ss.A - ss.K)) < 1e-8
    assert abs(float(ss.residual)) < 1e-8
    assert abs(float(jnp.sum(ss.mu * model.a_grid[:, None]) - ss.K)) < 1e-8
    r, w = model.prices(ss.K, ss.L, 0.0)
    assert float(r) == pytest.approx(float(ss.r), abs=1e-12)
    assert float(w) == pytest.approx(float(ss.w), rel=1e-12)
    assert float(ss.Y) == pytest.approx(float(model.output(ss.K, ss.L, 0.0)), rel=1e-12)
    # goods market (Walras): Y = C + delta K
    assert float(ss.Y) == pytest.approx(float(ss.C + model.delta * ss.K), abs=1e-8)
    assert ss.mu.shape == (60, 3)
    assert float(model.beta) * (1 + float(ss.r)) < 1


def test_euler_errors_small_at_unconstrained_states(ss_small):
    model, ss = ss_small
    ee = hm.euler_errors(model, ss)
    assert float(ee.mean) == pytest.approx(float(ss.euler_mean), abs=1e-9)
    # at unconstrained grid points where a' lands on the grid's interior, errors are the
    # linear-interpolation error of c'; on this coarse grid they are still small
    assert float(ee.mean) < -4.0
    assert float(ee.max) < -2.5


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_refined_grid_changes_r_less():
    rs = [float(hm.steady_state(small_ks(n_wealth=n)).r) for n in (25, 50, 100)]
    assert abs(rs[2] - rs[1]) < abs(rs[1] - rs[0])


def test_no_steady_state_in_bracket_is_named():
    with pytest.raises(ValueError, match="r_bracket"):
        hm.steady_state(small_ks(n_wealth=25), r_bracket=(-0.02, -0.015))


def test_bracket_beyond_patience_is_named():
    with pytest.raises(ValueError, match="beta"):
        hm.steady_state(small_ks(n_wealth=25), r_bracket=(0.0, 0.03))


def test_ssj_krusell_smith_calibration():
    """sequence-jacobian's KS calibration: r = 0.01, K/Y = 3.142857, Y = 1 (500 x 7 grid)."""
    model = KrusellSmith(**SSJ, n_income=7, n_wealth=500, wealth_max=200)
    ss = hm.steady_state(model)
    assert float(ss.r) == pytest.approx(0.01, abs=1e-6)
    assert float(ss.K / ss.Y) == pytest.approx(0.11 / 0.035, abs=1e-5)
    assert float(ss.Y) == pytest.approx(1.0, abs=1e-6)
    assert abs(float(ss.residual)) < 1e-8
    np.testing.assert_allclose(float(ss.mu.sum()), 1.0, atol=1e-12)
    assert float(ss.euler_max) < -6.0


def test_with_steady_state_initial_starts_the_model_at_the_ergodic_distribution():
    import dataclasses

    from models.rspg_macro import RSPGMacro

    model = RSPGMacro(n_wealth=20, n_income=3, n_actions=5, horizon=4, common_noise=False)
    ss = hm.steady_state(model, tol=1e-8)
    started = hm.with_steady_state_initial(model, ss)
    mf = hm.compile_model(started)
    mu0 = mf.initial_distribution()
    np.testing.assert_allclose(np.asarray(mu0), np.asarray(ss.mu_flat), atol=1e-15)
    agg = mf.aggregate_state(mu0, 0.0)
    np.testing.assert_allclose(float(agg.K), float(ss.mu.sum(axis=1) @ model.a_grid), rtol=1e-12)
    assert dataclasses.replace(started, initial_mu=None).initial_mu is None


def test_issue_call_works_as_written_in_a_float32_session():
    """``hm.steady_state(KrusellSmith(...))`` with x64 off: float64 for the call, with a warning;
    parameters built in float32 limit the accuracy to about float32 precision."""
    import jax

    jax.config.update("jax_enable_x64", False)
    try:
        model = KrusellSmith(n_wealth=60, n_income=3)
        with pytest.warns(UserWarning, match="float64"):
            ss = hm.steady_state(model)
        assert not jax.config.jax_enable_x64
        assert ss.r.dtype == np.float64
    finally:
        jax.config.update("jax_enable_x64", True)
    ref = hm.steady_state(KrusellSmith(n_wealth=60, n_income=3))
    np.testing.assert_allclose(float(ss.r), float(ref.r), rtol=1e-5)
    np.testing.assert_allclose(float(ss.K), float(ref.K), rtol=1e-5)


def test_one_steady_state_type_for_every_economy(ss_small):
    """A capital economy and a declared economy return the same type: aggregates by name and
    as attributes, residuals by name, the model solved; tables need no model beside it; a
    steady state of one kind passed where the other is needed is refused by name."""
    from models.huggett import Huggett

    model, ss = ss_small
    hug = Huggett(n_wealth=30)
    hss = hm.steady_state(hug)
    assert type(ss) is type(hss) is hm.SteadyState is hm.EconomySteadyState
    assert not ss.is_economy and hss.is_economy
    assert ss.model is model and ss.unknowns == ("r",)
    assert float(ss.residuals["asset_mkt"]) == float(ss.A - ss.K) == float(ss.residual)
    assert float(ss["K"]) == float(ss.K) and float(hss["r"]) == float(hss.r)
    with pytest.raises(AttributeError, match="no attribute or aggregate 'pi'"):
        ss.pi
    # the steady state carries its grids: the same table with and without model=
    a = hm.distribution_table(ss)
    b = hm.distribution_table(ss, model=model)
    assert a.equals(b) and abs(a["mass"].sum() - 1.0) < 1e-12
    assert hm.policy_table(ss).equals(hm.policy_table(ss, model=model))
    with pytest.raises(ValueError, match="solved for a Huggett, not a KrusellSmith"):
        hm.transition_path(model, hss, z=0.01 * 0.9 ** jnp.arange(20))
    with pytest.raises(ValueError, match="solved for a KrusellSmith, not a Huggett"):
        hm.transition_path(hug, ss, z=0.01 * 0.9 ** jnp.arange(20))


def test_the_declared_firm_block_gives_the_capital_solvers_steady_state():
    """A capital economy is an economy: its aggregate block (``K = K_next(-1)``, prices from
    capital, ``asset_mkt = A - K_next``) solved by the economies' root find in ``K_next`` gives
    the steady state the capital solver finds in ``r`` from the firm's first-order condition
    (two formulations of one equilibrium)."""
    from hank_mfg.solvers.equilibrium import economy_steady_state

    model = KrusellSmith(alpha=0.11, tfp=0.8816460975, beta=0.9819527881, n_wealth=50,
                         n_income=3, wealth_max=100.0)
    by_r = hm.steady_state(model)
    by_k = economy_steady_state(model)
    assert by_r.unknowns == ("r",) and by_k.unknowns == ("K_next",)
    for name in ("K", "r", "w", "Y", "C", "A"):
        np.testing.assert_allclose(float(by_k[name]), float(by_r[name]), rtol=1e-9, err_msg=name)
    assert abs(float(by_k.residuals["asset_mkt"])) < 1e-9
    np.testing.assert_allclose(by_k.mu, by_r.mu, atol=1e-9)
    # and either one starts the same perfect-foresight path
    z = 0.01 * 0.9 ** jnp.arange(30)
    a = hm.transition_path(model, by_r, z=z)
    b = hm.transition_path(model, by_k, z=z)
    np.testing.assert_allclose(b.K, a.K, rtol=1e-8)
    # the block's timing: capital in place at date 0 is the steady state's, and the goods
    # market clears by Walras' law only when K_t is the capital carried out of t - 1
    assert float(b.K[0]) == pytest.approx(float(by_k.K), abs=1e-12)
    goods = b.Y[:-1] - b.C[:-1] - b.K[1:] + (1.0 - model.delta) * b.K[:-1]
    assert float(jnp.max(jnp.abs(goods))) < 1e-8

"""Perfect-foresight transition paths after an MIT shock (docs/theory.md §9.4)."""

import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from models.krusell_smith import KrusellSmith


@pytest.fixture(scope="module")
def economy():
    model = KrusellSmith(alpha=0.11, tfp=0.8816460975, beta=0.9819527881, n_wealth=50,
                         n_income=3, wealth_max=100.0, n_actions=5)
    return model, hm.steady_state(model)


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_tfp_shock_clears_markets_and_returns(economy):
    model, ss = economy
    T = 120
    z = 0.01 * 0.9 ** jnp.arange(T)
    path = hm.transition_path(model, z=z, steady_state=ss, return_distribution=True)
    assert int(path.iterations) <= 8
    # asset market clears in every period: A_t = K_{t+1}
    assert float(jnp.max(jnp.abs(path.A[:-1] - path.K[1:]))) < 1e-8
    # goods market (Walras): Y_t = C_t + K_{t+1} - (1 - delta) K_t
    gm = path.Y[:-1] - path.C[:-1] - path.K[1:] + (1 - model.delta) * path.K[:-1]
    assert float(jnp.max(jnp.abs(gm))) < 1e-8
    # starts at and returns to the steady state
    assert float(path.K[0]) == pytest.approx(float(ss.K), abs=1e-14)
    assert abs(float(path.K[-1] - ss.K)) < 1e-6
    assert abs(float(path.terminal_gap)) < 1e-6
    # capital accumulates after a positive TFP shock; output jumps on impact by z_0
    assert float(path.K[1]) > float(ss.K)
    assert float(path.Y[0] / ss.Y) == pytest.approx(np.exp(0.01), rel=1e-10)
    # distribution path: mu_t sums to one and K_t = sum mu_t a
    assert path.mu.shape == (T, 50, 3)
    np.testing.assert_allclose(path.mu.sum(axis=(1, 2)), 1.0, atol=1e-12)
    np.testing.assert_allclose(jnp.einsum("tae,a->t", path.mu, model.a_grid), path.K,
                               atol=1e-8)
    ee = hm.euler_errors(model, path)
    assert ee.mean.shape == (T - 1,)
    assert float(jnp.max(ee.mean)) < -3.5


def test_zero_shock_stays_at_steady_state(economy):
    model, ss = economy
    path = hm.transition_path(model, z=jnp.zeros(40), steady_state=ss)
    np.testing.assert_allclose(path.K, ss.K, atol=1e-8)
    np.testing.assert_allclose(path.r, ss.r, atol=1e-10)


def test_jacobian_matches_finite_differences(economy):
    model, ss = economy
    T = 20
    J_r, J_w = hm.sequence_jacobian(model, ss, T)
    h = 1e-6
    s = 3
    r = jnp.full(T, ss.r).at[s].add(h)
    w = jnp.full(T, ss.w)
    A1 = hm.solvers.household_path(model, r, w, ss.Va, ss.mu)[0]
    A0 = hm.solvers.household_path(model, jnp.full(T, ss.r), w, ss.Va, ss.mu)[0]
    np.testing.assert_allclose((A1 - A0) / h, J_r[:, s], rtol=1e-3, atol=1e-4)


def test_bad_z_is_named(economy):
    model, ss = economy
    # the jaxtyping runtime checker (tests) or the solver's own check names z
    with pytest.raises((ValueError, TypeError), match="z"):
        hm.transition_path(model, z=jnp.zeros((3, 2)), steady_state=ss)


def test_one_path_type_for_every_economy(economy):
    """A capital economy's path and a declared economy's are one type: aggregates by name and
    as attributes, residuals by name (the capital market's last date is the gap left at the
    horizon), the model they belong to; tables of a path need nothing beside it."""
    from models.huggett import Huggett

    model, ss = economy
    T = 40
    path = hm.transition_path(model, ss, z=0.01 * 0.9 ** jnp.arange(T),
                              return_distribution=True)
    hug = Huggett(n_wealth=30)
    hpath = hm.transition_path(hug, z=0.01 * 0.9 ** jnp.arange(T))
    assert type(path) is type(hpath) is hm.TransitionPath is hm.EconomyPath
    assert type(path.model) is type(model) and float(path.model.beta) == float(model.beta)
    assert not path.is_economy and hpath.is_economy
    assert path.T == hpath.T == T
    gap = path.residuals["asset_mkt"]
    np.testing.assert_array_equal(gap[:-1], path.A[:-1] - path.K[1:])
    assert float(gap[-1]) == float(path.terminal_gap) == float(path.A[-1] - ss.K)
    assert float(path.max_residual) == float(jnp.max(jnp.abs(path.residual)))
    assert float(path["K"][3]) == float(path.K[3]) and path.shocks["z"].shape == (T,)
    with pytest.raises(TypeError, match="residual is a capital economy's"):
        hpath.residual
    # the path's own model gives the grids
    a = hm.wealth_distribution(path, dates=(0, T - 1))
    assert a.equals(hm.wealth_distribution(path, model=model, dates=(0, T - 1)))
    with pytest.raises(TypeError, match="same kind of economy|both of a declared economy"):
        hm.mit_responses(hpath, ss)

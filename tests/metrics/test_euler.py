"""Euler-equation errors (docs/theory.md §8)."""

import jax.numpy as jnp
import pytest

import hank_mfg as hm
from models.krusell_smith import KrusellSmith


def model_n(n):
    return KrusellSmith(alpha=0.11, tfp=0.8816460975, beta=0.9819527881, n_wealth=n,
                        n_income=2, wealth_max=80.0, n_actions=5)


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_errors_fall_as_grid_refines():
    means = []
    for n in (20, 80):
        m = model_n(n)
        hh = hm.household_steady_state(m, r=0.01, w=0.89)
        means.append(float(hm.euler_errors(m, hh).log10_mean))
    assert means[1] < means[0] - 0.5


def test_table_input_and_bad_policy():
    m = model_n(30)
    hh = hm.household_steady_state(m, r=0.01, w=0.89)
    ee = hm.euler_errors(m, hh.c_policy, r=0.01, w=0.89, mu=hh.mu)
    assert float(ee.mean) == pytest.approx(float(hh.euler_mean), abs=1e-10)
    assert ee.errors.shape == (30, 2)
    # a policy that consumes 5% more violates the Euler equation by orders of magnitude more
    bad = hm.euler_errors(m, 1.05 * hh.c_policy, r=0.01, w=0.89, mu=hh.mu)
    assert float(bad.mean) > -3.0
    assert float(bad.mean) > float(ee.mean) + 2.0
    assert bool(jnp.all(ee.unconstrained == (hh.a_policy > m.a_grid[0] + 1e-10)))
    with pytest.raises(ValueError, match="r and w"):
        hm.euler_errors(m, hh.c_policy)


@pytest.mark.parametrize("which", ["huggett", "hank"])
def test_economy_steady_states_have_euler_errors(which):
    """An economy's steady state is accepted as a capital economy's is; with a labour choice the
    budget includes the hours worked (with hours of one the same policy would look wrong)."""
    import dataclasses

    import jax

    from models.hank import OneAssetHANK
    from models.huggett import Huggett

    with jax.enable_x64(True):
        model = Huggett(n_wealth=30) if which == "huggett" else OneAssetHANK(n_wealth=30, n_income=3)
        ss = hm.steady_state(model)
        ee = hm.euler_errors(model, ss)
        assert float(ee.mean) == pytest.approx(float(ss.euler_mean), abs=1e-9)
        assert float(ee.max) == pytest.approx(float(ss.euler_max), abs=1e-9)
        assert float(ee.mean) < -4.0 and ee.errors.shape == ss.c_policy.shape
        if which == "hank":
            wrong = dataclasses.replace(ss, n_policy=jnp.ones_like(ss.n_policy))
            assert float(hm.euler_errors(model, wrong).mean) > float(ee.mean) + 1.0


def test_an_economys_perfect_foresight_path_has_euler_errors():
    """Along a declared economy's perfect-foresight path the households' policies are EGM's
    against that path's prices, so the Euler equation holds as tightly as at the steady state;
    consumption 2% too high at one date violates it there by orders of magnitude more."""
    import dataclasses

    import jax

    from models.huggett import Huggett

    with jax.enable_x64(True):
        model = Huggett(n_wealth=40)
        ss = hm.steady_state(model)
        T = 30
        path = hm.transition_path(model, ss, z=0.02 * 0.8 ** jnp.arange(T),
                                  return_distribution=True)
        ee = hm.euler_errors(model, path)
        assert ee.mean.shape == (T - 1,) and ee.errors.shape == (T - 1, 40, 3)
        assert float(jnp.max(ee.mean)) < float(ss.euler_mean) + 0.5
        # the last dates are back at the steady state: the steady state's own errors
        assert float(ee.mean[-1]) == pytest.approx(float(ss.euler_mean), abs=0.05)
        bad = dataclasses.replace(path, c_policy=path.c_policy.at[5].multiply(1.02))
        worse = hm.euler_errors(model, bad)
        assert float(worse.mean[5]) > float(ee.mean[5]) + 2.0
        assert abs(float(worse.mean[10]) - float(ee.mean[10])) < 1e-12

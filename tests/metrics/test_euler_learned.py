"""``hm.euler_errors`` of learned solutions: one call for either kind of choice, checked against
the steady state's own Euler errors (a learned economy without shocks at its structural start
is the steady state), against the certificate the training history records, and against the
discrete-choice routine on the same paths."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg.solvers import continuous as C
from hank_mfg.solvers.egm import euler_summary
from hank_mfg.solvers.training import run_keys
from models.huggett import Huggett
from models.krusell_smith import KrusellSmith

T = 10


@functools.lru_cache(maxsize=None)
def continuous_solution(common_noise):
    model = Huggett(n_wealth=30, common_noise=common_noise)
    ss = hm.steady_state(model)
    problem = C.savings_problem(model, ss, horizon=T)
    policy = problem.make_policy(key=jax.random.key(0), hidden=4, widths=(6,), n_knots=6)
    config = hm.RSPGConfig.continuous(eval_paths=3)
    return ss, hm.Solution(model=model, method="rspg", config=config, policy=policy,
                           history=None, summary={}, problem=problem)


def test_without_shocks_the_learned_start_has_the_steady_states_errors():
    ss, sol = continuous_solution(common_noise=False)
    ee = hm.euler_errors(sol)
    assert isinstance(ee, hm.LearnedEulerErrors)
    assert ee.errors.shape == (3, T - 1, 30, ss.mu.shape[1]) and ee.mean.shape == (3, T - 1)
    # the untrained start is the steady-state policy at the steady state's prices: its errors
    # at every date are the steady state's (to what the EGM tolerance of the start allows)
    np.testing.assert_allclose(np.asarray(ee.mean), float(ss.euler_mean), atol=2e-5)
    np.testing.assert_allclose(np.asarray(ee.max), float(ss.euler_max), atol=2e-5)
    # every date's summary is the one routine's summary of its own table
    m, x, _ = euler_summary(ee.errors[1, 4], ee.unconstrained[1, 4], ee.mu[1, 4])
    assert float(m) == pytest.approx(float(ee.mean[1, 4]), abs=1e-12)
    assert float(x) == pytest.approx(float(ee.max[1, 4]), abs=1e-12)


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_with_shocks_they_are_the_certificates_of_the_history():
    ss, sol = continuous_solution(common_noise=True)
    problem, policy = sol.problem, sol.policy
    key = jax.random.key(2)
    ee = hm.euler_errors(sol, key=key, n_paths=3)
    # the certificate a training history records comes from the same routine on the same paths
    ex = hm.exploitability(sol, key=key, n_paths=3)
    np.testing.assert_allclose(np.asarray(ee.mean).mean(axis=1), ex.per_path["euler_mean"],
                               rtol=1e-12)
    np.testing.assert_allclose(np.asarray(ee.max).max(axis=1), ex.per_path["euler_max"],
                               rtol=1e-12)
    # aggregate risk the steady-state policy ignores shows up as larger errors
    assert float(ee.mean_log10) > float(ss.euler_mean) + 1.0
    # the same call with the compiled problem and its policy; other paths, other errors
    same = hm.euler_errors(problem, policy, key=key, n_paths=3)
    np.testing.assert_array_equal(np.asarray(same.errors), np.asarray(ee.errors))
    other = hm.euler_errors(problem, policy, key=jax.random.key(5), n_paths=3)
    assert float(other.mean_log10) != pytest.approx(float(ee.mean_log10), abs=1e-9)
    # solution_quality reads these numbers for a continuous-choice solution
    row = hm.solution_quality(sol, key=key, n_paths=3).iloc[0]
    assert row["euler_mean_log10"] == pytest.approx(float(ee.mean_log10), abs=1e-12)
    assert row["relative_exploitability"] == pytest.approx(ex.relative, rel=1e-12)
    assert bool(row["monotone_consumption"])


def test_discrete_choices_through_the_same_call():
    model = KrusellSmith(n_wealth=12, n_actions=6, horizon=6, n_income=2, wealth_max=40.0)
    mf = hm.compile_model(model)
    policy = hm.TablePolicy(jnp.full((mf.n_states, mf.n_actions), 1.0 / mf.n_actions))
    sol = hm.Solution(model=model, method="rspg", config=hm.RSPGConfig(eval_paths=2),
                      policy=policy, history=None, summary={})
    ee = hm.euler_errors(sol)
    eps = mf.sample_noise(key=run_keys(sol.config)[2], n_paths=2)
    ref = hm.learned_euler_errors(mf, policy, eps)
    np.testing.assert_array_equal(np.asarray(ee.errors), np.asarray(ref.errors))
    assert float(ee.mean_log10) == float(ref.mean_log10)
    # a model with a policy (or a table) and a key
    key = jax.random.key(2)
    by_model = hm.euler_errors(model, policy, key=key, n_paths=2)
    by_table = hm.euler_errors(mf, policy.P, key=key, n_paths=2)
    np.testing.assert_array_equal(np.asarray(by_model.errors), np.asarray(by_table.errors))
    # solution_quality reads the same errors on its paths
    row = hm.solution_quality(sol, key=key, n_paths=2).iloc[0]
    assert row["euler_mean_log10"] == pytest.approx(float(by_model.mean_log10), abs=1e-12)


def test_learned_errors_refuse_what_they_cannot_read():
    ss, sol = continuous_solution(common_noise=True)
    with pytest.raises(ValueError, match="Solution alone"):
        hm.euler_errors(sol, sol.policy)
    with pytest.raises(TypeError, match="compiled problem"):
        hm.euler_errors(sol.model, sol.policy, key=jax.random.key(0))
    with pytest.raises(ValueError, match="key="):
        hm.euler_errors(sol.problem, sol.policy)
    with pytest.raises(TypeError, match="Solution alone"):
        hm.euler_errors(sol.model)
    ks = object.__new__(hm.KrusellSmithSolution)   # what it holds is not read
    with pytest.raises(TypeError, match="den_haan_errors"):
        hm.euler_errors(ks)

"""The distribution, policy, simulation and response reports take a solution with continuous
savings choices as they take a discrete one, and their numbers are the learned economy's:
checked against what must hold (the rollout starts at the steady state and, without shocks,
stays there; the budget; an AR(1) shock's own path; common random numbers) and against the
rollout they read."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg.solvers import continuous as C
from models.huggett import Huggett

T = 12


@pytest.fixture(scope="module")
def learned():
    """An untrained policy of the structural start as a Solution: the reports do not care how
    the policy was found."""
    model = Huggett(n_wealth=30)
    ss = hm.steady_state(model)
    problem = C.savings_problem(model, ss, horizon=T)
    policy = problem.make_policy(key=jax.random.key(0), hidden=4, widths=(6,), n_knots=6)
    sol = hm.Solution(model=model, method="rspg", config=hm.RSPGConfig.continuous(),
                      policy=policy, history=None, summary={}, problem=problem)
    return model, ss, problem, sol


def test_distributions_and_simulation_are_the_learned_economys(learned):
    model, ss, problem, sol = learned
    a = np.asarray(model.a_grid)
    # the rollout starts at the steady state and, without shocks, stays there
    table = hm.wealth_distribution(sol, dates=(0, T - 1))
    assert set(table["date"]) == {0, T - 1}
    mean_ss = float(jnp.sum(ss.mu * model.a_grid[:, None]))
    np.testing.assert_allclose(table[table.group == "all"]["mean"], mean_ss, atol=1e-9)
    panel = hm.simulate(sol, key=None, n_paths=1)
    assert len(panel) == T and {"r", "C", "z", "gini", "mean_wealth"} <= set(panel.columns)
    np.testing.assert_allclose(panel["r"], float(ss.r), atol=1e-9)
    np.testing.assert_allclose(panel["z"], 0.0, atol=0.0)
    # with shocks: the columns are the rollout's own numbers
    key = jax.random.key(3)
    panel = hm.simulate(sol, key=key, n_paths=2)
    path = C.savings_rollout_batch(problem, sol.policy,
                                   problem.sample_noise(key=key, n_paths=2, T=T))
    np.testing.assert_allclose(panel["r"], np.asarray(path.agg["r"]).reshape(-1), rtol=1e-12)
    np.testing.assert_allclose(panel["z"], np.asarray(path.z[..., 0]).reshape(-1), rtol=1e-12)
    mean_w = np.einsum("btae,a->bt", np.asarray(path.mu), a).reshape(-1)
    np.testing.assert_allclose(panel["mean_wealth"], mean_w, atol=1e-12)
    assert float(np.std(panel["r"])) > 1e-5  # the shocks move the rate
    # figures read the same sources
    hm.lorenz_curve(sol)
    hm.wealth_figure(sol)
    hm.distribution_heatmaps(sol, key=key)
    frame = hm.anticipatory_consumption(sol, key=key, n_paths=2)
    np.testing.assert_allclose(frame["r"], np.asarray(path.agg["r"]).reshape(-1), rtol=1e-12)


def test_policy_table_meets_the_budget_and_its_values(learned):
    model, ss, problem, sol = learned
    tab = hm.policy_table(sol, date=4)
    # c + a' = m on every row; the reward is the period utility
    np.testing.assert_allclose(tab["consumption"] + tab["savings"], tab["cash"], atol=1e-12)
    np.testing.assert_allclose(tab["reward"], np.asarray(model.utility(
        jnp.asarray(tab["consumption"].to_numpy()))), rtol=1e-12)
    # at the steady state the policy is the steady state's and its value the stationary one
    np.testing.assert_allclose(tab["consumption"], np.asarray(ss.c_policy).reshape(-1),
                               atol=1e-6)
    path = C.savings_rollout(problem, sol.policy,
                             jnp.zeros((T, problem.n_noise), problem.a_grid.dtype))
    np.testing.assert_allclose(tab["value"], np.asarray(C.path_values(problem, path)[0][4])
                               .reshape(-1), rtol=1e-12)
    hm.policy_figure(tab)
    with pytest.raises(ValueError, match="date must lie in"):
        hm.policy_table(sol, date=T)


def test_impulse_responses_of_a_continuous_solution(learned):
    model, ss, problem, sol = learned
    size = 0.01
    irf = hm.impulse_responses(sol, shock=size, key=None)
    z = irf[irf.variable == "z"].sort_values("t")
    assert set(z.unit) == {"pp"}
    # the shock's own state follows its AR(1): 100 size rho^t percentage points
    rho = float(model.rho_z)
    np.testing.assert_allclose(z.response, 100 * size * rho ** np.arange(T), rtol=1e-12)
    assert set(irf[irf.variable == "r"].unit) == {"bp"}
    # common random numbers: no shock, no response, along noisy paths too
    zero = hm.impulse_responses(sol, shock=0.0, key=jax.random.key(1), n_paths=2)
    assert np.nanmax(np.abs(zero.response)) == 0.0
    # an innovation by name, at a later date
    later = hm.impulse_responses(sol, shock={"z": size}, date=3, key=None)
    zl = later[later.variable == "z"].sort_values("t").response.to_numpy()
    np.testing.assert_allclose(zl[:3], 0.0, atol=0.0)
    np.testing.assert_allclose(zl[3:], 100 * size * rho ** np.arange(T - 3), rtol=1e-12)
    with pytest.raises(ValueError, match="'rstar' is not one of the model's innovations"):
        hm.impulse_responses(sol, shock={"rstar": 0.01}, key=None)
    hm.impulse_figure(irf, variables=["r", "C"])


def test_continuous_only_analysis_refuses_a_discrete_solution_by_name():
    from models.krusell_smith import KrusellSmith

    model = KrusellSmith(n_wealth=12, n_income=2, n_actions=4, horizon=6, wealth_max=40.0)
    mf = hm.compile_model(model)
    policy = hm.make_policy(mf, "rspg", key=jax.random.key(0), hidden=2, widths=(4,))
    sol = hm.Solution(model=model, method="rspg", config=hm.RSPGConfig(), policy=policy,
                      history=None, summary={})
    for call in (lambda: hm.learned_irf(sol, {"z": 0.01}), lambda: hm.ergodic_moments(sol),
                 lambda: hm.first_order_certificate(sol)):
        with pytest.raises(TypeError, match="solved with discrete choices.*"
                                            "hm.impulse_responses"):
            call()

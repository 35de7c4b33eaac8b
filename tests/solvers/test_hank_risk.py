"""The one-asset HANK under aggregate risk (docs/theory.md §13): households with a labour choice,
all unknowns solved each date with the firms' forecast, news.

A small grid and a short horizon; checked against mathematics: the untrained economy at zero
noise is the steady state, the households' choice reproduces EGM's at the steady-state budget,
``da'/d logit`` against autodiff of the budget, the policy-gradient identity against reverse mode,
the goods market (cleared by Walras' law, not by the solver) along noisy paths, the expected
Phillips-curve residual at the steady state, and the timing of announced innovations.
"""

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg.policies.savings import trainable
from hank_mfg.solvers import continuous as C
from hank_mfg.solvers import savings_certificates as S
from hank_mfg.solvers.egm import household_step
from hank_mfg.solvers.rollout import model_consumption_equivalent
from models.hank import OneAssetHANK

jax.config.update("jax_enable_x64", True)


@pytest.fixture(scope="module")
def hank():
    m = OneAssetHANK(n_wealth=40, n_income=3)
    return m, hm.steady_state(m)


@pytest.fixture(scope="module")
def problem(hank):
    m, ss = hank
    return C.savings_problem(m, ss, horizon=10, news=3, news_shock="rstar")


@eqx.filter_jit
def _roll(problem, policy, eps, z_shock):
    return C.savings_rollout_batch(problem, policy, eps, None, z_shock)


def _policy(problem, scale=0.0, key=1):
    pol = problem.make_policy(key=jax.random.key(0), hidden=4, widths=(6,), n_knots=6)
    if scale:
        w = scale * jax.random.normal(jax.random.key(key), pol.out.weight.shape)
        pol = eqx.tree_at(lambda p: p.out.weight, pol, w)
    return pol


def test_untrained_economy_at_zero_noise_is_the_steady_state(problem):
    P = problem
    assert isinstance(P.prices, C.ForecastClearing)
    assert P.prices.forward_targets == ("nkpc_res",)
    pol = _policy(P)
    eps = jnp.zeros((1, P.horizon, P.n_noise))
    path = _roll(P, pol, eps, eps[0])
    for k in ("Y", "pi", "w", "r", "C", "A", "N", "Div", "Tax"):
        np.testing.assert_allclose(path.agg[k][0], P.ss_values[k], atol=1e-8, err_msg=k)
    assert float(jnp.max(path.residual)) < 1e-10
    # the households play EGM's steady-state policies
    np.testing.assert_allclose(path.a_next[0], jnp.broadcast_to(P.a_ss, path.a_next[0].shape),
                               atol=1e-7)
    np.testing.assert_allclose(path.n[0], jnp.broadcast_to(P.steady_state.n_policy,
                                                           path.n[0].shape), rtol=1e-7)


@pytest.mark.slow
def test_certificate_at_the_steady_state(problem):
    P = problem
    pol = _policy(P)
    eps = jnp.zeros((P.horizon, P.n_noise))
    # without aggregate risk the Phillips curve (its expectation a single node) holds exactly
    # at the steady state, and the steady state is its own best response
    Q = C.SavingsProblem(**{**{f: getattr(P, f) for f in P.__dataclass_fields__},
                            "common_noise": False})
    ev = jax.jit(lambda e: S.evaluate_savings(Q, pol, e))(eps[None])
    assert float(jnp.max(jnp.abs(ev.forward))) < 1e-9
    assert float(jnp.max(jnp.abs(ev.relative))) < 1e-6
    # with risk, its expectation over next date's shocks differs at second order only
    ev = jax.jit(lambda e: S.evaluate_savings(P, pol, e))(eps[None])
    assert 1e-7 < float(jnp.max(jnp.abs(ev.forward))) < 1e-4


def test_labour_choice_matches_egm_and_its_derivative(problem):
    """At any budget the untrained choice is EGM's step; ``da'/d logit`` is the derivative of the
    budget with hours at the intratemporal optimum (autodiff of ``a'(logit)``)."""
    P = problem
    m = P.model
    budget = m.budget({"r": 0.006, "w": 0.84, "Div": 0.17, "Tax": 0.03})
    pol = _policy(P)
    arrays = (P.a_grid, P.e_grid, P.Pi_e, None)
    _, x, a_next, c, dshare, n = C._act(P, pol, pol.init_carry(), budget, 1.0,
                                        P.obs_ref)
    _, a_egm, c_egm, n_egm = household_step(m, P.Va_ss, budget, arrays=arrays)
    free = a_egm > P.a_grid[0] + 1e-8
    np.testing.assert_allclose(c[free], c_egm[free], rtol=1e-10)
    np.testing.assert_allclose(a_next, a_egm, atol=1e-7)
    np.testing.assert_allclose(n, m.hours(budget.we[None, :], m.marginal_utility(c)), rtol=1e-12)
    # the budget holds with hours
    np.testing.assert_allclose(c + a_next, budget.cash_on_hand(P.a_grid, n), rtol=1e-12)
    c_max, _ = C.limit_consumption(m, budget, P.a_grid)

    def a_of(logit, i, j):
        xx = jax.nn.sigmoid(logit)
        cc = (1.0 - xx) * c_max[i, j]
        nn = m.hours(budget.we[j], m.marginal_utility(cc))
        return budget.R * P.a_grid[i] + budget.y[j] + budget.we[j] * nn - cc

    logit = jnp.log(x) - jnp.log1p(-x)
    for i, j in [(3, 0), (20, 1), (35, 2)]:
        np.testing.assert_allclose(jax.grad(a_of)(logit[i, j], i, j), dshare[i, j], rtol=1e-9)


@pytest.mark.slow
def test_gradient_identity_equals_reverse_mode_with_hours(problem):
    P = problem
    pol = _policy(P, scale=0.01)
    params, static = eqx.partition(pol, trainable(pol))
    eps = P.sample_noise(key=jax.random.key(2), n_paths=2)
    loss, g, res = eqx.filter_jit(C.savings_value_and_grad)(params, static, P, eps)
    assert float(res) < 1e-8

    def f(p):
        return C.savings_loss(eqx.combine(p, static), P, eps)

    loss2, g2 = jax.jit(jax.value_and_grad(f))(params)
    assert abs(float(loss - loss2)) < 1e-12 * abs(float(loss))
    # the households' parameters: the identity equals reverse mode (prices are taken as given)
    for a, b in zip(jax.tree_util.tree_leaves(eqx.tree_at(lambda p: p.forecaster, g, None)),
                    jax.tree_util.tree_leaves(eqx.tree_at(lambda p: p.forecaster, g2, None))):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12 * float(jnp.max(jnp.abs(b)) + 1))
    # the forecaster's: reverse mode gives zero (prices are a stop-gradient); the identity's
    # surrogate gives the gradient of the forecast loss
    path = jax.jit(lambda e: C.savings_rollout_batch(P, pol, e))(eps)
    gf = jax.grad(lambda p: C.forecast_loss(P, eqx.combine(p, static).forecaster, path))(
        params).forecaster
    for a, b, z in zip(jax.tree_util.tree_leaves(g.forecaster), jax.tree_util.tree_leaves(gf),
                       jax.tree_util.tree_leaves(g2.forecaster)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12)
        assert float(jnp.max(jnp.abs(z))) == 0.0


def test_markets_and_walras_along_noisy_paths(problem):
    """Asset and labour markets solved each date; the goods market, which the solver never
    looks at, clears by Walras' law — the budget, dividends and taxes add up."""
    P = problem
    pol = _policy(P, scale=0.01)
    eps = 2.0 * P.sample_noise(key=jax.random.key(4), n_paths=1)
    path = _roll(P, pol, eps, jnp.zeros_like(eps[0]))
    assert float(jnp.max(path.residual)) < 1e-9
    assert float(jnp.max(jnp.abs(path.agg["goods_mkt"]))) < 1e-8
    # Y = C + the firms' price-adjustment cost mu/(mu-1)/(2 kappa) log(1+pi)^2 Y
    m = P.model
    cost = m.mu / (m.mu - 1) / (2 * m.kappa) * jnp.log1p(path.agg["pi"]) ** 2 * path.agg["Y"]
    assert float(jnp.max(cost)) > 1e-6
    assert float(jnp.max(jnp.abs(path.agg["Y"] - path.agg["C"] - cost))) < 1e-8
    assert float(jnp.max(jnp.abs(path.agg["asset_mkt"]))) < 1e-9
    assert float(jnp.std(path.agg["pi"])) > 1e-4  # the shocks move the economy


def test_announced_innovations_hit_after_k_dates(problem):
    P = problem
    assert P.noise_names == ("rstar", "Z", "rstar_news1", "rstar_news2", "rstar_news3")
    sd = P.sigma
    np.testing.assert_allclose(sd[0] ** 2 + jnp.sum(sd[2:] ** 2), 0.0025**2, rtol=1e-12)
    pol = _policy(P)
    shock = jnp.zeros((P.horizon, P.n_noise)).at[0, 4].set(-0.01)
    path = jax.tree_util.tree_map(lambda x: x[0], _roll(P, pol, jnp.zeros_like(shock)[None],
                                                        shock))
    dev = np.asarray(path.agg["rstar"] - P.ss_values["rstar"])
    rho = float(P.rho[0])
    expect = np.where(np.arange(P.horizon) >= 3,
                      -0.01 * rho ** np.maximum(np.arange(P.horizon) - 3, 0), 0.0)
    np.testing.assert_allclose(dev, expect, atol=1e-15)
    # everyone sees the announcement from date 0: the last observation entries are the queue
    np.testing.assert_allclose(path.obs[0, -3:], [0.0, 0.0, -0.01], atol=1e-15)
    # the households read yesterday's prices (r, w, pi) and today's shocks
    np.testing.assert_allclose(path.obs[1:, :3], np.stack([path.agg[k][:-1] for k in
                                                           ("r", "w", "pi")], -1), atol=1e-15)
    np.testing.assert_allclose(path.obs[2, -3:], [-0.01, 0.0, 0.0], atol=1e-15)


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_an_inertial_taylor_rule_is_carried_date_by_date():
    """With interest-rate smoothing the nominal rate is an unknown solved each date from
    yesterday's rate (carried): along a noisy path the rule holds exactly, and the untrained
    economy at zero noise stays at the steady state."""
    m = OneAssetHANK(n_wealth=20, n_income=3, rho_i=0.8)
    P = C.savings_problem(m, hm.steady_state(m), horizon=8)
    assert P.prices.unknowns == ("pi", "w", "Y", "i")
    pol = _policy(P, scale=0.01)
    eps = 2.0 * P.sample_noise(key=jax.random.key(5), n_paths=1)
    path = jax.tree_util.tree_map(lambda x: x[0], _roll(P, pol, eps, jnp.zeros_like(eps[0])))
    i, pi, rstar = (np.asarray(path.agg[k]) for k in ("i", "pi", "rstar"))
    prev = np.concatenate([[float(P.ss_values["i"])], i[:-1]])
    np.testing.assert_allclose(i, 0.8 * prev + 0.2 * (rstar + 1.5 * pi), atol=1e-12)
    assert float(np.std(i)) > 1e-4 and float(jnp.max(path.residual)) < 1e-7


def test_a_condition_that_reads_two_dates_back_is_refused_by_name():
    from models.huggett import Huggett

    class TwoBack(Huggett):  # the rate paid on bonds bought two dates ago
        def aggregates(self, v):
            Huggett.aggregates(self, v)
            v["r_paid"] = v.lag("r", 2)

    ss = hm.steady_state(Huggett(n_wealth=20))
    with pytest.raises(ValueError, match="r_paid reads r at t-2"):
        C.check_timing(TwoBack(n_wealth=20), dict(ss.values), forward=False)


def test_consumption_equivalent_is_the_permanent_consumption_gain_with_hours(problem):
    """``lambda`` of the certificate solves its definition: raising the policy's consumption by
    ``1 + lambda`` at every date — hours and savings held, the stationary value after the
    horizon recomputed for the raised consumption — gives the population the best response's
    value (docs/theory.md §7.1). Checked by the value recursion itself, not the closed form,
    on a perturbed policy of the HANK, whose value mixes consumption with hours."""
    P = problem
    m = P.model
    pol = _policy(P, scale=0.05)
    eps = P.sample_noise(key=jax.random.key(4), n_paths=1)
    ev = jax.jit(lambda e: S.evaluate_savings(P, pol, e))(eps)
    assert float(ev.exploitability[0]) > 1e-6          # the perturbed policy is exploitable
    lam = model_consumption_equivalent(
        m, float(ev.exploitability[0]), float(ev.consumption_return[0]))
    assert lam > 0
    path = jax.tree_util.tree_map(lambda x: x[0], _roll(P, pol, eps, jnp.zeros_like(eps[0])))
    ss = P.steady_state
    V_T, it, err = C.stationary_policy_value(m, (1.0 + lam) * P.c_ss, P.a_ss, ss.n_policy)
    raised = eqx.tree_at(lambda q: q.V_ss, P, V_T)
    V0 = C.path_values(raised, eqx.tree_at(lambda p: p.c, path, (1.0 + lam) * path.c))[0][0]
    np.testing.assert_allclose(float(jnp.sum(path.mu[0] * V0)),
                               float(ev.best_response_return[0]), rtol=1e-11)
    # the value of consumption alone is the recursion with u(c) as the flow
    Vc = C.path_values(P, path, hours=False)[0][0]
    np.testing.assert_allclose(float(jnp.sum(path.mu[0] * Vc)), float(ev.consumption_return[0]),
                               rtol=1e-13)
    assert float(ev.consumption_return[0]) != pytest.approx(float(ev.policy_return[0]), rel=1e-3)


def test_the_clearing_starts_from_the_first_order_change_of_todays_unknowns(hank):
    """With a first-order start the quasi-Newton search of each date starts from yesterday's
    solution moved by the first-order change of today's unknowns. Gold standard: the cleared
    unknowns of the untrained start (exact at first order) after a monetary innovation differ
    from that first-order path by a second-order amount (doubling the innovation doubles the
    gap as a share of the peak); along noisy paths the default four steps then clear the
    markets as well as five steps from yesterday's solution, and four steps without the
    nowcast do not."""
    m, ss = hank
    P = C.savings_problem(m, ss, horizon=12, start="first-order")
    assert P.prices.search_steps(P) == 4
    pol = _policy(P)
    U = P.prices.unknowns
    i = P.noise_names.index("rstar")

    def gap(size):
        eps = jnp.zeros((1, P.horizon, P.n_noise))
        shock = eps[0].at[0, i].set(size)
        path = _roll(P, pol, eps, shock)
        got = np.stack([np.asarray(path.agg[u][0]) - float(ss.values[u]) for u in U], axis=1)
        lin = np.asarray(jax.vmap(P.linear_nowcast)(path.z[0]))
        return np.max(np.abs(got - lin) / np.max(np.abs(lin), axis=0))

    g1, g2 = gap(1e-4), gap(2e-4)                   # 1 and 2 bp of rstar
    assert g1 < 3e-3, g1                              # measured: 1.7e-3 (Y), 3.4e-4 (pi)
    assert 1.9 < g2 / g1 < 2.1, (g1, g2)

    eps = P.sample_noise(key=jax.random.key(2), n_paths=1)   # the shapes compiled above

    def worst(problem):
        path = _roll(problem, pol, eps, jnp.zeros_like(eps[0]))
        return float(jnp.max(path.residual))

    def variant(steps, nowcast):
        Q = eqx.tree_at(lambda p: p.prices, P, dataclasses.replace(P.prices, steps=steps))
        return Q if nowcast else eqx.tree_at(lambda p: p.first_order.impact, Q, None)

    default, yesterday5, yesterday4 = worst(P), worst(variant(5, False)), worst(variant(4, False))
    assert default < 3.0 * yesterday5 + 1e-12, (default, yesterday5)
    assert yesterday4 > 10.0 * default, (default, yesterday4)


@pytest.mark.parametrize("frisch", [0.5, 2.0])
def test_the_borrowing_limit_consumption_from_the_steady_states_root(frisch):
    """Households that save the borrowing limit solve ``c - we n(c) = R a + y - a_min``; seeded
    with the steady state's root, six Newton steps reach rounding at budgets with every income
    halved or doubled and the return moved by 10%, on the shipped Frisch elasticity and on a
    high one."""
    m = OneAssetHANK(n_wealth=30, n_income=3, frisch=frisch)
    ss = hm.steady_state(m)
    P = C.savings_problem(m, ss, horizon=4)
    base = m.budget({k: jnp.asarray(ss.values[k]) for k in m.household_inputs})
    for scale in (0.5, 0.8, 1.25, 2.0):
        b = dataclasses.replace(base, we=base.we * scale, y=base.y * scale,
                                R=base.R * (1.0 + 0.1 * (scale - 1.0)))
        rhs = b.R * P.a_grid[:, None] + b.y[None, :] - P.a_grid[0]
        c, n = C.limit_consumption(m, b, P.a_grid, P.uc_limit)
        np.testing.assert_allclose(c - b.we[None, :] * n, rhs, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(n, m.hours(b.we[None, :], m.marginal_utility(c)), rtol=1e-13)

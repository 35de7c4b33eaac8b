"""RSPG with continuous savings choices: gradient identity, EGM certificate, market clearing.

Small grids and short horizons; the mathematics checked: the deterministic policy-gradient
identity against reverse mode and central finite differences, the EGM best response against
the steady state it must reproduce, the in-rollout bisection against the market residual.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg.policies.savings import knot_matrix, knot_points, trainable
from hank_mfg.solvers import continuous as C
from hank_mfg.solvers import savings_certificates as S
from models.huggett import Huggett
from models.krusell_smith import KrusellSmith

jax.config.update("jax_enable_x64", True)


KS = dict(n_wealth=30, n_income=3, wealth_max=60.0, alpha=0.11, tfp=0.8816460975,
          beta=0.9819527881, sigma_z=0.02)


@pytest.fixture(scope="module")
def ks():
    m = KrusellSmith(**KS)
    return m, hm.steady_state(m)


@pytest.fixture(scope="module")
def ks_problem(ks):
    m, ss = ks
    return C.savings_problem(m, ss, horizon=12)


def _perturbed(problem, head, key=1):
    pol = problem.make_policy(key=jax.random.key(0), hidden=4, widths=(6,), n_knots=6, head=head)
    w = 0.3 * jax.random.normal(jax.random.key(key), pol.out.weight.shape)
    return eqx.tree_at(lambda p: p.out.weight, pol, w)


@pytest.mark.parametrize("head", ["knots", pytest.param("state", marks=pytest.mark.slow)])
def test_gradient_identity_equals_reverse_mode_and_finite_differences(ks_problem, head):
    P = ks_problem
    pol = _perturbed(P, head)
    params, static = eqx.partition(pol, trainable(pol))
    eps = P.sample_noise(key=jax.random.key(2), n_paths=2)
    loss, g, _ = eqx.filter_jit(C.savings_value_and_grad)(params, static, P, eps)

    def f(p):
        return C.savings_loss(eqx.combine(p, static), P, eps)

    loss2, g2 = jax.jit(jax.value_and_grad(f))(params)
    assert abs(float(loss - loss2)) < 1e-12 * abs(float(loss))
    for a, b in zip(jax.tree_util.tree_leaves(g), jax.tree_util.tree_leaves(g2)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12 * float(jnp.max(jnp.abs(b)) + 1))
    # central differences of the objective along the fixed path (prices, observations and the
    # structural start as recorded: price takers), along a random direction of every parameter
    path = jax.jit(jax.vmap(lambda e: C.savings_rollout(P, pol, e)))(eps)
    x0 = path.share
    base = jnp.log(x0) - jnp.log1p(-x0) - jax.vmap(pol.deltas)(path.obs)
    span = path.dshare / (x0 * (1.0 - x0))

    @jax.jit
    def fixed(p):
        x = jax.nn.sigmoid(base + jax.vmap(eqx.combine(p, static).deltas)(path.obs))
        a_next = P.a_grid[0] + x * span
        c = (1.0 - x) * span
        V0 = jax.vmap(lambda pa, a, cc: C.path_values(
            P, eqx.tree_at(lambda q: (q.a_next, q.c), pa, (a, cc)))[0][0])(path, a_next, c)
        return -jnp.mean(jnp.sum(V0 * P.mu_ss, axis=(1, 2)))

    assert abs(float(fixed(params) - loss)) < 1e-12 * abs(float(loss))
    leaves, tree = jax.tree_util.tree_flatten(params)
    keys = jax.random.split(jax.random.key(3), len(leaves))
    d = jax.tree_util.tree_unflatten(tree, [jax.random.normal(k, x.shape) for k, x in zip(keys, leaves)])
    h = 1e-5
    shift = lambda s: jax.tree_util.tree_map(lambda x, y: x + s * y, params, d)  # noqa: E731
    fd = (fixed(shift(h)) - fixed(shift(-h))) / (2 * h)
    an = sum(jnp.sum(x * y) for x, y in zip(jax.tree_util.tree_leaves(g), jax.tree_util.tree_leaves(d)))
    assert abs(float(fd - an)) < 1e-5 * abs(float(an))
    assert abs(float(an)) > 1e-6  # the direction does move the loss


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_innovation_residual_removes_the_noise_of_later_innovations():
    # Y_t = c + a s_t + sum_k b_k eps_{t+1+k}: s_t an AR(1) of innovations up to t (known at t),
    # the rest noise still to come; the residual keeps c + a s_t and drops the noise
    B, T, n, lags = 16, 200, 2, 3
    eps = jax.random.normal(jax.random.key(0), (B, T, n))
    s = jax.lax.scan(lambda x, e: (0.9 * x + e[:, 0], 0.9 * x + e[:, 0]), jnp.zeros(B),
                     jnp.swapaxes(eps, 0, 1))[1].T
    a = jnp.array([1.0, -0.5, 0.2])
    b = jax.random.normal(jax.random.key(1), (lags, n, 3))
    nxt = C._next_innovations(eps)
    pad = jnp.concatenate([nxt, jnp.zeros((B, lags, n))], axis=1)
    noise = sum(jnp.einsum("btn,nj->btj", pad[:, k:k + T], b[k]) for k in range(lags))
    keep = 2.0 + s[..., None] * a
    Y = keep + noise
    r = C.innovation_residual(Y, nxt, lags)
    removed = float(jnp.linalg.norm(r - keep) / jnp.linalg.norm(noise))
    assert removed < 0.1  # sampling error of the coefficients, O(sqrt(lags n / (B T)))
    # fewer lags than the noise reaches: the rest stays
    r1 = C.innovation_residual(Y, nxt, 1)
    assert float(jnp.linalg.norm(r1 - keep) / jnp.linalg.norm(noise)) > 0.5
    # the fitted part is orthogonal to nothing known at t: the residual's mean is Y's
    np.testing.assert_allclose(jnp.mean(r, axis=(0, 1)), jnp.mean(Y, axis=(0, 1)),
                               atol=0.05 * float(jnp.std(noise)))
    # without noise nothing is fitted
    np.testing.assert_array_equal(C.innovation_residual(keep, jnp.zeros_like(nxt), lags), keep)


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_control_variate_keeps_the_conditional_mean_of_g_with_less_noise(ks):
    # paths that share every innovation up to date t and differ after it: across them G_t
    # varies only with the future; its residual on the coming innovations keeps the mean
    m, ss = ks
    P = C.savings_problem(m, ss, horizon=40)
    pol = P.make_policy(key=jax.random.key(0), hidden=4, widths=(6,), n_knots=6)
    B, t = 64, 9
    eps = P.sample_noise(key=jax.random.key(5), n_paths=B)
    eps = eps.at[:, :t + 1].set(eps[:1, :t + 1])
    path = jax.jit(lambda e: C.savings_rollout_batch(P, pol, e))(eps)
    G = jax.vmap(lambda q: C.path_values(P, q)[1])(path)
    R = C.innovation_residual(G, C._next_innovations(eps), 16)
    w = path.mu[0, t]
    var_plain = float(jnp.sum(w * jnp.var(G[:, t], axis=0)))
    var_cv = float(jnp.sum(w * jnp.var(R[:, t], axis=0)))
    assert var_cv < 0.3 * var_plain  # 0.16 measured; about 1 without the future aligned
    mean_plain = jnp.sum(w * jnp.mean(G[:, t], axis=0))
    mean_cv = jnp.sum(w * jnp.mean(R[:, t], axis=0))
    se = float(jnp.std(jnp.sum(w * (R[:, t] - G[:, t]), axis=(1, 2)))) / np.sqrt(B)
    assert abs(float(mean_cv - mean_plain)) < 3.0 * se
    # the date-t marginal value is not noise-free without the control (the test has teeth)
    assert var_plain > 1e-4 * float(jnp.sum(w * jnp.mean(G[:, t], axis=0) ** 2))


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_preconditioned_marginal_value_is_the_relative_consumption_step():
    m = KrusellSmith(**KS, sigma=2.0)  # log utility would make the scale one everywhere
    P = C.savings_problem(m, hm.steady_state(m), horizon=12)
    # 1 / (-u''(c) c^2) is c^(sigma - 1) / sigma for CRRA utility
    c = jnp.linspace(0.2, 4.0, 9)
    np.testing.assert_allclose(C.relative_curvature(m, c), c ** (m.sigma - 1.0) / m.sigma,
                               rtol=1e-12)
    # along a path of a perturbed policy: the consumption the Euler equation asks for solves
    # u'(c_hat) = beta E V' = u'(c) + G; the scaled G is the relative consumption gap
    # log c - log c_hat per unit of consumption, to second order in the gap
    pol = _perturbed(P, "knots")
    path = jax.jit(lambda e: C.savings_rollout(P, pol, e))(
        P.sample_noise(key=jax.random.key(4), n_paths=1)[0])
    G = jax.jit(lambda q: C.path_values(P, q)[1])(path)
    inside = (G + m.marginal_utility(path.c) > 0) & (path.share > 1e-3)
    c_hat = m.inverse_marginal_utility(jnp.where(inside, G + m.marginal_utility(path.c), 1.0))
    gap = jnp.where(inside, jnp.log(path.c) - jnp.log(c_hat), 0.0)
    scaled = C.relative_curvature(m, path.c) * G
    small = inside & (jnp.abs(gap) < 0.05) & (jnp.abs(gap) > 1e-4)
    assert int(jnp.sum(small)) > 100 and float(jnp.max(jnp.abs(gap) * small)) > 1e-3
    err = jnp.abs(scaled * path.c - gap) * small
    assert float(jnp.max(err - (0.6 * m.sigma) * gap**2)) < 1e-12
    # per unit of relative gap the scaled value is the same at every state (1 / c, the step's
    # units); the plain one varies with u''(c) c^2 across the same states
    plain = jnp.where(small, jnp.abs(G / gap), jnp.nan)
    pre = jnp.where(small, jnp.abs(scaled * path.c / gap), jnp.nan)
    assert float(jnp.nanmax(pre) / jnp.nanmin(pre)) < 1.2
    assert float(jnp.nanmax(plain) / jnp.nanmin(plain)) > 20.0


def test_untrained_policy_is_the_steady_state_and_egm_certifies_it(ks):
    m = KrusellSmith(**KS, common_noise=False)
    ss = ks[1]  # the steady state does not depend on the aggregate risk
    P = C.savings_problem(m, ss, horizon=20)
    pol = P.make_policy(key=jax.random.key(0), hidden=4, widths=(6,), n_knots=6)
    eps = P.sample_noise(key=jax.random.key(0), n_paths=1)
    path = C.savings_rollout(P, pol, eps[0])
    # savings equal EGM's up to the share clipped at 1e-9 for households at the limit
    m0 = m.budget(dict(r=ss.r, w=ss.w)).cash_on_hand(P.a_grid)
    np.testing.assert_allclose(path.a_next[0], P.a_ss, atol=1e-8 * float(jnp.max(m0)))
    np.testing.assert_allclose(path.agg["K"], float(jnp.sum(P.mu_ss * P.a_grid[:, None])),
                               rtol=1e-7)
    # the EGM best response to the steady state is the steady state: its value is V_ss
    V_br = S.best_response_value(P, path.budget)
    np.testing.assert_allclose(V_br, P.V_ss, rtol=1e-8)
    ev = S.evaluate_savings(P, pol, eps)
    assert abs(float(ev.relative[0])) < 1e-8
    # Euler errors along the path are the steady state's (same table, same distribution, same
    # households counted as at the limit)
    from hank_mfg.solvers.egm import euler_error_table, euler_summary

    R = m.budget(dict(r=ss.r, w=ss.w)).R
    err, _ = euler_error_table(m, P.c_ss, P.a_ss, R, P.c_ss)
    x_ss = (P.a_ss - P.a_grid[0]) / (m0 - P.a_grid[0])
    mean_log, max_log, _ = euler_summary(err, x_ss > C.CONSTRAINED_SHARE, P.mu_ss)
    # the path's consumption is one EGM step from the steady state's marginal value, which is
    # the fixed point to the steady state's EGM tolerance (changes below 1e-11): consumption
    # within about 1e-10 relative, so errors of about 1e-6 agree in log10 to about 2e-5
    assert abs(float(ev.euler_mean[0]) - float(mean_log)) < 2e-5
    assert abs(float(ev.euler_max[0]) - float(max_log)) < 2e-5


def test_steady_state_value_solves_its_bellman_equation(ks, ks_problem):
    m, P = ks[0], ks_problem
    lot = hm.lottery_weights(P.a_ss, P.a_grid)
    rhs = m.utility(P.c_ss) + m.beta * hm.operators.expect(P.V_ss, lot, P.Pi_e)
    np.testing.assert_allclose(P.V_ss, rhs, rtol=1e-10)


def test_horizon_from_beta():
    assert C.horizon_for(0.99, 1e-2) == 459
    assert 0.99 ** 459 <= 1e-2 < 0.99 ** 458


def test_knot_matrix_interpolates_linearly_between_knots():
    a = np.asarray(hm.shifted_geometric_grid(0.0, 50.0, 40))
    k = knot_points(a, 7)
    assert k[0] == a[0] and k[-1] == a[-1]
    W = knot_matrix(a, k)
    np.testing.assert_allclose(W.sum(axis=1), 1.0, atol=1e-12)
    f = 2.0 - 0.5 * k
    np.testing.assert_allclose(W @ f, 2.0 - 0.5 * a, atol=1e-12)
    g = np.sin(k)
    np.testing.assert_allclose(W @ g, np.interp(a, k, g), atol=1e-12)
    with pytest.raises(ValueError, match="n_knots"):
        knot_points(a, 1)


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_huggett_market_clears_at_every_date():
    m = Huggett(n_wealth=30, sigma_z=0.01)
    ss = hm.steady_state(m)
    P = C.savings_problem(m, ss, horizon=8)
    pol = _perturbed(P, "knots")
    eps = P.sample_noise(key=jax.random.key(4), n_paths=2)
    path = jax.jit(jax.vmap(lambda e: C.savings_rollout(P, pol, e)))(eps)
    assert float(jnp.max(jnp.abs(path.residual))) < 1e-12
    np.testing.assert_allclose(path.agg["A"], 0.0, atol=1e-12)  # zero net supply
    # the rate is paid a date later: r_paid_t = r_{t-1}
    np.testing.assert_allclose(path.agg["r_paid"][:, 1:], path.agg["r"][:, :-1], rtol=0, atol=0)
    np.testing.assert_allclose(path.agg["r_paid"][:, 0], ss["r"], rtol=1e-14)
    assert float(jnp.std(path.agg["r"])) > 1e-4  # prices do move with the shocks


@pytest.mark.slow
def test_huggett_without_noise_stays_at_the_steady_state_rate():
    m = Huggett(n_wealth=40, common_noise=False)
    ss = hm.steady_state(m)
    P = C.savings_problem(m, ss, horizon=10)
    pol = P.make_policy(key=jax.random.key(0), hidden=4, widths=(6,), n_knots=6)
    path = C.savings_rollout(P, pol, P.sample_noise(key=jax.random.key(0), n_paths=1)[0])
    np.testing.assert_allclose(path.agg["r"], ss["r"], atol=1e-9)  # households at the limit save 1e-9


@pytest.mark.slow
def test_solve_continuous_learns_and_reports(tmp_path):
    m = KrusellSmith(**KS)
    cfg = hm.RSPGConfig.continuous(iterations=12, eval_every=6, horizon=40, n_paths=4,
                                   eval_paths=4, hidden=8, widths=(16,), n_knots=8, lr=3e-3)
    sol = hm.solve(m, "rspg", cfg, progress=False, checkpoint_dir=str(tmp_path))
    h = sol.history
    for col in ("relative_exploitability", "euler_mean", "euler_max", "market_residual"):
        assert col in h.columns
    assert h["exploitability"].iloc[-1] < 0.5 * h["exploitability"].iloc[0]
    assert sol.summary["choice"] == "continuous" and sol.summary["horizon"] == 40
    # resume reproduces the run
    again = hm.solve(m, "rspg", cfg, progress=False, checkpoint_dir=str(tmp_path), resume=True)
    assert again.history["exploitability"].iloc[-1] == h["exploitability"].iloc[-1]


def test_economies_refuse_discrete_choices():
    with pytest.raises(ValueError, match="choice"):
        hm.solve(Huggett(n_wealth=20), "rspg", hm.RSPGConfig(choice="discrete"))
    with pytest.raises(ValueError, match="savings_head"):
        hm.RSPGConfig(savings_head="mlp")


def test_prices_form_in_closed_form_where_the_unknown_is_the_households_saving(ks):
    """The one price strategy of capital economies is chosen by what the aggregate block says:
    its unknown clears the market as the households' saving and the budget of its own date
    does not read it. Krusell–Smith's ``K_next`` qualifies; Huggett's rate, which the market
    clears and the households earn, does not. With the same strategy the prices along a path
    are the model's own closed form from the capital in place."""
    m, ss = ks
    values = {k: jnp.asarray(v) for k, v in ss.values.items()}
    assert C.carried_unknown(m, values) == "K_next"
    h = Huggett(n_wealth=20)
    assert C.carried_unknown(h, {k: jnp.asarray(v)
                                 for k, v in hm.steady_state(h).values.items()}) is None
    P = C.savings_problem(m, ss, horizon=6)
    assert P.prices == C.ClosedFormPrices(unknown="K_next")
    pol = P.make_policy(key=jax.random.key(0), hidden=4, widths=(6,), n_knots=6)
    eps = jnp.zeros((6, P.n_noise)).at[0, 0].set(1.5)
    path = C.savings_rollout(P, pol, eps)
    K = jnp.sum(path.mu * P.a_grid[None, :, None], axis=(1, 2))
    r, w = jax.vmap(m.prices, (0, None, 0))(K, m.labour, path.agg["z"])
    np.testing.assert_allclose(path.agg["K"], K, rtol=1e-14)
    np.testing.assert_allclose(path.agg["r"], r, rtol=1e-12)
    np.testing.assert_allclose(path.agg["w"], w, rtol=1e-12)
    assert float(jnp.max(jnp.abs(path.agg["z"]))) > 1e-3          # the shock moved prices


@pytest.mark.slow  # long: perfect-foresight transitions from several states
def test_state_dependent_perfect_foresight_of_a_capital_economy(ks):
    """The nonlinear benchmark of state-dependent responses covers capital economies: from the
    steady state (its distribution, the steady state's capital carried in) it is the ordinary
    perfect-foresight response, and from simulated states the shock's own path is exact and
    capital in place does not move on impact."""
    from hank_mfg.analysis.aggregate_risk import (perfect_foresight_from_states,
                                                  state_dependent_girf)
    from hank_mfg.analysis.continuous_report import perfect_foresight_irf

    m, ss = ks
    P = C.savings_problem(m, ss, horizon=8)
    size, T, T_pf = 0.01, 6, 60
    state = (P.mu_ss[None], np.zeros((1, P.n_state)))
    got = perfect_foresight_from_states(P, state, {"K_next": np.array([float(ss.values["K"])])},
                                        {"z": size}, T=T, T_transition=T_pf)
    want = perfect_foresight_irf(m, "z", size, T=T, T_transition=T_pf, steady_state=ss)
    for v in ("K", "Y", "C", "r", "w"):
        assert float(np.max(np.abs(want[v]))) > 1e-6, v
        # two Newton solutions of the same path, each to max |residual| 1e-10
        np.testing.assert_allclose(got[v][0], want[v], rtol=0, atol=1e-8, err_msg=v)
    pol = P.make_policy(key=jax.random.key(0), hidden=4, widths=(6,), n_knots=6)
    out = state_dependent_girf(P, {"z": size}, T=T, n_paths=4, burn_in=5, quantile=0.5,
                               policy=pol, T_transition=T_pf)
    for g, pf in out["perfect_foresight"].items():
        np.testing.assert_allclose(pf["z"], size * float(m.rho_z) ** np.arange(T), rtol=1e-10,
                                   err_msg=g)
        assert abs(pf["K"][0]) < 1e-12 and pf["K"][1] > 0, g
    # on impact the rate moves with TFP at each state's own capital in place (what its
    # households carried out of the last simulated date), not at the steady state's
    pre = C.savings_rollout_batch(P, pol, P.sample_noise(key=jax.random.key(0), n_paths=4, T=5))
    K = jnp.sum(pre.final[0] * P.a_grid[None, :, None], axis=(1, 2))
    z0 = float(m.rho_z) * pre.agg["z"][:, -1]
    r = jax.vmap(lambda k, z: m.prices(k, m.labour, z)[0])
    assert float(jnp.max(jnp.abs(K / float(ss.values["K"]) - 1.0))) > 1e-4   # states differ
    np.testing.assert_allclose(out["perfect_foresight"]["all"]["r"][0],
                               float(jnp.mean(r(K, z0 + size) - r(K, z0))), rtol=1e-7)

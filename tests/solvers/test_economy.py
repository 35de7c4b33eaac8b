"""Economies in general equilibrium: the one budget, EGM with a labour choice, steady states with
unknowns and targets, Newton transitions, sequence-space Jacobians, bad declarations."""

import dataclasses
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg.solvers.egm import household_step
from hank_mfg.solvers.household import household_block_path, household_jacobians
from models.hank import OneAssetHANK
from models.huggett import Huggett
from models.krusell_smith import KrusellSmith

T = 40


HANK_SMALL = dict(n_wealth=30, n_income=3, wealth_max=50.0)
RSTAR_CUT = {"rstar": -0.0025 * 0.61 ** np.arange(T)}


@pytest.fixture(scope="module")
def hank():
    model = OneAssetHANK(**HANK_SMALL)
    return model, hm.steady_state(model)


@pytest.fixture(scope="module")
def hank_path(hank):
    model, ss = hank
    shock = -0.0025 * 0.61 ** np.arange(T)
    return hm.transition_path(model, shocks={"rstar": shock}, steady_state=ss,
                              return_distribution=True)


@pytest.fixture(scope="module")
def huggett():
    model = Huggett(n_wealth=30)
    return model, hm.steady_state(model)


# ---- the one budget ------------------------------------------------------------------------
def test_operators_cash_on_hand_is_the_budget():
    model = KrusellSmith(n_wealth=12, n_income=3, n_actions=5, horizon=4)
    mf = hm.compile_model(model)
    agg = mf.aggregate_state(mf.initial_distribution(), 0.01)
    by_hand = (1.0 + agg.r) * np.repeat(model.a_grid, 3) + agg.w * np.tile(model.e_grid, 12)
    np.testing.assert_allclose(mf.cash_on_hand(agg), by_hand, rtol=1e-14)
    b = model.budget(agg)
    np.testing.assert_allclose(b.cash_on_hand(model.a_grid).reshape(-1), by_hand, rtol=1e-14)


def test_hank_budget_distributes_dividends_and_taxes_by_productivity():
    model = OneAssetHANK(n_wealth=10, n_income=3)
    b = model.budget({"r": 0.01, "w": 0.8, "Div": 0.2, "Tax": 0.05})
    inc = model.income
    np.testing.assert_allclose(b.y, 0.15 * inc.e_grid / np.sum(inc.pi_e * inc.e_grid),
                               rtol=1e-14)
    np.testing.assert_allclose(np.sum(inc.pi_e * b.y), 0.15, rtol=1e-13)  # aggregates to Div - Tax
    np.testing.assert_allclose(b.we, 0.8 * inc.e_grid, rtol=1e-14)
    assert float(b.R) == pytest.approx(1.01, abs=1e-15)


def test_labour_egm_satisfies_budget_intratemporal_and_euler(hank):
    model, ss = hank
    m = ss.model
    b = m.budget({k: ss[k] for k in m.household_inputs})
    Va, a, c, n = household_step(m, ss.Va, b)
    e = np.asarray(m.income.e_grid)
    # budget, everywhere (constrained states included): c + a' = R a + y + we n
    lhs = c + a
    rhs = b.R * m.a_grid[:, None] + b.y[None, :] + b.we[None, :] * n
    np.testing.assert_allclose(lhs, rhs, rtol=1e-11, atol=1e-12)
    # intratemporal condition vphi n^(1/frisch) = w e c^(-1/eis), everywhere
    np.testing.assert_allclose(m.vphi * n ** (1 / m.frisch),
                               float(ss["w"]) * e[None, :] * c ** (-1 / m.eis), rtol=1e-10)
    assert np.all(a >= m.a_grid[0]) and np.any(a == m.a_grid[0])
    # the steady state is a fixed point of the step, and the Euler equation holds
    np.testing.assert_allclose(Va, ss.Va, rtol=1e-9)
    assert float(ss.euler_mean) < -4.0


# ---- steady states ---------------------------------------------------------------------------
def test_huggett_bond_market_clears(huggett):
    model, ss = huggett
    assert abs(float(ss["A"])) < 1e-9
    assert abs(float(ss.residuals["asset_mkt"])) < 1e-9
    assert abs(float(ss["Y"] - ss["C"])) < 1e-9  # goods market by Walras' law
    r = float(ss["r"])
    assert 0.0 < r < 1 / float(model.beta) - 1  # precautionary saving depresses r
    np.testing.assert_allclose(float(jnp.sum(ss.mu)), 1.0, atol=1e-12)
    assert ss.mu.shape == (30, 3)


def test_hank_steady_state_residuals_and_walras(hank):
    model, ss = hank
    for name in ("asset_mkt", "labor_mkt", "nkpc_res"):
        assert abs(float(ss.residuals[name])) < 1e-8, name
    assert abs(float(ss.residuals["goods_mkt"])) < 1e-8  # C = Y, not targeted
    assert float(ss["r"]) == pytest.approx(0.005, abs=1e-14)  # r = rstar at pi = 0
    assert float(ss["w"]) == pytest.approx(1 / 1.2, abs=1e-14)
    assert 0.95 < float(ss["beta"]) < 1 / 1.005 and float(ss["vphi"]) > 0
    assert float(ss.model.beta) == float(ss["beta"])  # the solved model carries its unknowns


# ---- transitions -----------------------------------------------------------------------------
def test_hank_monetary_shock_clears_every_market_every_period(hank, hank_path):
    model, ss = hank
    path = hank_path
    for name in ("nkpc_res", "asset_mkt", "labor_mkt"):
        assert np.max(np.abs(path.residuals[name])) < 1e-9, name
    assert np.max(np.abs(path.residuals["goods_mkt"])) < 1e-8  # goods market (Walras)
    # the rule and the Fisher equation hold on the path
    i = path["rstar"] + model.phi * path["pi"]
    np.testing.assert_allclose(path["i"], i, atol=1e-15)
    r = (1 + np.concatenate([[float(ss["i"])], i[:-1]])) / (1 + path["pi"]) - 1
    np.testing.assert_allclose(path["r"], r, atol=1e-15)
    # a rate cut is expansionary and inflationary on impact
    assert path["Y"][0] > ss["Y"] and path["pi"][0] > 0 and path["r"][0] < ss["r"]


def test_a_path_from_a_later_state_is_the_rest_of_the_path(hank, hank_path):
    """Perfect foresight is time consistent: started at date ``k`` of a transition from that
    date's distribution and the lag it reads (the nominal rate ``i_{k-1}``, through the real
    rate paid at ``k``), with the rest of the shock path, the economy follows the rest of the
    same transition (the same terminal steady state at date ``T``)."""
    model, ss = hank
    k = 3
    rest = hm.transition_path(model, ss, shocks={"rstar": RSTAR_CUT["rstar"][k:]},
                              initial_distribution=hank_path.mu[k],
                              initial_values={"i": hank_path["i"][k - 1]})
    for v in ("Y", "C", "pi", "r", "i", "w", "A"):
        np.testing.assert_allclose(rest[v], hank_path[v][k:], rtol=0, atol=1e-9, err_msg=v)
    # without the lag the real rate paid at k would be the steady state's: another path
    wrong = hm.transition_path(model, ss, shocks={"rstar": RSTAR_CUT["rstar"][k:]},
                               initial_distribution=hank_path.mu[k])
    assert abs(float(wrong["r"][0] - hank_path["r"][k])) > 1e-5
    with pytest.raises(ValueError, match="initial_distribution must have mass 1"):
        hm.transition_path(model, ss, shocks=RSTAR_CUT, initial_distribution=2 * ss.mu)
    with pytest.raises(ValueError, match="initial_values.*'oil'"):
        hm.transition_path(model, ss, shocks=RSTAR_CUT, initial_values={"oil": 1.0})


def _rotemberg_cost(model, pi, Y):
    """The price-adjustment cost by hand: ``mu/(mu-1)/(2 kappa) log(1+pi)^2 Y``."""
    mu, kappa = float(model.mu), float(model.kappa)
    return mu / (mu - 1.0) / (2.0 * kappa) * np.log1p(pi) ** 2 * Y


def test_hank_price_adjustment_costs_are_a_resource_cost(hank, hank_path):
    """By default the Rotemberg cost is deducted from dividends and uses up output: along the
    path ``Y - C`` is the cost (the goods market by Walras' law) and ``Div = Y - w L - cost``."""
    model, ss = hank
    assert model.price_adjustment_costs == "resource"
    Y, C, pi, w, L, Div = (np.asarray(hank_path[k]) for k in ("Y", "C", "pi", "w", "L", "Div"))
    cost = _rotemberg_cost(model, pi, Y)
    assert cost[0] > 5e-5  # 17 bp of inflation on impact: far above the tolerance below
    np.testing.assert_allclose(Y - C, cost, atol=1e-9)
    np.testing.assert_allclose(Div, Y - w * L - cost, atol=1e-15)
    np.testing.assert_allclose(model.price_adjustment_cost(pi, Y), cost, rtol=1e-13)
    # zero at pi = 0: the steady state is the same with or without the cost
    assert float(ss["Div"]) == pytest.approx(float(ss["Y"] - ss["w"] * ss["L"]), abs=1e-15)


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_hank_without_price_adjustment_costs_keeps_the_earlier_dividends(hank, hank_path):
    """``price_adjustment_costs="none"``: ``Div = Y - w L`` and ``C = Y`` at every date, and
    the path is the one this grid gave before the cost was added (first dates stored from that
    version); the steady state is shared (the cost is zero at ``pi = 0``)."""
    model, ss = hank
    plain = dataclasses.replace(model, price_adjustment_costs="none")
    path = hm.transition_path(plain, shocks=RSTAR_CUT, steady_state=ss)
    Y, C, pi, w, L, Div = (np.asarray(path[k]) for k in ("Y", "C", "pi", "w", "L", "Div"))
    np.testing.assert_allclose(Div, Y - w * L, atol=1e-15)
    assert np.max(np.abs(Y - C)) < 1e-8
    assert np.max(np.abs(path.residuals["goods_mkt"])) < 1e-8
    # stored from that version, whose steady state converged its distribution to 1e-13 (now
    # 1e-14): the two steady states agree to their market tolerance, the paths to 7e-10
    np.testing.assert_allclose(Y[:3], [1.0018081944141333, 1.0011109401981875,
                                       1.0006727657576762], rtol=2e-9)
    np.testing.assert_allclose(pi[:3], [0.0016580748567801837, 0.0010449749496193633,
                                        0.0006653107147717669], rtol=1e-7)
    # with the cost, output and inflation rise more on impact (consumption slightly less)
    assert hank_path["Y"][0] > Y[0] and hank_path["pi"][0] > pi[0]
    assert hank_path["C"][0] < C[0]


def test_hank_small_shock_matches_the_linear_response(hank):
    model, ss = hank
    dZ = -0.0025 * 0.61 ** np.arange(T)
    G = hm.economy_jacobian(ss, T)
    G_Z = hm.economy_jacobian(ss, T, wrt="rstar")
    dU = -np.linalg.solve(np.asarray(G), np.asarray(G_Z) @ dZ).reshape(3, T)  # pi, w, Y
    eps = 1e-3
    path = hm.transition_path(model, shocks={"rstar": eps * dZ}, steady_state=ss, jacobian=G)
    for k, name in enumerate(model.transition_unknowns):
        nonlinear = (np.asarray(path[name]) - float(ss[name])) / eps
        np.testing.assert_allclose(nonlinear, dU[k], atol=2e-3 * np.max(np.abs(dU[k])))


def test_fake_news_jacobians_match_finite_differences_of_the_household_path(huggett):
    model, ss = huggett
    m = ss.model
    Tj, h = 8, 1e-6
    x_ss = {k: ss[k] for k in m.household_inputs}
    J = household_jacobians(m, m.budget, x_ss, ss.Va, ss.mu, Tj)

    @jax.jit
    @jax.vmap
    def outputs(dx):  # the whole nonlinear path with the return paid moved by dx
        paths = {k: jnp.full((Tj,), v) + (dx if k == "r_paid" else 0.0)
                 for k, v in x_ss.items()}
        hp = household_block_path(m, jax.vmap(m.budget)(paths), ss.Va, ss.mu)
        return jnp.stack([hp.A, hp.C])

    eye = h * jnp.eye(Tj)
    fd = (outputs(eye) - outputs(-eye)) / (2 * h)  # fd[s, o, t] = d O_t / d r_paid_s
    for k, o in enumerate(("A", "C")):
        np.testing.assert_allclose(J[o]["r_paid"], fd[:, k, :].T,
                                   atol=1e-6 * np.max(np.abs(J[o]["r_paid"])))


def test_huggett_endowment_shock_clears_the_bond_market(huggett):
    model, ss = huggett
    path = hm.transition_path(model, shocks={"z": -0.02 * 0.9 ** np.arange(T)},
                              steady_state=ss)
    assert np.max(np.abs(path["A"])) < 1e-10
    np.testing.assert_allclose(path["C"], np.exp(path["z"]), atol=1e-9)  # C = Y = e^z
    # a temporary fall in income: households borrow to smooth it, so the rate rises to clear
    assert path["r"][0] > ss["r"]
    np.testing.assert_allclose(path["r_paid"][1:], path["r"][:-1], atol=0)


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_capital_economy_keeps_z_and_gains_names():
    model = KrusellSmith(n_wealth=20, n_income=2)
    ss = hm.steady_state(model)
    z = 0.01 * 0.9 ** np.arange(20)
    a = hm.transition_path(model, z=z, steady_state=ss)
    b = hm.transition_path(model, shocks={"z": z}, steady_state=ss)
    np.testing.assert_array_equal(a["Y"], b.Y)
    assert float(ss["r"]) == float(ss.r)
    with pytest.raises(ValueError, match="shocks"):
        hm.transition_path(model, shocks={"rstar": z}, steady_state=ss)


# ---- bad declarations ---------------------------------------------------------------------
class _TargetWithoutUnknown(hm.AbstractEconomy):
    beta: jax.Array = eqx.field(converter=hm.as_param, default=0.96)
    sigma: jax.Array = eqx.field(converter=hm.as_param, default=2.0)
    common_noise: bool = eqx.field(static=True, default=False)
    steady_state_targets: ClassVar = ("asset_mkt", "goods_mkt")
    transition_unknowns: ClassVar = ("r",)
    transition_targets: ClassVar = ("asset_mkt",)
    household_inputs: ClassVar = ("r",)
    exogenous: ClassVar = ("z",)
    shock_names: ClassVar = ("z",)

    @property
    def a_grid(self):
        return hm.shifted_geometric_grid(-1.0, 20.0, 10)

    @property
    def income(self):
        return hm.rouwenhorst(0.6, 0.2, 2)

    def budget(self, p):
        e = self.income.e_grid
        return hm.Budget(R=1.0 + p["r"], y=e, we=jnp.zeros_like(e))

    def shocks(self):
        return tuple(hm.Shock(n, jnp.asarray(0.9), jnp.asarray(0.01)) for n in self.shock_names)

    def steady_state_unknowns(self):
        return {"r": (-0.05, 0.04)}

    def steady_state_values(self):
        return {"z": 0.0}

    def aggregates(self, v):
        v["Y"] = jnp.exp(v["z"])

    def residuals(self, v):
        return {"asset_mkt": v["A"], "goods_mkt": v["Y"] - v["C"]}


def test_bad_declarations_name_the_field():
    with pytest.raises(ValueError, match="steady_state_targets"):
        _TargetWithoutUnknown()
    undefined = type("UndefinedTarget", (_TargetWithoutUnknown,),
                     {"steady_state_targets": ("bond_mkt",), "__module__": __name__})
    with pytest.raises(ValueError, match="steady_state_targets.*bond_mkt"):
        hm.steady_state(undefined())
    shock_on_price = type("ShockOnPrice", (_TargetWithoutUnknown,),
                          {"steady_state_targets": ("asset_mkt",), "shock_names": ("r",),
                           "__module__": __name__})
    with pytest.raises(ValueError, match="shocks"):
        shock_on_price()
    unknown_path = type("UnknownPath", (_TargetWithoutUnknown,),
                        {"steady_state_targets": ("asset_mkt",), "transition_unknowns": ("q",),
                         "__module__": __name__})
    with pytest.raises(ValueError, match="transition_unknowns"):
        unknown_path()


def test_every_shock_is_a_keyword_by_its_name_and_the_steady_state_is_optional(huggett, hank):
    model, ss = huggett
    z = -0.02 * 0.9 ** np.arange(T)
    by_name = hm.transition_path(model, z=z)            # the steady state solved on the way
    given = hm.transition_path(model, ss, shocks={"z": z})
    np.testing.assert_allclose(by_name["r"], given["r"], atol=1e-12)
    hmodel, hss = hank
    shock = -0.0025 * 0.61 ** np.arange(T)
    a = hm.transition_path(hmodel, hss, rstar=shock)
    b = hm.transition_path(hmodel, shocks={"rstar": shock}, steady_state=hss)
    np.testing.assert_array_equal(a["pi"], b["pi"])
    with pytest.raises(ValueError, match="both as a keyword and in shocks"):
        hm.transition_path(model, ss, z=z, shocks={"z": z})
    with pytest.raises(ValueError, match="at least one shock"):
        hm.transition_path(model, ss)


def test_shock_on_a_non_exogenous_variable_is_refused(huggett):
    model, ss = huggett
    with pytest.raises(ValueError, match="shocks.*'w'"):
        hm.transition_path(model, shocks={"w": np.zeros(10)}, steady_state=ss)
    with pytest.raises(ValueError, match="shocks"):
        hm.transition_path(model, shocks={"z": np.zeros((2, 10))}, steady_state=ss)


# ---- responses ----------------------------------------------------------------------------
def test_who_responds_adds_up_and_news_matches_its_transition(hank, hank_path):
    model, ss = hank
    groups = hm.consumption_response_by_group(hank_path, ss)
    C0 = 100 * (float(hank_path["C"][0]) / float(ss["C"]) - 1)
    np.testing.assert_allclose(groups["wealth_mass"], 0.1, rtol=1e-12)  # equal-mass deciles
    assert np.all(np.diff(groups["wealth_share"]) > 0)  # richer deciles consume more
    for by in ("wealth", "income"):
        np.testing.assert_allclose(np.sum(groups[by + "_share"]), 1.0, rtol=1e-12)
        np.testing.assert_allclose(np.sum(groups[by + "_share"] * groups[by]), C0, rtol=1e-9)
    table, units = hm.news_responses(ss, horizons=(0, 3), T=T, variables=("C", "pi"))
    assert units == {"C": "percent", "pi": "bp"}
    dz = np.zeros(T)
    dz[3] = -0.0025
    news = hm.transition_path(model, shocks={"rstar": dz}, steady_state=ss)
    np.testing.assert_allclose(table["C"][1], 100 * (float(news["C"][0]) / float(ss["C"]) - 1),
                               rtol=1e-9)
    np.testing.assert_allclose(table["pi"][1], 1e4 * float(news["pi"][0]), rtol=1e-9)
    assert 0 < table["C"][1] < table["C"][0]  # a cut three quarters ahead moves C less today


# ---- a steady state passed with a model; far starting guesses ------------------------------
def test_a_rule_change_reuses_the_steady_state_and_solves_the_model_passed(hank):
    """phi leaves the steady state unchanged (pi = 0), so phi = 3 may reuse phi = 1.5's: the
    path must be phi = 3's (the one solved from phi = 3's own steady state), not phi = 1.5's."""
    model, ss = hank
    tight = OneAssetHANK(**HANK_SMALL, phi=3.0)
    reused = hm.transition_path(tight, shocks=RSTAR_CUT, steady_state=ss)
    own = hm.transition_path(tight, shocks=RSTAR_CUT, steady_state=hm.steady_state(tight))
    base = hm.transition_path(model, shocks=RSTAR_CUT, steady_state=ss)
    for name in ("pi", "Y", "r", "i"):
        np.testing.assert_allclose(reused[name], own[name], rtol=0, atol=1e-11)
    # the Taylor rule of the model passed holds along the path
    np.testing.assert_allclose(reused["i"], reused["rstar"] + 3.0 * reused["pi"], atol=1e-14)
    # and the answer differs from phi = 1.5's: a tighter rule halves inflation's response
    ratio = float(reused["pi"][0] / base["pi"][0])
    assert 0.3 < ratio < 0.7, ratio


@pytest.mark.parametrize("kw, differs", [
    (dict(n_wealth=25), r"wealth grid \(shape \(30,\) in the steady state, \(25,\) in the model\)"),
    (dict(income_sd=0.6), "income levels"),
    (dict(B=6.0), r"residual asset_mkt = -0\.4.*B \(5\.6 there, 6 here\)"),
    (dict(eis=1.0), r"residual asset_mkt.*eis \(0\.5 there, 1 here\)"),
])
def test_a_steady_state_of_another_economy_is_refused_naming_what_differs(hank, kw, differs):
    _, ss = hank
    other = OneAssetHANK(**{**HANK_SMALL, **kw})
    with pytest.raises(ValueError, match="transition_path: the steady state .*" + differs):
        hm.transition_path(other, shocks=RSTAR_CUT, steady_state=ss)
    with pytest.raises(ValueError, match="savings_problem: the steady state"):
        hm.savings_problem(other, ss)


def test_a_non_finite_shock_path_is_refused_before_solving(hank):
    model, ss = hank
    bad = -0.0025 * 0.61 ** np.arange(T)
    bad[7] = np.nan
    with pytest.raises(ValueError, match=r"transition_path.shocks: the paths of \['rstar'\] are "
                                         "not finite"):
        hm.transition_path(model, shocks={"rstar": bad}, steady_state=ss)


@pytest.mark.parametrize("beta", [0.95, 0.9, 0.999])
def test_hank_steady_state_from_far_starting_guesses(hank, beta):
    """beta and vphi are starting guesses: far ones (beta 0.9 has every household at the
    borrowing limit; 0.999 is outside beta (1 + r) < 1 and is moved inside) give the same
    equilibrium, and no trial leaves the domain."""
    _, ss = hank
    far = hm.steady_state(OneAssetHANK(**HANK_SMALL, beta=beta))
    np.testing.assert_allclose(far["beta"], ss["beta"], rtol=1e-9)
    np.testing.assert_allclose(far["vphi"], ss["vphi"], rtol=1e-8)
    assert max(abs(float(far.residuals[t])) for t in ("asset_mkt", "labor_mkt")) < 1e-9


def test_calibration_over_a_wide_bracket_keeps_every_trial_in_the_domain():
    """B over (1, 20): the trials' neighbouring solutions are poor starts for the next; every
    trial still solves and the target is met."""
    cal = hm.calibrate(OneAssetHANK(n_wealth=30, n_income=3), targets={"gini": 0.6},
                       free={"B": (1.0, 20.0)})
    assert cal.diagnostics["success"], cal.diagnostics["message"]
    assert abs(cal.moments["gini"] - 0.6) < 1e-6
    assert 1.0 < cal.params["B"] < 20.0


def test_a_calibration_trial_without_a_steady_state_is_named_with_what_to_try():
    """B = 200 exceeds the most the wealth grid (top 50) can hold: that trial has no steady
    state, and the error says which trial and what to try."""
    with pytest.raises(RuntimeError, match=r"calibrate: the steady state of OneAssetHANK at the "
                                           r"trial B = 200 failed: steady_state: the root find "
                                           r"for \(beta, vphi\).*Narrow the free parameters' "
                                           r"bounds \(B in \(1, 200\)\)"):
        hm.calibrate(OneAssetHANK(**HANK_SMALL), targets={"gini": 0.6}, free={"B": (1.0, 200.0)},
                     steady_state_kwargs={"maxiter": 15})


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_inertial_taylor_rule_equals_the_rule_composed_by_hand_with_the_plain_economy(hank):
    """Interest-rate smoothing ``i_t = rho i_{t-1} + (1 - rho)(rstar_t + phi pi_t)`` solved as a
    transition unknown. By hand: the plain economy (``i = x + phi pi`` for an effective rate
    ``x``) responds linearly to ``x`` with ``dpi = P x``; the smoothed rule then reads
    ``(I - rho L)(x + phi P x) = (1 - rho)(drstar + phi P x)``, a linear system for ``x``. The
    smoothed economy's own first-order response, and its nonlinear path to a small shock,
    equal that hand-solved one."""
    model, ss = hank
    rho, phi, T = 0.7, 1.5, 40
    smooth = OneAssetHANK(**HANK_SMALL, rho_i=rho)
    ss1 = hm.steady_state(smooth)
    assert float(ss1["beta"]) == pytest.approx(float(ss["beta"]), abs=1e-12)
    G = hm.economy_jacobian(ss, T)
    Gx = hm.economy_jacobian(ss, T, wrt="rstar")
    dU = -np.linalg.solve(np.asarray(G), np.asarray(Gx))          # (3T, T): pi, w, Y per x
    P, PY = dU[:T], dU[2 * T:]
    L = np.eye(T, k=-1)
    I = np.eye(T)
    drstar = 1e-5 * 0.61 ** np.arange(T)
    A = (I - rho * L) @ (I + phi * P) - (1 - rho) * phi * P
    x = np.linalg.solve(A, (1 - rho) * drstar)
    dpi, dY = P @ x, PY @ x
    # the smoothed economy's own Jacobians (4 unknowns: pi, w, Y, i)
    G1 = hm.economy_jacobian(ss1, T)
    G1x = hm.economy_jacobian(ss1, T, wrt="rstar")
    dU1 = -np.linalg.solve(np.asarray(G1), np.asarray(G1x) @ drstar)
    np.testing.assert_allclose(dU1[:T], dpi, atol=1e-12 * 1e4 * np.max(np.abs(dpi)))
    np.testing.assert_allclose(dU1[2 * T:3 * T], dY, atol=1e-8 * np.max(np.abs(dY)))
    np.testing.assert_allclose(dU1[3 * T:], x + phi * dpi, atol=1e-8 * np.max(np.abs(x)))
    # the nonlinear path to this small shock: equal up to second-order terms
    path = hm.transition_path(smooth, ss1, rstar=drstar, jacobian=G1)
    np.testing.assert_allclose(np.asarray(path["pi"]), dpi, atol=1e-3 * np.max(np.abs(dpi)))


class _DebtHuggett(hm.AbstractEconomy):
    """Huggett with government debt that carries over: ``B_t = (1 + r_paid_t) B_{t-1} + G_t -
    Tax_t``, taxes ``Tax_t = r_paid_t B_{t-1} + G_ss + phi_B (B_{t-1} - B_ss)`` levied lump sum,
    households hold the debt (``A_t = B_t``). ``B`` reads its own past: a transition unknown
    with its law of motion as a target. Then ``B_t - B_ss = (1 - phi_B)(B_{t-1} - B_ss) + dG_t``
    whatever the households do."""

    beta: jax.Array = eqx.field(converter=hm.as_param, default=0.96)
    sigma: jax.Array = eqx.field(converter=hm.as_param, default=2.0)
    B_ss: jax.Array = eqx.field(converter=hm.as_param, default=0.3)
    G_ss: jax.Array = eqx.field(converter=hm.as_param, default=0.05)
    phi_B: jax.Array = eqx.field(converter=hm.as_param, default=0.2)
    common_noise: bool = eqx.field(static=True, default=True)

    household_inputs = ("r_paid", "Tax")
    exogenous = ("G",)
    steady_state_targets = ("asset_mkt",)
    transition_unknowns = ("r", "B")
    transition_targets = ("asset_mkt", "debt_res")

    @property
    def a_grid(self):
        return hm.shifted_geometric_grid(-0.5, 20.0, 25)

    @property
    def income(self):
        return hm.rouwenhorst(0.6, 0.2, 2)

    def budget(self, p):
        e = jnp.asarray(self.income.e_grid, dtype=float)
        return hm.Budget(R=1.0 + p["r_paid"], y=e - p["Tax"], we=jnp.zeros_like(e))

    def shocks(self):
        return (hm.Shock("G", jnp.asarray(0.8), jnp.asarray(0.01)),)

    def steady_state_unknowns(self):
        return {"r": (-0.03, 0.035)}

    def steady_state_values(self):
        return {"G": self.G_ss, "B": self.B_ss}

    def aggregates(self, v):
        v["r_paid"] = v.lag("r")
        v["Tax"] = v["r_paid"] * v.lag("B") + self.G_ss + self.phi_B * (v.lag("B") - self.B_ss)

    def residuals(self, v):
        return {"asset_mkt": v["A"] - v["B"],
                "debt_res": v["B"] - ((1.0 + v["r_paid"]) * v.lag("B") + v["G"] - v["Tax"]),
                "goods_mkt": 1.0 - v["C"] - v["G"]}


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_debt_that_carries_over_in_steady_state_transition_and_under_risk():
    from hank_mfg.solvers import continuous as C

    model = _DebtHuggett()
    ss = hm.steady_state(model)
    assert float(ss["B"]) == pytest.approx(0.3) and abs(float(ss.residuals["asset_mkt"])) < 1e-8
    T = 30
    dG = 0.01 * 0.8 ** np.arange(T)
    path = hm.transition_path(model, ss, G=dG)
    dB = np.zeros(T)
    for t in range(T):   # by hand
        dB[t] = (0.8 * dB[t - 1] if t else 0.0) + dG[t]
    np.testing.assert_allclose(np.asarray(path["B"]) - 0.3, dB, atol=1e-10)
    assert float(path.max_residual) < 1e-8
    assert float(np.max(np.abs(np.asarray(path.residuals["goods_mkt"])))) < 1e-6  # Walras
    # under aggregate risk debt is carried date by date (the timing check accepts it)
    P = C.savings_problem(model, ss, horizon=6)
    assert P.prices.unknowns == ("r", "B")
    pol = P.make_policy(key=jax.random.key(0), hidden=2, widths=(4,), n_knots=4)
    eps = P.sample_noise(key=jax.random.key(1), n_paths=1)[0]
    roll = C.savings_rollout(P, pol, eps)
    B, G = np.asarray(roll.agg["B"]) - 0.3, np.asarray(roll.agg["G"]) - 0.05
    np.testing.assert_allclose(B, 0.8 * np.concatenate([[0.0], B[:-1]]) + G, atol=1e-10)
    assert float(np.std(G)) > 1e-3

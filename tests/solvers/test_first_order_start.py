"""The first-order structural start of continuous-choice RSPG (docs/theory.md §12.7).

Gold standard: the perfect-foresight (sequence-space) responses of the same economy. With the
learned correction at zero, the noise-free response of the rollout to a small surprise, or to
a small announcement, must equal the perfect-foresight response to the same innovation at
first order; the steady-state start misses it by tens of percent of its peak.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg.analysis.aggregate_risk import irf_gap, learned_irf
from hank_mfg.solvers import continuous as C
from hank_mfg.solvers import savings_certificates as S
from models.hank import OneAssetHANK
from models.huggett import Huggett
from models.krusell_smith import KrusellSmith

jax.config.update("jax_enable_x64", True)

KS = dict(n_wealth=30, n_income=3, wealth_max=60.0, alpha=0.11, tfp=0.8816460975,
          beta=0.9819527881, sigma_z=0.02)


def _gaps(model, ss, problem, name, variables, T=40):
    """Largest gap over the first 20 dates, as a share of the peak, between the untrained
    rollout's response to an innovation of 0.2% of its s.d. and the perfect-foresight one."""
    i = problem.noise_names.index(name)
    s = i if i < problem.n_shocks else problem.news_index
    lag = 0 if i < problem.n_shocks else i - problem.n_shocks + 1
    size = 2e-3 * float(problem.sigma[i])
    # the start's own transition length: its compiled Jacobian and Newton serve the reference
    t = np.arange(problem.first_order.horizon if problem.first_order is not None else 300)
    dz = np.where(t >= lag, size * float(problem.rho[s]) ** np.maximum(t - lag, 0), 0.0)
    ref = hm.transition_path(model, ss, **{problem.shock_names[s]: dz})
    policy = problem.make_policy(key=jax.random.key(0))
    got = learned_irf(problem, {name: size}, T=T, policy=policy)
    want = {v: np.asarray(ref.values[v][:T]) - float(ss.values[v]) for v in variables}
    g = irf_gap(got, want, variables, T=20)
    return {v: float(g[v]) for v in variables}


@pytest.fixture(scope="module")
def huggett():
    """Huggett on 30 wealth points, its steady state and its first-order start (horizon 80)."""
    m = Huggett(n_wealth=30)
    ss = hm.steady_state(m)
    return m, ss, C.savings_problem(m, ss, start="first-order", horizon=80)


@pytest.mark.parametrize("case", [pytest.param("krusell_smith", marks=pytest.mark.slow),
                                  "huggett"])
def test_the_untrained_start_is_the_sequence_space_solution_at_first_order(case, request):
    if case == "krusell_smith":
        m, variables, horizon = KrusellSmith(**KS), ("K", "C", "r"), None
        ss = hm.steady_state(m)
        first = C.savings_problem(m, ss, start="first-order", horizon=horizon)
    else:
        (m, ss, first), variables, horizon = request.getfixturevalue("huggett"), ("r",), 80
    start = first.first_order
    assert isinstance(start, C.FirstOrderStart)
    # the history is cut where the responses die out, before the perfect-foresight horizon
    M = np.asarray(start.households)
    assert 2 <= M.shape[0] < start.horizon - 1
    assert np.abs(M[-1]).max() <= 1e-3 * np.abs(M).max()
    g = _gaps(m, ss, first, "z", variables)
    assert max(g.values()) < 1e-3, g                     # measured: below 1e-4
    if case == "krusell_smith":  # the steady-state start is what the first-order one corrects
        g0 = _gaps(m, ss, C.savings_problem(m, ss, horizon=horizon), "z", variables)
        assert max(g0.values()) > 0.3, g0                # measured with Huggett: 1.3-8 times the peak


@pytest.fixture(scope="module")
def hank_news():
    """The one-asset HANK on 40 x 3 states with announcements up to four quarters ahead, its
    steady state and its first-order start (about a minute to build)."""
    m = OneAssetHANK(n_wealth=40, n_income=3)
    ss = hm.steady_state(m)
    return m, ss, C.savings_problem(m, ss, news=4, start="first-order")


@pytest.mark.slow
def test_hank_start_with_news_is_the_sequence_space_solution_at_first_order(hank_news):
    """The one-asset HANK: households and the firms' forecast start at the linear solution,
    for both shocks' surprises and for announcements two and four quarters ahead."""
    m, ss, P = hank_news
    assert P.first_order.forecast.shape[1:] == (P.n_noise, len(P.prices.unknowns))
    for name in ("rstar", "Z", "rstar_news2", "rstar_news4"):
        g = _gaps(m, ss, P, name, ("Y", "C", "pi", "r", "w"))
        assert max(g.values()) < 1e-3, (name, g)        # measured: below 1.1e-4


def test_a_start_that_does_not_exist_is_refused_naming_the_field():
    with pytest.raises(ValueError, match="RSPGConfig.start"):
        hm.RSPGConfig.continuous(start="linear")
    m = Huggett(n_wealth=40)
    with pytest.raises(ValueError, match="start"):
        C.savings_problem(m, hm.steady_state(m), horizon=10, start="linear")


def test_the_first_order_certificate_passes_the_first_order_start_and_fails_the_steady_state_one(
        huggett):
    """The certificate (hm.best_response_irf, docs/theory.md §12.8): the households' own best
    response to the learned response of prices against the learned households' response. The
    first-order start already best-responds to its prices at first order (the test above), so
    it must read zero up to second-order terms; the steady-state start ignores future prices,
    and the certificate must say so by tens of percent of the peak (kept here, beside the
    start it certifies, to build that start once)."""
    m, ss, right = huggett
    wrong = C.savings_problem(m, ss, horizon=80)
    size = 2e-3 * float(right.sigma[0])
    got = {}
    for name, P in (("right", right), ("wrong", wrong)):
        policy = P.make_policy(key=jax.random.key(0))
        got[name] = hm.best_response_irf(P, {"z": size}, policy=policy)
    g = got["right"]["gap"]
    assert set(g) == {"A", "C"}
    assert g["C"] < 1e-3 and g["A"] < 1e-3, g          # measured 6e-5 and 1.4e-4
    # the market clears bonds in zero net supply: the learned A stays at zero, and the best
    # response's asset demand then stays at zero too, at first order
    np.testing.assert_allclose(got["right"]["learned"]["A"], 0.0, atol=1e-12)
    np.testing.assert_allclose(got["right"]["best_response"]["C"],
                               got["right"]["learned"]["C"], atol=1e-3 * size)
    w = got["wrong"]["gap"]
    assert w["C"] > 0.3 and w["A"] > 0.3, w             # measured 0.73 and 1.0
    # the learned consumption is the same endowment path in both (the market clears goods):
    # only the best response tells the two apart
    np.testing.assert_allclose(got["wrong"]["learned"]["C"], got["right"]["learned"]["C"],
                               atol=1e-3 * size)
    # by wealth group: five cohorts of equal mass, followed from date 0; their responses add up
    # to the aggregate, and the certificate tells the starts apart within every group
    for name in ("right", "wrong"):
        g = got[name]["groups"]
        np.testing.assert_allclose(g["mass"], 0.2, rtol=1e-12)
        for which in ("learned", "best_response"):
            np.testing.assert_allclose(g["mass"] @ g[which], got[name][which]["C"],
                                       rtol=0, atol=1e-9 * size)
    # measured: 5.5e-5 to 7.4e-5, and 0.41 (the poorest fifth) to 0.74 (the richest)
    assert np.max(got["right"]["groups"]["gap"]) < 1e-3, got["right"]["groups"]["gap"]
    assert np.min(got["wrong"]["groups"]["gap"]) > 0.3, got["wrong"]["groups"]["gap"]


def test_the_certificate_covers_every_innovation_and_refuses_unknown_ones(huggett):
    m, ss, P = huggett
    policy = P.make_policy(key=jax.random.key(0))
    cert = hm.first_order_certificate(P, size=0.002, policy=policy)
    assert set(cert["by_innovation"]) == set(P.noise_names)
    assert cert["max"] == max(cert["gap"].values()) < 1e-3, cert
    assert set(cert["groups"]) == set(P.noise_names) and max(cert["groups"].values()) < 1e-3
    with pytest.raises(ValueError, match="not one of the model's innovations"):
        hm.best_response_irf(P, {"tfp": 0.01}, policy=policy)


@pytest.mark.slow  # long: an identity between two certificates of the same start
def test_the_certificate_along_paths_is_the_impulse_one_on_impact(huggett):
    """hm.path_certificate: at each date of a noisy path, the households' best response today
    (EGM against the prices the learned economy expects from today on) against the learned
    choice today. Identity: for a single innovation hitting a path that rests at the steady
    state, the impact date's gap is the impulse certificate's date-0 gap (both apply the best
    response's date-0 policy to the steady-state distribution against the same expected
    prices)."""
    from hank_mfg.metrics.first_order import best_response_today

    m, ss, right = huggett
    policy = right.make_policy(key=jax.random.key(0))
    size = 0.3 * float(right.sigma[0])
    eps = jnp.zeros((1, 5, right.n_noise)).at[0, 3, 0].set(0.3)
    today = {}
    for name, e in (("hit", eps), ("still", 0.0 * eps)):
        path = C.savings_rollout_batch(right, policy, e)
        today[name] = best_response_today(right, policy, path, e, np.array([3]), 80)
    # the same 80 dates of expected prices from the impact date on
    irf = hm.best_response_irf(right, {"z": size}, policy=policy, T=5, extra=75)
    for o in ("A", "C"):
        got = (today["hit"]["best_response"][o] - today["hit"]["learned"][o]
               - today["still"]["best_response"][o] + today["still"]["learned"][o])[0, 0]
        want = irf["best_response"][o][0] - irf["learned"][o][0]
        assert abs(want) > 1e-5                      # measured 5.9e-5
        np.testing.assert_allclose(got, want, rtol=1e-8)
        np.testing.assert_allclose(
            today["hit"]["learned"][o][0, 0] - today["still"]["learned"][o][0, 0],
            irf["learned"][o][0], rtol=0, atol=1e-12)
    for field, value in (("n_paths", 0), ("burn_in", 0), ("T", 1), ("groups", 0)):
        with pytest.raises(ValueError, match=field):
            hm.path_certificate(right, policy=policy, **{field: value})


@pytest.mark.slow
def test_the_certificate_along_paths_tells_the_starts_apart(huggett):
    """Along noisy paths with the economy's own shocks the first-order start reads a few
    percent of the learned consumption's s.d. (second-order terms of one-s.d. shocks) and the
    steady-state start, which ignores future prices, more than its s.d."""
    m, ss, right = huggett
    policy = right.make_policy(key=jax.random.key(0))
    wrong = C.savings_problem(m, ss, horizon=80)
    kw = dict(n_paths=2, T=30, burn_in=10, seed=3, extra=80)
    good = hm.path_certificate(right, policy=policy, **kw)
    bad = hm.path_certificate(wrong, policy=wrong.make_policy(key=jax.random.key(0)), **kw)
    assert set(good["rms"]) == {"A", "C"} and good["gap"]["C"].shape == (2, 30)
    assert good["rms"]["C"] < 0.15, good["rms"]           # measured 0.07 (4 paths of 60)
    assert bad["rms"]["C"] > 1.0, bad["rms"]               # measured 2.2
    assert np.max(good["groups"]["rms"]) < 0.2 < 0.5 < np.min(bad["groups"]["rms"])


def test_the_forecast_tests_refuse_an_economy_without_a_forecast(huggett):
    """Huggett's rate clears its market each date without a forecast: hm.forecast_tests
    (tests/metrics/test_forecast.py) has nothing to test and says which certificates apply."""
    m, ss, P = huggett
    with pytest.raises(ValueError, match="need no forecast.*first_order_certificate"):
        hm.forecast_tests(P, policy=P.make_policy(key=jax.random.key(0)))


@pytest.mark.slow
def test_the_linear_forecast_passes_the_forecast_tests_and_the_steady_state_one_fails(hank_news):
    """hm.forecast_tests (docs/theory.md §13.5). The untrained first-order start forecasts with
    the linear solution: its one-step errors are the surprise (at first order), unpredictable
    from yesterday's prices, today's shocks and the announcements; iterated on its own
    forecasts it reads no prices, so its dynamic forecast is its one-step forecast. The
    steady-state start predicts the steady state whatever the state: its errors are the
    persistent deviations themselves, predictable on almost every path."""
    m, ss, first = hank_news
    arch = dict(hidden=4, widths=(8,), n_knots=6)
    out = {}
    for name, P in (("good", first), ("bad", C.savings_problem(m, ss, news=4))):
        policy = P.make_policy(key=jax.random.key(0), **arch)
        out[name] = hm.forecast_tests(P, policy=policy, n_paths=8, T=120)
    good, bad = out["good"], out["bad"]
    assert good["unknowns"] == bad["unknowns"] == ("pi", "w", "Y")
    # the steady-state forecast is the benchmark's own forecast
    np.testing.assert_allclose(bad["rmse"], bad["rmse_steady_state"], rtol=1e-12)
    np.testing.assert_allclose(bad["sd_expectation"], 0.0, atol=1e-14)
    # measured: 0.41-0.57 of the steady-state forecast's error (the rest is the surprise)
    assert np.all(good["rmse"] < 0.7 * good["rmse_steady_state"]), good
    o_good, o_bad = good["orthogonality"], bad["orthogonality"]
    # a constant, r w pi yesterday, rstar Z today, four announcements
    assert o_good["dof"] == o_bad["dof"] == 1 + 3 + 2 + 4
    assert np.all(o_bad["high"] >= 0.75), o_bad["high"]     # measured: every path
    assert np.all(o_good["high"] <= 0.25), o_good["high"]   # measured: none
    # the integrated Phillips-curve residual, the forecast's bias: measured 0.034 and 0.87 of
    # the s.d. of inflation
    assert good["forward"]["names"] == ("nkpc_res",)
    assert good["forward"]["rms"][0] < 0.2 * bad["forward"]["rms"][0], (good["forward"],
                                                                      bad["forward"])
    # a forecaster that reads no prices: iterated on itself it is the one-step forecast
    paths = good["paths"]
    np.testing.assert_allclose(paths["iterated"], paths["forecast"][:, :-1], rtol=0, atol=1e-13)


def test_wealth_groups_split_the_mass_at_the_boundaries():
    """Masses 0.1, 0.3, 0.2, 0.4 on four wealth points (two income states) into two halves:
    the third point straddles the median and is shared equally."""
    from hank_mfg.metrics.first_order import wealth_groups

    mu = jnp.array([[0.05, 0.05], [0.1, 0.2], [0.15, 0.05], [0.3, 0.1]])
    w = np.asarray(wealth_groups(mu, 2))
    np.testing.assert_allclose(w, [[1.0, 1.0, 0.5, 0.0], [0.0, 0.0, 0.5, 1.0]], atol=1e-15)
    np.testing.assert_allclose(w @ np.asarray(mu).sum(axis=1), [0.5, 0.5], rtol=1e-14)


@pytest.mark.slow
def test_the_exploitability_floor_is_the_linear_solutions_and_tells_the_steady_state_start(
        huggett):
    """hm.exploitability_floor (docs/theory.md §7.1): the certificate of the untrained
    first-order start on the solution's own evaluation paths. For the steady-state start,
    which ignores every future price, the consumption the households leave on the table is
    many times the floor; the floor is the same number as certifying the first-order start
    directly on those paths."""
    m, ss, right = huggett
    config = hm.RSPGConfig.continuous(horizon=80, eval_paths=3, seed=2)
    wrong = C.savings_problem(m, ss, horizon=80)
    k_init = hm.solvers.training.run_keys(config)[0]
    policy = wrong.make_policy(key=k_init, recurrent=True, **config.savings_architecture())
    sol = hm.Solution(model=m, method="rspg", config=config, policy=policy, history=None,
                      summary={}, problem=wrong)
    floor = hm.exploitability_floor(sol)
    own = hm.exploitability(sol)
    assert own.per_path["exploitability"].shape == floor.per_path["exploitability"].shape == (3,)
    assert 0 < floor.consumption_equivalent < own.consumption_equivalent / 5
    direct = hm.exploitability(
        right, right.make_policy(key=k_init, recurrent=True, **config.savings_architecture()),
        key=hm.solvers.training.run_keys(config)[2], n_paths=3)
    assert floor.exploitability == pytest.approx(direct.exploitability, rel=1e-12)
    with pytest.raises(ValueError, match="continuous-choice"):
        hm.exploitability_floor(m)


def _date0_euler_max(P):
    """The largest log10 Euler error at date 0 of the untrained start's noise-free path (the
    steady state), with the expectation over next date's shocks."""
    policy = P.make_policy(key=jax.random.key(0))
    path = C.savings_rollout(P, policy, jnp.zeros((4, P.n_noise)))
    return float(S.path_euler_errors(P, policy, path, by_date=True)[1][0])


@pytest.mark.slow  # long: the risk adjustment's fixed point twice and a simulation
def test_the_risk_adjusted_start_saves_for_precaution_and_stays_exact_at_first_order(huggett):
    """docs/theory.md §12.7. The risk adjustment is the fixed point at which the start's
    Euler equation holds at the steady state under risk: the Euler errors there fall from the
    certainty-equivalent start's to the deterministic steady state's own discretisation
    error. It is second order in the shocks where the marginal utility is smooth in them
    (halving the shock divides it by four), so the responses to small innovations stay the
    perfect-foresight ones up to a term of the order of the risk; and it is precaution: with
    no shock realised, households who expect shocks save more, so the bond market clears at
    a lower rate."""
    m, ss, first = huggett
    risk = C.risk_adjustment(first)
    start = risk.first_order
    assert 1 <= start.risk_steps < 200 and start.risk_change < 1e-6
    ce, ra, own = _date0_euler_max(first), _date0_euler_max(risk), float(ss.euler_max)
    assert abs(ra - own) < 0.15, (ra, own)               # measured -3.67 against -3.61
    assert ce > own + 0.15, (ce, own)                    # measured -3.37
    # the unshocked path now drifts to the risky steady state, and responses around it differ
    # from those at the deterministic one by a term of the order of the risk: measured 2.1e-3
    # of the peak (the certainty-equivalent start: below 1e-4)
    g = _gaps(m, ss, risk, "z", ("r",))
    assert g["r"] < 5e-3, g
    # second order: half the shock's s.d., a quarter of the adjustment away from the limit
    m_half = Huggett(n_wealth=30, sigma_z=0.01)
    half = C.risk_adjustment(C.savings_problem(m_half, hm.steady_state(m_half),
                                               start="first-order", horizon=80))
    D, D_half = np.asarray(start.risk), np.asarray(half.first_order.risk)
    smooth = np.asarray(ss.a_policy) > float(ss.a_policy.max()) * 0.2   # well inside
    ratio = np.median(D[smooth] / D_half[smooth])
    assert ratio == pytest.approx(4.0, rel=0.1), ratio    # measured 4.07
    # precaution: the risky steady state's rate lies below the deterministic one
    policy = risk.make_policy(key=jax.random.key(0))
    out = hm.risky_steady_state(risk, policy, T=10, burn_in=0, n_pairs=1, T_rest=200)
    assert out["risky"]["r"] < out["deterministic"]["r"] - 1e-4, out["risky"]  # 3.3 bp

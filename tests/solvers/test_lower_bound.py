"""The effective lower bound on the nominal rate and the demand shock of the one-asset HANK
(docs/models.md section 8): the discount shifter is a discount factor, paths off the floor are
the paths without it, a path at the floor solves every condition and the complementarity of
the bound, and a path that does not exist is refused, never returned."""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg.solvers.egm import household_step
from models.hank import OneAssetHANK
from models.huggett import Huggett

T = 150


@pytest.fixture(scope="module")
def economy():
    m = OneAssetHANK.lower_bound(n_wealth=40, n_income=3)
    return m, hm.steady_state(m)


def test_the_discount_shifter_is_a_discount_factor():
    """One EGM step under ``Budget(discount=d)`` is the step of the same household with
    discount factor ``beta d``, for a shifter above and below one."""
    m = OneAssetHANK(n_wealth=30, n_income=3)
    ss = hm.steady_state(m)
    m = eqx.tree_at(lambda x: x.beta, m, ss.values["beta"])
    b = m.budget({k: ss.values[k] for k in ("r", "w", "Div", "Tax")})
    for d in (0.997, 1.002):
        shifted = household_step(m, ss.Va, hm.Budget(R=b.R, y=b.y, we=b.we, discount=d))
        other = household_step(eqx.tree_at(lambda x: x.beta, m, m.beta * d), ss.Va, b)
        for x, y in zip(shifted, other):
            np.testing.assert_allclose(x, y, rtol=1e-13, atol=1e-15)
    # and it moves the policy: more patience, more saving
    assert float(jnp.sum(household_step(m, ss.Va, hm.Budget(R=b.R, y=b.y, we=b.we,
                                                              discount=1.002))[1]
                         - household_step(m, ss.Va, b)[1])) > 0.0


def test_declaration_is_checked_by_name():
    with pytest.raises(ValueError, match="i_lb"):
        OneAssetHANK(i_lb=0.006)          # above the steady-state rate 0.005
    with pytest.raises(ValueError, match="i_lb"):
        OneAssetHANK(i_lb=float("nan"))
    with pytest.raises(ValueError, match="demand_shock"):
        OneAssetHANK(demand_shock=1)
    m = OneAssetHANK.lower_bound()
    assert m.i_lb == 0.0 and m.kinked and m.exogenous == ("rstar", "Z", "db")
    assert [s.name for s in m.shocks()] == ["rstar", "Z", "db"]
    assert not OneAssetHANK().kinked and OneAssetHANK().exogenous == ("rstar", "Z")


@pytest.mark.slow  # long: a second economy's steady state and paths
def test_off_the_floor_the_path_is_the_unbounded_one(economy):
    """A small shock never takes the rate to the floor: the bounded economy's path (solved
    with the kinked Newton) is the unbounded economy's (solved with the steady state's
    Jacobian), and the shadow rate is the rate."""
    m, ss = economy
    free = OneAssetHANK(n_wealth=40, n_income=3, demand_shock=True, kappa=0.02)
    shock = {"db": 5e-4 * 0.9 ** jnp.arange(T), "rstar": 1e-3 * 0.61 ** jnp.arange(T)}
    p = hm.transition_path(m, ss, shocks=shock)
    q = hm.transition_path(free, hm.steady_state(free), shocks=shock)
    assert float(jnp.min(p["i_shadow"])) > 0.0
    for k in ("Y", "C", "pi", "i", "w", "r"):
        np.testing.assert_allclose(p[k], q[k], atol=1e-9)
    np.testing.assert_allclose(p["i"], p["i_shadow"], atol=1e-15)


def test_a_demand_shock_that_reaches_the_floor(economy):
    """A large rise in patience takes the rate to the floor for several quarters. The path
    solves every target (including the goods market, not among the solved targets) to 1e-10,
    the rate never falls below the floor, and where the floor does not bind the rate is the
    rule's (complementarity). The recession and the deflation are deeper than in the same
    economy without the floor, where the rate falls to cushion them."""
    m, ss = economy
    size = 0.005
    p = hm.transition_path(m, ss, db=size * 0.9 ** jnp.arange(T))
    i, shadow = np.asarray(p["i"]), np.asarray(p["i_shadow"])
    at = shadow < m.i_lb
    assert at[:3].all() and at.sum() >= 3, np.nonzero(at)[0]
    assert float(p.max_residual) < 1e-10
    assert max(float(jnp.max(jnp.abs(r))) for r in p.residuals.values()) < 1e-9
    assert np.all(i >= m.i_lb - 1e-15)
    np.testing.assert_allclose(i[~at], shadow[~at], atol=1e-15)
    np.testing.assert_allclose(i[at], m.i_lb, atol=1e-15)
    assert int(p.iterations) < 15
    free = OneAssetHANK(n_wealth=40, n_income=3, demand_shock=True, kappa=0.02)
    q = hm.transition_path(free, hm.steady_state(free), db=size * 0.9 ** jnp.arange(T))
    assert float(q["i"][0]) < 0.0 < float(q["Y"][0]) - float(p["Y"][0])
    assert float(p["pi"][0]) < float(q["pi"][0]) < 0.0


def test_a_path_that_does_not_exist_is_refused():
    """With the steeper Phillips curve of the default calibration (``kappa`` 0.1), a demand
    shock that would keep the rate at the floor for about seven quarters has no
    perfect-foresight path (the regime with the floor on dates 0..k has a negative shadow
    rate after k for short spells and a positive one before k for long ones): the solver raises
    and says where the rate was, instead of returning a path that does not solve the model."""
    m = OneAssetHANK.lower_bound(n_wealth=40, n_income=3, kappa=0.1)
    with pytest.raises(RuntimeError, match="may not exist.*lower bound"):
        hm.transition_path(m, hm.steady_state(m), db=0.006 * 0.9 ** jnp.arange(T), maxiter=30)


@pytest.mark.slow  # long (55 s); CI runs it after the default suite
def test_markets_clear_through_the_floor_under_aggregate_risk():
    """Under aggregate risk the prices of every date are cleared through the kink: along
    simulated paths of the bounded economy (untrained policy, shocks large enough that the
    floor binds on several dates) the solved markets clear to 1e-10 (goods, by Walras' law,
    to 1e-9), the rate is the larger of the floor and
    the rule at every date, and with a floor that never binds the exact clearing gives the
    unbounded economy's path (solved by the carried Jacobian) to 1e-7."""
    import jax

    from hank_mfg.analysis.aggregate_risk import simulate_aggregates
    from hank_mfg.solvers import continuous as C

    def paths(model, horizon=40):
        ss = hm.steady_state(model)
        problem = C.savings_problem(model, ss, horizon=horizon)
        policy = problem.make_policy(key=jax.random.key(0), hidden=4, widths=(6,), n_knots=6)
        return problem, simulate_aggregates(problem, policy, T=horizon, n_paths=4, seed=2)

    kw = dict(n_wealth=30, n_income=3, sigma_db=0.008, rho_db=0.7)
    problem, agg = paths(OneAssetHANK.lower_bound(**kw))
    assert problem.prices.exact
    i, shadow = agg["i"], agg["i_shadow"]
    at = int(np.sum(shadow < 0.0))
    assert 4 <= at < shadow.size // 2, at
    for k, tol in (("asset_mkt", 1e-10), ("labor_mkt", 1e-10), ("goods_mkt", 1e-9)):
        assert float(np.max(np.abs(agg[k]))) < tol, k   # goods: Walras' law, not solved for
    np.testing.assert_allclose(i, np.maximum(0.0, shadow), atol=1e-15)
    # the floor's statistics on the same paths
    policy = problem.make_policy(key=jax.random.key(0), hidden=4, widths=(6,), n_knots=6)
    fs = hm.floor_statistics(problem, policy, T=40, burn_in=0, n_paths=4, seed=2)
    assert fs["share"] == pytest.approx(np.mean(shadow < 0.0), abs=1e-15)
    assert sum(n * c for n, c in fs["spells"].items()) == int(np.sum(shadow < 0.0))
    assert abs(fs["at_floor"]["i"]) < 1e-15 and fs["off_floor"]["i"] > 0.0
    # a floor that never binds: the same equations, solved the other way
    _, low = paths(OneAssetHANK.lower_bound(i_lb=-1.0, **kw))
    problem_free, free = paths(OneAssetHANK(demand_shock=True, kappa=0.02, **kw))
    assert not problem_free.prices.exact
    for k in ("Y", "pi", "w", "C"):
        np.testing.assert_allclose(low[k], free[k], atol=1e-7)


@pytest.mark.slow
def test_responses_and_certificates_at_the_floor_and_away():
    """Generalized responses and certificates from states at the floor and away from it:
    every state in one group; no shock, no response (the same noise with and without it); a small rise in the
    rule's intercept moves the rate by almost nothing where the rule is far below the floor
    and by about itself (less what inflation does) away from it (measured: 0.27 of it at the
    floor, where some states are near enough to leave it); a cut raises consumption in every
    wealth decile away from the floor."""
    import jax

    from hank_mfg.solvers import continuous as C

    m = OneAssetHANK.lower_bound(n_wealth=30, n_income=3, i_lb=0.0045)
    problem = C.savings_problem(m, hm.steady_state(m), horizon=40)
    policy = problem.make_policy(key=jax.random.key(0), hidden=4, widths=(6,), n_knots=6)
    kw = dict(T=6, n_paths=32, burn_in=20, seed=3)
    none = hm.floor_responses(problem, {"rstar": 0.0}, policy=policy, **kw)
    assert sum(none["states"].values()) == 32 and min(none["states"].values()) >= 3
    for g in ("at_floor", "off_floor"):
        assert max(float(np.max(np.abs(x))) for x in none[g].values()) == 0.0
        assert float(np.max(np.abs(none["deciles"][g]))) == 0.0
    fr = hm.floor_responses(problem, {"rstar": 1e-5}, policy=policy, **kw)
    at, off = fr["at_floor"]["i"][0], fr["off_floor"]["i"][0]
    assert 0.5e-5 < off < 1.0e-5 and abs(at) < 0.5 * off, (at, off)
    # a cut in the intercept raises consumption in every decile off the floor
    cut = hm.floor_responses(problem, {"rstar": -1e-4}, policy=policy, **kw)
    assert np.all(cut["deciles"]["off_floor"] > 0.0)
    assert cut["off_floor"]["C"][0] > 0.0
    with pytest.raises(ValueError, match="no state"):
        hm.floor_responses(problem, {"rstar": 0.0}, policy=policy, T=2, n_paths=1, burn_in=2,
                           seed=0)
    # the certificates at and off the floor: every date in one group; the markets clear in
    # both; the clairvoyant best response from any date never does worse than the policy
    fc = hm.floor_certificates(problem, policy, T=30, burn_in=0, n_paths=4, seed=2)
    at, off = fc["at_floor"], fc["off_floor"]
    assert at["dates"] >= 4 and at["dates"] + off["dates"] == 4 * 30
    assert fc["share"] == pytest.approx(at["dates"] / 120, abs=1e-15)
    for group in (at, off):
        assert group["relative_exploitability"] > 0.0
        assert group["euler_max"] >= group["euler_mean"]
        for k in ("asset_mkt_max", "labor_mkt_max"):
            assert group[k] < 1e-10, (k, group[k])
        assert np.isfinite(group["nkpc_res_expected"])


def test_floor_spells_and_refusal():
    from hank_mfg.analysis.aggregate_risk import floor_spells

    assert floor_spells([0, 1, 1, 0, 0, 1, 0, 1, 1, 1]) == [2, 1, 3]
    assert floor_spells([1, 1]) == [2] and floor_spells([0, 0]) == []
    with pytest.raises(ValueError, match="no lower bound"):
        from hank_mfg.solvers import continuous as C

        m = Huggett(n_wealth=10)  # any economy without a bound: refused before it runs
        problem = C.savings_problem(m, hm.steady_state(m), horizon=4)
        hm.floor_statistics(problem, problem.make_policy(key=__import__("jax").random.key(0),
                                                         hidden=4, widths=(6,), n_knots=6))


def test_floor_shifts_solve_the_complementarity_problem():
    """The shifts of a rule that keep a linear path at its bound solve ``w = gap + J v >= 0,
    v >= 0, v w = 0``: with ``J = I`` they are ``max(-gap, 0)``; with a ``J`` whose shifts
    also lower the path on other dates (as a future rise in the rate lowers inflation, and
    the rate, today) they solve the dense system on the dates at the bound, which are more
    than those below it without shifts; where no solution exists they are zero."""
    from hank_mfg.solvers.continuous import floor_shifts

    gap = jnp.asarray([-0.3, 0.2, -0.1, 0.5])
    v, solved = floor_shifts(jnp.eye(4), gap)
    np.testing.assert_allclose(v, [0.3, 0.0, 0.1, 0.0], atol=1e-15)
    assert bool(solved)
    v, solved = floor_shifts(jnp.eye(4), jnp.abs(gap))
    np.testing.assert_allclose(v, 0.0, atol=0.0)
    assert bool(solved)
    J = jnp.asarray([[1.0, -0.4, -0.4], [-0.2, 1.0, -0.4], [-0.1, -0.1, 1.0]])
    gap = jnp.asarray([-1.0, 0.1, 2.0])
    v, solved = (np.asarray(x) for x in floor_shifts(J, gap))
    w = np.asarray(gap + J @ v)
    # the second date is above the bound without shifts, at it with them
    assert solved and v[0] > 0.0 and v[1] > 0.0 and v[2] == 0.0 and w[2] > 0.0
    np.testing.assert_allclose(w[:2], 0.0, atol=1e-14)
    np.testing.assert_allclose(v[:2], np.linalg.solve(np.asarray(J)[:2, :2], [1.0, -0.1]),
                               rtol=1e-13)
    # a shift that lowers the path on its own date: no shifts keep it at the bound
    v, solved = floor_shifts(-jnp.eye(2), jnp.asarray([-1.0, 1.0]))
    np.testing.assert_allclose(v, 0.0)
    assert not bool(solved)


def test_the_small_dense_solver_is_a_dense_solve():
    """The rollout's own Gauss–Jordan elimination equals LAPACK's solve, also where the first
    pivot is zero (a row swap is needed)."""
    from hank_mfg.solvers.continuous import gauss_jordan_solve

    rng = np.random.default_rng(0)
    A, b = rng.normal(size=(40, 40)), rng.normal(size=40)
    np.testing.assert_allclose(gauss_jordan_solve(jnp.asarray(A), jnp.asarray(b)),
                               np.linalg.solve(A, b), rtol=1e-10, atol=1e-12)
    swap = jnp.asarray([[0.0, 2.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 3.0]])
    np.testing.assert_allclose(gauss_jordan_solve(swap, jnp.asarray([1.0, 2.0, 3.0])),
                               np.linalg.solve(np.asarray(swap), [1.0, 2.0, 3.0]), rtol=1e-14)


@pytest.mark.slow
def test_floor_expectations_are_piecewise_linear_perfect_foresight():
    """The first-order start's expectations at the floor (``floor_expectations=True``): after
    one large demand innovation and nothing else, the rule's shifts a date expects are those
    expected the date before, one date on (the linear solution with news is perfect foresight,
    the revisions carry the past); they keep the linear path of the rate at the floor; and the
    untrained economy's noise-free path stays at the floor as many quarters as the nonlinear
    perfect-foresight path with the floor, with output and inflation within 10% of its peak,
    where the start whose expectations ignore the bound misses output by a third (measured
    on 40 x 3: 7 quarters each; gaps 0.011 and 0.010 against 0.38 and 0.27). The economy
    leaves the cost of changing prices out of its resources (``price_adjustment_costs=
    "none"``): as a resource cost it is quadratic in inflation and of the same order as the
    recession at this deflation, which no expectation linear in the shifts sees (docs/theory.md
    §12.7)."""
    import jax

    from hank_mfg.analysis.aggregate_risk import irf_gap, learned_irf
    from hank_mfg.solvers import continuous as C

    m = OneAssetHANK.lower_bound(n_wealth=30, n_income=3, price_adjustment_costs="none")
    ss = hm.steady_state(m)
    plain = C.savings_problem(m, ss, start="first-order", horizon=60)
    P = C.first_order_start(plain, expect_bound=True, floor_horizon=30)
    floor = P.first_order.floor
    assert P.n_state == plain.n_state + floor.size
    i, size = P.noise_names.index("db"), 0.006
    z, shifts = jnp.zeros(P.n_state), []
    for t in range(6):
        z = C._advance(P, z, jnp.zeros(P.n_noise),
                       jnp.zeros(P.n_noise).at[i].set(size if t == 0 else 0.0))
        revisions, v = floor.split(C._floor_state(P, z))
        shifts.append(np.asarray(v))
        if t:
            np.testing.assert_allclose(revisions[0], 0.0, atol=1e-12)   # nothing new
    spell = int(np.sum(shifts[0] > 0))
    assert spell >= 4, shifts[0]
    for t in range(1, 6):
        np.testing.assert_allclose(shifts[t][:-t], shifts[0][t:], atol=1e-12)
    # the shifts hold the linear path of the rate at the floor, and only where it binds
    hist = jnp.zeros((P.history_length, P.n_noise)).at[0, i].set(size)
    path = floor.gap + jnp.einsum("jsh,js->h", floor.response, hist)
    w = np.asarray(path + floor.pulses[0] @ shifts[0])
    assert w.min() > -1e-12 and np.max(np.abs(w * shifts[0])) < 1e-14
    # against the nonlinear perfect-foresight path with the floor
    T = 30
    ref = hm.transition_path(m, ss, db=size * 0.9 ** np.arange(P.first_order.horizon))
    want = {v: np.asarray(ref.values[v][:T]) - float(ss.values[v]) for v in ("Y", "pi")}
    at_pf = int(np.sum(np.asarray(ref.values["i_shadow"][:T]) < 0.0))
    policy = P.make_policy(key=jax.random.key(0))
    gaps, spells = {}, {}
    for name, problem in (("floor", P), ("plain", plain)):
        got = learned_irf(problem, {"db": size}, T=T, policy=policy)
        gaps[name] = irf_gap(got, want, ("Y", "pi"), T=20)
        spells[name] = int(np.sum(np.asarray(got["i"]) + float(ss.values["i"]) < 1e-9))
    assert spells["floor"] == at_pf, (spells, at_pf)
    assert gaps["floor"]["Y"] < 0.1 and gaps["floor"]["pi"] < 0.1, gaps
    assert gaps["plain"]["Y"] > 0.2, gaps
    # one step of time iteration at the mean node reads next date's budget with the shifts
    # (the household inputs' responses to them): at the floor it gives back the
    # piecewise-linear continuation up to terms of second order; without those responses
    # next date's budget expects the cuts below the floor and the step misses by a share of
    # the floor's own move
    n_a, n_e = P.a_ss.shape
    step = dataclasses.replace(P.first_order, risk=jnp.zeros_like(P.Va_ss), quadrature=1,
                               cells=(n_a, n_e, n_a))
    TI = eqx.tree_at(lambda p: p.first_order, P, step)
    blind = eqx.tree_at(lambda p: p.first_order.floor.inputs, TI,
                        jnp.zeros_like(floor.inputs))
    z = jnp.zeros(P.n_state)
    for t in range(2):
        z = C._advance(P, z, jnp.zeros(P.n_noise),
                       jnp.zeros(P.n_noise).at[i].set(size if t == 0 else 0.0))
    assert float(floor.split(C._floor_state(P, z))[1][0]) > 0.0     # at the floor next date
    scale = P.Va_ss
    pl = TI.linear_continuation(z)
    linear = plain.linear_continuation(z[:plain.n_state])
    floor_move = float(jnp.max(jnp.abs(pl - linear) / scale))
    gap = float(jnp.max(jnp.abs(TI.quadrature_continuation(z) - pl) / scale))
    gap_blind = float(jnp.max(jnp.abs(blind.quadrature_continuation(z) - pl) / scale))
    assert gap < 0.02 * floor_move < 0.1 * gap_blind, (gap, floor_move, gap_blind)

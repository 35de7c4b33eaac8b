"""Reports of an economy under aggregate risk with the firms' forecast (the one-asset HANK).

One tiny solution (30 x 3 states, horizon 10, one iteration, two announced innovations) is
shared by every test; each table is checked against the mathematics it reports: the response
units (the shock's own path is ``size * rho^t`` exactly: 25 bp of a 25 bp tightening on impact),
``response / size``, linearity of the noise-free response to a tiny shock, the wealth deciles'
masses and consumption shares, the aggregate consumption response reproduced by the groups',
the anticipation table's surprise against the learned impulse response and its perfect-foresight
column against ``perfect_foresight_irf``, and the certificates against the history.
"""

import dataclasses
import json
import os

import jax
import numpy as np
import pandas as pd
import pytest

import hank_mfg as hm
from hank_mfg.analysis.aggregate_risk import (
    learned_irf, perfect_foresight_from_states, simulate_aggregates,
)
from hank_mfg.analysis.continuous_report import perfect_foresight_irf
from hank_mfg.reports import aggregate_risk as ar
from hank_mfg.reports.export import read_table
from models.hank import OneAssetHANK

jax.config.update("jax_enable_x64", True)

FIELDS = dict(n_wealth=30, wealth_max=50.0, n_income=3)
T = 10  # dates of every learned response: one compiled rollout shape for (almost) all tests
T_PF = 30  # perfect-foresight transitions (both sides of a comparison use the same length)
TINY = dict(T=T, n_paths=0, T_transition=T_PF)
STATES = dict(T=T, n_paths=4, burn_in=10, T_transition=T_PF)


# one tiny RSPG solve (about 20 s of tracing) serves these tests: they run with -m slow to keep
# the default suite within its time budget; tests/solvers/test_hank_risk.py covers the solver
pytestmark = pytest.mark.slow

@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    run = tmp_path_factory.mktemp("hank_run")
    cfg = hm.RSPGConfig.continuous(iterations=1, eval_every=1, eval_paths=1, n_paths=2,
                                   horizon=T, hidden=4, widths=(8,), n_knots=6, news=2)
    sol = hm.solve(OneAssetHANK(**FIELDS), method="rspg", config=cfg, progress=False,
                   checkpoint_dir=str(run))
    return sol, run, cfg


@pytest.fixture(scope="module")
def sol(solved):
    return solved[0]


def _factor(sol, v):
    """Level deviation -> the table's unit: bp for rates, percent of the steady state."""
    P = sol.compiled()
    return 1e4 if v in P.model.rates else 100.0 / float(P.ss_values[v])


def test_the_solution_is_an_economy_with_the_firms_forecast(sol):
    assert ar.has_forecast(sol)
    assert sol.compiled().news == 2


@pytest.mark.slow
def test_girf_units_and_response_per_unit(sol):
    P = sol.compiled()
    tab = ar.girf_table(sol, multiples=(1, 4), variables=("Y", "C", "pi", "r", "w", "rstar",
                                                          "Z"), **TINY)
    np.testing.assert_allclose(tab["response_per_unit"], tab["response"] / tab["size"],
                               rtol=1e-14)
    assert tab["se"].isna().all()   # one noise-free path: no Monte Carlo error to report
    rho = dict(zip(P.shock_names, np.asarray(P.rho)))
    # the shock's own path: exactly size * rho^t, in bp for rstar and percent of Z_ss = 1 for Z
    for shock, unit, scale in (("rstar", "bp", 1e4), ("Z", "percent", 100.0)):
        for m in (1.0, 4.0):
            g = tab.query("shock == @shock and multiple == @m and variable == @shock")
            assert set(g["unit"]) == {unit}
            np.testing.assert_allclose(g["response"], scale * 0.0025 * m * rho[shock]
                                       ** np.arange(T), rtol=1e-9, atol=1e-12)
    # a 25 bp tightening is 25 bp on impact
    g = tab.query("shock == 'rstar' and multiple == 1 and variable == 'rstar' and date == 0")
    np.testing.assert_allclose(g["response"], 25.0, rtol=1e-12)
    # every other aggregate is learned_irf's level deviation scaled by the steady state
    irf = learned_irf(sol, {"rstar": 0.0025}, T=T, n_paths=0)
    for v in ("Y", "C", "pi", "r", "w"):
        g = tab.query("shock == 'rstar' and multiple == 1 and variable == @v")
        np.testing.assert_allclose(g["response"], _factor(sol, v) * irf[v], rtol=1e-12,
                                   atol=1e-14)
        assert set(g["unit"]) == {"bp" if v in ("pi", "r") else "percent"}
    # beside each, the nonlinear perfect-foresight response to the same innovation's path
    for m in (1.0, 4.0):
        pf = perfect_foresight_irf(P.model, "rstar", 0.0025 * m, T=T, T_transition=T_PF,
                                   steady_state=P.steady_state)
        for v in ("Y", "pi", "r"):
            g = tab.query("shock == 'rstar' and multiple == @m and variable == @v")
            np.testing.assert_allclose(g["perfect_foresight"], _factor(sol, v) * pf[v],
                                       rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(g["perfect_foresight_per_unit"],
                                       g["perfect_foresight"] / (0.0025 * m), rtol=1e-14)
    # innovations beyond two s.d. of the training ones are marked as extrapolation
    sd = {k: float(np.unique(tab.query("shock == @k")["innovation_sd"])[0]) for k in rho}
    np.testing.assert_allclose(sd["Z"], float(P.sigma[P.shock_names.index("Z")]), rtol=1e-14)
    # the monetary innovation's variance is shared by the surprise and two announcements
    np.testing.assert_allclose(sd["rstar"] ** 2, float(np.sum(P.sigma[P.n_shocks:] ** 2)
                                                       + P.sigma[P.news_index] ** 2), rtol=1e-12)
    for (shock, size), g in tab.groupby(["shock", "size"]):
        assert set(g["extrapolation"]) == {abs(size) > 2 * sd[shock]}


@pytest.mark.slow
def test_noise_free_girf_of_a_tiny_shock_scales_linearly(sol):
    """Without noise the response is smooth in the shock: per unit of a 1e-6 shock, doubling
    it moves the response by the second-order term only (about 2e-5 of its peak here)."""
    tab = ar.girf_table(sol, {"rstar": 1e-6, "Z": 1e-6}, multiples=(1, 2), **TINY)
    for (shock, v), g in tab.groupby(["shock", "variable"]):
        one = g[g["multiple"] == 1]["response_per_unit"].to_numpy()
        two = g[g["multiple"] == 2]["response_per_unit"].to_numpy()
        peak = np.max(np.abs(one))
        assert peak > 0, (shock, v)
        np.testing.assert_allclose(two, one, atol=1e-4 * peak, err_msg=f"{shock} -> {v}")


@pytest.mark.slow
def test_state_dependent_responses(sol):
    P = sol.compiled()
    tab = ar.state_girf_table(sol, {"rstar": 0.0025}, variables=("Y", "C", "rstar"), **STATES)
    level = tab.groupby("state")["state_level"].first()
    assert level["recession"] <= level["all"] <= level["boom"]
    assert set(tab["state_variable"]) == {"Y"}
    # from every state the tightening's own path is 25 bp * rho^t
    rho = float(P.rho[P.shock_names.index("rstar")])
    for state, g in tab[tab["variable"] == "rstar"].groupby("state"):
        np.testing.assert_allclose(g["response"], 25.0 * rho ** np.arange(T), rtol=1e-8,
                                   err_msg=state)
    assert level["recession"] < level["boom"]  # different states
    # beside each group, perfect foresight from the same states: the tightening's path is the
    # same, the economy's responses differ from the learned ones by less than their size
    for state, g in tab[tab["variable"] == "rstar"].groupby("state"):
        np.testing.assert_allclose(g["perfect_foresight"], 25.0 * rho ** np.arange(T),
                                   rtol=1e-8, err_msg=state)
    y = tab.query("variable == 'Y' and state == 'all'")
    assert np.all(np.isfinite(y["perfect_foresight"])) and y["perfect_foresight"].iloc[0] < 0
    # standard errors over the states: none for the tightening's own (deterministic) path,
    # positive for output, whose response depends on the state and its future noise
    g = tab.query("variable == 'rstar' and state == 'all'")
    assert float(g["se"].max()) < 1e-9
    assert float(y["se"].iloc[0]) > 0


@pytest.mark.slow
def test_perfect_foresight_from_the_steady_state_is_the_impulse_response(sol):
    """From the steady state (its distribution, no shock, no announcement, the steady state's
    aggregates the date before) the benchmark of the state-dependent responses is the
    ordinary perfect-foresight response to the innovation's path."""
    P = sol.compiled()
    state = (P.mu_ss[None], np.zeros((1, P.n_state)))
    got = perfect_foresight_from_states(P, state, {"i": np.array([float(P.ss_values["i"])])},
                                        {"rstar": 0.0025}, T=T, T_transition=T_PF)
    want = perfect_foresight_irf(P.model, "rstar", 0.0025, T=T, T_transition=T_PF,
                                 steady_state=P.steady_state)
    for v in ("Y", "C", "pi", "r", "w", "rstar"):
        # both are Newton solutions to max |residual| 1e-10 (the benchmark a difference of two),
        # which leaves each aggregate off by up to the residual times the inverse Jacobian's
        # gain (measured: 1.4e-9 on the wage on impact)
        np.testing.assert_allclose(got[v][0], want[v], rtol=0, atol=3e-9, err_msg=v)


def test_ergodic_moments_beside_the_first_order_ones_with_their_standard_errors(sol):
    """The exogenous policy-rate intercept is an AR(1) whose innovation is split between a
    surprise and two announcements: at first order its s.d. is ``sigma / sqrt(1 - rho^2)``
    exactly, uncorrelated with TFP; the simulated s.d. lies within a few Monte Carlo
    standard errors of it (paths are independent)."""
    from hank_mfg.reports.continuous import ergodic_moments_table
    P = sol.compiled()
    tab = ergodic_moments_table(sol, T=400, burn_in=40, n_paths=6, seed=3, T_transition=T_PF)
    i = P.shock_names.index("rstar")
    var = float(P.sigma[i] ** 2 + np.sum(P.sigma[P.n_shocks:] ** 2))
    exact = np.sqrt(var / (1.0 - float(P.rho[i]) ** 2))
    row = tab.query("moment == 'sd' and variable == 'rstar'").iloc[0]
    np.testing.assert_allclose(row["first_order"], exact, rtol=1e-9)
    assert row["se"] > 0 and abs(row["value"] - exact) < 4 * row["se"], row
    c = tab.query("moment == 'corr' and ((variable == 'rstar' and other == 'Z') or "
                  "(variable == 'Z' and other == 'rstar'))").iloc[0]
    assert abs(c["first_order"]) < 1e-10
    mean = tab.query("moment == 'mean' and variable == 'Y'").iloc[0]
    assert mean["first_order"] == pytest.approx(float(P.ss_values["Y"]), rel=1e-12)


def test_group_responses_add_up_to_the_aggregate(sol):
    shock = {"rstar": -0.0025}
    tab = ar.group_response_table(sol, shock)
    wealth = tab[tab["grouping"] == "wealth decile"]
    income = tab[tab["grouping"] == "income state"]
    assert list(wealth["group"]) == list(range(1, 11))
    np.testing.assert_allclose(wealth["mass"], 0.1, atol=1e-12)
    np.testing.assert_allclose(income["mass"], np.asarray(hm.rouwenhorst(0.966, 0.5, 3).pi_e),
                               atol=1e-10)
    base = simulate_aggregates(sol, T=T, n_paths=0)
    irf = learned_irf(sol, shock, T=T, n_paths=0)
    aggregate = 100.0 * irf["C"][0] / base["C"][0, 0]
    for g in (wealth, income):
        np.testing.assert_allclose(g["mass"].sum(), 1.0, atol=1e-12)
        np.testing.assert_allclose(g["consumption_share"].sum(), 1.0, atol=1e-12)
        np.testing.assert_allclose(np.sum(g["consumption_share"] * g["response_pct"]),
                                   aggregate, rtol=1e-10, atol=1e-12)


def test_anticipation_against_the_surprise_and_perfect_foresight(sol):
    P = sol.compiled()
    size = -0.0025
    tab = ar.anticipation_table(sol, size, variables=("C", "Y", "pi", "r", "rstar"), T=T,
                                T_transition=T_PF)
    assert sorted(set(tab["k"])) == [0, 1, 2]
    surprise = learned_irf(sol, {"rstar": size}, T=T, n_paths=0)
    pf = perfect_foresight_irf(P.model, "rstar", size, T=T, T_transition=T_PF,
                               steady_state=P.steady_state)
    for v in ("C", "Y", "pi", "r", "rstar"):
        row = tab.query("k == 0 and variable == @v").iloc[0]
        np.testing.assert_allclose(row["learned"], _factor(sol, v) * surprise[v][0], rtol=1e-12)
        np.testing.assert_allclose(row["perfect_foresight"], _factor(sol, v) * pf[v][0],
                                   rtol=1e-6, atol=1e-9)
    # the cut is 25 bp on impact when it is a surprise, and nothing yet when it is announced
    r = tab[tab["variable"] == "rstar"].set_index("k")
    np.testing.assert_allclose(r.loc[0, ["learned", "perfect_foresight"]], -25.0, rtol=1e-9)
    np.testing.assert_allclose(r.loc[[1, 2], ["learned", "perfect_foresight"]], 0.0, atol=1e-9)
    np.testing.assert_allclose(tab.query("k == 0")["learned_relative"], 1.0)


def test_anticipation_needs_announcements_and_bad_inputs_fail(sol):
    no_news = dataclasses.replace(sol, problem=dataclasses.replace(sol.compiled(), news=0))
    with pytest.raises(ValueError, match="news"):
        ar.anticipation_table(no_news)
    with pytest.raises(ValueError, match="shock"):
        ar.girf_table(sol, {"oil": 0.01}, **TINY)
    with pytest.raises(ValueError, match="variables"):
        ar.girf_table(sol, {"rstar": 0.0025}, variables=("K",), **TINY)
    with pytest.raises(ValueError, match="non-zero"):
        ar.girf_table(sol, {"rstar": 0.0025}, multiples=(0, 1), **TINY)


def test_equilibrium_conditions_are_the_last_evaluation(sol):
    tab = ar.equilibrium_conditions_table(sol.history)
    last = sol.history.iloc[-1]
    expected = ["nkpc_res_expected", "asset_mkt_max", "labor_mkt_max", "goods_mkt_max",
                "forecast_rmse_pi", "forecast_rmse_w", "forecast_rmse_Y",
                "consumption_equivalent", "relative_exploitability", "euler_mean", "euler_max"]
    assert list(tab["measure"]) == expected
    np.testing.assert_array_equal(tab["value"], [float(last[m]) for m in expected])
    assert set(tab["iteration"]) == {int(last["iteration"])}
    assert tab["description"].notna().all()
    with pytest.raises(ValueError, match="empty"):
        ar.equilibrium_conditions_table(pd.DataFrame())


@pytest.mark.slow
def test_report_writer_writes_the_tables_it_computes(sol, tmp_path):
    written = ar.write_aggregate_risk_report(sol, str(tmp_path), T=T, n_paths=0,
                                             multiples=(1, 4), burn_in=10, T_transition=T_PF)
    names = ("girf_by_size", "state_dependent_girf", "group_responses", "anticipation")
    for name in names:
        assert os.path.getsize(tmp_path / f"{name}.png") > 0
    assert sorted(written["figures"]) == sorted(str(tmp_path / f"{n}.png") for n in names)
    assert len(written["tables"]) == 2 * (len(names) + 2)
    pd.testing.assert_frame_equal(read_table(str(tmp_path / "girf_by_size.csv")),
                                  ar.girf_table(sol, multiples=(1, 4), **TINY))
    pd.testing.assert_frame_equal(read_table(str(tmp_path / "equilibrium_conditions.parquet")),
                                  ar.equilibrium_conditions_table(sol.history))
    # the forecast tests: max(n_paths, 2) paths of max(4 T, 40) dates, the report's seed
    tab = read_table(str(tmp_path / "forecast_tests.parquet"))
    pd.testing.assert_frame_equal(tab, ar.forecast_table(sol, n_paths=2, T=40, seed=0))
    ft = hm.forecast_tests(sol, n_paths=2, T=40, seed=0)
    row = lambda test, v: float(tab.query("test == @test and variable == @v")["value"].iloc[0])
    for j, u in enumerate(ft["unknowns"]):
        assert row("rmse", u) == ft["rmse"][j]
        assert row("orthogonality_high", u) == ft["orthogonality"]["high"][j]
        assert row("dynamic_max", u) == ft["dynamic"]["max"][j]
    assert row("nkpc_res_rms", "nkpc_res") == ft["forward"]["rms"][0]
    assert tab["description"].notna().all()


def _write_config(run, cfg):
    """The ``config.json`` that ``hank-mfg solve`` writes beside its checkpoint."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(run / "config.json", "w") as f:
        json.dump({"model_file": os.path.join(root, "models", "hank.py"),
                   "model_class": "OneAssetHANK",
                   "overrides": [f"{k}={v}" for k, v in FIELDS.items()], "method": "rspg",
                   "choice": "continuous", "preset": "continuous", "config": cfg.to_dict()}, f)


@pytest.mark.slow
def test_cli_report_of_a_run_writes_the_aggregate_risk_files(solved, tmp_path):
    """``hank-mfg report`` on a run directory trained with announcements: the continuous
    report's files and this module's beside them, the anticipation table among them, and the
    numbers of the run's own history."""
    from typer.testing import CliRunner

    from hank_mfg.cli import app

    sol, run, cfg = solved
    _write_config(run, cfg)
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["report", str(run), "--out", str(out), "--n-paths", "1",
                                      "--ergodic-T", "20", "--transition-T", "40"])
    assert result.exit_code == 0, result.output
    for name in ("policy_functions", "impulse_responses", "ergodic_moments", "girf_by_size",
                 "state_dependent_girf", "group_responses", "anticipation",
                 "equilibrium_conditions", "forecast_tests"):
        assert (out / f"{name}.csv").exists() and (out / f"{name}.parquet").exists(), name
    for name in ("impulse_responses", "girf_by_size", "state_dependent_girf", "group_responses",
                 "anticipation"):
        assert (out / f"{name}.png").exists(), name
    eq = read_table(str(out / "equilibrium_conditions.csv"))
    np.testing.assert_allclose(eq["value"], ar.equilibrium_conditions_table(sol.history)["value"])
    girf = read_table(str(out / "girf_by_size.csv"))
    np.testing.assert_allclose(girf["response_per_unit"], girf["response"] / girf["size"],
                               rtol=1e-14)


def test_lower_bound_tables(tmp_path):
    """An economy with a lower bound gets the floor's table and the responses at and away
    from it in its report: the shares at and off the floor add up to one, the mean rate at the
    floor is the bound, the clairvoyant best response gains on both sides, the markets clear
    on both; the response table holds both groups for each shock, in the units of the other
    tables (bp for rates)."""
    cfg = hm.RSPGConfig.continuous(iterations=1, eval_every=1, eval_paths=1, n_paths=2,
                                   horizon=T, hidden=4, widths=(8,), n_knots=6)
    m = OneAssetHANK.lower_bound(i_lb=0.0045, **FIELDS)
    sol = hm.solve(m, method="rspg", config=cfg, progress=False,
                   checkpoint_dir=str(tmp_path / "run"))
    table = ar.floor_table(sol, T=60, burn_in=10, n_paths=2, seed=1).set_index("measure")
    share = table.loc["share of quarters"]
    assert 0.0 < share["at_floor"] < 1.0
    assert share["at_floor"] + share["off_floor"] == pytest.approx(1.0, abs=1e-15)
    assert table.loc["mean i", "at_floor"] == pytest.approx(0.0045, abs=1e-15)
    assert table.loc["mean i", "off_floor"] > 0.0045
    for side in ("at_floor", "off_floor"):
        assert table.loc["relative_exploitability", side] > 0.0
        assert table.loc["asset_mkt_max", side] < 1e-10
    resp = ar.floor_response_table(sol, {"rstar": 0.0025}, T=4, n_paths=8, burn_in=10, seed=1)
    assert set(resp["state"]) == {"at_floor", "off_floor"}
    assert set(resp["variable"]) == {"Y", "C", "pi", "i", "r"}
    assert (resp.loc[resp["variable"] == "i", "unit"] == "bp").all()
    assert len(resp) == 2 * 5 * 4
    ar.floor_response_figure(resp)

"""Tables and figures of economies: policy tables of a steady state, the exports, clear type
errors, the impulse figures' horizon, title and units, wealth statistics with debtors."""

import warnings

import numpy as np
import pandas as pd
import pytest

import hank_mfg as hm
from hank_mfg.reports.continuous import impulse_comparison_figure
from hank_mfg.reports.figures import response_horizon
from models.hank import OneAssetHANK
from models.huggett import Huggett

HANK = dict(n_wealth=20, n_income=3, wealth_max=60.0)


@pytest.fixture(scope="module")
def hank():
    model = OneAssetHANK(**HANK)
    return model, hm.steady_state(model)


@pytest.fixture(scope="module")
def huggett():
    model = Huggett(n_wealth=20)
    return model, hm.steady_state(model)


def test_policy_table_of_an_economys_steady_state(hank):
    model, ss = hank
    table = hm.policy_table(ss)
    assert len(table) == 20 * 3 and table["date"].isna().all()
    assert {"cash", "consumption", "savings", "hours", "value", "reward"} <= set(table.columns)
    # the budget at the steady-state aggregates: c + a' = (1 + r) a + w e n + (Div - Tax) e / E[e]
    e = np.asarray(model.e_grid)
    share = e / np.sum(np.asarray(model.income.pi_e) * e)
    v = {k: float(ss[k]) for k in ("r", "w", "Div", "Tax")}
    cash = ((1 + v["r"]) * table["wealth"] + v["w"] * table["income"] * table["hours"]
            + (v["Div"] - v["Tax"]) * share[table["income_state"]])
    np.testing.assert_allclose(table["cash"], cash, rtol=1e-12)
    np.testing.assert_allclose(table["consumption"] + table["savings"], table["cash"], rtol=1e-9)
    np.testing.assert_allclose(table["expected_action"], table["savings"])
    np.testing.assert_allclose(table["consumption"], np.asarray(ss.c_policy).reshape(-1))
    # value: higher wealth, higher value, in every income state
    for _, g in table.groupby("income_state"):
        assert np.all(np.diff(g["value"].to_numpy()) > 0)
    # the same table from the distribution table's columns
    dist = hm.distribution_table(ss)
    np.testing.assert_allclose(dist["hours"], table["hours"])


def test_policy_table_of_an_economy_model_solves_its_steady_state(huggett):
    model, ss = huggett
    table = hm.policy_table(model, value=False)
    assert "hours" not in table.columns and table["value"].isna().all()
    np.testing.assert_allclose(table["savings"], np.asarray(ss.a_policy).reshape(-1), rtol=1e-8)
    with pytest.raises(TypeError, match="Huggett is an economy.*give no policy="):
        hm.policy_table(model, policy=np.ones((60, 5)) / 5)


def test_tables_refuse_a_model_that_is_not_the_steady_states(hank):
    model, ss = hank
    other = OneAssetHANK(**{**HANK, "B": 6.0})
    for call in (hm.policy_table, hm.distribution_table):
        with pytest.raises(ValueError, match=r"the steady state is not a steady state of this "
                                             r"OneAssetHANK.*B \(5\.6 there, 6 here\)"):
            call(ss, model=other)
    # the model it was solved from (its beta, vphi only guesses) is accepted
    assert len(hm.distribution_table(ss, model=model)) == model.n_states


def test_distribution_table_is_exported():
    import hank_mfg.reports

    assert hm.distribution_table is hank_mfg.reports.distribution_table
    assert "distribution_table" in hm.__all__


def test_mit_responses_of_a_steady_state_is_a_type_error(hank):
    _, ss = hank
    with pytest.raises(TypeError, match=r"mit_responses\(transition_path, steady_state\) "
                                        r"expected a perfect-foresight path.*got "
                                        r"SteadyState and SteadyState"):
        hm.mit_responses(ss, ss)
    for call in (lambda: hm.learned_irf(ss, {"rstar": 1e-4}),
                 lambda: hm.ergodic_moments(ss)):
        with pytest.raises(TypeError, match=r"expected a Solution of hm.solve.*got a "
                                            r"SteadyState"):
            call()


def test_wealth_statistics_with_debtors_are_nan_with_a_warning(huggett):
    model, ss = huggett
    with pytest.warns(UserWarning, match="NaN for all, e0.*negative wealth.*borrowing limit -1"):
        table = hm.wealth_distribution(ss, model=model)
    debtors = np.asarray(ss.mu)[np.asarray(model.a_grid) < 0].sum(axis=0)
    for _, row in table.iterrows():
        i = None if row["group"] == "all" else int(row["group"][1:])
        has = debtors.sum() if i is None else debtors[i] / np.asarray(ss.mu)[:, i].sum()
        if has > 1e-12:
            assert np.isnan(row[["gini", "top10_share", "top1_share",
                                 "bottom50_share"]].astype(float)).all()
        assert np.isfinite(row["mean"]) and np.isfinite(row["p50"])
        assert 0 <= row["at_limit"] <= 1


def test_wealth_statistics_without_debtors_do_not_warn(hank):
    model, ss = hank
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = hm.wealth_distribution(ss, model=model)
    assert table["gini"].between(0, 1).all()


def _mit_table(n=300, rho=0.6):
    t = np.arange(n)
    rows = [pd.DataFrame(dict(kind="mit", variable=v, unit=u, t=t, baseline=0.0, shocked=0.0,
                              response=scale * rho ** t))
            for v, u, scale in (("Y", "percent", 0.5), ("pi", "bp", -3.0), ("r", "bp", 10.0))]
    return pd.concat(rows, ignore_index=True)


def test_response_horizon_stops_where_the_responses_die_out():
    table = _mit_table(rho=0.6)
    # 0.6^t < 1% after t = 9: the last date above is 9, plotted through 10; at least 12
    assert response_horizon(table) == 12
    slow = _mit_table(rho=0.95)  # 0.95^t < 1% after t = 89: capped at 60
    assert response_horizon(slow) == 60
    assert response_horizon(_mit_table(n=20, rho=0.95)) == 20  # no more than the table has
    mid = _mit_table(rho=0.8)  # 0.8^t >= 1% through t = 20
    assert response_horizon(mid) == 22


def test_impulse_figure_shows_the_horizon_and_names_the_shock():
    table = _mit_table()
    title = "OneAssetHANK: responses to rstar = -0.0025 x 0.61^t"
    fig = hm.impulse_figure(table, variables=("Y", "pi", "r"), horizon=12, title=title)
    assert fig._suptitle.get_text() == title
    assert len(fig.axes) == 3
    for ax in fig.axes:
        assert ax.get_xlim()[1] < 12  # the first 12 quarters, not 300
        assert ax.get_ylabel() in ("% deviation", "basis points")
    with pytest.raises(ValueError, match="horizon must be at least 2"):
        hm.impulse_figure(table, horizon=1)
    five = hm.impulse_figure(pd.concat([table, table.assign(variable="C"),
                                        table.assign(variable="w")]))
    assert len(five.axes) == 5  # a grid of 3 columns: 2 rows, the empty panel removed
    width, height = five.get_size_inches()
    assert width < 11 and height < 7


def test_impulse_comparison_figure_units_headline_and_size():
    rows = []
    for shock in ("rstar", "Z"):
        for v, u in (("Y", "percent"), ("C", "percent"), ("pi", "bp"), ("r", "bp"),
                     ("w", "percent"), ("Div", "percent"), ("Tax", "percent"),
                     ("L", "percent"), ("N", "percent"), ("i", "bp"), (shock, "bp")):
            rows.append(pd.DataFrame(dict(shock=shock, date=np.arange(40), variable=v, unit=u,
                                          learned=1.0, perfect_foresight=1.0,
                                          gap_share_of_peak=0.0)))
    fig = impulse_comparison_figure(pd.concat(rows, ignore_index=True), size=0.01)
    assert len(fig.axes) == 2 * 5  # the headline aggregates only, one row per shock
    assert [ax.get_title().split(" (")[0] for ax in fig.axes[:5]] == [
        "output Y", "consumption C", "inflation pi", "interest rate r", "wage w"]
    assert {ax.get_ylabel() for ax in fig.axes} == {"% deviation", "basis points"}
    assert "0.01" in fig._suptitle.get_text() and "rstar, Z" in fig._suptitle.get_text()
    width, height = fig.get_size_inches()
    assert width * 120 < 2000 and height * 120 < 800

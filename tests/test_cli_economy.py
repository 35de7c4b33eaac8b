"""``hank-mfg steady-state`` and ``solve`` for economies (Huggett, the one-asset HANK): tables,
summaries and MIT responses taken from the model."""

import csv
import json
import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hank_mfg.cli import app

runner = CliRunner()
HANK = "models/hank.py"
HUGGETT = "models/huggett.py"
HANK_SMALL = ["--set", "n_wealth=40", "--set", "n_income=3", "--set", "wealth_max=60"]
COLUMNS = ["wealth", "income_state", "income", "mass", "consumption", "savings"]


def _err(result):
    return getattr(result, "stderr", "") or result.output


@pytest.fixture(scope="module")
def hank_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("hank")
    result = runner.invoke(app, ["steady-state", HANK, *HANK_SMALL, "--no-progress",
                                 "--out", str(out)])
    assert result.exit_code == 0, _err(result)
    return result, out


@pytest.fixture(scope="module")
def huggett_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("huggett")
    result = runner.invoke(app, ["steady-state", HUGGETT, "--set", "n_wealth=40", "--no-progress",
                                 "--shock", "z=0.01", "--rho", "0.9", "--T", "60",
                                 "--out", str(out)])
    assert result.exit_code == 0, _err(result)
    return result, out


def _rows(path):
    with open(path) as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def test_hank_steady_state_prints_and_writes(hank_run):
    result, out = hank_run
    assert "solved unknowns: beta = 0.98" in result.output and ", vphi = " in result.output
    assert "largest residual: " in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["unknowns"]) == ["beta", "vphi"]
    assert {"Y", "Z", "r", "w", "pi", "i", "Div", "Tax", "A", "C", "N", "L"} <= set(
        summary["aggregates"])
    assert set(summary["residuals"]) == {"asset_mkt", "labor_mkt", "goods_mkt", "nkpc_res"}
    assert max(abs(v) for v in summary["residuals"].values()) < 1e-8
    assert summary["max_residual"] == max(abs(v) for v in summary["residuals"].values())
    np.testing.assert_allclose(summary["aggregates"]["w"], 1 / 1.2, rtol=1e-12)
    assert 0 < summary["gini"] < 1 and summary["euler_mean_log10"] < -4
    # hm.steady_state_table: every unknown, aggregate and residual
    table = pd.read_csv(out / "steady_state.csv")
    assert set(table[table["kind"] == "unknown"]["name"]) == {"beta", "vphi"}
    res = table[table["kind"] == "residual"].set_index("name")["value"]
    assert (res.abs() < 1e-8).all()
    # the distribution with the report tables' vocabulary, plus hours (a labour choice)
    names, rows = _rows(out / "distribution.csv")
    assert names == [*COLUMNS, "hours"] and len(rows) == 40 * 3
    assert [r["income_state"] for r in rows[:4]] == ["0", "1", "2", "0"]
    assert sum(float(r["mass"]) for r in rows) == pytest.approx(1.0, abs=1e-12)
    assert all(float(r["savings"]) >= 0.0 and float(r["hours"]) > 0 for r in rows)
    N = sum(float(r["mass"]) * float(r["income"]) * float(r["hours"]) for r in rows)
    np.testing.assert_allclose(N, summary["aggregates"]["N"], rtol=1e-12)
    assert not (out / "impulse_responses.csv").exists() and "responses" not in summary


def test_huggett_steady_state_and_mit_responses(huggett_run):
    result, out = huggett_run
    assert "solved unknowns: r = 0.03" in result.output
    # zero net supply, households in debt: shares of total wealth are undefined, and it says why
    assert re.search(r"Gini and top shares undefined: [\d.]+% of households hold negative "
                     r"wealth\)", result.output), result.output
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["unknowns"]) == ["r"] and summary["gini"] is None
    assert abs(summary["residuals"]["asset_mkt"]) < 1e-9
    names, rows = _rows(out / "distribution.csv")
    assert names == COLUMNS and len(rows) == 40 * 3  # no labour choice: no hours
    assert sum(float(r["mass"]) for r in rows) == pytest.approx(1.0, abs=1e-12)
    assert float(rows[0]["wealth"]) == -1.0
    # the responses: the model's headline variables, rates in bp, quantities in percent
    line = next(s for s in result.output.splitlines() if s.startswith("impact responses:"))
    assert [w for w in line.split() if w in ("C", "r", "Y", "z")] == ["C", "r"]
    irf = pd.read_csv(out / "impulse_responses.csv")
    assert set(irf["kind"]) == {"mit"} and irf["t"].max() == 59
    units = irf.drop_duplicates("variable").set_index("variable")["unit"]
    assert units["r"] == "bp" and units["r_paid"] == "bp"
    assert units["C"] == "percent" and units["Y"] == "percent"
    assert units["z"] == "pp"  # zero in the steady state: percentage points of its level
    at0 = irf[irf["t"] == 0].set_index("variable")
    np.testing.assert_allclose(at0.loc["z", "response"], 1.0, rtol=1e-12)  # 0.01 in pp
    np.testing.assert_allclose(at0.loc["Y", "response"], 100 * np.expm1(0.01), rtol=1e-12)
    c, r = at0.loc["C"], at0.loc["r"]
    np.testing.assert_allclose(c["response"], 100 * (c["shocked"] / c["baseline"] - 1), rtol=1e-12)
    np.testing.assert_allclose(r["response"], 1e4 * (r["shocked"] - r["baseline"]), rtol=1e-12)
    assert c["response"] > 0 and r["response"] < 0  # richer households save: the rate falls
    t5 = irf[(irf["t"] == 5) & (irf["variable"] == "z")]["shocked"].iloc[0]
    np.testing.assert_allclose(t5, 0.01 * 0.9 ** 5, rtol=1e-12)
    resp = summary["responses"]
    assert resp["shocks"] == {"z": 0.01} and resp["rho"] == {"z": 0.9} and resp["T"] == 60
    assert resp["max_residual"] < 1e-9 and resp["impact"]["r"]["unit"] == "bp"
    np.testing.assert_allclose(resp["impact"]["C"]["response"], c["response"])
    assert (out / "impulse_responses.png").stat().st_size > 10_000
    assert 12 <= resp["plot_horizon"] <= 60
    assert pd.read_parquet(out / "impulse_responses.parquet").shape == irf.shape


@pytest.mark.parametrize("args, match", [
    (["--shock", "z=0.01"], "'z' is not an exogenous aggregate of OneAssetHANK.*rstar, Z"),
    (["--shock", "rstar"], "NAME=SIZE"),
    (["--shock", "rstar=-0.0025", "--rho", "1.2"], r"--rho must lie in \(-1, 1\)"),
    (["--shock", "rstar=-0.0025", "--T", "2"], "--T must be at least 3"),
    (["--rho", "0.5"], "give --shock"),
    (["--plot-horizon", "20"], "give --shock"),
    (["--shock", "rstar=-0.0025", "--T", "30", "--plot-horizon", "40"],
     r"--plot-horizon must lie in \[2, --T = 30\]; got 40"),
])
def test_shock_options_fail_before_solving(args, match):
    import re

    result = runner.invoke(app, ["steady-state", HANK, *HANK_SMALL, "--no-progress", *args])
    assert result.exit_code == 1
    err = _err(result).strip()
    assert len(err.splitlines()) == 1 and re.search(match, err), err


@pytest.mark.slow  # a 300-quarter HANK transition from the command line: 30 s cold
def test_hank_shock_figure_shows_the_quarters_where_the_responses_live(tmp_path):
    import struct

    result = runner.invoke(app, ["steady-state", HANK, *HANK_SMALL, "--no-progress", "--shock",
                                 "rstar=-0.0025", "--out", str(tmp_path)])
    assert result.exit_code == 0, _err(result)
    summary = json.loads((tmp_path / "summary.json").read_text())
    # 300 quarters solved and tabulated; the figure stops where the responses have died out
    assert summary["responses"]["T"] == 300
    assert 12 <= summary["responses"]["plot_horizon"] <= 60
    assert pd.read_csv(tmp_path / "impulse_responses.csv")["t"].max() == 299
    with open(tmp_path / "impulse_responses.png", "rb") as f:
        width, height = struct.unpack(">II", f.read(24)[16:24])
    assert width <= 1400 and height <= 800  # a grid of panels, not one row of them


def test_capital_economy_shock_name_is_z():
    result = runner.invoke(app, ["steady-state", "models/krusell_smith.py", "--set", "n_wealth=12",
                                 "--set", "n_income=3", "--shock", "rstar=0.01"])
    assert result.exit_code == 1 and "shocks may hit z" in _err(result)


def test_solve_refuses_discrete_choices_for_an_economy(tmp_path):
    # economies are solved with continuous choices only: refused before anything is written
    result = runner.invoke(app, ["solve", HANK, "--choice", "discrete",
                                 "--out", str(tmp_path / "run")])
    assert result.exit_code == 1
    err = _err(result).strip()
    assert len(err.splitlines()) == 1
    assert "OneAssetHANK is an economy" in err and "continuous savings choices only" in err
    assert not (tmp_path / "run").exists()

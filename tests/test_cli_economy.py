"""``hank-mfg steady-state`` and ``solve`` for economies (Huggett, the one-asset HANK): tables,
summaries and MIT responses taken from the model."""

import csv
import json

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
                                 "--shock", "rstar=-0.0025", "--rho", "0.61", "--T", "60",
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


def test_hank_mit_responses_in_the_models_units(hank_run):
    result, out = hank_run
    line = next(s for s in result.output.splitlines() if s.startswith("impact responses:"))
    assert [w for w in line.split() if w in ("Y", "C", "pi", "r", "w")] == ["Y", "C", "pi", "r", "w"]
    irf = pd.read_csv(out / "impulse_responses.csv")
    assert set(irf["kind"]) == {"mit"} and irf["t"].max() == 59
    units = irf.drop_duplicates("variable").set_index("variable")["unit"]
    assert (units[["r", "i", "pi", "rstar"]] == "bp").all()
    assert (units[["Y", "C", "w", "L", "Div"]] == "percent").all()
    at0 = irf[irf["t"] == 0].set_index("variable")
    np.testing.assert_allclose(at0.loc["rstar", "response"], -25.0, rtol=1e-12)  # -0.0025 in bp
    y = at0.loc["Y"]
    np.testing.assert_allclose(y["response"], 100 * (y["shocked"] / y["baseline"] - 1), rtol=1e-12)
    r = at0.loc["r"]
    np.testing.assert_allclose(r["response"], 1e4 * (r["shocked"] - r["baseline"]), rtol=1e-12)
    assert y["response"] > 0 and r["response"] < 0  # a rate cut: output up, real rate down
    summary = json.loads((out / "summary.json").read_text())
    resp = summary["responses"]
    assert resp["shocks"] == {"rstar": -0.0025} and resp["rho"] == {"rstar": 0.61}
    assert resp["T"] == 60 and resp["max_residual"] < 1e-10
    assert resp["impact"]["pi"]["unit"] == "bp"
    np.testing.assert_allclose(resp["impact"]["C"]["response"], at0.loc["C", "response"])
    assert (out / "impulse_responses.png").stat().st_size > 10_000
    assert pd.read_parquet(out / "impulse_responses.parquet").shape == irf.shape


def test_huggett_steady_state(tmp_path):
    result = runner.invoke(app, ["steady-state", HUGGETT, "--set", "n_wealth=40",
                                 "--no-progress", "--out", str(tmp_path)])
    assert result.exit_code == 0, _err(result)
    assert "solved unknowns: r = 0.03" in result.output
    assert "Gini and top shares undefined" in result.output  # zero net supply: mean wealth 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert list(summary["unknowns"]) == ["r"] and summary["gini"] is None
    assert abs(summary["residuals"]["asset_mkt"]) < 1e-9
    names, rows = _rows(tmp_path / "distribution.csv")
    assert names == COLUMNS and len(rows) == 40 * 3
    assert sum(float(r["mass"]) for r in rows) == pytest.approx(1.0, abs=1e-12)
    assert float(rows[0]["wealth"]) == -1.0
    assert not (tmp_path / "impulse_responses.csv").exists()


@pytest.mark.parametrize("args, match", [
    (["--shock", "z=0.01"], "'z' is not an exogenous aggregate of OneAssetHANK.*rstar, Z"),
    (["--shock", "rstar"], "NAME=SIZE"),
    (["--shock", "rstar=-0.0025", "--rho", "1.2"], r"--rho must lie in \(-1, 1\)"),
    (["--shock", "rstar=-0.0025", "--T", "2"], "--T must be at least 3"),
    (["--rho", "0.5"], "give --shock"),
])
def test_shock_options_fail_before_solving(args, match):
    import re

    result = runner.invoke(app, ["steady-state", HANK, *HANK_SMALL, "--no-progress", *args])
    assert result.exit_code == 1
    err = _err(result).strip()
    assert len(err.splitlines()) == 1 and re.search(match, err), err


def test_capital_economy_shock_name_is_z():
    result = runner.invoke(app, ["steady-state", "models/krusell_smith.py", "--set", "n_wealth=12",
                                 "--set", "n_income=3", "--shock", "rstar=0.01"])
    assert result.exit_code == 1 and "shocks may hit z" in _err(result)


def test_solve_refuses_an_economy(tmp_path):
    result = runner.invoke(app, ["solve", HANK, "--out", str(tmp_path / "run")])
    assert result.exit_code == 1
    err = _err(result).strip()
    assert len(err.splitlines()) == 1
    assert "capital economies only; OneAssetHANK is an economy" in err
    assert not (tmp_path / "run").exists()

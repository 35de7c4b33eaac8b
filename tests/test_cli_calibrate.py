"""``hank-mfg steady-state`` and ``hank-mfg calibrate`` (typer CliRunner), and target files."""

import csv
import json
import textwrap

import numpy as np
import pytest
from typer.testing import CliRunner

import hank_mfg as hm
from hank_mfg.cli import app

runner = CliRunner()
KS = "models/krusell_smith.py"
SMALL = ["--set", "n_wealth=60", "--set", "n_income=3"]
SSJ = ["--set", "alpha=0.11", "--set", "tfp=0.8816460975"]


def _err(result):
    return getattr(result, "stderr", "") or result.output


def _targets(tmp_path, text, name="t.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


TARGETS = """
    [meta]
    name = "test"
    [model]
    alpha = 0.11
    tfp = 0.8816460975
    [free]
    beta = [0.96, 0.995]
    [targets.r]
    value = 0.01
    source = "test"
    approximate = true
    [untargeted]
    gini = 0.8
"""


def test_help_has_examples():
    for cmd in ("steady-state", "calibrate"):
        result = runner.invoke(app, [cmd, "--help"])
        assert result.exit_code == 0
        assert "Example" in result.output and f"hank-mfg {cmd} models/" in result.output


def test_calibrate_help_keeps_bracketed_words():
    result = runner.invoke(app, ["calibrate", "--help"])
    assert result.exit_code == 0
    assert ("The target file (TOML) lists [targets] and [untargeted] moments with sources, [free]"
            in " ".join(result.output.split()))
    assert "--set wins over [model]" in " ".join(result.output.split())


def test_steady_state_prints_and_writes(tmp_path):
    out = tmp_path / "ss"
    result = runner.invoke(app, ["steady-state", KS, *SMALL, *SSJ, "--set", "beta=0.98",
                                 "--no-progress", "--out", str(out)])
    assert result.exit_code == 0, _err(result)
    for word in ("r = ", "w = ", "K = ", "Y = ", "C = ", "K/Y = ", "Euler errors"):
        assert word in result.output
    summary = json.loads((out / "summary.json").read_text())
    np.testing.assert_allclose(summary["K_Y"], 0.11 / (summary["r"] + 0.025), rtol=1e-6)
    assert summary["euler_mean_log10"] < -4
    with open(out / "summary.csv") as f:
        assert float(next(csv.DictReader(f))["r"]) == pytest.approx(summary["r"])
    with open(out / "distribution.csv") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    # the vocabulary of the report tables
    assert reader.fieldnames == ["wealth", "income_state", "income", "mass", "consumption",
                                 "savings"]
    assert len(rows) == 60 * 3
    assert [r["income_state"] for r in rows[:4]] == ["0", "1", "2", "0"]
    assert sum(float(r["mass"]) for r in rows) == pytest.approx(1.0)
    for r in rows:
        assert float(r["savings"]) >= float(rows[0]["wealth"])


def test_steady_state_bad_input():
    result = runner.invoke(app, ["steady-state", KS, "--set", "gamma=2"])
    assert result.exit_code == 1 and "gamma" in _err(result)
    result = runner.invoke(app, ["steady-state", "models/missing.py"])
    assert result.exit_code == 1 and "not found" in _err(result)


def test_calibrate_writes_params_and_fit(tmp_path):
    out = tmp_path / "cal"
    path = _targets(tmp_path, TARGETS)
    result = runner.invoke(app, ["calibrate", KS, path, *SMALL, "--no-progress", "--out", str(out)])
    assert result.exit_code == 0, _err(result)
    assert "calibrated beta = 0.98" in result.output and "(untargeted)" in result.output
    params = json.loads((out / "params.json").read_text())
    assert params["diagnostics"]["success"]
    beta = params["params"]["beta"]
    # the same calibration through the Python API
    from models.krusell_smith import KrusellSmith

    cal = hm.calibrate(KrusellSmith(n_wealth=60, n_income=3, alpha=0.11, tfp=0.8816460975),
                       targets={"r": 0.01}, free={"beta": (0.96, 0.995)})
    np.testing.assert_allclose(beta, cal.params["beta"], rtol=1e-10)
    with open(out / "fit.csv") as f:
        rows = {r["target"]: r for r in csv.DictReader(f)}
    assert rows["r"]["targeted"] == "True" and rows["gini"]["targeted"] == "False"
    assert rows["r"]["source"] == "test" and rows["r"]["approximate"] == "True"


def test_calibrate_with_progress_bar(tmp_path):
    path = _targets(tmp_path, TARGETS)
    result = runner.invoke(app, ["calibrate", KS, path, *SMALL, "--out", str(tmp_path / "c")])
    assert result.exit_code == 0, _err(result)


@pytest.mark.parametrize(
    "text, match",
    [
        ("[free]\nbeta = [0.96, 0.995]\n[targets]\ngdp = 1.0\n", "unknown moment 'gdp'.*K/Y"),
        ("[free]\nbeta = [0.99, 0.96]\n[targets]\nr = 0.01\n", "beta.*inverted"),
        ("[free]\nbeta = [0.9, 0.93]\n[targets]\nr = 0.01\n", "no solution.*beta"),
        ("[free]\nzeta = [0.9, 0.93]\n[targets]\nr = 0.01\n", "zeta.*not a field"),
        ("[free]\nbeta = 0.9\n[targets]\nr = 0.01\n", r"beta.*\[lo, hi\]"),
        ("[targets]\nr = 0.01\n", r"needs a \[free\]"),
        ("[free\n", "not valid TOML"),
    ],
)
def test_calibrate_bad_input(tmp_path, text, match):
    path = _targets(tmp_path, text)
    result = runner.invoke(app, ["calibrate", KS, path, *SMALL, "--no-progress",
                                 "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    err = _err(result)
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    import re

    assert re.search(match, err), err


def test_least_squares_outside_its_bounds_reports_the_residual_and_writes_nothing(tmp_path):
    # beta at most 0.93 keeps r far above 1%: no point in the box meets both targets
    path = _targets(tmp_path, """
        [model]
        alpha = 0.11
        tfp = 0.8816460975
        [free]
        beta = [0.9, 0.93]
        delta = [0.02, 0.03]
        [targets]
        r = 0.01
        "K/Y" = 3.0
    """)
    out = tmp_path / "cal"
    result = runner.invoke(app, ["calibrate", KS, path, *SMALL, "--maxiter", "4",
                                 "--no-progress", "--out", str(out)])
    assert result.exit_code == 1
    err = _err(result).strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("error: calibration failed: largest scaled residual ")
    assert "(residuals: " in err and err.endswith(f"nothing written to {out}")
    assert "calibrated" not in result.output.replace("calibration failed", "")
    assert not out.exists()


def test_calibrate_missing_target_file(tmp_path):
    result = runner.invoke(app, ["calibrate", KS, str(tmp_path / "nope.toml"), "--out",
                                 str(tmp_path / "o")])
    assert result.exit_code == 1 and "target file not found" in _err(result)


def test_load_shipped_targets():
    spec = hm.load_targets("calibration/targets/us_ks.toml")
    assert set(spec.targets) == {"r", "K/Y"} and set(spec.free) == {"beta", "delta"}
    assert {"gini", "top10"} <= set(spec.untargeted)
    assert all(spec.sources[k]["source"] for k in [*spec.targets, *spec.untargeted])
    from models.krusell_smith import KrusellSmith

    m = spec.apply(KrusellSmith())
    assert float(m.alpha) == 0.36 and m.n_wealth == 500

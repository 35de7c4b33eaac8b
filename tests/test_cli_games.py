"""``hank-mfg solve`` on a finite-state game, with a structural method and a model-free one."""

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from hank_mfg.cli import app

runner = CliRunner()
SMALL_BAR = ["--set", "n_states=31", "--horizon", "8", "--n-paths", "4", "--hidden", "8",
             "--eval-every", "2", "--iterations", "4", "--no-progress"]
RUN_FILES = {"state.json", "checkpoint.eqx", "summary.json", "history.csv", "history.parquet",
             "config.json"}


def _err(result):
    return getattr(result, "stderr", "") or result.output


def _solve(out, method, *extra):
    return runner.invoke(app, ["solve", "models/beach_bar.py", "--method", method, *SMALL_BAR,
                               "--out", str(out), *extra])


@pytest.mark.slow
def test_rippo_on_the_beach_bar_writes_the_run_files_and_its_report(tmp_path):
    out = tmp_path / "rippo"
    first = _solve(out, "rippo")
    assert first.exit_code == 0, _err(first)
    assert RUN_FILES <= {p.name for p in out.iterdir()}
    history = pd.read_csv(out / "history.csv")
    assert list(history["iteration"]) == [0, 2, 4]
    assert (history["exploitability"] >= -1e-9).all()
    config = json.loads((out / "config.json").read_text())
    assert config["method"] == "rippo" and config["model_class"] == "BeachBar"
    summary = json.loads((out / "summary.json").read_text())
    assert "exploitability_fell" in summary["quality"]["checks"]
    rep = runner.invoke(app, ["report", str(out), "--out", str(tmp_path / "rep"), "--n-paths", "2"])
    assert rep.exit_code == 0, _err(rep)
    aggregates = pd.read_csv(tmp_path / "rep" / "aggregates.csv")
    mean_field = pd.read_csv(tmp_path / "rep" / "mean_field.csv")
    sums = mean_field.groupby(["path", "date"])["mass"].sum()
    assert len(sums) == 2 * 8 and (sums - 1).abs().max() < 1e-5
    on_bar = mean_field.merge(aggregates, on=["path", "date"])
    assert on_bar.loc[on_bar.state == on_bar.obs_2, "mass"].abs().max() == 0.0  # nobody on the bar
    assert aggregates["obs_2"].between(7, 23).all()  # the bar's position
    assert {"mean_field.png", "solution_quality.png"} <= {p.name for p in (tmp_path / "rep").iterdir()}


@pytest.mark.slow
@pytest.mark.parametrize("method", ["spg", "m-omd"])
def test_a_game_run_resumes_and_extends(tmp_path, method):
    out = tmp_path / method
    assert _solve(out, method).exit_code == 0
    more = _solve(out, method, "--iterations", "6", "--resume")
    assert more.exit_code == 0, _err(more)
    assert list(pd.read_csv(out / "history.csv")["iteration"]) == [0, 2, 4, 6]


@pytest.mark.parametrize("args,reason", [
    (["models/huggett.py", "--method", "ippo"], "--method ippo learns discrete choices from sampled agents"),
    (["models/beach_bar.py", "--method", "ippo", "--head", "beta"], "--head sets RSPG/SPG's policy"),
    (["models/beach_bar.py", "--choice", "continuous"], "a finite-state game has discrete actions"),
    (["models/beach_bar.py", "--method", "dqn"], "--method must be one of"),
])
def test_bad_game_options_fail_with_one_line(tmp_path, args, reason):
    result = runner.invoke(app, ["solve", *args, "--out", str(tmp_path / "x"), "--no-progress"])
    assert result.exit_code == 1
    err = _err(result).strip()
    assert reason in err and len(err.splitlines()) == 1

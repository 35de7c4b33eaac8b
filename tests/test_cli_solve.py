"""``hank-mfg solve``: refusing to overwrite, resume and extension, Ctrl-C, summary.json."""

import json
import shlex

import pytest
from typer.testing import CliRunner

import hank_mfg.solvers.rspg as rspg
from hank_mfg.cli import app

runner = CliRunner()
TINY = ["models/rspg_macro.py", "--set", "n_wealth=12", "--set", "n_income=3", "--set",
        "n_actions=6", "--horizon", "8", "--eval-every", "2", "--n-paths", "2", "--hidden", "8",
        "--no-progress"]
CHECKS = ["monotone_consumption", "euler_mean_log10", "euler_max_log10",
          "relative_exploitability"]


def _err(result):
    return getattr(result, "stderr", "") or result.output


def _strict_json(path):
    """Parse as JSON proper: NaN / Infinity are not JSON."""
    def refuse(name):
        raise ValueError(f"{path} holds {name}")
    with open(path) as f:
        return json.load(f, parse_constant=refuse)


def _solve(out, *extra):
    return runner.invoke(app, ["solve", *TINY, "--out", str(out), *extra])


def test_resume_without_a_checkpoint_fails_and_writes_nothing(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    result = _solve(out, "--iterations", "2", "--resume")
    assert result.exit_code == 1
    assert _err(result).strip() == (f"error: --resume: no checkpoint in {out} (state.json "
                                    "missing); drop --resume to start a new run there")
    assert list(out.iterdir()) == []


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_solve_refuse_resume_extend_and_report_quality(tmp_path):
    out = tmp_path / "run"
    first = _solve(out, "--iterations", "2")
    assert first.exit_code == 0, _err(first)
    state = _strict_json(out / "state.json")
    assert state["history"][0]["iteration"] == 0 and state["history"][0]["loss"] is None
    summary = _strict_json(out / "summary.json")
    t_compile = summary["first_eval_seconds_incl_compile"]
    assert t_compile > 0 and summary["resumed_from_iteration"] == 0
    quality = summary["quality"]
    assert list(quality["checks"]) == CHECKS
    assert set(quality["checks"]["euler_max_log10"]) == {"value", "threshold", "passed", "message"}
    failed = [c["message"] for c in quality["checks"].values() if not c["passed"]]
    assert quality["passed"] == (not failed) and quality["warnings"] == failed
    warnings = [line for line in _err(first).splitlines() if line.startswith("warning: ")]
    longer = "train longer: rerun with a larger --iterations and --resume (command below)"
    remedy = dict(
        relative_exploitability=f"{longer}, or start over with --preset fast (the paper's "
        "network at 24 wealth knots per income state: lower exploitability in less time)")
    for check in ("monotone_consumption", "euler_mean_log10", "euler_max_log10"):
        remedy[check] = (f"{longer}; if it persists, solve with --choice continuous (savings on "
                         "a continuum instead of the grid of actions)")
    assert warnings == [f"warning: solution not converged or of poor quality: {c['message']}; "
                        f"remedy: {remedy[name]}"
                        for name, c in quality["checks"].items() if not c["passed"]]
    if failed:  # the command that trains longer, from the checkpoint
        lines = _err(first).splitlines()
        at = lines.index("to continue this run to 4 iterations from its checkpoint:")
        command = shlex.split(lines[at + 1])
        assert command[:3] == ["hank-mfg", "solve", "models/rspg_macro.py"]
        assert command[command.index("--iterations") + 1] == "4" and command[-1] == "--resume"
    else:
        assert "quality: all checks passed" in first.output

    # an existing run is not replaced silently
    before = (out / "summary.json").read_text()
    again = _solve(out, "--iterations", "2")
    assert again.exit_code == 1
    assert _err(again).strip() == (
        f"error: {out} already holds a run (state.json, checkpoint.eqx, summary.json, "
        "history.csv, config.json); continue it with --resume or replace it with --overwrite")
    assert (out / "summary.json").read_text() == before

    # a different network width: one line naming only the differing key
    other = _solve(out, "--iterations", "4", "--resume", "--hidden", "16")
    assert other.exit_code == 1
    err = _err(other).strip()
    assert err == (f"error: solve: checkpoint in {out} was written for a different run: "
                   "config.hidden 8 -> 16")
    assert "Traceback" not in other.output

    # raising --iterations extends the finished run
    more = _solve(out, "--iterations", "4", "--resume")
    assert more.exit_code == 0, _err(more)
    state = _strict_json(out / "state.json")
    assert [r["iteration"] for r in state["history"]] == [0, 2, 4]
    assert state["lr_schedule_iterations"] == 2 and state["config"]["iterations"] == 4
    summary = _strict_json(out / "summary.json")
    assert summary["iterations"] == 4 and summary["resumed_from_iteration"] == 2
    assert summary["first_eval_seconds_incl_compile"] == t_compile
    history = (out / "history.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in history] == ["iteration", "0", "2", "4"]

    # lowering it is refused
    fewer = _solve(out, "--iterations", "2", "--resume")
    assert fewer.exit_code == 1
    assert _err(fewer).strip() == (f"error: solve: checkpoint in {out} is at iteration 4; "
                                   "iterations must be at least that to resume; got 2")


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_ctrl_c_says_where_the_checkpoint_is_and_how_to_resume(tmp_path, monkeypatch):
    out = tmp_path / "run"
    out.mkdir()
    (out / "summary.json").write_text("{}")  # an old run: replaced with --overwrite
    real = rspg.solve

    def interrupted(*args, **kw):
        def ctrl_c(row):
            if row["iteration"] == 4:
                raise KeyboardInterrupt
        return real(*args, callback=ctrl_c, **kw)

    monkeypatch.setattr(rspg, "solve", interrupted)
    given = ["--iterations", "6", "--overwrite"]
    result = _solve(out, *given)
    assert result.exit_code == 130
    head, line = _err(result).strip().splitlines()
    assert head == (f"interrupted: checkpoint at iteration 2 kept in {out / 'checkpoint.eqx'}; "
                    "resume with:")
    assert line.startswith("  hank-mfg solve ")
    command = shlex.split(line)
    assert command[:3] == ["hank-mfg", "solve", "models/rspg_macro.py"]
    assert command[-3:] == ["--out", str(out), "--resume"]

    def options(args):  # {flag: [values]} of the options that take a value
        found = {}
        for flag, value in zip(args, [*args[1:], None]):
            if flag.startswith("--") and value is not None and not value.startswith("--"):
                found.setdefault(flag, []).append(value)
        return found

    # every option of the interrupted command is repeated with its value (the line also spells
    # out the defaults it resolved, whichever they are)
    resolved = options(command)
    assert {k: resolved.get(k) for k in options([*TINY, *given])} == options([*TINY, *given])
    assert not (out / "summary.json").exists()
    checkpointed = _strict_json(out / "state.json")
    monkeypatch.setattr(rspg, "solve", real)
    # the line rebuilds the same run: a checkpoint of any other method, configuration or model
    # is refused, and the configuration written at the end is the checkpoint's
    resumed = runner.invoke(app, command[1:] + ["--no-progress"])
    assert resumed.exit_code == 0, _err(resumed)
    config = _strict_json(out / "config.json")
    assert config["config"] == checkpointed["config"] and config["method"] == "rspg"
    state = _strict_json(out / "state.json")
    assert [r["iteration"] for r in state["history"]] == [0, 2, 4, 6]
    summary = _strict_json(out / "summary.json")
    assert summary["resumed_from_iteration"] == 2
    assert summary["first_eval_seconds_incl_compile"] > 0


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_resume_from_a_corrupted_checkpoint_says_so_in_one_line(tmp_path):
    import shutil

    run = tmp_path / "run"
    first = _solve(run, "--iterations", "2")
    assert first.exit_code == 0, _err(first)
    ckpt = (run / "checkpoint.eqx").read_bytes()

    def truncated(d):
        (d / "checkpoint.eqx").write_bytes(ckpt[: len(ckpt) // 2])

    def garbled(d):
        (d / "checkpoint.eqx").write_bytes(bytes(range(256)) * 4)

    def emptied(d):
        (d / "checkpoint.eqx").write_bytes(b"")

    def bad_state(d):
        (d / "state.json").write_text('{"iteration": 2, "histo')

    def not_a_state(d):
        (d / "state.json").write_text("[1, 2, 3]")

    for damage, file, why in [(truncated, "checkpoint.eqx", "is unreadable (truncated or "),
                              (garbled, "checkpoint.eqx", "is unreadable (truncated or "),
                              (emptied, "checkpoint.eqx", "is missing or empty"),
                              (bad_state, "state.json", "is unreadable (JSONDecodeError"),
                              (not_a_state, "state.json", "is unreadable (it is valid JSON")]:
        out = tmp_path / damage.__name__
        shutil.copytree(run, out)
        damage(out)
        result = _solve(out, "--iterations", "4", "--resume")
        assert result.exit_code == 1, damage.__name__
        err = _err(result).strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in result.output, err
        assert err.startswith(f"error: --resume: {out / file} {why}"), err
        assert err.endswith(f"so the run in {out} cannot continue; start it over with "
                            "--overwrite (replaces the run there)"), err
    # starting over works
    again = _solve(tmp_path / "truncated", "--iterations", "2", "--overwrite")
    assert again.exit_code == 0, _err(again)


def test_resume_and_overwrite_exclude_each_other(tmp_path):
    result = _solve(tmp_path, "--iterations", "2", "--resume", "--overwrite")
    assert result.exit_code == 1
    assert "--resume and --overwrite exclude each other" in _err(result)


@pytest.mark.parametrize("flag", ["--resume", "--overwrite"])
def test_help_lists_the_run_flags(flag):
    result = runner.invoke(app, ["solve", "--help"])
    assert result.exit_code == 0 and flag in result.output


@pytest.mark.slow
def test_fast_preset_writes_the_knot_configuration_and_wall_clock(tmp_path):
    out = tmp_path / "fast"
    result = _solve(out, "--preset", "fast", "--iterations", "2", "--n-knots", "4")
    assert result.exit_code == 0, _err(result)
    config = _strict_json(out / "config.json")
    assert config["preset"] == "fast"
    assert config["config"]["table_head"] == "knots" and config["config"]["n_knots"] == 4
    assert config["config"]["head_scale"] == 1.0 and config["config"]["lr"] == 0.03
    import pandas as pd

    history = pd.read_csv(out / "history.csv")
    # the wall clock counts the command's start (imports, model, compilation): always ahead
    assert (history.wall_seconds > history.seconds).all()
    refused = _solve(tmp_path / "c", "--preset", "fast", "--choice", "continuous")
    assert refused.exit_code == 1 and "--preset fast is a preset of discrete choices" in _err(refused)

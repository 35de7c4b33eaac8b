"""``hank-mfg solve --choice continuous`` and ``hank-mfg report`` of a continuous run.

Tiny Krusell–Smith (30 x 3 states) and Huggett (40 x 3) economies, a dozen iterations on a
horizon of 30. Checked against the mathematics: the EGM rows of the policy table are
``hm.steady_state``'s policies, the learned rows satisfy the budget at the steady-state prices,
the perfect-foresight column is ``hm.transition_path``'s deviations, responses that the timing
pins down (impact output, wage and rate of Krusell–Smith; Huggett's consumption, which equals
the endowment ``e^z`` when the bond market clears) coincide in the learned economy, and the
quality verdicts are the history's last evaluation against the stated thresholds.
"""

import json
import shlex

import jax
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import hank_mfg as hm
import hank_mfg.solvers.rspg as rspg
from hank_mfg.cli import app
from hank_mfg.reports.export import read_table
from models.huggett import Huggett
from models.krusell_smith import KrusellSmith

jax.config.update("jax_enable_x64", True)

runner = CliRunner()
KS_FIELDS = dict(n_wealth=30, n_income=3, wealth_max=60.0, alpha=0.11, tfp=0.8816460975,
                 beta=0.9819527881, sigma_z=0.02)
KS_SET = [x for k, v in KS_FIELDS.items() for x in ("--set", f"{k}={v}")]
HUGGETT_SET = ["--set", "n_wealth=40"]
TRAIN = ["--iterations", "12", "--eval-every", "6", "--horizon", "30", "--n-paths", "2",
         "--hidden", "8", "--n-knots", "8", "--lr", "0.003", "--no-progress"]
T_PF = 120  # dates of the perfect-foresight transitions: the report's and this module's
REPORT = ["--n-paths", "2", "--ergodic-T", "100", "--shock", "0.01", "--transition-T", str(T_PF)]
CHECKS = {"first_order_gap": 0.1, "first_order_path_gap": 0.25, "relative_exploitability": 1e-3,
          "euler_mean_log10": -3.0, "market_residual": 1e-6}
HISTORY = {"relative_exploitability": "relative_exploitability",
           "euler_mean_log10": "euler_mean", "market_residual": "market_residual"}
TABLES = ("policy_functions", "impulse_responses", "ergodic_moments", "risky_steady_state",
          "solution_quality", "quality_verdicts", "history")
FIGURES = ("policy_functions", "impulse_responses", "solution_quality")
# the solve-and-report runs are slow tests (the default suite keeps the option checks)
CASES = [pytest.param("ks", marks=pytest.mark.slow), pytest.param("huggett", marks=pytest.mark.slow)]


def _err(result):
    return getattr(result, "stderr", "") or result.output


def _run(tmp_path_factory, name, model_args):
    base = tmp_path_factory.mktemp(name)
    run, rep = base / "run", base / "report"
    solved = runner.invoke(app, ["solve", *model_args, *TRAIN, "--out", str(run)])
    assert solved.exit_code == 0, _err(solved)
    reported = runner.invoke(app, ["report", str(run), "--out", str(rep), *REPORT])
    assert reported.exit_code == 0, _err(reported)
    return dict(run=run, report=rep, solved=solved, reported=reported)


@pytest.fixture(scope="module")
def ks(tmp_path_factory):
    out = _run(tmp_path_factory, "ks", ["models/krusell_smith.py", "--choice", "continuous",
                                        *KS_SET])
    model = KrusellSmith(**KS_FIELDS)
    return dict(out, model=model, ss=hm.steady_state(model))


@pytest.fixture(scope="module")
def huggett(tmp_path_factory):
    out = _run(tmp_path_factory, "huggett", ["models/huggett.py", *HUGGETT_SET])  # auto
    model = Huggett(n_wealth=40)
    return dict(out, model=model, ss=hm.steady_state(model))


def _table(case, name):
    csv = read_table(str(case["report"] / f"{name}.csv"))
    pq = read_table(str(case["report"] / f"{name}.parquet"))
    pd.testing.assert_frame_equal(csv, pq, check_dtype=False)
    return pq


@pytest.mark.parametrize("case", CASES)
def test_summary_quality_and_files(case, request):
    c = request.getfixturevalue(case)
    run, rep = c["run"], c["report"]
    summary = json.loads((run / "summary.json").read_text())
    config = json.loads((run / "config.json").read_text())
    assert config["choice"] == "continuous" and config["preset"] == "continuous"
    assert config["config"]["horizon"] == 30 and config["config"]["n_knots"] == 8
    assert config["config"]["activation"] == "tanh"  # from the preset, not given
    assert summary["choice"] == "continuous" and summary["horizon"] == 30
    assert summary["iterations"] == 12
    history = pd.read_csv(run / "history.csv")
    last = history.iloc[-1]
    # the first-order certificate is recorded at every evaluation, before the exploitability
    cols = list(history.columns)
    assert cols.index("first_order_gap") < cols.index("exploitability")
    assert history["first_order_gap"].notna().all()
    assert summary["final_relative_exploitability"] == pytest.approx(
        last["relative_exploitability"], rel=1e-12)
    assert summary["final_euler_mean"] == pytest.approx(last["euler_mean"], rel=1e-12)
    assert summary["final_market_residual"] == pytest.approx(last["market_residual"], abs=1e-300)
    assert summary["initial_relative_exploitability"] == pytest.approx(
        history["relative_exploitability"].iloc[0], rel=1e-12)
    # the quality block: the last evaluation against the thresholds, strictly below
    quality = summary["quality"]
    assert list(quality["checks"]) == list(CHECKS)
    # the first-order certificate first: the largest gap over the innovations and variables
    first = quality["first_order"]
    assert quality["checks"]["first_order_gap"]["value"] == pytest.approx(
        max(max(g.values()) for g in first["by_innovation"].values()), rel=1e-12)
    assert set(first["gap"]) >= {"A", "C"}
    # then the same certificate along noisy paths: the largest root-mean-square gap
    assert quality["checks"]["first_order_path_gap"]["value"] == pytest.approx(
        max(first["paths"]["rms"].values()), rel=1e-12)
    assert len(first["paths"]["wealth_groups"]) == 5
    for name, threshold in CHECKS.items():
        check = quality["checks"][name]
        assert check["threshold"] == threshold
        if name in HISTORY:
            assert check["value"] == pytest.approx(last[HISTORY[name]], rel=1e-12, abs=1e-300)
        assert check["passed"] == (check["value"] < threshold)
    failed = [ch["message"] for ch in quality["checks"].values() if not ch["passed"]]
    assert quality["passed"] == (not failed) and quality["warnings"] == failed
    for result in (c["solved"], c["reported"]):
        warnings = [line for line in _err(result).splitlines() if line.startswith("warning: ")]
        assert [w.split("; remedy: ")[0] for w in warnings] == [
            f"warning: solution not converged or of poor quality: {m}" for m in failed]
        # each names its remedy: train longer from the checkpoint (no discrete preset here)
        assert all("; remedy: train longer: rerun " in w and "--resume" in w
                   and "--preset fast" not in w for w in warnings)
    assert quality["checks"]["market_residual"]["passed"]  # prices clear (closed form / bisection)
    for name in TABLES:
        assert (rep / f"{name}.csv").exists() and (rep / f"{name}.parquet").exists()
    for name in FIGURES:
        assert (rep / f"{name}.png").stat().st_size > 1000
    verdicts = _table(c, "quality_verdicts")
    assert list(verdicts["check"]) == list(CHECKS)
    assert list(verdicts["passed"]) == [quality["checks"][k]["passed"] for k in CHECKS]


@pytest.mark.parametrize("case", CASES)
def test_policy_table_at_the_steady_state_against_egm(case, request):
    c = request.getfixturevalue(case)
    ss, table = c["ss"], _table(c, "policy_functions")
    assert set(table["source"]) == {"learned", "egm"}
    n_a, n_e = np.asarray(ss.a_policy).shape
    learned = table[table["source"] == "learned"]
    egm = table[table["source"] == "egm"]
    shape = lambda col: col.to_numpy().reshape(n_a, n_e)  # noqa: E731 (wealth-major rows)
    a_grid = np.asarray(c["model"].a_grid)
    np.testing.assert_array_equal(shape(learned["wealth"])[:, 0], a_grid)
    # EGM's rows are the steady state's policies
    np.testing.assert_allclose(shape(egm["savings"]), ss.a_policy, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(shape(egm["consumption"]), ss.c_policy, rtol=1e-10)
    # both spend the steady state's cash on hand (1 + r) a + y e exactly
    budget = c["model"].budget(ss.values) if case == "huggett" else c["model"].budget(
        dict(r=ss["r"], w=ss["w"]))
    cash = np.asarray(budget.cash_on_hand(c["model"].a_grid))
    np.testing.assert_allclose(shape(egm["savings"]) + shape(egm["consumption"]), cash,
                               rtol=1e-12)
    learned_cash = shape(learned["cash_on_hand"])
    np.testing.assert_allclose(shape(learned["savings"]) + shape(learned["consumption"]),
                               learned_cash, rtol=1e-12)
    # the learned policy's date-0 prices come from the distribution's capital (its assets A),
    # which equals the firms' K to the steady state's market tolerance (|A - K| below 1e-9
    # of K): its cash on hand is the steady state's to that precision
    np.testing.assert_allclose(learned_cash, cash, rtol=1e-9)
    # the learned policy started at EGM's and moved little in a dozen steps: within 5% of c
    gap = shape(learned["consumption"]) - shape(egm["consumption"])
    np.testing.assert_allclose(shape(learned["consumption_gap"]), gap, atol=1e-14)
    np.testing.assert_allclose(shape(egm["consumption_gap"]), gap, atol=1e-14)
    assert np.max(np.abs(gap) / shape(egm["consumption"])) < 0.05
    # savings and consumption rise with wealth in every income state (EGM's savings are flat
    # at the borrowing limit; the learned share of cash on hand never reaches zero)
    assert np.all(np.diff(shape(learned["savings"]), axis=0) > 0)
    assert np.all(np.diff(shape(egm["savings"]), axis=0) >= 0)
    for rows in (learned, egm):
        assert np.all(np.diff(shape(rows["consumption"]), axis=0) > 0)


#: Response units of the report's table: bp for rates, percent for quantities.
RATES = ("r", "r_paid")


def _pf_deviations(case, c, size=0.01, T=40):
    """The perfect-foresight responses in the table's units: ``(response, unit)`` by name."""
    m, ss = c["model"], c["ss"]
    if case == "ks":
        path = hm.transition_path(m, steady_state=ss, z=size * float(m.rho_z) ** np.arange(T_PF))
        levels = {k: float(ss[k]) for k in ("K", "Y", "C", "r", "w", "A")}
    else:
        path = hm.transition_path(m, steady_state=ss,
                                  shocks={"z": size * float(m.rho_z) ** np.arange(T_PF)})
        levels = {k: float(ss[k]) for k in ("C", "r", "r_paid")}
    out = {}
    for k, v in levels.items():
        dev = np.asarray(path[k][:T]) - v
        out[k] = (1e4 * dev, "bp") if k in RATES else (100 * dev / v, "percent")
    return out


@pytest.mark.parametrize("case", CASES)
def test_impulse_responses_beside_the_perfect_foresight_transition(case, request):
    c = request.getfixturevalue(case)
    table = _table(c, "impulse_responses")
    assert list(table.columns) == ["shock", "date", "variable", "unit", "learned",
                                   "perfect_foresight", "gap_share_of_peak"]
    assert set(table["shock"]) == {"z"}
    by = {v: g.sort_values("date") for v, g in table.groupby("variable")}
    rho = float(c["model"].rho_z)
    # log TFP / endowment z is zero in the steady state: percentage points
    assert set(by["z"]["unit"]) == {"pp"}
    np.testing.assert_allclose(by["z"]["learned"], rho ** np.arange(40), rtol=1e-12)
    np.testing.assert_allclose(by["z"]["perfect_foresight"], rho ** np.arange(40), rtol=1e-12)
    for v, (dev, unit) in _pf_deviations(case, c).items():
        g = by[v]
        assert list(g["date"]) == list(range(40)) and set(g["unit"]) == {unit}
        np.testing.assert_allclose(g["perfect_foresight"], dev, rtol=1e-9, atol=1e-9)
        peak = np.max(np.abs(dev))
        np.testing.assert_allclose(g["gap_share_of_peak"],
                                   np.abs(g["learned"] - g["perfect_foresight"]) / peak,
                                   rtol=1e-9, atol=1e-15)
    if case == "ks":
        # capital is predetermined: on impact output, wage and rate are the technology's in both
        impact = table[table["date"] == 0].set_index("variable")
        assert impact.loc["K", "learned"] == impact.loc["K", "perfect_foresight"] == 0.0
        for v in ("Y", "w", "r"):
            assert impact.loc[v, "learned"] == pytest.approx(impact.loc[v, "perfect_foresight"],
                                                             rel=1e-8)
        assert impact.loc["Y", "learned"] > 0 and by["K"]["learned"].iloc[1] > 0
    else:
        # the bond market clears, so consumption is the endowment e^z on both paths (to the
        # rounding of the in-rollout clearing; to the transition solver's tolerance)
        endowment = 100 * np.expm1(0.01 * rho ** np.arange(40)) / float(c["ss"]["C"])
        np.testing.assert_allclose(by["C"]["learned"], endowment, rtol=1e-9)
        np.testing.assert_allclose(by["C"]["perfect_foresight"], endowment, rtol=1e-6)
        assert "A" not in by  # zero net supply: no response, left out
        assert by["r_paid"]["learned"].iloc[0] == 0.0  # the rate paid at date 0 was set before
        assert by["r"]["learned"].iloc[0] < 0 and by["r"]["perfect_foresight"].iloc[0] < 0


@pytest.mark.parametrize("case", CASES)
def test_ergodic_moments(case, request):
    c = request.getfixturevalue(case)
    table = _table(c, "ergodic_moments")
    assert list(table.columns) == ["moment", "variable", "other", "value", "se", "first_order"]
    # beside each: its Monte Carlo standard error and the first-order solution's moment
    sds = table[table["moment"] == "sd"]
    assert (sds["se"] > 0).all() and np.isfinite(sds["first_order"]).any()
    mean = table[table["moment"] == "mean"].set_index("variable")["value"]
    sd = table[table["moment"] == "sd"].set_index("variable")["value"]
    corr = table[table["moment"] == "corr"]
    assert set(mean.index) == set(sd.index) and (sd > 0).all()
    n = len(mean)
    assert len(corr) == n * (n - 1) // 2 and corr["value"].abs().max() <= 1.0
    pair = {(x, y): v for x, y, v in corr[["variable", "other", "value"]].itertuples(index=False)}
    if case == "ks":
        assert {"K", "Y", "C", "r", "w", "z"} <= set(mean.index)
        assert pair[("Y", "z")] > 0.5 and pair[("w", "z")] > 0.5  # TFP drives output and wages
    else:
        # consumption is the endowment e^z: perfectly correlated with z, sd(e^z) ~ sd(z)
        assert pair[("C", "z")] > 0.999
        assert sd["C"] == pytest.approx(sd["z"], rel=0.05)


@pytest.mark.parametrize("case", CASES)
def test_risky_steady_state_table(case, request):
    c = request.getfixturevalue(case)
    table = _table(c, "risky_steady_state").set_index("variable")
    assert list(table.columns) == ["unit", "deterministic", "ergodic_mean", "se", "mean_gap",
                                   "mean_gap_se", "risky", "risky_gap", "rest_drift"]
    assert table.loc["r", "unit"] == "bp" and table.loc["C", "unit"] == "percent"
    assert "z" not in table.index          # the shock's mean is zero by design
    r, C = table.loc["r"], table.loc["C"]
    assert r["mean_gap"] == pytest.approx(1e4 * (r["ergodic_mean"] - r["deterministic"]),
                                          rel=1e-9, abs=1e-9)
    assert C["mean_gap"] == pytest.approx(100 * (C["ergodic_mean"] / C["deterministic"] - 1),
                                          rel=1e-9, abs=1e-9)
    assert np.isfinite(table["risky_gap"]).all() and (table["rest_drift"] >= 0).all()
    assert C["deterministic"] == pytest.approx(float(c["ss"]["C"]), rel=1e-12)


def test_resume_line_of_a_continuous_run_rebuilds_its_config(tmp_path, monkeypatch):
    """Ctrl-C prints the line that resumes the run; that line rebuilds the same config."""
    out = tmp_path / "run"
    seen = []

    def interrupted(model, method, config, *, checkpoint_dir, **kw):
        seen.append(config)
        # a checkpoint as solve writes it (its leaves are never read: solve is replaced)
        (tmp_path / "run" / "state.json").write_text(json.dumps({"iteration": 6,
                                                                 "history": []}))
        (tmp_path / "run" / "checkpoint.eqx").write_bytes(b"leaves")
        raise KeyboardInterrupt

    monkeypatch.setattr(rspg, "solve", interrupted)
    first = runner.invoke(app, ["solve", "models/huggett.py", *HUGGETT_SET, *TRAIN,
                                "--control-lags", "4", "--news", "2", "--no-precondition",
                                "--start", "risk-adjusted", "--out", str(out)])
    assert first.exit_code == 130
    lines = _err(first).strip().splitlines()
    assert lines[0] == (f"interrupted: checkpoint at iteration 6 kept in "
                        f"{out / 'checkpoint.eqx'}; resume with:")
    command = shlex.split(lines[1].strip())
    assert command[:3] == ["hank-mfg", "solve", "models/huggett.py"]
    for flag, value in (("--choice", "continuous"), ("--preset", "continuous"),
                        ("--savings-head", "knots"), ("--n-knots", "8"), ("--horizon", "30"),
                        ("--lr", "0.003"), ("--set", "n_wealth=40"), ("--control-lags", "4"),
                        ("--news", "2"), ("--start", "risk-adjusted"),
                        ("--continuation", "egm")):
        assert command[command.index(flag) + 1] == value
    assert "--no-precondition" in command and "--precondition" not in command
    assert command[-1] == "--resume" and "--head" not in command
    again = runner.invoke(app, command[1:] + ["--no-progress"])
    assert again.exit_code == 130
    assert seen[1] == seen[0] and seen[0].choice == "continuous" and seen[0].horizon == 30
    assert seen[0].control_lags == 4 and seen[0].news == 2 and seen[0].precondition is False
    # the start's preset: the EGM reading and the average of the iterates
    assert seen[0].start == "risk-adjusted" and seen[0].average == 0.95
    assert seen[0].continuation == "egm"


@pytest.mark.parametrize("args,reason", [
    (["models/huggett.py", "--choice", "discrete"],
     "Huggett is an economy, solved with continuous savings choices only"),
    (["models/krusell_smith.py", "--choice", "discrete", "--preset", "continuous"],
     "--preset continuous is the preset of continuous choices"),
    (["models/huggett.py", "--head", "categorical"], "--head applies to discrete choices"),
    (["models/krusell_smith.py", "--savings-head", "knots"],
     "--savings-head applies to continuous choices"),
    (["models/huggett.py", "--table-head", "knots"], "--table-head applies to discrete choices"),
    (["models/krusell_smith.py", "--control-lags", "8"],
     "--control-lags applies to continuous choices"),
    (["models/krusell_smith.py", "--news", "4"], "--news applies to continuous choices"),
    (["models/krusell_smith.py", "--precondition"],
     "--precondition applies to continuous choices"),
    (["models/krusell_smith.py", "--start", "first-order"],
     "--start applies to continuous choices"),
    (["models/krusell_smith.py", "--floor-expectations"],
     "--floor-expectations applies to continuous choices"),
    (["models/huggett.py", "--floor-expectations"],
     "RSPGConfig.floor_expectations=True needs a first-order start"),
    (["models/huggett.py", "--start", "linear"], "RSPGConfig.start must be one of"),
    (["models/huggett.py", "--control-lags", "-1"], "RSPGConfig.control_lags must be an integer"),
    (["models/krusell_smith.py", "--choice", "sometimes"], "--choice must be one of"),
    (["models/krusell_smith.py", "--preset", "fastest"], "--preset must be one of"),
    (["models/huggett.py", "--preset", "fast"], "--preset fast is a preset of discrete choices"),
    (["models/huggett.py", "--horizon", "1"], "RSPGConfig.horizon must be None or an integer"),
])
def test_bad_continuous_options_fail_with_one_line(tmp_path, args, reason):
    result = runner.invoke(app, ["solve", *args, "--out", str(tmp_path / "x"), "--no-progress"])
    assert result.exit_code == 1
    err = _err(result).strip()
    assert reason in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_floor_expectations_from_the_command_line(tmp_path):
    """``--floor-expectations`` reaches the run's config and its resume line; an economy
    without a lower bound refuses it in one line that names the economy."""
    from hank_mfg.cli import _resume_command

    config = hm.RSPGConfig.continuous(start="time-iteration", floor_expectations=True)
    line = shlex.split(_resume_command("models/hank.py", "rspg", config, "out", None,
                                       ["i_lb=0", "demand_shock=true"], None, continuous=True,
                                       choice="continuous", preset="continuous",
                                       preset_given=False))
    assert "--floor-expectations" in line
    assert line[line.index("--start") + 1] == "time-iteration"
    plain = _resume_command("models/hank.py", "rspg", hm.RSPGConfig.continuous(), "out", None,
                            [], None, continuous=True, choice="continuous",
                            preset="continuous", preset_given=False)
    assert "floor-expectations" not in plain
    result = runner.invoke(app, ["solve", "models/huggett.py", *HUGGETT_SET, *TRAIN,
                                 "--start", "first-order", "--floor-expectations",
                                 "--out", str(tmp_path / "x")])
    assert result.exit_code == 1
    err = _err(result).strip()
    assert len(err.splitlines()) == 1
    assert "an economy with a lower bound" in err and "Huggett" in err, err

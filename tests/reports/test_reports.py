"""Tables, figures, export and the report command."""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import hank_mfg as hm
from hank_mfg.cli import app
from models.krusell_smith import KrusellSmith
from models.rspg_macro import RSPGMacro

TINY = dict(n_wealth=12, n_income=3, n_actions=6, horizon=8)
CONFIG = hm.RSPGConfig(iterations=4, n_paths=2, eval_paths=2, hidden=8, widths=(8,), eval_every=2)


def _untrained(method):
    model = RSPGMacro(**TINY)
    mf = hm.compile_model(model)
    pol = hm.make_policy(mf, method, key=jax.random.key(3), **CONFIG.architecture())
    hist = pd.DataFrame(dict(iteration=[0], exploitability=[1.0]))
    return hm.Solution(model=model, method=method, config=CONFIG, policy=pol, history=hist,
                       summary=dict(method=method))


@pytest.fixture(scope="module")
def sols():
    return _untrained("rspg"), _untrained("spg")


@pytest.fixture(scope="module")
def ks():
    model = KrusellSmith(alpha=0.11, tfp=0.8816460975, beta=0.9819527881, n_wealth=30,
                         n_income=3, wealth_max=60.0, n_actions=5)
    ss = hm.steady_state(model)
    path = hm.transition_path(model, z=0.01 * 0.9 ** jnp.arange(40), steady_state=ss,
                              return_distribution=True)
    return model, ss, path


def _roundtrip(df, tmp_path, name):
    csv, pq = hm.write_table(df, str(tmp_path), name)
    for p in (csv, pq):
        back = hm.read_table(p)
        pd.testing.assert_frame_equal(back, df, check_exact=True)


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_tables_roundtrip_exactly(sols, tmp_path):
    rspg, spg = sols
    key = jax.random.key(0)
    tables = dict(
        wealth=hm.wealth_distribution(rspg, key=key, n_paths=2),
        lorenz=hm.lorenz_curve(rspg, key=key),
        impulse=hm.impulse_responses(rspg, shock=0.01, key=key, n_paths=2, deterministic=True),
        anticip=hm.anticipatory_consumption(rspg, spg, key=key, n_paths=2),
        polic=hm.policy_table(rspg, date=3, wealth=[0.3, 7.0]),
        panel=hm.simulate(rspg, key=key, n_paths=2),
    )
    w = tables["wealth"]
    assert set(w["group"]) == {"all", "e0", "e1", "e2"} and set(w["date"]) == {0, 4, 7}
    assert np.allclose(w[w.group != "all"].groupby(["path", "date"])["population"].sum(), 1.0)
    assert set(tables["anticip"]["method"]) == {"rspg", "spg"}
    assert tables["polic"]["on_grid"].sum() == 36 and (~tables["polic"]["on_grid"]).sum() == 6
    assert tables["polic"]["date"].dtype == np.int64 and set(tables["polic"]["date"]) == {3}
    lorenz = tables["lorenz"]
    assert list(lorenz.columns) == ["date", "path", "population_share", "wealth_share", "wealth"]
    assert lorenz.iloc[0, 2:].to_dict() == dict(population_share=0.0, wealth_share=0.0,
                                                wealth=float(rspg.model.a_grid[0]))
    np.testing.assert_array_equal(lorenz["wealth"].to_numpy()[1:], np.asarray(rspg.model.a_grid))
    assert tables["panel"].shape[0] == 2 * 8
    for name, df in tables.items():
        _roundtrip(df, tmp_path, name)


def test_zero_shock_table_is_zero(sols):
    irf = hm.impulse_responses(sols[0], shock=0.0, date=2, key=jax.random.key(1), n_paths=2)
    assert (irf["response"] == 0.0).all()


def _check_labelled(fig):
    """Every axes with data has a y label and an x label (its own or its twin's)."""
    assert fig.axes
    n = 0
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>" or not (ax.lines or ax.images or ax.collections):
            continue
        n += 1
        assert ax.get_ylabel(), ax.get_title()
        twins = ax.get_shared_x_axes().get_siblings(ax)
        assert any(t.get_xlabel() for t in twins), ax.get_title()
    assert n >= 1


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_figures_have_labelled_axes(sols, ks, tmp_path):
    rspg, spg = sols
    model, ss, path = ks
    key = jax.random.key(0)
    irf = hm.impulse_responses(rspg, key=key, n_paths=2)
    figs = [
        hm.wealth_figure(rspg, key=key),
        hm.wealth_figure(ss, model=model),
        hm.distribution_heatmaps(rspg, key=key),
        hm.impulse_figure(irf, hm.mit_responses(path, ss)),
        hm.anticipation_figure(hm.anticipatory_consumption(rspg, spg, key=key, n_paths=2)),
        hm.policy_figure(hm.policy_table(rspg, date=2)),
        hm.policy_figure(hm.policy_table(ss, model=model)),
    ]
    for fig in figs[-2:]:
        assert [ax.get_ylabel() for ax in fig.axes] == [
            "value V(a, e)", "consumption share c / (m - a_0)", "consumption c(a, e)",
            "expected reward"]
    for i, fig in enumerate(figs):
        _check_labelled(fig)
        p = hm.save_figure(fig, str(tmp_path), f"f{i}")
        with open(p, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_steady_state_tables_and_mit(ks):
    model, ss, path = ks
    w = hm.wealth_distribution(ss, model=model)
    row = w[w.group == "all"].iloc[0]
    s = hm.wealth_stats(model.a_grid, ss.mu.sum(axis=1))
    assert row["gini"] == pytest.approx(float(s.gini)) and 0 < row["gini"] < 1
    assert row["mean"] == pytest.approx(float(ss.K), rel=1e-8)
    mit = hm.mit_responses(path, ss)
    y0 = mit[(mit.variable == "Y") & (mit.t == 0)]["response"].iloc[0]
    assert y0 == pytest.approx(100 * np.expm1(0.01), rel=1e-8)  # K predetermined
    pt = hm.policy_table(ss, model=model, wealth=[1.5])
    assert str(pt["date"].dtype) == "Int64" and pt["date"].isna().all()  # stationary: no date
    grid = pt[pt.on_grid]
    np.testing.assert_allclose(grid["consumption"] + grid["savings"], grid["cash"], rtol=1e-10)
    # the value solves V = u(c) + beta E V: higher wealth, higher value
    v = grid[grid.income_state == 1]["value"].to_numpy()
    assert np.all(np.diff(v) > 0)


def test_bundle_loads_back_equal(sols, tmp_path):
    rspg = sols[0]
    tables = dict(wealth=hm.wealth_distribution(rspg))
    d = hm.save_bundle(rspg, str(tmp_path / "bundle"), tables=tables)
    back = hm.load_bundle(d)
    assert back.method == rspg.method and back.config == rspg.config
    assert back.summary == rspg.summary
    la, lb = jax.tree_util.tree_leaves(rspg.policy), jax.tree_util.tree_leaves(back.policy)
    assert len(la) == len(lb) and all(np.array_equal(x, y) for x, y in zip(la, lb))
    ma, mb = jax.tree_util.tree_leaves(rspg.model), jax.tree_util.tree_leaves(back.model)
    assert type(back.model).__name__ == "RSPGMacro"
    assert all(np.array_equal(x, y) for x, y in zip(ma, mb))
    pd.testing.assert_frame_equal(back.history, rspg.history, check_exact=True)
    pd.testing.assert_frame_equal(hm.read_table(str(tmp_path / "bundle/tables/wealth.parquet")),
                                  tables["wealth"], check_exact=True)


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_report_cli_end_to_end(tmp_path):
    runner = CliRunner()
    run, rep = str(tmp_path / "run"), str(tmp_path / "rep")
    sets = sum((["--set", f"{k}={v}"] for k, v in TINY.items() if k != "horizon"), [])
    res = runner.invoke(app, ["solve", "models/rspg_macro.py", "--iterations", "4",
                              "--eval-every", "2", "--horizon", "8", "--n-paths", "2",
                              "--hidden", "8", "--no-progress", "--out", run, *sets])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["report", run, "--out", rep, "--n-paths", "2"])
    assert res.exit_code == 0, res.output
    import os

    files = os.listdir(rep)
    for word in ("wealth", "impulse", "anticip", "polic"):
        for ext in (".csv", ".parquet"):
            assert any(word in f and f.endswith(ext) for f in files), (word, ext, files)
    pngs = [f for f in files if f.endswith(".png")]
    assert len(pngs) >= 3
    for f in pngs:
        with open(os.path.join(rep, f), "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
        assert os.path.getsize(os.path.join(rep, f)) > 10_000
    q = hm.read_table(os.path.join(rep, "solution_quality.parquet"))
    assert list(q.columns) == [
        "method", "exploitability", "relative_exploitability", "policy_return",
        "best_response_return", "euler_mean_log10", "euler_max_log10", "consumption_largest_fall",
        "monotone_consumption", "quality_passed", "quality_warnings", "n_paths"]
    v = hm.read_table(os.path.join(rep, "quality_verdicts.parquet"))
    assert list(v.columns) == ["check", "value", "threshold", "passed", "message"]
    assert list(v["check"]) == ["monotone_consumption", "euler_mean_log10", "euler_max_log10",
                                "relative_exploitability"]
    assert q["quality_passed"].iloc[0] == v["passed"].all()
    assert q["quality_warnings"].iloc[0] == "; ".join(v.loc[~v["passed"], "message"])
    assert q["monotone_consumption"].iloc[0] == v["passed"].iloc[0]
    assert v["value"].iloc[-1] == pytest.approx(q["relative_exploitability"].iloc[0], rel=1e-12)
    warned = [line for line in (getattr(res, "stderr", "") or res.output).splitlines()
              if line.startswith("warning: ")]
    remedy = (f"; remedy: train longer: rerun the hank-mfg solve command of {run} with a "
              "larger --iterations and --resume (solve prints it), then report again")
    assert warned == [f"warning: solution not converged or of poor quality: {m}{remedy}"
                      for m in v.loc[~v["passed"], "message"]]
    # the report states the numbers solve stated for the same run: the last evaluation's
    # exploitability, Euler errors on the run's own evaluation paths
    import json

    with open(os.path.join(run, "summary.json")) as f:
        stated = json.load(f)["quality"]
    for check in v["check"]:
        assert v.set_index("check").loc[check, "value"] == pytest.approx(
            stated["checks"][check]["value"], rel=1e-12, abs=1e-15), check
        assert bool(v.set_index("check").loc[check, "passed"]) == stated["checks"][check]["passed"]
    pf = hm.read_table(os.path.join(rep, "policy_functions.csv"))
    assert pf["date"].dtype == np.int64 and sorted(set(pf["date"])) == [0, 4, 6]
    lor = hm.read_table(os.path.join(rep, "wealth_lorenz.csv"))
    assert not lor["wealth"].isna().any() and lor["wealth"].iloc[0] == 0.0


def test_report_cli_missing_run(tmp_path):
    res = CliRunner().invoke(app, ["report", str(tmp_path / "nope"), "--out", str(tmp_path / "r")])
    assert res.exit_code == 1


def test_report_cli_refuses_a_transition_shorter_than_the_responses(tmp_path):
    res = CliRunner().invoke(app, ["report", str(tmp_path / "nope"), "--out", str(tmp_path / "r"),
                                   "--transition-T", "30"])
    assert res.exit_code == 1
    assert "--transition-T must be an integer >= 40" in (res.stderr or res.output)


def test_response_variables_come_from_the_model():
    """Headline responses: HANK Y, C, pi, r, w; Huggett C, r; a capital economy K, Y, C, r, w."""
    from hank_mfg.reports import response_variables
    from models.hank import OneAssetHANK
    from models.huggett import Huggett

    def ss_of(model, names):  # only the names matter here: no solve
        return hm.EconomySteadyState(model=model, values={k: jnp.asarray(1.0) for k in names},
                                     residuals={}, unknowns=())

    hank = ss_of(OneAssetHANK(n_wealth=10, n_income=3),
                 ["Y", "Z", "pi", "rstar", "w", "L", "Div", "i", "r", "Tax", "A", "C", "N"])
    assert response_variables(hank) == ("Y", "C", "pi", "r", "w")
    hug = ss_of(Huggett(n_wealth=10), ["z", "r", "r_paid", "Y", "A", "C", "N"])
    assert response_variables(hug) == ("C", "r")
    from models.krusell_smith import KrusellSmith
    ks = ss_of(KrusellSmith(n_wealth=10, n_income=3),
               ["z", "L", "K_next", "K", "r", "w", "Y", "A", "C", "N"])
    assert response_variables(ks) == ("K", "Y", "C", "r", "w")
    with pytest.raises(TypeError, match="give a SteadyState"):
        response_variables(None)
    # the figure's default panels are those of the table, in the headline order
    table = pd.DataFrame(dict(kind="mit", variable=["w", "pi", "Y", "Tax"], unit="bp", t=0,
                              response=1.0))
    fig = hm.impulse_figure(table)
    assert [ax.get_title() for ax in fig.axes] == ["output Y", "inflation pi", "wage w"]
    with pytest.raises(ValueError, match="variables.*Tax"):
        hm.impulse_figure(table, variables=("K",))

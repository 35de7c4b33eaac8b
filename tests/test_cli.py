"""The command line (typer) and the model-file loader it is built on."""

import textwrap

import pytest
from typer.testing import CliRunner

import hank_mfg as hm
from hank_mfg.cli import app
from hank_mfg.loading import (
    ModelLoadError,
    build_model,
    load_model_class,
    parse_overrides,
    parse_value,
)

runner = CliRunner()
RSPG = "models/rspg_macro.py"
KS = "models/krusell_smith.py"


def _err(result):
    return getattr(result, "stderr", "") or result.output


def test_help():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "info" in result.output
    result = runner.invoke(app, ["info", "--help"])
    assert result.exit_code == 0
    assert "--set" in result.output and "--model" in result.output


def test_info_paper_model():
    result = runner.invoke(app, ["info", RSPG])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "RSPGMacro" in out
    assert "n_states = 1000" in out and "n_actions = 20" in out
    assert "n_a = 200" in out and "n_e = 5" in out
    assert "beta" in out and "0.95" in out and "horizon" in out


def test_info_with_overrides():
    result = runner.invoke(app, ["info", KS, "--set", "n_wealth=12", "--set", "n_income=3",
                                 "-s", "beta=0.9", "--set", "common_noise=false"])
    assert result.exit_code == 0, result.output
    assert "n_states = 36" in result.output and "n_actions = 100" in result.output
    assert "0.9" in result.output and "False" in result.output


def test_info_shows_array_shape(tmp_path):
    path = tmp_path / "with_mu.py"
    path.write_text(textwrap.dedent("""
        import jax.numpy as jnp
        from models.rspg_macro import RSPGMacro as _Base
        import hank_mfg as hm
        from typing import Optional
        import equinox as eqx
        from jaxtyping import Array

        class Tiny(hm.AbstractHetAgentModel):
            beta: Array = eqx.field(converter=hm.as_param, default=0.9)
            sigma: Array = eqx.field(converter=hm.as_param, default=2.0)
            rho_z: Array = eqx.field(converter=hm.as_param, default=0.9)
            sigma_z: Array = eqx.field(converter=hm.as_param, default=0.0)
            horizon: int = eqx.field(static=True, default=3)
            common_noise: bool = eqx.field(static=True, default=False)
            action_kind: str = eqx.field(static=True, default="share")
            terminal: str = eqx.field(static=True, default="none")
            initial_mu: Optional[Array] = eqx.field(default_factory=lambda: jnp.full(4, 0.25))

            @property
            def a_grid(self):
                return jnp.asarray([0.0, 1.0])

            @property
            def income(self):
                return hm.markov_chain(jnp.asarray([0.5, 1.5]), jnp.eye(2))

            @property
            def action_grid(self):
                return hm.share_grid(3)

            def prices(self, K, L, z):
                return 0.01 + 0 * K, 1.0 + 0 * L

            def output(self, K, L, z):
                return K
    """))
    # the file imports RSPGMacro too: only classes *defined* in the file count
    result = runner.invoke(app, ["info", str(path)])
    assert result.exit_code == 0, result.output
    assert "Tiny" in result.output
    assert "shape (4,)" in result.output
    assert "n_states = 4" in result.output and "n_actions = 3" in result.output


@pytest.mark.parametrize(
    "args,reason",
    [
        (["info", "no/such/model.py"], "model file not found"),
        (["info", RSPG, "--set", "gamma=0.5"], "unknown field(s) gamma for RSPGMacro"),
        (["info", RSPG, "--set", "beta=1.5"], "RSPGMacro.beta must lie in (0, 1); got 1.5"),
        (["info", RSPG, "--set", "sigma=-2"], "RSPGMacro.sigma must be positive"),
        (["info", RSPG, "--set", "beta"], "must look like field=value"),
        (["info", RSPG, "--model", "KrusellSmith"], "no model class 'KrusellSmith'"),
        (["info", KS, "--set", "beta=abc"], "KrusellSmith.beta must be a number; got 'abc'"),
        (["info", KS, "--set", "n_wealth=1.5"], "KrusellSmith.n_wealth must be an integer; got '1.5'"),
        (["info", KS, "--set", "common_noise=maybe"],
         "KrusellSmith.common_noise must be true or false; got 'maybe'"),
        (["info", KS, "--set", "wealth_max=-1"],
         "error: KrusellSmith.wealth_max must exceed wealth_min = 0; got -1"),
        (["info", KS, "--set", "income_rho=1.2"],
         "error: KrusellSmith.income_rho must satisfy |value| < 1; got 1.2"),
        (["info", KS, "--set", "delta=1.5"], "error: KrusellSmith.delta must lie in [0, 1]; got 1.5"),
        (["info", KS, "--set", "terminal=never"], "KrusellSmith.terminal must be one of"),
    ],
)
def test_bad_input_exits_with_one_line(args, reason):
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    err = _err(result).strip()
    assert reason in err
    assert len(err.splitlines()) == 1
    assert "Traceback" not in result.output


def test_file_with_import_error(tmp_path):
    bad = tmp_path / "broken.py"
    bad.write_text("import no_such_module_xyz\n")
    result = runner.invoke(app, ["info", str(bad)])
    assert result.exit_code == 1
    assert "ModuleNotFoundError" in _err(result)
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    result = runner.invoke(app, ["info", str(empty)])
    assert result.exit_code == 1
    assert "no concrete subclass" in _err(result)


# ---- the reusable loader -----------------------------------------------------------------------

def test_load_model_class():
    cls = load_model_class(RSPG)
    assert cls.__name__ == "RSPGMacro" and issubclass(cls, hm.AbstractHetAgentModel)
    assert load_model_class(KS, name="KrusellSmith").__name__ == "KrusellSmith"
    with pytest.raises(ModelLoadError, match="found: RSPGMacro"):
        load_model_class(RSPG, name="Nope")


def test_build_model_overrides_dict_and_list():
    m = build_model(RSPG, {"horizon": 16, "beta": 0.9})
    assert m.horizon == 16 and float(m.beta) == 0.9
    m = build_model(RSPG, ["horizon=16", "common_noise=false", "sigma_z=1e-2"])
    assert m.horizon == 16 and m.common_noise is False and float(m.sigma_z) == 0.01
    with pytest.raises(ModelLoadError, match="beta"):
        build_model(RSPG, {"beta": 1.5})
    with pytest.raises(ValueError, match="unknown field"):  # ModelLoadError is a ValueError
        build_model(RSPG, ["betta=0.9"])


def test_parse_value_untyped():
    got = {t: parse_value(t) for t in ("3", "0.5", "true", "False", "share", "-2", "none")}
    assert got == {"3": 3, "0.5": 0.5, "true": True, "False": False, "share": "share", "-2": -2,
                   "none": None}


def test_overrides_are_parsed_by_the_field_type():
    from models.krusell_smith import KrusellSmith

    assert parse_overrides(["terminal=none", "beta=0.9"]) == {"terminal": "none", "beta": "0.9"}
    got = parse_overrides(["terminal=none", "action_kind=share", "beta=1", "n_wealth=12",
                           "common_noise=off", "initial_mu=none"], KrusellSmith)
    assert got == {"terminal": "none", "action_kind": "share", "beta": 1.0, "n_wealth": 12,
                   "common_noise": False, "initial_mu": None}
    assert type(got["beta"]) is float and type(got["n_wealth"]) is int
    m = build_model(KS, ["terminal=none", "n_wealth=12", "n_income=2"])
    assert m.terminal == "none" and m.n_wealth == 12
    with pytest.raises(ModelLoadError, match=r"^KrusellSmith\.beta must be a number; got 'abc'$"):
        build_model(KS, ["beta=abc"])


def test_info_keeps_a_string_field_none():
    result = runner.invoke(app, ["info", KS, "--set", "terminal=none", "--set", "n_wealth=12",
                                 "--set", "n_income=2"])
    assert result.exit_code == 0, _err(result)
    assert [line.split() for line in result.output.splitlines()
            if line.strip().startswith("terminal ")] == [["terminal", "'none'"]]


def test_a_file_with_several_models_names_the_option_that_picks_one(tmp_path):
    path = tmp_path / "two.py"
    path.write_text(textwrap.dedent("""
        from models.huggett import Huggett

        class Annual(Huggett):
            pass

        class Quarterly(Huggett):
            pass
    """))
    result = runner.invoke(app, ["info", str(path)])
    assert result.exit_code == 1
    assert "defines several models (Annual, Quarterly); pick one with --model NAME" in result.output
    assert runner.invoke(app, ["info", str(path), "--model", "Quarterly"]).exit_code == 0

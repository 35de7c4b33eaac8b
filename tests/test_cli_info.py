"""``hank-mfg info`` on every shipped model and on a user's own economy file."""

import glob
import os
import re
import textwrap

import pytest
from typer.testing import CliRunner

from hank_mfg.cli import app

runner = CliRunner()
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = sorted(p for p in glob.glob(os.path.join(ROOT, "models", "*.py"))
                 if not os.path.basename(p).startswith("_"))


def test_every_shipped_model_is_covered():
    names = {os.path.basename(p) for p in SHIPPED}
    assert {"hank.py", "huggett.py", "krusell_smith.py", "rspg_macro.py"} <= names


@pytest.mark.parametrize("path", SHIPPED, ids=os.path.basename)
def test_info_on_every_shipped_model(path):
    result = runner.invoke(app, ["info", path])
    assert result.exit_code == 0, result.output
    assert "fields:" in result.output and "n_states = " in result.output
    assert "Traceback" not in result.output


def test_info_on_the_hank_economy():
    result = runner.invoke(app, ["info", os.path.join(ROOT, "models", "hank.py"),
                                 "--set", "n_wealth=20", "--set", "n_income=3"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "model: OneAssetHANK" in out
    assert "wealth  n_a = 20  [0, 150]" in out and "income  n_e = 3" in out
    assert "households: read r, w, Div, Tax; hours chosen" in out
    assert "exogenous: rstar, Z" in out
    assert "shocks: rstar (rho 0.61, sigma 0.0025), Z (rho 0.9, sigma 0.007)" in out
    assert "steady state: unknowns beta (guess 0.982), vphi (guess 0.786) clear targets " \
           "asset_mkt, labor_mkt" in out
    assert "transitions: unknowns pi, w, Y clear targets nkpc_res, asset_mkt, labor_mkt" in out
    assert "n_states = 60" in out
    assert "action" not in out  # an economy chooses savings continuously: no action grid


def test_info_on_huggett_shows_the_bracket_and_the_borrowing_limit():
    result = runner.invoke(app, ["info", os.path.join(ROOT, "models", "huggett.py")])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "r_bracket" in out and "(-0.05, 0.04)" in out
    assert "borrowing limit -1" in out
    assert "steady state: unknowns r (in [-0.05, 0.04]) clear targets asset_mkt" in out
    assert "households: read r_paid, z; no labour choice" in out
    assert "n_states = 600" in out


def test_info_on_a_capital_economy_says_how_its_steady_state_is_solved():
    """A capital economy declares ``K_next`` clearing ``asset_mkt``; ``hm.steady_state`` finds
    that fixed point in ``r`` by Brent's method, and the bracket ``info`` prints holds it."""
    import hank_mfg as hm
    from models.krusell_smith import KrusellSmith

    result = runner.invoke(app, ["info", os.path.join(ROOT, "models", "krusell_smith.py"),
                                 "--set", "n_wealth=60", "--set", "n_income=3"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "steady state: unknowns K_next (in [" in out
    line = next(x for x in out.splitlines() if "hm.steady_state solves this fixed point in r" in x)
    lo, hi = (float(x) for x in re.search(r"in \[([-\d.e]+), ([-\d.e]+)\]", line).groups())
    r = float(hm.steady_state(KrusellSmith(n_wealth=60, n_income=3)).r)
    assert lo < r < hi, (lo, r, hi)


def test_info_on_a_users_own_economy(tmp_path):
    path = tmp_path / "my_economy.py"
    path.write_text(textwrap.dedent('''
        from typing import ClassVar

        import equinox as eqx
        import jax.numpy as jnp
        from jaxtyping import Array, Float

        import hank_mfg as hm


        class Endowment(hm.AbstractEconomy):
            beta: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.96)
            sigma: Float[Array, ""] = eqx.field(converter=hm.as_param, default=2.0)
            rho_z: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.8)
            sigma_z: Float[Array, ""] = eqx.field(converter=hm.as_param, default=0.01)
            n_wealth: int = eqx.field(static=True, default=12)
            common_noise: bool = eqx.field(static=True, default=False)

            household_inputs: ClassVar[tuple[str, ...]] = ("r", "z")
            exogenous: ClassVar[tuple[str, ...]] = ("z",)
            steady_state_targets: ClassVar[tuple[str, ...]] = ("asset_mkt",)
            transition_unknowns: ClassVar[tuple[str, ...]] = ("r",)
            transition_targets: ClassVar[tuple[str, ...]] = ("asset_mkt",)

            @property
            def a_grid(self):
                return hm.uniform_grid(0.0, 10.0, self.n_wealth)

            @property
            def income(self):
                return hm.rouwenhorst(0.5, 0.2, 2)

            def budget(self, p):
                e = jnp.asarray(self.income.e_grid, dtype=float)
                return hm.Budget(R=1.0 + p["r"], y=jnp.exp(p["z"]) * e, we=jnp.zeros_like(e))

            def shocks(self):
                return (hm.Shock("z", self.rho_z, self.sigma_z),)

            def steady_state_unknowns(self):
                return {"r": (-0.03, 0.03)}

            def steady_state_values(self):
                return {"z": 0.0}

            def aggregates(self, v):
                v["Y"] = jnp.exp(v["z"])

            def residuals(self, v):
                return {"asset_mkt": v["A"] - 1.0}
    '''))
    result = runner.invoke(app, ["info", str(path), "--set", "n_wealth=8"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "model: Endowment" in out and re.search(r"\n  n_wealth +8\n", out)
    assert "wealth  n_a = 8  [0, 10]" in out and "income  n_e = 2" in out
    assert "households: read r, z; no labour choice" in out
    assert "shocks: z (rho 0.8, sigma 0.01)  (common_noise=False" in out
    assert "steady state: unknowns r (in [-0.03, 0.03]) clear targets asset_mkt" in out
    assert "transitions: unknowns r clear targets asset_mkt" in out
    assert "rates" not in out  # the economy declares none
    assert "n_states = 16" in out

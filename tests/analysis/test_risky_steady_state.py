"""The effect of aggregate risk on the economy's level (docs/theory.md §12.10).

Checked against mathematics on Huggett's economy (30 wealth points) at its first-order start:
the aggregate endowment ``e^z`` has the lognormal mean ``exp(var(z) / 2)``; the linear start is
certainty equivalent, so its risky steady state is the deterministic one; and the effect of risk
on the ergodic means is second order in the size of the shocks.
"""

import jax
import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg.solvers import continuous as C
from models.huggett import Huggett

jax.config.update("jax_enable_x64", True)

RUN = dict(T=300, burn_in=100, n_pairs=4, seed=1, T_rest=50)


@pytest.fixture(scope="module")
def start():
    m = Huggett(n_wealth=30)
    ss = hm.steady_state(m)
    P = C.savings_problem(m, ss, start="first-order", horizon=80)
    return m, P, P.make_policy(key=jax.random.key(0), hidden=4, widths=(6,), n_knots=6)


def test_the_mean_endowment_is_lognormal_within_its_standard_error(start):
    m, P, pol = start
    out = hm.risky_steady_state(P, pol, **RUN)
    assert set(out["mean"]) == {"A", "C", "r", "r_paid"}   # the shock z is left out
    var_z = float(m.sigma_z) ** 2 / (1.0 - float(m.rho_z) ** 2)
    exact = np.exp(0.5 * var_z)          # C = e^z: Huggett's bonds are in zero net supply
    se = out["se"]["C"]
    assert 0 < se < 0.2 * (exact - 1.0)  # antithetic pairs: only second-order noise is left
    assert abs(out["mean"]["C"] - exact) < 4 * se, (out["mean"]["C"], exact, se)


def test_the_first_order_start_is_certainty_equivalent(start):
    _, P, pol = start
    out = hm.risky_steady_state(P, pol, **RUN)
    for v, x0 in out["deterministic"].items():
        assert out["risky"][v] == pytest.approx(x0, abs=1e-9), v
        assert out["rest_drift"][v] < 1e-10, v
    # while the ergodic mean rate does move, by more than its standard error
    assert abs(out["mean"]["r"] - out["deterministic"]["r"]) > 5 * out["se"]["r"]


def test_the_effect_of_risk_on_the_means_is_second_order_in_the_shocks(start):
    """With antithetic pairs and common draws every odd order cancels: halving the
    innovations divides the gap of the mean by four, up to fourth-order terms."""
    _, P, pol = start
    gap = {}
    for scale in (1.0, 0.5):
        out = hm.risky_steady_state(P, pol, scale=scale, **RUN)
        gap[scale] = {v: out["mean"][v] - out["deterministic"][v] for v in ("C", "r")}
    for v in ("C", "r"):   # measured 3.92 (r), 4.00 (C)
        assert gap[1.0][v] / gap[0.5][v] == pytest.approx(4.0, rel=0.05), v


def test_bad_arguments_are_refused_naming_the_field(start):
    _, P, pol = start
    for kw, field in ((dict(n_pairs=0), "n_pairs"), (dict(scale=-1.0), "scale"),
                      (dict(T_rest=3), "T_rest"), (dict(variables=["K"]), "variables")):
        with pytest.raises(ValueError, match=f"risky_steady_state.{field}"):
            hm.risky_steady_state(P, pol, **{**RUN, **kw})

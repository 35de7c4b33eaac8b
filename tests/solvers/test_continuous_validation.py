"""Learned equilibria with aggregate risk against the perfect-foresight gold standard (slow).

Krusell–Smith (sequence-jacobian's calibration on a small grid) and Huggett solved by RSPG with
continuous choices; the learned response to a one-time shock is compared with
``hm.transition_path`` over 40 quarters, as a share of the perfect-foresight peak.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from models.huggett import Huggett
from models.krusell_smith import KrusellSmith

jax.config.update("jax_enable_x64", True)
pytestmark = pytest.mark.slow


def _gap(model, sol, shock_path, variables, T=40):
    ss = hm.steady_state(model)
    if isinstance(model, hm.AbstractEconomy):
        pf = hm.transition_path(model, steady_state=ss, shocks={"z": shock_path})
    else:
        pf = hm.transition_path(model, steady_state=ss, z=shock_path)
    ref = {v: np.asarray(pf[v][:T]) - float(ss[v]) for v in variables}
    irf = hm.learned_irf(sol, {"z": float(shock_path[0])}, T=T)
    return hm.irf_gap(irf, ref, variables)


def test_krusell_smith_learned_response_matches_perfect_foresight():
    m = KrusellSmith(n_wealth=100, alpha=0.11, tfp=0.8816460975, beta=0.9819527881)
    cfg = hm.RSPGConfig.continuous(iterations=150, eval_every=50, lr=3e-3, lr_final=3e-4)
    sol = hm.solve(m, "rspg", cfg, progress=False)
    last = sol.history.iloc[-1]
    assert last.relative_exploitability < 1e-3
    assert last.euler_mean < -3.0
    gap = _gap(m, sol, 0.01 * 0.95 ** jnp.arange(300), ("K", "C", "r"))
    assert gap["K"] < 0.10 and gap["C"] < 0.10, gap


def test_huggett_learned_rate_matches_perfect_foresight():
    m = Huggett(n_wealth=100)
    cfg = hm.RSPGConfig.continuous(iterations=150, eval_every=50, lr=3e-3, lr_final=3e-4)
    sol = hm.solve(m, "rspg", cfg, progress=False)
    last = sol.history.iloc[-1]
    first = sol.history.iloc[0]
    assert last.market_residual < 1e-6
    # measured: 2.7e-2 -> 1.8e-3 (an upper bound: the best response knows the path's future)
    assert last.relative_exploitability < min(5e-3, first.relative_exploitability / 5)
    assert last.euler_mean < -3.0
    gap = _gap(m, sol, 0.01 * 0.9 ** jnp.arange(300), ("r",))
    assert gap["r"] < 0.08, gap  # measured 0.034 (0.097 with the plain gradient)

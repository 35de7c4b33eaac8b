"""Learned equilibria with aggregate risk against the perfect-foresight gold standard (slow).

Krusell–Smith (sequence-jacobian's calibration on a small grid) solved by RSPG with continuous
choices; the learned response to a one-time shock is compared with ``hm.transition_path`` over
40 quarters, as a share of the perfect-foresight peak (Huggett: test_huggett_validation.py, a
file of its own so that the two long runs can go to different test workers).
"""

import jax
import jax.numpy as jnp
import pytest

import hank_mfg as hm
from models.krusell_smith import KrusellSmith
from tests._tiny import learned_gap

jax.config.update("jax_enable_x64", True)
pytestmark = pytest.mark.slow


def test_krusell_smith_learned_response_matches_perfect_foresight():
    # 70 wealth points (measured: relative exploitability 1.7e-4, Euler mean -3.29, largest
    # gaps 6.3% for K and 4.8% for C)
    m = KrusellSmith(n_wealth=70, alpha=0.11, tfp=0.8816460975, beta=0.9819527881)
    cfg = hm.RSPGConfig.continuous(iterations=150, eval_every=150, lr=3e-3, lr_final=3e-4)
    sol = hm.solve(m, "rspg", cfg, progress=False)
    last = sol.history.iloc[-1]
    assert last.relative_exploitability < 1e-3
    assert last.euler_mean < -3.0
    gap = learned_gap(m, sol, 0.01 * 0.95 ** jnp.arange(300), ("K", "C", "r"))
    assert gap["K"] < 0.10 and gap["C"] < 0.10, gap

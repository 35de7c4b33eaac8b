"""An own model with debt: sigma = 2, a borrowing limit of -1 and a 9-state income chain, solved
by RSPG from its steady-state distribution (docs/theory.md: the terminal rule and the natural
borrowing limit)."""

from __future__ import annotations

import numpy as np
import pytest

import hank_mfg as hm
from models.krusell_smith import KrusellSmith

OWN = dict(sigma=2.0, wealth_min=-1.0, n_income=9, n_wealth=12, n_actions=10, wealth_max=100.0,
           horizon=10)


@pytest.mark.slow  # a 40-iteration solve; the tutorial (tests/test_docs.py) keeps a steady state
# in debt in the default suite
def test_own_model_with_debt_solves_from_the_steady_state():
    model = KrusellSmith(**OWN)
    ss = hm.steady_state(model)
    start = hm.with_steady_state_initial(model, ss)
    a = np.asarray(model.a_grid)
    assert np.asarray(ss.mu).reshape(len(a), -1)[a < 0].sum() > 0.01  # households in debt
    cfg = hm.RSPGConfig(iterations=40, eval_every=40, n_paths=2, eval_paths=2, hidden=8,
                        widths=(8,), lr=0.02, lr_final=0.002, seed=0)  # init "auto": stationary
    hist = hm.solve(start, "rspg", cfg, progress=False).history
    cols = ["exploitability", "policy_return", "best_response_return", "infeasible_mass"]
    assert np.all(np.isfinite(hist[cols].to_numpy()))
    assert np.all(hist.infeasible_mass == 0.0)
    assert np.all(hist.policy_return < 0) and np.all(hist.best_response_return < 0)
    assert np.all(hist.exploitability >= 0)
    first, last = hist.iloc[0], hist.iloc[-1]
    assert last.exploitability < 0.2 * first.exploitability
    assert last.exploitability < 0.35 * abs(last.best_response_return)
    assert np.isfinite(last.loss) and abs(last.loss) < 100.0  # no INFEASIBLE_REWARD inside


def test_own_model_with_an_infeasible_limit_is_a_construction_error():
    with pytest.raises(ValueError, match=r"KrusellSmith\.wealth_min must exceed the natural "
                                         r"borrowing limit"):
        KrusellSmith(**dict(OWN, wealth_min=-100.0))

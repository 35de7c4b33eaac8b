"""hm.horizon_stability: moments of the learned economy block by block, each block as long as
a training path. Benchmarks: the first-order start of Huggett is the linear (sequence-space)
solution, whose standard deviations are known in closed form from its impulse responses
(hm.first_order_moments); every block, far beyond the training horizon, must reproduce them
and agree with the first block within its standard errors. A planted drift must be flagged."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import hank_mfg as hm
from hank_mfg.analysis import aggregate_risk as ar
from hank_mfg.solvers import continuous as C
from models.huggett import Huggett

jax.config.update("jax_enable_x64", True)


@pytest.fixture(scope="module")
def huggett():
    m = Huggett(n_wealth=30)
    ss = hm.steady_state(m)
    P = C.savings_problem(m, ss, start="first-order", horizon=60)
    return P, P.make_policy(key=jax.random.key(0))


@pytest.fixture(scope="module")
def huggett_at_rest():
    """The same economy with the steady-state start: the drift check below replaces the
    simulation, so it needs the problem's shape, not its first-order start."""
    m = Huggett(n_wealth=30)
    P = C.savings_problem(m, hm.steady_state(m), horizon=60)
    return P, P.make_policy(key=jax.random.key(0))


@pytest.mark.slow  # long: 5 blocks of 60 dates on 32 paths from the first-order start
def test_the_linear_solution_keeps_its_moments_far_beyond_the_training_horizon(huggett):
    P, policy = huggett
    out = hm.horizon_stability(P, policy, blocks=5, n_paths=32, variables=["r", "C"])
    assert out["block_T"] == 60 and out["burn_in"] == 15 and out["finite"]
    assert out["sd"]["r"].shape == (5,)
    want = hm.first_order_moments(P, variables=["r"])["sd"]["r"]
    # every block, the fifth ends at five training horizons, has the first-order s.d.
    np.testing.assert_allclose(out["sd"]["r"], want, rtol=0.2)   # measured 0.94 to 1.03
    assert abs(np.mean(out["sd"]["r"]) / want - 1) < 0.1
    assert out["z_mean"]["r"] < 4 and out["z_sd"]["r"] < 4, out   # measured 2.1 and 1.3
    for field, value in (("blocks", 1), ("n_paths", 1), ("block_T", 1)):
        with pytest.raises(ValueError, match=field):
            hm.horizon_stability(P, policy, **{field: value})


def test_a_drift_is_flagged(huggett_at_rest, monkeypatch):
    P, policy = huggett_at_rest
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(8, 15 + 4 * 60))
    trend = np.linspace(0.0, 3.0, 15 + 4 * 60)
    monkeypatch.setattr(ar, "simulate_aggregates",
                        lambda *a, **k: {"x": noise + trend, "y": noise.copy()})
    out = ar.horizon_stability(P, policy, blocks=4, n_paths=8)
    assert out["z_mean"]["x"] > 20 and out["z_mean"]["y"] < 4
    np.testing.assert_allclose(out["mean"]["x"][1:] - out["mean"]["x"][:-1], 60 * 3.0 / 254,
                               rtol=0.3)

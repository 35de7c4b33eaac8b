"""Devices: noise paths sharded over several devices give the single-device numbers; a training
chunk makes no host transfers (GPU-readiness)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hank_mfg as hm
from models.rspg_macro import RSPGMacro

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SHARDED = r"""
import json, sys
import equinox as eqx, jax, numpy as np
import hank_mfg as hm
import hank_mfg.solvers.rspg as rspg
import hank_mfg.solvers.training as training
from models.rspg_macro import RSPGMacro

model = RSPGMacro(n_wealth=12, n_income=3, n_actions=6, horizon=6)
cfg = hm.RSPGConfig.fast(iterations=4, n_paths=4, eval_paths=4, hidden=8, widths=(8,),
                         n_knots=4, eval_every=2, seed=1)

def run():
    sol = hm.solve(model, "rspg", cfg, progress=False)
    leaves = jax.tree_util.tree_leaves(eqx.filter(sol.policy, eqx.is_array))
    return dict(loss=sol.history.loss.tolist()[1:], expl=sol.history.exploitability.tolist(),
                leaves=[np.asarray(x, dtype=float).ravel().tolist() for x in leaves])

sharding = training.path_sharding(4)
out = dict(devices=jax.device_count(), mesh=int(sharding.mesh.size), sharded=run())
rspg.path_sharding = training.path_sharding = lambda n: None   # every path on the first device
out["single"] = run()
print(json.dumps(out))
"""


@pytest.mark.slow
def test_paths_sharded_over_four_devices_match_one_device():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    res = subprocess.run([sys.executable, "-c", SHARDED], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["devices"] == 4 and out["mesh"] == 4
    a, b = out["sharded"], out["single"]
    np.testing.assert_allclose(a["loss"], b["loss"], rtol=1e-5)
    np.testing.assert_allclose(a["expl"], b["expl"], rtol=1e-4, atol=1e-6)
    for x, y in zip(a["leaves"], b["leaves"]):
        np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-6)


def test_training_chunk_makes_no_host_transfers():
    """Once compiled, a chunk of iterations (sampling, rollout, values, gradient, Adam) runs
    with every transfer between host and device disallowed: nothing leaves the device."""
    from hank_mfg.solvers.rspg import _DiscreteRun

    cfg = hm.RSPGConfig.fast(iterations=4, n_paths=2, eval_paths=2, hidden=8, widths=(8,),
                             n_knots=4)
    run = _DiscreteRun(RSPGMacro(n_wealth=12, n_income=3, n_actions=6, horizon=6), "rspg", cfg)
    start, steps = jnp.asarray(0), jnp.arange(2)
    jax.block_until_ready(run.train_chunk(run.params, run.opt_state, cfg, start, steps))
    with jax.transfer_guard("disallow"):
        out = run.train_chunk(run.params, run.opt_state, cfg, start, steps)
        jax.block_until_ready(out)
    assert np.all(np.isfinite(np.asarray(out[2])))

"""Devices: every CPU core a device by default; noise paths sharded over several devices give the
single-device numbers; a training chunk makes no host transfers (GPU-readiness)."""

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


SAVINGS_SHARDED = r"""
import json
import equinox as eqx, jax, numpy as np
jax.config.update("jax_enable_x64", True)
import hank_mfg as hm
import hank_mfg.solvers.rspg as rspg
import hank_mfg.solvers.training as training
from models.hank import OneAssetHANK

model = OneAssetHANK(n_wealth=12, n_income=3)
cfg = hm.RSPGConfig.continuous(start="first-order", iterations=3, n_paths=4, eval_paths=2,
                               eval_every=3, horizon=12, control_lags=4, hidden=8, widths=(8,),
                               n_knots=8, seed=2)

def run():
    sol = hm.solve(model, "rspg", cfg, progress=False)
    leaves = jax.tree_util.tree_leaves(eqx.filter(sol.policy, eqx.is_array))
    # the solution's own certificates after the solve: its parameters on any devices
    again = float(hm.euler_errors(sol, key=jax.random.key(5), n_paths=4).mean_log10)
    return dict(expl=sol.history.exploitability.tolist(),
                euler=sol.history.euler_mean.tolist() + [again],
                leaves=[np.asarray(x, dtype=float).ravel().tolist() for x in leaves])

out = dict(devices=jax.device_count(), mesh=int(training.path_sharding(4).mesh.size),
           eval_mesh=int(training.path_sharding(2).mesh.size), sharded=run())
rspg.path_sharding = training.path_sharding = lambda n: None   # every path on the first device
out["single"] = run()
print(json.dumps(out))
"""


@pytest.mark.slow
def test_savings_paths_sharded_over_devices_match_one_device():
    """The continuous-choice solver (the HANK's first-order start, its clearing and EGM reading)
    with its 4 training paths on 4 CPU devices and its 2 evaluation paths on 2 gives the single
    device's certificates and weights, and the solution's Euler errors on 4 new paths after."""
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    res = subprocess.run([sys.executable, "-c", SAVINGS_SHARDED], capture_output=True,
                         text=True, env=env, cwd=ROOT, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["devices"] == 4 and out["mesh"] == 4 and out["eval_mesh"] == 2
    a, b = out["sharded"], out["single"]
    np.testing.assert_allclose(a["expl"], b["expl"], rtol=1e-6)
    np.testing.assert_allclose(a["euler"], b["euler"], rtol=1e-8)
    for x, y in zip(a["leaves"], b["leaves"]):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-10)


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


# ---------------------------------------------------------------------------------------------
# a CPU device per core
# ---------------------------------------------------------------------------------------------
def _fresh(monkeypatch, flags=None, env=None):
    """``hank_mfg.devices`` as before JAX starts, with the given environment."""
    import hank_mfg.devices as devices

    monkeypatch.setattr(devices, "_started", lambda: False)
    for name, value in (("XLA_FLAGS", flags), (devices.ENV, env)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return devices


def test_cpu_devices_one_per_core_unless_named(monkeypatch):
    devices = _fresh(monkeypatch, flags="--xla_backend_optimization_level=0")
    n = devices.use_cpu_cores()
    assert n == devices.available_cores() >= 1
    assert os.environ["XLA_FLAGS"].split() == ["--xla_backend_optimization_level=0",
                                               f"{devices.FLAG}={n}"]
    # the environment variable names the count; an explicit call replaces it
    devices = _fresh(monkeypatch, env="3")
    assert devices.use_cpu_cores() == 3 and os.environ["XLA_FLAGS"] == f"{devices.FLAG}=3"
    assert devices.use_cpu_cores(2) == 2 and os.environ["XLA_FLAGS"] == f"{devices.FLAG}=2"
    # a count already in XLA_FLAGS is kept
    devices = _fresh(monkeypatch, flags=f"{devices.FLAG}=4", env="1")
    assert devices.use_cpu_cores() == 4 and os.environ["XLA_FLAGS"] == f"{devices.FLAG}=4"


@pytest.mark.parametrize("env", ["two", "0"])
def test_a_bad_device_count_is_refused_by_name(monkeypatch, env):
    devices = _fresh(monkeypatch, env=env)
    with pytest.raises(ValueError, match="HANK_MFG_CPU_DEVICES"):
        devices.use_cpu_cores()
    with pytest.raises(ValueError, match="use_cpu_cores.n"):
        devices.use_cpu_cores(0)


def test_importing_hank_mfg_gives_jax_a_device_per_core():
    """In a fresh process without a count named anywhere, ``import hank_mfg`` leaves JAX with
    one CPU device per core; once JAX has started the count is what it is."""
    code = ("import hank_mfg as hm, jax; "
            "print(jax.device_count(), hm.available_cores(), hm.use_cpu_cores(7))")
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "HANK_MFG_CPU_DEVICES")}
    env["PYTHONPATH"] = ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    count, cores, later = map(int, res.stdout.split())
    assert count == cores == later


def test_paths_use_the_most_devices_that_divide_them(monkeypatch):
    import hank_mfg.solvers.training as training

    monkeypatch.setattr(training.jax, "devices", lambda: list(range(3)))
    seen = {}
    monkeypatch.setattr(training.jax.sharding, "Mesh",
                        lambda d, names: seen.setdefault("mesh", (list(d), names)))
    monkeypatch.setattr(training.jax.sharding, "NamedSharding", lambda mesh, spec: mesh)
    assert training.path_sharding(8) == ([0, 1], ("paths",))
    assert training.path_sharding(7) is None

"""What one CPU device per core buys a HANK training step.

    python benchmarks/bench_devices.py --n-wealth 100 --batches 4

The one-asset HANK from the risk-adjusted start (``RSPGConfig.continuous(start=
"risk-adjusted")``): seconds per rollout of 8 paths and per training gradient (the preset's
control variate, scaling and EGM reading), the median over ``--batches`` batches after a
warm-up one, in one process per device count (``HANK_MFG_CPU_DEVICES``; default 1 and one per
core), the same batches and untrained policy in each; the gradients' largest relative gap to
the one-device gradient. Writes ``benchmarks/results/devices_<n_wealth>.json`` and prints a
table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_rspg import write_json  # noqa: E402


def measure(n_wealth: int, batches: int) -> dict:
    """Run in a child process: the timings on this process's devices."""
    import equinox as eqx
    import jax
    import numpy as np

    import hank_mfg as hm  # sets the device count from HANK_MFG_CPU_DEVICES
    from hank_mfg.policies.savings import trainable
    from hank_mfg.solvers import continuous as C
    from hank_mfg.solvers.training import path_sharding, placed
    from models.hank import OneAssetHANK

    jax.config.update("jax_enable_x64", True)
    model = OneAssetHANK(n_wealth=n_wealth)
    problem = C.savings_problem(model, hm.steady_state(model), start="risk-adjusted")
    config = hm.RSPGConfig.continuous(start="risk-adjusted")
    policy = problem.make_policy(key=jax.random.key(0), **config.savings_architecture())
    params, static = eqx.partition(policy, trainable(policy))
    sharding = path_sharding(config.n_paths)
    eps = [placed(problem.sample_noise(key=jax.random.key(100 + i), n_paths=config.n_paths))
           for i in range(batches + 1)]
    grad = eqx.filter_jit(lambda p, e: C.savings_value_and_grad(
        p, static, problem, e, config.control_lags, config.precondition, config.continuation,
        sharding)[1])
    roll = eqx.filter_jit(lambda p, e: C.savings_rollout_batch(
        problem, eqx.combine(p, static), e).c)

    def seconds(f):
        jax.block_until_ready(f(params, eps[0]))   # compile
        wall, cpu = [], []
        for e in eps[1:]:
            t, c = time.perf_counter(), time.process_time()
            jax.block_until_ready(f(params, e))
            wall.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        return float(np.median(wall)), float(np.median(cpu))

    g = grad(params, eps[1])
    rollout, gradient = seconds(roll), seconds(grad)
    return dict(devices=jax.device_count(), mesh=0 if sharding is None else sharding.mesh.size,
                rollout_s=rollout[0], rollout_cpu_s=rollout[1], gradient_s=gradient[0],
                gradient_cpu_s=gradient[1],
                gradient=[np.asarray(x).ravel().tolist() for x in jax.tree_util.tree_leaves(g)])


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-wealth", type=int, default=100)
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--devices", type=int, nargs="+", default=None,
                    help="device counts to compare (default: 1 and one per core)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results"))
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.n_wealth, args.batches)))
        return {}

    import numpy as np

    from hank_mfg.devices import available_cores

    counts = args.devices or sorted({1, available_cores()})
    rows = []
    for n in counts:
        env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
        env["HANK_MFG_CPU_DEVICES"] = str(n)
        res = subprocess.run([sys.executable, os.path.abspath(__file__), "--child",
                              "--n-wealth", str(args.n_wealth), "--batches", str(args.batches)],
                             capture_output=True, text=True, env=env, cwd=ROOT, check=True)
        rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
    base = rows[0]
    reference = [np.asarray(x) for x in base["gradient"]]
    for r in rows:
        leaves = [np.asarray(x) for x in r.pop("gradient")]
        r["gradient_gap"] = max(float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))
                                for a, b in zip(leaves, reference))
    print("devices  rollout s (CPU s)   gradient s (CPU s)   x one device   gradient gap")
    for r in rows:
        print(f"{r['devices']:7d}  {r['rollout_s']:6.3f} ({r['rollout_cpu_s']:.2f})     "
              f"{r['gradient_s']:6.3f} ({r['gradient_cpu_s']:.2f})      "
              f"{r['gradient_s'] / base['gradient_s']:.2f}          {r['gradient_gap']:.1e}")
    out = dict(n_wealth=args.n_wealth, batches=args.batches, rows=rows)
    write_json(args.out, f"devices_{args.n_wealth}.json", out)
    return out


if __name__ == "__main__":
    main()

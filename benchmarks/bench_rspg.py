"""RSPG/SPG on the paper's macro model: compile time, seconds per iteration, exploitability vs wall time.

Usage (from the repository root):
    python benchmarks/bench_rspg.py --horizon 128 --iterations 50 --method rspg
    python benchmarks/bench_rspg.py --all          # the table of docs/performance.md

Each configuration runs in its own process so that peak memory (max RSS) is per run.
Reference: the paper's own library needs ~10 s/iteration at full size (1000 states,
horizon 128, 8 paths) and ~2.4 s at horizon 32 on a 2-core machine (compile 14 s, 6 GB peak),
reaching exploitability 3.61 after 20 iterations and 2.96 after 50 (full size), 0.60 after 100
iterations (horizon 32).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def run_one(method: str, horizon: int, iterations: int, eval_every: int, seed: int) -> dict:
    import jax

    import hank_mfg as hm
    from models.rspg_macro import RSPGMacro

    model = RSPGMacro(horizon=horizon)
    cfg = hm.RSPGConfig(iterations=iterations, eval_every=eval_every, seed=seed)
    # Compile time: one chunk of `eval_every` iterations is compiled on first use; time a
    # 1-iteration throwaway solve (compiles the eval and a 1-step chunk) separately.
    t0 = time.perf_counter()
    hm.solve(model, method, hm.RSPGConfig(iterations=1, eval_every=1, seed=seed), progress=False)
    compile_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    sol = hm.solve(model, method, cfg, progress=False)
    total = time.perf_counter() - t0
    h = sol.history
    # seconds per iteration from the chunks after the first (the first includes compilation)
    secs = h.seconds.to_numpy()
    its = h.iteration.to_numpy()
    per_it = (secs[-1] - secs[1]) / max(its[-1] - its[1], 1) if len(h) > 2 else secs[-1] / its[-1]
    return dict(
        method=method, horizon=horizon, iterations=iterations, compile_s=compile_s,
        s_per_iteration=per_it, total_s=total,
        peak_rss_gb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
        history=h.to_dict(orient="list"), device=str(jax.devices()[0]), jax=jax.__version__,
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", default="rspg")
    ap.add_argument("--horizon", type=int, default=32)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--eval-every", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--all", action="store_true", help="run the full table, one process each")
    ap.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results"))
    args = ap.parse_args()
    if not args.all:
        res = run_one(args.method, args.horizon, args.iterations, args.eval_every, args.seed)
        print(json.dumps(res))
        return
    os.makedirs(args.out, exist_ok=True)
    rows = []
    for horizon, iters, every in ((128, 50, 10), (32, 100, 10)):
        for method in ("rspg", "spg"):
            cmd = [sys.executable, __file__, "--method", method, "--horizon", str(horizon),
                   "--iterations", str(iters), "--eval-every", str(every), "--seed", str(args.seed)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            res = json.loads(out.strip().splitlines()[-1])
            rows.append(res)
            h = res["history"]
            print(f"{method:5s} T={horizon:4d} compile {res['compile_s']:.1f}s  "
                  f"{res['s_per_iteration']:.3f} s/it  peak {res['peak_rss_gb']:.2f} GB  "
                  f"expl {h['exploitability'][0]:.3f} -> {h['exploitability'][-1]:.3f}", flush=True)
            for it, s, ex in zip(h["iteration"], h["seconds"], h["exploitability"]):
                print(f"      it {it:4d}  {s:8.1f}s  exploitability {ex:.4f}")
    with open(os.path.join(args.out, "bench_rspg.json"), "w") as f:
        json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()

"""RSPG/SPG on the paper's macro model: compile time, seconds per iteration, exploitability vs wall time.

Usage (from the repository root):
    python benchmarks/bench_rspg.py --horizon 128 --iterations 50 --method rspg
    python benchmarks/bench_rspg.py --all          # the table of docs/performance.md

Continuous savings choices (docs/theory.md §12) on Krusell–Smith (sequence-jacobian's
calibration, 500 x 7) and Huggett with aggregate risk, knot head against the per-state head:
    python benchmarks/bench_rspg.py --continuous ks --head knots --iterations 150
    python benchmarks/bench_rspg.py --continuous-all   # the continuous table of docs/performance.md
Reported: seconds (with compilation) to a relative exploitability of 1e-3, seconds per
iteration, Euler errors, the market residual, peak memory and the largest gap of the learned
response to a one-time shock against the perfect-foresight transition (first 40 quarters).

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


def continuous_model(name: str, n_wealth: int | None = None):
    """The benchmark's continuous-choice models: ``ks`` (sequence-jacobian's Krusell–Smith
    calibration, 500 x 7, TFP shocks rho 0.95, sigma 0.007) and ``huggett`` (200 x 3)."""
    if name == "ks":
        from models.krusell_smith import KrusellSmith

        return KrusellSmith(alpha=0.11, tfp=0.8816460975, beta=0.9819527881,
                            **({} if n_wealth is None else dict(n_wealth=n_wealth)))
    if name == "huggett":
        from models.huggett import Huggett

        return Huggett(**({} if n_wealth is None else dict(n_wealth=n_wealth)))
    raise ValueError(f"--continuous must be ks or huggett; got {name!r}")


def run_continuous(name: str, head: str, iterations: int, eval_every: int, seed: int,
                   n_wealth: int | None, lr: float) -> dict:
    import jax
    import jax.numpy as jnp
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    import hank_mfg as hm
    from hank_mfg.analysis.aggregate_risk import irf_gap, learned_irf

    t_start = time.perf_counter()
    model = continuous_model(name, n_wealth)
    cfg = hm.RSPGConfig.continuous(iterations=iterations, eval_every=eval_every, seed=seed,
                                   savings_head=head, lr=lr, lr_final=lr / 10)
    sol = hm.solve(model, "rspg", cfg, progress=False)
    total = time.perf_counter() - t_start
    h = sol.history
    secs, its = h.seconds.to_numpy(), h.iteration.to_numpy()
    per_it = (secs[-1] - secs[1]) / max(its[-1] - its[1], 1) if len(h) > 2 else secs[-1] / its[-1]
    reached = h[h.relative_exploitability < 1e-3]
    # wall time to the first evaluation below 1e-3, counting set-up and compilation
    setup = total - secs[-1]
    to_1e3 = float(setup + reached.seconds.iloc[0]) if len(reached) else None
    # validation against the perfect-foresight transition (40 quarters)
    ss = hm.steady_state(model)
    T = 40
    if name == "ks":
        size, rho, variables = 0.01, float(model.rho_z), ("K", "C", "r")
        pf = hm.transition_path(model, steady_state=ss, z=size * rho ** jnp.arange(300))
    else:
        shock = model.shocks()[0]
        size, rho, variables = 0.01, float(shock.rho), ("r", "C")
        pf = hm.transition_path(model, steady_state=ss,
                                shocks={shock.name: size * rho ** jnp.arange(300)})
    ref = {v: np.asarray(pf[v][:T]) - float(ss[v]) for v in variables}
    irf = learned_irf(sol, {sol.problem.shock_names[0]: size}, T=T)
    gap = irf_gap(irf, ref, variables)
    return dict(
        model=name, head=head, iterations=iterations, n_states=int(sol.problem.mu_ss.size),
        horizon=sol.problem.horizon, s_per_iteration=per_it, setup_and_compile_s=setup,
        total_s=total, seconds_to_rel_1e3=to_1e3,
        peak_rss_gb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
        irf_gap={v: gap[v] for v in variables},
        irf_learned={v: irf[v].tolist() for v in variables},
        irf_perfect_foresight={v: ref[v].tolist() for v in variables},
        history=h.to_dict(orient="list"), device=str(jax.devices()[0]), jax=jax.__version__,
    )


def _run_json(cmd) -> dict:
    """Run one configuration in its own process (peak memory per run); its last stdout line is JSON."""
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--continuous", choices=("ks", "huggett"), default=None,
                    help="continuous savings choices on this model")
    ap.add_argument("--head", default="knots", choices=("knots", "state"))
    ap.add_argument("--n-wealth", type=int, default=None, help="override the wealth grid")
    ap.add_argument("--lr", type=float, default=3e-3, help="continuous choices: Adam lr")
    ap.add_argument("--continuous-all", action="store_true",
                    help="the continuous-choice table, one process each")
    ap.add_argument("--method", default="rspg")
    ap.add_argument("--horizon", type=int, default=32)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--eval-every", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--all", action="store_true", help="run the full table, one process each")
    ap.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results"))
    args = ap.parse_args()
    if args.continuous:
        res = run_continuous(args.continuous, args.head, args.iterations, args.eval_every,
                             args.seed, args.n_wealth, args.lr)
        print(json.dumps(res))
        return
    if args.continuous_all:
        os.makedirs(args.out, exist_ok=True)
        rows = []
        for name, head, iters in (("ks", "knots", 150), ("ks", "state", 150),
                                  ("huggett", "knots", 150)):
            cmd = [sys.executable, __file__, "--continuous", name, "--head", head,
                   "--iterations", str(iters), "--eval-every", "25", "--seed", str(args.seed),
                   "--lr", repr(args.lr)]
            res = _run_json(cmd)
            rows.append(res)
            h = res["history"]
            print(f"{name:8s} {head:6s} n_s={res['n_states']} T={res['horizon']} "
                  f"{res['s_per_iteration']:.2f} s/it  set-up+compile {res['setup_and_compile_s']:.0f}s "
                  f"to rel 1e-3: {res['seconds_to_rel_1e3']}  peak {res['peak_rss_gb']:.2f} GB  "
                  f"rel expl {h['relative_exploitability'][0]:.2e} -> "
                  f"{h['relative_exploitability'][-1]:.2e}  Euler mean {h['euler_mean'][-1]:.2f} "
                  f"max {h['euler_max'][-1]:.2f}  residual {max(h['market_residual']):.1e}  "
                  f"IRF gap {res['irf_gap']}", flush=True)
        with open(os.path.join(args.out, "bench_rspg_continuous.json"), "w") as f:
            json.dump(rows, f, indent=1)
        return
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
            res = _run_json(cmd)
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

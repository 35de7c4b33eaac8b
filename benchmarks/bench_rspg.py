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

Time to exploitability (the command a user runs, counted from the process's start: imports,
model construction, compilation, evaluations), paper and fast presets, RSPG and SPG:
    python benchmarks/bench_rspg.py --time-to-exploitability
    python benchmarks/bench_rspg.py --time-to-exploitability --presets fast --seeds 0 1 2
Reported: seconds to exploitability 3.0 and 1.0 at T = 128 and 0.6 at T = 32, beside the paper's
library (reference times below), and the figure docs/img/rspg_time_to_exploitability.png.

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


def write_json(directory: str, name: str, data: dict) -> str:
    """Write a benchmark's result ``data`` to ``directory/name`` (made if missing); its path."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        json.dump(data, f, indent=1)
    return path


def seconds_per_iteration(history) -> float:
    """Seconds per iteration from a run's history, over the chunks after the first (the first
    includes compilation); the whole run's mean when it has a single chunk."""
    secs, its = history.seconds.to_numpy(), history.iteration.to_numpy()
    if len(history) > 2:
        return float((secs[-1] - secs[1]) / max(its[-1] - its[1], 1))
    return float(secs[-1] / its[-1])


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
    per_it = seconds_per_iteration(h)
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
    per_it = seconds_per_iteration(h)
    reached = h[h.relative_exploitability < 1e-3]
    # wall time to the first evaluation below 1e-3, counting set-up and compilation
    setup = total - float(h.seconds.iloc[-1])
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


#: The paper's library on a 2-core CPU: (seconds, exploitability) from its start, its RSPG at
#: its default settings (measured beside this toolkit; see docs/performance.md).
PAPER_LIBRARY = {
    128: [(0.0, 88.2), (80.0, 5.55), (249.0, 3.61), (567.0, 2.96)],
    32: [(0.0, 62.9), (39.0, 2.55), (269.0, 0.60)],
}
#: Exploitability levels timed at each horizon.
LEVELS = {128: (3.0, 1.0), 32: (0.6,)}
#: Iterations and evaluation cadence of each preset's run at each horizon.
RUNS = {("paper", 128): (60, 10), ("paper", 32): (100, 10),
        ("fast", 128): (100, 10), ("fast", 32): (60, 5)}


def seconds_to(history: dict, level: float, column: str = "wall_seconds"):
    """Wall seconds at the first evaluation with exploitability at or below ``level``."""
    for ex, s in zip(history["exploitability"], history[column]):
        if ex <= level:
            return float(s)
    return None


def run_cli(preset: str, method: str, horizon: int, seed: int, out_root: str) -> dict:
    """``hank-mfg solve models/rspg_macro.py --preset ...`` in its own process, as a user runs it;
    its history (``wall_seconds`` from the process start) and total wall time."""
    import pandas as pd

    iters, every = RUNS[(preset, horizon)]
    out = os.path.join(out_root, f"{preset}_{method}_T{horizon}_s{seed}")
    cmd = [sys.executable, "-m", "hank_mfg.cli", "solve", os.path.join(ROOT, "models", "rspg_macro.py"),
           "--method", method, "--preset", preset, "--iterations", str(iters), "--eval-every",
           str(every), "--horizon", str(horizon), "--seed", str(seed), "--out", out,
           "--overwrite", "--no-progress"]
    t0 = time.perf_counter()
    subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    total = time.perf_counter() - t0
    h = pd.read_csv(os.path.join(out, "history.csv")).to_dict(orient="list")
    return dict(preset=preset, method=method, horizon=horizon, seed=seed, iterations=iters,
                total_s=total, history=h,
                reached={str(lv): seconds_to(h, lv) for lv in LEVELS[horizon]})


def time_to_exploitability(presets, methods, seeds, out_root) -> list[dict]:
    rows = []
    for horizon in (128, 32):
        for preset in presets:
            for method in methods:
                for seed in seeds:
                    res = run_cli(preset, method, horizon, seed, out_root)
                    rows.append(res)
                    h = res["history"]
                    print(f"{preset:5s} {method:4s} T={horizon:3d} seed {seed}: total "
                          f"{res['total_s']:.0f}s  first evaluation at {h['wall_seconds'][0]:.1f}s  "
                          f"reached {res['reached']}  final {h['exploitability'][-1]:.3f} at "
                          f"it {h['iteration'][-1]}", flush=True)
    return rows


def plot_time_to_exploitability(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=False)
    styles = {("paper", "rspg"): ("C0", "-"), ("paper", "spg"): ("C0", "--"),
              ("fast", "rspg"): ("C3", "-"), ("fast", "spg"): ("C3", "--")}
    for ax, horizon in zip(axes, (128, 32)):
        seen = set()
        for r in rows:
            if r["horizon"] != horizon:
                continue
            color, ls = styles[(r["preset"], r["method"])]
            label = f"{r['preset']} {r['method'].upper()}"
            ax.plot(r["history"]["wall_seconds"], r["history"]["exploitability"], color=color,
                    ls=ls, marker=".", alpha=0.8, label=None if label in seen else label)
            seen.add(label)
        ref = PAPER_LIBRARY[horizon]
        ax.plot([x for x, _ in ref], [y for _, y in ref], "k:", marker="s", label="paper's library")
        for lv in LEVELS[horizon]:
            ax.axhline(lv, color="grey", lw=0.5)
        ax.set_yscale("log")
        ax.set_xlabel("wall seconds since the command started")
        ax.set_ylabel("exploitability (8 evaluation paths)")
        ax.set_title(f"paper's macro model, T = {horizon}")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def run_scale(n_wealth: int, n_paths: int, horizon: int, iterations: int) -> dict:
    """Seconds per iteration and peak memory of the fast preset's RSPG at one size (one process)."""
    import jax
    import jax.numpy as jnp

    from hank_mfg.solvers.rspg import RSPGConfig, _DiscreteRun
    from models.rspg_macro import RSPGMacro

    cfg = RSPGConfig.fast(n_paths=n_paths, eval_paths=min(n_paths, 8))
    t0 = time.perf_counter()
    run = _DiscreteRun(RSPGMacro(horizon=horizon, n_wealth=n_wealth), "rspg", cfg)
    steps = jnp.arange(iterations)
    out = run.train_chunk(run.params, run.opt_state, cfg, jnp.asarray(0), steps)
    jax.block_until_ready(out)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = run.train_chunk(out[0], out[1], cfg, jnp.asarray(iterations), steps)
    jax.block_until_ready(out)
    per_it = (time.perf_counter() - t0) / iterations
    return dict(n_states=n_wealth * 5, n_paths=n_paths, horizon=horizon, s_per_iteration=per_it,
                setup_and_compile_s=first - per_it * iterations,
                peak_rss_gb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
                device=str(jax.devices()[0]))


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
    ap.add_argument("--time-to-exploitability", action="store_true",
                    help="seconds to exploitability levels through the CLI, by preset and method")
    ap.add_argument("--presets", nargs="+", default=["paper", "fast"])
    ap.add_argument("--scale", action="store_true",
                    help="seconds per iteration and peak memory as states and paths grow")
    ap.add_argument("--scale-one", nargs=3, type=int, metavar=("N_WEALTH", "N_PATHS", "T"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--methods", nargs="+", default=["rspg", "spg"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results"))
    args = ap.parse_args()
    if args.scale_one:
        print(json.dumps(run_scale(*args.scale_one, iterations=args.iterations)))
        return
    if args.scale:
        os.makedirs(args.out, exist_ok=True)
        rows = []
        sizes = [(200, 8), (800, 8), (3200, 8), (12800, 8)] + [(200, p) for p in (32, 128, 256)]
        for n_wealth, n_paths in sizes:
            res = _run_json([sys.executable, __file__, "--scale-one", str(n_wealth), str(n_paths),
                             str(args.horizon), "--iterations", str(args.iterations)])
            rows.append(res)
            print(f"states {res['n_states']:6d} paths {n_paths:4d} T={args.horizon}: "
                  f"{res['s_per_iteration']:.3f} s/it  set-up+compile "
                  f"{res['setup_and_compile_s']:.1f}s  peak {res['peak_rss_gb']:.2f} GB", flush=True)
        with open(os.path.join(args.out, "bench_rspg_scale.json"), "w") as f:
            json.dump(rows, f, indent=1)
        return
    if args.time_to_exploitability:
        os.makedirs(args.out, exist_ok=True)
        rows = time_to_exploitability(args.presets, args.methods, args.seeds,
                                      os.path.join(args.out, "runs"))
        with open(os.path.join(args.out, "bench_time_to_exploitability.json"), "w") as f:
            json.dump(rows, f, indent=1)
        plot_time_to_exploitability(rows, os.path.join(ROOT, "docs", "img",
                                                       "rspg_time_to_exploitability.png"))
        return
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

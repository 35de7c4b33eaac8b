"""The paper's benchmark: structural methods (RSPG, SPG) against model-free learners (IPPO,
recurrent IPPO, M-OMD) on the linear-quadratic game, the beach bar and the macro model.

Usage (from the repository root):
    python benchmarks/bench_paper.py                       # every game, method and seed below
    python benchmarks/bench_paper.py --games lq --methods rspg ippo --seeds 0 1 2 --budget 60

Each (game, method, seed) runs in its own process for a fixed wall-clock budget, counted from
the process's start (imports, model construction, compilation and the exact evaluations are
all inside it); exploitability is evaluated exactly on the same fixed evaluation paths for every
method. Written: ``benchmarks/results/paper.csv`` (every evaluation), the table of
docs/performance.md (exploitability at a quarter, half and all of the budget: mean over seeds
and a 95% t-interval) and the figure ``docs/img/paper_benchmark.png``.
"""

from __future__ import annotations

import time

T_START = time.perf_counter()  # before the imports: the wall clock a user waits through

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

GAMES = {"lq": "linear-quadratic", "beach": "beach bar", "macro": "macro (T = 32)"}
METHODS = ("rspg", "spg", "ippo", "rippo", "m-omd")
#: Wall-clock budget of one run, seconds, by game.
BUDGET = {"lq": 40.0, "beach": 40.0, "macro": 75.0}


class _OutOfTime(Exception):
    pass


def _model(game: str):
    if game == "lq":
        from models.linear_quadratic import LinearQuadratic

        return LinearQuadratic()
    if game == "beach":
        from models.beach_bar import BeachBar

        return BeachBar()
    from models.rspg_macro import RSPGMacro

    return RSPGMacro(horizon=32)


def _config(game: str, method: str, seed: int):
    import hank_mfg as hm

    if method in ("rspg", "spg"):
        if game == "macro":  # the speed preset of the macro model (knot head)
            return hm.RSPGConfig.fast(iterations=10_000, eval_every=10, seed=seed)
        # the paper's network and schedule, the output layer at its default scale
        return hm.RSPGConfig(iterations=2_000, eval_every=20, head_scale=1.0, seed=seed)
    return hm.RLConfig.for_method(method, iterations=2_000, eval_every=10, seed=seed)


def run_one(game: str, method: str, seed: int, budget: float) -> list[dict]:
    """One run until the budget is spent; every evaluation as a row."""
    import jax

    import hank_mfg as hm

    jax.config.update("jax_enable_x64", False)
    rows: list[dict] = []

    def record(row):
        rows.append(dict(row))
        if row["wall_seconds"] > budget:
            raise _OutOfTime

    model = _model(game)
    try:
        hm.solve(model, method, _config(game, method, seed), progress=False, callback=record,
                 started=T_START)
    except _OutOfTime:
        pass
    return rows


def _interval(values):
    """Mean and the half-width of a 95% t-interval (0 with one value)."""
    import numpy as np
    from scipy import stats

    v = np.asarray(values, dtype=float)
    if v.size < 2:
        return float(v.mean()), 0.0
    return float(v.mean()), float(stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))


def _at(rows, t):
    """The exploitability of the last evaluation at or before wall time ``t``."""
    before = [r for r in rows if r["wall_seconds"] <= t]
    return before[-1]["exploitability"] if before else float("nan")


def table(frame, budgets) -> str:
    lines = ["| game | method | seeds | at 1/4 budget | at 1/2 budget | at the budget | "
             "evaluations |", "|---|---|---|---|---|---|---|"]
    for game in GAMES:
        sub = frame[frame.game == game]
        if sub.empty:
            continue
        b = budgets[game]
        for method in METHODS:
            runs = [g.to_dict("records") for _, g in sub[sub.method == method].groupby("seed")]
            if not runs:
                continue
            cells = []
            for frac in (0.25, 0.5, 1.0):
                m, h = _interval([_at(r, frac * b) for r in runs])
                cells.append(f"{m:.3g} ± {h:.2g}")
            n_eval = int(sum(len(r) for r in runs) / len(runs))
            lines.append(f"| {GAMES[game]} ({b:.0f} s) | {method.upper()} | {len(runs)} | "
                         + " | ".join(cells) + f" | {n_eval} |")
    return "\n".join(lines)


def figure(frame, budgets, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    games = [g for g in GAMES if g in set(frame.game)]
    fig, axes = plt.subplots(1, len(games), figsize=(5 * len(games), 3.6), squeeze=False)
    for ax, game in zip(axes[0], games):
        sub = frame[frame.game == game]
        grid = np.linspace(0, budgets[game], 60)
        for method in METHODS:
            runs = [g.to_dict("records") for _, g in sub[sub.method == method].groupby("seed")]
            if not runs:
                continue
            curves = np.array([[_at(r, t) for t in grid] for r in runs])
            stats = [_interval(c[np.isfinite(c)]) if np.isfinite(c).any() else (np.nan, 0.0)
                     for c in curves.T]
            m, h = np.array(stats).T
            ax.plot(grid, m, label=method.upper())
            ax.fill_between(grid, m - h, m + h, alpha=0.2)
        ax.set_yscale("log")
        ax.set_title(GAMES[game])
        ax.set_xlabel("wall seconds (from process start)")
        ax.set_ylabel("exploitability")
        ax.grid(alpha=0.3)
    axes[0][0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--games", nargs="+", default=list(GAMES), choices=list(GAMES))
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    ap.add_argument("--budget", type=float, default=None,
                    help="seconds per run (default: 40 for the toy games, 75 for the macro model)")
    ap.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results"))
    ap.add_argument("--one", nargs=3, metavar=("GAME", "METHOD", "SEED"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    budgets = {g: args.budget or BUDGET[g] for g in GAMES}
    if args.one:
        game, method, seed = args.one
        print(json.dumps(run_one(game, method, int(seed), budgets[game])))
        return

    import pandas as pd

    os.makedirs(args.out, exist_ok=True)
    csv = os.path.join(args.out, "paper.csv")
    rows = []
    for game in args.games:
        for seed in args.seeds:
            for method in args.methods:
                cmd = [sys.executable, os.path.abspath(__file__), "--one", game, method,
                       str(seed)] + (["--budget", str(args.budget)] if args.budget else [])
                out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=True)
                got = json.loads(out.stdout.strip().splitlines()[-1])
                for r in got:
                    rows.append(dict(game=game, method=method, seed=seed, **r))
                last = got[-1]
                print(f"{game:6s} {method:6s} seed {seed}: exploitability "
                      f"{got[0]['exploitability']:.4g} -> {last['exploitability']:.4g} at "
                      f"{last['wall_seconds']:.1f} s ({last['iteration']} iterations)", flush=True)
                pd.DataFrame(rows).to_csv(csv, index=False)
    frame = pd.DataFrame(rows)
    print(table(frame, budgets))
    print("figure:", figure(frame, budgets, os.path.join(ROOT, "docs", "img", "paper_benchmark.png")))


if __name__ == "__main__":
    main()

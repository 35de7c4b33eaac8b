"""What aggregate risk does to the economy's level: the ergodic means (antithetic pairs, Monte
Carlo standard errors) and the risky steady state against the deterministic steady state
(``hm.risky_steady_state``, docs/theory.md §12.10).

    python benchmarks/bench_risky_steady_state.py hank --untrained first-order risk-adjusted
            --checkpoints DIR ...
        the one-asset HANK 100 x 7: the untrained starts (the first-order one is certainty
        equivalent: the curvature of the aggregation alone) and each trained run
        (``bench_hank_risk.py --start first-order --iterations 150 --seed S`` writes DIR)
    python benchmarks/bench_risky_steady_state.py krusell-smith-unemployment --seeds 0 1 2
        den Haan, Judd and Juillard's Krusell-Smith economy: the Krusell-Smith algorithm's mean
        capital over ten 10,000-quarter paths (the gold standard of the ergodic mean) beside
        RSPG's, each against the steady state without aggregate risk

Writes JSON under ``--out`` (default benchmarks/results) and prints the tables.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

RUN = dict(T=2000, burn_in=200, n_pairs=8, seed=1, T_rest=800)


def _table(sol, variables, **kw):
    from hank_mfg.reports.continuous import risky_steady_state_table

    t0 = time.perf_counter()
    tab = risky_steady_state_table(sol, variables=variables, **{**RUN, **kw})
    print(tab.to_string(index=False), f"\n({time.perf_counter() - t0:.0f} s)", flush=True)
    return tab.replace({np.nan: None}).to_dict(orient="records")


def hank(args) -> dict:
    import hank_mfg as hm
    from bench_hank_risk import untrained
    from models.hank import OneAssetHANK

    model = OneAssetHANK(n_wealth=100)
    variables = ["Y", "C", "N", "w", "pi", "r", "i"]
    out = {}
    for start in args.untrained:
        print(f"untrained {start} start", flush=True)
        cfg = hm.RSPGConfig.continuous(iterations=1, seed=0, start=start)
        out[f"untrained {start}"] = _table(untrained(model, cfg), variables)
    for ckpt in args.checkpoints:
        print(ckpt, flush=True)
        out[ckpt] = _table(hm.load_solution(model, ckpt), variables)
    return out


def krusell_smith_unemployment(args) -> dict:
    import hank_mfg as hm
    from models.krusell_smith_unemployment import KrusellSmithUnemployment

    model = KrusellSmithUnemployment()
    ss = hm.steady_state(model)
    t0 = time.perf_counter()
    ks = hm.solve(model, method="krusell-smith")
    # the algorithm's mean capital over ten independent 10,000-quarter paths (keys 1-10)
    means = np.array([float(hm.den_haan_errors(ks, seed=k).K_mean) for k in range(1, 11)])
    K0 = float(ss.values["K"])
    out = dict(deterministic_K=K0, ks_seconds=time.perf_counter() - t0,
               ks_mean_K=float(means.mean()), ks_mean_K_se=float(means.std(ddof=1) / np.sqrt(10)),
               ks_mean_K_by_path=means.tolist())
    print(f"steady state without aggregate risk: K {K0:.4f}; Krusell-Smith algorithm, ten "
          f"paths: mean K {out['ks_mean_K']:.4f} (s.e. {out['ks_mean_K_se']:.4f}; "
          f"{100 * (out['ks_mean_K'] / K0 - 1):+.3f}% +- "
          f"{100 * out['ks_mean_K_se'] / K0:.3f}%)", flush=True)
    for seed in args.seeds:
        sol = hm.solve(model, method="rspg", config=hm.RSPGConfig.continuous(seed=seed),
                       progress=False)
        out[f"rspg_seed{seed}"] = _table(sol, ["K", "C", "r", "w"], T_rest=10)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("economy", choices=("hank", "krusell-smith-unemployment"))
    ap.add_argument("--untrained", nargs="*", default=[],
                    choices=("first-order", "risk-adjusted"),
                    help="untrained structural starts to measure")
    ap.add_argument("--checkpoints", nargs="*", default=[])
    ap.add_argument("--seeds", nargs="*", type=int, default=[0],
                    help="RSPG seeds (none: the Krusell-Smith algorithm alone)")
    ap.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results"))
    args = ap.parse_args()
    import jax

    jax.config.update("jax_enable_x64", True)
    os.makedirs(args.out, exist_ok=True)
    res = hank(args) if args.economy == "hank" else krusell_smith_unemployment(args)
    with open(os.path.join(args.out, f"bench_risky_steady_state_{args.economy}.json"), "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()

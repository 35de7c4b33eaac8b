"""The one-asset HANK at the effective lower bound under aggregate risk
(``OneAssetHANK.lower_bound()``, docs/models.md section 8): RSPG from the first-order start,
its certificates, how often and how long the rate sits at the floor (``hm.floor_statistics``),
and the ergodic means and risky steady state (``hm.risky_steady_state``) against the
deterministic steady state; ``--economies floor no_floor`` also runs the same economy without
the bound.

    python benchmarks/bench_hank_lower_bound.py [--seed 0] [--iterations 150] [--n-wealth 100]
        [--economies floor no_floor] [--out DIR]

Checkpoints go to ``DIR/<run>`` (resumable); the numbers are printed and written to
``DIR/<run>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def run(model, name, args) -> dict:
    import hank_mfg as hm

    ckpt = os.path.join(args.out, name)
    cfg = hm.RSPGConfig.continuous(start="first-order", seed=args.seed,
                                   iterations=args.iterations,
                                   eval_every=max(args.iterations // 3, 1))
    t0 = time.perf_counter()
    done = os.path.exists(os.path.join(ckpt, "state.json"))
    sol = hm.solve(model, "rspg", cfg, checkpoint_dir=ckpt, resume=done, progress=False)
    seconds = time.perf_counter() - t0
    h = sol.history
    cols = ["iteration", "relative_exploitability", "consumption_equivalent", "euler_mean",
            "euler_max", "market_residual", "nkpc_res_expected"]
    print(f"{name}: {seconds:.0f} s", flush=True)
    print(h[[c for c in cols if c in h]].to_string(index=False), flush=True)
    out = dict(seconds=seconds, history=h[[c for c in cols if c in h]].to_dict(orient="list"))
    if model.i_lb is not None:
        fs = hm.floor_statistics(sol, T=2000, burn_in=200, n_paths=8, seed=1)
        print(f"at the floor: {100 * fs['share']:.1f}% of quarters (s.e. "
              f"{100 * fs['share_se']:.1f}); spells {fs['spells']}; mean "
              f"{fs['mean_spell']:.2f}, longest {fs['max_spell']}", flush=True)
        for k in ("Y", "pi", "i", "r"):
            print(f"  mean {k}: at the floor {fs['at_floor'][k]:.5f}, off it "
                  f"{fs['off_floor'][k]:.5f}", flush=True)
        out["floor"] = {k: fs[k] for k in ("share", "share_se", "mean_spell", "max_spell")}
        out["floor"]["spells"] = {str(k): v for k, v in fs["spells"].items()}
    rss = hm.risky_steady_state(sol, T=1000, burn_in=200, n_pairs=4, seed=1, T_rest=500,
                                variables=["Y", "C", "pi", "r", "i"])
    print(json.dumps(rss, default=float, indent=1)[:2000], flush=True)
    out["risky_steady_state"] = rss
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--iterations", type=int, default=150)
    ap.add_argument("--n-wealth", type=int, default=100)
    ap.add_argument("--economies", nargs="+", default=["floor"], choices=("floor", "no_floor"),
                    help="with the bound (floor) and/or without it (no_floor)")
    ap.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results", "lower_bound"))
    args = ap.parse_args()
    import jax

    jax.config.update("jax_enable_x64", True)
    from models.hank import OneAssetHANK

    os.makedirs(args.out, exist_ok=True)
    models = {"floor": OneAssetHANK.lower_bound(n_wealth=args.n_wealth),
              "no_floor": OneAssetHANK.lower_bound(n_wealth=args.n_wealth, i_lb=None)}
    for key in args.economies:
        model = models[key]
        name = f"{key}_seed{args.seed}_it{args.iterations}_nw{args.n_wealth}"
        res = run(model, name, args)
        with open(os.path.join(args.out, name + ".json"), "w") as f:
            json.dump(res, f, default=float, indent=1)


if __name__ == "__main__":
    main()

"""Where each date's clearing of the one-asset HANK starts its search, and how many steps it takes.

    python benchmarks/bench_clearing.py --n-wealth 100 --iterations 10

``ForecastClearing`` zeroes the HANK's three targets at every date by Broyden steps, one
household evaluation each, and the household evaluations are nearly all of an RSPG
iteration's cost. From the first-order start (``RSPGConfig.continuous(start="first-order")``)
the search starts from yesterday's solution moved by the first-order change of today's unknowns
(``SavingsProblem.linear_nowcast``), and every household evaluation solves the consumption of
the households that save the borrowing limit by Newton's method from the steady state's root
in 6 steps (``SavingsProblem.uc_limit``) instead of 12 from a generic seed. For each variant —
yesterday's solution with 5 steps and the generic seed (how it was before), the same with the
steady state's seed, 4 steps from yesterday, and the nowcast with 4 (the default from a
first-order start) and 3 steps — on the same problem, policy and paths, in one process:

- the largest and median market residual along the evaluation paths (4 paths, the problem's
  horizon) of the untrained start, and the largest gap of consumption and inflation to the
  5-step run's;
- seconds per training iteration of the first-order preset (after a warm-up chunk of the same
  length, so without compilation).

Writes ``benchmarks/results/clearing_<n_wealth>.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

# (where the search starts, its steps, whether the borrowing-limit households' Newton
# iteration starts from the steady state's root)
VARIANTS = (("yesterday", 5, False), ("yesterday", 5, True), ("yesterday", 4, True),
            ("nowcast", 4, True), ("nowcast", 3, True))


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-wealth", type=int, default=100)
    ap.add_argument("--iterations", type=int, default=10,
                    help="timed training iterations per variant (two chunks of half)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results"))
    args = ap.parse_args(argv)

    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    import hank_mfg as hm
    from hank_mfg.solvers import continuous as cont
    from hank_mfg.solvers import rspg
    from models.hank import OneAssetHANK

    cfg = hm.RSPGConfig.continuous(iterations=args.iterations, eval_paths=4, seed=args.seed,
                                   start="first-order")
    run = rspg._SavingsRun(OneAssetHANK(n_wealth=args.n_wealth), "rspg", cfg)
    base, policy = run.problem, run.policy(run.params)

    def variant(start, steps, seeded):
        P = eqx.tree_at(lambda p: p.prices, base, dataclasses.replace(base.prices, steps=steps))
        if start == "yesterday":
            P = eqx.tree_at(lambda p: p.first_order.impact, P, None)
        if not seeded:
            P = eqx.tree_at(lambda p: p.uc_limit, P, None)
        return P

    half = max(args.iterations // 2, 1)
    chunk = jnp.arange(half)
    rows, ref = [], None
    for start, steps, seeded in VARIANTS:
        P = variant(start, steps, seeded)
        path = eqx.filter_jit(cont.savings_rollout_batch)(P, policy, run.eval_eps)
        res = np.abs(np.asarray(path.residual))
        C, pi = np.asarray(path.agg["C"]), np.asarray(path.agg["pi"])
        ref = (C, pi) if ref is None else ref
        train = eqx.filter_jit(lambda p, o, cs, it, n, P=P: rspg._savings_train_chunk(
            p, run.static, o, P, cs, it, n))
        cs = (cfg, run.make_optimizer, run.k_train, run.sharding)
        params, opt = run.params, run.opt_state
        out = train(params, opt, cs, jnp.asarray(0), chunk)       # compiles
        jax.block_until_ready(out)
        t0 = time.perf_counter()
        for k in (1, 2):
            out = train(out[0], out[1], cs, jnp.asarray(k * half), chunk)
            jax.block_until_ready(out)
        rows.append(dict(start=start, steps=steps, seeded_limit=seeded,
                         max_residual=float(res.max()), median_residual=float(np.median(res)),
                         gap_C=float(np.abs(C - ref[0]).max()),
                         gap_pi=float(np.abs(pi - ref[1]).max()),
                         seconds_per_iteration=(time.perf_counter() - t0) / (2 * half)))
        r = rows[-1]
        seed = "seeded" if seeded else "generic"
        print(f"{start:>9} {steps} {seed}: residual max {r['max_residual']:.2e} median "
              f"{r['median_residual']:.2e}  |dC| {r['gap_C']:.1e} |dpi| {r['gap_pi']:.1e}  "
              f"{r['seconds_per_iteration']:.3f} s/it "
              f"({r['seconds_per_iteration'] / rows[0]['seconds_per_iteration']:.2f} of the "
              f"first)", flush=True)
    os.makedirs(args.out, exist_ok=True)
    out = dict(n_wealth=args.n_wealth, seed=args.seed, rows=rows)
    with open(os.path.join(args.out, f"clearing_{args.n_wealth}.json"), "w") as f:
        json.dump(out, f, indent=1)
    return out


if __name__ == "__main__":
    main()

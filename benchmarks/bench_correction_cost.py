"""What the form of the learned correction and the reading of the EGM step cost a HANK iteration.

    python benchmarks/bench_correction_cost.py --n-wealth 100 --batches 4

The one-asset HANK from the risk-adjusted start (``RSPGConfig.continuous(start=
"risk-adjusted")``): seconds per training gradient (8 paths of the problem's horizon, the
preset's control variate and scaling), the median over ``--batches`` batches after a warm-up
one, for the learned correction with and without its linear term in the history
(``linear_correction``; docs/theory.md §12.12) and for the EGM step read linearised about
the households' expectation (``continuation="egm"``) or pointwise (``"egm-pointwise"``;
docs/theory.md §12.3); the same batches and untrained policy, one process. Writes
``benchmarks/results/correction_cost_<n_wealth>.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_rspg import write_json  # noqa: E402


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-wealth", type=int, default=100)
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results"))
    args = ap.parse_args(argv)

    import equinox as eqx
    import jax
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    import hank_mfg as hm
    from hank_mfg.policies.savings import trainable
    from hank_mfg.solvers import continuous as C
    from models.hank import OneAssetHANK

    model = OneAssetHANK(n_wealth=args.n_wealth)
    problem = C.savings_problem(model, hm.steady_state(model), start="risk-adjusted")
    config = hm.RSPGConfig.continuous(start="risk-adjusted")
    batches = [problem.sample_noise(key=jax.random.key(100 + i), n_paths=config.n_paths)
               for i in range(args.batches + 1)]
    rows = []
    for linear in (True, False):
        policy = problem.make_policy(key=jax.random.key(0),
                                     **{**config.savings_architecture(), "linear": linear})
        params, static = eqx.partition(policy, trainable(policy))
        for continuation in ("egm-pointwise", "egm"):
            grad = eqx.filter_jit(lambda p, e, c=continuation: C.savings_value_and_grad(
                p, static, problem, e, config.control_lags, config.precondition, c)[1])
            jax.block_until_ready(grad(params, batches[0]))   # compile
            secs = []
            for eps in batches[1:]:
                t = time.perf_counter()
                jax.block_until_ready(grad(params, eps))
                secs.append(time.perf_counter() - t)
            rows.append(dict(linear_correction=linear, continuation=continuation,
                             s_per_gradient=float(np.median(secs))))
            r = rows[-1]
            print(f"linear term {'kept' if linear else 'removed':7s}  {continuation:13s}  "
                  f"{r['s_per_gradient']:.3f} s per gradient "
                  f"({r['s_per_gradient'] / rows[0]['s_per_gradient']:.2f})", flush=True)
    out = dict(n_wealth=args.n_wealth, batches=args.batches, rows=rows)
    write_json(args.out, f"correction_cost_{args.n_wealth}.json", out)
    return out


if __name__ == "__main__":
    main()

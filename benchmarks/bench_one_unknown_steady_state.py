"""Steady states with one bracketed unknown: wall time and household solves.

Every steady state with one unknown in a bracket — a capital economy's ``r``, a declared
economy's bracketed unknown (Huggett's ``r``, Krusell–Smith with unemployment's ``K``) — is
found by one root find (``hank_mfg.solvers.equilibrium.bracketed_steady_state``). Each economy
is timed warm (``bench_steady_state.timed``: one call that compiles, then the median of
``--runs`` calls); the household solves (``iterations``) and the residual are printed beside
the time. Run it at two commits to compare them on the same machine.

Run from the repository root:  python benchmarks/bench_one_unknown_steady_state.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import sys

import jax

jax.config.update("jax_enable_x64", True)  # script, not library code: float64 for the solvers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hank_mfg as hm  # noqa: E402
from bench_steady_state import SSJ, timed  # noqa: E402
from models.huggett import Huggett  # noqa: E402
from models.krusell_smith import KrusellSmith  # noqa: E402
from models.krusell_smith_unemployment import KrusellSmithUnemployment  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    economies = [("Krusell-Smith 500 x 7 (r)", KrusellSmith(**SSJ)),
                 ("Huggett 200 x 3 (r)", Huggett()),
                 ("Huggett 500 x 3 (r)", Huggett(n_wealth=500)),
                 ("Krusell-Smith with unemployment 150 x 2 (K)", KrusellSmithUnemployment()),
                 ("Krusell-Smith with unemployment 50 x 2 (K)",
                  KrusellSmithUnemployment(n_wealth=50))]
    print(f"{'economy':<46}{'median s':>10}{'solves':>8}{'unknown':>22}{'|residual|':>12}")
    for name, model in economies:
        ss, median, _ = timed(lambda: hm.steady_state(model), args.runs)
        unknown = ss.unknowns[0]
        res = max(abs(float(v)) for k, v in ss.residuals.items() if k == "asset_mkt")
        print(f"{name:<46}{median:>10.3f}{int(ss.iterations):>8}"
              f"{float(ss[unknown]):>22.14f}{res:>12.2e}", flush=True)


if __name__ == "__main__":
    main()

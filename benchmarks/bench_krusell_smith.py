"""The Krusell–Smith algorithm on Krusell–Smith with unemployment risk (den Haan, Judd and
Juillard 2010 calibration): wall time of the first and a second solve, the law of motion, and
den Haan's statistics on a fresh 10,000-quarter path, on the estimation path and on the stress
path (docs/validation.md, docs/performance.md). With ``--rspg SEED [SEED ...]``, RSPG on the
same economy (``RSPGConfig.continuous()``) for each seed: its wall time, certificates and the
gap of its capital path to the Krusell–Smith algorithm's on den Haan's fresh path. With
``--series FILE``, den Haan's statistics also on the comparison project's own 10,000-quarter
aggregate-shock series: the MATLAB file ``Inputs_for_test.mat`` distributed with the project's
test code (and with Maliar, Maliar and Valli's 2010 programs), whose ``agshock`` holds 1 (bad)
and 2 (good); the file is not shipped here. ``--law-degree 2`` adds the curvature term to the
law of motion; ``--keys N`` also reports the range of den Haan's statistics over N fresh paths.

Usage (from the repository root):
    python benchmarks/bench_krusell_smith.py [--rspg 0 1 2] [--series Inputs_for_test.mat]
        [--law-degree 2] [--keys 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)  # script, not library code

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import hank_mfg as hm  # noqa: E402
from hank_mfg.metrics.den_haan import stress_path  # noqa: E402
from models.krusell_smith_unemployment import KrusellSmithUnemployment  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rspg", type=int, nargs="*", default=[],
                        help="RSPG seeds to solve and compare (none by default)")
    parser.add_argument("--series", default=None,
                        help="the comparison project's Inputs_for_test.mat (its agshock series)")
    parser.add_argument("--law-degree", type=int, default=1, choices=(1, 2),
                        help="1: the log-linear law; 2: with curvature in log K")
    parser.add_argument("--keys", type=int, default=0,
                        help="also den Haan's statistics on this many fresh paths (keys 1..N)")
    args = parser.parse_args()
    model = KrusellSmithUnemployment()
    config = hm.KrusellSmithConfig(law_degree=args.law_degree)
    for label in ("first call (with compilation)", "second call"):
        t0 = time.perf_counter()
        sol = hm.solve(model, method="krusell-smith", config=config, progress=False)
        print(f"solve, {label}: {time.perf_counter() - t0:.1f} s, {sol.iterations} iterations")
    print("law of motion: a", np.asarray(sol.law.a), "b", np.asarray(sol.law.b),
          "" if sol.law.c is None else f"c {np.asarray(sol.law.c)} (centre {sol.law.center:.5f})")
    print("R^2", np.asarray(sol.r2), "s.e.", np.asarray(sol.se))
    paths = [("fresh 10,000 quarters (key 1)", {}), ("estimation path (key 0)", dict(seed=0)),
             ("stress: 100 bad, 100 good", dict(z_path=stress_path()))]
    if args.series:
        from scipy.io import loadmat

        agshock = np.asarray(loadmat(args.series)["agshock"]).ravel().astype(int) - 1
        paths.append(("the comparison project's series", dict(z_path=agshock)))
    for name, kw in paths:
        t0 = time.perf_counter()
        dh = hm.den_haan_errors(sol, **kw)
        print(f"{name}: den Haan mean {dh.mean:.4f}% max {dh.max:.4f}%; K mean {dh.K_mean:.3f} "
              f"s.d. {dh.K_std:.3f}; Euler mean {dh.euler_mean:.5f}% max {dh.euler_max:.4f}% "
              f"(log10 {dh.euler_log10_mean:.3f} / {dh.euler_log10_max:.3f}); "
              f"{time.perf_counter() - t0:.1f} s")
    if args.keys:
        stats = np.array([[d.mean, d.max] for d in
                          (hm.den_haan_errors(sol, seed=k, euler_every=10**9)
                           for k in range(1, args.keys + 1))])
        print(f"den Haan over keys 1..{args.keys}: mean error {stats[:, 0].min():.4f}.."
              f"{stats[:, 0].max():.4f} (average {stats[:, 0].mean():.4f}); max error "
              f"{stats[:, 1].min():.4f}..{stats[:, 1].max():.4f} (median "
              f"{np.median(stats[:, 1]):.4f})")
    for seed in args.rspg:
        t0 = time.perf_counter()
        rspg = hm.solve(model, method="rspg", config=hm.RSPGConfig.continuous(seed=seed),
                        progress=False)
        seconds = time.perf_counter() - t0
        last = rspg.history.iloc[-1]
        gap = hm.capital_path_gap(rspg, sol)
        print(f"RSPG seed {seed}: {seconds:.1f} s; relative exploitability "
              f"{last['relative_exploitability']:.2e}; gap to the Krusell-Smith path mean "
              f"{gap.mean:.3f}% max {gap.max:.3f}%; K mean {gap.K_mean:.3f} s.d. {gap.K_std:.3f} "
              f"(Krusell-Smith {gap.reference_mean:.3f} / {gap.reference_std:.3f}); Euler mean "
              f"{gap.euler_mean:.4f}% max {gap.euler_max:.3f}% (log10 "
              f"{gap.euler_log10_mean:.3f} / {gap.euler_log10_max:.3f})")


if __name__ == "__main__":
    main()

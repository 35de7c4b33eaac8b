"""The Krusell–Smith algorithm on Krusell–Smith with unemployment risk (den Haan, Judd and
Juillard 2010 calibration): wall time of the first and a second solve, the law of motion, and
den Haan's statistics on a fresh 10,000-quarter path, on the estimation path and on the stress
path (docs/validation.md, docs/performance.md).

Usage (from the repository root):  python benchmarks/bench_krusell_smith.py
"""

from __future__ import annotations

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
    model = KrusellSmithUnemployment()
    for label in ("first call (with compilation)", "second call"):
        t0 = time.perf_counter()
        sol = hm.solve(model, method="krusell-smith", progress=False)
        print(f"solve, {label}: {time.perf_counter() - t0:.1f} s, {sol.iterations} iterations")
    print("law of motion: a", np.asarray(sol.law.a), "b", np.asarray(sol.law.b))
    print("R^2", np.asarray(sol.r2), "s.e.", np.asarray(sol.se))
    paths = [("fresh 10,000 quarters (key 1)", {}), ("estimation path (key 0)", dict(seed=0)),
             ("stress: 100 bad, 100 good", dict(z_path=stress_path()))]
    for name, kw in paths:
        t0 = time.perf_counter()
        dh = hm.den_haan_errors(sol, **kw)
        print(f"{name}: den Haan mean {dh.mean:.4f}% max {dh.max:.4f}%; K mean {dh.K_mean:.3f} "
              f"s.d. {dh.K_std:.3f}; Euler mean {dh.euler_mean:.5f}% max {dh.euler_max:.4f}% "
              f"(log10 {dh.euler_log10_mean:.3f} / {dh.euler_log10_max:.3f}); "
              f"{time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()

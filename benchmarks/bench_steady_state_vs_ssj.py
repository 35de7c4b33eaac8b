"""Steady states side by side with sequence-jacobian, on the same economies and the same machine.

Krusell–Smith 500 x 7 (sequence-jacobian's calibration: alpha 0.11, Rouwenhorst 0.966 / 0.5,
wealth grid to 200) and the one-asset HANK 500 x 7 (sequence-jacobian's ``hank`` example:
``beta`` and ``vphi`` solved for asset-market clearing and effective labour one). Each solver is
timed warm (``bench_steady_state.timed``): one call that compiles (JAX) or JIT-compiles
(Numba), then the median of ``--runs`` calls. The formulations are each library's own: ours
solves the capital economy's interest rate given ``beta`` (Brent in ``r``), sequence-jacobian's
example solves ``beta`` given ``r = 0.01``
(Brent in ``beta``, capital and TFP in closed form); the HANK is the same two-unknown problem
in both. The solutions are printed beside each other (the same economy: ``r`` and ``beta``
agree).

sequence-jacobian is an optional benchmark dependency (``pip install -e ".[bench]"``); without
it only our times are printed.

Run from the repository root:  python benchmarks/bench_steady_state_vs_ssj.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import sys

import jax

jax.config.update("jax_enable_x64", True)  # script, not library code: float64 for the solvers

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hank_mfg as hm  # noqa: E402
from bench_steady_state import timed  # noqa: E402  (this folder: one timing rule for both)
from models.hank import OneAssetHANK  # noqa: E402
from models.krusell_smith import KrusellSmith  # noqa: E402

KS = dict(alpha=0.11, delta=0.025, sigma=1.0, income_rho=0.966, income_sd=0.5, n_income=7,
          n_wealth=500, wealth_max=200, tfp=0.8816460975, beta=0.9819527881)


def ssj_models():
    """sequence-jacobian's Krusell–Smith and HANK steady-state problems at 500 x 7, or None."""
    try:
        from sequence_jacobian import create_model
        from sequence_jacobian.examples import hank, krusell_smith
    except ImportError:
        return None
    ks_hh = krusell_smith.hh.add_hetinputs([krusell_smith.income, krusell_smith.make_grids])
    ks = create_model([ks_hh, krusell_smith.firm_ss, krusell_smith.mkt_clearing])
    ks_cal = {"eis": 1.0, "delta": 0.025, "alpha": 0.11, "rho": 0.966, "sigma": 0.5, "Y": 1.0,
              "L": 1.0, "nS": 7, "nA": 500, "amax": 200, "r": 0.01}

    def solve_ks():
        return ks.solve_steady_state(ks_cal, {"beta": (0.98 / 1.01, 0.999 / 1.01)},
                                     {"asset_mkt": 0.0}, solver="brentq")

    hh = hank.hh.add_hetinputs([hank.transfers, hank.wages, hank.make_grids])
    hh = hh.add_hetoutputs([hank.labor_supply])
    hk = create_model([hh, hank.firm, hank.monetary, hank.fiscal, hank.mkt_clearing,
                       hank.nkpc_ss])
    hk_cal = {"r": 0.005, "rstar": 0.005, "eis": 0.5, "frisch": 0.5, "B": 5.6, "mu": 1.2,
              "rho_s": 0.966, "sigma_s": 0.5, "kappa": 0.1, "phi": 1.5, "Y": 1.0, "Z": 1.0,
              "pi": 0.0, "nS": 7, "amax": 150, "nA": 500}

    def solve_hank():
        return hk.solve_steady_state(hk_cal, {"beta": 0.986, "vphi": 0.8},
                                     {"asset_mkt": 0.0, "NE": 1.0}, solver="broyden_custom")

    return solve_ks, solve_hank


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    ks_model, hank_model = KrusellSmith(**KS), OneAssetHANK()
    ours = {
        "Krusell-Smith 500 x 7": timed(lambda: hm.steady_state(ks_model), args.runs),
        "one-asset HANK 500 x 7": timed(lambda: hm.steady_state(hank_model), args.runs),
    }
    ssj = ssj_models()
    theirs = {}
    if ssj is not None:
        theirs = {"Krusell-Smith 500 x 7": timed(ssj[0], args.runs),
                  "one-asset HANK 500 x 7": timed(ssj[1], args.runs)}
    print(f"\nsteady states, {os.cpu_count()} cores, {jax.devices()[0].platform}, warm: median "
          f"of {args.runs} calls after the first")
    print(f"{'economy':<26}{'hank_mfg s':>12}{'seq.-jac. s':>13}{'ratio':>8}")
    for name, (_, med, _) in ours.items():
        if name in theirs:
            m2 = theirs[name][1]
            print(f"{name:<26}{med:>12.3f}{m2:>13.3f}{med / m2:>8.2f}")
        else:
            print(f"{name:<26}{med:>12.3f}{'(not installed)':>21}")
    ks_ss, hank_ss = ours["Krusell-Smith 500 x 7"][0], ours["one-asset HANK 500 x 7"][0]
    print(f"\nKrusell-Smith: ours r = {float(ks_ss.r):.10f} at beta {KS['beta']}, "
          f"{int(ks_ss.iterations)} household solves")
    print(f"one-asset HANK: ours beta = {float(hank_ss['beta']):.10f}, vphi = "
          f"{float(hank_ss['vphi']):.10f}, {int(hank_ss.iterations)} household solves")
    if theirs:
        ks_s, hk_s = theirs["Krusell-Smith 500 x 7"][0], theirs["one-asset HANK 500 x 7"][0]
        print(f"sequence-jacobian: Krusell-Smith beta = {float(ks_s['beta']):.10f} at r = 0.01; "
              f"HANK beta = {float(hk_s['beta']):.10f}, vphi = {float(hk_s['vphi']):.10f}")
        print(f"  HANK |beta gap| {abs(float(hk_s['beta']) - float(hank_ss['beta'])):.2e}, "
              f"|vphi gap| {abs(float(hk_s['vphi']) - float(hank_ss['vphi'])):.2e}; "
              f"KS |r - 0.01| {abs(float(ks_ss.r) - 0.01):.2e}")
    return ours, theirs


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()

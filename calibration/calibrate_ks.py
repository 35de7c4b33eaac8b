"""Calibrate Krusell–Smith to US targets and write the parameters and the fit table.

    python calibration/calibrate_ks.py                                  # calibration/targets/us_ks.toml
    python calibration/calibrate_ks.py calibration/targets/us_ks.toml --out calibration/results/us_ks

Writes OUT/params.json (calibrated parameters, every model moment, solver diagnostics),
OUT/fit.csv (targets and untargeted data moments against the model, with sources) and prints
the fit table. Same as ``hank-mfg calibrate models/krusell_smith.py TARGETS --out OUT``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)  # the classical solvers need float64

import pandas as pd  # noqa: E402

import hank_mfg as hm  # noqa: E402
from models.krusell_smith import KrusellSmith  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="?",
                        default=os.path.join(ROOT, "calibration", "targets", "us_ks.toml"))
    parser.add_argument("--out", default=os.path.join(ROOT, "calibration", "results", "us_ks"))
    args = parser.parse_args(argv)

    spec = hm.load_targets(args.targets)
    model = spec.apply(KrusellSmith())
    print(f"calibrating {type(model).__name__} to {args.targets}: free {spec.free}, "
          f"targets {spec.targets}")
    cal = hm.calibrate(model, targets=spec.targets, free=spec.free, verbose=True)

    table = cal.table(spec.untargeted)
    table["source"] = [spec.sources[k].get("source", "") for k in table["target"]]
    table["approximate"] = [spec.sources[k].get("approximate", False) for k in table["target"]]
    os.makedirs(args.out, exist_ok=True)
    table.to_csv(os.path.join(args.out, "fit.csv"), index=False)
    with open(os.path.join(args.out, "params.json"), "w") as f:
        json.dump(dict(targets_file=os.path.relpath(args.targets, ROOT), fixed=spec.model,
                       **cal.to_dict()), f, indent=1)
    with pd.option_context("display.width", 120, "display.max_colwidth", 40):
        print(table[["target", "data", "model", "error", "targeted"]].to_string(index=False))
    d = cal.diagnostics
    print(f"params {cal.params}; {d['evaluations']} steady states, {d['seconds']:.1f} s, "
          f"success {d['success']}; wrote {args.out}/params.json and fit.csv")


if __name__ == "__main__":
    main()

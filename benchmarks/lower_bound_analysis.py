"""What the one-asset HANK at the effective lower bound says under aggregate risk
(``OneAssetHANK.lower_bound()``, docs/models.md section 8), for the untrained first-order
start (the default) or a trained run (``--checkpoint DIR``):

* how often and how long the rate sits at the floor (``hm.floor_statistics``);
* the certificates at the floor and away from it (``hm.floor_certificates``);
* the risky steady state with and without the floor (``hm.risky_steady_state``: the
  deflationary bias of the bound);
* generalized responses to monetary, demand and TFP shocks from states at the floor and away
  from it, and the impact consumption response by wealth decile (``hm.floor_responses``);
* the noise-free response to a large demand shock against the nonlinear perfect-foresight path
  with the floor, with the start's linear expectations and with its piecewise-linear ones
  (``RSPGConfig(floor_expectations=True)``);
* forward guidance at the floor: perfect-foresight paths after the same demand shock with a
  cut of the rule's intercept promised for the quarters after the floor stops binding.

    python benchmarks/lower_bound_analysis.py [--n-wealth 100] [--n-income 7] [--seed 1]
        [--checkpoint DIR] [--start first-order|risk-adjusted|time-iteration]
        [--floor-expectations] [--price-adjustment-costs resource|none] [--out FILE]

``--start`` and ``--floor-expectations`` pick the untrained start the tables are measured on
(``RSPGConfig(start=..., floor_expectations=...)``); ``--price-adjustment-costs`` the
economy's treatment of the cost of changing prices (``OneAssetHANK.price_adjustment_costs``).

Prints markdown tables and writes every number to ``FILE`` (JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-wealth", type=int, default=100)
    ap.add_argument("--n-income", type=int, default=7)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--checkpoint", default=None, help="a trained run (default: untrained start)")
    ap.add_argument("--demand", type=float, default=0.006, help="the large demand shock db_0")
    ap.add_argument("--start", default="first-order",
                    choices=("first-order", "risk-adjusted", "time-iteration"))
    ap.add_argument("--floor-expectations", action="store_true",
                    help="the start's expectations keep the floor (piecewise linear)")
    ap.add_argument("--price-adjustment-costs", default="resource", choices=("resource", "none"))
    ap.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results",
                                                  "lower_bound_analysis.json"))
    args = ap.parse_args()
    import jax

    jax.config.update("jax_enable_x64", True)
    import numpy as np

    import hank_mfg as hm
    from hank_mfg.analysis.aggregate_risk import irf_gap, learned_irf
    from hank_mfg.solvers import continuous as C
    from models.hank import OneAssetHANK

    t0 = time.perf_counter()
    out = {}
    kw = dict(n_wealth=args.n_wealth, n_income=args.n_income,
              price_adjustment_costs=args.price_adjustment_costs)
    arch = hm.RSPGConfig.continuous(start="first-order").savings_architecture()

    def untrained(model, **extra):
        ss = hm.steady_state(model)
        problem = C.savings_problem(model, ss, start=args.start, **extra)
        return ss, problem, problem.make_policy(key=jax.random.key(0), **arch)

    model = OneAssetHANK.lower_bound(**kw)
    if args.checkpoint:
        sol = hm.load_solution(model, args.checkpoint)
        problem, policy = sol.compiled(), sol.policy
        ss = problem.steady_state
    else:
        ss, problem, policy = untrained(model, floor_expectations=args.floor_expectations)
    print(f"built in {time.perf_counter() - t0:.0f} s", flush=True)

    fs = hm.floor_statistics(problem, policy, T=1000, burn_in=200, n_paths=8, seed=args.seed)
    out["floor_statistics"] = {k: fs[k] for k in ("share", "share_se", "mean_spell",
                                                  "max_spell")}
    out["floor_statistics"]["spells"] = {str(k): v for k, v in fs["spells"].items()}
    out["floor_statistics"]["at_floor"], out["floor_statistics"]["off_floor"] = (
        fs["at_floor"], fs["off_floor"])
    print(f"at the floor {100 * fs['share']:.1f}% (s.e. {100 * fs['share_se']:.1f}), mean "
          f"spell {fs['mean_spell']:.2f}, longest {fs['max_spell']}", flush=True)

    fc = hm.floor_certificates(problem, policy, T=200, burn_in=100, n_paths=4, seed=args.seed)
    out["floor_certificates"] = fc
    print("\n| dates | number | relative exploitability | Euler mean / max (log10) | "
          "largest market residual | largest E_t Phillips-curve residual |\n|---|---|---|---|---|---|")
    for g in ("at_floor", "off_floor"):
        c = fc[g]
        if c["dates"]:
            mk = max(v for k, v in c.items() if k.endswith("_mkt_max"))
            print(f"| {g.replace('_', ' ')} | {c['dates']} | {c['relative_exploitability']:.2e} | "
                  f"{c['euler_mean']:.2f} / {c['euler_max']:.2f} | {mk:.1e} | "
                  f"{c['nkpc_res_expected']:.1e} |", flush=True)

    names = ["Y", "C", "pi", "r", "i"]
    rss = {"floor": hm.risky_steady_state(problem, policy, T=1000, burn_in=200, n_pairs=4,
                                          seed=args.seed, T_rest=500, variables=names)}
    free = OneAssetHANK.lower_bound(i_lb=None, **kw)
    _, problem_free, policy_free = untrained(free)
    rss["no_floor"] = hm.risky_steady_state(problem_free, policy_free, T=1000, burn_in=200,
                                            n_pairs=4, seed=args.seed, T_rest=500,
                                            variables=names)
    out["risky_steady_state"] = rss
    print("\n| | deterministic | ergodic mean, floor (s.e.) | ergodic mean, no floor (s.e.) | "
          "risky steady state, floor / no floor |\n|---|---|---|---|---|")
    for v in names:
        scale, unit = (1e4, " bp") if v in ("pi", "r", "i") else (1.0, "")
        a, b = rss["floor"], rss["no_floor"]
        print(f"| {v} | {scale * a['deterministic'][v]:.4f}{unit} | {scale * a['mean'][v]:.4f} "
              f"({scale * a['se'][v]:.4f}) | {scale * b['mean'][v]:.4f} ({scale * b['se'][v]:.4f})"
              f" | {scale * a['risky'][v]:.4f} / {scale * b['risky'][v]:.4f} |", flush=True)

    shocks = {"monetary (rstar +1 s.d.)": {"rstar": 0.0025},
              "demand (db +1 s.d.)": {"db": 0.0014}, "TFP (Z +1 s.d.)": {"Z": 0.007}}
    out["floor_responses"] = {}
    print("\n| shock | from | states | Y on impact % | C on impact % | pi on impact bp | "
          "i on impact bp | C of the poorest / richest decile % |\n|---|---|---|---|---|---|---|---|")
    for label, shock in shocks.items():
        fr = hm.floor_responses(problem, shock, policy=policy, T=20, n_paths=64, burn_in=200,
                                seed=args.seed)
        out["floor_responses"][label] = {
            g: {k: np.asarray(fr[g][k]).tolist() for k in ("Y", "C", "pi", "i", "r")}
            for g in ("at_floor", "off_floor")}
        out["floor_responses"][label]["states"] = fr["states"]
        out["floor_responses"][label]["deciles"] = {g: np.asarray(d).tolist()
                                                    for g, d in fr["deciles"].items()}
        for g in ("at_floor", "off_floor"):
            r, se = fr[g], fr["se"][g]
            d = fr["deciles"][g]
            print(f"| {label} | {g.replace('_', ' ')} | {fr['states'][g]} | "
                  f"{100 * r['Y'][0] / ss.values['Y']:.3f} ({100 * se['Y'][0]:.3f}) | "
                  f"{100 * r['C'][0] / ss.values['C']:.3f} ({100 * se['C'][0]:.3f}) | "
                  f"{1e4 * r['pi'][0]:.1f} ({1e4 * se['pi'][0]:.1f}) | {1e4 * r['i'][0]:.1f} | "
                  f"{d[0]:.3f} / {d[-1]:.3f} |", flush=True)

    # the large demand shock: noise-free learned paths against perfect foresight with the floor
    Tp = problem.horizon + 50
    size = args.demand
    ref = hm.transition_path(model, ss, db=size * 0.9 ** np.arange(Tp))
    at_pf = int(np.sum(np.asarray(ref.values["i_shadow"][:40]) < 0.0))
    want = {v: np.asarray(ref.values[v][:40]) - float(ss.values[v]) for v in ("Y", "C", "pi")}
    out["large_demand_shock"] = {"size": size, "perfect_foresight_quarters": at_pf,
                                 "Y0": float(want["Y"][0]), "pi0": float(want["pi"][0])}
    piecewise = problem.first_order is not None and problem.first_order.floor is not None
    starts = {("piecewise-linear" if piecewise else "linear") + " expectations":
              (problem, policy)}
    if not args.checkpoint and not piecewise:
        _, problem_pl, policy_pl = untrained(model, floor_expectations=True)
        starts["piecewise-linear expectations"] = (problem_pl, policy_pl)
    print(f"\nlarge demand shock db_0 = {size}: perfect foresight {at_pf} quarters at the floor, "
          f"output {100 * want['Y'][0]:.3f}%, inflation {1e4 * want['pi'][0]:.1f} bp on impact")
    for label, (pr, po) in starts.items():
        got = learned_irf(pr, {"db": size}, T=40, policy=po)
        g = irf_gap(got, want, ("Y", "C", "pi"), T=20)
        q = int(np.sum(np.asarray(got["i"]) + float(ss.values["i"]) < 1e-9))
        out["large_demand_shock"][label] = {"quarters": q, **{f"gap_{k}": g[k]
                                                              for k in ("Y", "C", "pi")},
                                            "Y0": float(got["Y"][0]), "pi0": float(got["pi"][0])}
        print(f"  {label}: {q} quarters, gaps Y {g['Y']:.3f} C {g['C']:.3f} pi {g['pi']:.3f}; "
              f"output {100 * float(got['Y'][0]):.3f}%, inflation "
              f"{1e4 * float(got['pi'][0]):.1f} bp on impact", flush=True)

    # forward guidance at the floor (perfect foresight): a 25 bp lower intercept promised for
    # the four quarters after the floor stops binding
    out["forward_guidance"] = {}
    t = np.arange(Tp)
    print("\n| promise | quarters at the floor | output on impact % | inflation on impact bp |"
          "\n|---|---|---|---|")
    for label, cut in (("none", 0.0), ("-25 bp for 4 quarters after the spell", -0.0025)):
        shocks_fg = {"db": size * 0.9 ** t,
                     "rstar": np.where((t >= at_pf) & (t < at_pf + 4), cut, 0.0)}
        p = hm.transition_path(model, ss, shocks=shocks_fg)
        q = int(np.sum(np.asarray(p.values["i_shadow"][:60]) < 0.0))
        y0, pi0 = (float(p.values[k][0]) - float(ss.values[k]) for k in ("Y", "pi"))
        out["forward_guidance"][label] = {"quarters": q, "Y0": y0, "pi0": pi0}
        print(f"| {label} | {q} | {100 * y0:.3f} | {1e4 * pi0:.1f} |", flush=True)
    out["seconds"] = time.perf_counter() - t0
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(out, f, default=float, indent=1)
    print(f"\n{out['seconds']:.0f} s; written to {args.out}")


if __name__ == "__main__":
    main()

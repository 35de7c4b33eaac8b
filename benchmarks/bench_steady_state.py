"""Benchmark and validation: steady states and MIT-shock transitions of Krusell–Smith, the
one-asset HANK economy and Huggett (docs/theory.md §9.3, §9.4; docs/models.md).

sequence-jacobian's KS calibration (alpha 0.11, delta 0.025, log utility, Rouwenhorst
rho 0.966 / sd 0.5 / 7 states, 500-point shifted geometric grid to 200, Z = 0.8816460975,
beta = 0.9819527881). Prints a timing table (median of several runs after compilation), the
steady state and its wealth-distribution statistics, the first-period responses to a 1% TFP
shock with persistence 0.9 (T = 300) and writes docs/img/ks_mit_shock.png. Then the same for
the one-asset HANK economy (default calibration, 500 x 7; beta and vphi solved) under a 25 bp
monetary shock with persistence 0.61, its forward-guidance table (k = 0..20), and Huggett
(200 x 3) under a 2% endowment shock, with each timing also as a ratio to Krusell–Smith's.

Run from the repository root:  python benchmarks/bench_steady_state.py [--runs 5] [--models ks,hank,huggett]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)  # script, not library code: float64 for the solvers

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import hank_mfg as hm  # noqa: E402
from hank_mfg.solvers.transition import transition_jacobian  # noqa: E402
from models.krusell_smith import KrusellSmith  # noqa: E402

SSJ = dict(alpha=0.11, delta=0.025, sigma=1.0, income_rho=0.966, income_sd=0.5, n_income=7,
           n_wealth=500, wealth_max=200, tfp=0.8816460975, beta=0.9819527881)


def wealth_stats(a_grid, mu):
    """Gini, top-10% share and mass at the borrowing limit of a distribution of atoms.

    Wealth is discrete: mass ``p_i = sum_e mu[i, e]`` sits exactly on grid point ``a_i``.
    Gini = ``1 - sum_i p_i (L_{i-1} + L_i)`` with ``L_i`` the cumulative wealth share up to
    and including atom ``i`` (exact for atoms). Top-10% share: wealth of the richest 10% of
    households, splitting the atom that straddles the 90th percentile in proportion to the
    mass needed. Mass at the borrowing limit: ``p_0`` (households exactly at ``a_0``).
    """
    a = np.asarray(a_grid)
    p = np.asarray(mu).sum(axis=1)
    wealth = p * a
    L = np.cumsum(wealth) / wealth.sum()
    L_prev = np.concatenate([[0.0], L[:-1]])
    gini = 1.0 - np.sum(p * (L_prev + L))
    F = np.cumsum(p)
    F_prev = np.concatenate([[0.0], F[:-1]])
    above = np.clip(F - 0.9, 0.0, None) - np.clip(F_prev - 0.9, 0.0, None)  # mass above p90
    top10 = np.sum(above * a) / wealth.sum()
    return gini, top10, p[0]


def timed(fn, runs):
    out = fn()
    jax.block_until_ready(jax.tree_util.tree_leaves(out))
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        jax.block_until_ready(jax.tree_util.tree_leaves(out))
        times.append(time.perf_counter() - t0)
    return out, statistics.median(times), min(times)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--T", type=int, default=300)
    ap.add_argument("--plot", default=os.path.join(ROOT, "docs", "img", "ks_mit_shock.png"))
    ap.add_argument("--models", default="ks,hank,huggett")
    args = ap.parse_args(argv)
    wanted = set(args.models.split(","))
    ks_times = capital(args) if "ks" in wanted else None
    if "hank" in wanted:
        hank(args, ks_times)
    if "huggett" in wanted:
        huggett(args, ks_times)


def capital(args):

    model = KrusellSmith(**SSJ)
    t0 = time.perf_counter()
    ss = hm.steady_state(model)
    compile_ss = time.perf_counter() - t0
    ss, t_ss, t_ss_min = timed(lambda: hm.steady_state(model), args.runs)

    T = args.T
    z = 0.01 * 0.9 ** jnp.arange(T)
    t0 = time.perf_counter()
    path = hm.transition_path(model, z=z, steady_state=ss)
    compile_tp = time.perf_counter() - t0
    jac, t_jac, _ = timed(lambda: transition_jacobian(model, ss, T), args.runs)
    path, t_tp, t_tp_min = timed(lambda: hm.transition_path(model, z=z, steady_state=ss),
                                 args.runs)
    _, t_newton, _ = timed(
        lambda: hm.transition_path(model, z=z, steady_state=ss, jacobian=jac), args.runs)

    gini, top10, mass0 = wealth_stats(model.a_grid, ss.mu)
    ee = hm.euler_errors(model, ss)

    print(f"\nKrusell-Smith 500 x 7 (sequence-jacobian calibration), {jax.devices()[0].platform}, "
          f"{os.cpu_count()} cores, median of {args.runs} runs after compilation")
    print(f"{'task':<46}{'median s':>10}{'min s':>10}{'first call s':>14}")
    print(f"{'steady state (EGM + distribution + Brent in r)':<46}{t_ss:>10.3f}{t_ss_min:>10.3f}"
          f"{compile_ss:>14.2f}")
    print(f"{'transition T=%d (Jacobian + Newton)' % T:<46}{t_tp:>10.3f}{t_tp_min:>10.3f}"
          f"{compile_tp:>14.2f}")
    print(f"{'  of which: sequence-space Jacobian':<46}{t_jac:>10.3f}")
    print(f"{'  of which: Newton with a given Jacobian':<46}{t_newton:>10.3f}")

    print("\nSteady state")
    print(f"  r = {float(ss.r):.10f}   w = {float(ss.w):.10f}   K = {float(ss.K):.10f}")
    print(f"  Y = {float(ss.Y):.10f}   K/Y = {float(ss.K / ss.Y):.8f}   C = {float(ss.C):.10f}")
    print(f"  A - K = {float(ss.residual):.3e}   root-find evaluations = {int(ss.iterations)}  "
          f"last EGM steps = {int(ss.egm_iterations)}  last forward steps = "
          f"{int(ss.dist_iterations)}")
    print(f"  Euler errors log10: mean {float(ee.mean):.3f}  max {float(ee.max):.3f}  "
          f"log10(mean |.|) {float(ee.log10_mean):.3f}")
    print(f"  wealth Gini {gini:.4f}   top-10% share {top10:.4f}   mass at a = 0 {mass0:.4f}")

    print(f"\nMIT shock z_t = 0.01 * 0.9^t, T = {T}: Newton iterations {int(path.iterations)}, "
          f"max |A_t - K_(t+1)| = {float(path.max_residual):.2e}, "
          f"A_(T-1) - K_ss = {float(path.terminal_gap):.2e}")
    pct = lambda x, xs: 100.0 * (np.asarray(x) / float(xs) - 1.0)  # noqa: E731
    resp = {"K": pct(path.K, ss.K), "Y": pct(path.Y, ss.Y), "C": pct(path.C, ss.C),
            "w": pct(path.w, ss.w), "r (bp)": 1e4 * (np.asarray(path.r) - float(ss.r))}
    print(f"  {'t':>3}" + "".join(f"{k:>12}" for k in resp))
    for t in range(4):
        print(f"  {t:>3}" + "".join(f"{v[t]:>12.5f}" for v in resp.values()))
    print("  (percent deviations from the steady state; r in basis points)")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 5, figsize=(16, 3.2))
    horizon = min(T, 100)
    for ax, (name, v) in zip(axes, resp.items()):
        ax.plot(np.arange(horizon), v[:horizon])
        ax.axhline(0.0, color="grey", lw=0.6)
        ax.set_title(name.split()[0])
        ax.set_xlabel("quarters after the shock")
        ax.set_ylabel("basis points" if name.startswith("r") else "% deviation from s.s.")
    fig.suptitle("Krusell-Smith (SSJ calibration): perfect-foresight response to a 1% TFP "
                 "shock, persistence 0.9")
    fig.tight_layout()
    os.makedirs(os.path.dirname(args.plot), exist_ok=True)
    fig.savefig(args.plot, dpi=120)
    print(f"\nwrote {args.plot}")
    return {"steady state": t_ss, "transition": t_tp, "jacobian": t_jac, "newton": t_newton}


def _economy_timings(name, model, shocks, args, ks_times):
    """Time an economy's steady state, Jacobian, Newton and whole transition; print a table."""
    t0 = time.perf_counter()
    ss = hm.steady_state(model)
    first_ss = time.perf_counter() - t0
    ss, t_ss, _ = timed(lambda: hm.steady_state(model), max(1, args.runs // 2))
    T = args.T
    t0 = time.perf_counter()
    path = hm.transition_path(model, shocks=shocks, steady_state=ss)
    first_tp = time.perf_counter() - t0
    G, t_jac, _ = timed(lambda: hm.economy_jacobian(ss, T), args.runs)
    path, t_newton, _ = timed(
        lambda: hm.transition_path(model, shocks=shocks, steady_state=ss, jacobian=G), args.runs)
    _, t_tp, _ = timed(lambda: hm.transition_path(model, shocks=shocks, steady_state=ss),
                       args.runs)
    times = {"steady state": t_ss, "transition": t_tp, "jacobian": t_jac, "newton": t_newton}
    print(f"\n{name}, median of runs after compilation (ratio to Krusell-Smith 500 x 7)")
    print(f"{'task':<40}{'median s':>10}{'x KS':>8}{'first call s':>14}")
    for task, t in times.items():
        ratio = t / ks_times[task] if ks_times else float("nan")
        first = {"steady state": first_ss, "transition": first_tp}.get(task)
        print(f"{task:<40}{t:>10.3f}{ratio:>8.2f}" + (f"{first:>14.2f}" if first else ""))
    print(f"steady state: unknowns {', '.join(f'{u} = {float(ss[u]):.10f}' for u in ss.unknowns)}"
          f"; largest residual {max(abs(float(v)) for v in ss.residuals.values()):.2e}; "
          f"Euler errors log10 mean {float(ss.euler_mean):.3f} max {float(ss.euler_max):.3f}")
    gini, top10, mass0 = wealth_stats(ss.model.a_grid, ss.mu)
    if abs(float(np.sum(np.asarray(ss.mu).sum(axis=1) * np.asarray(ss.model.a_grid)))) < 1e-8:
        print(f"mean wealth zero (Gini and shares undefined); mass at the limit {mass0:.4f}")
    else:
        print(f"wealth Gini {gini:.4f}   top-10% share {top10:.4f}   mass at the limit "
              f"{mass0:.4f}")
    print(f"transition T = {T}: Newton iterations {int(path.iterations)}, max |target residual| "
          f"{float(path.max_residual):.2e}, max |goods market| (Walras) "
          f"{float(np.max(np.abs(np.asarray(path.residuals['goods_mkt'])))):.2e}")
    return ss, path


def hank(args, ks_times):
    from models.hank import OneAssetHANK

    model = OneAssetHANK()
    shocks = {"rstar": -0.0025 * 0.61 ** jnp.arange(args.T)}
    ss, path = _economy_timings("One-asset HANK 500 x 7", model, shocks, args, ks_times)
    irf = hm.mit_responses(path, ss)
    first = irf[irf["t"] < 4].pivot(index="t", columns="variable", values="response")
    print("responses to a 25 bp cut in rstar (percent; r, i, pi, rstar in bp, quarterly):")
    print(first[["Y", "C", "N", "w", "pi", "r", "i"]].to_string(float_format="%.5f"))
    t0 = time.perf_counter()
    fg = hm.forward_guidance_table(ss, horizons=range(21), T=args.T)
    print(f"forward guidance k = 0..20 ({time.perf_counter() - t0:.1f} s): impact response of C, "
          "beside the representative-agent economy with the same rules and a representative "
          "household at the HANK's real rates")
    c = fg[fg["variable"] == "C"].set_index("k")[["response", "relative", "ra_response",
                                                  "ra_relative", "ra_given_rates"]]
    print(c.to_string(float_format="%.5f"))


def huggett(args, ks_times):
    from models.huggett import Huggett

    shocks = {"z": -0.02 * 0.9 ** jnp.arange(args.T)}
    ss, path = _economy_timings("Huggett 200 x 3", Huggett(), shocks, args, ks_times)
    r = 1e4 * (np.asarray(path["r"][:4]) - float(ss["r"]))
    print(f"steady-state r = {float(ss['r']):.10f}; response of r to a 2% endowment fall "
          f"(bp): {np.round(r, 4)}; max |A_t| {float(np.max(np.abs(path['A']))):.2e}")


if __name__ == "__main__":
    main()

"""The one-asset HANK under aggregate risk solved by RSPG: the full-size run, its certificates,
its validation against the sequence-space response, and the gradient's control variate.

    python benchmarks/bench_hank_risk.py --iterations 150 --seed 0 --out DIR
        the solve (OneAssetHANK 100 x 7, two shocks, RSPGConfig.continuous), its history, the
        learned responses to 1 bp / 0.01% and 25 bp / 0.25% innovations beside the perfect-
        foresight ones (gap as a share of the peak, quarters 0-19) and ergodic moments
    python benchmarks/bench_hank_risk.py --gradient-noise [--no-precondition] [--checkpoint DIR]
            --lags 0 16 48
        the gradient with and without the control variate on the same batches: seconds per
        gradient, variance over the squared mean (households' and forecaster's parameters) and
        the cosine of each mean with the plain estimate's (docs/theory.md §12.3)
    python benchmarks/bench_hank_risk.py --no-precondition --seed 0
        the same with the plain policy gradient (without the relative-consumption scaling)
    python benchmarks/bench_hank_risk.py --news 12 --seed 1
        the same solve with announced monetary innovations 1..12 quarters ahead, and the
        anticipation table (the response today to a 25 bp cut announced k quarters ahead,
        learned beside perfect foresight)
    python benchmarks/bench_hank_risk.py --start first-order --iterations 150 --seed 0
        the same from the first-order structural start (docs/theory.md §12.7; ``--start
        risk-adjusted``: with its risk adjustment; ``--start time-iteration``: that, with next
        date's expectation by quadrature next to the borrowing limit); with ``--iterations 0``
        the untrained start itself (responses and certificates, no training)
    python benchmarks/bench_hank_risk.py --seed 1 --nonlinear
        the solve, then every nonlinear claim beside its benchmark: generalized responses to
        1, 4 and 8 times 25 bp / 0.25% beside the nonlinear perfect-foresight responses to the
        same innovations (sizes beyond two training s.d. flagged), responses from recession and
        boom states beside perfect foresight from the same states, ergodic moments with Monte
        Carlo standard errors beside the first-order moments, and the exploitability in
        consumption units beside its floor (the linear solution on the same paths)
    python benchmarks/bench_hank_risk.py --start risk-adjusted --train households --seed 0
        the preset training one part of the policy alone, the other held at its start
        (``--train forecaster``: the households' correction held at zero)
    python benchmarks/bench_hank_risk.py --learned-parts --checkpoint DIR
        which learned part moves a trained solution's small-shock responses: the gaps to the
        perfect-foresight responses (1 bp / 0.01% innovations, quarters 0-19) with the trained
        policy, with the forecaster's learned correction set to zero (its linear forecast), with
        the households' set to zero (their structural start) or held at its constant (its value
        at the steady-state history) and with both zero; and each one's Euler errors on 2 paths
    python benchmarks/bench_hank_risk.py --worst-euler --start risk-adjusted --seed 0
        where the largest Euler errors sit along the evaluation paths (the untrained start, or
        a trained ``--checkpoint DIR``): each path's largest errors with the household's state
        and saved share, and the largest beyond the first cell of the wealth grid
    python benchmarks/bench_hank_risk.py --gradient-bias --batches 4 --seed 5
        the mean of the EGM reading of the gradient at the untrained risk-adjusted start along
        4 noisy paths, pointwise and linearised about the households' expectation, state by
        state (docs/theory.md §12.3)
    python benchmarks/bench_hank_risk.py --price-adjustment-costs none ...
        any of the above with the firms' price-adjustment costs left out of dividends and the
        goods market (``OneAssetHANK(price_adjustment_costs="none")``): the model with which
        the aggregate-risk numbers of docs/validation.md and docs/performance.md were measured

Writes JSON under ``--out`` (default benchmarks/results) and prints a summary. CPU numbers of
docs/performance.md and docs/validation.md were produced with these commands.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_rspg import seconds_per_iteration


def _setup():
    import jax

    jax.config.update("jax_enable_x64", True)


def solve(args) -> dict:
    _setup()
    import hank_mfg as hm
    from hank_mfg.analysis.continuous_report import irf_comparison
    from models.hank import OneAssetHANK

    t0 = time.perf_counter()
    model = OneAssetHANK(n_wealth=args.n_wealth,
                         price_adjustment_costs=args.price_adjustment_costs)
    cfg = hm.RSPGConfig.continuous(iterations=max(args.iterations, 1),
                                   eval_every=args.eval_every, eval_paths=4, seed=args.seed,
                                   control_lags=args.control_lags, news=args.news,
                                   precondition=args.precondition, start=args.start,
                                   **({} if args.continuation is None
                                      else dict(continuation=args.continuation)),
                                   **({} if args.average is None
                                      else dict(average=args.average)),
                                   **({} if args.linear_correction is None
                                      else dict(linear_correction=args.linear_correction)))
    ckpt = os.path.join(args.out, _name(args))
    if args.iterations == 0:
        sol = untrained(model, cfg)
    else:
        sol = hm.solve(model, "rspg", cfg, checkpoint_dir=ckpt, progress=False,
                       optimizer=part_optimizer(cfg, args.train))
    solve_s = time.perf_counter() - t0
    h = sol.history
    per_it = seconds_per_iteration(h) if args.iterations else float("nan")
    gaps = {}
    for size, tag in ((1e-4, "small"), (2.5e-3, "25bp")):
        out = irf_comparison(sol, size, T=20, variables=["Y", "C", "pi", "r", "w", "N", "i"])
        gaps[tag] = {shock: {v: dict(gap=d["gap_share_of_peak"].tolist(),
                                     learned=(d["learned"] / size).tolist(),
                                     reference=(d["perfect_foresight"] / size).tolist())
                             for v, d in res.items()} for shock, res in out.items()}
    mom = hm.ergodic_moments(sol, T=1000, burn_in=100, n_paths=4,
                             variables=["Y", "pi", "r", "i", "w"])
    nonlinear = nonlinear_claims(sol) if args.nonlinear else None
    anticipation = None
    if args.news:  # the response today to a 25 bp cut announced k quarters ahead
        from hank_mfg.reports.aggregate_risk import anticipation_table

        anticipation = anticipation_table(sol, -0.0025, T=20).to_dict(orient="list")
    start = getattr(sol.problem, "first_order", None)
    cells = list(start.cells) if start is not None and start.quadrature else None
    return dict(news=args.news, anticipation=anticipation, nonlinear=nonlinear, seed=args.seed,
                quadrature_cells=cells,
                control_lags=args.control_lags, precondition=args.precondition,
                continuation=cfg.continuation, start=args.start,
                n_wealth=args.n_wealth,
                iterations=args.iterations, s_per_iteration=per_it, solve_s=solve_s,
                total_s=time.perf_counter() - t0, history=h.to_dict(orient="list"),
                irf=gaps, moments=dict(sd=mom["sd"], corr={f"{a},{b}": c for (a, b), c
                                                           in mom["corr"].items()}),
                checkpoint=ckpt)


def part_optimizer(cfg, train: str):
    """The preset's optimiser training only the ``train`` part of the policy (``"all"``:
    ``None``, the default optimiser): ``"households"`` holds the firms' forecaster at its
    start (the linear forecast), ``"forecaster"`` the households' correction at zero."""
    if train == "all":
        return None
    import equinox as eqx
    import jax

    from hank_mfg.solvers.training import default_optimizer

    def frozen(params):
        mask = jax.tree_util.tree_map(lambda _: train == "forecaster", params)
        return eqx.tree_at(lambda p: p.forecaster, mask, replace=jax.tree_util.tree_map(
            lambda _: train == "households", mask.forecaster))

    return default_optimizer(cfg, frozen)


def nonlinear_claims(sol) -> dict:
    """Every nonlinear statement about ``sol`` beside the benchmark it is read against."""
    import hank_mfg as hm
    from hank_mfg.reports.aggregate_risk import girf_table, state_girf_table
    from hank_mfg.reports.continuous import ergodic_moments_table

    t0 = time.perf_counter()
    girf = girf_table(sol, {"rstar": 0.0025, "Z": 0.0025}, multiples=(0.04, 1, 4, 8), T=20,
                      n_paths=16, variables=["Y", "C", "pi", "r"])
    impact = girf[girf["date"] == 0]
    size_rows = [dict(shock=r.shock, multiple=r.multiple, variable=r.variable,
                      learned_per_unit=r.response_per_unit,
                      perfect_foresight_per_unit=r.perfect_foresight_per_unit,
                      extrapolation=bool(r.extrapolation)) for r in impact.itertuples()]
    state = state_girf_table(sol, {"rstar": 0.0025}, T=20, n_paths=32, burn_in=100,
                             variables=["Y", "C", "pi", "r"])
    s0 = state[state["date"] == 0]
    state_rows = [dict(state=r.state, variable=r.variable, learned=r.response,
                       perfect_foresight=r.perfect_foresight, state_level=r.state_level)
                  for r in s0.itertuples()]
    mom = ergodic_moments_table(sol, T=1000, burn_in=100, n_paths=8,
                                variables=["Y", "C", "pi", "r", "i", "w"])
    ex = hm.exploitability(sol)
    floor = hm.exploitability_floor(sol)
    out = dict(sizes=size_rows, states=state_rows,
               moments=mom.replace({np.nan: None}).to_dict(orient="records"),
               consumption_equivalent=ex.consumption_equivalent,
               relative_exploitability=ex.relative,
               floor_consumption_equivalent=floor.consumption_equivalent,
               floor_relative_exploitability=floor.relative,
               seconds=time.perf_counter() - t0)
    for r in size_rows:
        print(f"{r['shock']} x{r['multiple']:g} {r['variable']}: learned "
              f"{r['learned_per_unit']:.4g} perfect foresight "
              f"{r['perfect_foresight_per_unit']:.4g} per unit"
              f"{' (extrapolated)' if r['extrapolation'] else ''}", flush=True)
    for r in state_rows:
        print(f"{r['state']} ({r['state_level']:.4f}) {r['variable']}: learned "
              f"{r['learned']:.4g} perfect foresight {r['perfect_foresight']:.4g}", flush=True)
    print(mom.to_string(), flush=True)
    print(f"consumption equivalent {ex.consumption_equivalent:.3g} (floor "
          f"{floor.consumption_equivalent:.3g}); relative {ex.relative:.3g} (floor "
          f"{floor.relative:.3g}); {out['seconds']:.0f} s", flush=True)
    return out


def untrained(model, cfg):
    """The solution at iteration 0 (the structural start, the learned correction at zero) with
    its certificates as the only row of its history."""
    import pandas as pd

    from hank_mfg.solvers import rspg

    run = rspg._SavingsRun(model, "rspg", cfg)
    row = run.evaluate(run.params, 0, 0.0, float("nan"))
    return rspg.Solution(model=model, method="rspg", config=cfg, policy=run.policy(run.params),
                         history=pd.DataFrame([row]), summary={}, problem=run.problem)


def _name(args) -> str:
    news = f"_news{args.news}" if args.news else ""
    plain = "" if args.precondition else "_plain"
    costs = "" if args.price_adjustment_costs == "resource" else "_costs_none"
    start = "" if args.start == "steady-state" else "_" + args.start.replace("-", "_")
    its = "_untrained" if args.iterations == 0 else ""
    given = getattr(args, "continuation", None)
    options = f"_{given}" if given else ""
    average = getattr(args, "average", None)
    options += f"_average{average:g}" if average is not None else ""
    linear = getattr(args, "linear_correction", None)
    options += f"_linear{str(linear).lower()}" if linear is not None else ""
    part = getattr(args, "train", "all")
    options += f"_only_{part}" if part != "all" else ""
    return (f"hank_risk_seed{args.seed}_lags{args.control_lags}{plain}{news}{costs}{start}"
            f"{options}{its}")


def gradient_noise(args) -> dict:
    _setup()
    import equinox as eqx
    import jax

    import hank_mfg as hm
    from hank_mfg.policies.savings import trainable
    from hank_mfg.solvers import continuous as C
    from models.hank import OneAssetHANK

    model = OneAssetHANK(n_wealth=args.n_wealth,
                         price_adjustment_costs=args.price_adjustment_costs)
    if args.checkpoint:
        sol = hm.load_solution(model, args.checkpoint)
        problem, policy = sol.compiled(), sol.policy
    else:
        ss = hm.steady_state(model)
        problem = C.savings_problem(model, ss)
        policy = problem.make_policy(key=jax.random.key(0),
                                     **hm.RSPGConfig.continuous().savings_architecture())
    params, static = eqx.partition(policy, trainable(policy))

    def flat(g, forecaster):
        part = g.forecaster if forecaster else eqx.tree_at(lambda p: p.forecaster, g, None)
        return np.concatenate([np.ravel(x) for x in jax.tree_util.tree_leaves(part)])

    batches = [problem.sample_noise(key=jax.random.key(100 + i), n_paths=8)
               for i in range(args.batches)]
    rows, means = [], {}
    for lags in args.lags:
        f = eqx.filter_jit(lambda p, e, lags=lags: C.savings_value_and_grad(
            p, static, problem, e, lags, args.precondition)[1])
        jax.block_until_ready(f(params, batches[0]))  # compile
        grads, secs = [], []
        for eps in batches:
            t = time.perf_counter()
            grads.append(jax.block_until_ready(f(params, eps)))
            secs.append(time.perf_counter() - t)
        row = dict(lags=lags, s_per_gradient=float(np.median(secs)))
        for part, fc in (("households", False), ("forecaster", True)):
            G = np.stack([flat(g, fc) for g in grads])
            mean = G.mean(0)
            row[f"{part}_noise_to_signal"] = float(((G - mean) ** 2).sum(1).mean()
                                                   / np.sum(mean ** 2))
            means.setdefault(part, mean)
            row[f"{part}_cosine_with_plain"] = float(mean @ means[part] / np.linalg.norm(mean)
                                                     / np.linalg.norm(means[part]))
        rows.append(row)
        print(json.dumps(row), flush=True)
    return dict(checkpoint=args.checkpoint, n_wealth=args.n_wealth,
                precondition=args.precondition, rows=rows)


def worst_euler(args) -> dict:
    """Where the largest Euler errors sit along the evaluation paths of ``--seed``: the
    untrained ``--start`` (or the trained ``--checkpoint``), the ``--top`` largest errors of
    each path with the household's wealth point, income state, saved share, ``a'`` and the
    date's shock levels, and the largest with ``a'`` beyond the first cell of the grid."""
    _setup()
    import jax
    import jax.numpy as jnp

    import hank_mfg as hm
    from hank_mfg.solvers import rspg
    from hank_mfg.solvers.continuous import savings_rollout
    from hank_mfg.solvers.savings_certificates import path_euler_tables
    from models.hank import OneAssetHANK

    model = OneAssetHANK(n_wealth=args.n_wealth,
                         price_adjustment_costs=args.price_adjustment_costs)
    if args.checkpoint:
        sol = hm.load_solution(model, args.checkpoint)
        run = rspg._SavingsRun(model, "rspg", sol.config)
        cfg, policy = sol.config, sol.policy
    else:
        cfg = hm.RSPGConfig.continuous(iterations=1, eval_paths=4, seed=args.seed,
                                       start=args.start)
        run = rspg._SavingsRun(model, "rspg", cfg)
        policy = run.policy(run.params)
    problem = run.problem
    a_grid = np.asarray(problem.a_grid)
    paths = []
    for b, e in enumerate(np.asarray(run.eval_eps)):
        path = jax.jit(savings_rollout)(problem, policy, jnp.asarray(e))
        err, unc = jax.jit(path_euler_tables)(problem, policy, path)[:2]
        mask = np.asarray(unc) & (np.asarray(path.mu[:-1]) > 0)
        le = np.where(mask, np.log10(np.maximum(np.asarray(err), 1e-300)), -np.inf)
        beyond = np.where(np.asarray(path.a_next[:-1]) >= a_grid[1], le, -np.inf)
        rows = []
        for o in np.argsort(le.reshape(-1))[::-1][:args.top]:
            t, i, k = (int(x) for x in np.unravel_index(o, le.shape))
            rows.append(dict(date=t, wealth_point=i, income=k, log10_error=float(le[t, i, k]),
                             share=float(path.share[t, i, k]),
                             a_next=float(path.a_next[t, i, k]),
                             shocks=np.asarray(path.z[t, :problem.n_shocks]).tolist()))
        paths.append(dict(max=float(le.max()), max_beyond_first_cell=float(beyond.max()),
                          largest=rows))
        print(f"path {b}: max {le.max():.3f}, beyond the first cell {beyond.max():.3f}")
        for r in rows:
            print(f"   date {r['date']} a[{r['wealth_point']}] e {r['income']}: "
                  f"{r['log10_error']:.3f}, share {r['share']:.4f}, a' {r['a_next']:.4f}, "
                  f"shocks {np.round(r['shocks'], 4).tolist()}")
    return dict(seed=args.seed, start=cfg.start, checkpoint=args.checkpoint, paths=paths)


def learned_parts(args) -> dict:
    """The small-shock gaps of a trained checkpoint with each learned correction set to zero
    (and the households' held at its constant), with the Euler errors of each on 2 paths."""
    _setup()
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    import hank_mfg as hm
    from hank_mfg.analysis.aggregate_risk import irf_gap, learned_irf
    from hank_mfg.analysis.continuous_report import perfect_foresight_irf
    from hank_mfg.solvers.continuous import savings_rollout
    from hank_mfg.solvers.savings_certificates import path_euler_errors
    from models.hank import OneAssetHANK

    model = OneAssetHANK(n_wealth=args.n_wealth,
                         price_adjustment_costs=args.price_adjustment_costs)
    sol = hm.load_solution(model, args.checkpoint)
    problem, policy = sol.compiled(), sol.policy

    def zero(layer):
        return eqx.tree_at(lambda lin: (lin.weight, lin.bias), layer,
                           (jnp.zeros_like(layer.weight), jnp.zeros_like(layer.bias)))

    no_forecaster = eqx.tree_at(lambda p: p.forecaster.out, policy, zero(policy.forecaster.out))
    # the households' correction held at its value at the steady-state history: the history
    # reaches neither the GRU nor the skip connection
    n = policy.gru.hidden_size
    constant = eqx.tree_at(lambda p: p.gru.weight_ih, policy,
                           jnp.zeros_like(policy.gru.weight_ih))
    constant = eqx.tree_at(lambda p: p.layers[0].weight, constant,
                           policy.layers[0].weight.at[:, n:].set(0.0))
    variants = {"trained": policy, "forecaster's correction zero": no_forecaster,
                "households' correction zero": eqx.tree_at(lambda p: p.out, policy,
                                                           zero(policy.out)),
                "households' correction at its constant": constant,
                "both zero": eqx.tree_at(lambda p: p.out, no_forecaster, zero(policy.out))}
    eps = problem.sample_noise(key=jax.random.key(1000 + args.seed), n_paths=2)
    euler = jax.jit(lambda pol, e: path_euler_errors(
        problem, pol, savings_rollout(problem, pol, e))[:2])
    size, variables = 1e-4, ["Y", "C", "pi", "r", "w", "N"]
    reference = {s: perfect_foresight_irf(model, s, size, T=20, steady_state=problem.steady_state)
                 for s in problem.shock_names}
    rows = []
    for name, pol in variants.items():
        for shock in problem.shock_names:
            got = learned_irf(problem, {shock: size}, T=20, policy=pol)
            gap = irf_gap(got, reference[shock], variables, T=20)
            rows.append(dict(policy=name, shock=shock, **{v: gap[v] for v in variables},
                             w_impact=float(got["w"][0]) / size,
                             w_impact_reference=float(reference[shock]["w"][0]) / size))
            r = rows[-1]
            print(f"{name}, {shock}: " + " ".join(f"{v} {r[v]:.3f}" for v in variables)
                  + f"; w on impact {r['w_impact']:.4f} (perfect foresight "
                  f"{r['w_impact_reference']:.4f})", flush=True)
        errs = np.array([[float(x) for x in euler(pol, e)] for e in eps])
        rows[-1].update(euler_mean=float(errs[:, 0].mean()), euler_max=float(errs[:, 1].max()))
        print(f"{name}: Euler mean {errs[:, 0].mean():.2f}, max {errs[:, 1].max():.2f} "
              f"(2 paths, key {1000 + args.seed})", flush=True)
    return dict(checkpoint=args.checkpoint, size=size, rows=rows)


def gradient_bias(args) -> dict:
    """The mean of the EGM reading ``G / u'(c)`` at the untrained risk-adjusted start along
    noisy paths, pointwise (one EGM step from the realised continuation) and linearised about
    the households' expectation (docs/theory.md §12.3), state by state."""
    _setup()
    import jax

    import hank_mfg as hm
    from hank_mfg.solvers import continuous as C
    from models.hank import OneAssetHANK

    model = OneAssetHANK(n_wealth=args.n_wealth,
                         price_adjustment_costs=args.price_adjustment_costs)
    problem = C.savings_problem(model, hm.steady_state(model), start="risk-adjusted")
    policy = problem.make_policy(key=jax.random.key(0),
                                 **hm.RSPGConfig.continuous(start="risk-adjusted")
                                 .savings_architecture())

    @jax.jit
    def one(e):
        path = C.savings_rollout(problem, policy, e)
        uc = problem.model.marginal_utility(path.c)
        return [(C.euler_step_gap(problem, path, linearised=lin) / uc)[:-1].mean(0)
                for lin in (False, True)] + [path.mu[:-1].mean(0)]

    eps = problem.sample_noise(key=jax.random.key(args.seed), n_paths=args.batches)
    outs = [one(e) for e in eps]
    pointwise, linearised, mu = (np.mean([o[k] for o in outs], axis=0) for k in range(3))
    diff = pointwise - linearised
    rows = 10
    for i in range(rows):
        print(f"a[{i}] = {float(problem.a_grid[i]):.4f}: pointwise - linearised "
              + " ".join(f"{d:+.1e}" for d in diff[i]), flush=True)
    print(f"from a[{rows}] on: largest |difference| {np.max(np.abs(diff[rows:])):.1e}; "
          f"mass-weighted means: pointwise {np.sum(mu * pointwise) / np.sum(mu):.2e}, "
          f"linearised {np.sum(mu * linearised) / np.sum(mu):.2e}")
    return dict(seed=args.seed, n_paths=args.batches, pointwise=pointwise.tolist(),
                linearised=linearised.tolist(), mu=mu.tolist())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=150,
                    help="training iterations (0: the untrained start)")
    ap.add_argument("--start", choices=("steady-state", "first-order", "risk-adjusted",
                                        "time-iteration"),
                    default="steady-state")
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-wealth", type=int, default=100)
    ap.add_argument("--control-lags", type=int, default=48)
    ap.add_argument("--news", type=int, default=0, help="announced rate innovations K")
    ap.add_argument("--no-precondition", dest="precondition", action="store_false",
                    help="the plain policy gradient (the preset scales it to relative "
                         "consumption, docs/theory.md §12.3)")
    ap.add_argument("--continuation", choices=("egm", "lottery", "egm-pointwise"), default=None,
                    help="how training values saving (RSPGConfig.continuation; default: the "
                         "preset's, 'egm' from the first-order start, else 'lottery')")
    ap.add_argument("--average", type=float, default=None,
                    help="RSPGConfig.average: the decay of the iterates' average (default: the "
                         "preset's)")
    ap.add_argument("--linear-correction", choices=("true", "false"), default=None,
                    type=str.lower,
                    help="RSPGConfig.linear_correction (default: the preset's, without the "
                         "linear term from a first-order start)")
    ap.add_argument("--train", choices=("all", "households", "forecaster"), default="all",
                    help="train one part of the policy alone (the other held at its start)")
    ap.add_argument("--price-adjustment-costs", choices=("resource", "none"), default="resource",
                    help="OneAssetHANK.price_adjustment_costs ('none': the earlier dividends)")
    ap.add_argument("--nonlinear", action="store_true",
                    help="every nonlinear claim beside its benchmark (after the solve)")
    ap.add_argument("--gradient-noise", action="store_true")
    ap.add_argument("--gradient-bias", action="store_true",
                    help="the EGM reading's mean at the untrained risk-adjusted start, pointwise "
                         "and linearised (--batches paths, --seed their key)")
    ap.add_argument("--learned-parts", action="store_true",
                    help="with --checkpoint: the small-shock gaps with each learned correction "
                         "set to zero")
    ap.add_argument("--checkpoint", default=None, help="a trained run (default: untrained)")
    ap.add_argument("--worst-euler", action="store_true",
                    help="where the largest Euler errors sit along the evaluation paths (the "
                         "untrained --start, or --checkpoint DIR)")
    ap.add_argument("--top", type=int, default=5,
                    help="--worst-euler: the largest errors listed per path")
    ap.add_argument("--lags", nargs="+", type=int, default=[0, 16, 48])
    ap.add_argument("--batches", type=int, default=6)
    ap.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results"))
    args = ap.parse_args()
    if args.linear_correction is not None:
        args.linear_correction = args.linear_correction == "true"
    os.makedirs(args.out, exist_ok=True)
    if args.worst_euler:
        res = worst_euler(args)
        name = f"bench_hank_risk_worst_euler_{args.start.replace('-', '_')}_seed{args.seed}.json"
    elif args.learned_parts:
        if not args.checkpoint:
            ap.error("--learned-parts needs --checkpoint DIR (a trained run)")
        res = learned_parts(args)
        name = "bench_hank_risk_learned_parts.json"
    elif args.gradient_bias:
        res = gradient_bias(args)
        name = "bench_hank_risk_gradient_bias.json"
    elif args.gradient_noise:
        res = gradient_noise(args)
        name = "bench_hank_risk_gradient_noise.json"
    else:
        res = solve(args)
        name = f"bench_{_name(args)}.json"
        h = res["history"]
        print(f"seed {args.seed} lags {args.control_lags} precondition {args.precondition}: "
              f"{res['s_per_iteration']:.2f} s/it, "
              f"solve {res['solve_s']:.0f} s; relative exploitability "
              f"{h['relative_exploitability'][-1]:.2e}, Euler mean {h['euler_mean'][-1]:.2f}, "
              f"max {h['euler_max'][-1]:.2f}, market {h['market_residual'][-1]:.1e}, "
              f"Phillips E_t residual {h['nkpc_res_expected'][-1]:.2e}")
        for tag, shocks in res["irf"].items():
            for shock, res_v in shocks.items():
                print(tag, shock, {v: round(max(d["gap"]), 3) for v, d in res_v.items()})
        print("sd", {k: round(v, 5) for k, v in res["moments"]["sd"].items()})
        if res["quadrature_cells"]:
            print("time-iteration cells (K, E, J):", res["quadrature_cells"])
        if res["anticipation"]:
            a = res["anticipation"]
            for i, (k, v) in enumerate(zip(a["k"], a["variable"])):
                print(f"announced k={k} {v}: learned {a['learned'][i]:.4f} perfect foresight "
                      f"{a['perfect_foresight'][i]:.4f} ({a['unit'][i]})")
    with open(os.path.join(args.out, name), "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()

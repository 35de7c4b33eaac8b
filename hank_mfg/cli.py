"""Command line: ``hank-mfg COMMAND ...`` (typer).

Commands are plain functions registered on :data:`app`; add one with ``@app.command()``.
User mistakes are reported by :func:`fail` as one line on stderr with exit code 1 (no
traceback). Shared options (``MODEL_FILE``, ``--set``, ``--model``) are the aliases below, and
:func:`load` builds the model from them.
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import NoReturn, Optional

import numpy as np
import typer

from .loading import ModelLoadError, build_model

app = typer.Typer(
    name="hank-mfg",
    rich_markup_mode=None,  # plain help: keep bracketed words such as [targets] and [lo, hi]
    help="Heterogeneous-agent macro as mean-field games: inspect, solve and report models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# ---- shared arguments (reuse these in new commands) ---------------------------------------------
ModelFile = typer.Argument(..., help="Python file defining the model, e.g. models/rspg_macro.py")
SetOpt = typer.Option(None, "--set", "-s", metavar="FIELD=VALUE",
                      help="Override a model field (repeatable), e.g. --set beta=0.9")
ModelOpt = typer.Option(None, "--model", "-m", help="Model class name, if the file has several")


def process_started() -> float:
    """The ``time.perf_counter()`` reading at which this process started (Linux: from
    ``/proc``; elsewhere the first call), so that wall times count the interpreter's start and
    every import."""
    now = time.perf_counter()
    try:
        with open("/proc/self/stat") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])  # field 22: start after boot
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        age = uptime - ticks / os.sysconf("SC_CLK_TCK")
        return now - age if 0.0 <= age < 3600.0 else now
    except (OSError, ValueError, IndexError):
        return now


def use_compilation_cache() -> str:
    """Keep compiled XLA programs on disk: ``$HANK_MFG_CACHE`` or ``~/.cache/hank_mfg/xla``.

    JAX keys each program by its computation, the JAX/XLA versions and the device, so a cached
    program is reused only where it is the same; programs that compiled in under a second are
    not kept. Returns the directory.
    """
    import jax

    path = os.environ.get("HANK_MFG_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "hank_mfg", "xla")
    os.makedirs(path, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", path)
    return path


def fail(message: str, code: int = 1) -> NoReturn:
    """Print a one-line error to stderr and exit with ``code``."""
    typer.echo(f"error: {' '.join(str(message).split())}", err=True)
    raise typer.Exit(code)


def load(model_file: str, overrides: Optional[list[str]], model: Optional[str]):
    """Build the model or :func:`fail` with the reason."""
    try:
        return build_model(model_file, overrides or [], name=model)
    except ModelLoadError as err:
        fail(str(err))


def _describe(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, (bool, int, float, str)):
        return repr(value) if isinstance(value, str) else str(value)
    if isinstance(value, tuple) and all(isinstance(x, (bool, int, float, str)) for x in value):
        return "(" + ", ".join(_describe(x) for x in value) + ")"
    shape = getattr(value, "shape", None)
    if shape is not None:
        if len(shape) == 0:
            return f"{float(np.asarray(value)):.6g}"
        return f"array shape {tuple(int(d) for d in shape)} dtype {value.dtype}"
    return type(value).__name__


@app.callback()
def _root() -> None:
    """Heterogeneous-agent macro as mean-field games (hank_mfg)."""


@app.command()
def info(
    model_file: str = ModelFile,
    set_: Optional[list[str]] = SetOpt,
    model: Optional[str] = ModelOpt,
) -> None:
    """Print the model's fields, grids and number of states.

    A capital economy or a finite-state game: its actions too. An economy (Huggett, the
    one-asset HANK, a capital economy, your own hm.AbstractEconomy): the aggregates its
    households read, its exogenous variables and shocks, and the unknowns and targets of its
    steady state and of its transitions.
    """
    from .model.base import AbstractHetAgentModel
    from .model.economy import AbstractEconomy

    m = load(model_file, set_, model)
    typer.echo(f"model: {type(m).__name__}  ({model_file})")
    typer.echo("fields:")
    names = [f.name for f in dataclasses.fields(m)]
    width = max(len(n) for n in names)
    for name in names:
        typer.echo(f"  {name:<{width}}  {_describe(getattr(m, name))}")
    if not hasattr(m, "a_grid"):  # a finite-state game
        typer.echo(f"n_states = {m.n_states}")
        typer.echo(f"n_actions = {m.n_actions}")
        typer.echo(f"horizon = {m.horizon}")
        return
    a, e = np.asarray(m.a_grid), np.asarray(m.e_grid)
    typer.echo("grids:")
    typer.echo(f"  wealth  n_a = {a.shape[0]}  [{a[0]:.6g}, {a[-1]:.6g}]  (borrowing limit "
               f"{a[0]:.6g})")
    typer.echo(f"  income  n_e = {e.shape[0]}  [{e.min():.6g}, {e.max():.6g}]")
    capital = isinstance(m, AbstractHetAgentModel)
    if capital:
        typer.echo(f"  actions n_k = {int(m.action_grid.shape[0])}  ({m.action_kind})")
    if isinstance(m, AbstractEconomy):
        _info_economy(m, capital)
    typer.echo(f"n_states = {m.n_states}")
    if capital:
        typer.echo(f"n_actions = {int(m.action_grid.shape[0])}")


def _info_economy(m, capital: bool = False) -> None:
    """The declaration of an economy, as ``info`` prints it (``capital``: an economy whose
    steady state ``hm.steady_state`` finds by a root find in ``r``)."""
    from .solvers.steady_state import default_bracket

    def names(xs) -> str:
        return ", ".join(xs) if xs else "(none)"

    def guess(x) -> str:
        if isinstance(x, (tuple, list)):
            return f"in [{float(x[0]):.6g}, {float(x[1]):.6g}]"
        return f"guess {float(x):.6g}"

    labour = "hours chosen" if m.endogenous_labour else "no labour choice"
    typer.echo(f"households: read {names(m.household_inputs)}; {labour}")
    typer.echo(f"exogenous: {names(m.exogenous)}")
    shocks = [f"{s.name} (rho {float(s.rho):.6g}, sigma {float(s.sigma):.6g})" for s in m.shocks()]
    off = "" if m.common_noise else "  (common_noise=False: switched off under aggregate risk)"
    typer.echo(f"shocks: {names(shocks)}{off}")
    values = ", ".join(f"{k} = {float(v):.6g}" for k, v in m.steady_state_values().items())
    typer.echo(f"calibrated steady state: {values or '(none)'}")
    unknowns = ", ".join(f"{k} ({guess(v)})" for k, v in m.steady_state_unknowns().items())
    typer.echo(f"steady state: unknowns {unknowns or '(none)'} clear targets "
               f"{names(m.steady_state_targets)}")
    if capital:
        lo, hi = default_bracket(m)
        typer.echo(f"  hm.steady_state solves this fixed point in r ({guess((lo, hi))}, "
                   "Brent's method), capital demand from the firms' first-order condition")
    typer.echo(f"transitions: unknowns {names(m.transition_unknowns)} clear targets "
               f"{names(m.transition_targets)}")
    if m.rates:
        typer.echo(f"rates (responses in basis points): {names(m.rates)}")


#: Training presets of ``solve --preset`` (``RSPGConfig.paper`` / ``.fast`` / ``.continuous``).
PRESETS = ("paper", "fast", "continuous")


def _resume_command(model_file, method, config, out, horizon, set_, model, *, continuous: bool,
                    choice: str, preset: str, preset_given: bool) -> str:
    """The ``hank-mfg solve ... --resume`` line that continues this run (every training option
    resolved, so the line rebuilds the same configuration)."""
    import shlex

    n_paths = config.n_envs if hasattr(config, "n_envs") else config.n_paths
    args = ["hank-mfg", "solve", model_file, "--method", method, "--iterations",
            str(config.iterations), "--eval-every", str(config.eval_every), "--seed",
            str(config.seed), "--n-paths", str(n_paths), "--lr", repr(config.lr),
            "--lr-final", repr(config.lr_final), "--hidden", str(config.hidden)]
    if hasattr(config, "n_envs"):
        pass  # a model-free baseline: no policy-head options
    elif continuous:
        args += ["--choice", "continuous", "--preset", preset, "--savings-head",
                 config.savings_head, "--n-knots", str(config.n_knots), "--control-lags",
                 str(config.control_lags),
                 "--precondition" if config.precondition else "--no-precondition",
                 "--continuation", config.continuation, "--start", config.start]
        if config.floor_expectations:
            args += ["--floor-expectations"]
        if config.news:
            args += ["--news", str(config.news)]
    else:
        args += ["--head", config.head, "--table-head", config.table_head, "--n-knots",
                 str(config.n_knots)]
        if choice != "auto":
            args += ["--choice", choice]
        if preset_given:
            args += ["--preset", preset]
    if horizon is not None:
        args += ["--horizon", str(horizon)]
    for item in set_ or []:
        args += ["--set", item]
    if model is not None:
        args += ["--model", model]
    args += ["--out", out, "--resume"]
    return shlex.join(args)


def _rl_config(method: str, *, preset, seed: int, **given):
    """The :class:`~hank_mfg.RLConfig` of a model-free ``solve`` run (``n_envs`` from
    ``--n-paths``); :func:`fail` on an option of the structural methods."""
    from .solvers.rl import RLConfig

    given = {k: v for k, v in given.items() if v is not None}
    for name in ("head", "savings_head", "n_knots", "table_head", "control_lags", "news",
                 "precondition", "continuation", "start", "floor_expectations"):
        if name in given:
            fail(f"--{name.replace('_', '-')} sets RSPG/SPG's policy; --method {method} has its "
                 "own networks (options: --hidden, --lr, --lr-final, --n-paths)")
    if preset is not None:
        fail(f"--preset sets RSPG/SPG's training; --method {method} has its own defaults")
    try:
        return RLConfig.for_method(method, seed=seed, **given)
    except ValueError as err:
        fail(str(err))


def _warn_quality(quality: dict, what: str, remedy=None, then: Optional[str] = None) -> None:
    """One ``warning:`` line on stderr per failed quality check, each ending with its remedy
    (``remedy``: one sentence for every check, or ``{check: sentence}`` with the default under
    ``None``), and the line ``then`` (e.g. the command that applies it) after them."""
    checks = quality.get("checks", {})
    failed = [(name, c["message"]) for name, c in checks.items()
              if isinstance(c, dict) and not c.get("passed", True)]
    if not failed:
        failed = [(None, message) for message in quality.get("warnings", [])]
    for name, message in failed:
        fix = remedy.get(name, remedy.get(None)) if isinstance(remedy, dict) else remedy
        typer.echo(f"warning: {what}: {message}" + (f"; remedy: {fix}" if fix else ""),
                   err=True)
    if failed and then:
        typer.echo(then, err=True)


def _solve_remedy(*, game: bool, continuous: bool, method: str, preset: Optional[str], config,
                  again: str) -> tuple[dict, str]:
    """``({check: remedy}, then)`` of a solve run that failed quality checks: train longer from
    its checkpoint (``again``: the resume command with twice the iterations), another preset,
    or continuous choices."""
    longer = "train longer: rerun with a larger --iterations and --resume (command below)"
    if game:
        remedy = {None: f"{longer}, or try another --method or a smaller --lr"}
    elif continuous:
        remedy = {None: longer}
    else:
        fast = (", or start over with --preset fast (the paper's network at 24 wealth knots "
                "per income state: lower exploitability in less time)"
                if method in ("rspg", "spg") and preset == "paper" else "")
        grid = (f"{longer}; if it persists, solve with --choice continuous (savings on a "
                "continuum instead of the grid of actions)")
        remedy = {None: longer + fast, "monotone_consumption": grid,
                  "euler_mean_log10": grid, "euler_max_log10": grid}
    then = (f"to continue this run to {2 * config.iterations} iterations from its "
            f"checkpoint:\n  {again}")
    return remedy, then


def _training_config(continuous: bool, preset: str, *, choice: str, seed: int, horizon, **given):
    """The :class:`~hank_mfg.RSPGConfig` of a ``solve`` run: the preset's values, overridden by
    the options given (``None``: not given); :func:`fail` on an option of the other kind of
    choice or a value the config refuses."""
    from .solvers.rspg import RSPGConfig

    given = {k: v for k, v in given.items() if v is not None}
    if continuous and "head" in given:
        fail("--head applies to discrete choices; this run has continuous choices (its policy's "
             "options: --savings-head, --n-knots)")
    if continuous and "table_head" in given:
        fail("--table-head applies to discrete choices; this run has continuous choices (its "
             "policy's options: --savings-head, --n-knots)")
    for name in () if continuous else ("savings_head", "control_lags", "news", "precondition",
                                       "continuation", "start", "floor_expectations"):
        if name in given:
            fail(f"--{name.replace('_', '-')} applies to continuous choices; this run has "
                 "discrete choices (give --choice continuous for continuous ones)")
    if "n_paths" in given:
        given["eval_paths"] = given["n_paths"]
    given["seed"] = seed
    if continuous:
        given["choice"] = "continuous"
        given["horizon"] = horizon  # the model's horizon field is not used
    else:
        given["choice"] = choice  # "auto" or "discrete", as given (compared on --resume)
    try:
        make = {"continuous": RSPGConfig.continuous, "fast": RSPGConfig.fast}.get(
            preset, RSPGConfig.paper)
        return make(**given)
    except ValueError as err:
        fail(str(err))


@app.command()
def solve(
    model_file: str = ModelFile,
    method: str = typer.Option(
        "rspg", "--method", help="rspg (recurrent policy) or spg (memoryless); on a finite-state "
                                 "game also the model-free baselines ippo, rippo, m-omd"),
    choice: str = typer.Option(
        "auto", "--choice",
        help="auto, discrete or continuous: the paper's action grid, or continuous savings "
             "around the steady state (auto: continuous for an economy or with --preset "
             "continuous, else discrete)"),
    preset: Optional[str] = typer.Option(
        None, "--preset",
        help="paper, fast or continuous: the defaults of the training options below "
             "(default: paper for discrete choices, continuous for continuous ones; fast: the "
             "least wall time to a given exploitability with discrete choices); options given "
             "explicitly override them"),
    iterations: Optional[int] = typer.Option(
        None, "--iterations", "-n",
        help="gradient steps (preset: paper 500, fast 200, continuous 150; raise it with --resume to "
             "extend a run)"),
    eval_every: Optional[int] = typer.Option(
        None, "--eval-every",
        help="iterations between exploitability evaluations (preset: paper 20, fast 10, "
             "continuous 25)"),
    seed: int = typer.Option(0, "--seed", help="PRNG seed (same seed, same numbers)"),
    out: str = typer.Option(..., "--out", "-o", help="output directory (history, checkpoint, summary)"),
    horizon: Optional[int] = typer.Option(
        None, "--horizon", "-T",
        help="discrete: override the model's horizon; continuous: the horizon T (default: the "
             "first T with beta^T <= 0.01)"),
    n_paths: Optional[int] = typer.Option(
        None, "--n-paths",
        help="common-noise paths per iteration and per evaluation (preset: 8; fast: 4 per "
             "iteration, evaluations on the same 8 as the paper preset)"),
    lr: Optional[float] = typer.Option(
        None, "--lr", help="initial Adam learning rate, annealed linearly (preset: paper 0.01, "
                           "fast 0.03, continuous 0.003)"),
    lr_final: Optional[float] = typer.Option(
        None, "--lr-final", help="final learning rate (preset: paper 0.001, fast 0.003, "
                                 "continuous 0.0003)"),
    hidden: Optional[int] = typer.Option(
        None, "--hidden", help="GRU / observation-embedding width (preset: paper 128, "
                               "continuous 32)"),
    head: Optional[str] = typer.Option(
        None, "--head", help="discrete choices: beta (ordered, the preset's) or categorical"),
    savings_head: Optional[str] = typer.Option(
        None, "--savings-head",
        help="continuous choices: knots (the preset's: the policy at --n-knots wealth knots "
             "per income state) or state (an MLP per state)"),
    table_head: Optional[str] = typer.Option(
        None, "--table-head",
        help="discrete choices: state (the paper preset's: the network on every state) or "
             "knots (the fast preset's: the network at --n-knots wealth knots per income "
             "state, interpolated)"),
    n_knots: Optional[int] = typer.Option(
        None, "--n-knots", help="knots per income state of a knot head (preset: 24)"),
    control_lags: Optional[int] = typer.Option(
        None, "--control-lags",
        help="continuous choices: dates of later innovations in the gradient's control "
             "variate (preset: 48; 0: the plain estimate)"),
    precondition: Optional[bool] = typer.Option(
        None, "--precondition/--no-precondition",
        help="continuous choices: scale each household's marginal value of saving by the "
             "inverse curvature of utility in log consumption (preset: on)"),
    continuation: Optional[str] = typer.Option(
        None, "--continuation",
        help="continuous choices: how training values saving: 'egm' (the Euler equation as "
             "the endogenous grid method reads it; the preset from the first-order start) or "
             "'lottery' (the exact gradient of the lottery-valued objective; the preset from "
             "the steady-state start)"),
    start: Optional[str] = typer.Option(
        None, "--start",
        help="continuous choices: the structural start the learned correction is added to: "
             "'steady-state' (default), 'first-order' (the linear solution), 'risk-adjusted' "
             "(the linear solution adjusted for risk at the steady state) or 'time-iteration' "
             "(that, with next date's expectation by quadrature next to the borrowing limit); "
             "each sets the "
             "preset's training (docs/theory.md §12.7)"),
    floor_expectations: Optional[bool] = typer.Option(
        None, "--floor-expectations/--no-floor-expectations",
        help="continuous choices from a first-order, risk-adjusted or time-iteration start, an "
             "economy with a lower bound (--set i_lb=0): the start's households and firms "
             "expect the linear path with the rule shifted where the bound binds (piecewise "
             "linear) instead of the linear path below the bound (default: off; "
             "docs/theory.md §12.7)"),
    news: Optional[int] = typer.Option(
        None, "--news",
        help="continuous choices: K announced innovations of the first shock, hitting 1..K "
             "dates after their announcement (default 0)"),
    resume: bool = typer.Option(False, "--resume", help="continue from the checkpoint in --out"),
    overwrite: bool = typer.Option(False, "--overwrite",
                                   help="replace the run already in --out (without it, refuse)"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="show a progress bar"),
    compilation_cache: bool = typer.Option(
        False, "--compilation-cache/--no-compilation-cache",
        help="keep compiled programs on disk (HANK_MFG_CACHE, default ~/.cache/hank_mfg/xla), "
             "so that a later run of the same configuration starts without recompiling "
             "(off by default: with it on, a process that compiles many programs was measured "
             "to grow past 20 GB)"),
    set_: Optional[list[str]] = SetOpt,
    model: Optional[str] = ModelOpt,
) -> None:
    """Solve the model by RSPG/SPG and write OUT/history.csv|.parquet, checkpoint, config, summary.json.

    Choices (--choice): discrete (the model's action grid, the paper's method; capital
    economies) or continuous (a savings policy around the EGM steady state, started at the
    steady-state household's rule, prices cleared each date; capital economies and economies
    such as Huggett; solved in float64). auto (default) is continuous for an economy and with
    --preset continuous, else discrete. --preset picks the defaults of the training options
    (paper: GRU 128, Adam 0.01 -> 0.001, 500 iterations; fast: the paper's network at 24
    wealth knots per income state, 4 paths per iteration, Adam 0.03 -> 0.003, 200 iterations,
    evaluations every 10 — see docs/performance.md; continuous: GRU 32, MLP 64-64 tanh, Adam
    0.003 -> 0.0003, 150 iterations, evaluations every 25; from --start first-order,
    risk-adjusted or time-iteration Adam 3e-4 -> 3e-5, and 25 iterations from
    time-iteration); each option given explicitly
    overrides its preset value. history.csv has seconds (training) and wall_seconds (since
    the command started: imports, set-up and compilation included).

    An existing run in OUT is never replaced silently: continue it with --resume (raise
    --iterations to extend a finished run; the added steps use --lr-final) or start afresh
    with --overwrite. Ctrl-C keeps the last checkpoint and prints the command that resumes it.
    summary.json carries quality verdicts; a failed check is printed as a warning with its
    remedy, followed by the --resume command that trains the run twice as long. Discrete:
    monotone consumption, Euler errors, exploitability relative to the value. Continuous (from
    the run's last evaluation, with the continuous summary: horizon, initial and final relative
    exploitability, Euler errors, market residual): relative exploitability below 1e-3, mean
    log10 Euler error below -3, market residual below 1e-6.

    Examples:

        hank-mfg solve models/rspg_macro.py --method rspg --iterations 60 --eval-every 20 --horizon 32 --seed 0 --out runs/x

        hank-mfg solve models/krusell_smith.py --choice continuous --iterations 150 --out runs/ks

        hank-mfg solve models/huggett.py --iterations 150 --out runs/huggett
    """
    import contextlib
    import json
    import os

    import jax

    from .loading import load_model_class
    from .model.economy import AbstractEconomy
    from .solvers.rspg import CHOICES
    from .solvers.training import CheckpointError
    from .solvers.rspg import solve as run_solve

    if compilation_cache:
        use_compilation_cache()

    from .model.game import AbstractFiniteMFG
    from .solvers.rl import RL_METHODS

    if method not in ("rspg", "spg", *RL_METHODS):
        fail(f"--method must be one of rspg, spg, {', '.join(RL_METHODS)}; got {method!r}")
    if choice not in CHOICES:
        fail(f"--choice must be one of {', '.join(CHOICES)}; got {choice!r}")
    if preset is not None and preset not in PRESETS:
        fail(f"--preset must be one of {', '.join(PRESETS)}; got {preset!r}")
    if choice == "discrete" and preset == "continuous":
        fail("--preset continuous is the preset of continuous choices; drop --choice discrete "
             "or use --preset paper")
    if resume and overwrite:
        fail("--resume and --overwrite exclude each other: --resume continues the run in "
             f"{out}, --overwrite replaces it")
    state_path = os.path.join(out, "state.json")
    run_files = ("state.json", "checkpoint.eqx", "summary.json", "history.csv", "config.json")
    existing = [f for f in run_files if os.path.exists(os.path.join(out, f))]
    if resume and not os.path.exists(state_path):
        fail(f"--resume: no checkpoint in {out} (state.json missing); drop --resume to start "
             "a new run there")
    if existing and not resume and not overwrite:
        fail(f"{out} already holds a run ({', '.join(existing)}); continue it with --resume "
             "or replace it with --overwrite")
    try:
        cls = load_model_class(model_file, model)
        economy = issubclass(cls, AbstractEconomy) and not cls.discrete_actions
        game = issubclass(cls, AbstractFiniteMFG)
    except ValueError as err:  # ModelLoadError is a ValueError
        fail(str(err))
    if method in RL_METHODS and (economy or choice == "continuous"):
        fail(f"--method {method} learns discrete choices from sampled agents; "
             f"{load_model_class(model_file, model).__name__} is solved here with continuous "
             "savings choices: use --method rspg or spg")
    if game and (choice == "continuous" or preset == "continuous"):
        fail("--choice continuous / --preset continuous: a finite-state game has discrete "
             "actions only")
    if economy and choice == "discrete":
        fail(f"--choice discrete: {load_model_class(model_file, model).__name__} is an economy, "
             "solved with continuous savings choices only; drop --choice or give --choice "
             "continuous")
    continuous = choice == "continuous" or (
        choice == "auto" and (economy or preset == "continuous"))
    if continuous and preset in ("paper", "fast"):
        why = "drop --choice continuous" if choice == "continuous" else (
            "this economy has continuous savings choices only")
        fail(f"--preset {preset} is a preset of discrete choices; {why}, or use --preset "
             "continuous")
    preset_name = preset or ("continuous" if continuous else "paper")
    overrides = list(set_ or [])
    if horizon is not None and not continuous:
        overrides.append(f"horizon={horizon}")
    if method in RL_METHODS:
        config = _rl_config(method, preset=preset, seed=seed, iterations=iterations,
                            eval_every=eval_every, n_envs=n_paths, lr=lr, lr_final=lr_final,
                            hidden=hidden, head=head, savings_head=savings_head, n_knots=n_knots,
                            table_head=table_head, control_lags=control_lags, news=news,
                            precondition=precondition, continuation=continuation, start=start,
                            floor_expectations=floor_expectations)
    else:
        config = _training_config(continuous, preset_name, choice=choice, seed=seed,
                                  horizon=horizon, iterations=iterations, eval_every=eval_every,
                                  n_paths=n_paths, lr=lr, lr_final=lr_final, hidden=hidden,
                                  head=head, savings_head=savings_head, n_knots=n_knots,
                                  table_head=table_head, control_lags=control_lags, news=news,
                                  precondition=precondition, continuation=continuation,
                                  start=start, floor_expectations=floor_expectations)
    # continuous choices build on the EGM steady state: the model is built in float64 as well
    precision = jax.enable_x64(True) if continuous else contextlib.nullcontext()
    with precision:
        m = load(model_file, overrides, model)
        if continuous:
            from .solvers.continuous import check_supported

            try:  # refused before anything is solved or written
                check_supported(m)
            except (ValueError, TypeError) as err:
                fail(str(err))
        if overwrite:
            for f in (*run_files, "history.parquet", "checkpoint.eqx.tmp", "state.json.tmp"):
                if os.path.isfile(os.path.join(out, f)):
                    os.remove(os.path.join(out, f))
        os.makedirs(out, exist_ok=True)
        if resume:
            unreadable = _unreadable_run_state(out)
            if unreadable:
                fail(unreadable)
        certificates = None
        if continuous:  # the first-order certificate first in every evaluation's row
            from .metrics.first_order import first_order_gap as certificates
        try:  # a checkpoint of another run is refused before anything is written
            sol = run_solve(m, method, config, checkpoint_dir=out, resume=resume,
                            progress=progress, started=process_started(),
                            certificates=certificates)
        except Exception as err:
            if resume and isinstance(err, CheckpointError):
                fail(_unreadable_checkpoint_message(out, err.__cause__ or err))
            if isinstance(err, (ValueError, FloatingPointError)):
                fail(str(err))
            raise
        except KeyboardInterrupt:
            again = _resume_command(model_file, method, config, out, horizon, set_, model,
                                    continuous=continuous, choice=choice, preset=preset_name,
                                    preset_given=preset is not None)
            if os.path.exists(state_path):
                with open(state_path) as f:
                    at = json.load(f)["iteration"]
                typer.echo(f"interrupted: checkpoint at iteration {at} kept in "
                           f"{os.path.join(out, 'checkpoint.eqx')}; resume with:\n  {again}",
                           err=True)
            else:
                typer.echo(f"interrupted before the first checkpoint; nothing to resume in {out} "
                           f"(start again with --overwrite)", err=True)
            raise typer.Exit(130) from None
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(dict(model_file=os.path.abspath(model_file), model_class=type(m).__name__,
                       overrides=overrides, method=method,
                       choice="continuous" if continuous else "discrete",
                       preset=None if method in RL_METHODS else preset_name,
                       config=config.to_dict()), f, indent=1)
    sol.history.to_csv(os.path.join(out, "history.csv"), index=False)
    sol.history.to_parquet(os.path.join(out, "history.parquet"), index=False)
    summary = dict(sol.summary)
    if summary.get("first_eval_seconds_incl_compile") is None and resume:
        old = os.path.join(out, "summary.json")  # an extended run: keep what the first one measured
        if os.path.exists(old):
            with open(old) as f:
                summary["first_eval_seconds_incl_compile"] = json.load(f).get(
                    "first_eval_seconds_incl_compile")
    from .reports.verdicts import run_quality

    if continuous:
        summary["preset"] = preset_name
    quality = run_quality(dataclasses.replace(sol, summary=summary))
    if game:
        checked = "exploitability fell"
    elif continuous:
        checked = ("the first-order certificate, relative exploitability, Euler errors, "
                   "market clearing")
    else:
        checked = "monotone consumption, Euler errors, exploitability"
    summary["quality"] = quality
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(_finite(summary), f, indent=1, allow_nan=False)
    s = summary
    typer.echo(f"{method.upper()}: exploitability {s['initial_exploitability']:.4g} -> "
               f"{s['final_exploitability']:.4g} after {s['iterations']} iterations "
               f"({s['train_seconds']:.1f} s); results in {out}")
    if continuous:
        typer.echo(f"continuous choices (horizon {s['horizon']}): relative exploitability "
                   f"{s['initial_relative_exploitability']:.3g} -> "
                   f"{s['final_relative_exploitability']:.3g}, mean Euler error log10 "
                   f"{s['final_euler_mean']:.3g}, market residual "
                   f"{s['final_market_residual']:.3g}")
    if quality["passed"]:
        typer.echo(f"quality: all checks passed ({checked})")
    else:
        longer = dataclasses.replace(config, iterations=2 * config.iterations)
        again = _resume_command(model_file, method, longer, out, horizon, set_, model,
                                continuous=continuous, choice=choice, preset=preset_name,
                                preset_given=preset is not None)
        remedy, then = _solve_remedy(game=game, continuous=continuous, method=method,
                                     preset=preset_name, config=config, again=again)
        _warn_quality(quality, "solution not converged or of poor quality", remedy, then)


def _unreadable_run_state(out: str) -> Optional[str]:
    """Why ``out/state.json`` cannot be resumed from (unreadable, not a run's state, or no
    ``checkpoint.eqx`` beside it), or ``None``."""
    import json

    path = os.path.join(out, "state.json")
    try:
        with open(path) as f:
            state = json.load(f)
        ok = (isinstance(state, dict) and isinstance(state.get("iteration"), int)
              and isinstance(state.get("history"), list))
        why = None if ok else "it is valid JSON but not a run's state (no iteration and history)"
    except (OSError, UnicodeDecodeError, ValueError) as err:
        why = f"{type(err).__name__}: {' '.join(str(err).split())}"
    if why is None:
        ckpt = os.path.join(out, "checkpoint.eqx")
        if not os.path.isfile(ckpt) or os.path.getsize(ckpt) == 0:
            return (f"--resume: {ckpt} is missing or empty, so the run in {out} cannot "
                    "continue; start it over with --overwrite (replaces the run there)")
        return None
    return (f"--resume: {path} is unreadable ({why}), so the run in {out} cannot continue; "
            "start it over with --overwrite (replaces the run there)")


def _unreadable_checkpoint_message(out: str, err: BaseException) -> str:
    first = " ".join(str(err).split())[:160]
    return (f"--resume: {os.path.join(out, 'checkpoint.eqx')} is unreadable (truncated or "
            f"corrupted: {type(err).__name__}{': ' + first if first else ''}), so the run in "
            f"{out} cannot continue; start it over with --overwrite (replaces the run there)")


def _finite(obj):
    """``obj`` with NumPy scalars as Python numbers, non-finite floats as ``None`` (JSON null)."""
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    return obj


@app.command()
def report(
    run_dir: str = typer.Argument(..., help="directory written by hank-mfg solve --out"),
    out: str = typer.Option(..., "--out", "-o", help="output directory for tables and figures"),
    n_paths: int = typer.Option(8, "--n-paths",
                                help="common-noise paths for averages and IRFs (continuous: "
                                     "for the ergodic moments)"),
    seed: int = typer.Option(0, "--seed", help="PRNG seed of the report's noise paths"),
    shock: float = typer.Option(0.01, "--shock",
                                help="size of the one-time innovation of the impulse responses "
                                     "(log TFP; continuous: each of the model's shocks)"),
    compare: Optional[str] = typer.Option(None, "--compare",
                                          help="another run (e.g. SPG) for anticipatory "
                                               "consumption (discrete runs)"),
    ergodic_T: int = typer.Option(2000, "--ergodic-T",
                                  help="continuous runs: dates of each simulation behind the "
                                       "ergodic moments (after a burn-in of a tenth of that)"),
    transition_T: int = typer.Option(300, "--transition-T",
                                     help="continuous runs: dates of every perfect-foresight "
                                          "transition behind the benchmarks (responses, "
                                          "first-order moments); at least 40"),
) -> None:
    """Write the tables (CSV + Parquet) and PNG figures of a solved run.

    Discrete runs. Tables: wealth_distribution, wealth_lorenz, impulse_responses,
    anticipatory_consumption, policy_functions, solution_quality, quality_verdicts,
    simulation_panel; figures: wealth distribution, heatmaps, impulse responses, anticipatory
    consumption, policy functions; plus OUT/bundle. A failed quality check (consumption falling
    with wealth, large Euler errors, exploitability large relative to the value) is printed as a
    warning.

    Continuous runs (solve --choice continuous, or an economy). Tables: policy_functions (the
    learned savings a'(a, e) and consumption c(a, e) at the steady state beside EGM's, with
    their gap: wealth, income_state, source = learned | egm, savings, consumption),
    impulse_responses (the learned response to a one-time innovation --shock of each of the
    model's shocks beside the perfect-foresight transition to the same path, 40 periods:
    shock, date, variable, unit, learned, perfect_foresight, gap_share_of_peak; percent
    deviations for quantities, basis points for rates, as steady-state --shock; the figure
    shows the headline aggregates, one row per shock), ergodic_moments
    (mean, sd and correlations of the aggregates over --n-paths simulations of --ergodic-T
    dates), solution_quality, quality_verdicts and history; figures: policy_functions,
    impulse_responses, solution_quality (the training history). A failed check (relative
    exploitability not below 1e-3, mean log10 Euler error not below -3, market residual not
    below 1e-6) is printed as a warning. An economy solved with the firms' forecast (the
    one-asset HANK) also gets girf_by_size, state_dependent_girf, group_responses, anticipation
    (runs with announcements) and equilibrium_conditions, with their figures (20 quarters,
    --n-paths paths).

    Examples:

        hank-mfg report runs/x --out runs/x_report

        hank-mfg report runs/ks --shock 0.01 --out runs/ks_report
    """
    from .reports import write_report
    from .solvers.training import CheckpointError

    if n_paths < 1:
        fail(f"--n-paths must be a positive integer; got {n_paths}")
    if ergodic_T < 2:
        fail(f"--ergodic-T must be an integer >= 2; got {ergodic_T}")
    if transition_T < 40:
        fail(f"--transition-T must be an integer >= 40 (the responses' 40 dates); got "
             f"{transition_T}")
    try:
        written = write_report(run_dir, out, n_paths=n_paths, seed=seed, shock=shock,
                               compare=compare, ergodic_T=ergodic_T, T_transition=transition_T)
    except Exception as err:
        if isinstance(err, CheckpointError):
            fail(f"the checkpoint of {run_dir} (or of --compare) is unreadable (truncated or "
                 f"corrupted: {type(err).__name__}); solve the run again with --overwrite")
        if isinstance(err, (FileNotFoundError, ValueError, FloatingPointError, RuntimeError)):
            fail(str(err))
        raise
    typer.echo(f"report of {run_dir}: {len(written['tables']) // 2} tables (CSV + Parquet) and "
               f"{len(written['figures'])} figures in {out}")
    if written["quality"]["passed"]:
        checked = {"continuous": ("the first-order certificate, relative exploitability, "
                                  "Euler errors, market clearing"),
                   "game": "exploitability fell"}.get(
            written.get("choice"), "monotone consumption, Euler errors, exploitability")
        typer.echo(f"quality: all checks passed ({checked})")
    else:
        _warn_quality(written["quality"], "solution not converged or of poor quality",
                      f"train longer: rerun the hank-mfg solve command of {run_dir} with a "
                      "larger --iterations and --resume (solve prints it), then report again")


# ---- steady state and calibration ------------------------------------------------------------
def _enable_float64() -> None:
    """The classical solvers need float64; the CLI is the top layer, so it may switch it on."""
    import jax

    jax.config.update("jax_enable_x64", True)


def _parse_shocks(items: Optional[list[str]], m) -> dict[str, float]:
    """``--shock NAME=SIZE`` items as ``{name: size}``, names checked against the model's
    exogenous aggregates (a capital economy's: log TFP ``z``)."""
    allowed = tuple(m.exogenous)
    shocks: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        try:
            size = float(value)
        except ValueError:
            size = float("nan")
        if not sep or not np.isfinite(size):
            fail(f"--shock must be NAME=SIZE with a finite number, e.g. --shock "
                 f"{allowed[0]}=0.01; got {item!r}")
        if name not in allowed:
            fail(f"--shock: {name!r} is not an exogenous aggregate of {type(m).__name__}; "
                 f"shocks may hit {', '.join(allowed)}")
        shocks[name] = size
    return shocks


def _persistence(m, shocks: dict, rho: Optional[float]) -> dict[str, float]:
    """The AR(1) persistence of each shock path: ``--rho`` or the model's declared one."""

    if rho is not None:
        if not -1.0 < rho < 1.0:
            fail(f"--rho must lie in (-1, 1); got {rho:.6g}")
        return {k: float(rho) for k in shocks}
    declared = {s.name: float(s.rho) for s in m.shocks()}
    missing = [k for k in shocks if k not in declared]
    if missing:
        fail(f"--rho: {type(m).__name__} declares no persistence for {', '.join(missing)}; "
             "give --rho")
    return {k: declared[k] for k in shocks}


def _economy_summary(m, ss, moments: dict) -> dict:
    """Solved unknowns, every aggregate and residual, the largest residual, wealth moments."""
    fields = set(type(m).__dataclass_fields__) & set(ss.unknowns)  # solved fields: beta, vphi
    values = {k: float(v) for k, v in ss.values.items()}
    residuals = {k: float(v) for k, v in ss.residuals.items()}
    worst = max(residuals, key=lambda k: abs(residuals[k]))
    return dict(
        unknowns={k: values[k] for k in ss.unknowns},
        aggregates={k: v for k, v in values.items() if k not in fields},
        residuals=residuals, max_residual=abs(residuals[worst]), max_residual_name=worst,
        gini=moments["gini"], top10=moments["top10"], top1=moments["top1"],
        mass_at_limit=moments["mass_at_limit"], mpc=moments["mpc"],
        euler_mean_log10=float(ss.euler_mean), euler_max_log10=float(ss.euler_max),
        iterations=int(ss.iterations))


@app.command("steady-state")
def steady_state_cmd(
    model_file: str = ModelFile,
    out: Optional[str] = typer.Option(None, "--out", "-o",
                                      help="directory for the summary, tables and figures"),
    progress: bool = typer.Option(True, "--progress/--no-progress",
                                  help="print every root-find trial (unknowns, residuals, time)"),
    shock: Optional[list[str]] = typer.Option(
        None, "--shock", metavar="NAME=SIZE",
        help="MIT shock on an exogenous aggregate at date 0, decaying at --rho (repeatable), "
             "e.g. --shock rstar=-0.0025 (HANK) or --shock z=0.01 (Krusell-Smith)"),
    rho: Optional[float] = typer.Option(
        None, "--rho", help="persistence of the shock paths (default: the model's, per shock)"),
    T: int = typer.Option(300, "--T", help="length of the transition path (with --shock)"),
    plot_horizon: Optional[int] = typer.Option(
        None, "--plot-horizon",
        help="periods shown in impulse_responses.png (default: until every plotted response "
             "has fallen below 1% of its peak, at least 12 and at most 60; the table keeps "
             "all --T)"),
    variables: Optional[str] = typer.Option(
        None, "--variables", metavar="X,Y,...",
        help="aggregates printed and plotted (default: the model's headline ones)"),
    set_: Optional[list[str]] = SetOpt,
    model: Optional[str] = ModelOpt,
) -> None:
    """Stationary equilibrium without aggregate risk, and optionally perfect-foresight responses.

    Capital economies (Krusell-Smith, Aiyagari): EGM + Brent in r; prints r, w, K, Y, C, K/Y,
    Euler errors. Economies (Huggett, the one-asset HANK, your own): the model's declared
    unknowns clear its declared targets; prints the solved unknowns, every aggregate and the
    largest residual. Runs in float64. With --out, writes summary.json (prices or unknowns,
    every aggregate and residual, wealth moments, Euler errors, timings),
    distribution.csv (wealth, income_state, income, mass, consumption, savings, and hours with a
    labour choice: the columns of the report tables) and, for a capital economy, summary.csv
    (one row) or, for an economy, steady_state.csv|.parquet (hm.steady_state_table).

    With --shock NAME=SIZE (repeatable): the perfect-foresight transition to the shock path
    SIZE * rho^t, t < T, announced at date 0; prints the impact responses and, with --out,
    writes impulse_responses.csv|.parquet (hm.mit_responses: percent deviations for
    quantities, basis points for rates) and impulse_responses.png.

    Examples:

        hank-mfg steady-state models/krusell_smith.py

        hank-mfg steady-state models/krusell_smith.py --set beta=0.98 --set n_wealth=200 --out runs/ss

        hank-mfg steady-state models/hank.py --set n_wealth=200 --shock rstar=-0.0025 --rho 0.61 --T 300 --out runs/hank
    """
    import csv
    import json
    import os
    import time

    from .analysis.calibration import steady_state_moments
    from .analysis.distribution import negative_wealth_mass
    from .model.economy import AbstractEconomy
    from .solvers.steady_state import steady_state as solve_ss

    _enable_float64()
    m = load(model_file, set_, model)
    economy = isinstance(m, AbstractEconomy) and not m.discrete_actions
    shocks = _parse_shocks(shock, m)
    rhos = _persistence(m, shocks, rho) if shocks else {}
    if shocks and T < 3:
        fail(f"--T must be at least 3; got {T}")
    if (rho is not None or variables is not None or plot_horizon is not None) and not shocks:
        fail("--rho, --variables and --plot-horizon describe responses: give --shock "
             "NAME=SIZE too")
    if plot_horizon is not None and not 2 <= plot_horizon <= T:
        fail(f"--plot-horizon must lie in [2, --T = {T}]; got {plot_horizon}")
    typer.echo(f"steady state of {type(m).__name__} ({m.n_states} states) ...", err=True)
    t0 = time.perf_counter()
    try:
        ss = solve_ss(m, verbose=progress)
    except (ValueError, RuntimeError, TypeError) as err:
        fail(str(err))
    seconds = time.perf_counter() - t0
    mom = steady_state_moments(m, ss)
    head = dict(model=type(m).__name__, model_file=os.path.abspath(model_file),
                overrides=list(set_ or []))
    if economy:
        summary = dict(head, **_economy_summary(m, ss, mom), seconds=seconds)
        typer.echo("solved unknowns: " + ", ".join(
            f"{k} = {v:.10g}" for k, v in summary["unknowns"].items()))
        typer.echo("aggregates: " + "  ".join(
            f"{k} = {v:.6g}" for k, v in sorted(summary["aggregates"].items())))
        typer.echo(f"largest residual: {summary['max_residual_name']} = "
                   f"{summary['residuals'][summary['max_residual_name']]:.3g} (residuals: "
                   f"{', '.join(summary['residuals'])})")
    else:
        summary = dict(head, r=mom["r"], w=mom["w"], K=mom["K"], Y=mom["Y"],
                       C=mom["C"], K_Y=mom["K/Y"], C_Y=mom["C/Y"], gini=mom["gini"],
                       top10=mom["top10"], top1=mom["top1"], mass_at_limit=mom["mass_at_limit"],
                       mpc=mom["mpc"], euler_mean_log10=float(ss.euler_mean),
                       euler_max_log10=float(ss.euler_max), market_residual=float(ss.residual),
                       iterations=int(ss.iterations), seconds=seconds)
        typer.echo(f"r = {summary['r']:.6g}  w = {summary['w']:.6g}  K = {summary['K']:.6g}  "
                   f"Y = {summary['Y']:.6g}  C = {summary['C']:.6g}  K/Y = {summary['K_Y']:.6g}")
    typer.echo(f"Euler errors (log10, unconstrained, mass-weighted): mean "
               f"{summary['euler_mean_log10']:.3f}  max {summary['euler_max_log10']:.3f}")
    debtors = float(negative_wealth_mass(m.a_grid, ss.mu.sum(axis=1)))
    if not mom["mean"] > 1e-8 or not np.isfinite(mom["gini"]):
        # shares of total wealth: undefined in zero net supply or with debtors
        for k in ("gini", "top10", "top1"):
            summary[k] = None
        why = (f"{100 * debtors:.3g}% of households hold negative wealth" if debtors > 0
               else "total wealth is zero")
        shares = f"mean {mom['mean']:.3g} (Gini and top shares undefined: {why})"
    else:
        shares = f"Gini {summary['gini']:.3f}  top 10% {summary['top10']:.3f}"
    typer.echo(f"wealth: {shares}  at the limit {summary['mass_at_limit']:.3f}; "
               f"{summary['iterations']} evaluations in {seconds:.1f} s")
    irf = None
    if shocks:
        irf, figure = _mit_responses(m, ss, shocks, rhos, T, variables, summary, economy,
                                     plot_horizon)
    if out is None:
        return
    from .reports.economy import distribution_table, steady_state_table
    from .reports.export import save_figure, write_table

    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(_finite(summary), f, indent=1, allow_nan=False)
    files = ["summary.json"]
    if economy:
        write_table(steady_state_table(ss), out, "steady_state")
        files.append("steady_state.csv|.parquet")
    else:
        with open(os.path.join(out, "summary.csv"), "w", newline="") as f:
            row = {k: v for k, v in summary.items() if k not in ("overrides", "responses")}
            writer = csv.DictWriter(f, fieldnames=list(row))
            writer.writeheader()
            writer.writerow(row)
        files.append("summary.csv")
    distribution_table(ss, m).to_csv(os.path.join(out, "distribution.csv"), index=False)
    files.append("distribution.csv")
    if irf is not None:
        write_table(irf, out, "impulse_responses")
        save_figure(figure, out, "impulse_responses")
        files += ["impulse_responses.csv|.parquet", "impulse_responses.png"]
    typer.echo(f"wrote {out}/" + ", ".join(files))


def _mit_responses(m, ss, shocks, rhos, T, variables, summary, economy: bool,
                   plot_horizon: Optional[int] = None):
    """Perfect-foresight responses to ``size * rho^t`` paths: the tidy table and its figure
    (``plot_horizon`` quarters, default where the responses have died out); adds
    ``responses`` to ``summary`` and prints the impact responses."""
    import time

    from .reports.economy import response_variables
    from .reports.figures import impulse_figure, response_horizon
    from .reports.tables import mit_responses
    from .solvers.transition import transition_path

    paths = {k: size * rhos[k] ** np.arange(T) for k, size in shocks.items()}
    desc = ", ".join(f"{k} = {size:.6g} x {rhos[k]:.6g}^t" for k, size in shocks.items())
    typer.echo(f"transition to {desc} (T = {T}) ...", err=True)
    t0 = time.perf_counter()
    try:
        if economy:
            path = transition_path(m, shocks=paths, steady_state=ss)
        else:
            path = transition_path(m, z=paths["z"], steady_state=ss)
    except (ValueError, RuntimeError, TypeError) as err:
        fail(str(err))
    seconds = time.perf_counter() - t0
    table = mit_responses(path, ss)
    have = list(dict.fromkeys(table["variable"]))
    if variables is None:
        names = [v for v in response_variables(ss) if v in have]
    else:
        names = [v.strip() for v in variables.split(",") if v.strip()]
        bad = [v for v in names if v not in have]
        if bad or not names:
            fail(f"--variables: {', '.join(bad) or '(none)'} not among the responses of "
                 f"{type(m).__name__}; they are {', '.join(have)}")
    impact = table[table["t"] == 0].set_index("variable")
    summary["responses"] = dict(
        shocks=dict(shocks), rho=dict(rhos), T=int(T), seconds=seconds,
        max_residual=float(getattr(path, "max_residual", np.nan)),
        impact={v: dict(response=float(impact.loc[v, "response"]),
                        unit=str(impact.loc[v, "unit"])) for v in have})
    unit = dict(percent="%", bp="bp", pp="pp")
    typer.echo("impact responses: " + "  ".join(
        f"{v} {impact.loc[v, 'response']:+.4g} {unit.get(impact.loc[v, 'unit'], '')}"
        for v in names) + f" ({seconds:.1f} s)")
    horizon = response_horizon(table, names) if plot_horizon is None else plot_horizon
    summary["responses"]["plot_horizon"] = int(horizon)
    title = (f"{type(m).__name__}: perfect-foresight responses to {desc}, announced at "
             f"date 0 (first {horizon} of {T} periods)")
    return table, impulse_figure(table, variables=names, horizon=horizon, title=title)


@app.command()
def calibrate(
    model_file: str = ModelFile,
    targets_file: str = typer.Argument(..., help="TOML target file, e.g. calibration/targets/us_ks.toml"),
    out: str = typer.Option(..., "--out", "-o", help="directory for params.json and fit.csv"),
    maxiter: int = typer.Option(100, "--maxiter", help="root-find iterations / least-squares evaluations"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="show a progress bar"),
    set_: Optional[list[str]] = SetOpt,
    model: Optional[str] = ModelOpt,
) -> None:
    """Calibrate the free parameters of TARGETS_FILE so the steady state matches its targets.

    The target file (TOML) lists [targets] and [untargeted] moments with sources, [free]
    parameter bounds and [model] fields set first (--set wins over [model]). Runs in float64.
    Writes OUT/params.json (parameters, moments, diagnostics) and OUT/fit.csv (data vs model).
    For an economy (Huggett, the one-asset HANK) every trial is its own steady state (HANK:
    beta and vphi re-solved), whose solved unknowns are printed at the end.

    Examples:

        hank-mfg calibrate models/krusell_smith.py calibration/targets/us_ks.toml --out runs/cal

        hank-mfg calibrate models/krusell_smith.py calibration/targets/us_ks.toml --set n_wealth=200 --out runs/cal
    """
    import csv
    import json
    import os

    from .analysis.calibration import calibrate as run_calibrate
    from .analysis.targets_file import load_targets
    from .loading import load_model_class, parse_overrides

    _enable_float64()
    try:
        spec = load_targets(targets_file)
        cls = load_model_class(model_file, model)
        overrides = {**spec.model, **parse_overrides(set_ or [], cls)}
        m = build_model(model_file, overrides, name=model)
    except ValueError as err:  # ModelLoadError is a ValueError
        fail(str(err))
    if maxiter < 1:
        fail(f"--maxiter must be a positive integer; got {maxiter}")
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(desc="calibrate (steady states)", unit="trial", leave=False)

    best = [float("inf")]

    def tick(rec: dict) -> None:
        if bar is not None:
            best[0] = min(best[0], max(abs(v) for v in rec["residuals"].values()))
            bar.set_postfix_str(f"best max |residual| {best[0]:.2e}")
            bar.update(1)

    try:
        cal = run_calibrate(m, targets=spec.targets, free=spec.free, maxiter=maxiter,
                            callback=tick)
    except (ValueError, RuntimeError) as err:
        fail(str(err))
    finally:
        if bar is not None:
            bar.close()
    d = cal.diagnostics
    if not d["success"]:  # nothing that looks like a result: no params.json, fit.csv or table
        worst = ", ".join(f"{k} {v:.3g}" for k, v in sorted(
            d["residuals"].items(), key=lambda kv: -abs(kv[1])))
        params = ", ".join(f"{k} = {v:.6g}" for k, v in cal.params.items())
        fail(f"calibration failed: largest scaled residual {d['max_residual']:.3g} (residuals: "
             f"{worst}) at {params} after {d['evaluations']} steady states; {str(d['message']).rstrip('.')}; "
             f"widen the [free] bounds or change the targets; nothing written to {out}")
    os.makedirs(out, exist_ok=True)
    rows = cal.rows(spec.untargeted)
    for row in rows:
        src = spec.sources.get(row["target"], {})
        row["source"] = src.get("source", "")
        row["approximate"] = bool(src.get("approximate", False))
    with open(os.path.join(out, "fit.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with open(os.path.join(out, "params.json"), "w") as f:
        json.dump(dict(model_file=os.path.abspath(model_file), targets_file=os.path.abspath(
            targets_file), fixed=overrides, **cal.to_dict()), f, indent=1)
    for row in rows:
        tag = "" if row["targeted"] else "  (untargeted)"
        typer.echo(f"  {row['target']:<14} data {row['data']:<10.6g} model {row['model']:<10.6g}"
                   f"{tag}")
    params = ", ".join(f"{k} = {v:.10g}" for k, v in cal.params.items())
    typer.echo(f"calibrated {params} ({d['method']}, {d['evaluations']} steady states, "
               f"{d['seconds']:.1f} s, max scaled residual {d['max_residual']:.2e}); "
               f"wrote {out}/params.json and fit.csv")
    unknowns = getattr(cal.steady_state, "unknowns", ())
    if unknowns:  # an economy: its own steady-state unknowns at the calibrated parameters
        typer.echo("steady state: " + ", ".join(
            f"{k} = {float(cal.steady_state[k]):.10g}" for k in unknowns))


def main() -> None:
    """Console-script entry point (``hank-mfg``)."""
    app()


if __name__ == "__main__":
    main()

"""Command line: ``hank-mfg COMMAND ...`` (typer).

Commands are plain functions registered on :data:`app`; add one with ``@app.command()``.
User mistakes are reported by :func:`fail` as one line on stderr with exit code 1 (no
traceback). Shared options (``MODEL_FILE``, ``--set``, ``--model``) are the aliases below, and
:func:`load` builds the model from them.
"""

from __future__ import annotations

import dataclasses
from typing import NoReturn, Optional

import numpy as np
import typer

from .loading import ModelLoadError, build_model

app = typer.Typer(
    name="hank-mfg",
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
    """Print the model's fields, grid sizes, number of states and actions."""
    m = load(model_file, set_, model)
    typer.echo(f"model: {type(m).__name__}  ({model_file})")
    typer.echo("fields:")
    names = [f.name for f in dataclasses.fields(m)]
    width = max(len(n) for n in names)
    for name in names:
        typer.echo(f"  {name:<{width}}  {_describe(getattr(m, name))}")
    n_a, n_e, n_k = int(m.a_grid.shape[0]), int(m.e_grid.shape[0]), int(m.action_grid.shape[0])
    a = np.asarray(m.a_grid)
    typer.echo("grids:")
    typer.echo(f"  wealth  n_a = {n_a}  [{a[0]:.6g}, {a[-1]:.6g}]")
    typer.echo(f"  income  n_e = {n_e}")
    typer.echo(f"  actions n_k = {n_k}  ({m.action_kind})")
    typer.echo(f"n_states = {m.n_states}")
    typer.echo(f"n_actions = {n_k}")


@app.command()
def solve(
    model_file: str = ModelFile,
    method: str = typer.Option("rspg", "--method", help="rspg (recurrent policy) or spg (memoryless)"),
    iterations: int = typer.Option(500, "--iterations", "-n", help="gradient steps"),
    eval_every: int = typer.Option(20, "--eval-every", help="iterations between exploitability evaluations"),
    seed: int = typer.Option(0, "--seed", help="PRNG seed (same seed, same numbers)"),
    out: str = typer.Option(..., "--out", "-o", help="output directory (history, checkpoint, summary)"),
    horizon: Optional[int] = typer.Option(None, "--horizon", "-T", help="override the model's horizon"),
    n_paths: int = typer.Option(8, "--n-paths", help="common-noise paths per iteration"),
    lr: float = typer.Option(0.01, "--lr", help="initial Adam learning rate (annealed linearly)"),
    lr_final: float = typer.Option(0.001, "--lr-final", help="final learning rate"),
    hidden: int = typer.Option(128, "--hidden", help="GRU / observation-embedding width"),
    head: str = typer.Option("beta", "--head", help="beta (ordered) or categorical"),
    resume: bool = typer.Option(False, "--resume", help="continue from the checkpoint in --out"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="show a progress bar"),
    set_: Optional[list[str]] = SetOpt,
    model: Optional[str] = ModelOpt,
) -> None:
    """Solve the model by RSPG/SPG and write OUT/history.csv|.parquet, checkpoint, config, summary.json.

    Example:

        hank-mfg solve models/rspg_macro.py --method rspg --iterations 60 --eval-every 20 --horizon 32 --seed 0 --out runs/x
    """
    import json
    import os

    from .solvers.rspg import RSPGConfig
    from .solvers.rspg import solve as run_solve

    overrides = list(set_ or [])
    if horizon is not None:
        overrides.append(f"horizon={horizon}")
    m = load(model_file, overrides, model)
    try:
        config = RSPGConfig(iterations=iterations, eval_every=eval_every, seed=seed, n_paths=n_paths,
                            eval_paths=n_paths, lr=lr, lr_final=lr_final, hidden=hidden, head=head)
    except ValueError as err:
        fail(str(err))
    if method not in ("rspg", "spg"):
        fail(f"--method must be rspg or spg; got {method!r}")
    os.makedirs(out, exist_ok=True)
    try:
        sol = run_solve(m, method, config, checkpoint_dir=out, resume=resume, progress=progress)
    except (ValueError, FloatingPointError) as err:
        fail(str(err))
    sol.history.to_csv(os.path.join(out, "history.csv"), index=False)
    sol.history.to_parquet(os.path.join(out, "history.parquet"), index=False)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(dict(model_file=os.path.abspath(model_file), model_class=type(m).__name__,
                       overrides=overrides, method=method, config=config.to_dict()), f, indent=1)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(sol.summary, f, indent=1)
    s = sol.summary
    typer.echo(f"{method.upper()}: exploitability {s['initial_exploitability']:.4g} -> "
               f"{s['final_exploitability']:.4g} after {s['iterations']} iterations "
               f"({s['train_seconds']:.1f} s); results in {out}")


@app.command()
def report(
    run_dir: str = typer.Argument(..., help="directory written by hank-mfg solve --out"),
    out: str = typer.Option(..., "--out", "-o", help="output directory for tables and figures"),
    n_paths: int = typer.Option(8, "--n-paths", help="common-noise paths for averages and IRFs"),
    seed: int = typer.Option(0, "--seed", help="PRNG seed of the report's noise paths"),
    shock: float = typer.Option(0.01, "--shock", help="log-TFP impulse for the impulse responses"),
    compare: Optional[str] = typer.Option(None, "--compare",
                                          help="another run (e.g. SPG) for anticipatory consumption"),
) -> None:
    """Write the tables (CSV + Parquet) and PNG figures of a solved run.

    Tables: wealth_distribution, wealth_lorenz, impulse_responses, anticipatory_consumption,
    policy_functions, solution_quality, simulation_panel; figures: wealth distribution, heatmaps,
    impulse responses, anticipatory consumption, policy functions; plus OUT/bundle.

    Example:

        hank-mfg report runs/x --out runs/x_report
    """
    from .reports.export import write_report

    if n_paths < 1:
        fail(f"--n-paths must be a positive integer; got {n_paths}")
    try:
        written = write_report(run_dir, out, n_paths=n_paths, seed=seed, shock=shock,
                               compare=compare)
    except (FileNotFoundError, ValueError, FloatingPointError) as err:
        fail(str(err))
    typer.echo(f"report of {run_dir}: {len(written['tables']) // 2} tables (CSV + Parquet) and "
               f"{len(written['figures'])} figures in {out}")


def main() -> None:
    """Console-script entry point (``hank-mfg``)."""
    app()


if __name__ == "__main__":
    main()

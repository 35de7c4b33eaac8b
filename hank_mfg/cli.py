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


def main() -> None:
    """Console-script entry point (``hank-mfg``)."""
    app()


if __name__ == "__main__":
    main()

"""README's first command stays a command ``hank-mfg solve`` accepts, with the numbers its text
states (the run itself takes about a minute: measured, not run here)."""

import math
import os
import re
import shlex

import hank_mfg as hm
from hank_mfg.cli import app

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _quickstart():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    line = next(s for s in section.splitlines() if "hank-mfg solve" in s)
    return section, shlex.split(line.split("&&", 1)[1])


def test_readme_quickstart_is_a_valid_solve_command():
    import typer.main

    section, args = _quickstart()
    assert args[:2] == ["hank-mfg", "solve"] and os.path.isfile(os.path.join(ROOT, args[2]))
    command = typer.main.get_command(app).commands["solve"]
    options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
    given = [a for a in args[3:] if a.startswith("-")]
    assert given and set(given) <= options, set(given) - options
    assert "--out" in given and "--resume" not in given and "--overwrite" not in given


def test_readme_quickstart_states_the_run_it_starts():
    from models.rspg_macro import RSPGMacro

    section, args = _quickstart()
    assert args[args.index("--choice") + 1] == "continuous"  # the run that passes its checks
    iterations = hm.RSPGConfig.continuous().iterations
    horizon = math.ceil(math.log(0.01) / math.log(float(RSPGMacro().beta)))  # beta^T <= 0.01
    assert re.search(rf"\b{iterations} iterations, horizon {horizon}\b", section)
    assert "quality: all checks passed" in section

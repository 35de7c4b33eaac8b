"""Docs: the tutorial's code runs as written, the site builds strictly, the API reference covers
every public name, and nothing cites a document that does not ship."""

import contextlib
import glob
import importlib
import io
import math
import os
import re
import subprocess
import sys

import pytest

import hank_mfg as hm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")


def _python_blocks(name):
    with open(os.path.join(DOCS, name)) as f:
        return re.findall(r"```python\n(.*?)```", f.read(), re.S)


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_tutorial_model_is_short_and_runs():
    blocks = _python_blocks("tutorial_custom_model.md")
    assert len(blocks) >= 3
    assert len(blocks[0].strip().splitlines()) < 40, "the model declaration must stay under 40 lines"
    ns = {"__name__": "tutorial"}
    for block in blocks:
        exec(compile(block, "docs/tutorial_custom_model.md", "exec"), ns)  # noqa: S102
    model, ss, cal = ns["model"], ns["ss"], ns["cal"]
    assert isinstance(model, hm.AbstractHetAgentModel) and model.n_states == 120
    assert 0 < float(ss.r) < 1 / float(model.beta) - 1
    assert abs(cal.moments["r"] - 0.01) < 1e-12 and cal.diagnostics["success"]
    assert float(ns["res"].exploitability) >= 0
    # the borrowing limit below zero: default pivot, library action grid, a steady state in debt
    debt, ss_debt = ns["debt"], ns["ss_debt"]
    assert float(debt.wealth_min) == -1.0 and float(debt.a_grid[0]) == -1.0
    assert ns["in_debt"] > 0.05 and float(ss_debt.r) > float(ss.r)


# ---- the economy tutorial -------------------------------------------------------------------------
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _blocks_with_output(name):
    """``[(code, shown)]``: each python block of the page and the text block right after it
    (what the page says it prints), or ``None``."""
    with open(os.path.join(DOCS, name)) as f:
        text = f.read()
    return [(code, shown) for code, shown in re.findall(
        r"```python\n(.*?)```\n(?:\n```text\n(.*?)```)?", text, re.S)]


def _same_output(printed: str, shown: str) -> bool:
    """The same words, and numbers equal to the precision shown (one unit of the last digit
    printed, or 1e-4 relative; values below 1e-9 are rounding noise)."""
    if _NUMBER.sub("#", printed).split() != _NUMBER.sub("#", shown).split():
        return False
    for a, b in zip(_NUMBER.findall(printed), _NUMBER.findall(shown)):
        digits = len(b.split(".")[1].split("e")[0].split("E")[0]) if "." in b else 0
        unit = 10.0 ** (-digits) * (10.0 ** int(b.lower().split("e")[1]) if "e" in b.lower() else 1)
        if not math.isclose(float(a), float(b), rel_tol=1e-4, abs_tol=max(1e-9, unit)):
            return False
    return True


def _run_economy_tutorial(upto=None):
    blocks = _blocks_with_output("tutorial_economy.md")
    ns = {"__name__": "tutorial_economy"}
    for code, shown in blocks[:upto]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, "docs/tutorial_economy.md", "exec"), ns)  # noqa: S102
        if shown:
            assert _same_output(out.getvalue(), shown), (
                f"docs/tutorial_economy.md shows\n{shown}\nbut the block prints\n{out.getvalue()}")
    return blocks, ns


@pytest.mark.slow  # 35 s from a cold compilation cache; the default suite has a time budget
def test_economy_tutorial_runs_and_prints_what_it_shows():
    """The declaration, steady state, monetary shock and calibration of the economy tutorial,
    each block's printout against the output the page shows (the RSPG block: the slow test)."""
    blocks, ns = _run_economy_tutorial(upto=-1)
    assert "hm.solve(" in blocks[-1][0]
    model, ss, cal = ns["model"], ns["ss"], ns["cal"]
    assert isinstance(model, hm.AbstractEconomy) and model.n_states == 150
    assert abs(float(ss.residuals["goods_mkt"])) < 1e-8  # Walras' law
    # the output term of the rule damps the boom: smaller responses than the plain Taylor rule
    impact = ns["impact"].set_index("variable")
    for v in ("Y", "C", "pi"):
        assert 0 < impact.loc[v, "response"] < impact.loc[v, "response_plain"]
    assert cal.diagnostics["success"] and abs(cal.moments["mpc"] - 0.1) < 1e-8


@pytest.mark.slow
def test_economy_tutorial_runs_to_the_rspg_solve():
    _, ns = _run_economy_tutorial()
    last = ns["sol"].history.iloc[-1]
    assert float(last["relative_exploitability"]) >= 0 and float(last["market_residual"]) < 1e-6


def test_the_economy_tutorial_output_check_is_strict():
    assert _same_output("beta = 0.98230, n 4", "beta = 0.9823, n 4")
    assert not _same_output("beta = 0.9833", "beta = 0.9823")
    assert not _same_output("beta = 0.9823, n 4", "vphi = 0.9823, n 4")
    assert _same_output("residual 3.1e-13", "residual 1.0e-12")


# ---- the MkDocs site ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings_handlers.python")
    pytest.importorskip("mkdocs_jupyter")
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    return proc, out


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_site_builds_strictly(site):
    """Broken links or anchors, pages missing from the nav and unresolved references fail."""
    proc, out = site
    problems = [line for line in proc.stderr.splitlines() if "WARNING" in line or "ERROR" in line]
    assert proc.returncode == 0, "\n".join(problems) or proc.stderr[-3000:]
    assert os.path.isfile(os.path.join(out, "index.html"))
    for name in ("theory", "api/solvers", "notebooks/01_quickstart"):
        assert os.path.isfile(os.path.join(out, f"{name}.html")), name


@pytest.mark.slow  # long; run with -m slow (the default suite has a time budget)
def test_api_reference_documents_every_public_name(site):
    """Each ``hm.NAME`` is rendered (from its docstring) on one of the API pages."""
    proc, out = site
    assert proc.returncode == 0, proc.stderr[-3000:]
    ids = set()
    for page in glob.glob(os.path.join(out, "api", "*.html")):
        with open(page) as f:
            ids |= set(re.findall(r'id="(hank_mfg\.[\w.]+)"', f.read()))
    rendered = []
    for ident in ids:
        module, _, name = ident.rpartition(".")
        try:
            rendered.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue  # a method or attribute (e.g. ``hank_mfg.solvers.SteadyState.mu_flat``)
    missing = [n for n in hm.__all__ if not any(obj is getattr(hm, n) for obj in rendered)]
    assert not missing, f"API pages (docs/api/*.md) do not render {missing}"


def test_pages_are_linked_from_the_home_page():
    with open(os.path.join(DOCS, "index.md")) as f:
        index = f.read()
    for page in ("theory.md", "concepts.md", "models.md", "games.md", "tutorial_custom_model.md",
                 "tutorial_economy.md", "api/index.md", "performance.md", "validation.md",
                 "notebooks/README.md"):
        assert os.path.isfile(os.path.join(DOCS, page)), page
        assert f"({page})" in index, page


# ---- citations --------------------------------------------------------------------------------------
UNSHIPPED = re.compile(r"SPEC\s*§|\bSPEC\b|STYLE\.md|acceptance case")


def _user_facing_files():
    patterns = ["README.md", "docs/**/*.md", "notebooks/*.ipynb", "notebooks/*.py",
                "notebooks/*.md", "hank_mfg/**/*.py", "models/*.py", "calibration/**/*.py",
                "benchmarks/*.py"]
    for pattern in patterns:
        yield from glob.glob(os.path.join(ROOT, pattern), recursive=True)


def test_nothing_cites_documents_that_do_not_ship():
    """Docs, docstrings and notebooks cite docs/theory.md, never internal project documents."""
    bad = []
    for path in sorted(set(_user_facing_files())):
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f, 1):
                if UNSHIPPED.search(line):
                    bad.append(f"{os.path.relpath(path, ROOT)}:{i}: {line.strip()[:80]}")
    assert not bad, "cite docs/theory.md instead:\n" + "\n".join(bad)


def test_theory_sections_cited_in_docstrings_exist():
    """Every "theory §N[.M]" cited anywhere names a numbered section of docs/theory.md."""
    with open(os.path.join(DOCS, "theory.md")) as f:
        sections = set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", f.read(), re.M))
    cited = {}
    for path in set(_user_facing_files()):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for group in re.findall(r"theory(?:\.md)?,? (§[\d.§, and]+)", text):
            for num in re.findall(r"\d+(?:\.\d+)?", group):
                cited.setdefault(num, os.path.relpath(path, ROOT))
    unknown = {n: p for n, p in cited.items() if n not in sections}
    assert cited and not unknown, f"cited sections missing from docs/theory.md: {unknown}"

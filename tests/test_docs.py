"""Docs: the tutorial's code runs as written; the API reference lists every public name."""

import os
import re

import hank_mfg as hm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")


def _python_blocks(name):
    with open(os.path.join(DOCS, name)) as f:
        return re.findall(r"```python\n(.*?)```", f.read(), re.S)


def test_tutorial_model_is_short_and_runs():
    blocks = _python_blocks("tutorial_custom_model.md")
    assert len(blocks) >= 2
    assert len(blocks[0].strip().splitlines()) < 40, "the model declaration must stay under 40 lines"
    ns = {"__name__": "tutorial"}
    for block in blocks:
        exec(compile(block, "docs/tutorial_custom_model.md", "exec"), ns)  # noqa: S102
    model, ss, cal = ns["model"], ns["ss"], ns["cal"]
    assert isinstance(model, hm.AbstractHetAgentModel) and model.n_states == 120
    assert 0 < float(ss.r) < 1 / float(model.beta) - 1
    assert abs(cal.moments["r"] - 0.01) < 1e-12 and cal.diagnostics["success"]
    assert float(ns["res"].exploitability) >= 0


def test_api_reference_lists_every_public_name():
    with open(os.path.join(DOCS, "api.md")) as f:
        text = f.read()
    missing = [n for n in hm.__all__ if f"`hm.{n}" not in text]
    assert not missing, f"docs/api.md lacks {missing}: run python docs/gen_api.py"


def test_docs_pages_exist_and_link():
    with open(os.path.join(DOCS, "index.md")) as f:
        index = f.read()
    for page in ("concepts.md", "tutorial_custom_model.md", "api.md", "performance.md",
                 "validation.md"):
        assert os.path.isfile(os.path.join(DOCS, page)), page
        assert f"({page})" in index, page

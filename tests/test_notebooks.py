"""The tutorial notebooks run top to bottom in fast mode (``HANK_MFG_FAST=1``) with nbclient,
writing their files into a temporary folder (``HANK_MFG_OUTPUTS``), never into the repository."""

import glob
import json
import os
import time

import nbformat
import pytest

nbclient = pytest.importorskip("nbclient")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NB_DIR = os.path.join(ROOT, "notebooks")
NOTEBOOKS = sorted(os.path.basename(p) for p in glob.glob(os.path.join(NB_DIR, "*.ipynb")))


def _files_under(path):
    return {os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs}


def test_every_notebook_is_built_and_listed():
    """The builder makes every committed notebook, and the folder's README lists each one."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_notebooks",
                                                  os.path.join(NB_DIR, "build_notebooks.py"))
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    assert sorted(builder.NOTEBOOKS) == NOTEBOOKS and len(NOTEBOOKS) >= 3
    with open(os.path.join(NB_DIR, "README.md")) as f:
        readme = f.read()
    assert not [n for n in NOTEBOOKS if n not in readme]


def test_committed_notebooks_have_no_outputs():
    for name in NOTEBOOKS:
        with open(os.path.join(NB_DIR, name)) as f:
            nb = json.load(f)
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, name


def test_notebooks_use_only_the_public_api():
    for name in NOTEBOOKS:
        nb = nbformat.read(os.path.join(NB_DIR, name), as_version=4)
        src = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert "import hank_mfg as hm" in src
        assert "from hank_mfg." not in src and "hm._" not in src, name


# The default suite has a time budget (each notebook takes 50-100 s from a cold compilation
# cache): every notebook runs with -m slow, which CI runs after the default suite.
@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_fast_mode(name, monkeypatch, tmp_path):
    monkeypatch.setenv("HANK_MFG_FAST", "1")
    monkeypatch.setenv("HANK_MFG_OUTPUTS", str(tmp_path))
    before = _files_under(os.path.join(ROOT, "outputs"))
    nb = nbformat.read(os.path.join(NB_DIR, name), as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": NB_DIR}})
    t0 = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - t0
    print(f"{name}: {seconds:.1f} s")
    assert _files_under(os.path.join(ROOT, "outputs")) == before, "wrote into the repository"
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert any("fast mode: True" in o.get("text", "") for o in first.outputs), first.outputs
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
                 for o in c.outputs)
    assert images >= 1, f"{name} displayed no figure"

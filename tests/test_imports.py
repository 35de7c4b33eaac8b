"""Importing the package is light: the reports layer (pandas, matplotlib, seaborn) loads on use."""

import subprocess
import sys

HEAVY = ("pandas", "matplotlib", "seaborn")


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_import_does_not_load_the_reports_layer():
    loaded = _run("import sys, hank_mfg; "
                  f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    assert loaded == "", f"import hank_mfg loaded {loaded}"


def test_report_names_load_on_first_use():
    out = _run("import sys, hank_mfg as hm; f = hm.wealth_distribution; "
               "import hank_mfg.reports as rep; "
               "print(f is rep.wealth_distribution, hm.reports is rep, 'pandas' in sys.modules, "
               "'wealth_distribution' in dir(hm))")
    assert out == "True True True True"


def test_every_public_name_resolves():
    import hank_mfg as hm

    missing = [n for n in hm.__all__ if not hasattr(hm, n)]
    assert not missing


LAYERS = ("model", "operators", "policies", "solvers", "metrics", "analysis", "reports")


def _module_imports(root=None):
    """``{module: modules it imports from the package}`` from the source (every import,
    including those inside functions)."""
    import ast
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1] / "hank_mfg" if root is None else root
    mods = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = path
    edges = {}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        out = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")
                target = ".".join(base[:len(base) - node.level + 1] + [node.module or ""]).strip(".") \
                    if node.level else node.module or ""
                subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in mods]
                out.update(subs if len(subs) == len(node.names) else [target, *subs])
        edges[name] = {m for m in out if m in mods and m != name}
    return edges


def test_no_import_cycles_between_modules():
    edges = _module_imports()
    assert not _cycles(edges), _cycles(edges)[:3]


def _cycles(edges):
    cycles = []
    for start in edges:
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in edges[node]:
                if nxt == start:
                    cycles.append(path)
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
    return cycles


def test_layers_import_one_way():
    """declaration -> operators -> policies -> solvers -> metrics -> analysis -> reports."""
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    bad = []
    for name, targets in _module_imports().items():
        parts = name.split(".")
        if len(parts) < 2 or parts[1] not in rank:
            continue
        for t in targets:
            tp = t.split(".")
            if len(tp) > 1 and tp[1] in rank and rank[tp[1]] > rank[parts[1]]:
                bad.append(f"{name} -> {t}")
    assert not bad, bad

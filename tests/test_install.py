"""The installed package: the shipped models are ``hank_mfg.models``, never a top-level ``models``.

A researcher's project very often has a ``models/`` folder of its own; the installed package must
neither shadow it nor be shadowed by it. From the repository root, ``models`` is the repository's
own ``models/`` folder (the examples, notebooks and tests import it so).
"""

import os
import shutil
import site
import subprocess
import sys
import venv
import zipfile

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = sorted(f[:-3] for f in os.listdir(os.path.join(ROOT, "models"))
                 if f.endswith(".py") and f != "__init__.py")

# a researcher's own models/ package, next to the script that imports both
OWN_MODELS = 'OWNER = "researcher"\n'
CHECK = ("import os, hank_mfg, hank_mfg.models\n"
         "from hank_mfg.models.hank import OneAssetHANK\n"
         "from hank_mfg.models.krusell_smith import KrusellSmith\n"
         "from hank_mfg.models.rspg_macro import RSPGMacro\n"
         "import models\n"
         "print(models.OWNER)\n"
         "print(os.path.dirname(os.path.abspath(hank_mfg.__file__)))\n"
         "print(os.path.dirname(os.path.abspath(hank_mfg.models.__file__)))\n"
         "print(OneAssetHANK.__name__, KrusellSmith.__name__, RSPGMacro.__name__)\n")


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _project(tmp_path) -> str:
    """A researcher's project folder holding its own ``models`` package."""
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "models" / "__init__.py").write_text(OWN_MODELS)
    return str(project)


def _run(python, code, cwd):
    done = subprocess.run([python, "-c", code], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_every_subpackage_is_packaged():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        setuptools = tomllib.load(f)["tool"]["setuptools"]
    found = {os.path.relpath(d, ROOT).replace(os.sep, ".")
             for d, _, files in os.walk(os.path.join(ROOT, "hank_mfg")) if "__init__.py" in files}
    assert set(setuptools["packages"]) == found | {"hank_mfg.models"}
    assert setuptools["package-dir"] == {"hank_mfg.models": "models"}


def test_the_installed_package_leaves_a_projects_own_models_alone(tmp_path):
    own, package, shipped, names = _run(sys.executable, CHECK, _project(tmp_path))
    assert own == "researcher"
    assert package == os.path.join(ROOT, "hank_mfg")
    assert shipped == os.path.join(ROOT, "models")  # the editable install maps the folder
    assert names == "OneAssetHANK KrusellSmith RSPGMacro"


def test_models_is_the_repository_folder_from_the_repository_root():
    code = ("import os, models, hank_mfg.models\n"
            "from models.hank import OneAssetHANK\n"
            "from models.krusell_smith import KrusellSmith\n"
            "print(os.path.dirname(os.path.abspath(models.__file__)))\n"
            "print(models.__name__, OneAssetHANK.__module__, KrusellSmith.__name__)\n")
    where, names = _run(sys.executable, code, ROOT)
    assert where == os.path.join(ROOT, "models")
    assert names == "models models.hank KrusellSmith"


def _wheel(tmp_path) -> str:
    """``pip wheel`` of a copy of the sources (the build writes build/ and *.egg-info beside them)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(os.path.join(ROOT, name), src)
    for name in ("hank_mfg", "models"):
        shutil.copytree(os.path.join(ROOT, name), src / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--no-index", "-q", "-w", str(dist), str(src)], check=True, env=_env(),
                   timeout=600)
    (wheel,) = dist.glob("hank_mfg-*.whl")
    return str(wheel)


def _venv_with_wheel(tmp_path, wheel) -> tuple[str, str]:
    """A fresh virtual environment holding only the wheel; its dependencies (jax, equinox, ...)
    come from this interpreter's site-packages, appended by a ``.pth`` file (whose own ``.pth``
    files, such as an editable install's, are not run). Returns (python, site-packages)."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = str(env_dir / "bin" / "python")
    subprocess.run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps",
                    "--no-index", "-q", wheel], check=True, env=_env(), timeout=600)
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    deps = [*site.getsitepackages(), site.getusersitepackages()]
    with open(os.path.join(purelib, "_hank_mfg_test_dependencies.pth"), "w") as f:
        f.write("".join(f"{d}\n" for d in deps if os.path.isdir(d)))
    return python, purelib


@pytest.mark.slow  # builds a wheel and a virtual environment: 13-19 s on 2 cores
def test_the_wheel_ships_the_models_inside_the_namespace(tmp_path):
    wheel = _wheel(tmp_path)
    with zipfile.ZipFile(wheel) as z:
        files = set(z.namelist())
    tops = {f.split("/")[0] for f in files if not f.startswith("hank_mfg-")}
    assert tops == {"hank_mfg"}, f"the wheel installs top-level {sorted(tops - {'hank_mfg'})}"
    sources = {os.path.relpath(os.path.join(d, f), ROOT).replace(os.sep, "/")
               for d, _, fs in os.walk(os.path.join(ROOT, "hank_mfg")) for f in fs
               if f.endswith(".py")}
    assert sources <= files, f"missing from the wheel: {sorted(sources - files)}"
    assert {f"hank_mfg/models/{m}.py" for m in [*SHIPPED, "__init__"]} <= files

    python, purelib = _venv_with_wheel(tmp_path, wheel)
    project = _project(tmp_path)
    own, package, shipped, names = _run(python, CHECK, project)
    assert own == "researcher"  # the project's own models/ is not shadowed
    assert package == os.path.join(purelib, "hank_mfg")  # the wheel, not the editable install
    assert shipped == os.path.join(purelib, "hank_mfg", "models")
    assert names == "OneAssetHANK KrusellSmith RSPGMacro"

    # the command line loads a model file by path: an installed file's Solution saved and loaded
    # back (the bundle records the file and class, so the class is found again by path)
    code = ("import os, jax, pandas as pd, hank_mfg as hm, hank_mfg.models\n"
            "from hank_mfg.models.rspg_macro import RSPGMacro\n"
            "path = os.path.join(os.path.dirname(hank_mfg.models.__file__), 'rspg_macro.py')\n"
            "config = hm.RSPGConfig(iterations=2, n_paths=2, eval_paths=2, hidden=8, widths=(8,))\n"
            "for cls in (hm.load_model_class(path), RSPGMacro):\n"
            "    model = cls(n_wealth=12, n_income=3, n_actions=6, horizon=8)\n"
            "    policy = hm.make_policy(hm.compile_model(model), 'rspg', key=jax.random.key(0),\n"
            "                            **config.architecture())\n"
            "    sol = hm.Solution(model=model, method='rspg', config=config, policy=policy,\n"
            "                      history=pd.DataFrame(dict(iteration=[0])), summary={})\n"
            "    back = hm.load_bundle(hm.save_bundle(sol, os.path.join('bundles', cls.__module__)))\n"
            "    same = all((a == b).all() for a, b in zip(jax.tree_util.tree_leaves(policy),\n"
            "                                              jax.tree_util.tree_leaves(back.policy)))\n"
            "    print(type(back.model).__name__, back.model.n_wealth, same)\n")
    assert _run(python, code, project) == ["RSPGMacro 12 True"] * 2
    assert os.path.isfile(os.path.join(os.path.dirname(python), "hank-mfg"))

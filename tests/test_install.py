"""The installed package: shipped models import from any directory."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_shipped_models_import_outside_the_repository(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = ("import os, models\n"
            "from models.krusell_smith import KrusellSmith\n"
            "from models.aiyagari import Aiyagari\n"
            "from models.rspg_macro import RSPGMacro\n"
            "print(os.path.dirname(os.path.abspath(models.__file__)))\n"
            "print(KrusellSmith.__name__, Aiyagari.__name__, RSPGMacro.__name__)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    where, names = done.stdout.splitlines()
    assert where == os.path.join(ROOT, "models")
    assert names == "KrusellSmith Aiyagari RSPGMacro"

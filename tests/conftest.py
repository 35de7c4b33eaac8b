import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # so that ``from models.krusell_smith import KrusellSmith`` works
    sys.path.insert(0, ROOT)

os.environ.setdefault("HANK_MFG_FAST", "1")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)  # tests run in float64 (STYLE: tests and classical solvers)

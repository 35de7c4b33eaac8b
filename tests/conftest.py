import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # so that ``from models.krusell_smith import KrusellSmith`` works
    sys.path.insert(0, ROOT)

os.environ.setdefault("HANK_MFG_FAST", "1")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)  # tests run in float64 (tests and classical solvers)

# One persistent compilation cache for the whole run, shared with the processes the tests start
# (test workers, notebook kernels, command-line runs): the same computation compiled in several
# processes is compiled once.
_CACHE = os.environ.setdefault("JAX_COMPILATION_CACHE_DIR",
                               os.path.join(ROOT, ".pytest_cache", "jax-compilation"))
jax.config.update("jax_compilation_cache_dir", _CACHE)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)

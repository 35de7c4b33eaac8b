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
# A size limit turns on JAX's file lock around every read and write of the cache: without it a
# worker can read an entry another process is still writing and abort while deserialising it.
# Set in the environment, so that the processes the tests start take the lock too.
_CACHE = os.environ.setdefault("JAX_COMPILATION_CACHE_DIR",
                               os.path.join(ROOT, ".pytest_cache", "jax-compilation"))
os.environ.setdefault("JAX_COMPILATION_CACHE_MAX_SIZE", str(16 * 2**30))
jax.config.update("jax_compilation_cache_dir", _CACHE)
jax.config.update("jax_compilation_cache_max_size", int(os.environ["JAX_COMPILATION_CACHE_MAX_SIZE"]))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)

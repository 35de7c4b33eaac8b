import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # so that ``from models.krusell_smith import KrusellSmith`` works
    sys.path.insert(0, ROOT)

os.environ.setdefault("HANK_MFG_FAST", "1")
# One CPU device per test process: the suite's workers already use every core between them,
# and a program sharded over devices compiles more slowly. hank_mfg's default (a device per
# core, hank_mfg.devices) is tested in subprocesses.
os.environ.setdefault("HANK_MFG_CPU_DEVICES", "1")
# No persistent compilation cache: on CPU, jaxlib's serialisation of compiled programs crashed
# test workers (a segmentation fault writing a training chunk's program, an abort reading a
# steady state's), so every process compiles what it runs. Environment set here reaches the
# processes the tests start (command-line runs, notebook kernels).
os.environ.pop("JAX_COMPILATION_CACHE_DIR", None)

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)  # tests run in float64 (tests and classical solvers)


import gc  # noqa: E402

import pytest  # noqa: E402

#: The default suite's programs are small and each runs a few times, so compiling dominates
#: its time: XLA's backend optimisation at level 0 compiles them about 20% faster (the same
#: operations in the same order, so the same numbers; measured on test_training_fixed_point,
#: test_rspg, test_economy and test_lower_bound). The slow suite, whose long runs execute
#: what they compile many times, keeps the default level, as do the benchmarks.
FAST_COMPILE = "--xla_backend_optimization_level=0"


def pytest_configure(config):
    if config.option.markexpr == "not slow" and FAST_COMPILE not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + FAST_COMPILE).strip()


def _memory_mappings() -> int:
    """The memory mappings this process holds (0 where ``/proc`` does not tell)."""
    try:
        with open("/proc/self/maps", "rb") as f:
            return sum(1 for _ in f)
    except OSError:
        return 0


def _mapping_limit() -> int:
    try:
        with open("/proc/sys/vm/max_map_count") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 65530


#: drop the compiled programs once a test worker holds this share of the kernel's mappings
#: (one slow module added about 16,000 in a measured run; the kernel's limit is 65,530)
RELEASE_AT = 0.3


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_programs():
    """Drop every compiled program after a test module once the process holds many of them
    (``RELEASE_AT`` of the kernel's memory mappings). Each program XLA compiles for the CPU
    holds about 20 memory mappings (measured: 300 small programs added 5,700), and the kernel
    allows 65,530 per process (``vm.max_map_count``): a test worker that compiles a few
    thousand programs over a long run ends in a segmentation fault inside XLA's compiler,
    whichever test happens to compile next. ``jax.clear_caches`` returns the mappings (not
    the resident memory, which stays about where it was). Until then the next modules reuse
    what earlier ones compiled (the same steady-state solvers, problem builds and rollouts on
    the same small grids), where clearing after every module made each compile them again."""
    yield
    if not os.path.exists("/proc/self/maps") or _memory_mappings() > RELEASE_AT * _mapping_limit():
        jax.clear_caches()
        gc.collect()

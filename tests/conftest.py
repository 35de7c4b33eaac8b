import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:  # so that ``from models.krusell_smith import KrusellSmith`` works
    sys.path.insert(0, ROOT)

os.environ.setdefault("HANK_MFG_FAST", "1")
# No persistent compilation cache: on CPU, jaxlib's serialisation of compiled programs crashed
# test workers (a segmentation fault writing a training chunk's program, an abort reading a
# steady state's), so every process compiles what it runs. Environment set here reaches the
# processes the tests start (command-line runs, notebook kernels).
os.environ.pop("JAX_COMPILATION_CACHE_DIR", None)

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)  # tests run in float64 (tests and classical solvers)


# TEMP instrumentation: compile time per test
if os.environ.get("HM_COMPILE_LOG"):
    import collections
    import json as _json
    import time as _time

    import pytest as _pytest

    _COMPILES = collections.defaultdict(lambda: [0, 0.0, 0, 0.0])
    _CURRENT = ["<none>"]

    def _listen(event, duration, **kw):
        if event == "/jax/core/compile/backend_compile_duration":
            rec = _COMPILES[_CURRENT[0]]
            if duration < 0.5:
                rec[0] += 1; rec[1] += duration
            else:
                rec[2] += 1; rec[3] += duration

    jax.monitoring.register_event_duration_secs_listener(_listen)

    @_pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(item, nextitem):
        _CURRENT[0] = item.nodeid
        yield

    def pytest_sessionfinish(session):
        path = os.environ["HM_COMPILE_LOG"] + "." + os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(path, "w") as f:
            _json.dump(dict(_COMPILES), f)

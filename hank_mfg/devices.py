"""Every CPU core as a JAX device, so that the noise paths of a training step run in parallel.

XLA runs one program on one CPU device on little more than one core (the HANK 100 x 7 rollout
of 8 paths: 1.54 s of CPU time in 1.26 s on 2 cores). The solvers shard their noise paths
over the devices JAX sees (:func:`~hank_mfg.solvers.training.path_sharding`), so exposing each
core as a device makes the paths of an iteration run side by side: that rollout then takes
0.75 s, a training gradient 1.13 s instead of 1.63 s (``benchmarks/bench_devices.py``,
docs/performance.md). The number of CPU devices is fixed when
JAX starts its backends, so it is set when ``hank_mfg`` is imported, before any computation:

* a device count already in ``XLA_FLAGS`` (``--xla_force_host_platform_device_count``) is
  kept;
* else ``HANK_MFG_CPU_DEVICES=n`` in the environment: ``n`` devices (``1``: one, as plain JAX);
* else one device per core this process may run on.

It changes nothing on a GPU (the CPU devices are then not the default ones), and nothing once
JAX has computed something: call :func:`use_cpu_cores` (or import ``hank_mfg``) first.
"""

from __future__ import annotations

import os

__all__ = ["use_cpu_cores", "available_cores"]

FLAG = "--xla_force_host_platform_device_count"
ENV = "HANK_MFG_CPU_DEVICES"


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, else ``os.cpu_count()``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _started() -> bool:
    try:
        from jax._src import xla_bridge
    except ImportError:   # pragma: no cover - a JAX without the module: assume started
        return True
    return bool(xla_bridge.backends_are_initialized())


def _environment_count() -> int | None:
    """``HANK_MFG_CPU_DEVICES`` as a count, ``None`` when unset; refused by name when bad."""
    env = os.environ.get(ENV, "").strip()
    if not env:
        return None
    try:
        n = int(env)
    except ValueError:
        raise ValueError(f"{ENV} must be a whole number of CPU devices; got {env!r}") from None
    if n < 1:
        raise ValueError(f"{ENV} must be at least 1; got {env!r}")
    return n


def use_cpu_cores(n: int | None = None) -> int:
    """Expose ``n`` CPU devices to JAX (default: ``HANK_MFG_CPU_DEVICES``, else one per core).

    Returns the number of CPU devices JAX will have: what JAX already has once it has started,
    the count ``XLA_FLAGS`` names when ``n`` is not given, else ``n``. Raises ``ValueError``
    for ``n < 1`` or a ``HANK_MFG_CPU_DEVICES`` that is not a whole number of at least 1.
    """
    if n is not None and n < 1:
        raise ValueError(f"use_cpu_cores.n must be at least 1; got {n}")
    from_env = _environment_count() if n is None else None
    if _started():
        import jax

        return len(jax.devices("cpu"))
    flags = os.environ.get("XLA_FLAGS", "").split()
    named = [f for f in flags if f.startswith(FLAG + "=")]
    if n is None and named:
        return int(named[-1].split("=", 1)[1])
    n = int(n if n is not None else from_env if from_env is not None else available_cores())
    os.environ["XLA_FLAGS"] = " ".join([f for f in flags if f not in named] + [f"{FLAG}={n}"])
    return n

"""Calibration target files (TOML): data moments with their sources, free parameters, fixed fields.

A target file reads like a calibration table in a paper::

    [meta]
    name = "US, quarterly"
    period = "quarter"

    [model]                  # fields set before calibrating (optional)
    alpha = 0.36

    [free]                   # parameters to calibrate and their bounds
    beta = [0.95, 0.995]

    [targets.r]              # targeted moments (names from hank_mfg.CALIBRATION_TARGETS)
    value = 0.01
    source = "4% a year, the usual real return on capital"
    approximate = true

    [untargeted.gini]        # data moments shown next to the model's, not targeted
    value = 0.85
    source = "..."

Loaded with :mod:`tomllib` (Python >= 3.11) or the ``tomli`` backport.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from ..model.base import AbstractHetAgentModel
from .calibration import TARGETS

__all__ = ["TargetFile", "load_targets"]


@dataclasses.dataclass(frozen=True)
class TargetFile:
    """A parsed calibration target file (see the module docstring for the format).

    Attributes:
        path: the file. meta: the ``[meta]`` table (name, period, description, ...).
        targets: targeted moments ``{name: value}``. untargeted: data moments reported only.
        sources: ``{name: {"source": str, "approximate": bool, ...}}`` for every moment.
        free: ``{field: (lo, hi)}`` bounds. model: ``{field: value}`` set before calibrating.
    """

    path: str
    meta: dict[str, Any]
    targets: dict[str, float]
    untargeted: dict[str, float]
    sources: dict[str, dict[str, Any]]
    free: dict[str, tuple[float, float]]
    model: dict[str, Any]

    def apply(self, model: AbstractHetAgentModel) -> AbstractHetAgentModel:
        """``model`` with the file's ``[model]`` fields set (``dataclasses.replace``).

        Raises:
            ValueError: a ``[model]`` name is not a field of the model (the fields are listed).
        """
        if not self.model:
            return model
        names = [f.name for f in dataclasses.fields(model)]
        for k in self.model:
            if k not in names:
                raise ValueError(f"{self.path}: [model] {k!r} is not a field of "
                                 f"{type(model).__name__}; fields: {', '.join(names)}")
        return dataclasses.replace(model, **self.model)


def _toml_load(path: str) -> dict:
    try:
        import tomllib  # Python >= 3.11
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    with open(path, "rb") as f:
        try:
            return tomllib.load(f)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{path}: not valid TOML: {err}") from None


def _moments(path: str, table: Any, section: str, sources: dict) -> dict[str, float]:
    if not isinstance(table, dict):
        raise ValueError(f"{path}: [{section}] must be a table of moments")
    out = {}
    for name, entry in table.items():
        if name not in TARGETS:
            raise ValueError(f"{path}: [{section}] unknown moment {name!r}; allowed: "
                             f"{', '.join(TARGETS)}")
        if isinstance(entry, dict):
            if "value" not in entry:
                raise ValueError(f"{path}: [{section}.{name!r}] needs a 'value'")
            value, meta = entry["value"], {k: v for k, v in entry.items() if k != "value"}
        else:
            value, meta = entry, {}
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{path}: [{section}] {name!r} must be a number; got {value!r}")
        out[name] = float(value)
        sources[name] = dict(meta, targeted=section == "targets")
    return out


def load_targets(path: str | os.PathLike) -> TargetFile:
    """Read a calibration target file (TOML; format in the module docstring).

    Args:
        path: e.g. ``calibration/targets/us_ks.toml``.

    Returns:
        :class:`TargetFile` (pass ``.targets`` and ``.free`` to :func:`hank_mfg.calibrate`).

    Raises:
        ValueError: missing file, invalid TOML, no ``[targets]`` or ``[free]``, an unknown
            moment (the allowed ones are listed), a non-numeric value or a malformed bound.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"target file not found: {path}")
    data = _toml_load(path)
    for key in ("targets", "free"):
        if key not in data:
            raise ValueError(f"{path}: needs a [{key}] table")
    sources: dict[str, dict] = {}
    targets = _moments(path, data["targets"], "targets", sources)
    untargeted = _moments(path, data.get("untargeted", {}), "untargeted", sources)
    free = {}
    if not isinstance(data["free"], dict):
        raise ValueError(f"{path}: [free] must map parameter names to [lo, hi]")
    for name, bounds in data["free"].items():
        if (not isinstance(bounds, list) or len(bounds) != 2
                or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)):
            raise ValueError(f"{path}: [free] {name!r} must be [lo, hi]; got {bounds!r}")
        free[name] = (float(bounds[0]), float(bounds[1]))
    model = data.get("model", {})
    if not isinstance(model, dict):
        raise ValueError(f"{path}: [model] must be a table of field = value")
    return TargetFile(path=path, meta=dict(data.get("meta", {})), targets=targets,
                      untargeted=untargeted, sources=sources, free=free, model=dict(model))

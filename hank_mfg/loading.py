"""Load a model class from a Python file and build it with ``field=value`` overrides.

Shared by the command line (``hank-mfg info MODEL_FILE --set beta=0.9``) and by any script or
notebook that wants to treat a model file as data. Every failure is a :class:`ModelLoadError`
(a ``ValueError``) whose message is one line saying what went wrong.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import os
import sys
from typing import Any, Union

from .model.base import AbstractHetAgentModel
from .model.economy import AbstractEconomy
from .model.game import AbstractFiniteMFG

__all__ = ["ModelLoadError", "load_model_class", "build_model", "parse_overrides", "parse_value",
           "coerce_value"]


class ModelLoadError(ValueError):
    """A model file, class name or ``--set`` override could not be used (one-line reason)."""


def _load_module(path: str):
    path = os.path.abspath(os.fspath(path))
    if not os.path.isfile(path):
        raise ModelLoadError(f"model file not found: {path}")
    if not path.endswith(".py"):
        raise ModelLoadError(f"model file must be a Python file (.py); got {path}")
    name = "_hank_mfg_user_model_" + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - only for odd paths
        raise ModelLoadError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    # let a model file next to its siblings (e.g. ``models/``) import them, as from the repo root
    parent = os.path.dirname(os.path.dirname(path))
    added = parent not in sys.path
    if added:
        sys.path.insert(0, parent)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        sys.modules.pop(name, None)
        raise ModelLoadError(f"error while importing {path}: {type(err).__name__}: {err}") from err
    finally:
        if added:
            sys.path.remove(parent)
    return module


def _is_concrete_model(obj, module) -> bool:
    return (inspect.isclass(obj) and issubclass(obj, (AbstractHetAgentModel, AbstractEconomy, AbstractFiniteMFG))
            and obj.__module__ == module.__name__ and not inspect.isabstract(obj))


def load_model_class(path: str, name: str | None = None
                     ) -> type[AbstractHetAgentModel] | type[AbstractEconomy] | type[AbstractFiniteMFG]:
    """The concrete model class (an ``AbstractHetAgentModel``, ``AbstractEconomy`` or
    ``AbstractFiniteMFG`` subclass) defined in the Python file ``path``.

    Args:
        path: a Python file such as ``models/rspg_macro.py``.
        name: class name to pick when the file defines several models.

    Raises:
        ModelLoadError: missing file, import error, no model, several models and no ``name``,
            or an unknown ``name`` (the message lists the models found).
    """
    module = _load_module(path)
    found = {k: v for k, v in vars(module).items() if _is_concrete_model(v, module)}
    if name is not None:
        if name not in found:
            raise ModelLoadError(
                f"no model class {name!r} in {path}; found: {', '.join(sorted(found)) or 'none'}")
        return found[name]
    if not found:
        raise ModelLoadError(f"no concrete subclass of hank_mfg.AbstractHetAgentModel, "
                             f"hank_mfg.AbstractEconomy or hank_mfg.AbstractFiniteMFG in {path}")
    if len(found) > 1:
        raise ModelLoadError(f"{path} defines several models ({', '.join(sorted(found))}); "
                             "pick one with --model NAME on the command line (name=NAME in "
                             "hm.build_model / hm.load_model_class)")
    return next(iter(found.values()))


_TRUE = ("true", "yes", "on")
_FALSE = ("false", "no", "off")
_NONE = ("none", "null")


def parse_value(text: str) -> Any:
    """Untyped parse: ``"3"`` -> 3, ``"0.9"`` -> 0.9, ``"true"``/``"false"`` -> bool,
    ``"none"`` -> None, else the string. Used only for fields whose type is not recognised."""
    t = text.strip()
    low = t.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    if low in _NONE:
        return None
    try:
        return int(t)
    except ValueError:
        pass
    try:
        return float(t)
    except ValueError:
        return t


def _field_kind(field: dataclasses.Field) -> str:
    """``"str"``, ``"bool"``, ``"int"``, ``"float"`` or ``"other"``: a field's type and default."""
    annotation = field.type if isinstance(field.type, str) else getattr(
        field.type, "__name__", str(field.type))
    annotation = str(annotation).replace("typing.", "")
    default = field.default
    if annotation in ("str", "Optional[str]") or isinstance(default, str):
        return "str"
    if annotation == "bool" or isinstance(default, bool):
        return "bool"
    if annotation == "int" or type(default) is int:
        return "int"
    converter = field.metadata.get("converter")
    if (annotation in ("float", "Optional[float]") or annotation.startswith(("Float[", "Float64["))
            or isinstance(default, float) or getattr(converter, "__name__", "") == "as_param"):
        return "float"
    return "other"


def coerce_value(owner: str, field: dataclasses.Field, text: str) -> Any:
    """Convert the ``--set`` text ``text`` to the type of ``field`` (of class ``owner``).

    A string field keeps the text as it is (``terminal=none`` is the string ``"none"``); a bool
    field takes ``true/false/yes/no/on/off``; an int field an integer; a parameter (a float or a
    0-d array) a number. ``none``/``null`` gives ``None`` only where the field's default is None.

    Raises:
        ModelLoadError: the text does not fit the field's type (names ``owner.field``).
    """
    t = text.strip()
    low = t.lower()
    kind = _field_kind(field)
    if kind == "str":
        return t
    if low in _NONE and field.default is None:
        return None
    if kind == "bool":
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ModelLoadError(f"{owner}.{field.name} must be true or false; got {t!r}")
    if kind == "int":
        try:
            return int(t)
        except ValueError:
            raise ModelLoadError(f"{owner}.{field.name} must be an integer; got {t!r}") from None
    if kind == "float":
        try:
            return float(t)
        except ValueError:
            raise ModelLoadError(f"{owner}.{field.name} must be a number; got {t!r}") from None
    return parse_value(t)


def parse_overrides(overrides: Union[dict, list, tuple, None],
                    cls: type | None = None) -> dict[str, Any]:
    """``["beta=0.9", "horizon=32"]`` (or a dict, returned as is) -> ``{"beta": ..., ...}``.

    Without ``cls`` the values stay the text after ``=`` (:func:`build_model` converts text by
    the field's type); with a model class ``cls`` each known field's text is converted by
    :func:`coerce_value`.
    """
    if overrides is None:
        return {}
    if isinstance(overrides, dict):
        return dict(overrides)
    out: dict[str, Any] = {}
    for item in overrides:
        key, sep, value = str(item).partition("=")
        key = key.strip()
        if not sep or not key:
            raise ModelLoadError(f"override must look like field=value; got {item!r}")
        out[key] = value
    return _coerce(cls, out) if cls is not None else out


def _coerce(cls: type, kw: dict[str, Any]) -> dict[str, Any]:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    return {k: coerce_value(cls.__name__, fields[k], v) if isinstance(v, str) and k in fields
            else v for k, v in kw.items()}


def build_model(path: str, overrides: Union[dict, list, tuple, None] = None,
                name: str | None = None) -> AbstractHetAgentModel | AbstractEconomy | AbstractFiniteMFG:
    """Load the model class from ``path`` and build it with ``overrides``.

    Args:
        path: Python file defining the model. overrides: ``{"beta": 0.9}`` or
            ``["beta=0.9", "common_noise=false"]``; text values are converted by the field's
            type (:func:`coerce_value`). name: class name, if the file has several.

    Raises:
        ModelLoadError: as :func:`load_model_class`, an unknown field (the message lists the
            fields), text that does not fit a field's type, or a value the model rejects (its
            own validation message).

    Example:
        >>> m = build_model("models/rspg_macro.py", ["horizon=32", "common_noise=false"])
    """
    cls = load_model_class(path, name)
    kw = parse_overrides(overrides)
    fields = [f.name for f in dataclasses.fields(cls) if f.init]
    unknown = [k for k in kw if k not in fields]
    if unknown:
        raise ModelLoadError(f"unknown field(s) {', '.join(unknown)} for {cls.__name__}; "
                             f"fields are: {', '.join(fields)}")
    kw = _coerce(cls, kw)
    try:
        return cls(**kw)
    except (ValueError, TypeError) as err:
        msg = " ".join(str(err).split())
        raise ModelLoadError(msg or f"{type(err).__name__} building {cls.__name__}") from err

"""Resolve a ``"module:name"`` target: the one way a space, an objective or a plugin is named
by text (a config value, an entry point, a command-line override).

Modules import as ``python -m`` would, so a module in the working folder is found even by the
``searchlab`` command (whose own path is its script's folder).

Example:
    >>> resolve("math:pi") > 3
    True
    >>> resolve("math")
    Traceback (most recent call last):
    ...
    searchlab.core.targets.TargetError: 'math' is not of the form 'module:name'
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any


class TargetError(ValueError):
    """A target that names nothing importable; the message says which part is wrong."""


def resolve(target: str) -> Any:
    """The object at ``"module:name"`` (``name`` may be dotted: ``"pkg.mod:Class.method"``)."""
    module_name, _, attr = str(target).partition(":")
    if not module_name or not attr:
        raise TargetError(f"{target!r} is not of the form 'module:name'")
    try:
        obj: Any = _import_module(module_name)
    except Exception as exc:
        raise TargetError(
            f"importing module {module_name!r} failed: {type(exc).__name__}: {exc}"
        ) from exc
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise TargetError(f"module {module_name!r} has no {attr!r}")
        obj = getattr(obj, part)
    return obj


def _import_module(name: str) -> Any:
    """Import ``name``, also from the working folder when it is not on the path."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        here = os.getcwd()
        if exc.name != name.split(".")[0] or here in sys.path:
            raise
        sys.path.insert(0, here)
        return importlib.import_module(name)

"""Package attributes imported on first use (PEP 562), so that ``semsearch --help`` and the
fast CLI paths do not load the engine, numpy or the model libraries."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def attributes(package: str, names: dict[str, str], namespace: dict[str, Any]
               ) -> Callable[[str], Any]:
    """A module ``__getattr__``: ``names`` maps an attribute to the submodule holding it."""

    def getattr_(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{names[name]}", package), name)
        namespace[name] = value
        return value
    return getattr_

"""The map's optional packages (the ``map`` extra), imported only when a map is made, with a
one-line install hint when one is missing."""

from __future__ import annotations

import importlib
from typing import Any

from ..errors import MissingExtra

HINT = MissingExtra.hint()


def need(module: str, package: str | None = None) -> Any:
    """``import module``, or a one-line error naming the package and the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        name = package or module.split(".")[0]
        raise MissingExtra(f"the map needs {name}, which is not installed ({e.name or name} "
                           f"missing); run: {HINT}") from e

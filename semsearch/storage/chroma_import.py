"""Importing chromadb, about 0.3 s faster.

chromadb decorates some 160 methods with ``overrides.override``, which checks each one's
signature against the base class while the module loads: about a quarter of chromadb's import
time, and a check meant for chromadb's own development. The decorator is swapped for one that
only marks the method (what ``EnforceOverrides`` looks for) while chromadb loads, then put
back. ``SEMSEARCH_CHECK_OVERRIDES=1`` keeps the full check.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any


def _mark(method: Any) -> Any:
    with contextlib.suppress(AttributeError):  # a builtin or slotted object
        method.__override__ = True
    return method


def _override(method: Any = None, *, check_signature: bool = True,
              check_at_runtime: bool = False) -> Any:
    return _mark(method) if method is not None else _mark


def import_chromadb() -> Any:
    """``import chromadb``, without the development-time signature checks."""
    if "chromadb" in sys.modules or os.environ.get("SEMSEARCH_CHECK_OVERRIDES"):
        import chromadb

        return chromadb
    try:
        import overrides
    except ImportError:  # pragma: no cover - chromadb's own dependency
        import chromadb

        return chromadb
    impl = sys.modules.get("overrides.overrides")
    targets = [(m, n) for m in (overrides, impl) if m is not None
               for n in ("override", "overrides") if callable(getattr(m, n, None))]
    saved = [(m, n, getattr(m, n)) for m, n in targets]
    for m, n in targets:
        setattr(m, n, _override)
    try:
        import chromadb
    finally:
        for m, n, f in saved:
            setattr(m, n, f)
    return chromadb

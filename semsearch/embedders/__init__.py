"""Embedders, found through the ``semsearch.embedders`` entry point group.

Built-ins (``sentence-transformers``, ``open-clip``) are registered the same way as plugins,
in ``pyproject.toml``. Heavy libraries load only when an embedder is built.
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points

from ..errors import ConfigError
from .base import Embedder

# torch's OpenMP workers spin between parallel regions: with other processes on the cores,
# embedding one query took 100-600 ms instead of ~15 ms (measured on 2 shared cores). Must be
# set before torch loads; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

GROUP = "semsearch.embedders"

_BUILTIN = {
    "sentence-transformers": "semsearch.embedders.text:SentenceTransformerEmbedder",
    "open-clip": "semsearch.embedders.clip:OpenClipEmbedder",
}


def backends() -> dict[str, str]:
    """Backend name -> ``module:Class``, built-ins first, then installed plugins."""
    found = dict(_BUILTIN)
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep.value)
    return found


def load_backend(name: str) -> type[Embedder]:
    target = backends().get(name)
    if target is None:
        raise ConfigError(f"unknown embedder backend {name!r}; known: {', '.join(backends())}")
    module_name, _, attr = target.partition(":")
    import importlib

    cls = getattr(importlib.import_module(module_name), attr)
    if not (isinstance(cls, type) and issubclass(cls, Embedder)):
        raise ConfigError(f"embedder backend {name!r} does not subclass semsearch Embedder")
    return cls


__all__ = ["Embedder", "backends", "load_backend", "GROUP"]

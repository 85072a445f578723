"""Models: embedders behind one small ABC, found only through the entry-point registry.

Names are imported on first use: the runtime settings (:mod:`.runtime`) are read by the CLI
before anything needs numpy or a model library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import attributes

if TYPE_CHECKING:
    from .base import Embedder, normalize
    from .registry import (
        CLIP_BACKEND,
        GROUP,
        TEXT_BACKEND,
        ModelRegistry,
        backends,
        default_spec,
        load_backend,
        register,
        resolve,
        shared_registry,
    )

_LAZY = {"Embedder": "base", "normalize": "base", **{n: "registry" for n in (
    "CLIP_BACKEND", "GROUP", "TEXT_BACKEND", "ModelRegistry", "backends", "default_spec",
    "load_backend", "register", "resolve", "shared_registry")}}


__getattr__ = attributes(__name__, _LAZY, globals())


__all__ = [
    "CLIP_BACKEND",
    "Embedder",
    "GROUP",
    "ModelRegistry",
    "TEXT_BACKEND",
    "backends",
    "default_spec",
    "load_backend",
    "normalize",
    "register",
    "resolve",
    "shared_registry",
]

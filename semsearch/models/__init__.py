"""Models: embedders behind one small ABC, found only through the entry-point registry."""

from __future__ import annotations

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

"""semsearch: local-first multimodal semantic search on Chroma.

    import semsearch
    lib = semsearch.open()
    col = lib.collection("photos")
    col.ingest(["~/Pictures"])
    for hit in col.search("a dog on a beach", type="image", k=5):
        print(hit.rank, hit.score, hit.path)
"""

from __future__ import annotations

from .collection import Collection, Results
from .errors import (
    BadInput,
    CollectionNotFound,
    ConfigError,
    ModelMismatch,
    ModelUnavailable,
    SemsearchError,
    StoreLocked,
)
from .library import Library, open
from .profiles import Profile, ProfileEntry
from .recommend import Composed, Term
from .types import CollectionInfo, Hit, IngestSummary, ModelSpec, ProgressEvent

__version__ = "0.1.0"

__all__ = [
    "BadInput",
    "Collection",
    "CollectionInfo",
    "CollectionNotFound",
    "Composed",
    "ConfigError",
    "Hit",
    "IngestSummary",
    "Library",
    "ModelMismatch",
    "ModelSpec",
    "ModelUnavailable",
    "Profile",
    "ProfileEntry",
    "ProgressEvent",
    "Results",
    "SemsearchError",
    "StoreLocked",
    "Term",
    "open",
]

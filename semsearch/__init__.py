"""semsearch: local-first multimodal semantic search on Chroma.

    import semsearch
    lib = semsearch.open()
    col = lib.collection("photos")
    col.ingest(["~/Pictures"])
    for hit in col.search("a dog on a beach", type="image", k=5):
        print(hit.rank, hit.score, hit.path)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import (
    BadInput,
    CatalogError,
    CollectionNotFound,
    ConfigError,
    ModelMismatch,
    ModelUnavailable,
    SemsearchError,
    StoreLocked,
)
from .lazy import attributes
from .types import CollectionInfo, Hit, IngestSummary, ModelSpec, ProgressEvent, Results

if TYPE_CHECKING:
    from .client.collection import Collection
    from .client.library import Library, open
    from .client.profiles import Profile, ProfileEntry
    from .search.expression import Composed, Term
    from .search.request import Request

#: imported on first use, so that ``semsearch --help`` does not load the engine
_LAZY = {"Collection": "client.collection", "Library": "client.library",
         "open": "client.library", "Profile": "client.profiles",
         "ProfileEntry": "client.profiles", "Composed": "search.expression",
         "Term": "search.expression", "Request": "search.request"}


__getattr__ = attributes(__name__, _LAZY, globals())


__version__ = "0.2.0"

__all__ = [
    "BadInput",
    "CatalogError",
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
    "Request",
    "Results",
    "SemsearchError",
    "StoreLocked",
    "Term",
    "open",
]

"""semsearch's models as registered Chroma embedding functions (the public import path).

Importing this module registers ``semsearch-text`` and ``semsearch-clip`` with Chroma, so
plain ``chromadb`` code can reopen a semsearch collection and query it by text or image. The
implementation lives in :mod:`semsearch.storage.chroma_plugin`.
"""

from __future__ import annotations

from .storage.chroma_plugin import (
    ClipEmbeddingFunction,
    ImageLoader,
    TextEmbeddingFunction,
    embedding_function,
)

__all__ = ["ClipEmbeddingFunction", "ImageLoader", "TextEmbeddingFunction", "embedding_function"]

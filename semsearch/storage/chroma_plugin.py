"""semsearch's models as registered Chroma embedding functions, and an image data loader.

Importing this module registers ``semsearch-text`` and ``semsearch-clip`` with Chroma, so
plain ``chromadb`` code can reopen a semsearch collection and query it by text or image::

    import chromadb
    import semsearch.storage.chroma_plugin  # registers the embedding functions

    client = chromadb.PersistentClient(path="~/.local/share/semsearch/chroma")
    texts = client.get_collection("sample.text")
    texts.query(query_texts=["how do I fix a flat tyre"], n_results=3)
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
from chromadb.api.types import (
    Documents,
    Embeddable,
    EmbeddingFunction,
    Embeddings,
    Space,
    URIs,
    is_document,
    is_image,
)
from chromadb.utils.embedding_functions import register_embedding_function

from ..models.base import Embedder
from ..models.open_clip import DEFAULT_CLIP_MODEL, DEFAULT_CLIP_PRETRAINED
from ..models.registry import CLIP_BACKEND, TEXT_BACKEND, shared_registry
from ..models.sentence_transformers import DEFAULT_TEXT_MODEL

MAX_SIDE = 1024  # the data loader shrinks larger images: CLIP looks at 224 pixels anyway



def _embedder(key: tuple[str, ...]) -> Embedder:
    """From the process's one model cache (the same models semsearch itself uses)."""
    if key[0] == "text":
        return shared_registry().embedder(TEXT_BACKEND, key[1])
    return shared_registry().embedder(CLIP_BACKEND, key[1], key[2])


@register_embedding_function
class TextEmbeddingFunction(EmbeddingFunction[Documents]):
    """The text space: a sentence-transformers model, loaded on first use."""

    def __init__(self, model: str = DEFAULT_TEXT_MODEL) -> None:
        self.model = model

    def __call__(self, input: Documents) -> Embeddings:
        vectors = _embedder(("text", self.model)).embed_batch(list(input))
        return [np.asarray(v, dtype=np.float32) for v in vectors]

    @staticmethod
    def name() -> str:
        return "semsearch-text"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    def get_config(self) -> dict[str, Any]:
        return {"model": self.model}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> TextEmbeddingFunction:
        return TextEmbeddingFunction(config.get("model") or DEFAULT_TEXT_MODEL)

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        if not isinstance(config.get("model", ""), str):
            raise ValueError("semsearch-text: 'model' must be a string")


@register_embedding_function
class ClipEmbeddingFunction(EmbeddingFunction[Embeddable]):
    """The shared space: an open_clip model for texts and images (RGB uint8 arrays)."""

    def __init__(
        self, model: str = DEFAULT_CLIP_MODEL, pretrained: str = DEFAULT_CLIP_PRETRAINED
    ) -> None:
        self.model = model
        self.pretrained = pretrained

    def __call__(self, input: Embeddable) -> Embeddings:
        from PIL import Image

        clip = _embedder(("clip", self.model, self.pretrained))
        out: list[np.ndarray | None] = [None] * len(input)
        texts = [(i, x) for i, x in enumerate(input) if is_document(x)]
        images = [(i, x) for i, x in enumerate(input) if is_image(x)]
        if texts:
            for (i, _), v in zip(texts, clip.embed_batch([cast(str, x) for _, x in texts]),
                                 strict=True):
                out[i] = v
        if images:
            prepared = [clip.prepare_image(Image.fromarray(np.asarray(x, dtype=np.uint8)))
                        for _, x in images]
            for (i, _), v in zip(images, clip.embed_prepared(prepared), strict=True):
                out[i] = v
        if any(v is None for v in out):
            raise ValueError("semsearch-clip embeds texts and images (RGB arrays) only")
        return [np.asarray(v, dtype=np.float32) for v in out]

    @staticmethod
    def name() -> str:
        return "semsearch-clip"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    def get_config(self) -> dict[str, Any]:
        return {"model": self.model, "pretrained": self.pretrained}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> ClipEmbeddingFunction:
        return ClipEmbeddingFunction(
            config.get("model") or DEFAULT_CLIP_MODEL,
            config.get("pretrained") or DEFAULT_CLIP_PRETRAINED,
        )

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        for key in ("model", "pretrained"):
            if not isinstance(config.get(key, ""), str):
                raise ValueError(f"semsearch-clip: {key!r} must be a string")


class ImageLoader:
    """Chroma data loader: file paths to RGB arrays, as semsearch's ingest reads images
    (EXIF orientation applied, first frame, alpha on white), shrunk to at most 1024 px."""

    def __call__(self, uris: URIs) -> list[np.ndarray | None]:
        from ..sources.images import decode_image

        out: list[np.ndarray | None] = []
        for uri in uris:
            if uri is None:
                out.append(None)
                continue
            path = uri[len("file://"):] if uri.startswith("file://") else uri
            with open(path, "rb") as f:
                img = decode_image(f.read())
            img.thumbnail((MAX_SIDE, MAX_SIDE))
            out.append(np.asarray(img))
        return out


def embedding_function(space: str, models: Any) -> EmbeddingFunction[Any]:
    """The embedding function for one of a collection's spaces (models: a ModelSpec)."""
    if space == "text":
        return TextEmbeddingFunction(models.text_model)
    return ClipEmbeddingFunction(models.clip_model, models.clip_pretrained)

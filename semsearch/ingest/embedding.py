"""Chunking items for each model and embedding what no stored vector can be reused for."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..models.chunking import Chunk, chunks_for
from ..sources import Item

if TYPE_CHECKING:
    from ..models.base import Embedder


@dataclass
class Planned:
    """One item's chunks per space, and their vectors as they are found or embedded."""

    item: Item
    text_chunks: list[Chunk]
    clip_chunks: list[Chunk]
    text_vectors: list[np.ndarray | None]
    clip_vectors: list[np.ndarray | None]

    def metadata(self, chunk: Chunk) -> dict[str, Any]:
        """What the store (and the lexical index) keeps of one chunk: the item's metadata,
        its id, the chunk's number and, for text, where it sits in the item."""
        meta = dict(self.item.metadata)
        meta.update({"item_id": self.item.id, "chunk": chunk.index})
        if self.item.modality == "text":
            meta.update({"start": chunk.start, "end": chunk.end})
        return meta


def plan(item: Item, text: Embedder | None, clip: Embedder | None, truncate: bool) -> Planned:
    """The chunks each loaded model sees of ``item`` (``truncate``: the first window only)."""
    text_chunks: list[Chunk] = []
    clip_chunks: list[Chunk] = []
    if item.modality == "text" and item.text:
        if text is not None:
            text_chunks = chunks_for(text, item.text)
        if clip is not None:
            clip_chunks = chunks_for(clip, item.text)
    elif item.modality == "image" and clip is not None:
        clip_chunks = [Chunk(0, 0, 0, "")]
    if truncate:
        text_chunks, clip_chunks = text_chunks[:1], clip_chunks[:1]
    return Planned(item, text_chunks, clip_chunks,
                   [None] * len(text_chunks), [None] * len(clip_chunks))


def embed(plans: list[Planned], images: dict[str, Any], text: Embedder | None,
          clip: Embedder | None) -> int:
    """Fill every missing vector; returns how many items needed the models."""
    count = sum(1 for p in plans if any(v is None for v in p.text_vectors + p.clip_vectors))
    if text is not None:
        todo = [(p, i) for p in plans for i, v in enumerate(p.text_vectors) if v is None]
        vectors = text.embed_batch([p.text_chunks[i].text for p, i in todo])
        for (p, i), vec in zip(todo, vectors, strict=True):
            p.text_vectors[i] = vec
    if clip is not None:
        todo = [(p, i) for p in plans for i, v in enumerate(p.clip_vectors)
                if v is None and p.item.modality == "text"]
        vectors = clip.embed_batch([p.clip_chunks[i].text for p, i in todo])
        for (p, i), vec in zip(todo, vectors, strict=True):
            p.clip_vectors[i] = vec
        pics = [p for p in plans if p.item.modality == "image" and p.clip_vectors
                and p.clip_vectors[0] is None]
        for start in range(0, len(pics), clip.batch_size):
            part = pics[start : start + clip.batch_size]
            vecs = clip.embed_prepared([images[p.item.id] for p in part])
            for p, vec in zip(part, vecs, strict=True):
                p.clip_vectors[0] = vec
    return count

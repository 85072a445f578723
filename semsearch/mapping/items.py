"""The items a map shows, read from one space of the store a page at a time: each item's
vector (the mean of its chunks, normalised, as everywhere else), what a point shows (path,
the start of its text or its file name), the field it is coloured by, and the words of its
text for the cluster labels (at most :data:`WORDS_PER_ITEM` per item: memory stays in
proportion to the number of items, whatever their length)."""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..storage.ids import chunk_of, item_id
from ..storage.words import word_stems
from ..types import ProgressEvent

SNIPPET = 160
WORDS_PER_ITEM = 300
Progress = Callable[[ProgressEvent], None]


@dataclass
class Vocabulary:
    """Stems as small integers, with the word each stem is most often written as."""

    index: dict[str, int] = field(default_factory=dict)
    spelled: list[Counter[str]] = field(default_factory=list)

    def ids(self, text: str, room: int) -> list[int]:
        out: list[int] = []
        for word, stem in word_stems(text)[:room]:
            n = self.index.get(stem)
            if n is None:
                n = self.index[stem] = len(self.spelled)
                self.spelled.append(Counter())
            # a few spellings are enough to pick the usual one
            if len(self.spelled[n]) < 8 or word in self.spelled[n]:
                self.spelled[n][word] += 1
            out.append(n)
        return out

    def word(self, n: int) -> str:
        return self.spelled[n].most_common(1)[0][0]


@dataclass
class Items:
    """The mapped items, in one order: ids, unit vectors (n x dim) and what points show."""

    ids: list[str]
    vectors: np.ndarray
    modality: list[str]
    paths: list[str | None]
    snippets: list[str]
    values: list[Any]
    words: list[list[int]]
    vocabulary: Vocabulary

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class _Acc:
    total: np.ndarray
    chunks: int = 0
    first: int = 1 << 30
    modality: str = "text"
    path: str | None = None
    snippet: str = ""
    value: Any = None
    words: list[int] = field(default_factory=list)


def _snippet(doc: str | None, meta: dict[str, Any]) -> str:
    if doc:
        flat = re.sub(r"\s+", " ", doc).strip()
        return flat if len(flat) <= SNIPPET else flat[: SNIPPET - 1].rstrip() + "…"
    path = meta.get("path")
    return os.path.basename(str(path)) if path else ""


def read_items(store: Any, collection: str, space: str, where: dict[str, Any] | None,
               color_by: str | None = None, on_progress: Progress | None = None,
               total: int = 0) -> Items:
    """Every item of ``collection`` in ``space`` passing ``where`` (a Chroma where clause)."""
    found: dict[str, _Acc] = {}
    vocab = Vocabulary()
    rows = 0
    for page in store.scan(collection, space, where=where):
        for cid, meta, doc, vec in zip(page.ids, page.metadatas, page.documents,
                                       page.embeddings, strict=True):
            iid = item_id(cid, meta)
            acc = found.get(iid)
            if acc is None:
                acc = found[iid] = _Acc(np.zeros(len(vec), dtype=np.float64))
                acc.modality = str(meta.get("modality") or ("image" if not doc else "text"))
                acc.path = meta.get("path")
                if color_by:
                    acc.value = meta.get(color_by)
            acc.total += vec
            acc.chunks += 1
            chunk = chunk_of(cid)
            if chunk < acc.first:
                acc.first = chunk
                acc.snippet = _snippet(doc, meta)
            if doc and len(acc.words) < WORDS_PER_ITEM:
                acc.words += vocab.ids(doc, WORDS_PER_ITEM - len(acc.words))
        rows += len(page.ids)
        if on_progress:
            on_progress(ProgressEvent("read", rows, max(total, rows)))
    ids = sorted(found)
    dim = len(next(iter(found.values())).total) if found else 1
    vectors = np.zeros((len(ids), dim), dtype=np.float32)
    for n, iid in enumerate(ids):
        mean = found[iid].total / max(1, found[iid].chunks)
        norm = float(np.linalg.norm(mean))
        vectors[n] = mean / norm if norm > 0 else mean
    accs = [found[i] for i in ids]
    return Items(ids, vectors, [a.modality for a in accs], [a.path for a in accs],
                 [a.snippet for a in accs], [a.value for a in accs], [a.words for a in accs],
                 vocab)

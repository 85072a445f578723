"""Reading a space in bulk: every document (to index it), every row (tests, evaluation), or a
sample of vectors (the background a query's scores are calibrated against)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..types import ModelSpec
from .foreign import _without_modality, is_external


@dataclass
class Rows:
    """Stored rows of one space: ids with their metadata, documents and vectors."""

    ids: list[str]
    metadatas: list[dict[str, Any]]
    documents: list[str | None]
    embeddings: np.ndarray


class BulkReads:
    """Store methods that read many rows, a page at a time, each page under the lock."""

    def _hold(self, exclusive: bool) -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError

    def _col(self, collection: str, space: str, models: ModelSpec | None = None) -> Any:
        raise NotImplementedError

    def documents(self, collection: str, space: str, page: int = 5000, texts: bool = True
                  ) -> Iterator[tuple[list[str], list[str], list[dict[str, Any]]]]:
        """Every (id, document, metadata) of one space that has a document, a page at a time
        (``texts=False``: metadata only, of every row, with empty documents)."""
        offset = 0
        include = ["documents", "metadatas"] if texts else ["metadatas"]
        while True:
            with self._hold(False):
                col = self._col(collection, space)
                if col is None:
                    return
                got = col.get(include=include, limit=page, offset=offset)
            if not got["ids"]:
                return
            docs = got["documents"] if texts else [""] * len(got["ids"])
            rows = [(c, d, dict(m or {})) for c, d, m in zip(
                got["ids"], docs, got["metadatas"], strict=True) if d or not texts]
            yield [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
            offset += len(got["ids"])

    def scan(self, collection: str, space: str, page: int = 5000,
             ids: Sequence[str] | None = None,
             where: dict[str, Any] | None = None) -> Iterator[Rows]:
        """Every row of one space (or of ``ids``) that passes ``where``, a page at a time,
        with everything stored."""
        offset = 0
        wanted = list(ids) if ids is not None else None
        while True:
            with self._hold(False):
                col = self._col(collection, space)
                if col is None:
                    return
                if where and is_external(col):
                    where = _without_modality(where)
                include = ["metadatas", "documents", "embeddings"]
                if wanted is not None:
                    got = col.get(ids=wanted[offset: offset + page], where=where or None,
                                  include=include)
                    done = offset + page >= len(wanted)
                else:
                    got = col.get(where=where or None, include=include, limit=page,
                                  offset=offset)
                    done = not got["ids"]
            if got["ids"]:
                n = len(got["ids"])
                yield Rows(list(got["ids"]), [dict(m or {}) for m in got["metadatas"]],
                           list(got.get("documents") or [None] * n),
                           np.asarray(got["embeddings"], dtype=np.float32))
            if done or (wanted is None and len(got["ids"]) < page):
                return
            offset += page

    def sample(self, collection: str, space: str, n: int,
               where: dict[str, Any] | None = None) -> np.ndarray:
        """About ``n`` stored vectors passing ``where``, taken in a few slices spread over the
        collection (cheap; not uniform, but not one corner either)."""
        with self._hold(False):
            col = self._col(collection, space)
            if col is None:
                return np.zeros((0, 1), dtype=np.float32)
            if is_external(col):
                where = _without_modality(where)
            total = int(col.count())
            slices = 8
            rows: list[Any] = []
            if total > n:
                for k in range(slices):  # offsets run over the filtered rows
                    got = col.get(where=where or None, include=["embeddings"],
                                  limit=max(1, n // slices), offset=(total * k) // slices)
                    if not len(got["ids"]):
                        break
                    rows += list(got["embeddings"])
            if len(rows) < n // 2:
                got = col.get(where=where or None, include=["embeddings"], limit=n)
                rows = list(got["embeddings"])
        return np.asarray(rows, dtype=np.float32) if rows else np.zeros((0, 1), np.float32)

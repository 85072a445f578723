"""Retrieval: candidate lists from the store (dense), the lexical index (BM25), and the
exact best-score re-scoring of recommendations. Everything goes through the typed Store."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np

from ..storage.ids import chroma_id, item_id, item_of
from ..storage.vectors import Match
from ..storage.where_sql import compile_where
from ..storage.words import query_terms
from .rank import best_score
from .request import Leg

if TYPE_CHECKING:
    from ..storage.data_dir import DataDir
    from ..storage.lexical import LexicalIndex, SqlFilter
    from ..storage.vectors import Store

#: the first page of BM25 hits and the query's ceiling, read in a thread
Ahead = Future[tuple[list[tuple[str, float]], float]]
#: lexical candidates fetched per query at least (before filtering and fusion)
LEXICAL_DEPTH = 100
#: stored vectors a query's scores are calibrated against (per space and modality)
SAMPLE = 512

def page_size(want: int) -> int:
    """BM25 hits read at once for ``want`` items: a margin for items with several matching
    chunks (a short page costs little: the index reads only what its best hits need)."""
    return want + max(20, want // 4)


def filter_sql(where: dict[str, Any] | None, lexical: LexicalIndex) -> SqlFilter | None:
    """``where`` compiled to SQL over the lexical index's metadata; None for no filter, and
    for one SQL cannot express or an index without metadata (the store checks those)."""
    return compile_where(where) if where and lexical.filterable() else None


def best_per_item(matches: list[Match]) -> list[Match]:
    """Keep the first (best) match of each item, in order."""
    seen: set[str] = set()
    out: list[Match] = []
    for m in matches:
        key = item_id(m.chroma_id, m.metadata)
        if key not in seen:
            seen.add(key)
            out.append(m)
    return out


def nearest(total: int, k: int, per_item: bool,
            read: Callable[[int], tuple[list[Match], int] | None]) -> list[Match] | None:
    """The ``k`` nearest chunks, or items by their best chunk: ``read(n)`` gives the ``n``
    nearest chunks (and how many it found), asked for more while items repeat; None when
    ``read`` cannot answer."""
    if total == 0 or k <= 0:
        return []
    n = min(total, k * 4 + 20) if per_item else min(total, k)
    while True:
        got = read(n)
        if got is None:
            return None
        matches, found = got
        if not per_item:
            return matches[:k]
        best = best_per_item(matches)
        if len(best) >= k or n >= total or found < n:
            return best[:k]
        n = min(total, n * 4)


class Retriever:
    def __init__(self, data: DataDir, name: str) -> None:
        self.data = data
        self.name = name

    @property
    def store(self) -> Store:
        """Opened on first use (a query's text encoder warms up meanwhile)."""
        return self.data.store

    def dense(self, space: str, vector: np.ndarray, k: int, where: dict[str, Any] | None,
              per_item: bool) -> list[Match]:
        """The ``k`` nearest items (or chunks) to ``vector``, each scored by its best chunk.
        Text chunks come without their documents: :meth:`complete` reads those of the final
        hits only (a per-item query reads several chunks per item it keeps). Text queries
        go to the vector index where there is one (:meth:`indexed`)."""
        if space == "text":
            found = self.indexed(vector, k, where, per_item)
            if found is not None:
                return found
        total = self.store.count(self.name, space)

        def read(n: int) -> tuple[list[Match], int]:
            found = self.store.query(self.name, space, vector, n, where, total,
                                     documents=space != "text")
            return found, len(found)

        return nearest(total, k, per_item, read) or []

    def indexed(self, vector: np.ndarray, k: int, where: dict[str, Any] | None,
                per_item: bool) -> list[Match] | None:
        """:meth:`dense` over the text space's vector index, hits with their metadata from
        the lexical index (texts: :meth:`complete`, for the final hits): Chroma is not
        opened. None where there is no index, or a filter SQL cannot express."""
        index = self.data.vector_index(self.name)
        lexical = self.data.lexical(self.name)
        sql = filter_sql(where, lexical)
        if index is None or (where and sql is None):
            return None
        narrow = self.data.narrowing(self.name, where, lexical) if sql else None

        def read(n: int) -> tuple[list[Match], int] | None:
            hits = index.search(vector, n, sql, narrow)
            if hits is None:
                return None
            rows = lexical.by_key([key for key, _ in hits])
            return [Match(rows[key][0], dist, rows[key][1], None)
                    for key, dist in hits if key in rows], len(hits)

        return nearest(index.size() or 0, k, per_item, read)

    def lexical(self, text: str, depth: int, where: dict[str, Any] | None,
                per_item: bool, ahead: Ahead | None = None) -> tuple[list[Match], float]:
        """BM25 candidates (ids and scores only; see :meth:`hydrate`) that pass ``where``, and
        the query's ceiling (the best score a document could get).

        Filter-aware: ``where`` is compiled to SQL and checked inside the BM25 query (one
        statement, every matching chunk ranked, however selective the filter). A filter SQL
        cannot express is checked in the store, a page of BM25 hits at a time, until ``depth``
        pass or the index has no more. ``ahead``: the first page and the ceiling, already read
        by :meth:`lexical_ahead` while the query was being embedded."""
        if ahead is None and not self.store.has(self.name, "text"):
            return [], 0.0
        want = max(1, depth)
        first, ceiling = ahead.result() if ahead is not None else (None, None)
        index = self.data.lexical(self.name) if ahead is not None else \
            self.data.fresh_lexical(self.name)
        sql = filter_sql(where, index)
        narrow = self.data.narrowing(self.name, where, index) if sql else None
        found: list[Match] = []
        items: set[str] = set()
        size = page_size(want)
        pages: Iterable[list[tuple[str, float]]] = index.pages(text, page=size, where=sql,
                                                               narrow=narrow)
        if first is not None:  # the first page was read ahead; the rest only if needed
            pages = itertools.chain([first], index.pages(
                text, page=size, start=size, where=sql, narrow=narrow)
                if len(first) == size else [])
        for page in pages:
            if where and sql is None:
                allowed = self.store.passing(self.name, "text", [c for c, _ in page], where)
                page = [(c, s) for c, s in page if c in allowed]
            for cid, score in page:
                found.append(Match(cid, None, {"item_id": item_of(cid)}, None, score))
                items.add(item_of(cid))
            if (len(items) if per_item else len(found)) >= want:
                break
        if per_item:
            found = best_per_item(found)
        if ceiling is None:
            ceiling = index.ceiling(query_terms(text))
        return found[:want], ceiling

    def lexical_ahead(self, text: str, depth: int, where: dict[str, Any] | None = None
                      ) -> Ahead | None:
        """Start reading the first page of BM25 hits and the query's ceiling in a thread (they
        touch only the catalog, not the store), to overlap the query's embedding. None when
        the collection has no text or its index must first be filled from the store."""
        if not self.store.has(self.name, "text"):
            return None
        index = self.data.fresh_lexical(self.name)
        sql = filter_sql(where, index)
        if where and sql is None:
            return None  # the filter pages through the store: no reading ahead
        narrow = self.data.narrowing(self.name, where, index) if sql else None
        want = max(1, depth)

        side = self.data.catalog.lexical(self.name, side=True)  # beside the dense side's reads

        def read() -> tuple[list[tuple[str, float]], float]:
            first = next(side.pages(text, page=page_size(want), where=sql, narrow=narrow), [])
            return first, side.ceiling(query_terms(text))

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="semsearch-bm25")
        try:
            return pool.submit(read)
        finally:
            pool.shutdown(wait=False)

    def hydrate(self, matches: list[Match], query: np.ndarray | None,
                documents: bool = True) -> list[Match]:
        """Metadata and document of lexical-only matches (and their cosine to ``query``).
        A match the store no longer holds (a crash between the two writes) is dropped."""
        stubs = [m.chroma_id for m in matches if m.document is None and m.distance is None]
        if not stubs:
            return matches
        found = self._indexed_rows(stubs, query, documents)
        if found is None:
            found = self._stored_rows(stubs, query, documents)
        out = []
        for m in matches:
            if m.chroma_id in found:
                meta, doc, vec = found[m.chroma_id]
                dist = None if vec is None or query is None else 1.0 - float(vec @ query)
                m = Match(m.chroma_id, dist, meta or m.metadata, doc, m.bm25)
            elif m.document is None and m.distance is None:
                continue
            out.append(m)
        return out

    def _indexed_rows(self, stubs: list[str], query: np.ndarray | None, documents: bool
                      ) -> dict[str, tuple[dict[str, Any], str | None, Any]] | None:
        """:meth:`hydrate`'s rows from the lexical and vector indexes (Chroma stays closed);
        None where there is no vector index (or it went away meanwhile)."""
        index = self.data.vector_index(self.name)
        if index is None:
            return None
        rows = self.data.lexical(self.name).keyed(stubs, documents)
        vecs = index.vectors([key for key, _, _ in rows.values()]) \
            if query is not None or not documents else {}
        if vecs is None:
            return None
        return {cid: (meta, doc, vecs.get(key)) for cid, (key, meta, doc) in rows.items()
                if documents or key in vecs}

    def _stored_rows(self, stubs: list[str], query: np.ndarray | None, documents: bool
                     ) -> dict[str, tuple[dict[str, Any], str | None, Any]]:
        """:meth:`hydrate`'s rows from the store."""
        if documents and query is None:  # lexical alone: the index holds text and metadata,
            # so the vector store (whose first read loads its whole HNSW index) stays closed
            found: dict[str, tuple[dict[str, Any], str | None, Any]] = {
                cid: (meta, doc, None)
                for cid, (meta, doc) in self.data.lexical(self.name).stored(stubs).items()}
            rest = [c for c in stubs if c not in found]
            if rest:
                found.update(self.store.fetch(self.name, "text", rest, None, False))
            return found
        if documents:
            return dict(self.store.fetch(self.name, "text", stubs, None, query is not None))
        return {cid: ({}, None, v)
                for cid, v in self.store.vectors(self.name, "text", stubs).items()}

    def complete(self, matches: list[Match]) -> dict[str, Match]:
        """Metadata and documents for the text matches that lack them (the final hits), by
        Chroma id; a match the store no longer holds is left out."""
        todo = [m.chroma_id for m in matches if m.document is None and m.distance is not None
                and m.metadata.get("modality") != "image"]
        found: dict[str, tuple[dict[str, Any], str | None, Any]] = {}
        if todo and self.data.vector_index(self.name) is not None:  # the catalog wrote every
            found = {cid: (meta, doc, None)  # row: the lexical index holds their texts
                     for cid, (meta, doc) in self.data.lexical(self.name).stored(todo).items()}
        rest = [c for c in todo if c not in found]
        if rest:
            found.update(self.store.fetch(self.name, "text", rest))
        out: dict[str, Match] = {}
        for m in matches:
            if m.chroma_id in found:
                meta, doc, _ = found[m.chroma_id]
                out[m.chroma_id] = Match(m.chroma_id, m.distance, meta, doc, m.bm25)
            elif m.chroma_id not in todo:
                out[m.chroma_id] = m
        return out

    def sample(self, leg: Leg, n: int = SAMPLE) -> np.ndarray:
        """Up to ``n`` stored vectors of the leg's space and modality, spread over the
        collection: the background a query's scores are calibrated against. Kept by the data
        directory until the store changes."""
        key = (self.name, leg.space, leg.modality or "", n)
        index = self.data.vector_index(self.name) if leg.space == "text" else None
        found = index.sample(n) if index is not None else None
        if found is not None:
            return found
        return self.data.cached(key, lambda: self.store.sample(
            self.name, leg.space, n, leg.where(None)) if self.store.count(
            self.name, leg.space) else np.zeros((0, 1), dtype=np.float32))

    def chunk_vectors(self, space: str, matches: list[Match]) -> dict[str, np.ndarray]:
        return self.store.vectors(self.name, space, [m.chroma_id for m in matches])

    def best_score(
        self, leg: Leg, pos: np.ndarray, neg: np.ndarray | None, depth: int,
        where: dict[str, Any] | None,
    ) -> tuple[list[Match], dict[str, np.ndarray]]:
        """Qdrant's best_score: candidates are the union of each like's nearest chunks (one
        batched query, ids only); every chunk of each candidate item is then scored exactly in
        numpy and the item keeps its best chunk. Metadata is read for the ``depth`` best."""
        total = self.store.count(self.name, leg.space)
        if total == 0:
            return [], {}
        w = leg.where(where)
        n = min(total, depth * 4 + 20)
        found: dict[str, None] = {}
        while True:
            lists = self.store.nearest_ids(self.name, leg.space, pos, n, w)
            short = any(len(ids) < n for ids in lists)
            for ids in lists:
                found.update(dict.fromkeys(ids))
            items = {item_of(cid) for cid in found}
            if len(items) >= depth or n >= total or short:
                break
            n = min(total, n * 4)
        if not found:
            return [], {}
        vectors = self.store.vectors(self.name, leg.space, list(found))
        counts = self.data.catalog.chunk_counts(self.name, items, leg.space)
        missing = [c for item, count in counts.items()
                   for c in (chroma_id(item, j) for j in range(count)) if c not in found]
        vectors.update(self.store.vectors(self.name, leg.space, missing, where=w))
        cids = [c for c in list(found) + [c for c in vectors if c not in found] if c in vectors]
        emb = np.stack([vectors[c] for c in cids]).astype(np.float64)
        p = (emb @ np.asarray(pos, dtype=np.float64).T).max(axis=1)
        ng = (emb @ np.asarray(neg, dtype=np.float64).T).max(axis=1) \
            if neg is not None and len(neg) else None
        scores = best_score(p, ng)
        best: dict[str, int] = {}
        for i, cid in enumerate(cids):
            item = item_of(cid)
            if item not in best or scores[i] > scores[best[item]]:
                best[item] = i
        order = sorted(best.values(), key=lambda i: -scores[i])[:depth]
        info = self.store.fetch(self.name, leg.space, [cids[i] for i in order])
        matches = [Match(cids[i], 1.0 - float(scores[i]), info[cids[i]][0], info[cids[i]][1])
                   for i in order if cids[i] in info]
        return matches, {m.chroma_id: vectors[m.chroma_id] for m in matches}

"""The vector store: one Chroma collection per (semsearch collection, space).

``NAME.text`` holds text chunks embedded by the text model; ``NAME.clip`` holds images and
text chunks embedded by CLIP. Both use cosine distance. Chroma ids are ``ITEM_ID#CHUNK``.

Embedded (``HOME/chroma``, through :mod:`semsearch.embedded`: every read holds the store
shared, every write exclusive) or a Chroma server (``url``). Collections built outside
semsearch with its registered embedding functions are found too: ``NAME.text``/``NAME.clip``
or a single ``NAME`` whose embedding function is ``semsearch-text`` or ``semsearch-clip``.
Such *external* collections carry no semsearch metadata: a hit's modality is inferred (an
image has a URI and no document), its id is the Chroma id, and modality filters are skipped.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SemsearchError
from ..types import ModelSpec
from .bulk import BulkReads
from .changes import ChangeLog, log_name
from .embedded import EmbeddedStore
from .foreign import EF_NAMES, ForeignCollections, _infer, _without_modality, ef_config, is_external
from .hnsw import hnsw_settings
from .remote import connect, translated

SPACES = ("text", "clip")
_MISSING = object()


@dataclass
class Match:
    chroma_id: str
    distance: float | None  # cosine distance; None for a lexical-only match
    metadata: dict[str, Any]
    document: str | None
    bm25: float | None = None

    @property
    def similarity(self) -> float:
        if self.distance is None:
            return float(self.bm25 or 0.0)
        return 1.0 - float(self.distance)


class Store(ForeignCollections, BulkReads):
    """Chroma behind a typed boundary: every read holds the store shared, every write
    exclusive; methods take (collection, space) names, and no Chroma handle leaves."""

    def __init__(
        self,
        home: Path,
        url: str | None = None,
        wait: bool = True,
        on_wait: Callable[[str], None] | None = None,
        changes: ChangeLog | None = None,
    ) -> None:
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        logging.getLogger("chromadb").setLevel(logging.ERROR)

        if url:  # the embedded store imports chromadb when it first writes (.embedded)
            from .chroma_import import import_chromadb

            import_chromadb(embedded=False)
            from . import chroma_plugin as _register  # noqa: F401 - registers semsearch's embedding functions

        self.url = url
        self.home = home
        self.wait = wait
        self.on_wait = on_wait
        self.embedded: EmbeddedStore | None = None
        self._http: Any = None
        self._version = -1
        self._cache: dict[str, Any] = {}
        self._primed: tuple[Any, set[str]] = (None, set())
        self.changes = changes if url else None  # server mode: text writes are logged
        if url:
            self._http = connect(url, os.environ.get("SEMSEARCH_CHROMA_TOKEN") or None)
        else:
            self.embedded = EmbeddedStore.of(home)
        with self._hold(False):
            self.max_batch = int(self.client.get_max_batch_size())

    @property
    def version(self) -> int:
        """Changes whenever this process writes or reopens the store (embedded)."""
        return self.embedded.version if self.embedded is not None else 0

    @property
    def client(self) -> Any:
        """The Chroma client (for the embedded store: the current one; it is reopened when
        another process has written since)."""
        return self._http if self.embedded is None else self.embedded.client

    @contextlib.contextmanager
    def _hold(self, exclusive: bool) -> Iterator[None]:
        with translated(self.url or str(self.home / "chroma")), self._held(exclusive):
            yield

    @contextlib.contextmanager
    def _held(self, exclusive: bool) -> Iterator[None]:
        if self.embedded is None:
            yield
            return
        # always wait here: flushes and queries are short; `wait=False` is about another
        # writer's whole run (semsearch.lock.WriteLock)
        with self.embedded.hold(exclusive, True, self.on_wait):
            if self._version != self.embedded.version:
                self._cache.clear()  # reopened, or written: handles and misses are stale
                self._version = self.embedded.version
            yield

    def _wrote(self) -> None:
        if self.embedded is not None:
            self.embedded.wrote()

    def reading(self) -> contextlib.AbstractContextManager[None]:
        """Hold the embedded store shared: no flush lands until the block ends."""
        return self._hold(False)

    def writing(self) -> contextlib.AbstractContextManager[None]:
        """Hold the embedded store exclusive: readers see all of the block's writes or none."""
        return self._hold(True)

    @staticmethod
    def name(collection: str, space: str) -> str:
        return f"{collection}.{space}"

    def _try_get(self, name: str) -> Any:
        if len(name) < 3:
            return None  # Chroma's minimum
        try:
            return self.client.get_collection(name, embedding_function=None)
        except Exception as e:
            if "does not exist" in str(e).lower() or type(e).__name__ == "NotFoundError":
                return None
            raise SemsearchError(f"vector store error on {name}: {e}") from e

    def _lookup(self, collection: str, space: str) -> Any:
        """``NAME.SPACE`` (semsearch's, or with that space's embedding function), else a
        single ``NAME`` whose embedding function is that space's.

        Namespaced: a Chroma collection semsearch wrote belongs to the semsearch collection
        its metadata names, and to no other (``notes.text`` the semsearch collection never
        reaches ``notes``' text space, whose Chroma name is also ``notes.text``).
        """
        col = self._try_get(self.name(collection, space))
        if col is not None and self._belongs(col, collection) and (
                ef_config(col)[0] == EF_NAMES[space]
                or (col.metadata or {}).get("semsearch:space") == space):
            return col
        col = self._try_get(collection)
        if col is not None and is_external(col) and ef_config(col)[0] == EF_NAMES[space]:
            return col
        return None

    @staticmethod
    def _belongs(col: Any, collection: str) -> bool:
        owner = (col.metadata or {}).get("semsearch:collection")
        return not owner or owner == collection

    def _col(self, collection: str, space: str, models: ModelSpec | None = None) -> Any:
        """Inside a hold: the Chroma collection of one space (created, cosine, with
        semsearch's registered embedding function in its configuration, when ``models``)."""
        key = self.name(collection, space)
        cached = self._cache.get(key, _MISSING)
        if cached is not _MISSING and (cached is not None or models is None):
            return cached
        col = self._lookup(collection, space)
        if col is None and models is not None:
            col = self._create(collection, space, models)
        if col is not None or self.embedded is not None:
            self._cache[key] = col  # a miss is remembered until the next write
        return col

    def _prime(self, col: Any) -> None:
        """A client's first touch of a collection is a read: in Chroma 1.5, a first read
        after writes makes the next write rebuild the unpersisted vectors (8-13 s after
        writing 10,000, once per client); reading first costs only the index load."""
        client = self.client
        if self._primed[0] is not client:
            self._primed = (client, set())
        if str(col.id) not in self._primed[1]:  # by id: a re-created collection is new
            col.count()
            self._primed[1].add(str(col.id))

    def has(self, collection: str, space: str) -> bool:
        with self._hold(False):
            return self._col(collection, space) is not None

    def count(self, collection: str, space: str) -> int:
        """Rows (chunks) in one space; 0 when it does not exist."""
        with self._hold(False):
            col = self._col(collection, space)
            return int(col.count()) if col is not None else 0

    def _create(self, collection: str, space: str, models: ModelSpec) -> Any:
        from .chroma_plugin import embedding_function

        key = self.name(collection, space)
        ef = embedding_function(space, models)
        # a write: held exclusive (so on chromadb's client) even where a read came here
        with self._hold(True), self._create_error(key):
            self._wrote()
            return self.client.get_or_create_collection(
                key,
                configuration={"hnsw": hnsw_settings(), "embedding_function": ef},  # type: ignore[arg-type,typeddict-item]
                metadata={
                    "semsearch:collection": collection,
                    "semsearch:space": space,
                    "semsearch:text_model": models.text_model,
                    "semsearch:clip_model": models.clip_model or "",
                    "semsearch:clip_pretrained": models.clip_pretrained or "",
                    "semsearch:text_backend": models.text_backend,
                    "semsearch:clip_backend": models.clip_backend,
                },
            )

    @staticmethod
    @contextlib.contextmanager
    def _create_error(key: str) -> Iterator[None]:
        try:
            yield
        except Exception as e:
            raise SemsearchError(f"vector store error on {key}: {e}") from e

    def drop(self, collection: str) -> None:
        with self._hold(True):
            for space in SPACES:
                self._cache.pop(self.name(collection, space), None)
                col = self._lookup(collection, space)
                if col is not None:
                    self._wrote()
                    with contextlib.suppress(Exception):
                        self.client.delete_collection(col.name)
            log = self.change_log(collection)
            if log is not None:
                self.client.delete_collection(log.name)
            self._cache.clear()

    def change_log(self, collection: str) -> Any:
        """Server mode: the collection's change log (:mod:`.changes`), if there is one."""
        if self.changes is None:
            return None
        with self._hold(False):
            log = self._try_get(log_name(collection))
        return log if log is not None and self._belongs(log, collection) else None

    def ident(self, collection: str, space: str) -> str | None:
        """The Chroma id of a space (a new one when it is dropped and made again), asked of
        the store anew: a handle kept since (another client dropped it) is replaced."""
        with self._hold(False):
            col = self._lookup(collection, space)
            if col is None:
                self._cache.pop(self.name(collection, space), None)
                return None
            self._cache[self.name(collection, space)] = col
            return str(col.id)

    # rows ----------------------------------------------------------------------------------
    def upsert(
        self,
        collection: str,
        space: str,
        models: ModelSpec,
        ids: list[str],
        vectors: np.ndarray,
        metadatas: list[dict[str, Any]],
        documents: list[str | None],
        uris: list[str | None] | None = None,
    ) -> None:
        """Write rows into one space (created with ``models`` if it does not exist)."""
        with self._hold(True):
            col = self._col(collection, space, models)
            self._prime(col)
            self._wrote()
            for i in range(0, len(ids), self.max_batch):
                j = i + self.max_batch
                docs = documents[i:j]
                some_uris = uris[i:j] if uris else []
                col.upsert(
                    ids=ids[i:j],
                    embeddings=vectors[i:j],
                    metadatas=metadatas[i:j],
                    documents=docs if any(d is not None for d in docs) else None,
                    uris=some_uris if any(u is not None for u in some_uris) else None,
                )
            if space == "text" and self.changes is not None:
                self.changes.record(self.client, collection, ids)

    def delete(self, collection: str, space: str, ids: Sequence[str]) -> None:
        ids = list(ids)
        if not ids:
            return
        with self._hold(True):
            col = self._col(collection, space)
            if col is None:
                return
            self._prime(col)
            self._wrote()
            for i in range(0, len(ids), self.max_batch):
                col.delete(ids=ids[i : i + self.max_batch])
            if space == "text" and self.changes is not None:
                self.changes.record(self.client, collection, ids)

    def vectors(self, collection: str, space: str, ids: Sequence[str],
                where: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
        """The stored vectors of ``ids`` (those that exist and pass ``where``)."""
        out: dict[str, np.ndarray] = {}
        ids = list(ids)
        with self._hold(False):
            col = self._col(collection, space)
            if col is None or not ids:
                return out
            for i in range(0, len(ids), self.max_batch):
                got = col.get(ids=ids[i : i + self.max_batch], where=where or None,
                              include=["embeddings"])
                for cid, vec in zip(got["ids"], got["embeddings"], strict=True):
                    out[cid] = np.asarray(vec, dtype=np.float32)
        return out

    def fetch(
        self, collection: str, space: str, ids: list[str], where: dict[str, Any] | None = None,
        embeddings: bool = False,
    ) -> dict[str, tuple[dict[str, Any], str | None, np.ndarray | None]]:
        """Metadata, document (and vector) of ``ids`` that pass ``where``."""
        out: dict[str, tuple[dict[str, Any], str | None, np.ndarray | None]] = {}
        with self._hold(False):
            col = self._col(collection, space)
            if col is None or not ids:
                return out
            include = ["metadatas", "documents"] + (["embeddings"] if embeddings else [])
            for i in range(0, len(ids), self.max_batch):
                got = col.get(ids=ids[i: i + self.max_batch], where=where or None,
                              include=include)
                vecs = got.get("embeddings") if embeddings else None
                docs = got.get("documents")
                for n, cid in enumerate(got["ids"]):
                    out[cid] = (
                        dict(got["metadatas"][n] or {}),
                        docs[n] if docs is not None else None,
                        np.asarray(vecs[n], dtype=np.float32) if vecs is not None else None,
                    )
        return out

    def passing(self, collection: str, space: str, ids: list[str],
                where: dict[str, Any]) -> set[str]:
        """Which of ``ids`` pass the metadata filter ``where`` (ids only, nothing else read)."""
        with self._hold(False):
            col = self._col(collection, space)
            if col is None or not ids:
                return set()
            found: set[str] = set()
            for i in range(0, len(ids), self.max_batch):
                found |= set(col.get(ids=ids[i: i + self.max_batch], where=where,
                                     include=[])["ids"])
            return found

    def nearest_ids(self, collection: str, space: str, vectors: np.ndarray, n: int,
                    where: dict[str, Any] | None) -> list[list[str]]:
        """For each query vector, the ids of its ``n`` nearest rows (nothing else read)."""
        with self._hold(False):
            col = self._col(collection, space)
            if col is None or n <= 0:
                return [[] for _ in range(len(vectors))]
            if is_external(col):
                where = _without_modality(where)
            res = col.query(query_embeddings=np.asarray(vectors, dtype=np.float32),
                            n_results=n, where=where or None, include=["distances"])
            return [list(ids) for ids in res["ids"]]

    def query(
        self, collection: str, space: str, vector: np.ndarray, n: int,
        where: dict[str, Any] | None, total: int | None = None, documents: bool = True,
    ) -> list[Match]:
        """The ``n`` rows nearest ``vector`` that pass ``where``, with metadata and (unless
        ``documents`` is false) document; ``total``: the space's row count, when the caller
        already knows it."""
        with self._hold(False):
            col = self._col(collection, space)
            if col is None:
                return []
            external = is_external(col)
            if external:
                where = _without_modality(where)
            count = col.count() if total is None else total
            if count == 0 or n <= 0:
                return []
            res = col.query(
                query_embeddings=[np.asarray(vector, dtype=np.float32)],
                n_results=min(n, count),
                where=where or None,
                include=["distances", "metadatas"] + (["documents"] if documents or external
                                                      else []) + (["uris"] if external else []),
            )
        docs = (res.get("documents") or [[None] * len(res["ids"][0])])[0]
        matches = [
            Match(cid, float(dist), dict(meta or {}), doc)
            for cid, dist, meta, doc in zip(
                res["ids"][0], res["distances"][0], res["metadatas"][0], docs, strict=True
            )
        ]
        if external:
            uris = (res.get("uris") or [[None] * len(matches)])[0]
            for m, uri in zip(matches, uris, strict=True):
                _infer(m, uri)
        return matches

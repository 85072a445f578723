"""Reading the embedded store through Chroma's Rust core alone, without chromadb's Python.

``chromadb`` takes about 0.4 s to import (pydantic models, its clients, its cloud search
API), most of a cold query. Its local client is a thin layer over ``chromadb_rust_bindings``,
which imports in 0.03 s and answers ``get``, ``query`` and ``count`` itself. A process that
only reads (a search, ``info``, ``collections``) opens the store through :class:`Reader`;
its first write opens chromadb's ``PersistentClient`` in its place (:mod:`.embedded`).

The reader gives the subset of chromadb's client and collection API that :mod:`.vectors`
reads with, with the same results: ``get_collection``, ``list_collections``,
``get_max_batch_size``; a collection's ``id``, ``name``, ``metadata``,
``configuration_json``, ``count``, ``get`` and ``query`` (embeddings as numpy arrays, as
chromadb returns them). Where the bindings are missing or differ (another chromadb
version), :func:`open_reader` returns None and the store opens chromadb as before;
``SEMSEARCH_CHROMA_READER=0`` does the same.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

TENANT, DATABASE = "default_tenant", "default_database"
#: the bindings' calls as this module makes them (positionally): checked before use, so
#: bindings of another shape leave reads to chromadb's client instead of failing
SIGNATURES = {
    "get": "collection_id, ids, where, limit, offset, where_document, include, tenant, "
           "database",
    "query": "collection_id, ids, query_embeddings, n_results, where, where_document, "
             "include, tenant, database",
    "count": "collection_id, tenant, database",
    "get_collection": "name, tenant, database",
    "list_collections": "limit, offset, tenant, database",
}
QUERY_INCLUDE = ["metadatas", "documents", "distances"]
GET_INCLUDE = ["metadatas", "documents"]


class NotFoundError(Exception):
    """A collection that does not exist (named like chromadb's, which :mod:`.vectors`
    recognises by name); raised without importing chromadb, whose errors the bindings would
    otherwise import."""


def open_reader(path: str) -> Reader | None:
    """A reader on the Chroma directory ``path``, or None where it cannot be had here."""
    if os.environ.get("SEMSEARCH_CHROMA_READER", "1").strip() == "0":
        return None
    try:
        import chromadb_rust_bindings as rust

        if not all(_parameters(getattr(rust.Bindings, name)) == SIGNATURES[name]
                   for name in SIGNATURES):
            return None
        config = rust.SqliteDBConfig(hash_type=rust.MigrationHash.MD5,
                                     migration_mode=rust.MigrationMode.Apply,
                                     url=os.path.join(path, "chroma.sqlite3"))
        # chromadb's own choice: every HNSW index holds 5 files open
        files = _open_files_limit()
        bindings = rust.Bindings(allow_reset=False, sqlite_db_config=config,
                                 persist_path=path, hnsw_cache_size=max(1, files // 5))
        return Reader(bindings)
    except Exception:  # bindings of another shape: chromadb's client serves instead
        return None


def _parameters(method: Any) -> str:
    """``a, b, c`` from a native method's ``($self, a, b, c)`` text signature."""
    text = str(getattr(method, "__text_signature__", "") or "")
    names = [p.strip().split("=")[0].strip() for p in text.strip("()").split(",")]
    return ", ".join(n for n in names if n and n not in ("$self", "/", "*"))


def _open_files_limit() -> int:
    try:
        import resource
    except ImportError:  # Windows: the C runtime's limit, as chromadb reads it
        import ctypes

        return int(ctypes.cdll.msvcrt._getmaxstdio())  # type: ignore[attr-defined]
    return int(resource.getrlimit(resource.RLIMIT_NOFILE)[0])


class Reader:
    """The read half of chromadb's ``PersistentClient`` over its Rust bindings."""

    def __init__(self, bindings: Any) -> None:
        self._bindings: Any = bindings
        self._names: set[str] | None = None

    def stop(self) -> None:
        """Close the bindings (their files and cached indexes)."""
        self._bindings = None

    @property
    def bindings(self) -> Any:
        if self._bindings is None:
            raise RuntimeError("the store reader was closed")
        return self._bindings

    def get_max_batch_size(self) -> int:
        return int(self.bindings.get_max_batch_size())

    def list_collections(self) -> list[ReaderCollection]:
        return [ReaderCollection(self, c)
                for c in self.bindings.list_collections(None, None, TENANT, DATABASE)]

    def get_collection(self, name: str, embedding_function: Any = None) -> ReaderCollection:
        # a missing name is found out without an error from the bindings (which import
        # chromadb to raise it); the names are listed again before a miss is reported
        if self._names is None or name not in self._names:
            self._names = {c.name for c in self.list_collections()}
        if name not in self._names:
            raise NotFoundError(f"Collection [{name}] does not exist")
        return ReaderCollection(self, self.bindings.get_collection(name, TENANT, DATABASE))


class ReaderCollection:
    """One collection: the attributes and reads :mod:`.vectors` uses."""

    def __init__(self, reader: Reader, model: Any) -> None:
        self._reader = reader
        self.id = model.id
        self.name = str(model.name)
        self.metadata: dict[str, Any] | None = model.metadata
        self.configuration_json: dict[str, Any] = model.configuration or {}

    def count(self) -> int:
        return int(self._reader.bindings.count(str(self.id), TENANT, DATABASE))

    def get(self, ids: Sequence[str] | None = None, where: dict[str, Any] | None = None,
            limit: int | None = None, offset: int | None = None,
            where_document: dict[str, Any] | None = None,
            include: Sequence[str] = tuple(GET_INCLUDE)) -> dict[str, Any]:
        got = self._reader.bindings.get(
            str(self.id), list(ids) if ids is not None else None, _json(where), limit,
            offset or 0, _json(where_document), list(include), TENANT, DATABASE)
        out = _fields(got, include)
        if "embeddings" in include and out["embeddings"] is not None:
            out["embeddings"] = np.array(out["embeddings"])
        return out

    def query(self, query_embeddings: Any, n_results: int = 10,
              where: dict[str, Any] | None = None,
              where_document: dict[str, Any] | None = None,
              include: Sequence[str] = tuple(QUERY_INCLUDE),
              ids: Sequence[str] | None = None) -> dict[str, Any]:
        vectors = [np.asarray(v, dtype=np.float32) for v in query_embeddings]
        got = self._reader.bindings.query(
            str(self.id), list(ids) if ids is not None else None, vectors, n_results,
            _json(where), _json(where_document), list(include), TENANT, DATABASE)
        out = _fields(got, include)
        out["distances"] = got.distances if "distances" in include else None
        if "embeddings" in include and out["embeddings"] is not None:
            out["embeddings"] = [np.array(e) for e in out["embeddings"]]
        return out


def _json(value: dict[str, Any] | None) -> str | None:
    return json.dumps(value) if value else None


def _fields(got: Any, include: Sequence[str]) -> dict[str, Any]:
    """chromadb's result keys: what was not included is None."""
    out: dict[str, Any] = {"ids": got.ids, "included": list(include), "data": None}
    for key in ("embeddings", "documents", "uris", "metadatas"):
        value = None
        if key in include:
            with contextlib.suppress(AttributeError):
                value = getattr(got, key)
        out[key] = value
    return out

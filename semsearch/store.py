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
import functools
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from .embedded import EmbeddedStore
from .errors import ConfigError, SemsearchError
from .types import ModelSpec

SPACES = ("text", "clip")
HNSW = {"space": "cosine", "ef_construction": 200, "ef_search": 128, "max_neighbors": 32}
#: the registered embedding function of each space (semsearch.chroma)
EF_NAMES = {"text": "semsearch-text", "clip": "semsearch-clip"}
_MISSING = object()


def chroma_id(item_id: str, chunk: int) -> str:
    return f"{item_id}#{chunk}"


def item_of(chroma_ids: str) -> str:
    return chroma_ids.rsplit("#", 1)[0]


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


def ef_config(col: Any) -> tuple[str, dict[str, Any]]:
    """(name, config) of the embedding function in a Chroma collection's configuration."""
    conf = getattr(col, "configuration_json", None) or {}
    ef = conf.get("embedding_function") or {}
    if not isinstance(ef, dict) or ef.get("type") != "known":
        return "", {}
    return str(ef.get("name") or ""), dict(ef.get("config") or {})


def is_external(col: Any) -> bool:
    """Built outside semsearch: no semsearch metadata on its rows."""
    return not (getattr(col, "metadata", None) or {}).get("semsearch:collection")


def _without_modality(where: dict[str, Any] | None) -> dict[str, Any] | None:
    """``where`` less its ``modality`` conditions (external collections do not carry one)."""
    if not where:
        return None
    if "$and" in where and len(where) == 1:
        parts = [p for p in (_without_modality(w) for w in where["$and"]) if p]
        return None if not parts else parts[0] if len(parts) == 1 else {"$and": parts}
    if "modality" in where and len(where) == 1:
        return None
    return where


def _infer(match: Match, uri: str | None) -> None:
    """Fill in what semsearch's own rows carry: item id, modality, path."""
    meta = match.metadata
    meta.setdefault("item_id", match.chroma_id)
    if uri:
        meta.setdefault("path", uri[len("file://"):] if uri.startswith("file://") else uri)
    meta.setdefault("modality", "image" if uri and not match.document else "text")


def _guarded(exclusive: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Hold the embedded store (shared or exclusive) around a Store method; a Chroma
    collection handle passed first is swapped for a current one if the client was reopened."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def method(self: Store, *args: Any, **kwargs: Any) -> Any:
            with self._hold(exclusive):
                if args and args[0] is not None and not isinstance(args[0], str):
                    args = (self._resolve(args[0]), *args[1:])
                if exclusive:
                    self._wrote()
                return fn(self, *args, **kwargs)

        return method

    return wrap


def reads_store(fn: Callable[..., Any]) -> Callable[..., Any]:
    """For a Collection method: hold the store shared throughout (one consistent view)."""

    @functools.wraps(fn)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self.lib.store.reading():
            return fn(self, *args, **kwargs)

    return method


class Store:
    def __init__(
        self,
        home: Path,
        url: str | None = None,
        wait: bool = True,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        logging.getLogger("chromadb").setLevel(logging.ERROR)
        import chromadb
        from chromadb.config import Settings

        from . import chroma as _register  # noqa: F401 - registers semsearch's embedding functions

        self.url = url
        self.wait = wait
        self.on_wait = on_wait
        self.embedded: EmbeddedStore | None = None
        self._http: Any = None
        self._version = -1
        self._cache: dict[str, Any] = {}
        if url:
            parsed = urlparse(url)
            if not parsed.hostname or parsed.scheme not in ("http", "https"):
                raise ConfigError(f"bad Chroma URL {url!r}; expected http://HOST:PORT")
            try:
                self._http = chromadb.HttpClient(
                    host=parsed.hostname,
                    port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                    ssl=parsed.scheme == "https",
                    settings=Settings(anonymized_telemetry=False),
                )
            except Exception as e:
                raise SemsearchError(f"cannot reach the Chroma server at {url}: {e}") from e
        else:
            self.embedded = EmbeddedStore.of(home)
        with self._hold(False):
            self.max_batch = int(self.client.get_max_batch_size())

    @property
    def client(self) -> Any:
        """The Chroma client (for the embedded store: the current one; it is reopened when
        another process has written since)."""
        return self._http if self.embedded is None else self.embedded.client

    @contextlib.contextmanager
    def _hold(self, exclusive: bool) -> Iterator[None]:
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

    def _resolve(self, col: Any) -> Any:
        if self.embedded is None or getattr(col, "_client", None) is self.client._server:
            return col
        return self.client.get_collection(col.name, embedding_function=None)

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
        single ``NAME`` whose embedding function is that space's."""
        col = self._try_get(self.name(collection, space))
        if col is not None and (ef_config(col)[0] == EF_NAMES[space]
                                or (col.metadata or {}).get("semsearch:space") == space):
            return col
        col = self._try_get(collection)
        if col is not None and ef_config(col)[0] == EF_NAMES[space]:
            return col
        return None

    def get(
        self, collection: str, space: str, create: bool = False, models: ModelSpec | None = None
    ) -> Any:
        """The Chroma collection of one space; created (cosine, with semsearch's registered
        embedding function in its configuration) when ``create`` and ``models`` are given."""
        create = create and models is not None
        with self._hold(create):
            key = self.name(collection, space)
            cached = self._cache.get(key, _MISSING)
            if cached is not _MISSING and (cached is not None or not create):
                return cached
            col = self._lookup(collection, space)
            if col is None and create:
                assert models is not None
                col = self._create(collection, space, models)
            if col is not None or self.embedded is not None:
                self._cache[key] = col  # a miss is remembered until the next write
            return col

    def _create(self, collection: str, space: str, models: ModelSpec) -> Any:
        from .chroma import embedding_function

        key = self.name(collection, space)
        ef = embedding_function(space, models)
        self._wrote()
        try:
            return self.client.get_or_create_collection(
                key,
                configuration={"hnsw": HNSW, "embedding_function": ef},  # type: ignore[arg-type,typeddict-item]
                metadata={
                    "semsearch:collection": collection,
                    "semsearch:space": space,
                    "semsearch:text_model": models.text_model,
                    "semsearch:clip_model": models.clip_model or "",
                    "semsearch:clip_pretrained": models.clip_pretrained or "",
                },
            )
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
            self._cache.clear()

    # collections built elsewhere ---------------------------------------------------------
    def names(self) -> list[str]:
        """semsearch collections in the store: its own, and those built with its embedding
        functions by plain Chroma code."""
        with self._hold(False):
            found: set[str] = set()
            for col in self.client.list_collections():
                meta = col.metadata or {}
                if meta.get("semsearch:collection"):
                    found.add(str(meta["semsearch:collection"]))
                    continue
                ef = ef_config(col)[0]
                space = next((s for s, n in EF_NAMES.items() if n == ef), None)
                if space is None:
                    continue
                stem, dot, suffix = col.name.rpartition(".")
                found.add(stem if dot and suffix == space else col.name)
            return sorted(found)

    def counts(self, collection: str) -> dict[str, int]:
        """Items per modality in the store (a text item has a chunk 0 in the text space)."""
        out: dict[str, int] = {}
        with self._hold(False):
            text, clip = self.get(collection, "text"), self.get(collection, "clip")
            for col in (c for c in (text, clip) if c is not None and is_external(c)):
                got = col.get(include=["uris", "documents"])
                for uri, doc in zip(got.get("uris") or [None] * len(got["ids"]),
                                    got.get("documents") or [None] * len(got["ids"]),
                                    strict=True):
                    if col is text or (uri and not doc):
                        key = "text" if col is text else "image"
                        out[key] = out.get(key, 0) + 1
                    elif text is None:
                        out["text"] = out.get("text", 0) + 1
            if clip is not None and not is_external(clip):
                out["image"] = len(clip.get(where={"modality": "image"}, include=[])["ids"])
            own = text if text is not None and not is_external(text) else None
            if own is None and clip is not None and not is_external(clip) and text is None:
                own = clip
            if own is not None:
                first = {"$and": [{"chunk": 0}, {"modality": "text"}]}
                out["text"] = len(own.get(where=first, include=[])["ids"])
        return {k: v for k, v in out.items() if v}

    def models_of(self, collection: str) -> tuple[ModelSpec, dict[str, int]] | None:
        """The models (and dimensions) a collection in the store was built with, read from
        its semsearch metadata or its embedding functions' configuration; None if absent."""
        from .embedders.clip import DEFAULT_CLIP_MODEL, DEFAULT_CLIP_PRETRAINED
        from .embedders.text import DEFAULT_TEXT_MODEL

        with self._hold(False):
            cols = {space: self.get(collection, space) for space in SPACES}
            if all(c is None for c in cols.values()):
                return None
            for col in cols.values():
                meta = (col.metadata or {}) if col is not None else {}
                if meta.get("semsearch:text_model"):
                    spec = ModelSpec(str(meta["semsearch:text_model"]),
                                     str(meta.get("semsearch:clip_model") or "") or None,
                                     str(meta.get("semsearch:clip_pretrained") or "") or None)
                    break
            else:
                text = ef_config(cols["text"])[1] if cols["text"] is not None else {}
                clip = ef_config(cols["clip"])[1] if cols["clip"] is not None else None
                spec = ModelSpec(
                    str(text.get("model") or DEFAULT_TEXT_MODEL),
                    str(clip.get("model") or DEFAULT_CLIP_MODEL) if clip is not None else None,
                    str(clip.get("pretrained") or DEFAULT_CLIP_PRETRAINED)
                    if clip is not None else None,
                )
            dims: dict[str, int] = {}
            for space, col in cols.items():
                if col is None:
                    continue
                got = col.get(limit=1, include=["embeddings"])
                if got["ids"]:
                    dims[space] = len(got["embeddings"][0])
            return spec, dims

    @_guarded(exclusive=True)
    def upsert(
        self,
        col: Any,
        ids: list[str],
        vectors: np.ndarray,
        metadatas: list[dict[str, Any]],
        documents: list[str | None],
        uris: list[str | None] | None = None,
    ) -> None:
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

    @_guarded(exclusive=True)
    def delete(self, col: Any, ids: Sequence[str]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), self.max_batch):
            col.delete(ids=ids[i : i + self.max_batch])

    @_guarded(exclusive=False)
    def vectors(self, col: Any, ids: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        ids = list(ids)
        for i in range(0, len(ids), self.max_batch):
            got = col.get(ids=ids[i : i + self.max_batch], include=["embeddings"])
            for cid, vec in zip(got["ids"], got["embeddings"], strict=True):
                out[cid] = np.asarray(vec, dtype=np.float32)
        return out

    @_guarded(exclusive=False)
    def fetch(
        self, col: Any, ids: list[str], where: dict[str, Any] | None, embeddings: bool
    ) -> dict[str, tuple[dict[str, Any], str | None, np.ndarray | None]]:
        """Metadata, document (and vector) of ``ids`` that pass ``where``."""
        if not ids:
            return {}
        include = ["metadatas", "documents"] + (["embeddings"] if embeddings else [])
        got = col.get(ids=ids, where=where or None, include=include)
        vecs = got.get("embeddings") if embeddings else None
        out: dict[str, tuple[dict[str, Any], str | None, np.ndarray | None]] = {}
        for n, cid in enumerate(got["ids"]):
            docs = got.get("documents")
            out[cid] = (
                dict(got["metadatas"][n] or {}),
                docs[n] if docs is not None else None,
                np.asarray(vecs[n], dtype=np.float32) if vecs is not None else None,
            )
        return out

    @_guarded(exclusive=False)
    def passing(self, col: Any, ids: list[str], where: dict[str, Any]) -> set[str]:
        """Which of ``ids`` pass the metadata filter ``where`` (ids only, nothing else read)."""
        if not ids:
            return set()
        return set(col.get(ids=ids, where=where, include=[])["ids"])

    @_guarded(exclusive=False)
    def documents(self, col: Any, page: int = 5000) -> tuple[list[str], list[str]]:
        """Every (id, document) of a collection, paged."""
        ids: list[str] = []
        docs: list[str] = []
        offset = 0
        while True:
            got = col.get(include=["documents"], limit=page, offset=offset)
            if not got["ids"]:
                return ids, docs
            for cid, doc in zip(got["ids"], got["documents"], strict=True):
                if doc:
                    ids.append(cid)
                    docs.append(doc)
            offset += len(got["ids"])

    @_guarded(exclusive=False)
    def query(
        self, col: Any, vector: np.ndarray, n: int, where: dict[str, Any] | None
    ) -> list[Match]:
        external = is_external(col)
        if external:
            where = _without_modality(where)
        count = col.count()
        if count == 0 or n <= 0:
            return []
        res = col.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=min(n, count),
            where=where or None,
            include=["distances", "metadatas", "documents"] + (["uris"] if external else []),
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

"""The vector store: one Chroma collection per (semsearch collection, space).

``NAME.text`` holds text chunks embedded by the text model; ``NAME.clip`` holds images and
text chunks embedded by CLIP. Both use cosine distance. Chroma ids are ``ITEM_ID#CHUNK``.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from .errors import ConfigError, SemsearchError
from .types import ModelSpec

SPACES = ("text", "clip")
HNSW = {"space": "cosine", "ef_construction": 200, "ef_search": 128, "max_neighbors": 32}


def chroma_id(item_id: str, chunk: int) -> str:
    return f"{item_id}#{chunk}"


def item_of(chroma_ids: str) -> str:
    return chroma_ids.rsplit("#", 1)[0]


@dataclass
class Match:
    chroma_id: str
    distance: float
    metadata: dict[str, Any]
    document: str | None

    @property
    def similarity(self) -> float:
        return 1.0 - float(self.distance)


def _settings_of(path: str) -> Any:
    from chromadb.api.shared_system_client import SharedSystemClient

    systems = getattr(SharedSystemClient, "_identifier_to_system", {})
    want = Path(path).resolve()
    for system in systems.values():
        if Path(system.settings.persist_directory or "").resolve() == want:
            return system.settings
    raise SemsearchError(f"the vector store at {path} is open with other settings")


class Store:
    def __init__(self, home: Path, url: str | None = None) -> None:
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        logging.getLogger("chromadb").setLevel(logging.ERROR)
        import chromadb
        from chromadb.config import Settings

        from . import chroma as _register  # noqa: F401 - registers semsearch's embedding functions

        settings = Settings(anonymized_telemetry=False)
        if url:
            parsed = urlparse(url)
            if not parsed.hostname:
                raise ConfigError(f"bad Chroma URL {url!r}; expected http://HOST:PORT")
            self.client = chromadb.HttpClient(
                host=parsed.hostname,
                port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https",
                settings=settings,
            )
        else:
            path = str(home / "chroma")
            try:
                self.client = chromadb.PersistentClient(path=path, settings=settings)
            except ValueError as e:
                if "already exists" not in str(e):
                    raise SemsearchError(f"cannot open the vector store at {path}: {e}") from e
                # this process already opened the store with other settings: share them
                self.client = chromadb.PersistentClient(path=path, settings=_settings_of(path))
        self.max_batch = int(self.client.get_max_batch_size())
        self._cache: dict[str, Any] = {}

    @staticmethod
    def name(collection: str, space: str) -> str:
        return f"{collection}.{space}"

    def get(
        self, collection: str, space: str, create: bool = False, models: ModelSpec | None = None
    ) -> Any:
        """The Chroma collection of one space; created (cosine, with semsearch's registered
        embedding function in its configuration) when ``create`` and ``models`` are given."""
        key = self.name(collection, space)
        if key in self._cache:
            return self._cache[key]
        try:
            if create and models is not None:
                from .chroma import embedding_function

                ef = embedding_function(space, models)
                col = self.client.get_or_create_collection(
                    key,
                    configuration={"hnsw": HNSW, "embedding_function": ef},  # type: ignore[arg-type,typeddict-item]
                    metadata={"semsearch:collection": collection, "semsearch:space": space},
                )
            else:
                col = self.client.get_collection(key, embedding_function=None)
        except Exception as e:
            if not create and "does not exist" in str(e).lower():
                return None
            raise SemsearchError(f"vector store error on {key}: {e}") from e
        self._cache[key] = col
        return col

    def drop(self, collection: str) -> None:
        for space in SPACES:
            key = self.name(collection, space)
            self._cache.pop(key, None)
            with contextlib.suppress(Exception):
                self.client.delete_collection(key)

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

    def delete(self, col: Any, ids: Sequence[str]) -> None:
        ids = list(ids)
        for i in range(0, len(ids), self.max_batch):
            col.delete(ids=ids[i : i + self.max_batch])

    def vectors(self, col: Any, ids: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        ids = list(ids)
        for i in range(0, len(ids), self.max_batch):
            got = col.get(ids=ids[i : i + self.max_batch], include=["embeddings"])
            for cid, vec in zip(got["ids"], got["embeddings"], strict=True):
                out[cid] = np.asarray(vec, dtype=np.float32)
        return out

    def query(
        self, col: Any, vector: np.ndarray, n: int, where: dict[str, Any] | None
    ) -> list[Match]:
        count = col.count()
        if count == 0 or n <= 0:
            return []
        res = col.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=min(n, count),
            where=where or None,
            include=["distances", "metadatas", "documents"],
        )
        docs = (res.get("documents") or [[None] * len(res["ids"][0])])[0]
        return [
            Match(cid, float(dist), dict(meta or {}), doc)
            for cid, dist, meta, doc in zip(
                res["ids"][0], res["distances"][0], res["metadatas"][0], docs, strict=True
            )
        ]

"""A data directory: the catalog, the vector store and the lexical indexes, with their locks.

Built once per :class:`semsearch.Library`; ingest and search receive it (with the models) rather
than reaching for globals.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import StoreLocked
from .catalog import Catalog
from .home import resolve_home
from .lexical import LexicalIndex
from .locking import WriteLock, WritersLock

if TYPE_CHECKING:
    from .vectors import Store


class DataDir:
    def __init__(
        self,
        home: str | os.PathLike[str] | None = None,
        chroma_url: str | None = None,
        wait: bool = True,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.home = resolve_home(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.chroma_url = chroma_url or os.environ.get("SEMSEARCH_CHROMA_URL") or None
        self.catalog = Catalog(self.home / "catalog.sqlite")
        self.wait = wait
        self.on_wait = on_wait
        self._store: Store | None = None
        self._writers: WritersLock | None = None
        self._lexical: dict[str, LexicalIndex] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.catalog.close()

    @property
    def store(self) -> Store:
        if self._store is None:
            from .vectors import Store

            with self._lock:
                if self._store is None:
                    self._store = Store(self.home, self.chroma_url, wait=self.wait,
                                        on_wait=self.on_wait)
        return self._store

    def has_store(self) -> bool:
        """Whether a vector store exists yet (opening Chroma is not free)."""
        return bool(self.chroma_url) or (self.home / "chroma" / "chroma.sqlite3").exists()

    # locks -----------------------------------------------------------------------------------
    def write_lock(self) -> contextlib.AbstractContextManager[Any]:
        """Embedded store: one writer at a time (waits, or fails with ``wait=False``).
        Server mode: writers run at once; the server orders their writes."""
        if self.chroma_url:
            if self._writers is None:
                self._writers = WritersLock(self.home)
            return self._writers
        return WriteLock(self.home, wait=self.wait, on_wait=self.on_wait)

    def sole_writer(self) -> contextlib.AbstractContextManager[bool]:
        """Inside :meth:`write_lock`: True if no other writer shares this catalog now (always
        for the embedded store); the others wait for the block to end."""
        if self.chroma_url and self._writers is not None:
            return self._writers.alone()
        return contextlib.nullcontext(True)

    # counts ----------------------------------------------------------------------------------
    def item_counts(self, name: str) -> dict[str, int]:
        """Items per modality: the catalog's, or the vector store's in server mode (other
        clients write there too) and for a collection this catalog holds no items of."""
        counts = self.catalog.counts(name)
        if self.chroma_url or (not counts and self.has_store()):
            with contextlib.suppress(StoreLocked):
                counts = self.store.counts(name)
        return counts

    # the lexical index -----------------------------------------------------------------------
    def lexical(self, name: str) -> LexicalIndex:
        with self._lock:
            if name not in self._lexical:
                self._lexical[name] = LexicalIndex(self.home / "lexical" / name)
            return self._lexical[name]

    def forget_lexical(self, name: str) -> None:
        with self._lock:
            index = self._lexical.pop(name, None)
        if index is not None:
            index.remove()
        else:
            LexicalIndex(self.home / "lexical" / name).remove()

    def rebuild_lexical(self, name: str) -> int:
        """Re-read every text chunk from the store into the BM25 index; returns its size."""
        ids: list[str] = []
        docs: list[str] = []
        for page_ids, page_docs in self.store.documents(name, "text"):
            ids += page_ids
            docs += page_docs
        self.lexical(name).rebuild(ids, docs)
        return len(ids)

    def fresh_lexical(self, name: str) -> LexicalIndex:
        """The BM25 index, rebuilt first when it is stale (after a crash, or written by
        another client)."""
        index = self.lexical(name)
        if index.dirty or index.size() != self.store.count(name, "text"):
            self.rebuild_lexical(name)
        return index

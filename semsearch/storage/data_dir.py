"""A data directory: the catalog, the vector store and the lexical indexes, with their locks.

Built once per :class:`semsearch.Library`; ingest and search receive it (with the models) rather
than reaching for globals.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import StoreLocked
from . import value_index, word_stats
from .catalog import Catalog
from .changes import ChangeLog
from .home import resolve_home
from .lexical import LexicalIndex
from .locking import WriteLock, WritersLock
from .vector_schema import usable

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    import numpy as np

    from .vector_index import VectorIndex
    from .vectors import Store

#: a vector index built from at least this many of the store's chunks says how far it is
PROGRESS_FROM = 50_000


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
        self._lock = threading.Lock()
        self._cache: dict[tuple[Any, ...], tuple[Any, Any]] = {}
        self.changes = ChangeLog(self.catalog.db, self.catalog.transaction, self.home)
        self._vectors: dict[str, VectorIndex] = {}

    def close(self) -> None:
        self.catalog.close()

    @property
    def store(self) -> Store:
        if self._store is None:
            from .vectors import Store

            with self._lock:
                if self._store is None:
                    self._store = Store(self.home, self.chroma_url, wait=self.wait,
                                        on_wait=self.on_wait, changes=self.changes)
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

    # derived values ----------------------------------------------------------------------------
    def cached(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        """``make()``, remembered until this process sees the store change (a write here, a
        reopen after another process's write; a minute at most in server mode)."""
        stamp = (self.store.version, int(time.monotonic() // 60) if self.chroma_url else 0)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == stamp:
                return hit[1]
        value = make()
        with self._lock:
            self._cache[key] = (stamp, value)
        return value

    # counts ----------------------------------------------------------------------------------
    def item_counts(self, name: str) -> dict[str, int]:
        """Items per modality: the catalog's, or the vector store's in server mode (other
        clients write there too) and for a collection this catalog holds no items of."""
        counts = self.catalog.counts(name)
        if self.chroma_url or (not counts and self.has_store()):
            with contextlib.suppress(StoreLocked):
                counts = self.store.counts(name)
        return counts

    # the vector index -------------------------------------------------------------------------
    def _index(self, name: str) -> VectorIndex:
        """(The vector index modules, and numpy, load here: a command that opens no index,
        such as ``info`` or a lexical search, never loads them.)"""
        from .vector_index import VectorIndex

        index = self._vectors.get(name)
        if index is None:
            index = self._vectors.setdefault(name, VectorIndex(
                self.catalog.db, self.home, name, self.catalog.lock))
        return index

    def vector_index(self, name: str) -> VectorIndex | None:
        """The collection's memory-mapped text vectors, where queries may use them (embedded
        store, an index built, ``SEMSEARCH_VECTOR_INDEX`` not 0); None sends them to Chroma."""
        if self.chroma_url or not usable():
            return None
        index = self._index(name)
        return index if index.state() is not None else None

    def text_index(self, name: str) -> str:
        """What answers a text query's dense side, in words (``semsearch info``)."""
        if self.chroma_url:
            return "the server's (Chroma HNSW)"
        index = self._index(name)
        if index.state() is None:
            return "the store's (Chroma HNSW, loaded whole); a vector index is built at the " \
                "next ingest that changes something"
        waiting, size = index.delta_rows(), index.size()
        return f"vector index, {size:,} chunk{'s' if size != 1 else ''}" + (
            f" ({waiting:,} not yet in its memory-mapped file)" if waiting
            else " (memory-mapped)") + (
            "" if usable() else "; not used (SEMSEARCH_VECTOR_INDEX=0)")

    def fresh_vectors(self, name: str) -> None:
        """Before an ingest's writes (under the write lock): give an embedded collection whose
        every text row the lexical index holds a vector index, if it has none (or its file is
        damaged): empty for an empty text space, else built from the store's vectors, once."""
        from .vector_files import VectorFiles
        from .vector_index import create, forget

        index = self._index(name)
        files = VectorFiles(index, self.catalog.transaction)
        if index.state() is not None and not files.readable():
            with self.catalog.transaction() as db:
                forget(db, name)
        if self.chroma_url or index.state() is not None:
            return
        lexical = self.lexical(name)
        if not self.catalog.has_lexical(name) or not lexical.filterable():
            return
        count = self.store.count(name, "text")
        if count != lexical.size():
            return  # rows the lexical index lacks (plain Chroma's): the store answers
        if count == 0:
            with self.catalog.transaction() as db:
                create(db, name)
            return
        row = self.catalog.collection(name)
        if row is None or not row.text_dim:
            return
        if self.on_wait is not None:
            self.on_wait(f"building the vector index of {name!r} for fast text queries "
                         f"({count:,} chunks, once)")
        files.build(int(row.text_dim), self._progress(name, count, (
            (rows.ids, rows.embeddings) for rows in self.store.scan(name, "text"))))
        index.close()

    def _progress(self, name: str, total: int, pages: Iterable[tuple[list[str], np.ndarray]]
                  ) -> Iterator[tuple[list[str], np.ndarray]]:
        """``pages``, saying every tenth of a long build how far it is (a graph of 1M chunks
        takes most of an hour on 2 cores)."""
        done, said, started = 0, 0, time.monotonic()
        for page in pages:
            yield page
            done += len(page[0])
            if self.on_wait is not None and total >= PROGRESS_FROM and \
                    (done - said) * 10 >= total:
                said = done
                self.on_wait(f"  vector index of {name!r}: {done:,} of {total:,} chunks "
                             f"({time.monotonic() - started:.0f} s)")

    def merge_vectors(self, name: str) -> None:
        """After an ingest's writes (under the write lock): fold the vector index's recent
        rows into a new file once they are many. A failure (a full disk) is said and
        leaves the index as it was, to be tried again at the next ingest."""
        if self.chroma_url:
            return
        from .vector_files import VectorFiles

        try:
            VectorFiles(self._index(name), self.catalog.transaction).merge()
        except (OSError, RuntimeError, ValueError) as e:
            if self.on_wait is not None:
                self.on_wait(f"could not merge the vector index of {name!r} ({e}); "
                             "the next ingest tries again")

    # the lexical index -----------------------------------------------------------------------
    def lexical(self, name: str) -> LexicalIndex:
        return self.catalog.lexical(name)

    def filter_fields(self) -> list[str]:
        """The metadata fields with a value index here (``semsearch info``)."""
        return value_index.fields(self.catalog.db)

    def narrowing(self, name: str, where: dict[str, Any] | None,
                  lexical: LexicalIndex) -> value_index.Narrow | None:
        """SQL that value indexes serve, met by every chunk passing ``where`` (the indexes
        its fields need are made here for a large collection): :mod:`.value_index`."""
        if not where or not lexical.filterable():
            return None
        return value_index.narrowing(self.catalog.db, name, where, lexical.size(),
                                     self.catalog.transaction, self.on_wait)

    def forget_lexical(self, name: str) -> None:
        with self.catalog.transaction() as db:
            self.lexical(name).drop(db)
        self.catalog.remove_vector_files(name)
        shutil.rmtree(self.home / "lexical" / name, ignore_errors=True)  # before version 3

    def rebuild_lexical(self, name: str) -> int:
        """Index every text chunk the store holds anew; returns the index's size. For
        collections whose rows this catalog did not write (server mode, plain Chroma). In
        server mode the change log's heads are noted first: later changes are applied from
        there (:meth:`fresh_lexical`)."""
        index = self.lexical(name)
        log = self.store.change_log(name) if self.chroma_url else None
        heads = self.changes.heads(log) if log is not None else None
        epoch = self.store.ident(name, "text")
        with self.store.reading(), self.catalog.transaction() as db:
            index.drop(db)
            for ids, docs, metas in self.store.documents(name, "text"):
                index.put(db, zip(ids, docs, metas, strict=True))
            if heads is not None and epoch is not None:
                self.changes.save_marks(db, name, epoch, heads)
        shutil.rmtree(self.home / "lexical" / name, ignore_errors=True)  # before version 3
        self.changes.chunks_read += index.size()
        return index.size()

    def fresh_lexical(self, name: str) -> LexicalIndex:
        """The BM25 index. The catalog's own items are indexed as they are recorded. In
        server mode, other writers' changes are applied from the server's change log
        (:mod:`.changes`: only the chunks changed since the last sync are read). Rows no log
        covers (plain Chroma, a catalog from before the index moved into it) are indexed from
        the store when the sizes differ."""
        index = self.lexical(name)
        own = not self.chroma_url and self.catalog.has_lexical(name)
        if self.chroma_url and self._follow_log(name, index):
            pass
        elif not own and index.size() != self.store.count(name, "text"):
            self.rebuild_lexical(name)
        if not index.filterable():
            self._fill_metadata(name, index)
        return index

    def measure_words(self, name: str) -> None:
        """After an ingest (under the write lock): keep a large collection's word statistics
        (:mod:`.word_stats`), measured once it has enough chunks, and again when they no
        longer count what the index holds or its texts have grown longer."""
        index = self.lexical(name)
        table = index.table()
        if table is not None:
            word_stats.ensure(self.catalog.db, int(table[4:]), name, index.size(),
                              self.catalog.transaction, self.on_wait)

    def _follow_log(self, name: str, index: LexicalIndex) -> bool:
        """Apply the change log's records since the last sync; False when there is none."""
        log = self.store.change_log(name)
        epoch = self.store.ident(name, "text")
        if log is None or epoch is None:
            return False
        marks = self.changes.marks(name, epoch)
        if marks is None:  # never synced here, or the collection was made anew
            self.rebuild_lexical(name)
            return True
        ids, after = self.changes.since(log, marks)
        if self.changes.behind(log, marks):  # records it needed were compacted away
            self.rebuild_lexical(name)
            return True
        if after == marks:
            return True
        rows = self.store.fetch(name, "text", sorted(ids)) if ids else {}
        self.changes.chunks_read += len(ids)
        with self.catalog.transaction() as db:
            index.remove(db, [c for c in ids if not (rows.get(c) or ({}, None))[1]])
            index.put(db, [(c, doc, meta) for c, (meta, doc, _) in rows.items() if doc])
            self.changes.save_marks(db, name, epoch, after)
        return True

    def _fill_metadata(self, name: str, index: LexicalIndex) -> None:
        """A lexical index from before schema 4: read its rows' metadata from the store once,
        so filters run in SQL (until then they are checked in the store)."""
        if self.on_wait is not None:
            self.on_wait(f"indexing the metadata of {name!r} for filtered lexical search "
                         f"({index.size()} chunks, once after an upgrade)")
        with self.store.reading(), self.catalog.transaction() as db:
            index.fill_metadata(db, ((ids, metas) for ids, _, metas in
                                     self.store.documents(name, "text", texts=False)))

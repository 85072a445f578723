"""The change log of a collection on a Chroma server: which text chunks each writer changed,
so that every client keeps its own lexical index (:mod:`.lexical`) in step by reading only
those chunks, never the corpus.

Design (the simplest that stays correct with any number of writers, on any Chroma server,
single-node or distributed): beside ``NAME.text`` the server holds ``NAME.changes``, a small
Chroma collection of change records. Every data directory that writes is a *writer* (a random
id kept in its catalog) with its own sequence number. After each write to the text space
(upsert or delete), the writer appends one record ``{writer, seq}`` whose document lists the
chunk ids it touched. A home's appends are serialised by a file lock held from taking the
number to writing the record, so one writer's records land in order (a number taken by a run
killed before it wrote is a harmless gap).

A reader keeps, per collection, the highest number it applied of each writer
(``change_marks``), and syncs with one ``get``: the records above those marks, or of writers it
has not met. For each chunk id they list it reads the chunk's current document and metadata:
present, it is indexed; absent, it is removed. Applying by the store's current state makes the
order of records irrelevant and a replay harmless; records are written after the rows, so a
record seen means its rows are readable. A reader's own records are skipped (its catalog
indexed them in the same transaction as its items). A client that has never synced a
collection (or finds it re-created: its Chroma id, the *epoch*, changed) reads it once in
full, after noting every writer's last number, so nothing written meanwhile is missed.

The log stays bounded: a record per ingest flush or removal is a few hundred bytes, and each
writer keeps its last :data:`KEEP` records. Every :data:`COMPACT_EVERY` records it first
writes its *floor* (a record ``{writer, seq: 0, floor: N}``: its records up to N are gone;
seq 0 keeps it harmless to clients that predate floors), then deletes those. A reader whose
mark for a writer is below that writer's floor (it checks after reading the records, so a
deletion during its read is seen too) cannot know what it missed: it reads the collection
anew, as a client that never synced does. (A client from before floors cannot tell: it
misses what was deleted before it read it.)
Writes made outside semsearch (plain Chroma code) are not logged; ``Collection.
rebuild_lexical`` reads a collection anew.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS change_writer(
    one INTEGER PRIMARY KEY CHECK (one = 1), writer TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS change_marks(
    collection TEXT NOT NULL, epoch TEXT NOT NULL, writer TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY(collection, writer));
"""
SUFFIX = "changes"
_PAGE = 1000
#: records each writer keeps; older ones are deleted every COMPACT_EVERY records it writes
KEEP = 1000
COMPACT_EVERY = 100


def log_name(collection: str) -> str:
    return f"{collection}.{SUFFIX}"


class ChangeLog:
    """One data directory's side of the change logs: its writer id and sequence (in its
    catalog), its marks, and how many chunks its syncs have read (``chunks_read``)."""

    def __init__(self, db: Any, transaction: Callable[[], Any], home: Path) -> None:
        self.db = db
        self.transaction = transaction
        self.lock_path = home / "changes.lock"
        self.chunks_read = 0

    # writing -----------------------------------------------------------------------------
    def writer(self) -> str | None:
        row = self.db.execute("SELECT writer FROM change_writer").fetchone()
        return str(row[0]) if row else None

    def _next(self) -> tuple[str, int]:
        with self.transaction() as db:
            row = db.execute("SELECT writer, seq FROM change_writer").fetchone()
            writer, seq = (str(row[0]), int(row[1]) + 1) if row else (uuid.uuid4().hex, 1)
            db.execute("INSERT OR REPLACE INTO change_writer(one, writer, seq) VALUES (1,?,?)",
                       (writer, seq))
        return writer, seq

    def record(self, client: Any, collection: str, ids: Sequence[str]) -> None:
        """After writing ``ids`` to (or deleting them from) the text space: one record."""
        if not ids:
            return
        from filelock import FileLock

        with FileLock(str(self.lock_path)):
            writer, seq = self._next()
            log = client.get_or_create_collection(
                log_name(collection), embedding_function=None,
                metadata={"semsearch:collection": collection, "semsearch:space": SUFFIX})
            log.add(ids=[f"{writer}:{seq}"], embeddings=[[1.0]],
                    metadatas=[{"writer": writer, "seq": seq}], documents=[json.dumps(list(ids))])
            if seq % COMPACT_EVERY == 0 and seq > KEEP:
                self._compact(log, writer, seq - KEEP)

    @staticmethod
    def _compact(log: Any, writer: str, floor: int) -> None:
        """Delete this writer's records up to ``floor``, after saying so (the floor first: a
        reader that misses a record also sees why)."""
        log.upsert(ids=[f"{writer}:floor"], embeddings=[[1.0]],
                   metadatas=[{"writer": writer, "seq": 0, "floor": floor}], documents=["[]"])
        log.delete(where={"$and": [{"writer": writer}, {"seq": {"$gt": 0}},
                                   {"seq": {"$lte": floor}}]})

    # reading -----------------------------------------------------------------------------
    def marks(self, collection: str, epoch: str) -> dict[str, int] | None:
        """Writer -> last number applied; None when this collection (of this epoch) was never
        synced here."""
        rows = self.db.execute("SELECT epoch, writer, seq FROM change_marks WHERE collection=?",
                               (collection,)).fetchall()
        if not rows or any(r[0] != epoch for r in rows):
            return None
        return {str(w): int(s) for _, w, s in rows if w}

    def save_marks(self, db: Any, collection: str, epoch: str, marks: dict[str, int]) -> None:
        """Inside the transaction that applied them ('' marks a collection synced once)."""
        db.execute("DELETE FROM change_marks WHERE collection=? AND epoch<>?", (collection, epoch))
        db.executemany(
            "INSERT OR REPLACE INTO change_marks(collection, epoch, writer, seq) VALUES (?,?,?,?)",
            [(collection, epoch, w, s) for w, s in {"": 0, **marks}.items()])

    def heads(self, log: Any) -> dict[str, int]:
        """Every writer's last number in the log."""
        out: dict[str, int] = {}
        for metas, _ in _pages(log, None, ["metadatas"]):
            for m in metas:
                w, s = str(m["writer"]), int(m["seq"])  # a floor is seq 0
                out[w] = max(out.get(w, 0), s)
        return out

    def behind(self, log: Any, marks: dict[str, int]) -> bool:
        """Whether another writer deleted records above these marks (its floor is higher):
        the collection must then be read anew."""
        own = self.writer()
        got = log.get(where={"floor": {"$gt": 0}}, include=["metadatas"])
        return any(str(m["writer"]) != own and marks.get(str(m["writer"]), 0) < int(m["floor"])
                   for m in got.get("metadatas") or [])

    def since(self, log: Any, marks: dict[str, int]) -> tuple[set[str], dict[str, int]]:
        """The chunk ids listed by records above ``marks`` (this writer's own skipped), and
        the marks after them."""
        own = self.writer()
        known = sorted({*marks, *([own] if own else [])})
        clauses: list[dict[str, Any]] = [{"$and": [{"writer": w}, {"seq": {"$gt": s}}]}
                                         for w, s in marks.items() if w != own]
        if known:
            clauses.append({"writer": {"$nin": known}})
        where = None if not clauses else clauses[0] if len(clauses) == 1 else {"$or": clauses}
        ids: set[str] = set()
        after = dict(marks)
        for metas, docs in _pages(log, where, ["metadatas", "documents"]):
            for m, doc in zip(metas, docs, strict=True):  # a floor: seq 0, no ids
                w, s = str(m["writer"]), int(m["seq"])
                after[w] = max(after.get(w, 0), s)
                ids.update(json.loads(doc or "[]"))
        return ids, after


def _pages(log: Any, where: dict[str, Any] | None, include: list[str]
           ) -> Any:
    offset = 0
    while True:
        got = log.get(where=where, include=include, limit=_PAGE, offset=offset)
        if not got["ids"]:
            return
        yield got.get("metadatas") or [], got.get("documents") or [None] * len(got["ids"])
        if len(got["ids"]) < _PAGE:
            return
        offset += _PAGE

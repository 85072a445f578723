"""The catalog: which collections exist, with which models, and what each file contributed.

SQLite beside the vector store. Vectors are written to Chroma first, then the catalog row is
committed, so a crash leaves the catalog behind the store, never ahead of it: the next run
redoes that work with the same ids (an upsert, no duplicates). Items written but never
recorded are listed in ``pending`` first, so their vectors can be cleaned up if their file
is gone by the next run.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CatalogError
from ..types import ModelSpec
from .catalog_db import Guarded, catalog_trouble
from .catalog_profiles import ProfileRows
from .changes import SCHEMA as CHANGES_SCHEMA
from .lexical import SCHEMA as LEXICAL_SCHEMA
from .lexical import LexicalIndex
from .vector_schema import SCHEMA as VECTOR_SCHEMA

#: ``PRAGMA user_version`` of a current catalog; older ones are migrated when opened
SCHEMA_VERSION = 7

SCHEMA = """
CREATE TABLE IF NOT EXISTS collections(
    name TEXT PRIMARY KEY, text_model TEXT NOT NULL, clip_model TEXT, clip_pretrained TEXT,
    text_dim INTEGER, clip_dim INTEGER, created TEXT NOT NULL,
    text_backend TEXT NOT NULL DEFAULT 'sentence-transformers',
    clip_backend TEXT NOT NULL DEFAULT 'open-clip');
CREATE TABLE IF NOT EXISTS files(
    collection TEXT NOT NULL, path TEXT NOT NULL, size INTEGER, mtime_ns INTEGER,
    sha256 TEXT, kind TEXT, options TEXT, spaces TEXT, PRIMARY KEY(collection, path));
CREATE TABLE IF NOT EXISTS items(
    collection TEXT NOT NULL, item_id TEXT NOT NULL, path TEXT NOT NULL,
    content_key TEXT NOT NULL, modality TEXT NOT NULL, text_chunks INTEGER NOT NULL,
    clip_chunks INTEGER NOT NULL, PRIMARY KEY(collection, item_id));
CREATE INDEX IF NOT EXISTS items_by_key ON items(collection, content_key);
CREATE INDEX IF NOT EXISTS items_by_path ON items(collection, path);
CREATE TABLE IF NOT EXISTS pending(
    collection TEXT NOT NULL, item_id TEXT NOT NULL, text_chunks INTEGER NOT NULL,
    clip_chunks INTEGER NOT NULL, PRIMARY KEY(collection, item_id));
CREATE TABLE IF NOT EXISTS profiles(
    collection TEXT NOT NULL, profile TEXT NOT NULL, kind TEXT NOT NULL, ref TEXT NOT NULL,
    polarity TEXT NOT NULL, added TEXT NOT NULL,
    PRIMARY KEY(collection, profile, kind, ref));
"""

#: version -> statements that bring a catalog of the version before up to it
MIGRATIONS: dict[int, list[str]] = {
    # version 1 (no user_version set): collections had no backend columns
    2: [
        "ALTER TABLE collections ADD COLUMN text_backend TEXT NOT NULL "
        "DEFAULT 'sentence-transformers'",
        "ALTER TABLE collections ADD COLUMN clip_backend TEXT NOT NULL DEFAULT 'open-clip'",
    ],
    # version 3: the lexical index moved into the catalog (FTS5); it is filled from the
    # store on first use (DataDir.fresh_lexical)
    3: [],
    # version 4: lexical rows keep their chunk's metadata (filters run in SQL); tables from
    # before are filled in from the store on first use (DataDir.fresh_lexical)
    4: ["ALTER TABLE lexical_tables ADD COLUMN filters INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE lexical_ids ADD COLUMN meta TEXT"],
    5: [],  # version 5: the vector index (vector_index.py), built at a collection's next ingest
    6: ["ALTER TABLE lexical_tables ADD COLUMN word_stats TEXT"],  # word_stats.py
    7: [],  # version 7: the words' lists (postings.py), made at a large collection's next ingest
}


@dataclass
class CollectionRow:
    name: str
    models: ModelSpec
    text_dim: int | None
    clip_dim: int | None
    created: str


@dataclass
class FileRow:
    path: str
    size: int
    mtime_ns: int
    sha256: str
    kind: str
    options: str
    spaces: str


@dataclass
class ItemRow:
    item_id: str
    path: str
    content_key: str
    modality: str
    text_chunks: int
    clip_chunks: int


class Catalog(ProfileRows):
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # one connection shared by the threads of a process (the TUI searches and ingests
        # in worker threads); sqlite3 is built serialized, transactions take _tx
        try:
            conn = sqlite3.connect(str(path), timeout=60, isolation_level=None,
                                   check_same_thread=False)
        except sqlite3.Error as e:
            raise catalog_trouble(e, path) from e
        self.db: Any = Guarded(conn, path)
        self._tx = threading.RLock()
        self._side: Any = None
        self._side_lock = threading.Lock()
        self._closed = False
        self._set_up(path)

    def _set_up(self, path: Path, patience: float = 60.0) -> None:
        """WAL mode and the schema. Processes creating one catalog at the same moment can get
        'database is locked' at once (SQLite's busy handler does not cover this): retry."""
        deadline = time.monotonic() + patience
        delay = 0.05
        while True:
            try:
                mode = self.db.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() != "wal":
                    self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self._migrate()
                return
            except (sqlite3.DatabaseError, CatalogError) as e:
                if "locked" not in str(e) and "busy" not in str(e):
                    if isinstance(e, CatalogError):
                        raise
                    raise CatalogError(f"cannot open the catalog {path}: {e}") from e
                if time.monotonic() > deadline:
                    raise CatalogError(f"the catalog {path} stayed locked: {e}") from e
                time.sleep(delay)
                delay = min(1.0, delay * 2)

    def _migrate(self) -> None:
        """Create the tables, or bring an older catalog up to :data:`SCHEMA_VERSION`."""
        with self._tx:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
                existing = {r[0] for r in self.db.execute(
                    "SELECT name FROM sqlite_master WHERE type='table'")}
                if version == 0 and "collections" in existing:
                    version = 1  # written before the catalog had a version
                if version > SCHEMA_VERSION:
                    raise CatalogError(
                        f"the catalog was written by a newer semsearch (schema {version}, this "
                        f"one knows {SCHEMA_VERSION}); upgrade semsearch")
                if version >= 1:
                    for target in range(version + 1, SCHEMA_VERSION + 1):
                        for statement in MIGRATIONS.get(target, []):  # (tables made below)
                            if statement.split()[2] in existing:  # ALTER TABLE x ...
                                self.db.execute(statement)
                tables = SCHEMA + LEXICAL_SCHEMA + CHANGES_SCHEMA + VECTOR_SCHEMA
                for statement in tables.split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        with self._side_lock:
            self._closed = True
            if self._side is not None:  # (a read still running on it ends with an error
                self._side.close()      # nobody waits for)
                self._side = None
        self.db.close()

    def side(self) -> Any:
        """A second connection, for reads made in a thread beside the main one's (a query's
        BM25 read-ahead): SQLite runs one statement at a time on a connection, so on the
        shared one the two would take turns. Opened on first use; it sees what is
        committed."""
        with self._side_lock:
            if self._closed:
                raise CatalogError(f"the catalog {self.path} is closed")
            if self._side is None:
                try:
                    self._side = Guarded(sqlite3.connect(
                        str(self.path), timeout=60, isolation_level=None,
                        check_same_thread=False), self.path)
                except sqlite3.Error as e:
                    raise catalog_trouble(e, self.path) from e
            return self._side

    @property
    def lock(self) -> threading.RLock:
        """Held by every transaction: a reader of this connection holding it sees none
        half-done (the process's threads share the connection)."""
        return self._tx

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self._tx:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    # collections ---------------------------------------------------------------------------
    def collection(self, name: str) -> CollectionRow | None:
        row = self.db.execute(
            "SELECT name, text_model, clip_model, clip_pretrained, text_dim, clip_dim, created, "
            "text_backend, clip_backend FROM collections WHERE name=?",
            (name,),
        ).fetchone()
        if row is None:
            return None
        spec = ModelSpec(row[1], row[2], row[3], row[7], row[8])
        return CollectionRow(row[0], spec, row[4], row[5], row[6])

    def collections(self) -> list[CollectionRow]:
        names = [r[0] for r in self.db.execute("SELECT name FROM collections ORDER BY name")]
        return [c for n in names if (c := self.collection(n)) is not None]

    def create_collection(self, name: str, models: ModelSpec) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO collections(name, text_model, clip_model, clip_pretrained, "
            "created, text_backend, clip_backend) VALUES (?,?,?,?,?,?,?)",
            (name, models.text_model, models.clip_model, models.clip_pretrained,
             time.strftime("%Y-%m-%dT%H:%M:%S"), models.text_backend, models.clip_backend),
        )

    def set_models(self, name: str, models: ModelSpec) -> None:
        self.db.execute(
            "UPDATE collections SET text_model=?, clip_model=?, clip_pretrained=?, text_dim=NULL,"
            " clip_dim=NULL, text_backend=?, clip_backend=? WHERE name=?",
            (models.text_model, models.clip_model, models.clip_pretrained, models.text_backend,
             models.clip_backend, name),
        )

    def set_dim(self, name: str, space: str, dim: int) -> None:
        column = "text_dim" if space == "text" else "clip_dim"
        self.db.execute(f"UPDATE collections SET {column}=? WHERE name=?", (dim, name))

    def has_lexical(self, name: str) -> bool:
        """Whether this catalog indexes the collection's texts itself (it wrote them)."""
        return self.db.execute("SELECT 1 FROM lexical_tables WHERE collection=?",
                               (name,)).fetchone() is not None or self.db.execute(
            "SELECT 1 FROM collections WHERE name=? AND NOT EXISTS (SELECT 1 FROM items WHERE "
            "collection=? AND text_chunks > 0)", (name, name)).fetchone() is not None

    def lexical(self, name: str, side: bool = False) -> LexicalIndex:
        """The BM25 index of a collection (kept in this database); ``side``: read on the
        second connection (:meth:`side`)."""
        return LexicalIndex(self.side() if side else self.db, name)

    def drop_collection(self, name: str) -> None:
        with self.transaction() as db:
            self.lexical(name).drop(db)
            for table in ("files", "items", "pending", "profiles"):
                db.execute(f"DELETE FROM {table} WHERE collection=?", (name,))
            db.execute("DELETE FROM collections WHERE name=?", (name,))
        self.remove_vector_files(name)

    def clear_contents(self, name: str) -> None:
        with self.transaction() as db:
            self.lexical(name).drop(db)
            for table in ("files", "items", "pending"):
                db.execute(f"DELETE FROM {table} WHERE collection=?", (name,))
        self.remove_vector_files(name)

    def remove_vector_files(self, name: str) -> None:
        """The vector index's files of a collection (after its rows are gone)."""
        from .vector_files import remove_files  # (numpy: not loaded by opening the catalog)

        remove_files(self.path.parent, name)

    # files ---------------------------------------------------------------------------------
    def files(self, name: str) -> dict[str, FileRow]:
        rows = self.db.execute(
            "SELECT path, size, mtime_ns, sha256, kind, options, spaces FROM files "
            "WHERE collection=?",
            (name,),
        )
        return {r[0]: FileRow(*r) for r in rows}

    def file_count(self, name: str) -> int:
        return int(
            self.db.execute("SELECT count(*) FROM files WHERE collection=?", (name,)).fetchone()[0]
        )

    # items ---------------------------------------------------------------------------------
    def items_of(self, name: str, path: str) -> list[ItemRow]:
        rows = self.db.execute(
            "SELECT item_id, path, content_key, modality, text_chunks, clip_chunks FROM items "
            "WHERE collection=? AND path=?",
            (name, path),
        )
        return [ItemRow(*r) for r in rows]

    def item(self, name: str, item_id: str) -> ItemRow | None:
        r = self.db.execute(
            "SELECT item_id, path, content_key, modality, text_chunks, clip_chunks FROM items "
            "WHERE collection=? AND item_id=?",
            (name, item_id),
        ).fetchone()
        return ItemRow(*r) if r else None

    def _items_where(self, name: str, column: str, values: Iterable[str]) -> list[ItemRow]:
        """Items whose ``column`` is one of ``values`` (queried 500 at a time)."""
        rows: list[ItemRow] = []
        unique = list(set(values))
        for i in range(0, len(unique), 500):
            part = unique[i : i + 500]
            marks = ",".join("?" * len(part))
            rows += [ItemRow(*r) for r in self.db.execute(
                "SELECT item_id, path, content_key, modality, text_chunks, clip_chunks FROM items"
                f" WHERE collection=? AND {column} IN ({marks})",
                (name, *part),
            )]
        return rows

    def items_by_ids(self, name: str, item_ids: Iterable[str]) -> dict[str, ItemRow]:
        return {r.item_id: r for r in self._items_where(name, "item_id", item_ids)}

    def items_by_key(self, name: str, keys: Iterable[str]) -> dict[str, ItemRow]:
        """One item (any) for each content key that is in the collection."""
        found: dict[str, ItemRow] = {}
        for r in self._items_where(name, "content_key", keys):
            found.setdefault(r.content_key, r)
        return found

    def counts(self, name: str) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT modality, count(*) FROM items WHERE collection=? GROUP BY modality", (name,)
        )
        return {m: int(n) for m, n in rows}

    def pending(self, name: str) -> list[ItemRow]:
        rows = self.db.execute(
            "SELECT item_id, text_chunks, clip_chunks FROM pending WHERE collection=?", (name,)
        )
        return [ItemRow(r[0], "", "", "", r[1], r[2]) for r in rows]

    def add_pending(self, name: str, rows: list[tuple[str, int, int]]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO pending(collection, item_id, text_chunks, clip_chunks) "
                "VALUES (?,?,?,?)",
                [(name, *r) for r in rows],
            )

    def clear_pending(self, name: str, item_ids: Iterable[str]) -> None:
        with self.transaction() as db:
            db.executemany(
                "DELETE FROM pending WHERE collection=? AND item_id=?",
                [(name, i) for i in item_ids],
            )

    def record_items(self, db: sqlite3.Connection, name: str, items: list[ItemRow]) -> None:
        """Inside a transaction: items whose vectors are written (their file may follow)."""
        db.executemany(
            "INSERT OR REPLACE INTO items(collection, item_id, path, content_key, modality, "
            "text_chunks, clip_chunks) VALUES (?,?,?,?,?,?,?)",
            [(name, i.item_id, i.path, i.content_key, i.modality, i.text_chunks, i.clip_chunks)
             for i in items],
        )
        db.executemany(
            "DELETE FROM pending WHERE collection=? AND item_id=?",
            [(name, i.item_id) for i in items],
        )

    def record_file(
        self, db: sqlite3.Connection, name: str, row: FileRow, item_ids: list[str]
    ) -> None:
        """Inside a transaction: a file's row; its items are exactly ``item_ids`` now."""
        keep = set(item_ids)
        old = [r[0] for r in db.execute(
            "SELECT item_id FROM items WHERE collection=? AND path=?", (name, row.path))]
        db.executemany(
            "DELETE FROM items WHERE collection=? AND item_id=?",
            [(name, i) for i in old if i not in keep],
        )
        db.execute(
            "INSERT OR REPLACE INTO files(collection, path, size, mtime_ns, sha256, kind, options,"
            " spaces) VALUES (?,?,?,?,?,?,?,?)",
            (name, row.path, row.size, row.mtime_ns, row.sha256, row.kind, row.options,
             row.spaces),
        )

    def forget_file(self, db: sqlite3.Connection, name: str, path: str) -> None:
        db.execute("DELETE FROM items WHERE collection=? AND path=?", (name, path))
        db.execute("DELETE FROM files WHERE collection=? AND path=?", (name, path))

    def chunk_counts(self, name: str, item_ids: Iterable[str], space: str) -> dict[str, int]:
        """Chunks each item has in ``space``, for the items that have more than one."""
        column = "text_chunks" if space == "text" else "clip_chunks"
        out: dict[str, int] = {}
        listed = sorted(set(item_ids))
        for i in range(0, len(listed), 500):
            part = listed[i: i + 500]
            rows = self.db.execute(
                f"SELECT item_id, {column} FROM items WHERE collection=? AND {column} > 1 "
                f"AND item_id IN ({','.join('?' * len(part))})", (name, *part))
            out.update({str(r[0]): int(r[1]) for r in rows})
        return out

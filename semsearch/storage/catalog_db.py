"""The catalog's SQLite connection, whose errors come out as one clear line."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import Any

from ..errors import CatalogError


def catalog_trouble(e: sqlite3.Error, path: Path) -> CatalogError:
    """One clear line for a failing catalog: full disk, damage (and the way back), locks."""
    text = str(e)
    if "disk is full" in text or "disk full" in text:
        return CatalogError(f"disk full writing the catalog {path}: free some space and run "
                            "again (what was written so far is kept)")
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return CatalogError(
            f"the catalog {path} is damaged ({text}); restore it from a backup, or move it "
            "aside and run `semsearch ingest` again on your folders to rebuild it (the "
            "vectors are reused where the files did not change)")
    return CatalogError(f"catalog error in {path}: {text}")


#: bytes of the catalog read through a memory map (SQLite's own limit, 2 GB, by default)
MMAP_SIZE = 2**31 - 2**16
MMAP_OFF = "SEMSEARCH_CATALOG_MMAP"


class Guarded:
    """The catalog's SQLite connection; its errors come out as CatalogError."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        # reads from memory-mapped pages, not a system call per page: a common word's list
        # (postings.py, 8 MB over 2,000 overflow pages at 1M chunks) in 3.8 ms, not 6.2
        with contextlib.suppress(sqlite3.Error):  # (SEMSEARCH_CATALOG_MMAP=0: read() calls)
            conn.execute(f"PRAGMA mmap_size={MMAP_SIZE * (os.environ.get(MMAP_OFF) != '0')}")

    def _run(self, method: Any, sql: str, args: Any) -> sqlite3.Cursor:
        try:
            return method(sql, args)  # type: ignore[no-any-return]
        except sqlite3.IntegrityError:
            raise
        except sqlite3.Error as e:
            raise catalog_trouble(e, self.path) from e

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self._run(self.conn.execute, sql, params)

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        return self._run(self.conn.executemany, sql, rows)

    def close(self) -> None:
        self.conn.close()

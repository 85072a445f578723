"""Posting lists of a large collection's lexical index, kept beside FTS5 with its word
statistics (:mod:`.word_stats`): for each word, every row holding it as (row id, count in
the row, row length in words), in blocks of at most :data:`BLOCK` rows by id.

FTS5 scores a row through its bm25() auxiliary function, about 3 µs a row, and a query of
everyday words over a million short notes has hundreds of thousands of rows to score. From
these lists numpy scores them all at once (:func:`.maxscore.from_lists`), with the same
formula, counts and lengths, so the ranking is FTS5's.

Kept exactly at every write, in its transaction, at a cost proportional to it: a new row
goes to its words' *recent* rows (one small table row per word), and once a word has
:data:`RECENT` of them they are appended to its last block (ids only grow), so a block is
rewritten once per :data:`RECENT` of its word's new rows, not at every write. A removed
row's words take it out of their recent rows or out of its block (the block whose first
id is the largest not above it). A read joins a word's blocks and recent rows.
Built with the statistics (their measuring pass reads every word's rows anyway), and
trusted only while the statistics' state records that this code wrote everything since
(``posted``): a process that does not keep them (an older semsearch) leaves them unused
until the next ingest measures again.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

#: rows in a block at most
BLOCK = 2048
#: a word's rows written since its blocks were last written, at most (then folded in)
RECENT = 256
#: ids, counts and lengths are stored as unsigned 32-bit numbers
LIMIT = 2**32

SCHEMA = """
CREATE TABLE IF NOT EXISTS lexical_postings(
    n INTEGER NOT NULL, term TEXT NOT NULL, first INTEGER NOT NULL, rows BLOB NOT NULL,
    PRIMARY KEY(n, term, first)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lexical_recent(
    n INTEGER NOT NULL, term TEXT NOT NULL, id INTEGER NOT NULL, tf INTEGER NOT NULL,
    dl INTEGER NOT NULL, PRIMARY KEY(n, term, id)) WITHOUT ROWID;
"""
#: a word's rows and their (count, length): (ids, tfs, dls), ids ascending
Lists = dict[str, tuple["np.ndarray", "np.ndarray", "np.ndarray"]]


def valid(kept: dict[str, Any] | None) -> bool:
    """Whether the lists hold what the statistics' state counts (this code wrote last, and
    saw no other writer's rows: ``foreign``, :func:`.word_stats.begin`)."""
    return kept is not None and not kept.get("foreign") and kept.get("posted") == [
        kept.get("rows"), kept.get("words"), kept.get("last")]


def posted(kept: dict[str, Any]) -> dict[str, Any]:
    """The state, recording that the lists hold what it counts."""
    return {**kept, "posted": [kept.get("rows"), kept.get("words"), kept.get("last")]}


def _bytes(values: list[int]) -> bytes:
    """Unsigned 32-bit numbers, little-endian (a catalog reads the same on any machine)."""
    packed = array("I", values)
    if sys.byteorder == "big":  # pragma: no cover
        packed.byteswap()
    return packed.tobytes()


def _unpack(blob: bytes) -> np.ndarray:
    import numpy as np

    return np.frombuffer(blob, dtype="<u4").reshape(-1, 3)


def blocks(n: int, term: str, rows: np.ndarray) -> list[tuple[int, str, int, bytes]]:
    """A word's rows (an (k, 3) array by id) as new blocks' table rows."""
    return [(n, term, int(rows[i, 0]), rows[i: i + BLOCK].astype("<u4").tobytes())
            for i in range(0, len(rows), BLOCK)]


def write(db: Any, made: list[tuple[int, str, int, bytes]]) -> None:
    """Store new blocks (:func:`blocks`)."""
    db.executemany("INSERT INTO lexical_postings(n, term, first, rows) VALUES (?,?,?,?)", made)


def read(db: Any, n: int, terms: Sequence[str]) -> Lists:
    """Each term's rows (empty for a word no row holds)."""
    import numpy as np

    stored: dict[str, list[bytes]] = {t: [] for t in terms}
    recent: dict[str, list[int]] = {t: [] for t in terms}
    unique = sorted(stored)
    marks = ",".join("?" * len(unique))
    if unique:
        for term in unique:  # (one word at a time: in the key's order, no sorting of blobs)
            stored[term] = [b for (b,) in db.execute(
                "SELECT rows FROM lexical_postings WHERE n=? AND term=? ORDER BY first",
                (n, term))]
        for term, *entry in db.execute(f"SELECT term, id, tf, dl FROM lexical_recent WHERE "
                                       f"n=? AND term IN ({marks}) ORDER BY term, id",
                                       (n, *unique)):
            recent[str(term)] += entry
    out: Lists = {}
    for term, parts in stored.items():
        held = len(parts)
        parts.append(_bytes(recent[term]))
        rows = _unpack(b"".join(parts))
        if held and recent[term] and rows[:, 0].max() != rows[-1, 0]:  # (ids reused)
            rows = rows[np.argsort(rows[:, 0], kind="stable")]
        out[term] = (np.ascontiguousarray(rows[:, 0]), rows[:, 1], rows[:, 2])
    return out


def _ids_by_term(ids: Sequence[int], counted: Sequence[tuple[int, dict[str, int]]]
                 ) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for key, (_, tfs) in zip(ids, counted, strict=True):
        for term in tfs:
            out.setdefault(term, []).append(key)
    return out


def add(db: Any, n: int, ids: Sequence[int], counted: Sequence[tuple[int, dict[str, int]]]
        ) -> bool:
    """Add written rows (their ids, and each one's length and word counts) to their words'
    recent rows; a word's recent rows go into its blocks (:func:`_fold`) once there are
    :data:`RECENT` of them. False (nothing written) when a value does not fit the blocks."""
    if any(k >= LIMIT for k in ids) or any(length >= LIMIT for length, _ in counted):
        return False
    rows = [(n, term, key, tf, length) for key, (length, tfs) in zip(ids, counted, strict=True)
            for term, tf in tfs.items()]
    db.executemany("INSERT OR REPLACE INTO lexical_recent(n, term, id, tf, dl) VALUES "
                   "(?,?,?,?,?)", rows)
    terms = list({row[1]: None for row in rows})
    for i in range(0, len(terms), 500):
        part = terms[i: i + 500]
        for (term,) in db.execute(
                f"SELECT term FROM lexical_recent WHERE n=? AND term IN "
                f"({','.join('?' * len(part))}) GROUP BY term HAVING count(*) >= ?",
                (n, *part, RECENT)).fetchall():
            _fold(db, n, str(term))
    return True


def _fold(db: Any, n: int, term: str) -> None:
    """Move a word's recent rows into its blocks: appended to its last block while it
    has room (ids only grow), then new blocks."""
    entries = [(int(a), int(b), int(c)) for a, b, c in db.execute(
        "SELECT id, tf, dl FROM lexical_recent WHERE n=? AND term=? ORDER BY id", (n, term))]
    db.execute("DELETE FROM lexical_recent WHERE n=? AND term=?", (n, term))
    if not entries:
        return
    last = db.execute("SELECT first, rows FROM lexical_postings WHERE n=? AND term=? "
                      "ORDER BY first DESC LIMIT 1", (n, term)).fetchone()
    first, blob = (int(last[0]), bytes(last[1])) if last else (0, b"")
    if blob and int.from_bytes(blob[-12:-8], "little") >= entries[0][0]:  # (ids reused)
        _rewrite(db, n, term, entries)
        return
    flat = _bytes([v for entry in entries for v in entry])
    room = max(0, BLOCK - len(blob) // 12) if blob else 0
    if room:
        db.execute("UPDATE lexical_postings SET rows=? WHERE n=? AND term=? AND first=?",
                   (blob + flat[: 12 * room], n, term, first))
    write(db, [(n, term, entries[i][0], flat[12 * i: 12 * (i + BLOCK)])
               for i in range(room, len(entries), BLOCK)])


def remove(db: Any, n: int, ids: Sequence[int],
           counted: Sequence[tuple[int, dict[str, int]]]) -> None:
    """Take rows about to be removed (their ids, lengths and word counts) out of their
    words' lists: each from the block whose first id is the largest not above it."""
    import numpy as np

    by_term = _ids_by_term(ids, counted)
    db.executemany("DELETE FROM lexical_recent WHERE n=? AND term=? AND id=?",
                   [(n, term, key) for term, keys in by_term.items() for key in keys])
    for term, keys in by_term.items():
        gone: dict[int, list[int]] = {}
        for key in keys:
            row = db.execute("SELECT first FROM lexical_postings WHERE n=? AND term=? AND "
                             "first <= ? ORDER BY first DESC LIMIT 1", (n, term, key)).fetchone()
            if row is not None:
                gone.setdefault(int(row[0]), []).append(key)
        for first, out in gone.items():
            blob = db.execute("SELECT rows FROM lexical_postings WHERE n=? AND term=? AND "
                              "first=?", (n, term, first)).fetchone()[0]
            held = _unpack(bytes(blob))
            rows = held[~np.isin(held[:, 0], out)]
            if len(rows) == len(held):
                continue  # (they were recent rows)
            if len(rows):
                db.execute("UPDATE lexical_postings SET rows=? WHERE n=? AND term=? AND "
                           "first=?", (rows.tobytes(), n, term, first))
            else:
                db.execute("DELETE FROM lexical_postings WHERE n=? AND term=? AND first=?",
                           (n, term, first))


def _rewrite(db: Any, n: int, term: str, entries: list[tuple[int, int, int]]) -> None:
    """A word's whole list again, with new rows among its own (by id; a new row replaces
    one of the same id)."""
    import numpy as np

    held = [_unpack(bytes(b)).astype(np.int64) for (b,) in db.execute(
        "SELECT rows FROM lexical_postings WHERE n=? AND term=? ORDER BY first", (n, term))]
    rows = np.concatenate([np.array(entries, dtype=np.int64).reshape(-1, 3), *held])
    rows = rows[np.unique(rows[:, 0], return_index=True)[1]]
    db.execute("DELETE FROM lexical_postings WHERE n=? AND term=?", (n, term))
    write(db, blocks(n, term, rows))


def forget(db: Any, n: int) -> None:
    db.execute("DELETE FROM lexical_postings WHERE n=?", (n,))
    db.execute("DELETE FROM lexical_recent WHERE n=?", (n,))

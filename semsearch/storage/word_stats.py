"""Word statistics of a large collection's lexical index: each word's document count, and
the most it can add to a document's BM25 score. Both are kept up to date with every write,
at a cost proportional to the rows written, so a query reads them in one indexed lookup.

**Document counts.** FTS5 counts a word's documents by reading its whole posting list
(``fts5vocab``): 54 ms for a word in 700,000 of a million documents, in every query that
holds it. A query's idf and its MaxScore plan need them first.

**Bounds.** FTS5's bm25 adds, for a query word a document holds ``tf`` times,
``idf * (k1 + 1) * g`` with ``g = tf / (tf + k1 * (1 - b + b * dl / avgdl))`` (``dl``: the
document's length in words). g is below 1, so ``idf * (k1 + 1)`` bounds a word's share of
any score, and MaxScore (:meth:`.lexical.LexicalIndex.top`) skips a query's common words
when its rare words' hits beat what the common ones could add. In short texts g stays far
from 1 (about 0.57 for a word held once by a note of average length), so that bound is
loose, and MaxScore reads rows it could skip. So each word's largest g is kept, as Lucene
keeps each term's largest impact, measured at a fixed average length ``avgdl0``
(``lexical_tables.word_stats``). The average length moves as the collection changes; at
``avgdl > avgdl0`` a word's g can grow, at most to ``1 / (1 + r (1/g0 - 1))`` with
``r = avgdl0 / avgdl`` (g is ``tf`` over ``tf`` plus a constant plus a multiple of
``dl / avgdl``), so the bound read at a query is that: exact for every document, old or new.

Writes count each new row's words (FTS5's own tokenizer, :func:`.words.counts`): they add
to the counts and raise the bounds. Removals count the removed rows' words and take them
off the counts; bounds stay (a bound stays a bound).

A collection gets them after an ingest (under the write lock) from :data:`STATS_FROM`
chunks: one pass over the index, about 1.8 µs per word it holds (25 s for a million short
records; it says so). They are measured again when its average length has grown by a
quarter, or when the index holds rows or words they do not count (a process that does not
keep them wrote; queries read FTS5's counts until then). Smaller collections read FTS5's
counts and rank with the plain bound: their lists are short.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import CatalogError
from . import postings

if TYPE_CHECKING:
    import numpy as np

#: collections from this many chunks keep word statistics
STATS_FROM = 20_000
#: measured again when the average length has grown by more than this since (r below it)
REMEASURE_BELOW = 0.8
#: FTS5's bm25() constants
K1, B = 1.2, 0.75
#: instances of words read at once while measuring
CHUNK = 1_000_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS lexical_words(
    n INTEGER NOT NULL, term TEXT NOT NULL, df INTEGER NOT NULL, g REAL NOT NULL,
    PRIMARY KEY(n, term)) WITHOUT ROWID;
""" + postings.SCHEMA
#: (catalog, collection) whose measuring failed in this process: not tried again
_FAILED: set[tuple[str, str]] = set()


def idf(df: int, docs: int) -> float:
    """A word's idf as FTS5's bm25 computes it (its count clamped to the index's rows)."""
    df = min(max(df, 0), docs)
    value = math.log((docs - df + 0.5) / (df + 0.5))
    return value if value > 0 else 1e-6


def saturation(tf: Any, dl: Any, avgdl: float) -> Any:
    """g: a word's share of a BM25 score, per unit of idf * (k1 + 1) (numbers, or numpy
    arrays element by element)."""
    return tf / (tf + K1 * (1 - B + B * dl / avgdl))


def _varints(blob: bytes) -> list[int]:
    """The SQLite varints of an FTS5 record (big-endian, 7 bits a byte; a ninth byte
    holds 8)."""
    out, i = [], 0
    while i < len(blob):
        value = 0
        for j in range(9):
            c = blob[i]
            i += 1
            if j == 8:
                value = (value << 8) | c
                break
            value = (value << 7) | (c & 0x7F)
            if not c & 0x80:
                break
        out.append(value)
    return out


def totals(db: Any, table: str) -> tuple[int, int]:
    """The index's rows and words, as FTS5's bm25 reads them (its averages record)."""
    row = db.execute(f"SELECT block FROM {table}_data WHERE id=1").fetchone()
    values = _varints(bytes(row[0])) if row and row[0] else []
    return (values[0], values[1]) if len(values) > 1 else (0, 0)


def average_length(db: Any, table: str) -> float:
    """The index's average document length in words (0 when empty)."""
    rows, words = totals(db, table)
    return words / rows if rows else 0.0


def state(db: Any, collection: str) -> dict[str, float] | None:
    """The statistics' state: ``avgdl`` (the length the bounds were measured at), and the
    index's ``rows``, ``words`` and ``last`` row id as the kept counts know them; None:
    not kept."""
    row = db.execute("SELECT word_stats FROM lexical_tables WHERE collection=?",
                     (collection,)).fetchone()
    return json.loads(row[0]) if row and row[0] else None


def _save(db: Any, collection: str, kept: dict[str, float] | None) -> None:
    db.execute("UPDATE lexical_tables SET word_stats=? WHERE collection=?",
               (json.dumps(kept) if kept else None, collection))


def lookup(db: Any, n: int, collection: str, terms: Sequence[str]
           ) -> dict[str, tuple[int, float]] | None:
    """Each term's (document count, bound on its share of a score per unit of idf, at
    most k1 + 1); None when the collection keeps no statistics, or the index holds rows
    or words they do not count (a writer that does not keep them: FTS5's counts then)."""
    kept = state(db, collection)
    rows, words = totals(db, f"lex_{n}")
    if kept is None or _moved(db, n, kept, rows, words):
        return None
    unique = sorted(set(terms))
    found = {str(t): (int(df), float(g)) for t, df, g in db.execute(
        f"SELECT term, df, g FROM lexical_words WHERE n=? AND term IN "
        f"({','.join('?' * len(unique))})", (n, *unique))} if unique else {}
    r = _drift(kept, rows, words)
    out = {}
    for t in unique:
        df, g = found.get(t, (0, 1.0))
        if r < 1 and 0 < g < 1:
            g = 1 / (1 + r * (1 / g - 1))
        out[t] = (min(max(df, 0), rows), (K1 + 1) * min(g, 1.0))
    return out


def note(db: Any, n: int, collection: str, ids: Sequence[int],
         counted: Sequence[tuple[int, dict[str, int]]], sign: int = 1) -> None:
    """Count the words of rows just written (``sign`` -1: about to be removed) inside
    their transaction, from their ids and each one's length and word counts
    (:func:`.words.counts`): their document counts, the index's totals, (written) the
    words' bounds, and the words' lists (:mod:`.postings`)."""
    kept = state(db, collection)
    if kept is None or not counted:
        return
    best: dict[str, tuple[int, float]] = {}
    words = 0
    for length, tfs in counted:
        words += length
        for term, tf in tfs.items():
            docs, g = best.get(term, (0, 0.0))
            best[term] = (docs + 1, max(g, saturation(tf, length, kept["avgdl"])))
    if sign > 0:
        db.executemany("INSERT INTO lexical_words(n, term, df, g) VALUES (?,?,?,?) ON "
                       "CONFLICT(n, term) DO UPDATE SET df = df + excluded.df, "
                       "g = max(g, excluded.g)", [(n, t, d, g) for t, (d, g) in best.items()])
    else:
        db.executemany("UPDATE lexical_words SET df = df - ? WHERE n=? AND term=?",
                       [(d, n, t) for t, (d, _) in best.items()])
    listed = kept.pop("listed", None)
    if listed is None:  # (the first of a write's batches)
        listed = postings.valid(kept)
    if listed and sign > 0:
        listed = postings.add(db, n, ids, counted)
    elif listed:
        postings.remove(db, n, ids, counted)
    _save(db, collection, {**{k: v for k, v in kept.items() if k != "posted"},
                           "rows": kept["rows"] + sign * len(counted),
                           "words": kept["words"] + sign * words, "listed": listed})


def last_row(db: Any, n: int) -> int:
    """The index's highest row id (ids are never reused: every write of a row moves it)."""
    return int(db.execute(f"SELECT coalesce(max(id), 0) FROM lex_{n}_content").fetchone()[0])


def settle(db: Any, n: int, collection: str) -> None:
    """After a write's rows are in (inside its transaction): the highest row id the kept
    counts know."""
    kept = state(db, collection)
    if kept is not None:
        listed = kept.pop("listed", postings.valid(kept))
        kept["last"] = last_row(db, n)
        _save(db, collection, postings.posted(kept) if listed else
              {k: v for k, v in kept.items() if k != "posted"})


def _drift(kept: dict[str, float], rows: int, words: int) -> float:
    """r: the average length the bounds were measured at over today's (1: empty)."""
    return kept["avgdl"] / (words / rows) if rows and words else 1.0


def _moved(db: Any, n: int, kept: dict[str, float], rows: int, words: int) -> bool:
    """Whether the index holds what the kept counts do not: other totals, or rows written
    after them (by a process that does not keep them: a replacement can leave the totals
    as they were, never the highest row id), or a write saw such rows (:func:`begin`)."""
    return bool(kept.get("foreign")) or (rows, words, last_row(db, n)) != (
        kept["rows"], kept["words"], kept.get("last"))


def begin(db: Any, n: int, collection: str) -> None:
    """Before a write touches the index (in its transaction): when it holds rows the kept
    counts do not (another writer's), mark the state ``foreign``, so that this write's
    :func:`settle` cannot cover them up; counts and lists are then unused until the next
    ingest measures again."""
    kept = state(db, collection)
    if kept is not None and not kept.get("foreign") and _moved(db, n, kept, *totals(
            db, f"lex_{n}")):
        _save(db, collection, {**kept, "foreign": True})


def listed(db: Any, n: int, collection: str) -> bool:
    """Whether the collection's words' lists (:mod:`.postings`) hold what its index does."""
    kept = state(db, collection)
    if not postings.valid(kept):
        return False
    assert kept is not None
    rows, words = totals(db, f"lex_{n}")
    return not _moved(db, n, kept, rows, words)


def forget(db: Any, n: int) -> None:
    db.execute("DELETE FROM lexical_words WHERE n=?", (n,))
    postings.forget(db, n)


class _Runs:
    """Folds a range of words' instances (word index, document), in the index's order,
    into each word's largest g: a run of one word in one document is its count there."""

    def __init__(self, words: int, ids: np.ndarray, lengths: np.ndarray, at: float) -> None:
        import numpy as np

        self.best = np.zeros(words)
        self.ids, self.lengths, self.at = ids, lengths, at
        self.carry: tuple[int, int, float] | None = None  # a run the next slice may go on
        self.runs: list[tuple[np.ndarray, ...]] = []  # (word, document, count, length)

    def add(self, word: np.ndarray, docs: np.ndarray) -> None:
        import numpy as np

        if not len(docs):
            return
        starts = np.flatnonzero(np.r_[True, (docs[1:] != docs[:-1]) | (word[1:] != word[:-1])])
        tf = np.diff(np.r_[starts, len(docs)]).astype(np.float64)
        words, held = word[starts], docs[starts]
        if self.carry is not None:
            w, d, t = self.carry
            if words[0] == w and held[0] == d:
                tf[0] += t
            else:
                self._fold(np.array([w]), np.array([d]), np.array([t]))
        self.carry = (int(words[-1]), int(held[-1]), float(tf[-1]))
        self._fold(words[:-1], held[:-1], tf[:-1])

    def _fold(self, words: np.ndarray, docs: np.ndarray, tf: np.ndarray) -> None:
        import numpy as np

        dl = self.lengths[np.searchsorted(self.ids, docs)]
        np.maximum.at(self.best, words, saturation(tf, dl, self.at))
        self.runs.append((words, docs, tf, dl))

    def done(self) -> np.ndarray:
        import numpy as np

        if self.carry is not None:
            w, d, t = self.carry
            self._fold(np.array([w]), np.array([d]), np.array([t]))
            self.carry = None
        return self.best


def measure(db: Any, n: int, collection: str) -> None:
    """Measure every word's statistics from the index (inside a transaction): the
    documents' lengths, then the words' instances a range of words at a time (memory:
    :data:`CHUNK` instances), each word's count in each document taken from the runs of
    its instances."""
    import numpy as np

    table = f"lex_{n}"
    rows, words = totals(db, table)
    forget(db, n)
    _save(db, collection, None)
    if not rows or not words:
        return
    at = words / rows
    keys, sizes = [], []
    for key, size in db.execute(f"SELECT id, sz FROM {table}_docsize ORDER BY id"):
        keys.append(int(key))
        sizes.append(_varints(bytes(size))[0] if size else 0)
    ids, lengths = np.array(keys, dtype=np.int64), np.array(sizes, dtype=np.float64)
    del keys, sizes
    if len(ids) and (ids[-1] >= postings.LIMIT or lengths.max() >= postings.LIMIT):
        raise CatalogError(f"the lexical index {table}'s row ids are too large to list")
    db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{table}_instances USING "
               f"fts5vocab(main, {table}, 'instance')")
    pending: list[tuple[str | None, int, int]] = []
    after: str | None = None
    held = 0
    for raw, df, cnt in db.execute(f"SELECT CAST(term AS BLOB), doc, cnt FROM {table}_vocab"):
        term = _text(raw)
        pending.append((term, int(df), int(cnt)))
        held += int(cnt)
        if held >= CHUNK and term is not None:  # (a range ends at a word SQL can name)
            _measure_range(db, table, n, pending, after, term, (ids, lengths, at))
            pending, after, held = [], term, 0
    if pending:
        _measure_range(db, table, n, pending, after, None, (ids, lengths, at))
    db.execute(f"DROP TABLE IF EXISTS temp.{table}_instances")
    _save(db, collection, postings.posted({"avgdl": at, "rows": rows, "words": words,
                                           "last": last_row(db, n)}))


def _text(raw: Any) -> str | None:
    """A term as text; None for one FTS5 cut inside a character (a token over 32 KB: no
    query's word)."""
    try:
        return bytes(raw).decode()
    except UnicodeDecodeError:
        return None


def _measure_range(db: Any, table: str, n: int, pending: list[tuple[str | None, int, int]],
                   after: str | None, last: str | None, docs: tuple[Any, Any, float]) -> None:
    """Measure the words after ``after`` up to ``last`` (None: no bound), whose (term,
    document count, instances) are ``pending``."""
    import numpy as np

    bounds = " AND ".join(c for c, v in (("term > ?", after), ("term <= ?", last)) if v) or "1"
    args = [v for v in (after, last) if v is not None]
    ends = np.cumsum([cnt for _, _, cnt in pending])
    runs = _Runs(len(pending), *docs)
    read = 0
    if ends[-1] <= 4 * CHUNK:  # one string: about ten times faster than row by row
        text = db.execute(f"SELECT group_concat(doc) FROM (SELECT doc FROM "
                          f"temp.{table}_instances WHERE {bounds})", args).fetchone()[0]
        slices = iter([np.fromstring(text or "", dtype=np.int64, sep=",")])
    else:
        cursor = db.execute(f"SELECT doc FROM temp.{table}_instances WHERE {bounds}", args)
        slices = (np.array(part, dtype=np.int64).reshape(-1) for part in
                  iter(lambda: cursor.fetchmany(CHUNK), []))
    for held in slices:
        runs.add(np.searchsorted(ends, np.arange(read, read + len(held)), side="right"), held)
        read += len(held)
    if read != ends[-1]:
        raise CatalogError(f"the lexical index {table} changed while its words were measured")
    best = runs.done().tolist()
    db.executemany("INSERT INTO lexical_words(n, term, df, g) VALUES (?,?,?,?)",
                   [(n, term, df, g) for (term, df, _), g in zip(pending, best, strict=True)
                    if term])
    word, *rows = (np.concatenate(part) for part in zip(*runs.runs, strict=True))
    runs.runs.clear()
    table_rows = np.stack(rows, axis=1).astype(np.uint32)
    cuts = np.searchsorted(word, np.arange(len(pending) + 1)).tolist()
    postings.write(db, [block for i, (term, _, _) in enumerate(pending) if term
                        for block in postings.blocks(n, term, table_rows[cuts[i]: cuts[i + 1]])])


def ensure(db: Any, n: int, collection: str, size: int,
           transaction: Callable[[], Any], say: Callable[[str], None] | None = None) -> None:
    """Measure the collection's word statistics (under the write lock: after an ingest)
    when it has :data:`STATS_FROM` chunks or more and none, or they no longer count what
    the index holds, or its average length has grown by a quarter since. A failure leaves
    it without (FTS5's counts), and this process does not try again."""
    if size < STATS_FROM or (str(getattr(db, "path", id(db))), collection) in _FAILED:
        return
    if not _stale(db, n, collection):
        return
    if say is not None:
        say(f"measuring the words of {collection!r} for faster lexical search")
    try:
        with transaction() as tx:
            if _stale(tx, n, collection):  # (another writer may have measured meanwhile)
                measure(tx, n, collection)
    except (CatalogError, sqlite3.Error, ValueError, MemoryError):
        _FAILED.add((str(getattr(db, "path", id(db))), collection))


def _stale(db: Any, n: int, collection: str) -> bool:
    kept = state(db, collection)
    rows, words = totals(db, f"lex_{n}")
    return kept is None or _moved(db, n, kept, rows, words) or not postings.valid(kept) or (
        _drift(kept, rows, words) < REMEASURE_BELOW)

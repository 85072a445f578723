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
(``lexical_tables.bounds_avgdl``). The average length moves as the collection changes; at
``avgdl > avgdl0`` a word's g can grow, at most to ``1 / (1 + r (1/g0 - 1))`` with
``r = avgdl0 / avgdl`` (g is ``tf`` over ``tf`` plus a constant plus a multiple of
``dl / avgdl``), so the bound read at a query is that: exact for every document, old or new.

Writes count each new row's words (FTS5's own tokenizer, :func:`.words.counts`): they add
to the counts and raise the bounds. Removals count the removed rows' words and take them
off the counts; bounds stay (a bound stays a bound).

A collection gets them at its first query from :data:`STATS_FROM` chunks (one pass over
the index, about 20 s per million chunks; it says so), and again when its average length
has grown by a quarter since. Smaller collections read FTS5's counts and rank with the
plain bound: their lists are short.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..errors import CatalogError
from .words import counts

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
"""
#: (catalog, collection) whose measuring failed in this process: not tried again
_FAILED: set[tuple[str, str]] = set()


def saturation(tf: float, dl: float, avgdl: float) -> float:
    """g: a word's share of a BM25 score, per unit of idf * (k1 + 1)."""
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


def measured_at(db: Any, collection: str) -> float | None:
    """The average length the collection's bounds were measured at; None: not kept."""
    row = db.execute("SELECT bounds_avgdl FROM lexical_tables WHERE collection=?",
                     (collection,)).fetchone()
    return float(row[0]) if row and row[0] else None


def lookup(db: Any, n: int, collection: str, terms: Sequence[str]
           ) -> dict[str, tuple[int, float]] | None:
    """Each term's (document count, bound on its share of a score per unit of idf, at
    most k1 + 1); None when the collection keeps no statistics."""
    at = measured_at(db, collection)
    if at is None:
        return None
    unique = sorted(set(terms))
    found = {str(t): (int(df), float(g)) for t, df, g in db.execute(
        f"SELECT term, df, g FROM lexical_words WHERE n=? AND term IN "
        f"({','.join('?' * len(unique))})", (n, *unique))} if unique else {}
    r = at / (average_length(db, f"lex_{n}") or at)
    out = {}
    for t in unique:
        df, g = found.get(t, (0, 1.0))
        if r < 1 and 0 < g < 1:
            g = 1 / (1 + r * (1 / g - 1))
        out[t] = (df, (K1 + 1) * min(g, 1.0))
    return out


def note(db: Any, n: int, collection: str, texts: Sequence[str], sign: int = 1) -> None:
    """Count the words of rows just written (``sign`` -1: about to be removed) inside
    their transaction: their documents counts, and (written) their bounds."""
    at = measured_at(db, collection)
    if at is None or not texts:
        return
    best: dict[str, tuple[int, float]] = {}
    for length, tfs in counts(texts):
        for term, tf in tfs.items():
            docs, g = best.get(term, (0, 0.0))
            best[term] = (docs + 1, max(g, saturation(tf, length, at)))
    if sign > 0:
        db.executemany("INSERT INTO lexical_words(n, term, df, g) VALUES (?,?,?,?) ON "
                       "CONFLICT(n, term) DO UPDATE SET df = df + excluded.df, "
                       "g = max(g, excluded.g)", [(n, t, d, g) for t, (d, g) in best.items()])
    else:
        db.executemany("UPDATE lexical_words SET df = max(df - ?, 0) WHERE n=? AND term=?",
                       [(d, n, t) for t, (d, _) in best.items()])


def forget(db: Any, n: int) -> None:
    db.execute("DELETE FROM lexical_words WHERE n=?", (n,))


def measure(db: Any, n: int, collection: str) -> None:
    """Measure every word's statistics from the index (inside a transaction): the
    documents' lengths, then the words' instances a range of words at a time, each word's
    count in each document taken from the runs of its instances."""
    import numpy as np

    table = f"lex_{n}"
    at = average_length(db, table)
    forget(db, n)
    if not at:
        return
    top = int(db.execute(f"SELECT coalesce(max(id), 0) FROM {table}_docsize").fetchone()[0])
    lengths = np.zeros(top + 1, dtype=np.float64)
    for key, size in db.execute(f"SELECT id, sz FROM {table}_docsize"):
        lengths[key] = _varints(bytes(size))[0] if size else 0
    db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{table}_instances USING "
               f"fts5vocab(main, {table}, 'instance')")
    terms: list[str] = []
    docs_of: list[int] = []
    sizes: list[int] = []

    def flush() -> None:
        text = db.execute(
            f"SELECT group_concat(doc) FROM (SELECT doc FROM temp.{table}_instances WHERE "
            "term >= ? AND term <= ?)", (terms[0], terms[-1])).fetchone()[0]
        docs = np.array(str(text).split(","), dtype=np.int64)
        if len(docs) != sum(sizes):
            raise CatalogError(f"the lexical index of {collection!r} changed while its words "
                               "were measured")
        word = np.repeat(np.arange(len(terms)), sizes)
        starts = np.flatnonzero(np.r_[True, (docs[1:] != docs[:-1]) | (word[1:] != word[:-1])])
        tf = np.diff(np.r_[starts, len(docs)]).astype(np.float64)
        g = tf / (tf + K1 * (1 - B + B * lengths[docs[starts]] / at))
        firsts = np.searchsorted(word[starts], np.arange(len(terms)))
        db.executemany("INSERT INTO lexical_words(n, term, df, g) VALUES (?,?,?,?)",
                       zip([n] * len(terms), terms, docs_of,
                           np.maximum.reduceat(g, firsts).tolist(), strict=True))
        terms.clear()
        docs_of.clear()
        sizes.clear()

    held = 0
    for term, df, size in db.execute(f"SELECT term, doc, cnt FROM {table}_vocab"):
        terms.append(str(term))
        docs_of.append(int(df))
        sizes.append(int(size))
        held += int(size)
        if held >= CHUNK:
            flush()
            held = 0
    if terms:
        flush()
    db.execute(f"DROP TABLE IF EXISTS temp.{table}_instances")
    db.execute("UPDATE lexical_tables SET bounds_avgdl=? WHERE collection=?", (at, collection))


def ensure(db: Any, n: int, collection: str, size: int,
           transaction: Callable[[], Any], say: Callable[[str], None] | None = None) -> None:
    """Measure the collection's word statistics when it has :data:`STATS_FROM` chunks or
    more and has none, or its average length has grown by a quarter since (once; a catalog
    that cannot be written reads FTS5's counts, and the process does not try again)."""
    if size < STATS_FROM:
        return
    place = (str(getattr(db, "path", id(db))), collection)
    if place in _FAILED:
        return
    at = measured_at(db, collection)
    if at is not None and at / (average_length(db, f"lex_{n}") or at) >= REMEASURE_BELOW:
        return
    if say is not None:
        say(f"measuring the words of {collection!r} for faster lexical search (once)")
    try:
        with transaction() as tx:
            measure(tx, n, collection)
    except CatalogError:
        _FAILED.add(place)

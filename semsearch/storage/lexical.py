"""The lexical index: BM25 over the text chunks, in SQLite FTS5 inside the catalog.

One FTS5 table per collection (``lex_N``: Porter stemming, Unicode words), updated in the
same catalog transaction that records the items, so the index is exactly the catalog's state:
no interleaving of writers, readers and kills can leave it stale, and adding, changing or
removing items costs time proportional to those items. It lives on disk: a cold query reads
only the posting lists of its terms.

Ranking is FTS5's BM25 (k1 = 1.2, b = 0.75), exact, with MaxScore pruning
(:meth:`LexicalIndex.top`; a large collection's word counts and bounds: :mod:`.word_stats`).
Query words in :data:`~.words.STOPWORDS` (Lucene's English list) are dropped. A query's
*ceiling* (:meth:`LexicalIndex.ceiling`), the sum of its terms' idf (a term the collection
lacks counts as the rarest), lets a score be read as the share of the query a document
matches (one common word of several counts little): :mod:`semsearch.search.rank`.

Each row keeps its chunk's metadata (JSON, beside the FTS row), so a ``--where`` filter is
compiled to SQL (:mod:`.where_sql`) and a filtered query is one statement: every matching
chunk BM25 ranks, however selective the filter. Tables from before schema 4 lack it until
:meth:`DataDir.fresh_lexical` fills it in from the store (once).

Rows this catalog did not write (another client of a server, plain Chroma) come from
:mod:`.changes` (server mode), or from the store when the sizes differ.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import maxscore, word_stats
from .where_sql import meta_json
from .words import any_of, counts, query_terms, stems

if TYPE_CHECKING:
    import numpy as np

    from .value_index import Narrow

#: a filter passing at most this many rows (found by a value index) has FTS5's matches
#: checked against their ids; a broader one, each match's metadata
NARROW_UP_TO = 50_000
#: ... and, when they span more than 1/this of the ids, their rows are cut from the words'
#: lists (:mod:`.postings`: each list read whole, about 20 ns an entry), else FTS5 seeks
#: its matches in their range (about 3 µs a match)
LISTS_OVER_RANGE = 150

SCHEMA = """
CREATE TABLE IF NOT EXISTS lexical_tables(
    collection TEXT PRIMARY KEY, n INTEGER NOT NULL UNIQUE, rows INTEGER NOT NULL DEFAULT 0,
    filters INTEGER NOT NULL DEFAULT 0, word_stats TEXT);
CREATE TABLE IF NOT EXISTS lexical_ids(
    id INTEGER PRIMARY KEY AUTOINCREMENT, collection TEXT NOT NULL, cid TEXT NOT NULL,
    meta TEXT, UNIQUE(collection, cid));
""" + word_stats.SCHEMA
#: a lexical row: (chunk id, text, metadata)
Row = tuple[str, str, dict[str, Any] | None]
#: a compiled filter: (SQL over the ``i.meta`` column, its parameters)
SqlFilter = tuple[str, list[Any]]


@dataclass
class LexicalHits:
    """BM25-ranked chunk ids with their scores, and the query's ceiling (0: no term known)."""

    hits: list[tuple[str, float]]
    ceiling: float
    exhausted: bool


class LexicalIndex:
    """The BM25 index of one collection, on the catalog's connection."""

    def __init__(self, db: Any, collection: str) -> None:
        self.db = db
        self.collection = collection
        # the words' (idf, df) while the index is unchanged: a query's ranking and its
        # ceiling count each word's documents once (a common word's count reads its list)
        self._known: tuple[tuple[int, int, str], dict[str, tuple[float, int, float]]] | \
            None = None

    # tables ------------------------------------------------------------------------------------
    def _table(self, create: bool = False) -> str | None:
        row = self.db.execute("SELECT n FROM lexical_tables WHERE collection=?",
                              (self.collection,)).fetchone()
        if row is None:
            if not create:
                return None
            n = int(self.db.execute(
                "SELECT coalesce(max(n), 0) + 1 FROM lexical_tables").fetchone()[0])
            self.db.execute("INSERT INTO lexical_tables(collection, n, filters) "
                            "VALUES (?,?,1)", (self.collection, n))
            self.db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS lex_{n} USING fts5(body, "
                            "tokenize='porter unicode61 remove_diacritics 2')")
            self.db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS lex_{n}_vocab "
                            f"USING fts5vocab(lex_{n}, 'row')")
            return f"lex_{n}"
        return f"lex_{int(row[0])}"

    def table(self) -> str | None:
        """The FTS5 table's name (``lex_N``); None before the first row."""
        return self._table()

    def size(self) -> int:
        row = self.db.execute("SELECT rows FROM lexical_tables WHERE collection=?",
                              (self.collection,)).fetchone()
        return int(row[0]) if row else 0

    def filterable(self) -> bool:
        """Whether every row carries its metadata (false for a table from before schema 4
        until :meth:`fill_metadata` has run)."""
        row = self.db.execute("SELECT filters FROM lexical_tables WHERE collection=?",
                              (self.collection,)).fetchone()
        return row is None or bool(row[0])

    def fill_metadata(self, db: sqlite3.Connection,
                      pages: Iterable[tuple[list[str], list[dict[str, Any]]]]) -> None:
        """Store the metadata of the rows (from the store, a page at a time); the index is
        then :meth:`filterable`."""
        for ids, metas in pages:
            db.executemany("UPDATE lexical_ids SET meta=? WHERE collection=? AND cid=?",
                           [(meta_json(m), self.collection, c)
                            for c, m in zip(ids, metas, strict=True)])
        db.execute("UPDATE lexical_tables SET filters=1 WHERE collection=?", (self.collection,))

    def stored(self, cids: Sequence[str]) -> dict[str, tuple[dict[str, Any], str]]:
        """The metadata and text the index holds for ``cids``: the chunk's document and
        metadata as the store has them (written in the same flush, from the same values),
        read without opening the vector store. Rows without metadata (an index from before
        schema 4) are left out."""
        return {cid: (meta, body or "") for _, cid, meta, body in self._rows("i.cid", list(cids))}

    def keyed(self, cids: Sequence[str], texts: bool = True
              ) -> dict[str, tuple[int, dict[str, Any], str | None]]:
        """:meth:`stored`, with each row's id (its key in the vector index)."""
        return {cid: (key, meta, body)
                for key, cid, meta, body in self._rows("i.cid", list(cids), texts)}

    def by_key(self, keys: Sequence[int]) -> dict[int, tuple[str, dict[str, Any]]]:
        """(chunk id, metadata) of the rows with these ids (the vector index's keys); their
        texts are left for the final hits (:meth:`stored`)."""
        return {key: (cid, meta) for key, cid, meta, _ in self._rows("i.id", list(keys), False)}

    def _rows(self, column: str, values: list[Any], texts: bool = True
              ) -> Iterator[tuple[int, str, dict[str, Any], str | None]]:
        table = self._table()
        if table is None:
            return
        body, join = ("t.body", f"JOIN {table} t ON t.rowid = i.id") if texts else ("NULL", "")
        for i in range(0, len(values), 500):  # by id: the primary key, not the collection's
            part = values[i:i + 500]          # index (+ keeps SQLite off it)
            rows = self.db.execute(
                f"SELECT i.id, i.cid, i.meta, {body} FROM lexical_ids i {join} "
                f"WHERE {'+' if column == 'i.id' else ''}i.collection=? AND {column} IN "
                f"({','.join('?' * len(part))})", [self.collection, *part])
            for key, cid, meta, body in rows:
                if meta is not None:
                    yield int(key), str(cid), json.loads(meta), body

    # writing (inside the catalog's transaction) ----------------------------------------------
    def put(self, db: sqlite3.Connection, rows: Iterable[Row],
            vectors: Sequence[np.ndarray | None] | None = None) -> None:
        """Index (chunk id, text, metadata) rows, replacing what those ids held. ``vectors``
        (the rows' text vectors, in order) go to the collection's vector index; rows written
        without them drop it (:mod:`.vector_index`)."""
        pairs = [(r, vectors[i] if vectors is not None else None)
                 for i, r in enumerate(rows) if r[1]]
        if not pairs:
            return
        table = self._table(create=True)
        self.remove(db, [r[0] for r, _ in pairs])  # (first: word_stats.begin runs there)
        keys: list[int] = []
        for cid, text, meta in (r for r, _ in pairs):
            cur = db.execute("INSERT INTO lexical_ids(collection, cid, meta) VALUES (?,?,?)",
                             (self.collection, cid, meta_json(meta)))
            db.execute(f"INSERT INTO {table}(rowid, body) VALUES (?,?)", (cur.lastrowid, text))
            keys.append(int(cur.lastrowid or 0))
        db.execute("UPDATE lexical_tables SET rows = rows + ? WHERE collection=?",
                   (len(keys), self.collection))
        if word_stats.state(db, self.collection) is not None:  # (counted once, for both)
            word_stats.note(db, int(str(table)[4:]), self.collection, keys,
                            counts([r[1] for r, _ in pairs]))
        word_stats.settle(db, int(str(table)[4:]), self.collection)
        from . import vector_index  # (numpy: loaded by a write, not by opening the catalog)

        vecs = [v for _, v in pairs if v is not None]
        if len(vecs) < len(keys):
            vector_index.forget(db, self.collection)
        else:
            vector_index.note(db, self.collection, keys, vecs)

    def remove(self, db: sqlite3.Connection, cids: Iterable[str]) -> None:
        table = self._table()
        if table is None:
            return
        cids = list(cids)
        gone = 0
        counted = word_stats.state(db, self.collection) is not None
        if counted:  # (before any change to the index, for put's rows too)
            word_stats.begin(db, int(table[4:]), self.collection)
        for i in range(0, len(cids), 500):
            part = cids[i: i + 500]
            ids = [r[0] for r in db.execute(
                f"SELECT id FROM lexical_ids WHERE collection=? AND cid IN "
                f"({','.join('?' * len(part))})", (self.collection, *part))]
            if not ids:
                continue
            marks = ",".join("?" * len(ids))
            if counted:  # their words leave the collection's counts and lists
                held = db.execute(f"SELECT rowid, body FROM {table} WHERE rowid IN ({marks})",
                                  ids).fetchall()
                word_stats.note(db, int(table[4:]), self.collection, [r for r, _ in held],
                                counts([str(b) for _, b in held]), sign=-1)
            db.execute(f"DELETE FROM {table} WHERE rowid IN ({marks})", ids)
            db.execute(f"DELETE FROM lexical_ids WHERE id IN ({marks})", ids)
            gone += len(ids)
        if gone:
            db.execute("UPDATE lexical_tables SET rows = rows - ? WHERE collection=?",
                       (gone, self.collection))
            word_stats.settle(db, int(table[4:]), self.collection)
            from .vector_index import touch

            touch(db, self.collection)  # readers check their cached rows again

    def drop(self, db: sqlite3.Connection) -> None:
        """Forget the index (and how far it followed the server's change log)."""
        db.execute("DELETE FROM change_marks WHERE collection=?", (self.collection,))
        from .vector_index import forget

        forget(db, self.collection)
        table = self._table()
        if table is None:
            return
        word_stats.forget(db, int(table[4:]))
        db.execute(f"DROP TABLE IF EXISTS {table}_vocab")
        db.execute(f"DROP TABLE IF EXISTS {table}")
        db.execute("DELETE FROM lexical_ids WHERE collection=?", (self.collection,))
        db.execute("DELETE FROM lexical_tables WHERE collection=?", (self.collection,))

    # reading ---------------------------------------------------------------------------------
    def _idf(self, table: str, terms: Sequence[str]) -> dict[str, tuple[float, int, float]]:
        """Each query word's (idf, document frequency, most it adds to any score: idf times
        its :mod:`.word_stats` bound, or times k1 + 1); a word no document holds gets the
        idf of the rarest possible term and df 0."""
        n_docs = max(1, self.size())
        stemmed = stems(terms)
        unique = sorted(set(stemmed))
        kept = word_stats.lookup(self.db, int(table[4:]), self.collection, unique)
        if kept is None:  # FTS5's counts (each reads the word's list)
            found = dict(self.db.execute(
                f"SELECT term, doc FROM {table}_vocab WHERE term IN "
                f"({','.join('?' * len(unique))})", unique).fetchall())
            kept = {t: (int(found.get(t, 0)), word_stats.K1 + 1) for t in unique}
        out = {}
        for word, stem in zip(terms, stemmed, strict=True):
            df, share = kept[stem]
            df = min(max(df, 0), n_docs)
            idf = max(math.log((n_docs - df + 0.5) / (df + 0.5)), 1e-6)
            out[word] = (idf, df, idf * share)
        return out

    def stamp(self) -> tuple[int, int, str]:
        """Moves with every change to the index: the last row id given out (ids are never
        reused, so any write moves it), this collection's row count (any removal) and its
        word statistics' state."""
        seq = self.db.execute("SELECT seq FROM sqlite_sequence WHERE name='lexical_ids'"
                              ).fetchone()
        row = self.db.execute("SELECT rows, word_stats FROM lexical_tables WHERE "
                              "collection=?", (self.collection,)).fetchone() or (0, "")
        return int(seq[0]) if seq else 0, int(row[0]), str(row[1] or "")

    def stats(self, table: str, terms: Sequence[str]
               ) -> tuple[tuple[int, int, str], dict[str, tuple[float, int, float]]]:
        """:meth:`_idf` of the words, remembered while the index is unchanged, with the
        stamp they were read under."""
        stamp = self.stamp()
        if self._known is None or self._known[0] != stamp:
            self._known = (stamp, {})
        known = self._known[1]
        missing = [t for t in terms if t not in known]
        if missing:
            known.update(self._idf(table, missing))
        return stamp, {t: known[t] for t in terms}

    def ceiling(self, terms: Sequence[str]) -> float:
        """Sum over the query's terms of their idf: the BM25 score of a document of average
        length holding each term once. A term no document holds counts with the idf of the
        rarest possible term: a query whose words the collection mostly lacks (a paraphrase)
        has a high ceiling, so its chance matches on one or two words stay a small share."""
        table = self._table()
        if table is None or not terms:
            return 0.0
        return sum(idf for idf, _, _ in self.stats(table, terms)[1].values())

    def pages(self, text: str, page: int = 200, start: int = 0,
              where: SqlFilter | None = None, narrow: Narrow | None = None
              ) -> Iterator[list[tuple[str, float]]]:
        """BM25-ranked (chunk id, score > 0) pages for a query, best first, from the
        ``start``-th hit until exhausted; only chunks whose metadata passes ``where`` (a
        filter compiled by :func:`~.where_sql.compile_where`; ``narrow``: see :meth:`top`).
        Each page is cut from the exact best ``start + page`` (:meth:`top`)."""
        rows: list[tuple[str, float]] = []
        want, complete, offset = start + page, False, start
        while True:
            if offset + page > len(rows) and not complete:  # read twice as deep, at most
                rows = self.top(text, want, where, narrow)
                complete, want = len(rows) < want, 2 * want
            part = rows[offset: offset + page]
            if not part:
                return
            yield part
            if len(part) < page:
                return
            offset += page

    def top(self, text: str, n: int, where: SqlFilter | None = None,
            narrow: Narrow | None = None) -> list[tuple[str, float]]:
        """The exact best ``n`` (chunk id, BM25 score) for a query, best first, passing
        ``where``; ties in no fixed order.

        Unfiltered: MaxScore (:mod:`.maxscore`), which scores only the rows of the words
        that can add the most when they settle the best ``n``, else every matching row.
        Filtered, with ``narrow`` (SQL over ``lexical_ids i`` that value indexes serve, met
        by every row passing ``where``: :mod:`.value_index`): the passing rows' ids are found
        first, and MaxScore runs among them (else every FTS5 match within their range is
        checked against them, not against its metadata). Without, every match's metadata
        is checked, and all are ranked.
        """
        table = self._table()
        terms = query_terms(text)
        if table is None or not terms or n <= 0:
            return []
        if where is None:
            pruned = maxscore.from_lists(self, table, terms, n)
            if pruned is None:
                pruned = maxscore.ranked(self, table, terms, n)
            if pruned is not None:
                return self._named(pruned)
            # ranked by rowid alone, named after: a join would look up every matching row
            return self._named([(float(s), int(r)) for r, s in self.db.execute(
                f"SELECT rowid, -bm25({table}) FROM {table} WHERE {table} MATCH ? "
                f"ORDER BY bm25({table}), rowid LIMIT ?", (any_of(terms), n))])
        narrowed = self._narrowed(table, terms, n, where, narrow) if narrow else None
        if narrowed is not None:
            return narrowed
        sql, params = where
        return [(str(c), float(s)) for c, s in self.db.execute(
            f"SELECT i.cid, -bm25({table}) AS s FROM {table} JOIN lexical_ids i "
            f"ON i.id = {table}.rowid WHERE {table} MATCH ? AND {sql} "
            f"ORDER BY bm25({table}), {table}.rowid LIMIT ?", (any_of(terms), *params, n))]

    def _narrowed(self, table: str, terms: list[str], n: int, where: SqlFilter,
                  narrow: Narrow) -> list[tuple[str, float]] | None:
        """:meth:`top` of a filtered query whose passing rows a value index finds; None
        when more than :data:`NARROW_UP_TO` pass (each FTS5 match is checked then)."""
        cond, params = narrow.where(where)
        sub = f"SELECT i.id FROM lexical_ids i WHERE i.collection=? AND {cond}"
        args = [self.collection, *params]
        count, lo, hi = self.db.execute(f"SELECT count(*), min(id), max(id) FROM ({sub} "
                                        "LIMIT ?)", [*args, NARROW_UP_TO + 1]).fetchone()
        if count > NARROW_UP_TO:
            return None
        if not count:
            return []
        if (hi - lo + 1) * LISTS_OVER_RANGE >= self.size() and \
                word_stats.listed(self.db, int(table[4:]), self.collection):
            import numpy as np

            passing = np.array([r for (r,) in self.db.execute(f"{sub} ORDER BY i.id", args)],
                               dtype=np.int64)
            listed = maxscore.from_lists(self, table, terms, n, passing)
            if listed is not None:
                return self._named(listed)
        within = (f"rowid BETWEEN ? AND ? AND +rowid IN ({sub})", [lo, hi, *args])
        pruned = maxscore.ranked(self, table, terms, n, within)
        if pruned is not None:
            return self._named(pruned)
        return self._named([(float(s), int(r)) for r, s in self.db.execute(
            f"SELECT rowid, -bm25({table}) FROM {table} WHERE {table} MATCH ? AND "
            f"{within[0]} ORDER BY bm25({table}), rowid LIMIT ?", (any_of(terms), *within[1], n))])

    def scores(self, table: str, match: str, within: SqlFilter | None = None
               ) -> dict[int, float]:
        """The BM25 score of every row matching an FTS5 query (and ``within``: SQL over
        the FTS5 table's ``rowid``), by rowid."""
        sql, params = within or ("1", [])
        return {int(r): float(s) for r, s in self.db.execute(
            f"SELECT rowid, -bm25({table}) FROM {table} WHERE {table} MATCH ? AND {sql}",
            (match, *params))}

    def _named(self, ranked: list[tuple[float, int]]) -> list[tuple[str, float]]:
        """(score, rowid) pairs as (chunk id, score)."""
        names: dict[int, str] = {}
        for i in range(0, len(ranked), 500):
            part = [r for _, r in ranked[i: i + 500]]
            names.update(self.db.execute(
                f"SELECT id, cid FROM lexical_ids WHERE id IN ({','.join('?' * len(part))})",
                part).fetchall())
        return [(str(names[r]), s) for s, r in ranked if r in names]

    def search(self, text: str, n: int, where: SqlFilter | None = None
               ) -> list[tuple[str, float]]:
        """Best ``n`` chunk ids for ``text`` (passing ``where``) with their BM25 scores."""
        out: list[tuple[str, float]] = []
        for part in self.pages(text, page=max(50, n), where=where):
            out += part
            if len(out) >= n:
                break
        return out[:n]

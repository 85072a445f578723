"""MaxScore over FTS5: the exact best ``n`` of an unfiltered BM25 query, scoring as few rows
as its words allow (:meth:`.lexical.LexicalIndex.top`).

A query word's share of any document's score is at most its idf times its bound
(:mod:`.word_stats`; at most ``idf * (k1 + 1)``). The words that can add the most are
*essential*: when the ``n``-th best score among the documents holding one of them, counting
those words alone, beats the most the other (common) words could add, no document holding
only common words can enter. Then only the essential words' rows are scored (FTS5's bm25
over their phrases), and the common words are added to the rows they could lift past that
``n``-th score:

- few rows against long common lists: their texts are split by FTS5's tokenizer
  (:func:`.words.counts`, about 30 µs a row) and the common words' shares computed as
  FTS5's bm25 does. FTS5 would count each common word's documents for its idf, a read of
  its whole posting list (54 ms for a word in 700,000 of a million chunks), and walk it to
  join it with the rare rows.
- else FTS5 scores ``(rare) AND (common)``, whose bm25 sums the expression's phrases.

A query of common words only, or one no set of rare words settles, is ranked exhaustively
(None here), as is one whose index changed between the reads (another writer).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from . import postings, word_stats
from .word_stats import K1, B, totals
from .words import any_of, counts, stems

if TYPE_CHECKING:
    import numpy as np

    from .lexical import LexicalIndex

#: rows at most whose common words are found by splitting their texts (about 30 µs a row)
SPLIT_UP_TO = 2048
#: posting-list entries FTS5 reads (counting a common word's documents, joining its list)
#: in the time one row's text is split: split when that is cheaper
SPLIT_COST = 400
#: the same from the words' lists (:func:`from_lists`: a list entry is read and scored in
#: about 20 ns, a short row's text fetched and split in about 30 µs)
SPLIT_LISTS = 1500
#: a query's words' rows at most, summed, for :func:`from_lists` (about 40 bytes an entry
#: while it is ranked); more are ranked by FTS5, a row at a time
LISTS_UP_TO = 10_000_000
#: FTS5 cuts a token at this many bytes
CUT = 32_768


def ranked(index: LexicalIndex, table: str, terms: list[str], n: int,
           within: tuple[str, list[Any]] | None = None) -> list[tuple[float, int]] | None:
    """The best ``n`` (score, rowid), best first, of the rows passing ``within`` (SQL over
    the FTS5 table's ``rowid``: a filter's rows), or None when no set of rare words
    settles them."""
    stamp, stats = index.stats(table, terms)
    for rare, common, most in _cuts(terms, n, stats):
        own = index.scores(table, any_of(rare), within)
        if len(own) < n:
            continue
        floor = sorted(own.values(), reverse=True)[n - 1]
        if floor <= most:
            continue  # the common words could still add enough: a wider essential set
        lifted = [r for r, s in own.items() if s + most > floor]
        if len(lifted) <= min(SPLIT_UP_TO, sum(stats[t][1] for t in common) / SPLIT_COST):
            both = _with_common(index, table, lifted, own, common,
                                {t: stats[t][1] for t in common})
        else:  # bm25 sums the expression's phrases: the full score where a common word joins
            both = index.scores(table, f"({any_of(rare)}) AND ({any_of(common)})", within)
        if not both.keys() <= own.keys() or index.stamp() != stamp:
            break  # the index changed while it was read: rank it all at once
        own.update(both)
        return sorted(((s, r) for r, s in own.items()), key=lambda x: (-x[0], x[1]))[:n]
    return None


def _cuts(terms: list[str], n: int, stats: dict[str, tuple[float, int, float]]
          ) -> Iterator[tuple[list[str], list[str], float]]:
    """MaxScore's splits of the query words into (rare, common, the most the common words
    can add to a score), the fewest rare words first: those whose rare words hold ``n``
    rows and could outscore the common ones; none once the rare words' rows are most of
    the work (then it is all ranked at once)."""
    by_bound = sorted(terms, key=lambda t: stats[t][2])  # the least they add first
    everything = sum(stats[t][1] for t in terms)
    for cut in range(len(by_bound) - 1, 0, -1):
        rare, common = by_bound[cut:], by_bound[:cut]
        reach = sum(stats[t][1] for t in rare)
        if reach < n:
            continue
        if 2 * reach >= everything:
            return
        most = sum(stats[t][2] for t in common) * (1 + 1e-9) + 1e-12
        if sum(stats[t][2] for t in rare) > most:  # (else they never outscore them: unread)
            yield rare, common, most


def _with_common(index: LexicalIndex, table: str, rows: Sequence[int], own: dict[int, float],
                 common: list[str], dfs: dict[str, int]) -> dict[int, float]:
    """The full scores of ``rows``: their rare words' (``own``) plus their common words'
    shares, as FTS5's bm25 adds them (its idf, the row's length in words, the average)."""
    if not rows:
        return {}
    docs, words = totals(index.db, table)
    average = words / docs if docs else 1.0
    idf = {stem: word_stats.idf(dfs[word], docs)
           for word, stem in zip(common, stems(common), strict=True)}
    texts: dict[int, str] = {}
    for i in range(0, len(rows), 500):
        part = list(rows[i: i + 500])
        texts.update(index.db.execute(f"SELECT rowid, body FROM {table} WHERE rowid IN "
                                      f"({','.join('?' * len(part))})", part).fetchall())
    keys = [r for r in rows if r in texts]
    out = {}
    for key, (length, tfs) in zip(keys, counts([texts[k] for k in keys]), strict=True):
        score = own[key]
        for stem, weight in idf.items():
            tf = tfs.get(stem, 0)
            if tf:
                score += weight * (tf * (K1 + 1)) / (tf + K1 * (1 - B + B * length / average))
        out[key] = score
    return out



def from_lists(index: LexicalIndex, table: str, terms: list[str], n: int,
               passing: np.ndarray | None = None) -> list[tuple[float, int]] | None:
    """The best ``n`` (score, rowid), best first, of the rows in ``passing`` (ids,
    ascending; None: every row), scored from the words' lists (:mod:`.postings`) as FTS5's
    bm25 scores them; None when the collection keeps no lists, or they do not hold what
    the index does, or a query word is more than one of the index's words (a phrase).

    MaxScore as in :func:`ranked`: only the rare words' lists are read when they settle the
    best ``n``, and the common words are added to the rows they could lift, from their
    lists, or, for a few rows against long lists, from the rows' texts."""
    number = int(table[4:])
    stamp, stats = index.stats(table, terms)  # (first: a write after it moves the stamp)
    if not word_stats.listed(index.db, number, index.collection):
        return None
    stem = dict(zip(terms, stems(terms), strict=True))
    if any(not w.isascii() for w in terms) and any(
            length != 1 for length, _ in counts([w for w in terms if not w.isascii()])):
        return None
    if any(len(s.encode()) >= CUT or "\ufffd" in s for s in stem.values()) or sum(
            stats[t][1] for t in terms) > LISTS_UP_TO:
        return None  # a word FTS5 cut inside a character; lists too long to hold at once
    docs, held = totals(index.db, table)
    lists = _Lists(index, number, stats, stem,
                   (docs, held / docs if docs else 1.0), passing)
    best = _best(index, table, terms, n, stats, lists)
    return None if index.stamp() != stamp else best  # (changed meanwhile: FTS5 ranks it)


class _Lists:
    """A query's words' lists (:mod:`.postings`), each read once when first needed and cut
    to the passing rows, scored as FTS5's bm25 scores them: whole lists for the words
    whose rows are ranked, only the lifted rows' entries for the words added to them."""

    def __init__(self, index: LexicalIndex, number: int,
                 stats: dict[str, tuple[float, int, float]], stem: dict[str, str],
                 totals: tuple[int, float], passing: np.ndarray | None) -> None:
        self.index, self.number, self.stats, self.stem = index, number, stats, stem
        self.docs, self.average = totals
        self.passing = passing
        self.held: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, float]] = {}

    def _load(self, some: list[str]) -> None:
        import numpy as np

        missing = [w for w in some if w not in self.held]
        lists = postings.read(self.index.db, self.number, [self.stem[w] for w in missing])
        for word in missing:
            ids, tf, dl = lists[self.stem[word]]
            if self.passing is not None and len(ids):
                want = self.passing.astype(ids.dtype)
                at = np.minimum(np.searchsorted(ids, want), len(ids) - 1)
                at = at[ids[at] == want]
                ids, tf, dl = ids[at], tf[at], dl[at]
            self.held[word] = (ids, tf, dl, word_stats.idf(self.stats[word][1], self.docs))

    def _shares(self, word: str, at: np.ndarray | None = None) -> np.ndarray:
        import numpy as np

        _, tf, dl, idf = self.held[word]
        if at is not None:
            tf, dl = tf[at], dl[at]
        tf = tf.astype(np.float64)
        return idf * (tf * (K1 + 1)) / (tf + K1 * (1 - B + B * dl / self.average))

    def scored(self, some: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each word's (row ids, shares of their scores)."""
        import numpy as np

        self._load(some)
        return [(self.held[w][0].astype(np.int64), self._shares(w)) for w in some]

    def add(self, some: list[str], rows: np.ndarray, sums: np.ndarray) -> None:
        """Add the words' shares to ``sums``, the scores of ``rows`` (ascending ids)."""
        import numpy as np

        self._load(some)
        for word in some:
            ids = self.held[word][0]
            if not len(ids) or not len(rows):
                continue
            want = rows.astype(ids.dtype)
            at = np.minimum(np.searchsorted(ids, want), len(ids) - 1)
            hit = ids[at] == want
            sums[hit] += self._shares(word, at[hit])


def _best(index: LexicalIndex, table: str, terms: list[str], n: int,
          stats: dict[str, tuple[float, int, float]], words: _Lists
          ) -> list[tuple[float, int]]:
    """The best ``n`` rows by the sum of the words' shares (MaxScore, as :func:`ranked`)."""
    import numpy as np

    for rare, common, most in _cuts(terms, n, stats):
        ids, sums = _summed(words.scored(rare))
        if len(ids) < n:
            continue
        floor = float(np.partition(sums, len(sums) - n)[len(sums) - n])
        if floor <= most:
            continue
        lifted = np.flatnonzero(sums + most > floor)
        if len(lifted) <= min(SPLIT_UP_TO, sum(stats[t][1] for t in common) / SPLIT_LISTS):
            rows = ids[lifted].tolist()
            full = _with_common(index, table, rows, dict(zip(rows, sums[lifted].tolist(),
                                                             strict=True)),
                                common, {t: stats[t][1] for t in common})
            sums[lifted] = [full.get(r, s) for r, s in zip(rows, sums[lifted], strict=True)]
        else:
            part = sums[lifted]
            words.add(common, ids[lifted], part)
            sums[lifted] = part
        return _ranked(ids, sums, n)
    return _ranked(*_summed(words.scored(terms)), n)


def _summed(scored: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The rows of any of the lists, and each one's summed shares."""
    import numpy as np

    scored = [p for p in scored if len(p[0])]
    if len(scored) <= 1:
        return (scored[0][0], scored[0][1].copy()) if scored else (
            np.zeros(0, dtype=np.int64), np.zeros(0))
    every = np.concatenate([i for i, _ in scored])
    top = int(every.max()) + 1
    if top <= 8 * len(every) + 1024:  # ids dense enough: add into one array by id
        sums = np.zeros(top)
        for ids, shares in scored:
            sums[ids] += shares
        ids = np.flatnonzero(sums)
        return ids, sums[ids]
    ids, where = np.unique(every, return_inverse=True)
    return ids, np.bincount(where, weights=np.concatenate([s for _, s in scored]))


def _ranked(ids: np.ndarray, sums: np.ndarray, n: int) -> list[tuple[float, int]]:
    import numpy as np

    if len(ids) > n:
        keep = np.argpartition(-sums, n - 1)[:n]
        ids, sums = ids[keep], sums[keep]
    order = np.lexsort((ids, -sums))
    return [(float(sums[i]), int(ids[i])) for i in order]

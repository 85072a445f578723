"""The words' lists (:mod:`semsearch.storage.postings`) against FTS5 on real SQLite: after any
writes they hold exactly FTS5's rows, counts and lengths, and a ranking from them is FTS5's
exhaustive ranking, filtered or not; a writer that does not keep them leaves them unused."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semsearch.storage import maxscore, postings, word_stats
from semsearch.storage.value_index import Narrow
from semsearch.storage.words import query_terms
from tests.unit.test_lexical_top import exhaustive, same
from tests.unit.test_word_stats import WORDS, index, measure, terms, text, write


def fts5_rows(lex: Any, term: str) -> list[tuple[int, int, int]]:
    """(row id, count, length) of every row holding ``term``, read from FTS5 itself."""
    table = lex.table()
    lex.db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.inst USING fts5vocab(main, "
                   f"{table}, 'instance')")
    found: dict[int, int] = {}
    for (doc,) in lex.db.execute("SELECT doc FROM temp.inst WHERE term=?", (term,)):
        found[int(doc)] = found.get(int(doc), 0) + 1
    lengths = dict(lex.db.execute(f"SELECT rowid, length(body) FROM {table}"))
    sizes = {}
    for doc in found:  # FTS5's length of a row: its tokens, from the instance table
        sizes[doc] = lex.db.execute("SELECT count(*) FROM temp.inst WHERE doc=?",
                                    (doc,)).fetchone()[0]
    assert set(found) <= set(lengths)
    return sorted((d, tf, sizes[d]) for d, tf in found.items())


def listed_rows(lex: Any, term: str) -> list[tuple[int, int, int]]:
    ids, tfs, dls = postings.read(lex.db, 1, [term])[term]
    return list(zip(ids.tolist(), tfs.tolist(), dls.tolist(), strict=True))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), block=st.sampled_from([3, 16, postings.BLOCK]),
       recent=st.sampled_from([1, 4, postings.RECENT]),
       steps=st.lists(st.tuples(st.sampled_from(["add", "replace", "remove"]),
                                st.integers(1, 30), st.booleans()), min_size=1, max_size=6))
def test_writes_keep_the_lists_exactly_fts5s_and_rankings_exhaustive(
        seed: int, block: int, recent: int, steps: list[tuple[str, int, bool]]) -> None:
    # small blocks: many of them per word; few recent rows: folded into the blocks often
    old = postings.BLOCK, postings.RECENT
    postings.BLOCK, postings.RECENT = block, recent
    try:
        rng = random.Random(seed)
        lex = index([text(rng) for _ in range(150)])
        measure(lex)
        write(lex, rng, steps, made=150)
        assert word_stats.listed(lex.db, 1, "c")
        for term in terms(lex):
            assert listed_rows(lex, term) == fts5_rows(lex, term), term
        sizes = [len(bytes(b)) // 12 for (b,) in lex.db.execute(
            "SELECT rows FROM lexical_postings")]
        assert sizes and max(sizes) <= block
    finally:
        postings.BLOCK, postings.RECENT = old
    calls: list[int] = []
    real = postings.read

    def counted(*args: Any) -> Any:
        calls.append(1)
        return real(*args)
    postings.read = counted  # type: ignore[assignment]
    try:
        for query in ("garden quoka", "tomato zebru vixndo", "ps cafés garden bicycle",
                      "garden", "nothingatall garden tomato"):
            for k in (1, 10, 40):
                same(lex.top(query, k), exhaustive(lex, query, k))
    finally:
        postings.read = real
    assert calls  # ranked from the lists


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), words=st.lists(st.sampled_from(WORDS), min_size=1,
                                                     max_size=4),
       n=st.sampled_from([1, 5, 20, 60]), narrowed=st.booleans(), split=st.booleans())
def test_a_ranking_from_the_lists_is_fts5s(seed: int, words: list[str], n: int,
                                           narrowed: bool, split: bool) -> None:
    """Common words added to the rows they could lift from their lists, or from the rows'
    texts (``split``): the same scores, and FTS5's exhaustive ranking's."""
    rng = random.Random(seed)
    lex = index([])
    lex.put(lex.db, [(f"d{i}", text(rng, long=i % 6 == 0), {"group": i % 3})
                     for i in range(400)])
    measure(lex)
    query = " ".join(words)
    if narrowed:  # a value index's rows: the lists are cut to them
        where: Any = ("json_extract(i.meta, '$.group') = ?", [1])
        narrow = Narrow("json_extract(i.meta, '$.group') = ?", [1], True)
        want = exhaustive(lex, query, n, "json_extract(i.meta, '$.group') = 1")
    else:
        where = narrow = None
        want = exhaustive(lex, query, n)
    cost = maxscore.SPLIT_LISTS
    maxscore.SPLIT_LISTS = 1e-9 if split else 1e12
    try:
        assert maxscore.from_lists(lex, "lex_1", query_terms(query), n) is not None
        same(lex.top(query, n, where, narrow), want)
    finally:
        maxscore.SPLIT_LISTS = cost


def test_a_writer_that_does_not_keep_the_lists_leaves_them_unused() -> None:
    """A process that keeps the counts but not the lists (a semsearch from before them,
    still running): FTS5 ranks until an ingest measures again."""
    rng = random.Random(2)
    lex = index([text(rng) for _ in range(300)])
    measure(lex)
    kept = word_stats.state(lex.db, "c")
    assert kept is not None and word_stats.listed(lex.db, 1, "c")
    older = {k: v for k, v in kept.items() if k != "posted"}
    lex.db.execute("UPDATE lexical_tables SET word_stats=?", (json.dumps(older),))
    assert not word_stats.listed(lex.db, 1, "c")  # measured before lists: not used
    assert maxscore.from_lists(lex, "lex_1", ["garden"], 5) is None
    lex.put(lex.db, [("new", "quoka quoka quoka", None)])  # and writes do not start them
    assert not word_stats.listed(lex.db, 1, "c")
    same(lex.top("quoka garden", 10), exhaustive(lex, "quoka garden", 10))
    assert word_stats._stale(lex.db, 1, "c")  # the next ingest measures again
    measure(lex)
    assert word_stats.listed(lex.db, 1, "c")
    assert listed_rows(lex, "quoka") == fts5_rows(lex, "quoka")
    # an older process's write: it keeps the counts' state (and the lists' mark) as it was
    kept = word_stats.state(lex.db, "c")
    assert kept is not None
    lex.db.execute("INSERT INTO lex_1(rowid, body) VALUES (9999, 'quoka garden')")
    lex.db.execute("INSERT INTO lexical_ids(id, collection, cid) VALUES (9999, 'c', 'z')")
    lex.db.execute("UPDATE lexical_tables SET rows = rows + 1")
    totals = word_stats.totals(lex.db, "lex_1")
    older = {**kept, "rows": totals[0], "words": totals[1], "last": 9999}  # counts kept
    lex.db.execute("UPDATE lexical_tables SET word_stats=?", (json.dumps(older),))
    assert not word_stats.listed(lex.db, 1, "c")
    assert lex.top("quoka", 400)[0][0] in {c for c, _ in exhaustive(lex, "quoka", 400)}


@pytest.mark.parametrize("word", ["naïve", "garden"])
def test_a_query_word_of_one_term_is_ranked_from_the_lists(word: str) -> None:
    lex = index(["naïve garden", "garden naive", "tomato"] * 20)
    measure(lex)
    assert maxscore.from_lists(lex, "lex_1", [word], 5) is not None
    same(lex.top(word, 5), exhaustive(lex, word, 5))


def test_a_filter_over_few_rows_seeks_them_and_a_broad_one_cuts_the_lists(
        monkeypatch) -> None:
    """A value index's passing rows: spread over the ids (a third of them), the words'
    lists are read and cut to them; one record, FTS5 seeks its matches in its range."""
    rng = random.Random(11)
    lex = index([])
    lex.put(lex.db, [(f"d{i}", text(rng), {"group": i % 3, "record": i}) for i in range(600)])
    measure(lex)
    calls: list[int] = []
    real = postings.read

    def counted(*args: Any) -> Any:
        calls.append(1)
        return real(*args)
    monkeypatch.setattr(postings, "read", counted)
    for field, value, lists in (("group", 1, True), ("record", 7, False)):
        calls.clear()
        sql = f"json_extract(i.meta, '$.{field}') = ?"
        got = lex.top("garden tomato", 20, (sql, [value]), Narrow(sql, [value], True))
        same(got, exhaustive(lex, "garden tomato", 20, sql.replace("?", str(value))))
        assert got and bool(calls) == lists, field


def test_another_writers_rows_are_not_covered_up_by_this_codes_next_write() -> None:
    """A writer that keeps neither counts nor lists replaces a row and leaves FTS5's totals
    as they were: this code's next write must not mark the lists current again."""
    lex = index([f"garden tomato f{i}" for i in range(100)])
    measure(lex)
    lex.db.execute("DELETE FROM lex_1 WHERE rowid=1")
    lex.db.execute("DELETE FROM lexical_ids WHERE id=1")
    cur = lex.db.execute("INSERT INTO lexical_ids(collection, cid) VALUES ('c', 'd0')")
    lex.db.execute("INSERT INTO lex_1(rowid, body) VALUES (?, 'quoka quoka f0')",
                   (cur.lastrowid,))
    assert not word_stats.listed(lex.db, 1, "c")
    lex.put(lex.db, [("new", "bicycle", None)])  # this code writes next
    assert not word_stats.listed(lex.db, 1, "c")
    assert word_stats.lookup(lex.db, 1, "c", ["quoka"]) is None  # nor the counts
    assert word_stats._stale(lex.db, 1, "c")  # the next ingest measures again
    same(lex.top("quoka", 5), exhaustive(lex, "quoka", 5))
    measure(lex)
    assert word_stats.listed(lex.db, 1, "c")
    assert listed_rows(lex, "quoka") == fts5_rows(lex, "quoka")


def test_a_query_word_fts5_cuts_inside_a_character_is_ranked_by_fts5() -> None:
    huge = "日" * 12_000  # 36,000 bytes: FTS5 keeps 32,768 of them, cutting a character
    lex = index([f"garden tomato f{i}" for i in range(50)] + [f"{huge} garden"])
    measure(lex)
    assert maxscore.from_lists(lex, "lex_1", query_terms(huge), 5) is None
    same(lex.top(huge, 5), exhaustive(lex, huge, 5))
    assert lex.top(huge, 5)


def an_older_write(lex: Any) -> None:
    """A row written by a process that keeps the counts but not the lists."""
    kept = word_stats.state(lex.db, "c")
    assert kept is not None
    lex.db.execute("INSERT INTO lexical_ids(id, collection, cid) VALUES (900, 'c', 'late')")
    lex.db.execute("INSERT INTO lex_1(rowid, body) VALUES (900, 'quoka quoka quoka')")
    rows, words = word_stats.totals(lex.db, "lex_1")
    lex.db.execute("UPDATE lexical_tables SET rows = rows + 1, word_stats=?", (json.dumps(
        {**kept, "rows": rows, "words": words, "last": 900}),))


@pytest.mark.parametrize("after, older", [("read", False), ("listed", True)])
def test_a_write_between_a_querys_reads_sends_it_to_fts5(monkeypatch, after: str,
                                                          older: bool) -> None:
    """A write commits after the query read the lists, or (an older writer's, counts kept
    and lists not) after it checked them: the answer from the lists is not used."""
    rng = random.Random(8)
    lex = index([text(rng) for _ in range(300)])
    measure(lex)
    owner: Any = postings if after == "read" else word_stats
    real = getattr(owner, after)

    def then_a_write(*args: Any) -> Any:
        out = real(*args)
        if older:
            an_older_write(lex)
        else:
            lex.put(lex.db, [("late", "quoka quoka quoka quoka", None)])
        return out
    monkeypatch.setattr(owner, after, then_a_write)
    assert maxscore.from_lists(lex, "lex_1", ["quoka"], 5) is None
    monkeypatch.setattr(owner, after, real)
    got = lex.top("quoka", 5)
    assert got[0][0] == "late"
    same(got, exhaustive(lex, "quoka", 5))

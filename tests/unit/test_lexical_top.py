"""The lexical index's pruned top-n (MaxScore over FTS5) against FTS5's own exhaustive
ranking, on real SQLite: the same scores, whatever the corpus, query, filter or n."""

from __future__ import annotations

import random
import sqlite3
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semsearch.storage import maxscore
from semsearch.storage.lexical import SCHEMA as LEXICAL_SCHEMA
from semsearch.storage.lexical import LexicalIndex
from semsearch.storage.value_index import Narrow
from semsearch.storage.vector_index import SCHEMA as VECTOR_SCHEMA
from semsearch.storage.words import any_of, query_terms

SCHEMA = LEXICAL_SCHEMA + VECTOR_SCHEMA  # lexical rows written without vectors drop them

COMMON = ["garden", "tomato", "bicycle", "boiler", "invoice"]
RARE = [f"{a}{b}" for a in ("quo", "zeb", "vix", "plo", "kra") for b in ("ka", "ru", "ndo")] + [
    "ps", "ts", "cafés", "naïve"]  # stemmed differently by other Porter implementations
WORDS = COMMON + RARE
WEIGHTS = [30, 12, 6, 3, 2] + [1] * len(RARE)


def index(docs: int, seed: int) -> LexicalIndex:
    db = sqlite3.connect(":memory:")
    db.executescript(SCHEMA)
    rng = random.Random(seed)
    lex = LexicalIndex(db, "c")
    lex.put(db, [(f"d{i}", " ".join(rng.choices(WORDS, WEIGHTS, k=rng.randint(2, 12))),
                  {"group": i % 3}) for i in range(docs)])
    return lex


def exhaustive(lex: LexicalIndex, text: str, n: int, where: str = "1") -> list[tuple[str, float]]:
    table = lex._table()
    return [(c, s) for c, s in lex.db.execute(
        f"SELECT i.cid, -bm25({table}) FROM {table} JOIN lexical_ids i ON i.id={table}.rowid "
        f"WHERE {table} MATCH ? AND {where} ORDER BY bm25({table}) LIMIT ?",
        (any_of(query_terms(text)), n))]


def same(got: list[tuple[str, float]], want: list[tuple[str, float]]) -> None:
    assert [round(s, 9) for _, s in got] == [round(s, 9) for _, s in want]
    tied = {round(want[-1][1], 9)} if want else set()  # the last score's ties may differ
    assert {c for c, s in got if round(s, 9) not in tied} == \
        {c for c, s in want if round(s, 9) not in tied}


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 10_000), words=st.lists(st.sampled_from(WORDS), min_size=1,
                                                     max_size=4),
       n=st.sampled_from([1, 5, 20, 60]), filtered=st.sampled_from([None, "sql", "narrow"]),
       split=st.booleans())
def test_top_is_the_exhaustive_ranking(seed: int, words: list[str], n: int,
                                       filtered: str | None, split: bool) -> None:
    lex = index(400, seed)
    text = " ".join(words)
    where: Any = ("json_extract(i.meta, '$.group') = ?", [1]) if filtered else None
    # a value index's narrowing: the passing rows' ids first, MaxScore among them
    narrow = Narrow("json_extract(i.meta, '$.group') = ?", [1], True) \
        if filtered == "narrow" else None
    want = exhaustive(lex, text, n, "json_extract(i.meta, '$.group') = 1" if filtered
                      else "1")
    cost = maxscore.SPLIT_COST
    maxscore.SPLIT_COST = 1e-9 if split else 1e12  # common words added here / by FTS5
    try:
        same(lex.top(text, n, where, narrow), want)
        pages = [h for page in lex.pages(text, page=7, where=where, narrow=narrow)
                 for h in page]
    finally:
        maxscore.SPLIT_COST = cost
    same(pages[:n], want)


def test_a_rare_word_spares_reading_the_common_ones() -> None:
    lex = index(3000, 1)
    statements: list[str] = []
    lex.db.set_trace_callback(statements.append)
    got = lex.top("garden tomato quoka", 10)
    lex.db.set_trace_callback(None)
    same(got, exhaustive(lex, "garden tomato quoka", 10))
    assert got and all("quoka" in lex.db.execute(
        "SELECT body FROM lex_1 JOIN lexical_ids i ON i.id = lex_1.rowid WHERE i.cid = ?",
        (c,)).fetchone()[0] for c, _ in got)
    plain = [s for s in statements if "ORDER BY bm25(" in s]
    assert plain == [], plain  # no exhaustive ranking of every garden and tomato


@pytest.mark.parametrize("split_cost", [1e12, 1e-9])  # FTS5 adds the common words / we do
def test_a_write_between_its_reads_is_met_by_an_exhaustive_ranking(tmp_path, monkeypatch,
                                                                   split_cost: float) -> None:
    monkeypatch.setattr(maxscore, "SPLIT_COST", split_cost)
    path = tmp_path / "catalog.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(SCHEMA)
    rng = random.Random(3)
    lex = LexicalIndex(db, "c")
    lex.put(db, [(f"d{i}", " ".join(rng.choices(WORDS, WEIGHTS, k=rng.randint(2, 12))), None)
                 for i in range(3000)])
    other = sqlite3.connect(path, isolation_level=None)
    writer = LexicalIndex(other, "c")
    real = LexicalIndex.scores
    calls: list[int] = []

    def scores_then_a_write(self, *args):  # another process commits between the two reads
        out = real(self, *args)
        if not calls:
            writer.put(other, [("new", "quoka quoka quoka garden", None)])
        calls.append(1)
        return out
    monkeypatch.setattr(LexicalIndex, "scores", scores_then_a_write)
    got = lex.top("garden tomato quoka", 10)
    assert calls  # it took the pruned path (the write came after its first read)
    same(got, exhaustive(lex, "garden tomato quoka", 10))
    assert got[0][0] == "new"


def test_a_word_counts_as_the_index_holds_it() -> None:
    """A query word's document count is its own term's: FTS5 leaves short words unstemmed
    and folds diacritics (another stemmer makes 'ps' 'p', a common word here, so 'ps'
    would be pruned as common)."""
    db = sqlite3.connect(":memory:")
    db.executescript(SCHEMA)
    lex = LexicalIndex(db, "c")
    lex.put(db, [(f"p{i}", "p t garden", None) for i in range(300)] +
            [(f"r{i}", "ps garden " + "filler " * i, None) for i in range(3)] +
            [("cafe", "café au lait", None)])
    table = lex._table()
    assert table is not None
    stats = lex.stats(table, ["ps", "p", "cafés", "cafe"])[1]
    assert [stats[w][1] for w in ("ps", "p", "cafés", "cafe")] == [3, 300, 1, 1]
    same(lex.top("ps garden", 5), exhaustive(lex, "ps garden", 5))
    assert [c for c, _ in lex.top("ps garden", 3)] == ["r0", "r1", "r2"]

"""A large collection's word statistics (:mod:`semsearch.storage.word_stats`) against FTS5's
own: document counts equal FTS5's, bounds hold every document's share of a score, through
any writes, and MaxScore ranks with them exactly as FTS5 ranks exhaustively."""

from __future__ import annotations

import math
import random
import sqlite3
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semsearch.storage import maxscore, word_stats
from semsearch.storage import words as tokenizer
from semsearch.storage.lexical import LexicalIndex
from semsearch.storage.words import counts
from tests.unit.test_lexical_top import SCHEMA, exhaustive, same

WORDS = ["garden", "tomato", "bicycle", "quoka", "zebru", "vixndo", "ps", "cafés"]
FILLER = [f"f{i}" for i in range(300)]


def text(rng: random.Random, long: bool = False) -> str:
    picked = rng.choices(WORDS, [20, 8, 4, 1, 1, 1, 1, 1], k=rng.randint(1, 4))
    size = rng.randint(20, 80) if long else rng.randint(0, 10)
    return " ".join(picked * rng.randint(1, 2) + rng.choices(FILLER, k=size))


def write(lex: LexicalIndex, rng: random.Random, steps: list[tuple[str, int, bool]],
          made: int) -> None:
    """Random writes after the first ``made`` rows (``d0``...): (kind, rows, long texts)
    steps; long texts move the average length past the one measured."""
    for kind, count, long in steps:
        if kind == "add":
            lex.put(lex.db, [(f"d{made + i}", text(rng, long), None) for i in range(count)])
            made += count
        elif kind == "replace":
            lex.put(lex.db, [(f"d{i}", text(rng, long), None)
                             for i in rng.sample(range(made), count)])
        else:
            lex.remove(lex.db, [f"d{rng.randrange(made)}" for _ in range(count)])


def index(docs: list[str]) -> LexicalIndex:
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.executescript(SCHEMA)
    lex = LexicalIndex(db, "c")
    lex.put(db, [(f"d{i}", t, None) for i, t in enumerate(docs)])
    return lex


def measure(lex: LexicalIndex) -> int:
    n = int(str(lex.table())[4:])
    word_stats.measure(lex.db, n, "c")
    return n


def fts5(lex: LexicalIndex, term: str) -> tuple[int, float, float]:
    """FTS5's document count of a term, its idf, and the best score it gives alone."""
    table = lex.table()
    df = lex.db.execute(f"SELECT doc FROM {table}_vocab WHERE term=?", (term,)).fetchone()
    rows = lex.size()
    df = int(df[0]) if df else 0
    best = lex.db.execute(f"SELECT -bm25({table}) FROM {table} WHERE {table} MATCH ? ORDER "
                          f"BY bm25({table}) LIMIT 1", (f'"{term}"',)).fetchone()
    return df, max(math.log((rows - df + 0.5) / (df + 0.5)), 1e-6), best[0] if best else 0.0


def terms(lex: LexicalIndex) -> list[str]:
    return [t for (t,) in lex.db.execute(f"SELECT term FROM {lex.table()}_vocab")]


@pytest.mark.parametrize("chunk", [word_stats.CHUNK, 7, 50])  # ranges, and read row by row
def test_measured_statistics_are_fts5s_own(monkeypatch, chunk: int) -> None:
    monkeypatch.setattr(word_stats, "CHUNK", chunk)
    rng = random.Random(5)
    lex = index([text(rng, long=i % 7 == 0) for i in range(600)])
    n = measure(lex)
    words = terms(lex)
    kept = word_stats.lookup(lex.db, n, "c", words)
    assert kept is not None and len(words) > 100
    for term in words:
        df, idf, best = fts5(lex, term)
        assert kept[term][0] == df, term
        assert math.isclose(kept[term][1] * idf, best, rel_tol=1e-9), term  # the very max


def test_without_measuring_there_are_none() -> None:
    lex = index(["garden tomato"] * 5)
    assert word_stats.lookup(lex.db, 1, "c", ["garden"]) is None
    assert word_stats.average_length(lex.db, "lex_1") == 2.0


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), steps=st.lists(st.tuples(
    st.sampled_from(["add", "replace", "remove"]), st.integers(1, 30), st.booleans()),
    min_size=1, max_size=6))
def test_writes_keep_counts_exact_and_bounds_above_every_score(
        seed: int, steps: list[tuple[str, int, bool]]) -> None:
    rng = random.Random(seed)
    lex = index([text(rng) for _ in range(200)])
    n = measure(lex)
    write(lex, rng, steps, made=200)
    kept = word_stats.lookup(lex.db, n, "c", WORDS + FILLER[:20])
    assert kept is not None
    for term in kept:
        df, idf, best = fts5(lex, term)
        assert kept[term][0] == df, term
        assert kept[term][1] * idf >= best * (1 - 1e-12), term
    for query in ("garden quoka", "tomato zebru vixndo", "ps cafés garden bicycle"):
        for k in (1, 10):
            same(lex.top(query, k), exhaustive(lex, query, k))


def test_bounds_let_a_rare_word_settle_what_the_plain_bound_cannot() -> None:
    """A word held once by short notes adds at most 1.0 x idf to a score, not 2.2 x idf:
    'quoka' (in 5% of the notes) then outranks whatever 'garden' (in 20%) could add."""
    rng = random.Random(2)
    notes = []
    for i in range(2000):
        words = rng.sample(FILLER, 8)
        words += ["quoka"] if i % 20 == 0 else [rng.choice(FILLER)]
        words += ["garden"] if i % 5 == 1 else [rng.choice(FILLER)]
        notes.append(" ".join(words))
    lex = index(notes)
    statements: list[str] = []
    lex.db.set_trace_callback(statements.append)
    before = lex.top("garden quoka", 10)
    assert any("ORDER BY bm25(" in s for s in statements)  # the plain bound: every row
    measure(lex)
    statements.clear()
    after = lex.top("garden quoka", 10)
    assert not any("ORDER BY bm25(" in s for s in statements)
    assert not any('MATCH \'"garden"\'' in s for s in statements)
    same(after, before)
    same(after, exhaustive(lex, "garden quoka", 10))


def test_ensure_measures_a_large_collection_once_and_again_when_texts_grow(
        monkeypatch) -> None:
    monkeypatch.setattr(word_stats, "STATS_FROM", 50)
    rng = random.Random(1)
    lex = index([text(rng) for _ in range(40)])
    said: list[str] = []

    @contextmanager
    def transaction():  # type: ignore[no-untyped-def]
        yield lex.db

    def ensure() -> None:
        word_stats.ensure(lex.db, 1, "c", lex.size(), transaction, said.append)

    ensure()
    assert said == [] and word_stats.state(lex.db, "c") is None  # small: FTS5's counts
    lex.put(lex.db, [(f"e{i}", text(rng), None) for i in range(20)])
    ensure()
    ensure()
    assert said == ["measuring the words of 'c' for faster lexical search"]
    first = word_stats.state(lex.db, "c")
    assert first is not None
    lex.put(lex.db, [(f"g{i}", text(rng, long=True), None) for i in range(60)])
    ensure()
    kept = word_stats.state(lex.db, "c")
    assert len(said) == 2 and kept is not None and kept["avgdl"] > first["avgdl"]
    assert kept["avgdl"] == word_stats.average_length(lex.db, "lex_1")


def test_a_writer_that_does_not_count_words_is_noticed() -> None:
    """Rows written by a process that does not keep the counts (a semsearch from before
    them, still running): the kept counts are not used until measured again."""
    rng = random.Random(4)
    lex = index([text(rng) for _ in range(300)])
    n = measure(lex)
    lex.db.executemany("INSERT INTO lex_1(rowid, body) VALUES (?,?)",
                       [(10_000 + i, "quoka quoka garden") for i in range(400)])
    lex.db.executemany("INSERT INTO lexical_ids(id, collection, cid) VALUES (?,?,?)",
                       [(10_000 + i, "c", f"x{i}") for i in range(400)])
    lex.db.execute("UPDATE lexical_tables SET rows = rows + 400")
    assert word_stats.lookup(lex.db, n, "c", ["quoka"]) is None
    same(lex.top("quoka tomato", 10), exhaustive(lex, "quoka tomato", 10))
    measure(lex)
    kept = word_stats.lookup(lex.db, n, "c", ["quoka"])
    assert kept is not None and kept["quoka"][0] == fts5(lex, "quoka")[0]
    # a replacement that leaves the totals as they were: "garden" becomes "quoka"
    row, body = lex.db.execute("SELECT rowid, body FROM lex_1 WHERE lex_1 MATCH 'garden' "
                               "LIMIT 1").fetchone()
    lex.db.execute("DELETE FROM lex_1 WHERE rowid=?", (row,))
    lex.db.execute("INSERT INTO lex_1(rowid, body) VALUES (?,?)",
                   (20_000, " ".join("quoka" if w == "garden" else w for w in body.split())))
    assert word_stats.totals(lex.db, "lex_1")[0] == word_stats.state(lex.db, "c")["rows"]
    assert word_stats.lookup(lex.db, n, "c", ["quoka"]) is None


def test_a_word_too_long_for_fts5_breaks_nothing() -> None:
    """FTS5 cuts a token at 32 KB, inside a character here: such a term cannot be read
    as text, and no query's word is it."""
    huge = "xж" * 12_000
    rng = random.Random(6)
    lex = index([text(rng) for _ in range(100)] + [f"garden {huge}"])
    n = measure(lex)
    lex.put(lex.db, [("more", f"quoka {huge} tomato", None)])
    lex.remove(lex.db, ["d100"])
    kept = word_stats.lookup(lex.db, n, "c", ["garden", "quoka"])
    assert kept is not None and kept["garden"][0] == fts5(lex, "garden")[0]
    same(lex.top("garden quoka", 5), exhaustive(lex, "garden quoka", 5))


def test_stems_survive_their_cache_filling_up(monkeypatch) -> None:
    monkeypatch.setattr(tokenizer, "_STEMS_MAX", 5)
    first = tokenizer.stems(["running", "gardens", "quokas"])
    assert tokenizer.stems(["running", "cats", "dogs", "birds", "gardens"]) == [
        "run", "cat", "dog", "bird", "garden"]
    assert first == ["run", "garden", "quoka"]
    assert counts(["running cats", "gardens of quokas"]) == [
        (2, {"run": 1, "cat": 1}), (3, {"garden": 1, "of": 1, "quoka": 1})]


def test_words_are_counted_as_fts5_tokenizes_them() -> None:
    texts = ["Don't panic: foo_bar 42nd x2 CamelCase", "a\tb\x00c -- e.g. U.S.A.", "", "   ",
             "running runs ran RUNNER", "café naïve Ångström straße", "日本語 テキスト", "x" * 70]
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE w USING fts5(body, tokenize='porter unicode61 "
               "remove_diacritics 2')")
    db.execute("CREATE VIRTUAL TABLE w_i USING fts5vocab(w, 'instance')")
    db.executemany("INSERT INTO w(rowid, body) VALUES (?,?)", list(enumerate(texts, 1)))
    want: list[tuple[int, dict[str, int]]] = [(0, {}) for _ in texts]
    for doc, term in db.execute("SELECT doc, term FROM w_i"):
        length, tfs = want[doc - 1]
        tfs[term] = tfs.get(term, 0) + 1
        want[doc - 1] = (length + 1, tfs)
    assert counts(texts) == want
    assert [counts([t])[0] for t in texts] == want


def test_common_words_added_by_splitting_texts_score_as_fts5(monkeypatch) -> None:
    """The rows a common word could lift get its share computed here (their texts split by
    FTS5's tokenizer) or by FTS5 over ``(rare) AND (common)``: the same scores either way,
    and FTS5's exhaustive ranking's."""
    rng = random.Random(9)
    lex = index([text(rng, long=i % 5 == 0) for i in range(1500)])
    measure(lex)
    monkeypatch.setattr(maxscore, "from_lists", lambda *args: None)  # MaxScore over FTS5
    queries = ["garden quoka", "tomato zebru", "garden tomato vixndo ps", "bicycle cafés",
               "garden bicycle quoka zebru"]
    got = {}
    for split in (False, True):  # FTS5 adds the common words, or the texts are split
        monkeypatch.setattr(maxscore, "SPLIT_COST", 1e-9 if split else 1e12)
        statements: list[str] = []
        lex.db.set_trace_callback(statements.append)
        got[split] = [lex.top(q, k) for q in queries for k in (1, 10, 40)]
        lex.db.set_trace_callback(None)
        joined = [s for s in statements if ") AND (" in s]
        assert bool(joined) != split, statements
    want = [exhaustive(lex, q, k) for q in queries for k in (1, 10, 40)]
    for a, b, w in zip(got[False], got[True], want, strict=True):
        same(a, w)
        same(b, w)

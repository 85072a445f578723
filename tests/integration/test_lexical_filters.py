"""Filtered lexical search in SQL: the chunk metadata kept beside the FTS5 rows, a ``where``
compiled to SQL, exact for any selectivity; the same answer as Chroma's own filter; a catalog
from before (schema 3) filled in from the store once."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import chromadb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from semsearch.client.library import Library
from semsearch.search.filters import parse_where
from semsearch.storage import maxscore, word_stats
from semsearch.storage.catalog import SCHEMA_VERSION, Catalog
from semsearch.storage.value_index import expression
from semsearch.storage.where_sql import compile_where, index_atoms

# a small collection whose metadata mixes kinds: ints, floats, bools, strings, missing keys
VALUES: list[Any] = [0, 1, 2, 1.0, 2.5, -3, True, False, "1", "a", "b", "x y"]
KEYS = ["year", "camera", "flag"]


def _metadatas() -> list[dict[str, Any]]:
    metas = []
    for i in range(60):
        meta: dict[str, Any] = {"n": i}
        for j, key in enumerate(KEYS):
            if (i + j) % 5:  # some rows lack some keys
                meta[key] = VALUES[(i * (j + 3) + j) % len(VALUES)]
        metas.append(meta)
    return metas


@pytest.fixture(scope="module")
def chroma_and_sql() -> tuple[Any, sqlite3.Connection]:
    metas = _metadatas()
    col = chromadb.EphemeralClient().get_or_create_collection("parity-filters")
    ids = [str(i) for i in range(len(metas))]
    col.add(ids=ids, embeddings=[[1.0, 0.0]] * len(ids), metadatas=metas)  # type: ignore[arg-type]
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE rows(cid TEXT, meta TEXT)")
    db.executemany("INSERT INTO rows VALUES (?,?)", [(c, json.dumps(m))
                                                     for c, m in zip(ids, metas, strict=True)])
    return col, db


# where clauses as a user writes them (--where KEY OP VALUE), combined with $and / $or
_INT_OR_TEXT = st.sampled_from(["0", "1", "2", "-3", "a", "b", "'1'", "true", "false"])
_OP = st.sampled_from(["=", "!=", ">", ">=", "<", "<="])
_ONE = st.builds(lambda k, op, v: f"{k}{op}{v}", st.sampled_from(KEYS), _OP, _INT_OR_TEXT)


def _where(filters: list[str]) -> dict[str, Any] | None:
    try:
        return parse_where(filters)
    except Exception:
        return None  # an ordering on text: refused before any search


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_ONE, min_size=1, max_size=3), st.booleans())
def test_sql_filter_matches_chromas(chroma_and_sql, filters: list[str], either: bool):
    col, db = chroma_and_sql
    where = _where(filters)
    if where is None:
        return
    if either and "$and" in where:
        where = {"$or": where["$and"]}
    compiled = compile_where(where, "meta")
    if compiled is None:  # only an ordering on true/false: left to the store
        assert any(op in f and f.endswith(("true", "false")) for f in filters
                   for op in "<>"), filters
        return
    sql, params = compiled
    got = {r[0] for r in db.execute(f"SELECT cid FROM rows WHERE {sql}", params)}
    assert got == set(col.get(where=where, include=[])["ids"]), where


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_ONE, min_size=1, max_size=3), st.booleans())
def test_what_a_value_index_serves_holds_every_passing_row(chroma_and_sql,
                                                           filters: list[str], either: bool):
    """Each clause a value index serves is met by every row the filter passes; when the
    clauses are the whole filter and exact, by those rows only (the filter is then not
    checked again)."""
    _, db = chroma_and_sql
    where = _where(filters)
    if where is None or compile_where(where, "meta") is None:
        return
    if either and "$and" in where:
        where = {"$or": where["$and"]}
    sql, params = compile_where(where, "meta") or ("", [])
    passing = {r[0] for r in db.execute(f"SELECT cid FROM rows WHERE {sql}", params)}
    atoms, whole = index_atoms(where)
    for key, atom, values, exact in atoms:
        met = {r[0] for r in db.execute(
            f"SELECT cid FROM rows i WHERE {atom.format(value=expression(key, 'i.meta'))}",
            values)}
        assert passing <= met, (where, atom, values)
        if whole and exact and len(atoms) == 1:
            assert passing == met, (where, atom, values)
    if whole:
        both = " AND ".join(a.format(value=expression(k, "i.meta")) for k, a, _, _ in atoms)
        met = {r[0] for r in db.execute(f"SELECT cid FROM rows i WHERE {both}",
                                        [v for _, _, vs, _ in atoms for v in vs])}
        assert passing <= met
        if all(e for *_, e in atoms):
            assert passing == met, where


def test_in_and_nin_match_chromas(chroma_and_sql):
    col, db = chroma_and_sql
    for where in ({"camera": {"$in": ["a", "b"]}}, {"year": {"$nin": [0, 1, 2]}},
                  {"flag": {"$in": [True]}}, {"$and": [{"year": {"$gte": 0}},
                                                       {"camera": {"$nin": ["x y"]}}]}):
        sql, params = compile_where(where, "meta") or ("", [])
        got = {r[0] for r in db.execute(f"SELECT cid FROM rows WHERE {sql}", params)}
        assert got == set(col.get(where=where, include=[])["ids"]), where


def test_what_sql_cannot_express_is_left_to_the_store():
    assert compile_where({"tags": {"$contains": "a"}}) is None
    assert compile_where({"$not": {"a": 1}}) is None
    assert compile_where({"a": {"$gt": "text"}}) is None
    assert compile_where(None) == ("1", [])
    assert compile_where({"café": "noir"}) is None  # stored escaped (caf\u00e9): no path


def _records(path: Path, n: int) -> Path:
    """``n`` records; one in ten says 'apple'; the first of them (the only one on shelf 7)
    says it once, the others three times, so it comes last in BM25's order."""
    with path.open("w") as f:
        for i in range(n):
            fruit = "pear" if i % 10 else "apple"
            body = f"{fruit} " * (3 if i else 1) + f"orchard note number {i}"
            f.write(json.dumps({"text": body, "shelf": 7 if i == 0 else 1, "rank": i}) + "\n")
    return path


def test_a_selective_filter_is_one_sql_query(lib: Library, tmp_path: Path, monkeypatch):
    col = lib.collection("sel", clip_model="none")
    col.ingest([_records(tmp_path / "apples.jsonl", 400)])
    monkeypatch.setattr(type(lib.data.store), "passing", lambda *a, **k: pytest.fail(
        "the filter was checked in the store"))
    for mode in ("lexical", "hybrid"):
        hits = col.search("apple", type="text", mode=mode, k=5, where=["shelf=7"])
        assert [h.metadata["rank"] for h in hits] == [0], mode
    # a range: exactly the apple records it names
    hits = col.search("apple", type="text", mode="lexical", k=50, where=["rank>=300"])
    assert sorted(h.metadata["rank"] for h in hits) == list(range(300, 400, 10))
    assert col.search("apple", type="text", mode="lexical", where=["shelf=8"]) == []


def _downgrade(catalog: Path) -> None:
    """Make a current catalog look like one schema 3 wrote (no metadata beside the rows)."""
    db = sqlite3.connect(catalog)
    db.execute("ALTER TABLE lexical_ids DROP COLUMN meta")
    db.execute("ALTER TABLE lexical_tables DROP COLUMN filters")
    db.execute("ALTER TABLE lexical_tables DROP COLUMN word_stats")
    db.execute("DROP TABLE lexical_words")
    db.execute("PRAGMA user_version=3")
    db.commit()
    db.close()


def test_a_schema_3_catalog_gets_its_metadata_from_the_store_once(home: Path, tmp_path: Path):
    lib = Library(home)
    lib.collection("old", clip_model="none").ingest([_records(tmp_path / "a.jsonl", 40)])
    lib.close()
    _downgrade(home / "catalog.sqlite")
    said: list[str] = []
    lib = Library(home, on_wait=said.append)
    assert Catalog(home / "catalog.sqlite").schema_version() == SCHEMA_VERSION == 7
    index = lib.data.lexical("old")
    assert not index.filterable()
    col = lib.collection("old")
    hits = col.search("apple", type="text", mode="lexical", where=["shelf=7"])
    assert [h.metadata["rank"] for h in hits] == [0]
    assert said == ["indexing the metadata of 'old' for filtered lexical search "
                    "(40 chunks, once after an upgrade)"]
    assert index.filterable()
    assert lib.catalog.db.execute(
        "SELECT count(*) FROM lexical_ids WHERE collection='old' AND meta IS NULL"
    ).fetchone()[0] == 0
    col.search("apple", type="text", mode="lexical", where=["shelf=7"])
    assert len(said) == 1  # once
    lib.close()


def test_only_a_filtered_search_skips_the_pruned_ranking(lib: Library, tmp_path: Path,
                                                         monkeypatch):
    """MaxScore (``maxscore.ranked``) is tried for every unfiltered lexical or hybrid
    search (the retriever compiles no filter to ``("1", [])``); a filtered one without a
    value index (a small collection) is ranked exhaustively."""
    col = lib.collection("prune", clip_model="none")
    col.ingest([_records(tmp_path / "apples.jsonl", 200)])
    tried: list[str] = []
    real = maxscore.ranked
    monkeypatch.setattr(maxscore, "ranked", lambda index, table, terms, n, *within: (
        tried.append(" ".join(terms)), real(index, table, terms, n, *within))[1])
    for mode in ("lexical", "hybrid"):
        tried.clear()
        assert col.search("apple orchard", type="text", mode=mode, k=5), mode
        assert tried == ["apple orchard"], mode
        tried.clear()
        assert col.search("apple orchard", type="text", mode=mode, k=5, where=["shelf=7"])
        assert tried == [], mode


def test_an_ingest_keeps_a_large_collections_word_statistics(home: Path, tmp_path: Path,
                                                             monkeypatch):
    """Past the size, the ingest measures the words (once, saying so); later ingests keep
    the counts; searches rank with them exactly as without."""
    monkeypatch.setattr(word_stats, "STATS_FROM", 150)
    said: list[str] = []
    lib = Library(home, on_wait=said.append)
    col = lib.collection("big", clip_model="none")
    col.ingest([_records(tmp_path / "a.jsonl", 100)])
    assert said == []
    col.ingest([_records(tmp_path / "b.jsonl", 100)])
    assert said == ["measuring the words of 'big' for faster lexical search"]
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "n.txt").write_text("an apple orchard note about pruning apple trees")
    col.ingest([notes])
    (notes / "n.txt").unlink()
    col.ingest([notes], prune_missing=True)
    assert len(said) == 1
    index = lib.data.lexical("big")
    table = str(index.table())
    kept = word_stats.lookup(lib.data.catalog.db, int(table[4:]), "big", ["appl", "orchard"])
    fts5 = dict(lib.data.catalog.db.execute(
        f"SELECT term, doc FROM {table}_vocab WHERE term IN ('appl', 'orchard')").fetchall())
    assert kept is not None and {t: v[0] for t, v in kept.items()} == fts5
    hits = [(h.id, h.score) for h in col.search("apple orchard", type="text", k=10,
                                                 mode="lexical")]
    monkeypatch.setattr(word_stats, "lookup", lambda *a, **k: None)  # FTS5's own counts
    assert [(h.id, h.score) for h in col.search("apple orchard", type="text", k=10,
                                                mode="lexical")] == hits
    lib.close()

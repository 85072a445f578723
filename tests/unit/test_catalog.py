"""The catalog: schema version, migration of an older catalog, profiles' SQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from semsearch.errors import CatalogError
from semsearch.storage.catalog import SCHEMA_VERSION, Catalog
from semsearch.types import ModelSpec

V1 = """
CREATE TABLE collections(
    name TEXT PRIMARY KEY, text_model TEXT NOT NULL, clip_model TEXT, clip_pretrained TEXT,
    text_dim INTEGER, clip_dim INTEGER, created TEXT NOT NULL);
CREATE TABLE files(
    collection TEXT NOT NULL, path TEXT NOT NULL, size INTEGER, mtime_ns INTEGER,
    sha256 TEXT, kind TEXT, options TEXT, spaces TEXT, PRIMARY KEY(collection, path));
CREATE TABLE items(
    collection TEXT NOT NULL, item_id TEXT NOT NULL, path TEXT NOT NULL,
    content_key TEXT NOT NULL, modality TEXT NOT NULL, text_chunks INTEGER NOT NULL,
    clip_chunks INTEGER NOT NULL, PRIMARY KEY(collection, item_id));
CREATE TABLE pending(
    collection TEXT NOT NULL, item_id TEXT NOT NULL, text_chunks INTEGER NOT NULL,
    clip_chunks INTEGER NOT NULL, PRIMARY KEY(collection, item_id));
INSERT INTO collections VALUES ('old', 'sentence-transformers/all-MiniLM-L6-v2', 'ViT-B-32',
    'laion2b_s34b_b79k', 384, 512, '2026-01-01T00:00:00');
"""


def test_a_new_catalog_has_the_current_version(tmp_path: Path) -> None:
    cat = Catalog(tmp_path / "c.sqlite")
    assert cat.schema_version() == SCHEMA_VERSION
    cat.create_collection("x", ModelSpec("t", None, None, "fake", "open-clip"))
    row = cat.collection("x")
    assert row is not None and row.models == ModelSpec("t", None, None, "fake", "open-clip")


def test_a_version_1_catalog_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    db = sqlite3.connect(path)
    db.executescript(V1)
    db.commit()
    db.close()
    cat = Catalog(path)
    assert cat.schema_version() == SCHEMA_VERSION
    row = cat.collection("old")
    assert row is not None
    assert row.models == ModelSpec("sentence-transformers/all-MiniLM-L6-v2", "ViT-B-32",
                                   "laion2b_s34b_b79k", "sentence-transformers", "open-clip")
    assert (row.text_dim, row.clip_dim) == (384, 512)
    cat.close()
    assert Catalog(path).schema_version() == SCHEMA_VERSION  # reopening is a no-op


def test_a_catalog_from_a_newer_semsearch_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    Catalog(path).db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(CatalogError, match="newer semsearch"):
        Catalog(path)


def test_profile_entries_flip_and_go_with_the_collection(tmp_path: Path) -> None:
    cat = Catalog(tmp_path / "c.sqlite")
    cat.create_collection("c", ModelSpec("t", None, None))
    cat.set_profile_entries("c", "me", [("item", "a"), ("text", "sunsets")], "like", "t1")
    cat.set_profile_entries("c", "me", [("item", "a")], "unlike", "t2")
    assert sorted((r, k, p) for r, k, p, _ in cat.profile_entries("c", "me")) == [
        ("a", "item", "unlike"), ("sunsets", "text", "like")]
    assert cat.profile_names("c") == [("me", 1, 1)]
    assert cat.forget_profile_entries("c", "me", ["sunsets"]) == 1
    cat.drop_collection("c")
    assert cat.profile_names("c") == []


def test_value_indexes_take_any_metadata_and_are_made_once(tmp_path: Path) -> None:
    """A value index on a field: rows whose metadata holds NaN or infinities are still
    written (JSON has none: they are kept as text), a field the collection lacks gets no
    index, and a field is tried once per process."""
    from semsearch.storage import value_index

    cat = Catalog(tmp_path / "c.sqlite")
    lex = cat.lexical("c")
    with cat.transaction() as db:
        lex.put(db, [(f"d{i}", f"note {i}", {"score": float(i), "group": "a" if i % 2 else "b"})
                     for i in range(20)])
    said: list[str] = []

    def narrow(where: dict) -> value_index.Narrow | None:  # type: ignore[type-arg]
        return value_index.narrowing(cat.db, "c", where, value_index.INDEX_FROM,  # (large)
                                     cat.transaction, said.append)

    assert narrow({"score": {"$gt": 3}}) is not None
    assert narrow({"nothing": "x"}) is None and narrow({"nothing": "x"}) is None
    assert said == ["indexing the metadata field 'score' for filters (once)"]
    assert cat.lexical("c").size() == 20 and value_index.fields(cat.db) == ["score"]
    with cat.transaction() as db:  # (SQLite's JSON functions refuse NaN: the index with them)
        lex.put(db, [("odd", "an odd note", {"score": float("nan"), "worst": float("-inf")})])
    assert cat.db.execute("SELECT meta FROM lexical_ids WHERE cid='odd'").fetchone()[0] == \
        '{"score":"nan","worst":"-inf"}'
    got = narrow({"group": "a"})
    assert got is not None and got.exact
    assert {r[0] for r in cat.db.execute(
        f"SELECT i.cid FROM lexical_ids i WHERE {got.sql}", got.params)} == \
        {f"d{i}" for i in range(1, 20, 2)}


def test_the_second_connection_is_not_opened_after_close(tmp_path: Path) -> None:
    cat = Catalog(tmp_path / "c.sqlite")
    assert cat.side().execute("SELECT 1").fetchone() == (1,)
    cat.close()
    with pytest.raises(CatalogError, match="closed"):
        cat.side()

"""The vector index's tables (:mod:`.vector_index`), apart from it: the catalog creates them
on opening without importing numpy."""

import os


def usable() -> bool:
    """Whether queries may use the index (``SEMSEARCH_VECTOR_INDEX=0``: always Chroma)."""
    return os.environ.get("SEMSEARCH_VECTOR_INDEX", "1") != "0"


SCHEMA = """
CREATE TABLE IF NOT EXISTS vector_index(
    collection TEXT PRIMARY KEY, dim INTEGER NOT NULL, file TEXT, main_rows INTEGER NOT NULL
    DEFAULT 0, gen INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS vector_delta(
    collection TEXT NOT NULL, key INTEGER NOT NULL, vec BLOB NOT NULL,
    PRIMARY KEY(collection, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS lexical_ids_key ON lexical_ids(collection, id);
"""

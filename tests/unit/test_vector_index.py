"""The vector index on a real catalog and real usearch files, with random vectors (no
model): a new index never reuses an old one's cached rows; rows written without vectors
drop it; merges keep every live key and only those."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from semsearch.storage import vector_index
from semsearch.storage.catalog import Catalog
from semsearch.storage.vector_files import VectorFiles
from semsearch.storage.vector_index import VectorIndex

RNG = np.random.default_rng(0)


def unit(dim: int) -> np.ndarray:
    v = RNG.standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


def put(cat: Catalog, ids: list[str], dim: int) -> list[np.ndarray]:
    vecs = [unit(dim) for _ in ids]
    with cat.transaction() as db:
        cat.lexical("c").put(db, [(i, f"text of {i}", {"i": i}) for i in ids], vecs)
    return vecs


def test_an_index_made_anew_is_read_anew_even_by_a_long_lived_reader(tmp_path: Path) -> None:
    cat = Catalog(tmp_path / "catalog.sqlite")
    put(cat, ["a"], 384)  # no index yet: rows are not noted
    index = VectorIndex(cat.db, tmp_path, "c", cat.lock)
    assert index.state() is None and index.search(unit(384), 3) is None
    with cat.transaction() as db:
        vector_index.create(db, "c")
    vecs = put(cat, ["x0", "x1", "x2"], 384)
    hits = index.search(vecs[1], 3)
    assert hits is not None and len(hits) == 3 and abs(hits[0][1]) < 1e-5
    with cat.transaction() as db:  # a reindex with a model of another size
        cat.lexical("c").drop(db)
        vector_index.create(db, "c")
    vecs = put(cat, ["x0", "x1", "x2"], 768)
    state = index.state()
    assert state is not None and state.dim == 768
    hits = index.search(vecs[2], 2)
    assert hits is not None and len(hits) == 2 and abs(hits[0][1]) < 1e-5


def test_rows_written_without_vectors_drop_the_index(tmp_path: Path) -> None:
    cat = Catalog(tmp_path / "catalog.sqlite")
    with cat.transaction() as db:
        vector_index.create(db, "c")
    put(cat, ["a", "b"], 8)
    with cat.transaction() as db:
        cat.lexical("c").put(db, [("c", "more text", {})])
    assert VectorIndex(cat.db, tmp_path, "c", cat.lock).state() is None


def test_merges_keep_every_live_key_and_only_those(tmp_path: Path) -> None:
    cat = Catalog(tmp_path / "catalog.sqlite")
    with cat.transaction() as db:
        vector_index.create(db, "c")
    index = VectorIndex(cat.db, tmp_path, "c", cat.lock)
    files = VectorFiles(index, cat.transaction)
    vecs = dict(zip([f"x{i}" for i in range(40)], put(cat, [f"x{i}" for i in range(40)], 16),
                    strict=True))
    assert files.merge(force=True)
    vecs.update(zip([f"y{i}" for i in range(5)], put(cat, [f"y{i}" for i in range(5)], 16),
                    strict=True))
    gone = [f"x{i}" for i in range(30)]
    with cat.transaction() as db:
        cat.lexical("c").remove(db, gone)
    assert files.merge()  # most of the file is dead: made anew
    state = index.state()
    assert state is not None and index.delta_rows() == 0 and state.main_rows == 15
    keys = files.keys_of(list(vecs))
    assert sorted(keys) == sorted(set(vecs) - set(gone))
    for cid, key in keys.items():
        hits = index.search(vecs[cid], 1)
        assert hits is not None and hits[0][0] == key
    assert [p.name for p in (tmp_path / "vectors").iterdir()] == [state.file]

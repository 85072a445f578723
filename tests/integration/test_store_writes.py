"""The vector store's write path against a real embedded Chroma."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from chromadb.api.models.Collection import Collection

from semsearch import ModelSpec
from semsearch.storage.vectors import Store


def test_each_client_reads_a_collection_before_its_first_write(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Chroma 1.5 rebuilds a collection's unpersisted vectors in the first write after the
    first read on a client that wrote before reading (seconds per thousand vectors): the store
    reads first, on every client, so writes that follow reads stay cheap."""
    calls: list[tuple[str, str]] = []
    for op in ("count", "upsert", "delete"):
        original = getattr(Collection, op)

        def spy(self: Any, *args: Any, _op: str = op, _f: Any = original, **kw: Any) -> Any:
            calls.append((_op, self.name))
            return _f(self, *args, **kw)
        monkeypatch.setattr(Collection, op, spy)

    spec = ModelSpec("t", None, None)
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(1200, 8)).astype(np.float32)
    ids = [f"i{n}" for n in range(len(vectors))]
    store = Store(tmp_path)
    store.upsert("notes", "text", spec, ids, vectors, [{"n": n} for n in range(1200)],
                 [None] * 1200)
    assert store.count("notes", "text") == 1200
    store.delete("notes", "text", ["i7"])
    assert calls[0] == ("count", "notes.text")  # read before the first write
    assert [c for c in calls if c[0] != "count"][0] == ("upsert", "notes.text")
    assert store.count("notes", "text") == 1199
    assert store.passing("notes", "text", ["i7", "i8"], None) == {"i8"}

    store.embedded._reopen(full=True)  # type: ignore[union-attr]  # another process's client
    calls.clear()
    store.delete("notes", "text", ["i9"])
    assert calls[:2] == [("count", "notes.text"), ("delete", "notes.text")]
    assert store.count("notes", "text") == 1198

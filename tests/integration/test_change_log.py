"""The server's change log stays bounded: each writer keeps its last records, and a reader
whose marks fall below a writer's floor knows it must read the collection anew. On a real
Chroma collection (a local client: the log is an ordinary collection)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from semsearch.storage import changes
from semsearch.storage.changes import ChangeLog, log_name
from semsearch.storage.chroma_import import import_chromadb


def writer_home(tmp_path: Path, name: str) -> ChangeLog:
    home = tmp_path / name
    home.mkdir()
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.executescript(changes.SCHEMA)

    @contextlib.contextmanager
    def transaction() -> Iterator[sqlite3.Connection]:
        with db:
            yield db
    return ChangeLog(db, transaction, home)


def test_each_writer_keeps_its_last_records_and_readers_below_its_floor_read_anew(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(changes, "KEEP", 30)
    monkeypatch.setattr(changes, "COMPACT_EVERY", 10)
    chromadb = import_chromadb()
    client = chromadb.PersistentClient(path=str(tmp_path / "chroma"))
    a, b, reader = (writer_home(tmp_path, n) for n in ("a", "b", "reader"))
    for i in range(1, 96):
        a.record(client, "c", [f"a{i}#0"])
    for i in range(1, 6):
        b.record(client, "c", [f"b{i}#0"])
    log = client.get_collection(log_name("c"))
    a_id, b_id = a.writer(), b.writer()
    assert a_id and b_id
    heads = reader.heads(log)
    assert heads == {a_id: 95, b_id: 5}
    kept = log.get(where={"writer": a_id}, include=["metadatas"])["metadatas"]
    # floor 60 since seq 90; the floor itself is a record at seq 0 (clients from before
    # floors read it as an empty record)
    assert sorted(int(m["seq"]) for m in kept) == [0, *range(61, 96)]
    assert [m["floor"] for m in kept if m["seq"] == 0] == [60]

    # a reader that applied up to a's 70th record reads only what follows
    ids, after = reader.since(log, {a_id: 70, b_id: 5})
    assert ids == {f"a{i}#0" for i in range(71, 96)} and after == {a_id: 95, b_id: 5}
    assert not reader.behind(log, {a_id: 70, b_id: 5})
    # one that stopped at 40 missed records that are gone: it must read the collection anew
    assert reader.behind(log, {a_id: 40, b_id: 5})
    assert reader.behind(log, {b_id: 5})  # never met a, whose first records are gone
    # a writer is never behind itself (its own catalog indexed its rows)
    assert not a.behind(log, {})

"""The vector index (:mod:`semsearch.storage.vector_index`): text queries answered from a
memory-mapped copy of the text vectors, with the store's hits, through merges, changes,
removals, filters, a lexical rebuild and an upgrade. Real MiniLM, real Chroma, real files."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from helpers import SHORT_TEXTS, write

from semsearch.client.library import Library
from semsearch.storage import data_dir, vector_files, vector_index
from semsearch.storage.vector_files import VectorFiles

WORDS = ["garden", "tomato", "bicycle", "puncture", "boiler", "pressure", "invoice", "server",
         "recipe", "pasta", "garlic", "holiday", "flight", "passport", "dentist", "insurance",
         "budget", "guitar", "chord", "camping", "tent", "compost", "kitchen", "paint",
         "library", "deadline", "meeting", "sourdough", "parking", "wifi", "router", "laptop"]
QUERIES = ["fixing a flat tyre on my bike", "what to cook for dinner tonight",
           "the central bank and the markets", "sourdough starter recipe", "wifi router password"]


def records(path: Path, n: int = 48) -> Path:
    rng = random.Random(3)
    write(path, "\n".join(json.dumps({
        "id": f"r{i}", "body": " ".join(rng.choices(WORDS, k=8)),
        "group": "a" if i % 3 == 0 else "b"}) for i in range(n)) + "\n")
    return path


def hits(col, query: str, mode: str, **kw) -> list[tuple[str, float]]:
    return [(h.id, round(h.score, 2)) for h in col.search(query, type="text", mode=mode,
                                                           k=5, **kw)]


def same_as_store(col, monkeypatch, **kw) -> None:
    """Every query and mode gives the store's hits (ids in order, scores to 0.01: the main
    file holds float16)."""
    for query in QUERIES:
        for mode in ("dense", "hybrid"):
            monkeypatch.setenv("SEMSEARCH_VECTOR_INDEX", "0")
            want = hits(col, query, mode, **kw)
            monkeypatch.delenv("SEMSEARCH_VECTOR_INDEX")
            got = hits(col, query, mode, **kw)
            assert [i for i, _ in got] == [i for i, _ in want], (query, mode)
            assert all(abs(a[1] - b[1]) <= 0.011 for a, b in zip(got, want, strict=True)),\
                       (query, mode)


def notes(src: Path) -> Path:
    for name, text in SHORT_TEXTS.items():
        write(src / name, text)
    return src


def files(home: Path) -> list[str]:
    return sorted(p.name for p in (home / "vectors").iterdir())


def test_queries_match_the_store_through_merges_changes_and_removals(tmp_path: Path,
                                                                      monkeypatch) -> None:
    monkeypatch.setattr(vector_files, "MERGE_AT", 4)
    src = notes(tmp_path / "src")
    records(src / "records.jsonl")
    home = tmp_path / "home"
    with Library(home) as lib:
        col = lib.collection("notes", clip_model="none")
        col.ingest([src], id_field="id", text_fields=["body"])
        index = lib.data.vector_index("notes")
        assert index is not None
        state = index.state()
        assert state is not None and state.main_rows > 0 and index.delta_rows() < 4
        assert files(home) == [state.file]
        same_as_store(col, monkeypatch)

        write(src / "dogs.txt", "Cats sleep all afternoon in a warm patch of sunlight.")
        col.ingest([src], id_field="id", text_fields=["body"])  # a changed chunk: a new key
        assert hits(col, "a cat asleep in the sun", "dense")[0][0].endswith("dogs.txt")
        same_as_store(col, monkeypatch)

        (src / "pasta.txt").unlink()
        col.ingest([src], id_field="id", text_fields=["body"])
        for mode in ("dense", "hybrid"):
            assert not any(i.endswith("pasta.txt") for i, _ in hits(
                col, "boil the pasta with garlic", mode))
        same_as_store(col, monkeypatch)
        # dead keys leave the file
        VectorFiles(index, lib.data.catalog.transaction).merge(force=True)
        state = index.state()
        assert state is not None and index.delta_rows() == 0
        assert state.main_rows == index.size() and files(home) == [state.file]
        same_as_store(col, monkeypatch)


def test_a_filter_is_met_in_the_graph_or_left_to_the_store(tmp_path: Path,
                                                         monkeypatch) -> None:
    monkeypatch.setattr(vector_files, "MERGE_AT", 4)
    monkeypatch.setattr(vector_index, "FILTER_GRAPH_FROM", 0)  # the graph, at any size
    with Library(tmp_path / "home") as lib:
        col = lib.collection("recs", clip_model="none")
        col.ingest([records(tmp_path / "records.jsonl")], id_field="id", text_fields=["body"])
        same_as_store(col, monkeypatch, where=["group=a"])
        for query in QUERIES:
            assert all(h.metadata["group"] == "a" for h in col.search(
                query, type="text", mode="dense", k=10, where=["group=a"]))
        monkeypatch.setattr(vector_index, "FILTER_PROBE", 8)  # too selective for the graph
        index = lib.data.vector_index("recs")
        assert index is not None and index.search(
            index.sample(1)[0], 5, ("json_extract(i.meta, '$.group') = ?", ["a"])) is None
        same_as_store(col, monkeypatch, where=["group=a"])


def test_a_value_index_finds_a_filters_rows_and_they_are_scored_exactly(tmp_path: Path,
                                                                         monkeypatch) -> None:
    """A filter on a large collection (here: any size) gets an index on each field it names,
    once, saying so; its passing rows are then found through it: a dense query scores them
    all (no graph search, no store), a lexical one checks FTS5's matches against their ids.
    The hits are the store's, and the same as without the indexes."""
    from semsearch.storage import value_index
    from semsearch.storage.data_dir import DataDir
    from semsearch.storage.lexical import LexicalIndex

    monkeypatch.setattr(vector_files, "MERGE_AT", 16)  # a main file and recent rows
    monkeypatch.setattr(vector_index, "FILTER_GRAPH_FROM", 0)
    monkeypatch.setattr(value_index, "INDEX_FROM", 0)
    said: list[str] = []
    with Library(tmp_path / "home", on_wait=said.append) as lib:
        col = lib.collection("recs", clip_model="none")
        col.ingest([records(tmp_path / "records.jsonl", 60)], id_field="id",
                   text_fields=["body"])
        scored: list[int] = []
        real = vector_index.VectorIndex._exact

        def exact(*args):  # type: ignore[no-untyped-def]
            scored.append(len(args[2]))
            return real(*args)
        monkeypatch.setattr(vector_index.VectorIndex, "_exact", staticmethod(exact))
        filters = (["group=a"], ["item_id=r3"], ["group=b", "item_id=r4"], ["record=10"])
        for where in filters:
            same_as_store(col, monkeypatch, where=where)
        assert [m for m in said if "for filters" in m] == [
            "indexing the metadata field 'group' for filters (once)",
            "indexing the metadata field 'item_id' for filters (once)",
            "indexing the metadata field 'record' for filters (once)"]
        assert scored and max(scored) == 20 and min(scored) == 1  # group=a: 20 rows; r3: 1
        assert col.info().filter_fields == ["group", "item_id", "record"]
        narrowed = {q: {str(w): [hits(col, q, m, where=w) for m in ("lexical", "dense")]
                        for w in filters} for q in QUERIES}
        assert narrowed["wifi router password"][str(["item_id=r3"])][1][0][0] == "r3"
        tried: list[int] = []
        monkeypatch.setattr(LexicalIndex, "_narrowed", lambda self, *a: tried.append(1) or [])
        assert hits(col, "garden", "lexical", where=["group=a"]) == []  # (the narrowed path)
        assert tried
        monkeypatch.undo()
        monkeypatch.setattr(DataDir, "narrowing", lambda *a: None)
        monkeypatch.setattr(vector_index, "FILTER_GRAPH_FROM", 0)
        assert narrowed == {q: {str(w): [hits(col, q, m, where=w) for m in ("lexical", "dense")]
                                for w in filters} for q in QUERIES}


@pytest.mark.parametrize("without", ["upgrade", "lexical rebuild"])
def test_a_collection_without_its_index_gets_one_at_its_next_change(tmp_path: Path,
                                                                    monkeypatch,
                                                                    without: str) -> None:
    """A collection from before the index, or whose lexical rows were read again from the
    store (without their vectors), is answered by the store until an ingest that changes
    something builds the index from the store."""
    src = notes(tmp_path / "src")
    with Library(tmp_path / "home") as lib:
        col = lib.collection("notes", clip_model="none")
        col.ingest([src])
        assert lib.data.vector_index("notes") is not None
        if without == "upgrade":
            with lib.data.catalog.transaction() as db:
                vector_index.forget(db, "notes")
        else:
            col.rebuild_lexical()
        assert lib.data.vector_index("notes") is None
        assert hits(col, QUERIES[1], "dense")[0][0].endswith("pasta.txt")  # the store answers
        col.ingest([src])  # nothing changed: a no-op ingest builds nothing
        assert lib.data.vector_index("notes") is None
        write(src / "new.txt", "Patch the inner tube, then pump the tyre back up.")
        said: list[str] = []
        lib.on_wait = said.append
        monkeypatch.setattr(data_dir, "PROGRESS_FROM", 1)  # (a long build's progress lines)
        col.ingest([src])
        index = lib.data.vector_index("notes")
        assert index is not None and index.size() == len(SHORT_TEXTS) + 1
        n = len(SHORT_TEXTS)  # built from the store before the ingest writes
        assert said == [f"building the vector index of 'notes' for fast text queries ({n:,} "
                        "chunks, once)", said[1]], said
        assert said[1].startswith(f"  vector index of 'notes': {n} of {n} chunks ("), said
        assert hits(col, QUERIES[0], "dense")[0][0].endswith("new.txt")
        same_as_store(col, monkeypatch)


@pytest.mark.parametrize("broken", ["merge", "file"])
def test_a_failed_merge_or_a_lost_file_loses_nothing(tmp_path: Path, monkeypatch,
                                                     broken: str) -> None:
    """A merge that fails after writing its file leaves the index as it was (the next one
    clears the stray file); a main file gone from disk sends queries to the store."""
    monkeypatch.setattr(vector_files, "MERGE_AT", 4)
    src = notes(tmp_path / "src")
    home = tmp_path / "home"
    with Library(home) as lib:
        col = lib.collection("notes", clip_model="none")
        col.ingest([src])
        index = lib.data.vector_index("notes")
        assert index is not None
        state = index.state()
        assert state is not None and state.file
        if broken == "merge":
            write(src / "new.txt", "Patch the inner tube, then pump the tyre back up.")

            Index = vector_index.usearch_index()

            def failing(self, path: str) -> None:  # type: ignore[no-untyped-def]
                Path(path).write_bytes(b"half a file")
                raise OSError("No space left on device")

            monkeypatch.setattr(vector_files, "MERGE_AT", 1)
            with monkeypatch.context() as m:
                m.setattr(Index, "save", failing)
                col.ingest([src])  # the flush is kept; the merge waits for the next ingest
            assert index.state().file == state.file and index.delta_rows() == 1
            assert any(f.endswith(".tmp") for f in files(home))
            assert hits(col, QUERIES[0], "dense")[0][0].endswith("new.txt")
            write(src / "more.txt", "Lentils, cumin and onions make a fine soup.")
            col.ingest([src])
            assert index.delta_rows() == 0 and files(home) == [index.state().file]
        else:
            (home / "vectors" / state.file).unlink()
            vector_index._views.clear()
            assert index.search(lib.data.store.sample("notes", "text", 1)[0], 3) is None
            write(src / "new.txt", "Patch the inner tube, then pump the tyre back up.")
            col.ingest([src])  # the index is built again from the store
            assert lib.data.vector_index("notes") is not None
        same_as_store(col, monkeypatch)



def test_a_collection_written_outside_semsearch_gets_no_index(tmp_path: Path,
                                                             monkeypatch) -> None:
    """Plain Chroma's rows are not in the lexical index: an index made of semsearch's own
    ingests would miss them, so the store keeps answering."""
    import subprocess
    import sys

    home = tmp_path / "home"
    code = (
        "import chromadb, sys\n"
        "from semsearch.storage.chroma_plugin import TextEmbeddingFunction\n"
        "c = chromadb.PersistentClient(path=sys.argv[1])\n"
        "n = c.create_collection('ext', embedding_function=TextEmbeddingFunction(), "
        "configuration={'hnsw': {'space': 'cosine'}})\n"
        "n.add(ids=['n0', 'n1'], documents=['My bicycle tyre has a puncture and needs a "
        "patch.', 'Sourdough bread needs a starter.'])\n")
    out = subprocess.run([sys.executable, "-c", code, str(home / "chroma")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    with Library(home) as lib:
        col = lib.collection("ext")
        write(tmp_path / "src" / "a.txt", "Tomatoes grow well in a sunny garden.")
        col.ingest([tmp_path / "src"])
        assert lib.data.vector_index("ext") is None
        assert hits(col, "fixing a flat tyre", "dense")[0][0] == "n0"


def test_a_long_lived_reader_never_counts_removed_rows(tmp_path: Path, monkeypatch) -> None:
    src = notes(tmp_path / "src")
    with Library(tmp_path / "home") as lib:
        col = lib.collection("notes", clip_model="none")
        col.ingest([src])
        first = hits(col, "a dog on the beach", "dense")[0][0]
        Path(first).unlink()
        col.ingest([src])
        for kw in ({}, {"all_chunks": True}):
            got = col.search("a dog on the beach", type="text", mode="dense", k=3, **kw)
            assert len(got) == 3 and first not in [h.id for h in got]
        same_as_store(col, monkeypatch)

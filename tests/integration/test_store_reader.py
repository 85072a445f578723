"""Reading the embedded store through Chroma's Rust core alone (:mod:`semsearch.storage.
chroma_reader`): the same answers as chromadb's own client, on a real store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import SHORT_TEXTS, write

from semsearch.client.library import Library
from semsearch.storage.chroma_reader import NotFoundError, Reader, open_reader
from semsearch.storage.embedded import EmbeddedStore, private_client


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("reader") / "home"
    src = home.parent / "src"
    for name, text in SHORT_TEXTS.items():
        write(src / name, text)
    with Library(home) as lib:
        lib.collection("notes", clip_model="none").ingest([src])
    return home


def test_the_reader_answers_as_chromadb_does(home: Path) -> None:
    path = str(home / "chroma")
    reader = open_reader(path)
    assert isinstance(reader, Reader)
    client, system = private_client(path)
    try:
        assert sorted(c.name for c in reader.list_collections()) == \
            sorted(c.name for c in client.list_collections())
        assert reader.get_max_batch_size() == client.get_max_batch_size()
        ours, theirs = reader.get_collection("notes.text"), client.get_collection("notes.text")
        assert str(ours.id) == str(theirs.id) and ours.name == theirs.name
        assert ours.metadata == theirs.metadata
        assert ours.configuration_json == theirs.configuration_json
        # written to disk every 256 vectors: a fresh process re-inserts few (semsearch.hnsw)
        assert ours.configuration_json["hnsw"]["sync_threshold"] == 256
        assert ours.count() == theirs.count() == len(SHORT_TEXTS)

        include = ["embeddings", "documents", "metadatas"]
        a, b = ours.get(include=include), theirs.get(include=include)
        assert a["ids"] == b["ids"] and a["documents"] == b["documents"]
        assert a["metadatas"] == b["metadatas"] and a["uris"] is b["uris"] is None
        assert isinstance(a["embeddings"], np.ndarray)
        assert np.array_equal(a["embeddings"], b["embeddings"])
        some = a["ids"][1:3]
        assert ours.get(ids=some, include=[])["ids"] == theirs.get(ids=some, include=[])["ids"]
        where = {"chunk": 0}
        assert ours.get(where=where, limit=2, offset=1, include=["metadatas"])["ids"] == \
            theirs.get(where=where, limit=2, offset=1, include=["metadatas"])["ids"]

        queries = np.asarray(b["embeddings"][:2], dtype=np.float32)
        for kwargs in ({}, {"where": {"chunk": 0}}):
            q1 = ours.query(query_embeddings=queries, n_results=3, **kwargs)
            q2 = theirs.query(query_embeddings=queries, n_results=3, **kwargs)
            assert q1["ids"] == q2["ids"] and q1["documents"] == q2["documents"]
            assert q1["metadatas"] == q2["metadatas"]
            assert np.allclose(q1["distances"], q2["distances"], atol=1e-6)

        with pytest.raises(NotFoundError, match=r"Collection \[nope\] does not exist"):
            reader.get_collection("nope")
    finally:
        system.stop()
        reader.stop()


def test_a_process_opens_chromadb_only_when_it_writes(home: Path, monkeypatch) -> None:
    store = EmbeddedStore(home)  # not the shared instance: a fresh process's view
    with store.reading() as client:
        assert isinstance(client, Reader)
    with store.writing() as client:
        assert not isinstance(client, Reader) and hasattr(client, "get_or_create_collection")
    with store.reading() as client:  # chromadb's client stays once opened
        assert not isinstance(client, Reader)
    store.close()

    monkeypatch.setenv("SEMSEARCH_CHROMA_READER", "0")
    other = EmbeddedStore(home)
    with other.reading() as client:
        assert not isinstance(client, Reader)
    other.close()


def test_a_search_in_a_fresh_process_never_imports_chromadb(home: Path) -> None:
    code = (
        "import json, sys, atexit\n"
        "from semsearch.cli.main import main\n"
        "atexit.register(lambda: print(json.dumps(sorted({m.split('.')[0] for m in "
        "sys.modules} & {'chromadb', 'torch'})), file=sys.stderr))\n"
        "sys.argv = ['semsearch', '--home', sys.argv[1], *sys.argv[2:]]\n"
        "main()\n"
    )
    for args in (["search", "rain this weekend", "-c", "notes", "-k", "1"],
                 ["search", "guitar", "-c", "notes", "--mode", "lexical", "-k", "1"],
                 ["info", "-c", "notes"], ["collections"]):
        out = subprocess.run([sys.executable, "-c", code, str(home), *args],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stderr.strip().splitlines()[-1]) == [], args
    assert "rain.md" in subprocess.run(
        [sys.executable, "-c", code, str(home), "search", "rain this weekend", "-c", "notes",
         "-k", "1"], capture_output=True, text=True, timeout=120).stdout


def test_bindings_of_another_shape_leave_reads_to_chromadb(home: Path, monkeypatch) -> None:
    from semsearch.storage import chroma_reader

    monkeypatch.setitem(chroma_reader.SIGNATURES, "query", "collection_id, embeddings, k")
    assert open_reader(str(home / "chroma")) is None
    store = EmbeddedStore(home)
    with store.reading() as client:
        assert not isinstance(client, Reader)
    store.close()


def test_a_collection_made_after_the_reader_opened_is_found(tmp_path: Path) -> None:
    path = str(tmp_path / "chroma")
    client, system = private_client(path)
    client.create_collection("first")
    reader = open_reader(path)
    assert reader is not None
    assert reader.get_collection("first").name == "first"
    client.create_collection("later")  # plain Chroma code, beside semsearch
    assert reader.get_collection("later").count() == 0
    system.stop()
    reader.stop()


def test_lexical_hits_read_text_and_metadata_from_the_index(tmp_path: Path) -> None:
    """A lexical search hydrates its hits from the lexical index, which holds each chunk's
    document and metadata as the store has them: the same values, read without loading the
    vector index."""
    from helpers import long_markdown

    src = tmp_path / "src"
    write(src / "long.md", long_markdown(6))
    write(src / "rain.md", SHORT_TEXTS["rain.md"])
    write(src / "books.jsonl", "\n".join(json.dumps(r) for r in [
        {"id": "b1", "title": "Dune", "year": 1965, "score": 4.5, "owned": True},
        {"id": "b2", "title": "The Hobbit", "year": 1937, "score": 4.75, "owned": False},
    ]) + "\n")
    with Library(tmp_path / "home") as lib:
        col = lib.collection("c", clip_model="none")
        col.ingest([src], id_field="id", text_fields=["title"])
        data = lib.data
        cids = [r[0] for r in data.catalog.db.execute(  # every chunk the index holds
            "SELECT cid FROM lexical_ids WHERE collection='c'")]
        held = data.store.fetch("c", "text", cids)
        stored = data.lexical("c").stored(list(held))
        assert len(held) > 5 and set(stored) == set(held)
        for cid, (meta, doc, _) in held.items():
            assert stored[cid] == (meta, doc), cid
        hits = col.search("Dune", mode="lexical")
        assert hits and hits[0].id == "b1"


def test_a_text_search_never_reads_the_vector_store(home: Path) -> None:
    """Lexical, dense and hybrid text searches in a fresh process read the catalog's lexical
    and vector indexes only: Chroma's HNSW index (loaded whole by a first read) is never
    touched. Without the vector index the dense side asks the store."""
    code = (
        "import json, sys, atexit\n"
        "from semsearch.storage import chroma_reader as r\n"
        "calls = []\n"
        "for name in ('count', 'get', 'query'):\n"
        "    f = getattr(r.ReaderCollection, name)\n"
        "    setattr(r.ReaderCollection, name, lambda self, *a, _n=name, _f=f, **k: "
        "(calls.append(_n), _f(self, *a, **k))[1])\n"
        "atexit.register(lambda: print(json.dumps(calls), file=sys.stderr))\n"
        "from semsearch.cli.main import main\n"
        "sys.argv = ['semsearch', '--home', sys.argv[1], 'search', sys.argv[2], '-c', 'notes',"
        " '--mode', sys.argv[3], '-k', '2']\n"
        "main()\n"
    )
    runs = {}
    for mode, index in [("lexical", "1"), ("dense", "1"), ("hybrid", "1"), ("hybrid", "0")]:
        out = subprocess.run([sys.executable, "-c", code, str(home), "guitar campfire", mode],
                             capture_output=True, text=True, timeout=120,
                             env={**os.environ, "SEMSEARCH_VECTOR_INDEX": index})
        assert out.returncode == 0, out.stderr
        assert "guitar.txt" in out.stdout
        runs[mode, index] = json.loads(out.stderr.strip().splitlines()[-1])
    assert runs["lexical", "1"] == runs["dense", "1"] == runs["hybrid", "1"] == []
    assert "query" in runs["hybrid", "0"]

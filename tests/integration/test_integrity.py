"""Edge cases of item identity and crash recovery: shared record ids, orphan chunks,
manifest-relative model paths."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import TINY_CLIP, catalog_items, check_consistent, items_in, long_markdown, write

from semsearch.client.library import Library
from semsearch.ingest.manifest import load_manifest
from semsearch.storage.ids import chroma_id


def test_record_id_used_by_two_files_is_skipped_not_overwritten(lib: Library, tmp_path: Path):
    first = write(tmp_path / "src" / "a.jsonl", json.dumps({"id": "r1", "text": "apples"}) + "\n")
    second = write(
        tmp_path / "src" / "b.jsonl",
        json.dumps({"id": "r1", "text": "bananas"}) + "\n"
        + json.dumps({"id": "r2", "text": "cherries"}) + "\n",
    )
    col = lib.collection("rec", clip_model="none")
    skips: list[tuple[str, str]] = []
    col.ingest([first], id_field="id")
    summary = col.ingest([second], id_field="id", on_skip=lambda p, r: skips.append((p, r)))

    assert skips == [(f"{second}:1", f"id 'r1' is already used by {first}")]
    assert summary.skipped == 1
    items = catalog_items(lib, "rec")
    assert items["r1"][0] == str(first)  # the first file keeps its record
    assert items["r2"][0] == str(second)
    texts = {i: rows[0].document for i, rows in items_in(lib, "rec", "text").items()}
    assert texts == {"r1": "apples", "r2": "cherries"}
    check_consistent(lib, "rec")


def test_record_id_moves_with_its_file(lib: Library, tmp_path: Path):
    src = tmp_path / "src"
    first = write(src / "a.jsonl", json.dumps({"id": "r1", "text": "apples"}) + "\n")
    col = lib.collection("rec", clip_model="none")
    col.ingest([src], id_field="id")
    shutil.move(first, src / "renamed.jsonl")
    summary = col.ingest([src], id_field="id")
    assert (summary.moved, summary.skipped, summary.items) == (1, 0, 0)
    assert catalog_items(lib, "rec")["r1"][0] == str(src / "renamed.jsonl")
    check_consistent(lib, "rec")


def test_chunks_written_but_never_recorded_are_cleaned(lib: Library, tmp_path: Path):
    """A run died after writing more chunks for a known item than the catalog records."""
    doc = write(tmp_path / "src" / "notes.md", "short note about bread")
    col = lib.collection("orph", clip_model=TINY_CLIP, clip_pretrained="none")
    col.ingest([doc])
    item = str(doc)
    assert catalog_items(lib, "orph")[item][1:] == (1, 1)
    # what a killed run leaves: the item listed as pending with 4 chunks, and those written
    lib.catalog.add_pending("orph", [(item, 4, 4)])
    for space in ("text", "clip"):
        got = next(lib.store.scan("orph", space, ids=[chroma_id(item, 0)]))
        lib.store.upsert("orph", space, col.models, [chroma_id(item, n) for n in (1, 2, 3)],
                         np.stack([got.embeddings[0]] * 3),
                         [{**got.metadatas[0], "chunk": n} for n in (1, 2, 3)], [None] * 3)
    doc.unlink()  # and the file is gone before the next run
    summary = col.ingest([tmp_path / "src"])
    assert summary.removed == 1
    for space in ("text", "clip"):
        assert lib.store.count("orph", space) == 0
    check_consistent(lib, "orph")


def test_orphans_cleaned_when_file_changed_to_fewer_chunks(lib: Library, tmp_path: Path):
    doc = write(tmp_path / "src" / "long.md", long_markdown(2))
    col = lib.collection("orph", clip_model="none")
    col.ingest([doc])
    before = catalog_items(lib, "orph")[str(doc)][1]
    assert before >= 2
    lib.catalog.add_pending("orph", [(str(doc), before + 3, 0)])
    got = next(lib.store.scan("orph", "text", ids=[chroma_id(str(doc), 0)]))
    extra = range(before, before + 3)
    lib.store.upsert("orph", "text", col.models, [chroma_id(str(doc), n) for n in extra],
                     np.stack([got.embeddings[0]] * 3),
                     [{**got.metadatas[0], "chunk": n} for n in extra], ["x"] * 3)
    write(doc, "now a single short paragraph")
    col.ingest([doc])
    assert catalog_items(lib, "orph")[str(doc)][1] == 1
    check_consistent(lib, "orph")


def test_manifest_model_paths_are_relative_to_the_manifest(tmp_path: Path):
    folder = tmp_path / "collections"
    folder.mkdir()
    shutil.copy(TINY_CLIP, folder / "tiny.json")
    manifest = write(folder / "m.toml", '\n'.join([
        'sources = ["../docs"]',
        '[models]',
        'clip = "tiny.json"',
        'clip_pretrained = "none"',
        'text = "sentence-transformers/all-MiniLM-L6-v2"',
    ]))
    m = load_manifest(manifest)
    assert m.clip_model == str((folder / "tiny.json").resolve())
    assert m.text_model == "sentence-transformers/all-MiniLM-L6-v2"
    assert m.sources == [(tmp_path / "docs").resolve()]
    assert m.name == "m"


def test_truncate_keeps_only_the_first_window_and_is_remembered(lib: Library, tmp_path: Path):
    doc = write(tmp_path / "src" / "long.md", long_markdown(4))
    col = lib.collection("trunc", clip_model=TINY_CLIP, clip_pretrained="none")
    col.ingest([doc])
    chunked = catalog_items(lib, "trunc")[str(doc)]
    assert chunked[1] > 1 and chunked[2] > 1
    first = items_in(lib, "trunc", "text")[str(doc)][0].embedding

    summary = col.ingest([doc], truncate=True)  # other options: the file is re-embedded
    assert summary.updated == 1
    assert catalog_items(lib, "trunc")[str(doc)][1:] == (1, 1)
    rows = items_in(lib, "trunc", "text")[str(doc)]
    assert len(rows) == 1
    # the first window is what the model sees when it truncates the whole text
    model = col.text_embedder()
    # int8 scales activations per batch, so a chunk's vector moves a little with its batch
    tol = 1e-2 if model.runtime.precision == "int8" else 1e-5  # type: ignore[attr-defined]
    assert abs(float(rows[0].embedding @ first) - 1.0) < tol
    direct = model.embed_batch([long_markdown(4)])[0]
    assert float(direct @ rows[0].embedding) > 0.999 - tol
    assert col.ingest([doc], truncate=True).unchanged == 1
    check_consistent(lib, "trunc")


@pytest.mark.slow  # subprocesses
def test_processes_creating_one_catalog_at_once(tmp_path: Path):
    import subprocess
    import sys

    code = ("import sys; from pathlib import Path; from semsearch.storage.catalog import Catalog; "
            "c = Catalog(Path(sys.argv[1])); c.create_collection('x', __import__("
            "'semsearch').ModelSpec('t', None, None)); c.close()")
    path = tmp_path / "home" / "catalog.sqlite"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(path)], stderr=subprocess.PIPE)
             for _ in range(6)]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, errors
    from semsearch.storage.catalog import Catalog

    assert [c.name for c in Catalog(path).collections()] == ["x"]


def test_a_corrupt_catalog_is_one_clear_line(tmp_path: Path):
    from typer.testing import CliRunner

    from semsearch.cli import app

    home = tmp_path / "home"
    write(home / "catalog.sqlite", b"this is not a database, just some bytes" * 100)
    result = CliRunner().invoke(app, ["collections", "--home", str(home)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: the catalog {home / 'catalog.sqlite'} is damaged "
                                    "(file is not a database); restore it from a backup")
    assert result.stderr.count("\n") == 1

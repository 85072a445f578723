"""Incremental ingest: unchanged, changed, moved, deleted and copied files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import (
    SHORT_TEXTS,
    TINY_CLIP,
    check_consistent,
    dump,
    items_in,
    long_markdown,
    make_image,
    write,
)

from semsearch import Collection, Library


def chroma_ids(lib: Library, name: str, space: str) -> list[str]:
    """Straight from Chroma: every id in the space."""
    return [cid for page in lib.store.scan(name, space) for cid in page.ids]


def ids_of(lib: Library, item: str, space: str) -> set[str]:
    return {i for i in chroma_ids(lib, "inc", space) if i.rsplit("#", 1)[0] == item}


def paths_in_store(lib: Library) -> set[str]:
    return {r.metadata["path"] for s in ("text", "clip") for r in dump(lib, "inc", s)}


@pytest.fixture
def setup(lib: Library, tmp_path: Path) -> tuple[Collection, Path]:
    src = tmp_path / "src"
    for name in ("dogs.txt", "pasta.txt", "rain.md"):
        write(src / name, SHORT_TEXTS[name])
    write(src / "long.md", long_markdown())
    make_image(src / "pics" / "one.png", 1)
    make_image(src / "pics" / "two.jpg", 2)
    col = lib.collection("inc", clip_model=TINY_CLIP, clip_pretrained="none")
    first = col.ingest([src])
    assert (first.added, first.items, first.skipped) == (6, 6, 0)
    check_consistent(lib, "inc")
    return col, src


def test_second_ingest_is_all_unchanged(lib, setup):
    col, src = setup
    before = {s: dump(lib, "inc", s) for s in ("text", "clip")}
    again = col.ingest([src])
    assert (again.added, again.updated, again.unchanged, again.moved, again.removed,
            again.skipped, again.items) == (0, 0, 6, 0, 0, 0, 0)
    after = {s: dump(lib, "inc", s) for s in ("text", "clip")}
    for space in before:
        assert [r.chroma_id for r in before[space]] == [r.chroma_id for r in after[space]]
    check_consistent(lib, "inc")
    # a file given on its own is unchanged too, and does not prune its siblings
    single = col.ingest([src / "dogs.txt"])
    assert (single.unchanged, single.removed, single.items) == (1, 0, 0)
    assert col.info().files == 6


def test_changed_file_is_reembedded_and_shrunk_chunks_are_gone(lib, setup):
    col, src = setup
    long_md = src / "long.md"
    item = str(long_md.resolve())
    assert len(ids_of(lib, item, "text")) >= 3 and len(ids_of(lib, item, "clip")) >= 3
    new_text = "Only one short line now, about sailing boats."
    long_md.write_text(new_text)
    summary = col.ingest([src])
    assert (summary.updated, summary.unchanged, summary.added, summary.items) == (1, 5, 0, 1)
    assert ids_of(lib, item, "text") == {f"{item}#0"}
    assert ids_of(lib, item, "clip") == {f"{item}#0"}
    (row,) = items_in(lib, "inc", "text")[item]
    assert row.document == new_text and row.metadata["size"] == len(new_text)
    want = col.text_embedder().embed_batch([new_text])[0]
    np.testing.assert_allclose(row.embedding, want, atol=1e-5)
    hits = col.search("sailing boats", type="text", mode="dense", k=1)
    assert hits[0].id == item and hits[0].text == new_text
    check_consistent(lib, "inc")

    # same size, new content and mtime: still noticed
    dogs = src / "dogs.txt"
    dogs.write_text(SHORT_TEXTS["dogs.txt"].replace("Dogs", "Cats"))
    st = dogs.stat()
    os.utime(dogs, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    summary = col.ingest([src])
    assert (summary.updated, summary.items) == (1, 1)
    assert items_in(lib, "inc", "text")[str(dogs.resolve())][0].document.startswith("Cats")
    check_consistent(lib, "inc")


def test_moved_and_renamed_files_reuse_vectors(lib, setup):
    col, src = setup
    old_txt, old_img = src / "pasta.txt", src / "pics" / "one.png"
    before_txt = items_in(lib, "inc", "text")[str(old_txt.resolve())][0].embedding
    before_img = items_in(lib, "inc", "clip")[str(old_img.resolve())][0].embedding
    new_txt = src / "food" / "recipe.txt"
    new_txt.parent.mkdir()
    shutil.move(old_txt, new_txt)
    new_img = src / "pics" / "renamed.png"
    os.rename(old_img, new_img)

    summary = col.ingest([src])
    assert (summary.moved, summary.added, summary.removed, summary.updated,
            summary.unchanged, summary.items) == (2, 0, 0, 0, 4, 0)
    paths = paths_in_store(lib)
    assert str(old_txt.resolve()) not in paths and str(old_img.resolve()) not in paths
    assert str(new_txt.resolve()) in paths and str(new_img.resolve()) in paths
    assert not ids_of(lib, str(old_txt.resolve()), "text")
    np.testing.assert_array_equal(
        items_in(lib, "inc", "text")[str(new_txt.resolve())][0].embedding, before_txt)
    np.testing.assert_array_equal(
        items_in(lib, "inc", "clip")[str(new_img.resolve())][0].embedding, before_img)
    assert set(lib.catalog.files("inc")) >= {str(new_txt.resolve()), str(new_img.resolve())}
    assert str(old_txt.resolve()) not in lib.catalog.files("inc")
    hits = col.search("pasta with garlic and olive oil", type="text", mode="dense", k=1)
    assert hits[0].path == str(new_txt.resolve())
    check_consistent(lib, "inc")


def test_deleted_file_is_removed(lib, setup):
    col, src = setup
    gone = [src / "rain.md", src / "long.md", src / "pics" / "two.jpg"]
    for p in gone:
        p.unlink()
    summary = col.ingest([src])
    assert (summary.removed, summary.unchanged, summary.items) == (3, 3, 0)
    paths = paths_in_store(lib)
    for p in gone:
        assert str(p.resolve()) not in paths
        assert not ids_of(lib, str(p.resolve()), "text") | ids_of(lib, str(p.resolve()), "clip")
    assert col.info().files == 3 and col.info().counts == {"text": 2, "image": 1}
    check_consistent(lib, "inc")

    # a whole folder given and gone
    shutil.rmtree(src / "pics")
    summary = col.ingest([src / "pics"])  # gone: kept, and said (a renamed folder, a disk)
    assert (summary.removed, summary.missing) == (0, [str(src / "pics")])
    assert col.info().counts == {"text": 2, "image": 1}
    summary = col.ingest([src / "pics"], prune_missing=True)
    assert (summary.removed, summary.skipped) == (1, 0)
    assert col.info().counts == {"text": 2}
    check_consistent(lib, "inc")


def test_copied_file_is_added_with_reused_vectors(lib, setup):
    col, src = setup
    shutil.copy2(src / "dogs.txt", src / "dogs-copy.txt")
    shutil.copy2(src / "long.md", src / "long-copy.md")
    shutil.copy2(src / "pics" / "two.jpg", src / "pics" / "two-copy.jpg")
    summary = col.ingest([src])
    assert (summary.added, summary.moved, summary.removed, summary.unchanged,
            summary.items) == (3, 0, 0, 6, 0)
    for original, copy in (("dogs.txt", "dogs-copy.txt"), ("long.md", "long-copy.md"),
                           ("pics/two.jpg", "pics/two-copy.jpg")):
        a, b = str((src / original).resolve()), str((src / copy).resolve())
        for space in ("text", "clip"):
            rows = items_in(lib, "inc", space)
            if a not in rows:
                continue  # images have no text vectors
            assert len(rows[a]) == len(rows[b])
            for ra, rb in zip(rows[a], rows[b], strict=True):
                np.testing.assert_allclose(ra.embedding, rb.embedding, atol=1e-6)
                assert rb.metadata["path"] == b and ra.metadata["path"] == a
    hits = col.search("dogs fetching sticks on the beach", type="text", mode="dense", k=2)
    assert {h.path for h in hits} == {str((src / "dogs.txt").resolve()),
                                      str((src / "dogs-copy.txt").resolve())}
    check_consistent(lib, "inc")

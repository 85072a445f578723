"""Files that cannot be read are skipped with a reason; the run goes on."""

from __future__ import annotations

import io
import json
import os

import pytest
from helpers import SHORT_TEXTS, TINY_CLIP, check_consistent, items_in, make_image, picture, write


def real_jpeg() -> bytes:
    buf = io.BytesIO()
    picture(5, (64, 48)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def ingest_collecting(col, paths):
    skipped: list[tuple[str, str]] = []
    summary = col.ingest(paths, on_skip=lambda p, r: skipped.append((p, r)))
    return summary, dict(skipped)


def test_every_bad_file_is_skipped_with_a_reason(lib, tmp_path):
    src = tmp_path / "src"
    good_txt = write(src / "good.txt", SHORT_TEXTS["dogs.txt"])
    good_png = make_image(src / "good.png", 1)
    jpeg = real_jpeg()
    bad = {
        "corrupt.png": (b"\x89PNG\r\n\x1a\n" + os.urandom(200), "not a readable image"),
        "noise.jpg": (os.urandom(300), "not a readable image"),
        "truncated.jpg": (jpeg[: len(jpeg) // 2], "not a readable image"),
        "latin1.txt": ("Caf\xe9 cr\xe8me br\xfbl\xe9e, d\xe9j\xe0 vu".encode("latin-1"),
                       "undecodable text (not UTF-8 at byte 3)"),
        "binary.txt": (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00 some text after", "binary data"),
        "empty.txt": (b"", "empty file"),
        "blank.md": (b"  \n\n\t \n", "empty file"),
        "empty.png": (b"", "empty file"),
        "empty.jsonl": (b"", "empty file"),
        "all-bad.jsonl": (b"{not json\n[1, 2]\n", "no usable records"),
    }
    for name, (data, _) in bad.items():
        write(src / name, data)
    records = write(src / "books.jsonl", "\n".join([
        json.dumps({"id": "r1", "text": "A story about a lighthouse keeper."}),
        "{this is not json",
        json.dumps({"id": "r2", "text": "A cookbook of soups from around the world."}),
        '["a", "list"]',
        json.dumps({"id": "r3", "text": "A field guide to mushrooms."}),
    ]) + "\n")

    col = lib.collection("bad", clip_model=TINY_CLIP, clip_pretrained="none")
    summary, skipped = ingest_collecting(col, [src])

    for name, (_, reason) in bad.items():
        path = str((src / name).resolve())
        assert path in skipped, f"{name} was not skipped"
        assert skipped[path].startswith(reason), (name, skipped[path])
    assert skipped[str((src / "truncated.jpg").resolve())] == "not a readable image (truncated)"
    # bad lines of a records file: skipped one by one, the good lines are ingested
    rec = str(records.resolve())
    assert skipped[f"{rec}:2"].startswith("bad JSON (")
    assert skipped[f"{rec}:4"] == "not a JSON object"
    assert len(skipped) == len(bad) + 2
    assert summary.skipped == len(skipped)
    assert {(s.path, s.reason) for s in summary.skipped_files} == set(skipped.items())
    assert summary.added == 3  # good.txt, good.png, books.jsonl
    text_items = set(items_in(lib, "bad", "text"))
    # no --id-field: a record's id is PATH#LINE
    assert text_items == {str(good_txt.resolve()), f"{rec}#1", f"{rec}#3", f"{rec}#5"}
    assert set(items_in(lib, "bad", "clip")) == text_items | {str(good_png.resolve())}
    assert col.info().files == 3
    check_consistent(lib, "bad")

    # skipped files are not recorded: the next run tries them again, and says so again
    again, skipped_again = ingest_collecting(col, [src])
    assert (again.unchanged, again.added, again.items) == (3, 0, 0)
    assert set(skipped_again) == set(skipped) - {f"{rec}:2", f"{rec}:4"}

    # a fixed file is picked up
    (src / "latin1.txt").write_text("Café crème brûlée, déjà vu", encoding="utf-8")
    fixed, _ = ingest_collecting(col, [src])
    assert fixed.added == 1
    assert str((src / "latin1.txt").resolve()) in items_in(lib, "bad", "text")


def test_missing_and_unsupported_paths(lib, tmp_path):
    good = write(tmp_path / "a.txt", "hello there")
    other = write(tmp_path / "notes.xyz", "what is this")
    col = lib.collection("bad", clip_model=TINY_CLIP, clip_pretrained="none")
    summary, skipped = ingest_collecting(col, [good, tmp_path / "nope", other])
    assert skipped == {str(tmp_path / "nope"): "no such file or directory",
                       str(other): "unsupported file type .xyz"}
    assert (summary.added, summary.skipped) == (1, 2)


def test_unreadable_file_is_skipped(lib, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("running as root: root can read a chmod 000 file")
    src = tmp_path / "src"
    write(src / "ok.txt", "readable")
    locked = write(src / "locked.txt", "secret")
    locked.chmod(0)
    try:
        col = lib.collection("bad", clip_model=TINY_CLIP, clip_pretrained="none")
        summary, skipped = ingest_collecting(col, [src])
    finally:
        locked.chmod(0o644)
    assert skipped == {str(locked.resolve()): "unreadable (Permission denied)"}
    assert (summary.added, summary.skipped) == (1, 1)


"""Nothing lost, nothing aborted: odd files, names, crashes, corruption and bad servers (issue
"a store that survives"). Each case is one skip line or one error line, never a traceback,
and the rest of the run goes on."""

from __future__ import annotations

import errno
import json
import os
import socket
import sqlite3
import struct
import threading
import time
import zlib
from pathlib import Path

import pytest
from helpers import write
from typer.testing import CliRunner

import semsearch.ingest.pipeline as pipeline
from semsearch import CatalogError, ConfigError, Library, SemsearchError
from semsearch.cli import app
from semsearch.errors import CollectionNotFound
from semsearch.sources.text import MAX_TEXT_BYTES
from semsearch.storage.remote import describe, parse_url

TEXT = {"a.txt": "Bicycle puncture repair with tyre levers and a patch kit.",
        "b.txt": "Sourdough starter feeding schedule: flour and water every morning.",
        "c.txt": "The boiler pressure gauge should read between one and two bar."}


def notes(folder: Path, texts: dict[str, str] = TEXT) -> Path:
    for name, text in texts.items():
        write(folder / name, text)
    return folder


def png(width: int, height: int) -> bytes:
    """A valid PNG of any size, built by hand (a few hundred bytes for a huge image)."""
    raw = b"".join(b"\x00" + b"\x00" * (width * 3) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                           0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


# 1. names -------------------------------------------------------------------------------------
def test_a_collection_named_like_another_ones_space_never_reaches_its_data(lib, tmp_path):
    col = lib.collection("notes", clip_model="none")
    col.ingest([notes(tmp_path / "n")])
    assert len(col.search("puncture", k=3)) >= 1
    for other in ("notes.text", "notes.clip"):
        with pytest.raises(CollectionNotFound):
            lib.collection(other).search("puncture")
        with pytest.raises(CollectionNotFound):
            lib.remove(other)
    assert lib.collection("notes").info().counts == {"text": 3}
    assert [h.id for h in lib.collection("notes").search("puncture", k=1)] == [
        str(tmp_path / "n" / "a.txt")]
    # a real collection of that name lives beside it, apart
    dotted = lib.collection("notes.text", clip_model="none")
    dotted.ingest([notes(tmp_path / "m", {"z.txt": "Zebra stripes and biting flies."})])
    assert [h.id for h in dotted.search("zebra", k=5)] == [str(tmp_path / "m" / "z.txt")]
    lib.remove("notes.text")
    assert lib.collection("notes").info().counts == {"text": 3}


# 2. the lexical index is the catalog's state ----------------------------------------------
def test_lexical_index_never_goes_stale_after_a_crash_or_a_same_size_edit(lib, tmp_path,
                                                                         monkeypatch):
    src = notes(tmp_path / "n")
    col = lib.collection("lx", clip_model="none")
    col.ingest([src])
    # same size, new words
    (src / "a.txt").write_text("Bicycle puncture repair with tyre levers and a zebra kit.")
    os.utime(src / "a.txt", ns=(time.time_ns(), time.time_ns() + 10**9))
    calls = {"n": 0}
    original = pipeline.Ingester._record_file

    def die(self, *args, **kwargs):  # the writer dies after its store write
        calls["n"] += 1
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline.Ingester, "_record_file", die)
    with pytest.raises(KeyboardInterrupt):
        col.ingest([src])
    assert calls["n"] == 1
    # a reader meanwhile: the index says what the catalog says (the old words)
    reader = Library(lib.home).collection("lx")
    assert [h.id for h in reader.search("patch", type="text", mode="lexical")] == [
        str(src / "a.txt")]
    monkeypatch.setattr(pipeline.Ingester, "_record_file", original)
    assert col.ingest([src]).updated == 1  # the next run finishes the job
    assert [h.id for h in reader.search("zebra", type="text", mode="lexical")] == [
        str(src / "a.txt")]
    assert reader.search("patch", type="text", mode="lexical") == []


# 3. one file never aborts the run ------------------------------------------------------------
def test_odd_files_are_skipped_one_line_each_and_the_rest_is_ingested(lib, tmp_path):
    src = notes(tmp_path / "n")
    (src / "strip.png").write_bytes(png(20000, 1))  # 99 bytes of PNG, 20000x1 pixels
    write(src / "one-word.txt", "x" * 65536)  # CLIP's BPE is quadratic in a word's length
    big = src / "huge.txt"
    with open(big, "wb") as f:
        f.truncate(MAX_TEXT_BYTES + 1)
    records = [{"id": "r1", "chroma:document": "reserved key", "body": "a kayak paddle"},
               {"id": "r2", "body": "x" * 200_000},
               {"id": "r3", "body": "a tent \x00 with a nul"}]
    write(src / "rec.jsonl", ("\n".join(json.dumps(r) for r in records)
                              + '\n{"id": "r4", "body": "raw \x00 byte"}\n').encode())
    write(src / "wide.csv", "id,body\nc1,short text about kayaks\nc2," + "y" * 140_000 + "\n")
    bad_name = os.fsdecode(b"caf\xe9.txt")  # not UTF-8
    with open(os.fsencode(src) + b"/caf\xe9.txt", "w") as f:
        f.write("latin-1 named file")
    skipped: list[tuple[str, str]] = []
    col = lib.collection("odd", clip_model="tests/data/tiny-clip.json", clip_pretrained="none")
    started = time.perf_counter()
    summary = col.ingest([src], id_field="id", text_fields=["body"],
                         on_skip=lambda p, r: skipped.append((p, r)))
    assert time.perf_counter() - started < 120
    reasons = {Path(p).name if ":" not in Path(p).name else p.rsplit("/", 1)[-1]: r
               for p, r in skipped}
    assert "extreme aspect ratio" in reasons["strip.png"]
    assert "too large" in reasons["huge.txt"]
    assert any("not valid UTF-8" in r for p, r in skipped if p.endswith(bad_name))
    assert any("NUL" in r for _, r in skipped)
    ids = set(col.lib.catalog.items_by_ids("odd", ["r1", "r2", "c1", "c2"]))
    assert {"r1", "c1"} <= ids  # the good records of the odd files are in
    assert str(src / "one-word.txt") in col.lib.catalog.files("odd")
    assert summary.added >= 6
    hit = col.search("kayak paddle", type="text", k=1)[0]
    assert hit.id == "r1" and hit.metadata.get("field_chroma:document") == "reserved key"


def test_a_missing_source_keeps_its_items_unless_pruning_is_asked_for(lib, tmp_path):
    src = notes(tmp_path / "n")
    col = lib.collection("ms", clip_model="none")
    col.ingest([src])
    src.rename(tmp_path / "moved-away")  # renamed, or a disk not mounted
    summary = col.ingest([src])
    assert summary.missing == [str(src)] and summary.removed == 0
    assert col.info().files == 3
    out = CliRunner().invoke(app, ["ingest", str(src), "-c", "ms", "--home", str(lib.home)])
    assert out.exit_code == 1
    assert out.stderr.splitlines()[-1].startswith("error: ") and "--prune-missing" in out.stderr
    assert col.info().files == 3
    assert col.ingest([src], prune_missing=True).removed == 3
    manifest = write(tmp_path / "m.toml", f'name = "mf"\nsources = ["{tmp_path / "gone"}"]\n')
    out = CliRunner().invoke(app, ["ingest", "--manifest", str(manifest), "--home",
                                   str(lib.home), "--clip-model", "none"])
    assert out.exit_code == 1 and "is missing" in out.stderr


def test_special_files_loops_and_outside_links_are_named(lib, tmp_path):
    src = notes(tmp_path / "n")
    os.mkfifo(src / "pipe.txt")
    os.symlink("loop.txt", src / "loop.txt")
    secret = write(tmp_path / "outside" / "secret.txt", "not in the tree")
    os.symlink(secret, src / "link.txt")
    write(src / "new\nline.txt", "a name with a newline")
    skipped: dict[str, str] = {}
    col = lib.collection("sp", clip_model="none")
    col.ingest([src], on_skip=lambda p, r: skipped.__setitem__(Path(p).name, r))
    assert skipped["pipe.txt"] == "not a regular file"
    assert skipped["loop.txt"] == "symlink loop"
    assert skipped["link.txt"].startswith(f"link to {secret}, outside the folder")
    assert str(src / "link.txt") not in col.lib.catalog.files("sp")
    col.ingest([src], follow_links=True)
    assert str(src / "link.txt") in col.lib.catalog.files("sp")
    runner = CliRunner()
    out = runner.invoke(app, ["ingest", str(src), "-c", "sp", "--home", str(lib.home)])
    assert out.exit_code == 0, out.output
    assert "skipping" in out.stderr and "\x1b" not in out.stderr
    for line in out.stderr.splitlines():  # the newline in a name cannot forge a line
        assert line.startswith(("skipping ", "warning: "))


def test_bad_filters_and_scores_are_refused(lib, tmp_path):
    col = lib.collection("bf", clip_model="none")
    col.ingest([notes(tmp_path / "n")])
    with pytest.raises(ConfigError, match="not a finite number"):
        col.search("x", where=["year>1e400"])
    with pytest.raises(ConfigError, match="finite"):
        col.search("x", min_score=float("nan"))
    os.mkfifo(tmp_path / "fifo.png")
    with pytest.raises(ConfigError, match="not a regular file"):
        col.search(image=str(tmp_path / "fifo.png"))


# 7-8. corruption, full disks ------------------------------------------------------------------
def test_a_garbled_generation_token_is_harmless(lib, tmp_path):
    col = lib.collection("gen", clip_model="none")
    col.ingest([notes(tmp_path / "n")])
    (lib.home / "store.generation").write_bytes(b"\xff\xfe\x00garbage\x9c" * 50)
    assert Library(lib.home).collection("gen").search("boiler", k=1)[0].id.endswith("c.txt")


def test_a_damaged_catalog_names_the_way_back(tmp_path):
    home = tmp_path / "home"
    lib = Library(home)
    lib.collection("dmg", clip_model="none").ingest([notes(tmp_path / "n")])
    lib.close()
    db = home / "catalog.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(db.read_bytes())
    page = 4096
    data[page * 2: page * 2 + 512] = os.urandom(512)  # one garbled page
    db.write_bytes(bytes(data))
    with pytest.raises(CatalogError, match="damaged.*backup.*ingest"):
        fresh = Library(home)
        for _ in range(3):
            fresh.collection("dmg").info()
            fresh.catalog.files("dmg")


def test_store_failures_are_named() -> None:
    assert "disk full" in describe(OSError(errno.ENOSPC, "No space left on device"), "/x")
    assert "disk full" in describe(RuntimeError("Error in compaction: No space left on "
                                                "device (os error 28)"), "/x")
    assert "reindex" in describe(RuntimeError("Error loading hnsw index"), "/x")
    assert "permission denied" in describe(PermissionError(13, "denied", "/x/y"), "/x")
    assert describe(ValueError("something else"), "/x") is None


# 5. servers -----------------------------------------------------------------------------------
def test_bad_chroma_urls_are_one_line(tmp_path):
    with pytest.raises(ConfigError, match="bad Chroma URL"):
        parse_url("http://[::1")
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)  # accepts, never answers
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    started = time.perf_counter()
    with pytest.raises(SemsearchError, match="did not answer"):
        Library(tmp_path / "h", chroma_url=url).collection("x").search("q")
    assert time.perf_counter() - started < 15
    silent.close()

    from http.server import BaseHTTPRequestHandler, HTTPServer

    class NotChroma(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = b"<html><body>" + b"<p>hello</p>" * 14 + b"</body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), NotChroma)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    out = CliRunner().invoke(app, ["search", "q", "--home", str(tmp_path / "h2"),
                                   "--chroma-url", url])
    server.shutdown()
    assert out.exit_code == 1
    assert out.stderr.count("\n") == 1 and "does not answer like a Chroma server" in out.stderr

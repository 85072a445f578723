"""A killed ingest leaves nothing half-done that the next run does not repair."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import TINY_CLIP, catalog_items, check_consistent, dump, write

from semsearch import Library

pytestmark = pytest.mark.slow  # subprocesses, kills, servers

N_FILES = 300
WORDS = ["apple", "river", "stone", "cloud", "engine", "violin", "garden", "rocket", "paper",
         "candle", "winter", "bridge", "forest", "copper", "island", "lantern", "marble",
         "needle", "orbit", "pepper", "quartz", "saddle", "thunder"]

SCRIPT = textwrap.dedent("""
    import sys
    import semsearch
    import semsearch.ingest.pipeline as ingest

    # small flushes, so that the run is killed between two of them (a test setting only)
    ingest.FLUSH_UNITS = 16
    home, src, clip = sys.argv[1:4]
    lib = semsearch.open(home)
    col = lib.collection("crash", clip_model=clip, clip_pretrained="none")
    print("started", flush=True)
    col.ingest([src])
    print("finished", flush=True)
""")


def count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return int(con.execute(sql).fetchone()[0])
        finally:
            con.close()
    except sqlite3.OperationalError:  # tables not created yet, or busy
        return 0


AHEAD = "vectors written, not yet recorded"
THIRD = "a third of the files recorded"


@pytest.mark.parametrize("kill_when", [AHEAD, THIRD])
def test_killed_ingest_is_completed_by_the_next_run(tmp_path, kill_when):
    src = tmp_path / "src"
    files = []
    for n in range(N_FILES):
        words = " ".join(WORDS[(n * 7 + j * 3) % len(WORDS)] for j in range(8))
        files.append(write(src / f"d{n // 100}" / f"note-{n:03d}.txt", f"Note {n}: {words}."))
    home = tmp_path / "home"
    db = home / "catalog.sqlite"
    chroma_db = home / "chroma" / "chroma.sqlite3"
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")

    def time_to_kill() -> bool:
        files_done = count(db, "SELECT count(*) FROM files")
        if kill_when == THIRD:
            return files_done >= N_FILES // 3
        # Chroma's write log, read from outside: vectors upserted for files the catalog has
        # not recorded yet (one text and one CLIP vector per file)
        return count(chroma_db, "SELECT count(*) FROM embeddings_queue") > 2 * files_done

    log = tmp_path / "ingest.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(home), str(src), TINY_CLIP],
                                stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and proc.poll() is None:
            if time_to_kill():
                os.kill(proc.pid, signal.SIGSTOP)  # freeze it, then look again: still true?
                if time_to_kill():
                    break
                os.kill(proc.pid, signal.SIGCONT)
            time.sleep(0.002)
        assert proc.poll() is None, f"ingest ended before it could be killed:\n{log.read_text()}"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, log.read_text()
    assert "started" in log.read_text() and "finished" not in log.read_text()
    recorded = count(db, "SELECT count(*) FROM files")
    assert recorded < N_FILES

    with Library(home) as lib:
        col = lib.collection("crash")
        written = len(dump(lib, "crash", "text")) + len(dump(lib, "crash", "clip"))
        if kill_when == AHEAD:  # the store was ahead of the catalog when the run died
            assert written > 2 * recorded and lib.catalog.pending("crash")
        skipped: list[tuple[str, str]] = []
        summary = col.ingest([src], on_skip=lambda p, r: skipped.append((p, r)))
        assert skipped == []
        assert (summary.skipped, summary.moved, summary.removed, summary.updated) == (0, 0, 0, 0)
        assert summary.unchanged == recorded
        assert summary.added == N_FILES - recorded
        assert summary.items == summary.added

        # every file exactly once: one item per file in each space, no duplicate, no orphan
        want = {str(p.resolve()) for p in files}
        assert set(lib.catalog.files("crash")) == want
        assert set(catalog_items(lib, "crash")) == want
        for space in ("text", "clip"):
            rows = dump(lib, "crash", space)
            ids = [r.chroma_id for r in rows]
            assert len(ids) == len(set(ids)) == N_FILES
            assert {r.metadata["item_id"] for r in rows} == want
            assert sorted(r.metadata["path"] for r in rows) == sorted(want)
        check_consistent(lib, "crash")
        assert col.info().counts == {"text": N_FILES}

        # and the next run has nothing to do
        again = col.ingest([src])
        assert (again.unchanged, again.items, again.added) == (N_FILES, 0, 0)

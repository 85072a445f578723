"""Safety across processes on the embedded store (semsearch.embedded, semsearch.lock).

Real processes, a real Chroma directory, the real MiniLM and the tiny CLIP model: writers
are killed with SIGKILL in the middle of a write, two CLI ingests run at once, and a
long-lived reader (like the TUI) searches while another process writes.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import SHORT_TEXTS, TINY_CLIP, catalog_items, check_consistent, dump, make_image, write

from semsearch.client.library import Library
from semsearch.errors import StoreLocked
from semsearch.storage.embedded import EmbeddedStore

pytestmark = pytest.mark.slow  # subprocesses, kills, servers

BIN = Path(sys.executable).parent
CLIP = ["--clip-model", TINY_CLIP, "--clip-pretrained", "none"]
WORDS = ["apple", "river", "stone", "cloud", "engine", "violin", "garden", "rocket", "paper",
         "candle", "winter", "bridge", "forest", "copper", "island", "lantern", "marble"]
LIMIT = 240  # seconds any one process may take (the test machine may be busy)

#: an ingest with small flushes (many writes), for killing in the middle of one
WRITER = textwrap.dedent("""
    import sys
    import semsearch
    import semsearch.ingest.pipeline as ingest

    ingest.FLUSH_UNITS = 8
    home, name, clip, *paths = sys.argv[1:]
    lib = semsearch.open(home)
    col = lib.collection(name, clip_model=clip, clip_pretrained="none")
    print(col.ingest(paths).line(), flush=True)
""")


def child_env(home: Path) -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               SEMSEARCH_HOME=str(home))
    env.pop("SEMSEARCH_CHROMA_URL", None)
    return env


def start(args: list[str], home: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(args, env=child_env(home), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def cli(*args: str, home: Path) -> subprocess.Popen[str]:
    return start([str(BIN / "semsearch"), *args, "--home", str(home)], home)


def finish(proc: subprocess.Popen[str], timeout: float = LIMIT) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"process {proc.args} ran over {timeout}s: {err[-2000:]}")
    return proc.returncode, out, err


def stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


def catalog_count(home: Path, sql: str) -> int:
    db = home / "catalog.sqlite"
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return int(con.execute(sql).fetchone()[0])
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


def held_exclusive(home: Path) -> bool:
    """True while some process holds the store lock exclusive (a write is under way)."""
    path = home / "store.lock"
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also drops our shared lock
    return False


def records(path: Path, n: int, tag: str) -> Path:
    lines = [json.dumps({"id": f"{tag}-{i}", "text": f"{tag} note {i}: the "
                         f"{WORDS[i % len(WORDS)]} by the {WORDS[(i * 7) % len(WORDS)]}"})
             for i in range(n)]
    return write(path, "\n".join(lines) + "\n")


def texts(folder: Path, names: dict[str, str]) -> None:
    for name, text in names.items():
        write(folder / name, text)


def whole_items(rows: list[Any]) -> dict[str, int]:
    """Item id -> chunk count; fails if any item's chunks are not exactly 0..n-1 once."""
    chunks: dict[str, list[int]] = {}
    for r in rows:
        chunks.setdefault(r.metadata["item_id"], []).append(int(r.metadata["chunk"]))
    for item, got in chunks.items():
        assert sorted(got) == list(range(len(got))), f"torn item {item}: chunks {sorted(got)}"
    return {item: len(got) for item, got in chunks.items()}


# -------------------------------------------------------------------------------------------
def test_reader_waits_for_a_write_and_no_wait_names_the_holder(tmp_path: Path) -> None:
    """A process in the middle of a write holds the store exclusive: a reader waits for it
    with a message naming it, or fails at once when told not to wait."""
    home = tmp_path / "home"
    holder = start([sys.executable, "-c", textwrap.dedent("""
        import sys, time
        from pathlib import Path
        from semsearch.storage.embedded import EmbeddedStore
        store = EmbeddedStore.of(Path(sys.argv[1]))
        with store.writing():
            print("held", flush=True)
            time.sleep(float(sys.argv[2]))
        print("released", flush=True)
    """), str(home), "4"], home)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        store = EmbeddedStore.of(home)
        with pytest.raises(StoreLocked) as e, store.hold(False, wait=False):
            pass
        assert f"pid {holder.pid}" in str(e.value)
        messages: list[str] = []
        started = time.monotonic()
        with store.hold(False, wait=True, on_wait=messages.append) as client:
            waited = time.monotonic() - started
            assert client is not None
            assert holder.poll() is not None or holder.stdout.readline().strip() == "released"
        assert waited > 0.5
        assert len(messages) == 1 and f"pid {holder.pid}" in messages[0], messages
    finally:
        stop(holder)


def test_no_wait_ingest_fails_at_once_naming_the_writer(tmp_path: Path) -> None:
    home, src = tmp_path / "home", tmp_path / "src"
    texts(src, SHORT_TEXTS)
    holder = start([sys.executable, "-c", textwrap.dedent("""
        import sys, time
        from pathlib import Path
        from semsearch.storage.locking import WriteLock
        with WriteLock(Path(sys.argv[1])):
            print("held", flush=True)
            time.sleep(120)
    """), str(home)], home)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        code, out, err = finish(cli("ingest", str(src), "-c", "c", "--no-wait", *CLIP,
                                    home=home))
        assert code == 1, err
        assert f"pid {holder.pid}" in err and "try again later" in err, err
        assert "Traceback" not in err
        assert time.monotonic() - started < LIMIT
        with Library(home) as lib:
            assert lib.catalog.collection("c") is None  # nothing was written
    finally:
        stop(holder)


def test_writer_killed_in_the_middle_of_a_write(tmp_path: Path) -> None:
    """SIGKILL while the writer holds the store exclusive, with a reader open: the lock goes
    with the process, the reader's next query reopens a readable store, and the next run
    completes the collection exactly."""
    home, src = tmp_path / "home", tmp_path / "src"
    texts(src / "notes", SHORT_TEXTS)
    records(src / "records.jsonl", 160, "rec")
    for i in range(4):
        make_image(src / "images" / f"p{i}.png", seed=i)
    expected = len(SHORT_TEXTS) + 160 + 4

    with Library(tmp_path / "warm") as warm:  # load the text model before the race starts
        warm.collection("w").text_embedder()
    proc = start([sys.executable, "-c", WRITER, str(home), "k", TINY_CLIP, str(src)], home)
    reader: Library | None = None
    try:
        deadline = time.monotonic() + LIMIT
        while time.monotonic() < deadline and proc.poll() is None:
            if held_exclusive(home) and catalog_count(home, "SELECT count(*) FROM items") > 0:
                if reader is None:
                    reader = Library(home)  # a long-lived reader, opened mid-ingest
                    reader.collection("k").search("apple", type="text", mode="dense")
                    continue
                proc.send_signal(signal.SIGKILL)  # in the middle of a write
                break
            time.sleep(0.002)
        code, _, err = finish(proc)
        assert code == -signal.SIGKILL, f"the writer was not killed mid-ingest: {err[-1500:]}"
    finally:
        stop(proc)
    written = catalog_count(home, "SELECT count(*) FROM items")
    assert 0 < written < expected

    assert reader is not None
    hits = reader.collection("k").search("apple by the river", type="text", mode="dense", k=5)
    assert hits, "the store is not readable after the kill"
    assert not held_exclusive(home)

    with Library(home) as again:  # the next run
        summary = again.collection("k").ingest([src])
    assert summary.added + summary.updated + summary.unchanged == 6 + 1 + 4
    check_consistent(reader, "k")
    assert len(catalog_items(reader, "k")) == expected
    assert len(whole_items(dump(reader, "k", "text"))) == expected - 4  # images: CLIP only
    assert len(whole_items(dump(reader, "k", "clip"))) == expected
    fresh = reader.collection("k").search("apple by the river", type="text", mode="dense",
                                          all_chunks=True, k=20)
    with Library(home) as other:
        again = other.collection("k").search("apple by the river", type="text", mode="dense",
                                             all_chunks=True, k=20)
    assert [(h.id, h.score) for h in fresh] == [(h.id, h.score) for h in again]
    reader.close()


def test_two_cli_ingests_at_once_and_a_reader_meanwhile(tmp_path: Path) -> None:
    """Two CLI ingests into one embedded directory: the second waits with a message; in the
    end every item is present once. A long-lived reader searching all along never fails,
    never sees a torn item, and ends with what a freshly opened store answers."""
    home, a, b, shared = tmp_path / "home", tmp_path / "a", tmp_path / "b", tmp_path / "shared"
    records(a / "a.jsonl", 120, "alpha")
    texts(b, {f"b{i}.txt": f"beta file {i} about the {WORDS[i]} and the {WORDS[-i - 1]}"
              for i in range(8)})
    for i in range(3):
        make_image(b / f"b{i}.png", seed=10 + i)
    texts(shared, {"s1.md": "# Shared\n\nBoth runs list this note about copper lanterns.",
                   "s2.txt": "And this one about a marble bridge in winter."})
    expected = 120 + 8 + 3 + 2

    # the reader opens the store first (a collection made by a small ingest)
    seed = tmp_path / "seed"
    texts(seed, {"seed.txt": "a seed note about a rocket and a candle"})
    reader = Library(home)
    col = reader.collection("two", clip_model=TINY_CLIP, clip_pretrained="none")
    col.ingest([seed])
    assert [h.id for h in col.search("rocket", type="text", mode="dense")]

    queries = 0
    failures: list[str] = []
    done = threading.Event()

    def read_along() -> None:
        nonlocal queries
        while not done.is_set():
            try:
                col.search("copper lantern by the river", type="text", mode="dense", k=10)
                with reader.store.reading():
                    for space in ("text", "clip"):
                        whole_items(dump(reader, "two", space))
                queries += 1
            except Exception as e:  # noqa: BLE001 - recorded, the test fails below
                failures.append(f"{type(e).__name__}: {e}")
            time.sleep(0.05)

    thread = threading.Thread(target=read_along, daemon=True)
    thread.start()
    first = cli("ingest", str(a), str(shared), "-c", "two", *CLIP, home=home)
    second = cli("ingest", str(b), str(shared), "-c", "two", *CLIP, home=home)
    try:
        r1, r2 = finish(first), finish(second)
    finally:
        stop(first)
        stop(second)
        done.set()
        thread.join(timeout=60)
    assert r1[0] == 0, r1[2]
    assert r2[0] == 0, r2[2]
    assert "waiting for pid" in r1[2] + r2[2], (r1[2], r2[2])
    assert not failures, failures[:5]
    assert queries > 0

    check_consistent(reader, "two")
    items = catalog_items(reader, "two")
    assert len(items) == expected + 1, f"expected {expected + 1} items, found {len(items)}"
    for space, images in (("text", 3), ("clip", 0)):
        rows = dump(reader, "two", space)
        assert len(whole_items(rows)) == expected + 1 - images
        assert len({r.chroma_id for r in rows}) == len(rows)

    # the long-lived reader answers exactly what a new process answers
    mine = col.search("a marble bridge in winter", type="any", all_chunks=True, k=15,
                      mode="dense")
    code, out, err = finish(cli("search", "a marble bridge in winter", "-c", "two", "--json",
                                "--all-chunks", "-k", "15", "--mode", "dense", home=home))
    assert code == 0, err
    theirs = json.loads(out)
    assert [(h.id, round(h.score, 4)) for h in mine] == \
        [(h["id"], round(h["score"], 4)) for h in theirs]
    reader.close()

"""Server mode: a real ``chroma run`` server on a loopback port in a temporary folder.

Ingest into it and search it (the answers equal those of the embedded store), a second client
with an empty catalog adopts the collection, two ingest processes run at once against it,
N processes with ``--shard I/N`` cover every file exactly once, and ``semsearch serve``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    SCORE_TOL,
    SHORT_TEXTS,
    TIE,
    TINY_CLIP,
    Ranked,
    assert_hits,
    long_markdown,
    make_image,
    write,
)

from semsearch.client.library import Library
from semsearch.errors import StoreLocked
from semsearch.ingest.shard import in_shard, parse_shard, shard_key, shard_of
from semsearch.storage.locking import WriteLock
from semsearch.storage.server import chroma_command, wait_until_up

pytestmark = pytest.mark.slow  # subprocesses, kills, servers

BIN = Path(sys.executable).parent
CLIP = ["--clip-model", TINY_CLIP, "--clip-pretrained", "none"]
LIMIT = 240  # seconds any one process may take (the test machine may be busy)
QUERIES = ["dogs playing on the beach", "how to cook pasta", "growing tomatoes in spring"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def child_env(home: Path, url: str | None = None) -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               SEMSEARCH_HOME=str(home))
    env.pop("SEMSEARCH_CHROMA_URL", None)
    if url:
        env["SEMSEARCH_CHROMA_URL"] = url
    return env


def cli(*args: str, home: Path, url: str | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([str(BIN / "semsearch"), *args, "--home", str(home)],
                            env=child_env(home, url), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str], timeout: float = LIMIT) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"{proc.args} ran over {timeout}s: {err[-2000:]}")
    return proc.returncode, out, err


def terminate(proc: subprocess.Popen[Any], grace: float = 15) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``chroma run`` on a free loopback port over a temporary folder; always stopped."""
    root = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(root / "server.log", "wb") as log:
        proc = subprocess.Popen(
            [*chroma_command(), "run", "--path", str(root / "data"), "--host", "127.0.0.1",
             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
        try:
            if not wait_until_up(url, timeout=90, proc=proc):
                pytest.fail("chroma run did not come up: "
                            + (root / "server.log").read_text(errors="replace")[-2000:])
            yield url
        finally:
            terminate(proc)


def corpus(folder: Path) -> Path:
    for name, text in SHORT_TEXTS.items():
        write(folder / "notes" / name, text)
    write(folder / "notes" / "long.md", long_markdown())
    for i in range(3):
        make_image(folder / "images" / f"img{i}.png", seed=40 + i)
    return folder


def dump_remote(url: str, name: str) -> dict[str, dict[str, list[int]]]:
    """space -> item id -> its chunk numbers, straight from the server."""
    import chromadb
    from chromadb.config import Settings

    host, port = url.removeprefix("http://").split(":")
    client = chromadb.HttpClient(host=host, port=int(port),
                                 settings=Settings(anonymized_telemetry=False))
    out: dict[str, dict[str, list[int]]] = {}
    for space in ("text", "clip"):
        got = client.get_collection(f"{name}.{space}").get(include=["metadatas"])
        items: dict[str, list[int]] = {}
        for cid, meta in zip(got["ids"], got["metadatas"], strict=True):
            assert cid == f"{meta['item_id']}#{meta['chunk']}"
            items.setdefault(str(meta["item_id"]), []).append(int(meta["chunk"]))
        out[space] = items
    return out


def assert_exactly_once(chunks: dict[str, dict[str, list[int]]], files: list[Path]) -> None:
    want = {str(p.resolve()) for p in files}
    for space in ("text", "clip"):
        expected = want if space == "clip" else {p for p in want if not p.endswith(".png")}
        assert set(chunks[space]) == expected, (
            f"{space}: missing {expected - set(chunks[space])}, "
            f"extra {set(chunks[space]) - expected}")
        for item, got in chunks[space].items():
            assert sorted(got) == list(range(len(got))), f"{space} {item}: chunks {got}"


# -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def both(server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One corpus ingested into the server and into an embedded store."""
    root = tmp_path_factory.mktemp("srv")
    src = corpus(root / "src")
    remote = Library(root / "client1", chroma_url=server)
    local = Library(root / "local")
    summaries = []
    for lib in (remote, local):
        col = lib.collection("srv", clip_model=TINY_CLIP, clip_pretrained="none")
        summaries.append(col.ingest([src]))
    yield {"src": src, "remote": remote, "local": local, "summaries": summaries, "root": root}
    remote.close()
    local.close()


def expected_from(hits: list[Any]) -> list[Ranked]:
    return [Ranked(h.id, h.score, 0) for h in hits]


def same_hits(got: list[Any], want: list[Any]) -> None:
    """Same (item, chunk) at each rank with the same score; near-ties may swap places."""
    assert len(got) == len(want)
    key = [(h.id, h.metadata.get("chunk")) for h in got]
    for g, w in zip(got, want, strict=True):
        assert abs(g.score - w.score) <= SCORE_TOL, (g.id, g.score, w.id, w.score)
    tied = {(h.id, h.metadata.get("chunk")) for h in want}
    assert set(key) == tied or all(
        abs(g.score - w.score) <= TIE for g, w in zip(got, want, strict=True)
        if (g.id, g.metadata.get("chunk")) != (w.id, w.metadata.get("chunk")))


def test_server_mode_answers_like_the_embedded_store(both: dict[str, Any]) -> None:
    remote, local = both["remote"].collection("srv"), both["local"].collection("srv")
    r_sum, l_sum = both["summaries"]
    assert (r_sum.added, r_sum.items) == (l_sum.added, l_sum.items) and r_sum.added > 0
    image = both["src"] / "images" / "img1.png"
    for kwargs in [
        *({"text": q, "type": t, "mode": m} for q in QUERIES for t in ("any", "text", "image")
          for m in ("dense", "hybrid")),
        {"text": QUERIES[0], "type": "text", "all_chunks": True, "mode": "dense"},
        {"image": str(image), "type": "any"},
        {"text": "in winter", "image": str(image), "type": "image"},
    ]:
        want = local.search(k=6, **kwargs)
        got = remote.search(k=6, **kwargs)
        if kwargs.get("all_chunks"):
            same_hits(got, want)
        else:
            assert_hits(got, expected_from(want))
        assert want and [h.modality for h in got] == [h.modality for h in want]
    assert remote.info().counts == local.info().counts


def test_a_second_client_adopts_the_collection(both: dict[str, Any], server: str,
                                               tmp_path: Path) -> None:
    """A client with an empty catalog finds the collection on the server (models read from
    its embedding functions' configuration) and answers like the first; the CLI takes the
    server from SEMSEARCH_CHROMA_URL or --chroma-url."""
    first = both["remote"].collection("srv")
    with Library(tmp_path / "client2", chroma_url=server) as second:
        assert "srv" in [c.name for c in second.collections()]
        col = second.collection("srv")
        assert col.exists and col.models == first.models
        assert col.info().counts == first.info().counts
        for q in QUERIES:
            assert_hits(col.search(q, k=5), expected_from(first.search(q, k=5)))

    home3 = tmp_path / "client3"
    listing = cli("collections", "--json", home=home3, url=server)
    found = cli("search", QUERIES[2], "-c", "srv", "--json", "-k", "5", "--all", "--chroma-url",
                server, home=tmp_path / "client4")
    (c1, out1, err1), (c2, out2, err2) = finish(listing), finish(found)
    assert c1 == 0, err1
    assert c2 == 0, err2
    info = {c["name"]: c for c in json.loads(out1)}["srv"]
    assert info["models"]["text_model"] == first.models.text_model
    hits = json.loads(out2)
    want = first.search(QUERIES[2], k=5)
    assert [(h["id"], round(h["score"], 4)) for h in hits] == \
        [(h.id, round(h.score, 4)) for h in want]


SHARDS = 3


@pytest.fixture(scope="module")
def runs(server: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """At once against the server: two processes ingesting one folder (sharing a data
    directory), and SHARDS processes ingesting ``--shard I/SHARDS`` of a tree (each with its
    own data directory, like separate machines)."""
    root = tmp_path_factory.mktemp("runs")
    src = corpus(root / "src")
    for i in range(12):
        write(src / "more" / f"m{i}.txt", f"extra note {i}: {QUERIES[i % 3]}, number {i}")
    tree = root / "tree"
    for i in range(24):
        write(tree / f"d{i % 4}" / f"f{i}.txt", f"shard note {i}: {sorted(SHORT_TEXTS)[i % 6]}")
    procs = [cli("ingest", str(src), "-c", "twice", "--json", *CLIP, home=root / "shared-home",
                 url=server) for _ in range(2)]
    procs += [cli("ingest", str(tree), "-c", "sharded", "--shard", f"{i}/{SHARDS}", "--json",
                  *CLIP, home=root / f"machine{i}", url=server) for i in range(1, SHARDS + 1)]
    try:
        results = [finish(p) for p in procs]
    finally:
        for p in procs:
            terminate(p)
    for code, _, err in results:
        assert code == 0, err
    return {"root": root, "src": src, "tree": tree, "twice": results[:2],
            "shards": results[2:]}


def test_two_ingest_processes_at_once(server: str, runs: dict[str, Any]) -> None:
    """Two processes ingest the same folder into one server collection at once (sharing a
    catalog): every item arrives exactly once."""
    src = runs["src"]
    files = sorted(p for p in src.rglob("*") if p.is_file())
    summaries = [json.loads(out) for _, out, _ in runs["twice"]]
    assert all(s["skipped"] == 0 for s in summaries)
    chunks = dump_remote(server, "twice")
    assert_exactly_once(chunks, files)
    print(f"two ingests at once: {len(files)} items expected, "
          f"{len(chunks['clip'])} found in the CLIP space, "
          f"{sum(len(c) for c in chunks['text'].values())} text chunks")
    # the shared catalog knows every file: a third run has nothing to do
    with Library(runs["root"] / "shared-home", chroma_url=server) as lib:
        again = lib.collection("twice").ingest([src])
    assert (again.unchanged, again.added, again.removed) == (len(files), 0, 0)


def test_shards_cover_every_file_exactly_once(server: str, runs: dict[str, Any]) -> None:
    """N machines (here N processes, each with its own data directory) each ingest
    ``--shard I/N`` of one tree into the same server collection."""
    tree = runs["tree"].resolve()
    files = sorted(p for p in tree.rglob("*.txt"))
    added = []
    for i, (_, out, _) in enumerate(runs["shards"], start=1):
        added.append(json.loads(out)["added"])
        mine = {str(p) for p in files if in_shard(str(p), str(tree), (i, SHARDS))}
        with Library(runs["root"] / f"machine{i}") as lib:
            assert set(lib.catalog.files("sharded")) == mine
    assert sum(added) == len(files) and all(a > 0 for a in added), added
    assert_exactly_once(dump_remote(server, "sharded"), files)
    print(f"{SHARDS} shards: {len(files)} files, added per shard {added}")


def test_shard_assignment_and_pruning(tmp_path: Path) -> None:
    """Stable, path-relative assignment; a shard run prunes only its own files."""
    assert parse_shard("2/4") == (2, 4)
    for bad in ("0/3", "4/3", "1/0", "x", "1-3"):
        with pytest.raises(Exception, match="shard"):
            parse_shard(bad)
    src = tmp_path / "a" / "tree"
    for i in range(10):
        write(src / f"sub{i % 2}" / f"n{i}.txt", f"pruning note {i}: {sorted(SHORT_TEXTS)[i % 6]}")
    other = tmp_path / "elsewhere" / "mount" / "tree"
    shutil.copytree(src, other)
    for p in src.rglob("*.txt"):  # another mount point: the same shard
        twin = other / p.relative_to(src)
        assert shard_key(str(p), str(src)) == shard_key(str(twin), str(other))
        assert in_shard(str(p), str(src), (1, 2)) == in_shard(str(twin), str(other), (1, 2))
    one = [p for p in src.rglob("*.txt") if shard_of(shard_key(str(p), str(src)), 2) == 1]
    two = [p for p in src.rglob("*.txt") if shard_of(shard_key(str(p), str(src)), 2) == 2]
    assert one and two and len(one) + len(two) == 10

    with Library(tmp_path / "home") as lib:
        col = lib.collection("p", clip_model="none")
        assert col.ingest([src], shard="1/2").added == len(one)
        s = col.ingest([src], shard="2/2")
        assert (s.added, s.removed) == (len(two), 0)
        s = col.ingest([src], shard=(1, 2))
        assert (s.unchanged, s.removed, s.added) == (len(one), 0, 0)
        one[0].unlink()
        two[0].unlink()
        s = col.ingest([src], shard="1/2")
        assert s.removed == 1
        assert str(two[0].resolve()) in lib.catalog.files("p")  # not this shard's to prune
        assert col.ingest([src], shard="2/2").removed == 1
        assert len(lib.catalog.files("p")) == 8


def test_serve(tmp_path: Path) -> None:
    """``semsearch serve`` refuses while the store is being written, else serves the data
    directory, says how to point the CLI at it, keeps embedded writers off, and stops its
    Chroma server with it."""
    home = tmp_path / "home"
    port = free_port()
    with WriteLock(home):
        code, _, err = finish(cli("serve", "--port", str(port), home=home), timeout=60)
    assert code == 1 and f"pid {os.getpid()}" in err, err

    proc = cli("serve", "--port", str(port), home=home)
    url = f"http://127.0.0.1:{port}"
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 90
        lines: list[str] = []
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "SEMSEARCH_CHROMA_URL" in line:
                break
        assert f"export SEMSEARCH_CHROMA_URL={url}" in "".join(lines), "".join(lines)[-2000:]
        assert wait_until_up(url, timeout=10)
        with Library(home) as lib, pytest.raises(StoreLocked, match="served by"):
            lib.collection("x", clip_model="none").ingest([tmp_path])
        with Library(tmp_path / "client", chroma_url=url) as client:
            col = client.collection("served", clip_model="none")
            write(tmp_path / "docs" / "a.txt", "a note served over http")
            assert col.ingest([tmp_path / "docs"]).added == 1
            assert col.search("served note", k=1)[0].path == str(tmp_path / "docs" / "a.txt")
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
        assert not wait_until_up(url, timeout=1), "the Chroma server outlived semsearch serve"
    finally:
        terminate(proc)
    assert (home / "chroma" / "chroma.sqlite3").exists()
    with Library(home) as lib:  # the store is the embedded one again, with what was served
        assert lib.collection("served").search("served note", k=1, mode="dense")


def test_bad_urls(tmp_path: Path) -> None:
    with Library(tmp_path / "h", chroma_url="ftp://x") as lib, pytest.raises(Exception,
                                                                            match="Chroma URL"):
        lib.collection("c").search("q")
    port = free_port()  # nothing listens there
    with Library(tmp_path / "h", chroma_url=f"http://127.0.0.1:{port}") as lib, \
            pytest.raises(Exception, match="cannot reach the Chroma server"):
        lib.collection("c").search("q")



def test_serve_elsewhere_than_loopback_needs_a_token_and_checks_it(tmp_path: Path,
                                                                   monkeypatch) -> None:
    """``serve --host 0.0.0.0`` is refused without a token; with one, a request without it
    (an unauthenticated DELETE) is refused, and clients with it work."""
    home = tmp_path / "home"
    port = free_port()
    code, _, err = finish(cli("serve", "--host", "0.0.0.0", "--port", str(port), home=home),
                          timeout=60)
    assert code == 1 and err.startswith("error: serving on 0.0.0.0 lets anyone") \
        and err.count("\n") == 1, err
    proc = cli("serve", "--host", "0.0.0.0", "--port", str(port), "--token", "s3cret",
               home=home)
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_until_up(url, timeout=90)
        monkeypatch.setenv("SEMSEARCH_CHROMA_TOKEN", "s3cret")
        with Library(tmp_path / "client", chroma_url=url) as client:
            col = client.collection("guarded", clip_model="none")
            write(tmp_path / "docs" / "a.txt", "a note behind a token")
            assert col.ingest([tmp_path / "docs"]).added == 1
        import urllib.error
        import urllib.request

        base = f"{url}/api/v2/tenants/default_tenant/databases/default_database/collections"
        for request in (urllib.request.Request(base),
                        urllib.request.Request(f"{base}/guarded.text", method="DELETE")):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            assert refused.value.code == 401
        monkeypatch.setenv("SEMSEARCH_CHROMA_TOKEN", "wrong")
        with pytest.raises(Exception, match="token|401|refused"):
            Library(tmp_path / "client2", chroma_url=url).collection("guarded").search("note")
        monkeypatch.setenv("SEMSEARCH_CHROMA_TOKEN", "s3cret")
        with Library(tmp_path / "client3", chroma_url=url) as client:
            assert client.collection("guarded").search("note", k=1, mode="dense")
    finally:
        terminate(proc)


def test_the_lexical_index_follows_other_clients_through_the_change_log(server: str,
                                                                         tmp_path: Path) -> None:
    """Two clients (two homes) on one server: what one writes or removes, the other finds (or
    no longer finds) lexically, reading only the chunks that changed, never the corpus."""
    src = tmp_path / "src"
    for name, text in SHORT_TEXTS.items():
        write(src / name, text)
    with Library(tmp_path / "a", chroma_url=server) as a, \
            Library(tmp_path / "b", chroma_url=server) as b:
        writer = a.collection("logged", clip_model="none")
        writer.ingest([src])
        reader = b.collection("logged")

        def lexical(text: str) -> list[str]:
            return [h.id for h in reader.search(text, type="text", mode="lexical", k=3)]

        assert lexical("pasta garlic") == [str(src / "pasta.txt")]
        assert b.data.changes.chunks_read == len(SHORT_TEXTS)  # its first sync: everything
        write(src / "zebra.txt", "Zebra stripes confuse biting flies on the savanna.")
        writer.ingest([src])
        assert lexical("zebra stripes") == [str(src / "zebra.txt")]
        assert b.data.changes.chunks_read == len(SHORT_TEXTS) + 1  # only the new chunk
        (src / "pasta.txt").unlink()
        writer.ingest([src])
        assert lexical("pasta garlic") == []
        assert b.data.changes.chunks_read == len(SHORT_TEXTS) + 2  # only the removed one
        assert lexical("zebra stripes") == [str(src / "zebra.txt")]
        assert b.data.changes.chunks_read == len(SHORT_TEXTS) + 2  # nothing new: nothing read
        # and the other way round: the reader writes, the writer finds it
        write(tmp_path / "more" / "kiln.txt", "A kiln fires clay pots until the glaze melts.")
        reader.ingest([tmp_path / "more"])
        assert [h.id for h in writer.search("kiln glaze", type="text", mode="lexical")] == [
            str(tmp_path / "more" / "kiln.txt")]
        # its first sync reads every chunk: the six, less pasta, plus zebra and kiln
        assert a.data.changes.chunks_read == len(SHORT_TEXTS) + 1
        assert lexical("kiln glaze") == [str(tmp_path / "more" / "kiln.txt")]  # its own
        # a collection dropped and made anew is read anew
        b.remove("logged")
        b.collection("logged", clip_model="none").ingest([tmp_path / "more"])
        assert [h.id for h in writer.search("zebra", type="text", mode="lexical")] == []
        assert [h.id for h in writer.search("kiln glaze", type="text", mode="lexical")] == [
            str(tmp_path / "more" / "kiln.txt")]


def test_a_client_behind_a_compacted_change_log_reads_the_collection_anew(
        server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each writer keeps its last records only; a client whose marks fall below what was
    deleted reads the collection once more in full, and still finds every item."""
    from semsearch.storage import changes

    monkeypatch.setattr(changes, "KEEP", 2)
    monkeypatch.setattr(changes, "COMPACT_EVERY", 1)
    src = tmp_path / "src"
    write(src / "first.txt", "A first note about lighthouses on the rocky coast.")
    with Library(tmp_path / "a", chroma_url=server) as a, \
            Library(tmp_path / "b", chroma_url=server) as b:
        writer = a.collection("compacted", clip_model="none")
        writer.ingest([src])
        reader = b.collection("compacted")
        assert [h.id for h in reader.search("lighthouses", mode="lexical")] == [
            str(src / "first.txt")]
        read = b.data.changes.chunks_read
        for i in range(4):  # four more records: the reader's mark falls below the floor
            write(src / f"n{i}.txt", f"Note {i} about the quarry and its {i} cranes.")
            writer.ingest([src])
        found = [h.id for h in reader.search("quarry cranes", mode="lexical", k=10)]
        assert sorted(found) == sorted(str(src / f"n{i}.txt") for i in range(4))
        assert b.data.changes.chunks_read == read + 5  # read anew: all five notes
        write(src / "last.txt", "The last note: a kiln for the glaze.")
        writer.ingest([src])
        assert [h.id for h in reader.search("kiln glaze", mode="lexical")] == [
            str(src / "last.txt")]
        assert b.data.changes.chunks_read == read + 6  # in step again: only the new chunk

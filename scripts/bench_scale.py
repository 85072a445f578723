#!/usr/bin/env python
"""How the store's costs grow with the collection: 10k, 100k (and 1M) items, one run.

    python scripts/bench_scale.py [--sizes 10000,100000] [--queries 100] [--json]
                                  [--root DIR [--build-only]] [--cold-runs 9]

Builds each collection through the public ingest path (a JSONL file of short records, words
drawn from a 20,000-word vocabulary with Zipf weights) with
a registered fast test embedder: 384-d vectors hashed from the text, no model (so that
embedding does not hide the store's costs; the figures exclude embedding). Then measures,
per size: ingest throughput; adding one small file and removing it (the median of three
of each); a no-op re-ingest; warm
query p50/p95 in-process for dense, lexical and hybrid search, and filtered lexical and
hybrid searches (a filter matching 1% of the items) and a lexical search filtered to a single
item; a cold query in a fresh process (import, open, search: ``--cold-runs`` of them per
size, the sizes taking turns after all are measured, the median) with its own peak RSS
(VmHWM); adding one note and removing it again, each in a fresh process, with
its peak RSS; dense recall@10 against exact search, through the vector index and through
Chroma's HNSW; and the size on disk. Ratios are against the smallest size. 1M items
(``--sizes 10000,1000000``) takes about 90 minutes of ingest on 2 cores: ``--root DIR``
keeps the collections there, and a later run reuses them (its ingest figure is then -1, and
a collection built before the vector index has it built first, timed).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench_embedder import HashEmbedder  # noqa: E402 - (bench_vector_index uses it here)

from semsearch.models import register  # noqa: E402

WORDS = (
    "garden", "tomato", "bicycle", "puncture", "boiler", "pressure", "invoice", "server",
    "deploy", "recipe", "pasta", "garlic", "holiday", "flight", "passport", "dentist",
    "insurance", "budget", "mortgage", "guitar", "chord", "camping", "tent", "compost",
    "kitchen", "paint", "library", "deadline", "meeting", "roadmap", "sourdough", "starter",
    "parking", "appeal", "wifi", "router", "password", "backup", "laptop", "battery",
    "charger",
)

COLD = """
import contextlib, io, os, sys, time, resource
t = time.perf_counter()
os.environ["SEMSEARCH_SLOW_EXIT"] = "1"  # return here rather than leave at once
sys.path.insert(0, {scripts!r})
from bench_embedder import HashEmbedder
from semsearch.models import register
register("bench-hash", HashEmbedder)
from semsearch.cli.main import main
sys.argv = ["semsearch", "search", {query!r}, "-c", "scale", "--home", {home!r}, "--type",
            "text", "--mode", "hybrid", "-k", "10", "--json"]
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
    main()
assert out.getvalue().lstrip().startswith("["), out.getvalue()[:200]
# this process's own peak (VmHWM): ru_maxrss would also count the parent's peak, which a
# child started by posix_spawn inherits at exec
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")]
print(time.perf_counter() - t, int(hwm[0].split()[1]) / 1024 if hwm else
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


COLD_ADD = """
import os, sys, time
t = time.perf_counter()
sys.path.insert(0, {scripts!r})
from bench_embedder import HashEmbedder
from semsearch.models import register
register("bench-hash", HashEmbedder)
from semsearch.cli.main import main
sys.argv = ["semsearch", "ingest", {notes!r}, "-c", "scale", "--home", {home!r}, "--json"]
try:
    main()
except SystemExit as e:
    assert not e.code, e.code
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")]
print(time.perf_counter() - t, int(hwm[0].split()[1]) / 1024)
"""


def vocabulary(size: int = 20000, seed: int = 7) -> list[str]:
    """Everyday words first, then made-up ones: drawn with Zipf weights, as words in notes
    are (a few very common, most rare), so the lexical index sees a realistic vocabulary."""
    rng = random.Random(seed)
    made = {"".join(rng.choice("etaoinshrdlucmfwypvbgk") for _ in range(rng.randint(4, 9)))
            for _ in range(size * 2)}
    return list(WORDS) + sorted(made)[: size - len(WORDS)]


VOCAB = vocabulary()
ZIPF = [1.0 / (rank + 1) for rank in range(len(VOCAB))]
CUM = list(np.cumsum(ZIPF))  # rng.choices recomputes cumulative weights unless given them
NOTICE = ("embedding: a fast test embedder (vectors hashed from the text, no model), so the "
          "figures are the store's costs, not the model's")


def records(path: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    with open(path, "w") as f:
        for i in range(n):
            body = " ".join(rng.choices(VOCAB, cum_weights=CUM, k=rng.randint(6, 20)))
            f.write(json.dumps({"id": f"r{i}", "body": f"{body} item{i}",
                                "group": f"g{i % 100}"}) + "\n")


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def disk(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def build(n: int, root: Path) -> None:
    import semsearch

    home, data = root / f"home-{n}", root / f"data-{n}"
    data.mkdir(parents=True, exist_ok=True)
    records(data / "records.jsonl", n)
    lib = semsearch.open(home)
    lib.collection("scale", text_backend="bench-hash", clip_model="none").ingest(
        [data / "records.jsonl"], id_field="id", text_fields=["body"])
    lib.close()
    (home / "built").touch()


def dense_recall(lib, col, qs: list[str]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Recall@10 of dense queries against exact search over every stored vector, through
    the vector index and through Chroma's HNSW (``SEMSEARCH_VECTOR_INDEX=0``). Hashed
    vectors have no structure: a hard case for any graph index."""
    ids: list[str] = []
    parts = []
    for rows in lib.data.store.scan("scale", "text", page=20000):
        ids += rows.ids
        parts.append(rows.embeddings)
    vecs = np.concatenate(parts)
    queries = HashEmbedder().embed_batch(qs)
    exact = [{ids[i].split("#")[0] for i in np.argsort(-(vecs @ q))[:10]}
             for q in queries]
    del vecs
    out = {}
    for label, flag in (("index", "1"), ("store", "0")):
        os.environ["SEMSEARCH_VECTOR_INDEX"] = flag
        got = [{h.id for h in col.search(q, type="text", k=10, mode="dense")} for q in qs]
        out[f"recall10_{label}"] = round(float(np.mean(
            [len(g & e) / 10 for g, e in zip(got, exact, strict=True)])), 3)
    os.environ.pop("SEMSEARCH_VECTOR_INDEX")
    return out


def measure(n: int, queries: int, root: Path) -> dict[str, float]:
    import semsearch

    home, data = root / f"home-{n}", root / f"data-{n}"
    built = (home / "built").exists()  # --root: a collection a run before built, reused
    data.mkdir(parents=True, exist_ok=True)
    if not built:
        records(data / "records.jsonl", n)
    lib = semsearch.open(home)
    col = lib.collection("scale", text_backend="bench-hash", clip_model="none")
    # a collection built before the vector index gets it here, once (else at its next
    # ingest that changes something: the add-one figure below)
    index_s = timed(lambda: lib.data.fresh_vectors("scale")) if built else -1.0
    ingest_s = timed(lambda: col.ingest([data / "records.jsonl"], id_field="id",
                                        text_fields=["body"]))
    (home / "built").touch()
    notes = root / f"notes-{n}"
    notes.mkdir(exist_ok=True)
    if built:  # as after a fresh build: this process has written to the store before
        (notes / "warm.txt").write_text("a note written and removed before the timings")
        col.ingest([notes])
        (notes / "warm.txt").unlink()
        col.ingest([notes], prune_missing=True)
    adds, removes = [], []  # the median of three: one timing of some ms is noisy
    for turn in ("first", "second", "third"):
        (notes / "one.txt").write_text(f"a brand new note about the quokka on rottnest island, "
                                       f"the {turn}")
        adds.append(timed(lambda: col.ingest([notes])))
        assert col.search("quokka rottnest", type="text", k=1, mode="lexical")[0].id.endswith(
            "one.txt")
        (notes / "one.txt").unlink()
        removes.append(timed(lambda: col.ingest([notes], prune_missing=True)))
    add_s, remove_s = statistics.median(adds), statistics.median(removes)
    noop_s = timed(lambda: col.ingest([data / "records.jsonl"], id_field="id",
                                      text_fields=["body"]))
    from semsearch.storage.vector_files import VectorFiles  # one merge (every 4096 rows)
    index = lib.data.vector_index("scale")
    merge_s = timed(lambda: VectorFiles(index, lib.data.catalog.transaction).merge(
        force=True)) if index is not None else -1.0
    rng = random.Random(1)
    qs = [" ".join(rng.choices(VOCAB, cum_weights=CUM, k=3)) for _ in range(queries)]
    one = [f"record={n // 2 + 1}"]  # a single record (the middle one)
    for q in qs[:10]:  # (the filters' value indexes are made here, once, on 50,000 or more)
        for where in (None, ["group=g7"], one):
            col.search(q, type="text", k=10, mode="hybrid", where=where)
    lat: dict[str, list[float]] = {m: [] for m in (
        "dense", "lexical", "hybrid", "filtered_lexical", "filtered_hybrid", "one_item_lexical")}
    for q in qs:
        for mode in ("dense", "lexical", "hybrid"):
            lat[mode].append(1000 * timed(lambda q=q, mode=mode: col.search(
                q, type="text", k=10, mode=mode)))
        for mode in ("lexical", "hybrid"):
            lat[f"filtered_{mode}"].append(1000 * timed(lambda q=q, mode=mode: col.search(
                q, type="text", k=10, mode=mode, where=["group=g7"])))
        lat["one_item_lexical"].append(1000 * timed(lambda q=q: col.search(
            q, type="text", k=10, mode="lexical", where=one)))
    middle = col.search(f"item{n // 2}", type="text", k=1, mode="lexical", where=one)
    assert [h.id for h in middle] == [f"r{n // 2}"], middle  # exact however selective
    recall = dense_recall(lib, col, qs)
    lib.close()
    scripts = str(Path(__file__).resolve().parent)
    cold_notes = root / f"cold-notes-{n}"  # add one note, then remove it, in a fresh process
    cold_notes.mkdir(exist_ok=True)
    cold_write = []
    for text in ("a note about the numbat, added by a fresh process", None):
        if text:
            (cold_notes / "numbat.txt").write_text(text)
        else:
            (cold_notes / "numbat.txt").unlink()
        run = subprocess.run([sys.executable, "-c", COLD_ADD.format(
            scripts=scripts, home=str(home), notes=str(cold_notes))],
            capture_output=True, text=True, timeout=1800)
        assert run.returncode == 0, run.stderr[-2000:]
        cold_write.append(tuple(float(x) for x in run.stdout.split()[-2:]))
    out = {"items": n, "ingest_items_per_s": -1 if built else round(n / ingest_s),
           "add_one_s": round(add_s, 3),
           "remove_one_s": round(remove_s, 3), "noop_reingest_s": round(noop_s, 3),
           "merge_s": round(merge_s, 2),
           "cold_add_one_s": round(cold_write[0][0], 2),
           "cold_add_one_rss_mb": round(cold_write[0][1]),
           "cold_remove_one_s": round(cold_write[1][0], 2),
           "disk_mb": round(disk(home) / 1e6), "index_build_s": round(index_s, 1), **recall}
    for mode, v in lat.items():
        out[f"{mode}_p50_ms"] = round(statistics.median(v), 1)
        out[f"{mode}_p95_ms"] = round(pct(v, 95), 1)
    return out


def cold_queries(homes: dict[int, Path], runs: int) -> dict[int, tuple[float, float]]:
    """Fresh-process CLI hybrid queries, the sizes taking turns (so that a busy moment of
    the machine falls on all of them): per size, the median seconds and the largest own
    peak RSS (MB). Three queries, in turn."""
    rng = random.Random(1)
    qs = [" ".join(rng.choices(VOCAB, cum_weights=CUM, k=3)) for _ in range(3)]
    scripts = str(Path(__file__).resolve().parent)
    got: dict[int, list[tuple[float, float]]] = {n: [] for n in homes}
    for i in range(runs):
        for n, home in homes.items():
            cold = subprocess.run([sys.executable, "-c", COLD.format(
                scripts=scripts, home=str(home), query=qs[i % len(qs)])],
                capture_output=True, text=True, timeout=600)
            if cold.returncode != 0:
                raise SystemExit(f"cold query failed: {cold.stderr.strip()[-500:]}")
            s, rss = (float(x) for x in cold.stdout.split())
            got[n].append((s, rss))
    return {n: (statistics.median(s for s, _ in v), max(r for _, r in v))
            for n, v in got.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--root", type=Path, help="build (and keep) the collections here; one "
                    "already built there is reused, its ingest not timed (-1)")
    ap.add_argument("--build-only", action="store_true", help="with --root: build, no queries")
    ap.add_argument("--cold-runs", type=int, default=9, help="fresh-process queries per "
                    "size, the sizes taking turns (the median is reported)")
    args = ap.parse_args(argv)
    register("bench-hash", HashEmbedder)
    print(NOTICE, flush=True)
    rows = []
    with contextlib.ExitStack() as stack:
        tmp = args.root or Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="semsearch-scale-")))
        for n in sorted(int(s) for s in args.sizes.split(",")):
            print(f"building {n:,} items ...", file=sys.stderr, flush=True)
            if args.build_only:
                build(n, Path(tmp))
                continue
            row = measure(n, args.queries, Path(tmp))
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
        if args.build_only:
            return 0
        print(f"cold queries: {args.cold_runs} fresh processes per size, taking turns ...",
              file=sys.stderr, flush=True)
        colds = cold_queries({r["items"]: Path(tmp) / f"home-{r['items']}" for r in rows},
                             args.cold_runs)
    for r in rows:
        r["cold_query_s"], r["cold_query_rss_mb"] = (round(colds[r["items"]][0], 2),
                                                     round(colds[r["items"]][1]))
    for r in rows:
        print(f"\n{r['items']:,} items: ingest {r['ingest_items_per_s']} items/s, add one "
              f"{r['add_one_s']} s, remove one {r['remove_one_s']} s, no-op re-ingest "
              f"{r['noop_reingest_s']} s, a vector index merge {r['merge_s']} s, cold CLI "
              f"query {r['cold_query_s']} s "
              f"({r['cold_query_rss_mb']} MB RSS), add one in a fresh process "
              f"{r['cold_add_one_s']} s ({r['cold_add_one_rss_mb']} MB RSS), remove it "
              f"{r['cold_remove_one_s']} s, disk {r['disk_mb']} MB, dense recall@10 "
              f"{r['recall10_index']} (Chroma's HNSW: {r['recall10_store']})" + (
                  f", vector index built in {r['index_build_s']} s" if r["index_build_s"] >= 0
                  else ""))
        for mode in ("dense", "lexical", "hybrid", "filtered_lexical", "filtered_hybrid",
                     "one_item_lexical"):
            print(f"  {mode:<17} p50 {r[f'{mode}_p50_ms']:>7} ms   "
                  f"p95 {r[f'{mode}_p95_ms']:>7} ms")
    base = rows[0]
    for r in rows[1:]:
        ratios = {k: r[k] / base[k] for k in r if k != "items" and base[k] > 0}
        print(f"\nratios {r['items']:,} / {base['items']:,}: " + ", ".join(
            f"{k} {v:.2f}" for k, v in ratios.items()))
    if args.json:
        print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""How the store's costs grow with the collection: 10k, 100k (and 1M) items, one run.

    python scripts/bench_scale.py [--sizes 10000,100000] [--queries 100] [--json]

Builds each collection through the public ingest path (a JSONL file of short records, words
drawn from a 20,000-word vocabulary with Zipf weights) with
a registered fast test embedder: 384-d vectors hashed from the text, no model (so that
embedding does not hide the store's costs; the figures exclude embedding). Then measures,
per size: ingest throughput; adding one small file; removing it; a no-op re-ingest; warm
query p50/p95 in-process for dense, lexical and hybrid search, and filtered lexical and
hybrid searches (a filter matching 1% of the items) and a lexical search filtered to a single
item; a cold query in a fresh process (import, open, search; the median of three) with its
peak RSS; and the size on disk. Ratios are against the smallest size. 1M items
(``--sizes 10000,1000000``) takes about 90 minutes of ingest on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
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

from semsearch.models import Embedder, normalize, register  # noqa: E402

DIM = 384
WORDS = (
    "garden", "tomato", "bicycle", "puncture", "boiler", "pressure", "invoice", "server",
    "deploy", "recipe", "pasta", "garlic", "holiday", "flight", "passport", "dentist",
    "insurance", "budget", "mortgage", "guitar", "chord", "camping", "tent", "compost",
    "kitchen", "paint", "library", "deadline", "meeting", "roadmap", "sourdough", "starter",
    "parking", "appeal", "wifi", "router", "password", "backup", "laptop", "battery",
    "charger",
)
class HashEmbedder(Embedder):
    """Vectors hashed from the text: fast and deterministic (a benchmark stand-in)."""

    space = "text"
    max_tokens = 256
    default_model = "hash-384"

    def __init__(self, model: str = "hash-384") -> None:
        self.model_id = model

    @property
    def dim(self) -> int:
        return DIM

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for i, t in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "big")
            out[i] = np.random.default_rng(seed).standard_normal(DIM)
        return normalize(out)


COLD = """
import contextlib, io, os, sys, time, resource
t = time.perf_counter()
os.environ["SEMSEARCH_SLOW_EXIT"] = "1"  # return here rather than leave at once
sys.path.insert(0, {scripts!r})
from bench_scale import HashEmbedder
from semsearch.models import register
register("bench-hash", HashEmbedder)
from semsearch.cli.main import main
sys.argv = ["semsearch", "search", {query!r}, "-c", "scale", "--home", {home!r}, "--type",
            "text", "--mode", "hybrid", "-k", "10", "--json"]
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
    main()
assert out.getvalue().lstrip().startswith("["), out.getvalue()[:200]
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
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


def measure(n: int, queries: int, root: Path) -> dict[str, float]:
    import semsearch

    home, data = root / f"home-{n}", root / f"data-{n}"
    data.mkdir(parents=True)
    records(data / "records.jsonl", n)
    lib = semsearch.open(home)
    col = lib.collection("scale", text_backend="bench-hash", clip_model="none")
    ingest_s = timed(lambda: col.ingest([data / "records.jsonl"], id_field="id",
                                        text_fields=["body"]))
    notes = root / f"notes-{n}"
    notes.mkdir()
    (notes / "one.txt").write_text("a brand new note about the quokka on rottnest island")
    add_s = timed(lambda: col.ingest([notes]))
    assert col.search("quokka rottnest", type="text", k=1, mode="lexical")[0].id.endswith(
        "one.txt")
    (notes / "one.txt").unlink()
    remove_s = timed(lambda: col.ingest([notes], prune_missing=True))
    noop_s = timed(lambda: col.ingest([data / "records.jsonl"], id_field="id",
                                      text_fields=["body"]))
    rng = random.Random(1)
    qs = [" ".join(rng.choices(VOCAB, cum_weights=CUM, k=3)) for _ in range(queries)]
    for q in qs[:10]:
        col.search(q, type="text", k=10, mode="hybrid")
    lat: dict[str, list[float]] = {m: [] for m in (
        "dense", "lexical", "hybrid", "filtered_lexical", "filtered_hybrid", "one_item_lexical")}
    one = [f"record={n // 2 + 1}"]  # a single record (the middle one)
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
    lib.close()
    scripts = str(Path(__file__).resolve().parent)
    colds = []  # three fresh processes, three queries: the median (one can meet a busy moment)
    for q in qs[:3]:
        cold = subprocess.run([sys.executable, "-c", COLD.format(scripts=scripts, home=str(home),
                                                                 query=q)],
                              capture_output=True, text=True, timeout=600)
        colds.append(tuple(float(x) for x in cold.stdout.split()) if cold.returncode == 0
                     else (-1.0, -1.0))
    cold_s = statistics.median(c[0] for c in colds)
    rss = max(c[1] for c in colds)
    out = {"items": n, "ingest_items_per_s": round(n / ingest_s), "add_one_s": round(add_s, 3),
           "remove_one_s": round(remove_s, 3), "noop_reingest_s": round(noop_s, 3),
           "cold_query_s": round(cold_s, 2), "cold_query_rss_mb": round(rss),
           "disk_mb": round(disk(home) / 1e6)}
    for mode, v in lat.items():
        out[f"{mode}_p50_ms"] = round(statistics.median(v), 1)
        out[f"{mode}_p95_ms"] = round(pct(v, 95), 1)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    register("bench-hash", HashEmbedder)
    print(NOTICE, flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="semsearch-scale-") as tmp:
        for n in sorted(int(s) for s in args.sizes.split(",")):
            print(f"building {n:,} items ...", file=sys.stderr, flush=True)
            row = measure(n, args.queries, Path(tmp))
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    for r in rows:
        print(f"\n{r['items']:,} items: ingest {r['ingest_items_per_s']} items/s, add one "
              f"{r['add_one_s']} s, remove one {r['remove_one_s']} s, no-op re-ingest "
              f"{r['noop_reingest_s']} s, cold CLI query {r['cold_query_s']} s "
              f"({r['cold_query_rss_mb']} MB RSS), disk {r['disk_mb']} MB")
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

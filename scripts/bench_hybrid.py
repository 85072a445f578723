"""Query latency of hybrid (dense + BM25) search against dense alone, in one run.

    python scripts/bench_hybrid.py ../shared/data/scifact [--home DIR] [--queries 300] [--json]

Ingests the BEIR corpus text-only through the public client (or reuses the collection in
``--home``: a second ingest is a no-op), then times ``col.search(q, type="text", k=10)`` per
query for ``mode="dense"`` and ``mode="hybrid"``, interleaved, after a warm-up. Prints median
and mean milliseconds per query and the difference (target: hybrid adds < 10 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import semsearch  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--home", type=Path, default=None, help="reuse/keep the index here")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    queries = [json.loads(line)["text"] for line in
               (args.dir / "queries.jsonl").read_text().splitlines() if line.strip()]
    queries = queries[: args.queries]
    with tempfile.TemporaryDirectory(prefix="semsearch-hybrid-") as tmp:
        home = args.home or Path(tmp)
        lib = semsearch.open(home)
        name = f"beir-{args.dir.name}"
        col = lib.collection(name, clip_model="none")
        started = time.perf_counter()
        summary = col.ingest([args.dir / "corpus.jsonl"], id_field="_id",
                             text_fields=["title", "text"])
        ingest_s = time.perf_counter() - started
        col = lib.collection(name)
        for q in queries[:20]:  # warm-up: model, store, BM25 index loaded
            col.search(q, type="text", k=args.k, mode="hybrid")
        times: dict[str, list[float]] = {"dense": [], "hybrid": [], "lexical": []}
        for q in queries:
            for mode in times:
                t = time.perf_counter()
                col.search(q, type="text", k=args.k, mode=mode)  # type: ignore[arg-type]
                times[mode].append((time.perf_counter() - t) * 1000)
        docs = sum(col.info().counts.values())
    med = {m: statistics.median(v) for m, v in times.items()}
    mean = {m: statistics.fmean(v) for m, v in times.items()}
    r = {
        "dataset": args.dir.name, "documents": docs, "queries": len(queries), "k": args.k,
        "ingest_seconds": round(ingest_s, 1), "ingest_summary": summary.line(),
        **{f"{m}_median_ms": round(med[m], 2) for m in times},
        **{f"{m}_mean_ms": round(mean[m], 2) for m in times},
        "hybrid_minus_dense_median_ms": round(med["hybrid"] - med["dense"], 2),
        "hybrid_minus_dense_mean_ms": round(mean["hybrid"] - mean["dense"], 2),
        "torch_threads": _threads(),
    }
    print(f"{r['dataset']}: {docs} documents, {len(queries)} queries, k={args.k}")
    print(f"{'mode':8}{'median ms':>12}{'mean ms':>10}")
    for m in times:
        print(f"{m:8}{med[m]:>12.2f}{mean[m]:>10.2f}")
    verdict = "OK" if r["hybrid_minus_dense_median_ms"] < 10 else "over target"
    print(f"hybrid adds {r['hybrid_minus_dense_median_ms']} ms (median), "
          f"{r['hybrid_minus_dense_mean_ms']} ms (mean) per query over dense: {verdict} (< 10)")
    if args.json:
        print(json.dumps(r))
    return 0


def _threads() -> int | None:
    if "torch" not in sys.modules:
        return None
    import torch

    return int(torch.get_num_threads())


if __name__ == "__main__":
    sys.exit(main())

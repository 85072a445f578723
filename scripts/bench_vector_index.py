"""Text queries through the vector index against Chroma's HNSW, on the same collections, in
one run: warm in-process p50s (dense, hybrid, filtered hybrid) and cold CLI hybrid queries in
fresh processes (time and the process's own peak RSS), alternating between the two paths
(``SEMSEARCH_VECTOR_INDEX=1`` / ``0``) so that both meet the same machine. Prints the ratios.

Uses the collections ``scripts/bench_scale.py --root DIR`` built (``DIR/home-N``), with its
hashed test embedder: the figures are the store's, not a model's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_scale as scale  # noqa: E402

PATHS = (("1", "vector index"), ("0", "Chroma HNSW"))
MODES = ("dense", "hybrid", "filtered hybrid")


def warm(home: Path, qs: list[str]) -> dict[str, dict[str, float]]:
    """In-process p50 (ms) per path and mode, the paths alternating query by query."""
    import semsearch

    lib = semsearch.open(home)
    col = lib.collection("scale")
    try:
        for flag, _ in PATHS:  # both paths opened and warmed before timing
            os.environ["SEMSEARCH_VECTOR_INDEX"] = flag
            for q in qs[:5]:
                col.search(q, type="text", k=10, mode="hybrid", where=["group=g7"])
                col.search(q, type="text", k=10, mode="hybrid")
        lat: dict[tuple[str, str], list[float]] = {(f, m): [] for f, _ in PATHS for m in MODES}
        for q in qs:
            for flag, _ in PATHS:
                os.environ["SEMSEARCH_VECTOR_INDEX"] = flag
                for m in MODES:
                    t = time.perf_counter()
                    col.search(q, type="text", k=10, mode=m.split()[-1],
                               where=["group=g7"] if m.startswith("filtered") else None)
                    lat[flag, m].append(1000 * (time.perf_counter() - t))
    finally:
        os.environ.pop("SEMSEARCH_VECTOR_INDEX", None)
        lib.close()
    return {label: {m: round(statistics.median(lat[f, m]), 1) for m in MODES}
            for f, label in PATHS}


def cold(home: Path, qs: list[str]) -> dict[str, dict[str, float]]:
    """Fresh-process CLI hybrid queries: median seconds and the largest own peak RSS (MB)."""
    scripts = str(Path(__file__).resolve().parent)
    got: dict[str, list[tuple[float, float]]] = {f: [] for f, _ in PATHS}
    for q in qs:
        for flag, _ in PATHS:
            out = subprocess.run(
                [sys.executable, "-c", scale.COLD.format(scripts=scripts, home=str(home),
                                                         query=q)],
                capture_output=True, text=True, timeout=900,
                env={**os.environ, "SEMSEARCH_VECTOR_INDEX": flag})
            if out.returncode != 0:
                raise SystemExit(f"cold query failed: {out.stderr.strip()[-500:]}")
            s, rss = (float(x) for x in out.stdout.split())
            got[flag].append((s, rss))
    return {label: {"cold_s": round(statistics.median(s for s, _ in got[f]), 2),
                    "cold_rss_mb": round(max(r for _, r in got[f]))} for f, label in PATHS}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, required=True,
                    help="where bench_scale.py --root built its collections")
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=30, help="warm queries per mode and path")
    ap.add_argument("--cold", type=int, default=3, help="fresh processes per path")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    from semsearch.models import register

    register("bench-hash", scale.HashEmbedder)
    print(scale.NOTICE, flush=True)
    rng = random.Random(1)
    qs = [" ".join(rng.choices(scale.VOCAB, cum_weights=scale.CUM, k=3))
          for _ in range(max(args.queries, args.cold))]
    rows = []
    for n in sorted(int(s) for s in args.sizes.split(",")):
        home = args.root / f"home-{n}"
        if not (home / "built").exists():
            raise SystemExit(f"{home}: not built (run scripts/bench_scale.py --root "
                             f"{args.root} --sizes {n} --build-only)")
        print(f"{n:,} items ...", file=sys.stderr, flush=True)
        w, c = warm(home, qs[:args.queries]), cold(home, qs[:args.cold])
        row = {"items": n, **{label: {**w[label], **c[label]} for _, label in PATHS}}
        rows.append(row)
        print(f"\n{n:,} items      " + "".join(f"{k:>18}" for k in (*MODES, "cold hybrid",
                                                                   "cold RSS")))
        for _, label in PATHS:
            r = row[label]
            print(f"  {label:<13}" + "".join(f"{r[m]:>15} ms" for m in MODES)
                  + f"{r['cold_s']:>16} s{r['cold_rss_mb']:>15} MB")
        a, b = row[PATHS[0][1]], row[PATHS[1][1]]
        print("  ratio index/Chroma: " + ", ".join(
            f"{k} {a[k] / b[k]:.2f}" for k in (*MODES, "cold_s", "cold_rss_mb") if b[k] > 0))
    if args.json:
        print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""The lexical index alone at 10k, 100k and 1M chunks: its pruned top-n (MaxScore) against
FTS5's exhaustive ranking, one run.

    python scripts/bench_lexical.py [--sizes 10000,100000,1000000] [--queries 50] [--n 60]

Fills the real LexicalIndex (SQLite FTS5, on disk) with bench_scale.py's records (short texts
of Zipf-drawn words), then times, per size, the same queries (three Zipf-drawn words, as in
bench_scale.py) both ways: the exact best ``n`` by the pruned path (:meth:`LexicalIndex.top`,
what searches use) and by one exhaustive FTS5 ``ORDER BY bm25`` (what it replaced). Every
query's scores must agree. ``--n 60`` is the page a hybrid query reads (k = 10); a lexical
query reads 125. Minutes, not hours: no vectors, no Chroma.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import CUM, VOCAB  # noqa: E402

from semsearch.storage.lexical import SCHEMA, LexicalIndex  # noqa: E402
from semsearch.storage.words import any_of, query_terms  # noqa: E402


def build(path: Path, n: int) -> LexicalIndex:
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    lex = LexicalIndex(db, "scale")
    rng = random.Random(0)
    for start in range(0, n, 50_000):
        lex.put(db, [(f"r{i}", " ".join(rng.choices(VOCAB, cum_weights=CUM,
                                                    k=rng.randint(6, 20))) + f" item{i}",
                      {"group": f"g{i % 100}"}) for i in range(start, min(n, start + 50_000))])
        db.commit()
    return lex


def exhaustive(lex: LexicalIndex, text: str, n: int) -> list[tuple[str, float]]:
    table = lex._table()
    return [(str(c), float(s)) for c, s in lex.db.execute(
        f"SELECT i.cid, -bm25({table}) FROM {table} JOIN lexical_ids i ON i.id={table}.rowid "
        f"WHERE {table} MATCH ? ORDER BY bm25({table}) LIMIT ?", (any_of(query_terms(text)), n))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--n", type=int, default=60)
    args = ap.parse_args(argv)
    rng = random.Random(1)
    qs = [" ".join(rng.choices(VOCAB, cum_weights=CUM, k=3)) for _ in range(args.queries)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="semsearch-lexical-") as tmp:
        for size in sorted(int(s) for s in args.sizes.split(",")):
            t = time.perf_counter()
            lex = build(Path(tmp) / f"{size}.db", size)
            built = time.perf_counter() - t
            pruned, plain = [], []
            for q in qs:
                t = time.perf_counter()
                got = lex.top(q, args.n)
                pruned.append(1000 * (time.perf_counter() - t))
                t = time.perf_counter()
                want = exhaustive(lex, q, args.n)
                plain.append(1000 * (time.perf_counter() - t))
                assert [round(s, 9) for _, s in got] == [round(s, 9) for _, s in want], q
            row = {"items": size, "build_s": round(built, 1)}
            for name, v in (("pruned", pruned), ("exhaustive", plain)):
                row[f"{name}_p50_ms"] = round(statistics.median(v), 1)
                row[f"{name}_p95_ms"] = round(float(np.percentile(v, 95)), 1)
            rows.append(row)
            print(f"{size:>9,} chunks (indexed in {row['build_s']} s): pruned p50 "
                  f"{row['pruned_p50_ms']} ms p95 {row['pruned_p95_ms']} ms; exhaustive p50 "
                  f"{row['exhaustive_p50_ms']} ms p95 {row['exhaustive_p95_ms']} ms; "
                  f"speed-up p50 {row['exhaustive_p50_ms'] / row['pruned_p50_ms']:.2f}x",
                  flush=True)
            lex.db.close()
    base = rows[0]
    for r in rows[1:]:
        print(f"growth {r['items']:,} / {base['items']:,}: pruned p50 "
              f"{r['pruned_p50_ms'] / base['pruned_p50_ms']:.1f}x, exhaustive p50 "
              f"{r['exhaustive_p50_ms'] / base['exhaustive_p50_ms']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Lexical, hybrid and filtered queries with a large collection's word statistics
(``semsearch/storage/word_stats.py``: kept document counts, measured bounds, common words
added to the few rows they could lift) against without them (FTS5 counts each word's
documents, the textbook bound ``idf * (k1 + 1)``, FTS5 joins the common words' lists), on
the same collections, alternating query by query so that both meet the same machine.
``--compare lists``: ranked from the words' lists (``semsearch/storage/postings.py``)
against MaxScore over FTS5, both with the statistics. Prints each p50 and the ratio, and
checks that both give the same hits.

Uses the collections ``scripts/bench_scale.py --root DIR`` built (``DIR/home-N``), with its
hashed test embedder: the figures are the store's, not a model's.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_scale as scale  # noqa: E402

MODES = ("lexical", "hybrid", "filtered lexical", "filtered hybrid")


def switch(on: bool, what: str = "stats") -> None:
    """``stats``: use the word statistics and lists, or read what FTS5 reads without
    them. ``lists``: score from the words' lists, or by MaxScore over FTS5 (both with the
    word statistics)."""
    from semsearch.storage import maxscore, word_stats

    if not hasattr(switch, "real"):
        switch.real = (word_stats.lookup, maxscore.SPLIT_COST,  # type: ignore[attr-defined]
                       maxscore.from_lists)
    lookup, cost, from_lists = switch.real  # type: ignore[attr-defined]
    stats = on or what == "lists"
    word_stats.lookup = lookup if stats else (lambda *a, **k: None)
    maxscore.SPLIT_COST = cost if stats else float("inf")
    maxscore.from_lists = from_lists if on else (lambda *a, **k: None)


def measure(home: Path, qs: list[str], what: str = "stats") -> dict[str, Any]:
    import semsearch

    lib = semsearch.open(home)
    col = lib.collection("scale")
    lat: dict[tuple[bool, str], list[float]] = {(on, m): [] for on in (True, False)
                                                for m in MODES}
    differ = 0

    def search(q: str, mode: str) -> list[str]:
        where = ["group=g7"] if mode.startswith("filtered") else None
        return [h.id for h in col.search(q, type="text", k=10, mode=mode.split()[-1],
                                         where=where)]

    try:
        for on in (True, False):  # both warmed (and the filter's value index made) first
            switch(on, what)
            for q in qs[:5]:
                for m in MODES:
                    search(q, m)
        for i, q in enumerate(qs):
            got = {}
            for on in ((True, False) if i % 2 else (False, True)):
                switch(on, what)
                for m in MODES:
                    t = time.perf_counter()
                    got[on, m] = search(q, m)
                    lat[on, m].append(1000 * (time.perf_counter() - t))
            differ += sum(got[True, m] != got[False, m] for m in MODES)
    finally:
        switch(True)
        lib.close()
    out: dict[str, Any] = {"queries": len(qs), "hit_lists_differing": differ}
    for m in MODES:
        with_, without = (statistics.median(lat[on, m]) for on in (True, False))
        out[m] = {"with_ms": round(with_, 1), "without_ms": round(without, 1),
                  "ratio": round(with_ / without, 2)}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", type=Path, required=True, help="bench_scale.py's --root")
    p.add_argument("--sizes", default="100000,1000000")
    p.add_argument("--queries", type=int, default=30)
    p.add_argument("--compare", choices=["stats", "lists"], default="stats",
                   help="stats: with against without the word statistics and lists; lists: "
                   "scored from the words' lists against MaxScore over FTS5")
    args = p.parse_args(argv)
    scale.register("bench-hash", scale.HashEmbedder)
    print(scale.NOTICE)
    rng = random.Random(1)  # bench_scale's queries
    qs = [" ".join(rng.choices(scale.VOCAB, cum_weights=scale.CUM, k=3))
          for _ in range(args.queries)]
    for n in (int(s) for s in args.sizes.split(",")):
        home = args.root / f"home-{n}"
        if not (home / "built").exists():
            print(f"{home}: not built (run bench_scale.py --root {args.root} first)")
            return 1
        result = measure(home, qs, args.compare)
        print(f"{n:,} items:", json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

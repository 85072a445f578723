#!/usr/bin/env python
"""Personal-notes retrieval: does the right note come first, by kind of query?

    python scripts/eval_notes.py [--notes scripts/notes_eval] [--home PATH] [--json]
                                 [--mode dense,lexical,hybrid]

The set (``scripts/notes_eval``, see its README) is short personal notes on everyday topics,
with two kinds of queries: ``natural`` questions phrased in the asker's own words (they share
almost no words with the note) and ``keyword`` queries (a name, a code, an error string) where
exact matching is what finds the note. Each query has one relevant note.

The notes go into a text-only collection through the public client; every query runs with
``col.search(q, type="text", k=10, mode=M)``. Per mode and kind it prints top-1 (the right
note first), MRR@10 and recall@10, and for the default mode with the relevance floor on
(what the CLI and TUI show) how many right notes the floor would hide.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

HERE = Path(__file__).resolve().parent
K = 10


def load_queries(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / "queries.jsonl").read_text().splitlines()
            if line.strip()]


def rank_of(hits: list[Any], relevant: set[str]) -> int | None:
    for h in hits:
        if Path(h.id).name in relevant:
            return int(h.rank)
    return None


def evaluate(col: Any, queries: list[dict[str, Any]], modes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode in modes:
        per_kind: dict[str, dict[str, float]] = {}
        started = time.perf_counter()
        hidden_right = 0
        for kind in sorted({q["kind"] for q in queries}):
            qs = [q for q in queries if q["kind"] == kind]
            top1 = mrr = recall = 0.0
            for q in qs:
                relevant = set(q["relevant"])
                hits = col.search(q["query"], type="text", k=K, mode=mode)
                r = rank_of(hits, relevant)
                top1 += r == 1
                mrr += 1.0 / r if r else 0.0
                recall += r is not None
                if mode == modes[0]:
                    shown = col.search(q["query"], type="text", k=K, mode=mode, floor=True)
                    if r is not None and rank_of(shown, relevant) is None:
                        hidden_right += 1
            n = len(qs)
            per_kind[kind] = {"queries": n, "top1": top1 / n, "mrr@10": mrr / n,
                              "recall@10": recall / n}
        out[mode] = {"kinds": per_kind, "seconds": round(time.perf_counter() - started, 2)}
        if mode == modes[0]:
            out[mode]["floor_hides_right_note"] = hidden_right
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--notes", type=Path, default=HERE / "notes_eval",
                    help="folder with notes/ and queries.jsonl (default: scripts/notes_eval)")
    ap.add_argument("--home", type=Path, help="semsearch home to use (default: a temp dir)")
    ap.add_argument("--mode", default="hybrid,dense,lexical",
                    help="modes, comma-separated; the first is checked against the floor")
    ap.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = ap.parse_args(argv)

    import semsearch

    queries = load_queries(args.notes)
    modes = [m.strip() for m in args.mode.split(",") if m.strip()]
    home = args.home or Path(tempfile.mkdtemp(prefix="semsearch-notes-"))
    with semsearch.open(home) as lib:
        col = lib.collection("notes-eval", clip_model="none")
        summary = col.ingest([args.notes / "notes"])
        print(f"ingested {summary.added + summary.unchanged} notes "
              f"({summary.items} embedded in {summary.seconds:.1f}s)", file=sys.stderr)
        result = evaluate(col, queries, modes)
    if args.json:
        print(json.dumps(result))
        return 0
    kinds = sorted({q["kind"] for q in queries})
    print(f"{'mode':<8} " + "  ".join(f"{k + ' top-1':>15} {k + ' MRR@10':>16}" for k in kinds))
    for mode, r in result.items():
        cells = "  ".join(f"{r['kinds'][k]['top1']:>15.3f} {r['kinds'][k]['mrr@10']:>16.3f}"
                          for k in kinds)
        print(f"{mode:<8} {cells}")
    first = result[modes[0]]
    print(f"relevance floor ({modes[0]}): hides the right note for "
          f"{first['floor_hides_right_note']} of {len(queries)} queries")
    return 0


if __name__ == "__main__":
    sys.exit(main())

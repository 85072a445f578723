#!/usr/bin/env python
"""The README's map picture: a map of real documents, made the way ``semsearch map`` makes it.

    python scripts/make_map_picture.py [--corpus ../shared/data/scifact/corpus.jsonl]
                                       [--n 500] [--out docs/map.png] [--home DIR]

Ingests the first N SciFact abstracts (BEIR's SciFact corpus: title and abstract of
biomedical papers) into a temporary collection with the packaged MiniLM text model, maps
the text space with the default method (UMAP), places two queries, and writes the PNG.
With ``--home DIR`` the collection is kept there, so a second run only draws (the ingest
finds nothing new and the layout is cached).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ["vitamin D and bone fractures", "tumour cells resist chemotherapy"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path,
                    default=ROOT.parent / "shared" / "data" / "scifact" / "corpus.jsonl")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "map.png")
    ap.add_argument("--home", type=Path, help="keep the collection here (default: a "
                    "temporary folder)")
    args = ap.parse_args()

    from semsearch import Library
    from semsearch.mapping.picture import write_png

    with tempfile.TemporaryDirectory() as tmp:
        base = args.home or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        records = base / "scifact.jsonl"
        with open(args.corpus, encoding="utf-8") as src, open(records, "w") as out:
            for n, line in enumerate(src):
                if n >= args.n:
                    break
                out.write(json.dumps(json.loads(line)) + "\n")
        start = time.perf_counter()
        with Library(base / "home") as lib:
            col = lib.collection("scifact", clip_model="none")
            col.ingest([records], id_field="_id", text_fields=["title", "text"])
            ingested = time.perf_counter()
            m = col.map(queries=QUERIES)
            write_png(m, args.out, size=(11.0, 8.0), dpi=100,
                      title=f"{len(m.points)} SciFact abstracts: {len(m.clusters)} clusters "
                            f"({m.method}, MiniLM text space), two queries placed")
        print(f"{args.out}: {len(m.points)} items, {len(m.clusters)} clusters; ingest "
              f"{ingested - start:.0f}s, map {m.seconds:.1f}s")
        for c in m.clusters:
            print(f"  {c.id:>3} {c.size:>4}  {c.label}")


if __name__ == "__main__":
    main()

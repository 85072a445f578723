"""Image->image precision@k, "same label is relevant", through semsearch's public client.

    python scripts/eval_images.py ../shared/data/cifar10_test [--per-class 100] [--k 10]
        [--clip-model ViT-B-32] [--clip-pretrained laion2b_s34b_b79k|FILE|none] [--json]

DIR holds ``labels.csv`` (``path,label,...``, paths relative to DIR). Each image queries the
collection with ``similar`` (the image itself is left out); precision@k is the share of the top k
with the query's label, averaged over queries.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import semsearch  # noqa: E402
from semsearch.metrics import evaluate  # noqa: E402


def load(folder: Path, per_class: int | None) -> list[tuple[str, str]]:
    taken: Counter[str] = Counter()
    out = []
    with (folder / "labels.csv").open() as f:
        for row in csv.DictReader(f):
            if per_class and taken[row["label"]] >= per_class:
                continue
            taken[row["label"]] += 1
            out.append((str((folder / row["path"]).resolve()), row["label"]))
    return out


def run(folder: Path, per_class: int | None, k: int, clip_model: str, clip_pretrained: str,
        home: Path) -> dict[str, object]:
    items = load(folder, per_class)
    label = dict(items)
    lib = semsearch.open(home)
    col = lib.collection("images", clip_model=clip_model, clip_pretrained=clip_pretrained)
    started = time.perf_counter()
    summary = col.ingest([p for p, _ in items])
    ingest_s = time.perf_counter() - started
    qrels: dict[str, dict[str, int]] = {}
    results: dict[str, list[str]] = {}
    started = time.perf_counter()
    for path, lab in items:
        qrels[path] = {p: 1 for p, other in items if other == lab and p != path}
        results[path] = [h.id for h in col.similar(path, type="image", k=k)]
    query_s = time.perf_counter() - started
    classes = len(set(label.values()))
    score = evaluate(qrels, results, [f"precision@{k}"])[f"precision@{k}"]
    return {
        "dataset": folder.name, "images": len(items), "classes": classes, "k": k,
        "clip_model": clip_model, "clip_pretrained": clip_pretrained,
        f"precision@{k}": round(score, 4), "chance": round(1 / classes, 4),
        "skipped": summary.skipped, "ingest_seconds": round(ingest_s, 1),
        "queries_per_second": round(len(items) / query_s, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--per-class", type=int, default=100)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--clip-model", default="ViT-B-32")
    ap.add_argument("--clip-pretrained", default="laion2b_s34b_b79k")
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="semsearch-images-") as tmp:
        home = args.home or Path(tmp)
        try:
            r = run(args.folder, args.per_class, args.k, args.clip_model,
                    args.clip_pretrained, home)
        except semsearch.SemsearchError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
    print(f"{r['dataset']}: {r['images']} images in {r['classes']} classes, "
          f"{r['clip_model']} ({r['clip_pretrained']})")
    print(f"precision@{args.k}: {r[f'precision@{args.k}']:.4f} (chance {r['chance']}); "
          f"ingest {r['ingest_seconds']}s, {r['queries_per_second']} queries/s")
    if args.json:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Recommendation cost benchmark: ``recommend`` with 5 likes and 5 unlikes against ``search``
with one query, in the same run, on the same collection.

Ingests the first 100 images of each CIFAR-10 class (1,000 images) with the tiny test CLIP
model (``tests/data/tiny-clip.json``, random weights: the vectors mean nothing, the work done
per query is the real thing) into a temporary home, then times, interleaved, each call
``--runs`` times after a warm-up and prints the medians:

* ``search``: one query image (a file, embedded per call), ``--type any``;
* ``search`` by one text query, ``--type any``;
* ``similar`` to one stored item: one query vector read from the store, nothing embedded (the
  strictest baseline: the same work as ``recommend`` with one input);
* ``recommend`` with 5 liked and 5 disliked items, strategies ``average`` and ``best-score``,
  ``--type any``, as item paths (their vectors come from the store).

The extra cost of ``recommend`` must stay under 2x the image search (the target of the
feature). Exit code 1 if it does not.

    .venv/bin/python scripts/bench_recommend.py [--runs N] [--per-class N] [-k K] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import semsearch  # noqa: E402

CIFAR = Path("/work/shared/data/cifar10_test/images")
TINY_CLIP = ROOT / "tests" / "data" / "tiny-clip.json"
TARGET = 2.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=30, help="timed calls of each kind")
    ap.add_argument("--per-class", type=int, default=100, help="images per CIFAR-10 class")
    ap.add_argument("-k", type=int, default=10, help="results per call")
    ap.add_argument("--data", type=Path, default=CIFAR, help="CIFAR-10 images folder")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()

    classes = sorted(p for p in args.data.iterdir() if p.is_dir())
    files = [f for c in classes for f in sorted(c.glob("*.jpg"))[: args.per_class]]
    with tempfile.TemporaryDirectory(prefix="semsearch-bench-reco-") as tmp:
        lib = semsearch.open(Path(tmp) / "home")
        col = lib.collection("cifar", clip_model=str(TINY_CLIP), clip_pretrained="none")
        started = time.perf_counter()
        summary = col.ingest(files)
        log(f"ingested {summary.added} images in {time.perf_counter() - started:.1f}s")

        by_class = {c.name: sorted(c.glob("*.jpg"))[: args.per_class] for c in classes}
        likes = [str(p.resolve()) for p in by_class[classes[3].name][:5]]   # cats
        unlikes = [str(p.resolve()) for p in by_class[classes[5].name][:5]]  # dogs
        query_image = str(by_class[classes[3].name][5].resolve())
        k = args.k

        calls: dict[str, Callable[[], Any]] = {
            "search (1 image)": lambda: col.search(image=query_image, k=k),
            "search (1 text)": lambda: col.search("a photo of a cat", k=k),
            "similar (1 stored item)": lambda: col.similar(query_image, k=k),
            "recommend 5+5 average": lambda: col.recommend(likes, unlikes, k=k),
            "recommend 5+5 best-score": lambda: col.recommend(
                likes, unlikes, strategy="best-score", k=k),
        }
        times: dict[str, list[float]] = {name: [] for name in calls}
        for fn in calls.values():  # warm-up: models loaded, store opened, caches filled
            for _ in range(3):
                fn()
        for _ in range(args.runs):
            for name, fn in calls.items():  # interleaved: drift hits every kind alike
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
        lib.close()

    median = {name: statistics.median(ts) * 1000 for name, ts in times.items()}
    base = median["search (1 image)"]
    ratios = {name: m / base for name, m in median.items()}
    worst = max(ratios["recommend 5+5 average"], ratios["recommend 5+5 best-score"])
    vs_similar = max(median["recommend 5+5 average"], median["recommend 5+5 best-score"]) \
        / median["similar (1 stored item)"]
    ok = worst < TARGET
    if args.json:
        print(json.dumps({"images": len(files), "runs": args.runs, "k": k,
                          "median_ms": median, "ratio_to_image_search": ratios,
                          "ratio_to_similar": vs_similar, "target": TARGET, "ok": ok}))
    else:
        print(f"{len(files)} images, k={k}, median of {args.runs} interleaved runs")
        for name, m in median.items():
            print(f"  {name:<26} {m:7.2f} ms   {ratios[name]:.2f}x image search")
        print(f"recommend (5 likes + 5 unlikes) costs {worst:.2f}x one image search "
              f"(target < {TARGET:.0f}x): {'ok' if ok else 'TOO SLOW'}; "
              f"{vs_similar:.2f}x similar to one stored item")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Cross-modal retrieval on a Flickr-style folder, through semsearch's public client.

    python scripts/eval_crossmodal.py ../shared/data/flickr8k_test1k \\
        [--clip-model ViT-B-32] [--clip-pretrained laion2b_s34b_b79k|FILE] [--limit N] [--json]

DIR holds ``images/`` and ``captions.jsonl`` (one line per image: ``{"image": "images/x.jpg",
"image_id": "x", "captions": [...]}``). As CLIP_benchmark does: text->image Recall@K over every
caption (a hit when its image is in the top K), image->text Recall@K over every image (a hit when
any of its captions is in the top K). With random weights (``--clip-pretrained none``) the figures
are chance level: about K / images and K * captions-per-image / captions.
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

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import semsearch  # noqa: E402
from semsearch.metrics import evaluate  # noqa: E402

KS = (1, 5, 10)


def load(folder: Path, limit: int | None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (folder / "captions.jsonl").read_text().splitlines()
            if line.strip()]
    rows.sort(key=lambda r: r["image"])
    return rows[:limit] if limit else rows


def run(folder: Path, clip_model: str, clip_pretrained: str, limit: int | None,
        home: Path, quiet: bool = False) -> dict[str, Any]:
    rows = load(folder, limit)
    lib = semsearch.open(home)
    col = lib.collection("crossmodal", clip_model=clip_model, clip_pretrained=clip_pretrained)
    stage = home / "captions.jsonl"
    with stage.open("w") as f:
        for r in rows:
            for n, caption in enumerate(r["captions"]):
                f.write(json.dumps({"id": f"{r['image_id']}#c{n}", "caption": caption,
                                    "image_id": r["image_id"]}) + "\n")
    images = [str((folder / r["image"]).resolve()) for r in rows]
    started = time.perf_counter()
    summary = col.ingest(images)
    summary_caps = col.ingest([stage], id_field="id", text_fields=["caption"])
    ingest_s = time.perf_counter() - started
    if summary.skipped or summary_caps.skipped:
        raise SystemExit(f"ingest skipped files: {summary.skipped_files[:3]}")
    image_of = {str((folder / r["image"]).resolve()): r["image_id"] for r in rows}

    t2i_qrels: dict[str, dict[str, int]] = {}
    t2i_run: dict[str, list[str]] = {}
    i2t_qrels: dict[str, dict[str, int]] = {}
    i2t_run: dict[str, list[str]] = {}
    k = max(KS)
    started = time.perf_counter()
    queries = 0
    for r in rows:
        for n, caption in enumerate(r["captions"]):
            qid = f"{r['image_id']}#c{n}"
            t2i_qrels[qid] = {r["image_id"]: 1}
            hits = col.search(caption, type="image", k=k, mode="dense")
            t2i_run[qid] = [image_of.get(h.id, h.id) for h in hits]
            queries += 1
        path = str((folder / r["image"]).resolve())
        i2t_qrels[r["image_id"]] = {f"{r['image_id']}#c{n}": 1 for n in range(len(r["captions"]))}
        i2t_run[r["image_id"]] = [h.id for h in col.search(image=path, type="text", k=k)]
        queries += 1
        if not quiet and queries % 500 < 6:
            print(f"queries {queries}", file=sys.stderr)
    query_s = time.perf_counter() - started
    t2i = evaluate(t2i_qrels, t2i_run, [f"hit@{x}" for x in KS])
    i2t = evaluate(i2t_qrels, i2t_run, [f"hit@{x}" for x in KS])
    captions = sum(len(r["captions"]) for r in rows)
    per_image = captions / len(rows)
    return {
        "dataset": folder.name, "images": len(rows), "captions": captions,
        "clip_model": clip_model, "clip_pretrained": clip_pretrained,
        **{f"t2i_R@{x}": round(100 * t2i[f"hit@{x}"], 2) for x in KS},
        **{f"i2t_R@{x}": round(100 * i2t[f"hit@{x}"], 2) for x in KS},
        "chance_t2i_R@10": round(100 * min(1.0, 10 / len(rows)), 2),
        "chance_i2t_R@10": round(100 * min(1.0, 1 - (1 - 10 / captions) ** per_image), 2),
        "ingest_seconds": round(ingest_s, 1), "queries_per_second": round(queries / query_s, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--clip-model", default="ViT-B-32")
    ap.add_argument("--clip-pretrained", default="laion2b_s34b_b79k")
    ap.add_argument("--limit", type=int, default=None, help="first N images (sorted by name)")
    ap.add_argument("--home", type=Path, default=None, help="keep the index here")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="semsearch-xmodal-") as tmp:
        home = args.home or Path(tmp)
        home.mkdir(parents=True, exist_ok=True)
        try:
            r = run(args.folder, args.clip_model, args.clip_pretrained, args.limit, home)
        except semsearch.SemsearchError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
    print(f"{r['dataset']}: {r['images']} images, {r['captions']} captions, "
          f"{r['clip_model']} ({r['clip_pretrained']})")
    print(f"{'':14}{'R@1':>8}{'R@5':>8}{'R@10':>8}")
    for d in ("t2i", "i2t"):
        label = "text->image" if d == "t2i" else "image->text"
        print(f"{label:14}" + "".join(f"{r[f'{d}_R@{x}']:>8.2f}" for x in KS))
    print(f"chance R@10: text->image {r['chance_t2i_R@10']}, image->text {r['chance_i2t_R@10']}; "
          f"ingest {r['ingest_seconds']}s, {r['queries_per_second']} queries/s")
    if args.json:
        print(json.dumps(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Model runtimes benchmark: torch fp32 (the reference) against ONNX Runtime and OpenVINO,
fp32 and int8, in one run. Prints, per runtime:

1. MiniLM (all-MiniLM-L6-v2) throughput on short texts (SciFact claims) and on 256-token
   chunks (SciFact abstracts, cut at the model's window), with the ratio to torch and the
   mean cosine to torch's vectors;
2. SciFact train nDCG@10 of dense retrieval (brute force, first 256 tokens of each abstract)
   over a corpus of ``--ndcg-docs`` abstracts: every abstract relevant to a train claim plus
   others to fill, the same corpus for every runtime;
3. the ViT-B-32 image and text towers: images/s and texts/s and cosine to torch. No
   pretrained CLIP weights can be had here, so the towers run with random weights: the
   compute is the pretrained model's, the cosines say little about real weights;
4. the command line: ``python -c pass``, ``semsearch --help``, and a cold text search of the
   sample collection per runtime (median of ``--repeat`` fresh processes), and a no-op
   re-ingest of ``--noop-files`` unchanged text files, with the default CLIP model (weights
   missing here) and with a CLIP model that loads (the tiny test config).

Rounds alternate the runtimes, so load from other processes weighs on all alike.

    .venv/bin/python scripts/bench_models.py DATA/scifact [--device cpu|cuda] [--json]
        [--skip clip,ndcg,cli,noop] [--rounds 3] [--ndcg-docs 800]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402

from semsearch.metrics import ndcg_at  # noqa: E402
from semsearch.models.runtime import RuntimeChoice  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TINY_CLIP = ROOT / "tests" / "data" / "tiny-clip.json"
CPU_RUNTIMES = [("torch", "fp32"), ("onnx", "fp32"), ("onnx", "int8"), ("openvino", "fp32"),
                ("openvino", "int8")]
GPU_RUNTIMES = [("torch", "fp32")]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def timed(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def text_part(data: Path, runtimes: list[tuple[str, str]], device: str, rounds: int,
              ndcg_docs: int, skip: set[str]) -> list[dict[str, Any]]:
    from semsearch.models.sentence_transformers import SentenceTransformerEmbedder

    claims = [q["text"] for q in read_jsonl(data / "queries.jsonl")][:512]
    corpus = read_jsonl(data / "corpus.jsonl")
    chunks = [f"{d['title']}. {d['text']}" for d in corpus[:128]]
    models = {r: SentenceTransformerEmbedder(runtime=RuntimeChoice(r[0], r[1], device))
              for r in runtimes}
    for m in models.values():  # warm-up (and the one-time export)
        m.embed_batch(claims[:16] + chunks[:4])
    times: dict[tuple[str, str], dict[str, list[float]]] = {
        r: {"short": [], "long": []} for r in runtimes}
    for _ in range(rounds):
        for r, m in models.items():
            times[r]["short"].append(len(claims) / timed(lambda m=m: m.embed_batch(claims)))
            times[r]["long"].append(len(chunks) / timed(lambda m=m: m.embed_batch(chunks)))
    ref = runtimes[0]
    ref_short, ref_long = models[ref].embed_batch(claims), models[ref].embed_batch(chunks)
    rows = []
    for r, m in models.items():
        short, long_ = (statistics.median(times[r][k]) for k in ("short", "long"))
        rows.append({
            "runtime": f"{r[0]}-{r[1]}", "short_per_s": round(short, 1),
            "long_per_s": round(long_, 1),
            "short_x": round(short / statistics.median(times[ref]["short"]), 2),
            "long_x": round(long_ / statistics.median(times[ref]["long"]), 2),
            "cos_short": round(float((m.embed_batch(claims) * ref_short).sum(1).mean()), 4),
            "cos_long": round(float((m.embed_batch(chunks) * ref_long).sum(1).mean()), 4),
        })
    if "ndcg" not in skip:
        ndcg = scifact_ndcg(data, corpus, models, ndcg_docs)
        for row, r in zip(rows, models, strict=True):
            row["ndcg10"] = ndcg[r]
    return rows


def scifact_ndcg(data: Path, corpus: list[dict[str, Any]], models: dict[Any, Any],
                 size: int) -> dict[Any, float]:
    qrels: dict[str, dict[str, int]] = {}
    for line in (data / "qrels" / "train.tsv").read_text().splitlines()[1:]:
        q, d, s = line.split("\t")[:3]
        qrels.setdefault(q, {})[d] = int(float(s))
    queries = {q["_id"]: q["text"] for q in read_jsonl(data / "queries.jsonl")
               if q["_id"] in qrels}
    relevant = {d for rels in qrels.values() for d in rels}
    by_id = {d["_id"]: d for d in corpus}
    chosen = [by_id[d] for d in sorted(relevant) if d in by_id][:size]
    others = [d for d in corpus if d["_id"] not in relevant]
    random.Random(0).shuffle(others)
    chosen += others[:max(0, size - len(chosen))]
    ids = [d["_id"] for d in chosen]
    texts = [f"{d['title']}. {d['text']}" for d in chosen]
    qids = [q for q in queries if any(d in set(ids) for d in qrels[q])]
    out = {}
    for r, m in models.items():
        docs = m.embed_batch(texts)
        qv = m.embed_batch([queries[q] for q in qids])
        scores = qv @ docs.T
        total = 0.0
        for i, q in enumerate(qids):
            top = np.argsort(-scores[i])[:10]
            total += ndcg_at([ids[j] for j in top], qrels[q], 10)
        out[r] = round(total / len(qids), 4)
    print(f"  nDCG@10 over {len(ids)} abstracts and {len(qids)} train claims", file=sys.stderr)
    return out


def clip_part(runtimes: list[tuple[str, str]], device: str, rounds: int
              ) -> list[dict[str, Any]]:
    from PIL import Image

    from semsearch.models.open_clip import OpenClipEmbedder

    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8))
              for _ in range(64)]
    texts = [f"a photo of a {w} on a {v}" for w in ("dog", "cat", "bike", "tree")
             for v in ("beach", "street", "table", "hill")] * 4
    models = {r: OpenClipEmbedder("ViT-B-32", "none", runtime=RuntimeChoice(r[0], r[1], device))
              for r in runtimes}
    prepared = {r: [m.prepare_image(im) for im in images] for r, m in models.items()}
    for r, m in models.items():
        m.embed_prepared(prepared[r][:4])
    img: dict[Any, list[float]] = {r: [] for r in runtimes}
    txt: dict[Any, list[float]] = {r: [] for r in runtimes}
    for _ in range(rounds):
        for r, m in models.items():
            img[r].append(len(images) / timed(lambda m=m, r=r: m.embed_prepared(prepared[r])))
            txt[r].append(len(texts) / timed(lambda m=m: m.embed_batch(texts)))
    ref = runtimes[0]
    ref_img, ref_txt = models[ref].embed_prepared(prepared[ref]), models[ref].embed_batch(texts)
    rows = []
    for r, m in models.items():
        rows.append({
            "runtime": f"{r[0]}-{r[1]}",
            "images_per_s": round(statistics.median(img[r]), 1),
            "images_x": round(statistics.median(img[r]) / statistics.median(img[ref]), 2),
            "texts_per_s": round(statistics.median(txt[r]), 1),
            "texts_x": round(statistics.median(txt[r]) / statistics.median(txt[ref]), 2),
            "cos_images": round(float((m.embed_prepared(prepared[r]) * ref_img).sum(1).mean()), 4),
            "cos_texts": round(float((m.embed_batch(texts) * ref_txt).sum(1).mean()), 4),
        })
    return rows


def cli(args: list[str], env: dict[str, str] | None = None) -> float:
    exe = str(Path(sys.executable).parent / "semsearch")
    t = time.perf_counter()
    out = subprocess.run([exe, *args], capture_output=True, text=True,
                         env={**os.environ, **(env or {})})
    took = time.perf_counter() - t
    if out.returncode != 0:
        raise SystemExit(f"semsearch {' '.join(args)} failed: {out.stderr.strip()[-300:]}")
    return took


def cli_part(runtimes: list[tuple[str, str]], device: str, repeat: int) -> dict[str, Any]:
    home = tempfile.mkdtemp(prefix="bench-models-")
    try:
        cli(["--home", home, "--quiet", "ingest", "--manifest",
             str(ROOT / "collections" / "sample.toml")])
        row: dict[str, Any] = {}
        row["python_pass_s"] = round(statistics.median(
            timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True))
            for _ in range(repeat)), 3)
        row["help_s"] = round(statistics.median(cli(["--help"]) for _ in range(repeat)), 3)
        query = ["--home", home, "search", "how do I fix a flat tyre", "-c", "sample"]
        for backend, precision in [("auto", "auto"), *runtimes]:
            flags = ["--backend", backend, "--precision", precision, "--device", device]
            cli(flags + query)  # the export, and the files in the OS cache
            row[f"search_{backend}-{precision}_s"] = round(statistics.median(
                cli(flags + query) for _ in range(repeat)), 3)
        return row
    finally:
        shutil.rmtree(home, ignore_errors=True)


def noop_part(files: int, repeat: int) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="bench-noop-"))
    try:
        src = root / "notes"
        words = ["river", "garden", "planet", "music", "kitchen", "window", "bridge",
                 "autumn", "letter", "forest"]
        for i in range(files):
            d = src / f"d{i // 500:03d}"
            d.mkdir(parents=True, exist_ok=True)
            (d / f"n{i}.txt").write_text(f"note {i}: " + " ".join(
                words[(i + j) % len(words)] for j in range(12)), encoding="utf-8")
        row: dict[str, Any] = {"files": files}
        for label, clip in (("default_clip_missing", []),
                            ("tiny_clip_loads", ["--clip-model", str(TINY_CLIP),
                                                 "--clip-pretrained", "none"])):
            home = str(root / f"home-{label}")
            first = cli(["--home", home, "--quiet", "ingest", str(src), "-c", "n", *clip])
            row[f"{label}_first_s"] = round(first, 1)
            row[f"{label}_noop_s"] = round(statistics.median(
                cli(["--home", home, "--quiet", "ingest", str(src), "-c", "n", *clip])
                for _ in range(repeat)), 3)
        return row
    finally:
        shutil.rmtree(root, ignore_errors=True)


def table(rows: list[dict[str, Any]]) -> str:
    keys = list(rows[0])
    widths = [max(len(k), *(len(str(r.get(k, ""))) for r in rows)) for k in keys]
    lines = ["  ".join(k.ljust(w) for k, w in zip(keys, widths, strict=True))]
    lines += ["  ".join(str(r.get(k, "")).ljust(w) for k, w in zip(keys, widths, strict=True))
              for r in rows]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scifact", type=Path, help="the SciFact folder (corpus, queries, qrels)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda", "mps"])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=5, help="fresh processes per CLI figure")
    ap.add_argument("--ndcg-docs", type=int, default=800)
    ap.add_argument("--noop-files", type=int, default=10000)
    ap.add_argument("--skip", default="", help="comma list of: text, ndcg, clip, cli, noop")
    ap.add_argument("--json", action="store_true", help="end with one JSON line")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    runtimes = CPU_RUNTIMES if args.device == "cpu" else GPU_RUNTIMES
    print(f"machine: {os.cpu_count()} cores, device {args.device}; one run, medians of "
          f"{args.rounds} alternating rounds")
    report: dict[str, Any] = {"device": args.device}
    if "text" not in skip:
        report["text"] = text_part(args.scifact, runtimes, args.device, args.rounds,
                                   args.ndcg_docs, skip)
        print("\nMiniLM: short texts (512 SciFact claims) and 256-token chunks (128 abstracts)")
        print(table(report["text"]))
    if "clip" not in skip:
        report["clip"] = clip_part(runtimes, args.device, args.rounds)
        print("\nViT-B-32 towers (random weights: speed is real, cosines are not evidence)")
        print(table(report["clip"]))
    if "cli" not in skip:
        report["cli"] = cli_part(runtimes, args.device, args.repeat)
        print("\nCommand line, seconds (median of fresh processes)")
        print(table([report["cli"]]))
    if "noop" not in skip:
        report["noop"] = noop_part(args.noop_files, min(args.repeat, 3))
        print("\nNo-op re-ingest through the CLI, seconds")
        print(table([report["noop"]]))
    if args.json:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())

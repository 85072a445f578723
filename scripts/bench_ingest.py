"""Ingest throughput benchmark: how close does ``col.ingest`` get to the bare models?

Three parts, in one run:

1. Images (Flickr8k, 1,000 224x224 JPEGs): model-only images/s (decode and preprocess done
   beforehand, then only ``embed_prepared`` in batches of the embedder's batch size) against
   end-to-end ``col.ingest([folder])`` images/s into a fresh home, models loaded beforehand.
2. Text (SciFact abstracts written out as .txt files, title + text): model-only docs/s (the same
   chunks, the same flush groups, the same ``embed_batch`` calls on the text model and on the
   CLIP text tower that ingest makes) against end-to-end ``col.ingest([folder])`` docs/s.
3. No-op re-ingest of the 10,000-file CIFAR-10 folder, in-process and through the CLI.

No pretrained CLIP weights can be downloaded here, so parts 1 and 2 use the real ViT-B-32
architecture with random weights (``clip_pretrained="none"``): the compute is identical to the
pretrained model, the vectors mean nothing. Part 3 uses the tiny test config (no model runs on
a no-op).

    .venv/bin/python scripts/bench_ingest.py [--images N] [--texts N] [--skip-cifar] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import semsearch  # noqa: E402
from semsearch.chunking import chunk_text  # noqa: E402
from semsearch.fs import walk  # noqa: E402
from semsearch.ingest import FLUSH_UNITS, TEXT_OVERLAP  # noqa: E402
from semsearch.sources import ReadOptions, supported_extensions  # noqa: E402
from semsearch.sources.images import decode_image  # noqa: E402
from semsearch.sources.text import TextSource  # noqa: E402

DATA = Path("/work/shared/data")
FLICKR = DATA / "flickr8k_test1k" / "images"
SCIFACT = DATA / "scifact" / "corpus.jsonl"
CIFAR = DATA / "cifar10_test" / "images"
TINY_CLIP = ROOT / "tests" / "data" / "tiny-clip.json"
CLIP_MODEL = "ViT-B-32"
IMAGE_TARGET = 0.85
NOOP_TARGET_S = 3.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


class Timed:
    """Accumulates wall and process CPU seconds (all threads) over its ``with`` blocks."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def __enter__(self) -> Timed:
        self._t, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall += time.perf_counter() - self._t
        self.cpu += time.process_time() - self._c

    def __str__(self) -> str:
        return f"{self.wall:.1f}s wall, {self.cpu:.1f} CPU-s"


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def files_in(folder: Path) -> list[Path]:
    """The files ingest will see, in the order it will see them."""
    return [Path(s.path) for s in walk(folder, supported_extensions())]


# images ------------------------------------------------------------------------------------
def bench_images(n: int, work: Path) -> dict[str, Any]:
    src = sorted(FLICKR.glob("*.jpg"))[:n]
    folder = work / "flickr"
    folder.mkdir()
    for p in src:
        shutil.copy2(p, folder / p.name)
    n = len(src)
    lib = semsearch.open(work / "home-images")
    col = lib.collection("photos", clip_model=CLIP_MODEL, clip_pretrained="none")
    t = time.perf_counter()
    clip = col.clip_embedder()
    col.text_embedder()
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    _ = lib.store  # opening Chroma is a one-time cost, like loading the models
    store_s = time.perf_counter() - t
    log(f"images: models loaded in {load_s:.1f}s, store opened in {store_s:.1f}s")

    # model only: decode + preprocess first (untimed), then embed_prepared in batches
    t = time.perf_counter()
    prepared = [clip.prepare_image(decode_image(p.read_bytes())) for p in files_in(folder)]
    prep_s = time.perf_counter() - t
    bs = clip.batch_size
    clip.embed_prepared(prepared[:bs])  # warm-up, untimed

    def model_only(label: str) -> Timed:
        with Timed() as tm:
            for i in range(0, n, bs):
                clip.embed_prepared(prepared[i : i + bs])
        log(f"images: model only ({label}) {n / tm.wall:.1f} img/s ({tm})")
        return tm

    # model only, end to end, model only again: the mean of the two model-only passes is
    # compared with the end-to-end pass, so a change in machine load during the run cancels
    model_a = model_only("before")
    with Timed() as e2e:
        summary = col.ingest([folder])
    lib.close()
    assert summary.added == n, summary.line()
    log(f"images: end to end {n / e2e.wall:.1f} img/s ({e2e}): {summary.line()}")
    model_b = model_only("after")
    prepared.clear()
    model_s = (model_a.wall + model_b.wall) / 2
    e2e_s = e2e.wall
    return {
        "images": n,
        "image_batch_size": bs,
        "image_model_load_s": round(load_s, 2),
        "image_preprocess_per_s": round(n / prep_s, 1),
        "image_model_only_passes_s": [round(model_a.wall, 2), round(model_b.wall, 2)],
        "image_model_only_cpu_s": round((model_a.cpu + model_b.cpu) / 2, 1),
        "image_e2e_cpu_s": round(e2e.cpu, 1),
        "image_model_only_s": round(model_s, 2),
        "image_model_only_per_s": round(n / model_s, 2),
        "image_e2e_s": round(e2e_s, 2),
        "image_e2e_per_s": round(n / e2e_s, 2),
        "image_ratio": round(model_s / e2e_s, 3),
    }


# text --------------------------------------------------------------------------------------
def bench_texts(n: int, work: Path) -> dict[str, Any]:
    folder = work / "scifact"
    folder.mkdir()
    written = 0
    with SCIFACT.open(encoding="utf-8") as f:
        for line in f:
            if written >= n:
                break
            doc = json.loads(line)
            body = f"{doc.get('title', '')}\n\n{doc.get('text', '')}".strip()
            (folder / f"{doc['_id']}.txt").write_text(body + "\n", encoding="utf-8")
            written += 1
    n = written
    lib = semsearch.open(work / "home-texts")
    col = lib.collection("abstracts", clip_model=CLIP_MODEL, clip_pretrained="none")
    t = time.perf_counter()
    clip = col.clip_embedder()
    text = col.text_embedder()
    load_s = time.perf_counter() - t
    _ = lib.store
    log(f"texts: models loaded in {load_s:.1f}s")

    # the same items, chunks and flush groups as Ingester._process/_plan/_embed
    t = time.perf_counter()
    source, options = TextSource(), ReadOptions()
    groups: list[tuple[list[str], list[str]]] = []
    text_chunks: list[str] = []
    clip_chunks: list[str] = []
    units = 0
    for path in files_in(folder):
        item = source.read(path, path.read_bytes(), {}, options).items[0]
        body = item.text or ""
        text_chunks += [c.text for c in chunk_text(
            body, text.token_spans(body), text.max_tokens, TEXT_OVERLAP)]
        clip_chunks += [c.text for c in chunk_text(
            body, clip.token_spans(body), clip.max_tokens, 0)]
        units += 1 + len(body) // 1000
        if units >= FLUSH_UNITS:
            groups.append((text_chunks, clip_chunks))
            text_chunks, clip_chunks, units = [], [], 0
    if text_chunks or clip_chunks:
        groups.append((text_chunks, clip_chunks))
    chunk_s = time.perf_counter() - t
    n_text = sum(len(g[0]) for g in groups)
    n_clip = sum(len(g[1]) for g in groups)
    text.embed_batch(groups[0][0][:64])  # warm-up, untimed
    clip.embed_batch(groups[0][1][:32])
    log(f"texts: {n} docs -> {n_text} text chunks, {n_clip} CLIP chunks in {len(groups)} "
        f"flushes (chunking {chunk_s:.1f}s)")

    def model_only(label: str) -> tuple[Timed, Timed]:
        tt, ct = Timed(), Timed()
        for tchunks, cchunks in groups:
            with tt:
                text.embed_batch(tchunks)
            with ct:
                clip.embed_batch(cchunks)
        log(f"texts: model only ({label}) {n / (tt.wall + ct.wall):.1f} docs/s "
            f"(text model {tt}, CLIP text tower {ct})")
        return tt, ct

    passes = [model_only("before")]  # and again after the end-to-end pass, as for images
    with Timed() as e2e:
        summary = col.ingest([folder])
    lib.close()
    assert summary.added == n, summary.line()
    log(f"texts: end to end {n / e2e.wall:.1f} docs/s ({e2e}): {summary.line()}")
    passes.append(model_only("after"))
    text_s = sum(p[0].wall for p in passes) / 2
    clip_s = sum(p[1].wall for p in passes) / 2
    model_s = text_s + clip_s
    e2e_s = e2e.wall
    return {
        "texts": n,
        "text_chunks": n_text,
        "clip_text_chunks": n_clip,
        "text_chunking_s": round(chunk_s, 2),
        "text_model_only_passes_s": [round(p[0].wall + p[1].wall, 2) for p in passes],
        "text_model_only_cpu_s": round(sum(p[0].cpu + p[1].cpu for p in passes) / 2, 1),
        "text_e2e_cpu_s": round(e2e.cpu, 1),
        "text_model_s": round(text_s, 2),
        "clip_text_model_s": round(clip_s, 2),
        "text_model_only_per_s": round(n / model_s, 2),
        "text_e2e_s": round(e2e_s, 2),
        "text_e2e_per_s": round(n / e2e_s, 2),
        "text_ratio": round(model_s / e2e_s, 3),
    }


# no-op re-ingest ---------------------------------------------------------------------------
def bench_noop(work: Path) -> dict[str, Any]:
    home = work / "home-cifar"
    name = "cifar"
    lib = semsearch.open(home)
    col = lib.collection(name, clip_model=str(TINY_CLIP), clip_pretrained="none")
    last = [0.0]

    def progress(ev: semsearch.ProgressEvent) -> None:
        now = time.perf_counter()
        if ev.stage == "embed" and (ev.done == ev.total or now - last[0] > 10):
            last[0] = now
            log(f"cifar: first ingest {ev.done}/{ev.total}")

    t = time.perf_counter()
    first = col.ingest([CIFAR], progress=progress)
    first_s = time.perf_counter() - t
    log(f"cifar: first ingest {first_s:.1f}s: {first.line()}")

    t = time.perf_counter()
    again = col.ingest([CIFAR])
    noop_s = time.perf_counter() - t
    lib.close()
    assert again.unchanged == first.added and again.added == 0, again.line()
    log(f"cifar: no-op re-ingest in-process {noop_s:.2f}s: {again.line()}")

    exe = Path(sys.executable).parent / "semsearch"
    cmd = [str(exe), "ingest", str(CIFAR), "-c", name, "--home", str(home)]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    cli_s = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"CLI failed ({proc.returncode}): {proc.stderr.strip()}")
    log(f"cifar: no-op re-ingest CLI {cli_s:.2f}s: {proc.stdout.strip()}")
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import semsearch.cli"], check=True)
    import_s = time.perf_counter() - t
    return {
        "cifar_files": first.added,
        "cifar_first_ingest_s": round(first_s, 1),
        "noop_inprocess_s": round(noop_s, 3),
        "noop_cli_wall_s": round(cli_s, 2),
        "cli_import_only_wall_s": round(import_s, 2),
    }


def passes(r: dict[str, Any], part: str) -> str:
    return " and ".join(f"{x:.1f}s" for x in r[f"{part}_model_only_passes_s"])


def table(r: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str, str]] = []
    if "images" in r:
        rows += [
            (f"images ({r['images']} Flickr8k, batch {r['image_batch_size']})", "model only",
             f"{r['image_model_only_per_s']:.1f} img/s",
             f"{r['image_model_only_s']:.1f}s (mean of {passes(r, 'image')}), "
             f"{r['image_model_only_cpu_s']:.0f} CPU-s"),
            ("", "end to end ingest", f"{r['image_e2e_per_s']:.1f} img/s",
             f"{r['image_e2e_s']:.1f}s, {r['image_e2e_cpu_s']:.0f} CPU-s"),
            ("", "ratio e2e/model", f"{r['image_ratio']:.3f}",
             "OK" if r["image_ratio"] >= IMAGE_TARGET else f"below {IMAGE_TARGET}"),
        ]
    if "texts" in r:
        rows += [
            (f"text ({r['texts']} SciFact .txt)", "model only (MiniLM + CLIP text)",
             f"{r['text_model_only_per_s']:.1f} docs/s",
             f"{r['text_model_s'] + r['clip_text_model_s']:.1f}s (mean of {passes(r, 'text')}), "
             f"{r['text_model_only_cpu_s']:.0f} CPU-s"),
            ("", "end to end ingest", f"{r['text_e2e_per_s']:.1f} docs/s",
             f"{r['text_e2e_s']:.1f}s, {r['text_e2e_cpu_s']:.0f} CPU-s"),
            ("", "ratio e2e/model", f"{r['text_ratio']:.3f}", ""),
        ]
    if "noop_inprocess_s" in r:
        rows += [
            (f"no-op re-ingest ({r['cifar_files']} CIFAR-10)", "in-process col.ingest",
             f"{r['noop_inprocess_s']:.2f}s",
             "OK" if r["noop_inprocess_s"] < NOOP_TARGET_S else f"above {NOOP_TARGET_S}s"),
            ("", "CLI `semsearch ingest` wall", f"{r['noop_cli_wall_s']:.2f}s",
             f"(python -c 'import semsearch.cli': {r['cli_import_only_wall_s']:.2f}s)"),
        ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", type=int, default=1000, help="Flickr8k images (0 to skip)")
    ap.add_argument("--texts", type=int, default=2000, help="SciFact abstracts (0 to skip)")
    ap.add_argument("--skip-cifar", action="store_true", help="skip the no-op re-ingest")
    ap.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    args = ap.parse_args()

    import torch

    results: dict[str, Any] = {
        "clip_model": f"{CLIP_MODEL} (random weights, clip_pretrained='none')",
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
    }
    parts = [("images", args.images > 0, lambda w: bench_images(args.images, w)),
             ("texts", args.texts > 0, lambda w: bench_texts(args.texts, w)),
             ("noop", not args.skip_cifar, bench_noop)]
    loads: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="semsearch-bench-") as tmp:
        for name, wanted, run in parts:
            if not wanted:
                continue
            before = load()
            log(f"{name}: load average {before} (1/5/15 min) on {os.cpu_count()} CPUs")
            results.update(run(Path(tmp)))
            loads[name] = f"{before} -> {load()}"
    results["load_average"] = loads
    print(f"CLIP {CLIP_MODEL} with RANDOM weights (clip_pretrained='none'): pretrained weights "
          "cannot be downloaded here; the architecture and so the compute are those of the "
          f"real model. Text model: all-MiniLM-L6-v2. {results['cpu_count']} CPUs, "
          f"torch threads {results['torch_threads']}. No-op part uses {TINY_CLIP.name}.")
    print(table(results))
    print("load average (1/5/15 min) before -> after each part: "
          + "; ".join(f"{k} {v}" for k, v in loads.items())
          + ". Other processes on this machine skew wall times; the ratios compare the "
          "end-to-end pass with the mean of model-only passes run just before and after it.")
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()

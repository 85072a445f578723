"""Ingest throughput benchmark: how close does ``col.ingest`` get to the bare models?

Three parts, in one run:

1. Images (Flickr8k, 1,000 224x224 JPEGs): model-only images/s (decode and prepare_image done
   beforehand, then only ``embed_prepared`` in batches of the embedder's batch size) against
   end-to-end ``col.ingest([folder])`` images/s into a fresh home, models loaded beforehand.
2. Text (SciFact abstracts written out as .txt files, title + text): model-only docs/s (the same
   chunks, the same flush groups, the same ``embed_batch`` calls on the text model and on the
   CLIP text tower that ingest makes) against end-to-end ``col.ingest([folder])`` docs/s.
3. No-op re-ingest of the 10,000-file CIFAR-10 folder, in-process and through the CLI.

Parts 1 and 2 split their files into ``--rounds`` folders; each round times the bare model
calls and ``col.ingest`` of one folder back to back, in alternating order, so that load from
other processes on a shared machine weighs on both alike.

No pretrained CLIP weights can be downloaded here, so parts 1 and 2 use the real ViT-B-32
architecture with random weights (``clip_pretrained="none"``): the compute is identical to the
pretrained model, the vectors mean nothing. Part 3 uses the tiny test config (no model runs on
a no-op).

    .venv/bin/python scripts/bench_ingest.py [--images N] [--texts N] [--skip-cifar]
                                             [--rounds R] [--json]
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import semsearch  # noqa: E402
from semsearch.ingest.pipeline import FLUSH_UNITS  # noqa: E402
from semsearch.ingest.scan import walk  # noqa: E402
from semsearch.models.chunking import TEXT_OVERLAP, chunk_text  # noqa: E402
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

    def add(self, other: Timed) -> Timed:
        self.wall += other.wall
        self.cpu += other.cpu
        return self

    def __str__(self) -> str:
        return f"{self.wall:.1f}s wall, {self.cpu:.1f} CPU-s"


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def files_in(folder: Path) -> list[Path]:
    """The files ingest will see, in the order it will see them."""
    return [Path(s.path) for s in walk(folder, supported_extensions())]


# interleaving -------------------------------------------------------------------------------
def interleave(
    part: str, unit: str, slices: list[int], model_only: Callable[[int], Timed],
    ingest: Callable[[int], Timed],
) -> dict[str, Any]:
    """Round k times the bare model calls for slice k and ``col.ingest`` of slice k's folder,
    in alternating order, so that the load other processes put on the machine weighs on both
    alike. Returns summed wall and CPU seconds and the per-round ratios."""
    model, e2e = Timed(), Timed()
    ratios: list[float] = []
    for k, size in enumerate(slices):
        if k % 2 == 0:
            m = model_only(k)
            e = ingest(k)
        else:
            e = ingest(k)
            m = model_only(k)
        model.add(m)
        e2e.add(e)
        ratios.append(m.wall / e.wall)
        log(f"{part}: round {k + 1}/{len(slices)} ({size} {unit}): model only "
            f"{size / m.wall:.1f} {unit}/s ({m}); end to end {size / e.wall:.1f} {unit}/s ({e});"
            f" ratio {ratios[-1]:.3f}; load {load()}")
    n = sum(slices)
    return {
        f"{part}_model_only_s": round(model.wall, 2),
        f"{part}_model_only_cpu_s": round(model.cpu, 1),
        f"{part}_model_only_per_s": round(n / model.wall, 2),
        f"{part}_e2e_s": round(e2e.wall, 2),
        f"{part}_e2e_cpu_s": round(e2e.cpu, 1),
        f"{part}_e2e_per_s": round(n / e2e.wall, 2),
        f"{part}_ratio": round(model.wall / e2e.wall, 3),
        f"{part}_cpu_ratio": round(model.cpu / e2e.cpu, 3),
        f"{part}_round_ratios": [round(r, 3) for r in ratios],
    }


def split(paths: list[Path], rounds: int) -> list[list[Path]]:
    rounds = max(1, min(rounds, len(paths)))
    size = -(-len(paths) // rounds)
    return [paths[i : i + size] for i in range(0, len(paths), size)]


# images ------------------------------------------------------------------------------------
def bench_images(n: int, rounds: int, work: Path) -> dict[str, Any]:
    folders: list[Path] = []
    for k, part in enumerate(split(sorted(FLICKR.glob("*.jpg"))[:n], rounds)):
        folders.append(work / "flickr" / f"part{k}")
        folders[-1].mkdir(parents=True)
        for p in part:
            shutil.copy2(p, folders[-1] / p.name)
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

    # model only: decode + prepare_image first (untimed), then embed_prepared in batches
    with Timed() as prep:
        prepared = [[clip.prepare_image(decode_image(p.read_bytes())) for p in files_in(f)]
                    for f in folders]
    slices = [len(x) for x in prepared]
    n = sum(slices)
    bs = clip.batch_size
    clip.embed_prepared(prepared[0][:bs])  # warm-up, untimed

    def model_only(k: int) -> Timed:
        with Timed() as tm:
            for i in range(0, slices[k], bs):
                clip.embed_prepared(prepared[k][i : i + bs])
        return tm

    def ingest(k: int) -> Timed:
        with Timed() as tm:
            summary = col.ingest([folders[k]])
        assert summary.added == slices[k], summary.line()
        return tm

    out = interleave("image", "img", slices, model_only, ingest)
    lib.close()
    return {
        "images": n,
        "image_rounds": len(slices),
        "image_batch_size": bs,
        "image_model_load_s": round(load_s, 2),
        "image_prepare_cpu_ms": round(prep.cpu / n * 1000, 2),
        **out,
    }


# text --------------------------------------------------------------------------------------
def flush_groups(paths: list[Path], text: Any, clip: Any) -> list[tuple[list[str], list[str]]]:
    """The chunks of each flush ``col.ingest`` makes for these files, as Ingester builds them
    (TextSource.read, chunk_text with each model's token spans, FLUSH_UNITS slicing)."""
    source, options = TextSource(), ReadOptions()
    groups: list[tuple[list[str], list[str]]] = []
    text_chunks: list[str] = []
    clip_chunks: list[str] = []
    units = 0
    for path in paths:
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
    return groups


def bench_texts(n: int, rounds: int, work: Path) -> dict[str, Any]:
    docs: list[tuple[str, str]] = []
    with SCIFACT.open(encoding="utf-8") as f:
        for line in f:
            if len(docs) >= n:
                break
            doc = json.loads(line)
            docs.append((doc["_id"], f"{doc.get('title', '')}\n\n{doc.get('text', '')}".strip()))
    folders: list[Path] = []
    for k in range(len(split([Path()] * len(docs), rounds))):
        folders.append(work / "scifact" / f"part{k}")
        folders[-1].mkdir(parents=True)
    size = -(-len(docs) // len(folders))
    for i, (doc_id, body) in enumerate(docs):
        (folders[i // size] / f"{doc_id}.txt").write_text(body + "\n", encoding="utf-8")
    lib = semsearch.open(work / "home-texts")
    col = lib.collection("abstracts", clip_model=CLIP_MODEL, clip_pretrained="none")
    t = time.perf_counter()
    clip = col.clip_embedder()
    text = col.text_embedder()
    load_s = time.perf_counter() - t
    _ = lib.store
    log(f"texts: models loaded in {load_s:.1f}s")

    with Timed() as chunking:
        groups = [flush_groups(files_in(f), text, clip) for f in folders]
    slices = [len(files_in(f)) for f in folders]
    n = sum(slices)
    n_text = sum(len(g[0]) for gs in groups for g in gs)
    n_clip = sum(len(g[1]) for gs in groups for g in gs)
    log(f"texts: {n} docs -> {n_text} text chunks, {n_clip} CLIP chunks in "
        f"{sum(len(gs) for gs in groups)} flushes (chunking {chunking.wall:.1f}s)")
    text.embed_batch(groups[0][0][0][:64])  # warm-up, untimed
    clip.embed_batch(groups[0][0][1][:32])
    text_model, clip_text = Timed(), Timed()

    def model_only(k: int) -> Timed:
        tt, ct = Timed(), Timed()
        for tchunks, cchunks in groups[k]:
            with tt:
                text.embed_batch(tchunks)
            with ct:
                clip.embed_batch(cchunks)
        text_model.add(tt)
        clip_text.add(ct)
        return Timed().add(tt).add(ct)

    lexical = Timed()
    rebuild = getattr(col, "rebuild_lexical", None)
    if rebuild is not None:  # the BM25 rebuild that ends an ingest of text, timed apart

        def timed_rebuild() -> Any:
            with lexical:
                return rebuild()

        col.rebuild_lexical = timed_rebuild  # type: ignore[method-assign]

    def ingest(k: int) -> Timed:
        with Timed() as tm:
            summary = col.ingest([folders[k]])
        assert summary.added == slices[k], summary.line()
        return tm

    out = interleave("text", "docs", slices, model_only, ingest)
    lib.close()
    return {
        "texts": n,
        "text_rounds": len(slices),
        "text_chunks": n_text,
        "clip_text_chunks": n_clip,
        "text_chunking_s": round(chunking.wall, 2),
        "text_model_s": round(text_model.wall, 2),
        "clip_text_model_s": round(clip_text.wall, 2),
        "text_lexical_rebuild_s": round(lexical.wall, 2),
        **out,
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


def rounds(r: dict[str, Any], part: str) -> str:
    ratios = r[f"{part}_round_ratios"]
    return (f"{len(ratios)} interleaved rounds, per-round {min(ratios):.2f}-{max(ratios):.2f};"
            f" by CPU-s {r[f'{part}_cpu_ratio']:.3f}")


def table(r: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str, str]] = [("part", "measure", "figure", "detail")]
    if "images" in r:
        rows += [
            (f"images ({r['images']} Flickr8k)", "model only (embed_prepared, batch "
             f"{r['image_batch_size']})", f"{r['image_model_only_per_s']:.1f} img/s",
             f"{r['image_model_only_s']:.1f}s, {r['image_model_only_cpu_s']:.0f} CPU-s"),
            ("", "end to end col.ingest", f"{r['image_e2e_per_s']:.1f} img/s",
             f"{r['image_e2e_s']:.1f}s, {r['image_e2e_cpu_s']:.0f} CPU-s"),
            ("", "ratio e2e/model", f"{r['image_ratio']:.3f}",
             ("OK" if r["image_ratio"] >= IMAGE_TARGET else f"BELOW {IMAGE_TARGET}")
             + f" ({rounds(r, 'image')})"),
        ]
    if "texts" in r:
        rows += [
            (f"text ({r['texts']} SciFact .txt)", "model only (MiniLM + CLIP text tower)",
             f"{r['text_model_only_per_s']:.1f} docs/s",
             f"{r['text_model_only_s']:.1f}s = {r['text_model_s']:.1f}s MiniLM "
             f"({r['text_chunks']} chunks) + {r['clip_text_model_s']:.1f}s CLIP "
             f"({r['clip_text_chunks']} chunks)"),
            ("", "end to end col.ingest", f"{r['text_e2e_per_s']:.1f} docs/s",
             f"{r['text_e2e_s']:.1f}s, of which BM25 rebuild {r['text_lexical_rebuild_s']:.1f}s"),
            ("", "ratio e2e/model", f"{r['text_ratio']:.3f}", rounds(r, "text")),
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
    ap.add_argument("--rounds", type=int, default=4,
                    help="interleaved model-only / ingest rounds per part (default 4)")
    args = ap.parse_args()

    import torch

    results: dict[str, Any] = {
        "clip_model": f"{CLIP_MODEL} (random weights, clip_pretrained='none')",
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
    }
    parts = [("images", args.images > 0, lambda w: bench_images(args.images, args.rounds, w)),
             ("texts", args.texts > 0, lambda w: bench_texts(args.texts, args.rounds, w)),
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
          + ". Other processes on this machine change wall times from minute to minute: each "
          "part splits its files into rounds, and each round times the bare model calls and "
          "col.ingest of the same files back to back (order alternating), so both see the "
          "same load; ratios are summed model-only seconds / summed ingest seconds.")
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()

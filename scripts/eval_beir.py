#!/usr/bin/env python
"""Retrieval quality on a BEIR dataset, through semsearch's public Python client.

    python scripts/eval_beir.py ../shared/data/scifact [--split train|test] [--home PATH]
                                [--keep] [--json] [--mode dense,hybrid,lexical]
                                [--first-chunk] [--exact] [--threads N]

DIR holds ``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl`` (``_id``,
``text``) and ``qrels/SPLIT.tsv`` (header ``query-id corpus-id score``).

The corpus goes into a text-only collection (the default all-MiniLM-L6-v2 text model) with
``_id`` as item id and ``title`` + " " + ``text`` as the embedded text (BEIR's convention);
every query of the qrels split is run with ``col.search(q, type="text", k=100, mode=M)``
for each ``--mode`` M (default ``dense``: the published figures are dense retrieval;
``hybrid``, semsearch's default, fuses BM25).

Metrics follow BEIR / pytrec_eval (trec_eval ``ndcg_cut``, ``recall``) and BEIR's MRR@k:
graded gain = qrel score, log2 discount, ideal DCG from the qrels; only queries in the qrels
file count; a hit whose id equals the query id is kept (no "ignore identical ids").

With ``--home`` the collection stays; running again with the same home reuses it (ingest is
incremental: an unchanged corpus file costs a stat). Without ``--home`` a temporary home is
used and removed at the end unless ``--keep``.

``--first-chunk`` adds a dense search restricted to each document's first chunk
(``where={"chunk": 0}``): the published protocol, documents truncated at the model's window.
``--exact`` adds diagnostics from the vectors the collection stored (not part of the public
API): brute-force rankings with numpy, (a) best chunk per document, as semsearch ranks but
without HNSW; (b) first chunk only; (c) the published protocol, each document embedded once
and truncated by the model at 256 word pieces. (a) vs the engine separates HNSW loss; (a) vs
(c) is the effect of chunking.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from semsearch import metrics
from semsearch.storage.ids import item_id

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

K_SEARCH = 100
METRICS = ("ndcg@10", "recall@10", "recall@100", "mrr@10")

Qrels = dict[str, dict[str, int]]
Run = dict[str, list[str]]  # query id -> document ids, best first


# data -----------------------------------------------------------------------------------------
def read_jsonl(path: Path) -> Iterable[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def read_qrels(path: Path) -> Qrels:
    qrels: Qrels = {}
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t")
        header = next(reader, None)
        if header is None:
            raise SystemExit(f"{path}: empty qrels file")
        if header[:2] != ["query-id", "corpus-id"]:  # no header: the first row is data
            f.seek(0)
            reader = csv.reader(f, delimiter="\t")
        for row in reader:
            if len(row) < 3:
                continue
            qrels.setdefault(row[0], {})[row[1]] = int(float(row[2]))
    return qrels


def doc_text(doc: dict[str, Any], fields: Sequence[str]) -> str:
    """The text semsearch's records source embeds: non-empty fields joined by a space."""
    return " ".join(str(doc[f]) for f in fields if doc.get(f) not in (None, "")).strip()


# metrics: semsearch.metrics (trec_eval semantics, checked against pytrec_eval in the tests)
def evaluate(qrels: Qrels, run: Run) -> dict[str, float]:
    """Means over the queries of the qrels (a query without results scores 0)."""
    scores = metrics.evaluate(qrels, run, METRICS)
    return {m: round(v, 5) for m, v in scores.items()}


# progress on stderr ---------------------------------------------------------------------------
class Status:
    """One status line on stderr: rewritten in place on a terminal, throttled lines otherwise."""

    def __init__(self, every: float = 15.0) -> None:
        self.tty = sys.stderr.isatty()
        self.every = every
        self.last = 0.0
        self.lock = threading.Lock()

    def show(self, msg: str, force: bool = False) -> None:
        with self.lock:
            now = time.monotonic()
            if self.tty:
                sys.stderr.write("\r\033[K" + msg)
            elif force or now - self.last >= self.every:
                sys.stderr.write(msg + "\n")
            else:
                return
            sys.stderr.flush()
            self.last = now

    def end(self, msg: str) -> None:
        with self.lock:
            sys.stderr.write(("\r\033[K" if self.tty else "") + msg + "\n")
            sys.stderr.flush()
            self.last = 0.0


class Heartbeat:
    """Elapsed time while a long call runs (ingest reports progress per file only)."""

    def __init__(self, status: Status, label: str, items: int = 0) -> None:
        self.status, self.label, self.items = status, label, items
        self.stage = "starting"
        self.started = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            elapsed = time.perf_counter() - self.started
            self.status.show(f"{self.label}: {self.stage} ... {elapsed:.0f}s")

    def event(self, ev: Any) -> None:  # an ingest progress callback
        if ev.stage == "scan":
            self.stage = f"scanned {ev.done} file(s)"
        elif ev.stage == "embed" and ev.total == 0:
            self.stage = "nothing to embed"
        elif ev.stage == "embed":
            of = f"/{self.items}" if self.items else ""
            self.stage = (f"file {min(ev.done + 1, ev.total)}/{ev.total}, "
                          f"{getattr(ev, 'items', 0)}{of} items written")
        elif ev.stage == "done":
            self.stage = "done"
        elapsed = time.perf_counter() - self.started
        self.status.show(f"{self.label}: {self.stage} ... {elapsed:.0f}s", force=True)


# exact (brute-force) diagnostics --------------------------------------------------------------
def stored_text_vectors(lib: Any, name: str) -> tuple[list[str], list[int], Any]:
    """Every vector of the collection's text space: (item ids, chunk indexes, matrix)."""
    import numpy as np

    ids: list[str] = []
    chunks: list[int] = []
    rows: list[Any] = []
    step = min(lib.store.max_batch, 5000)
    with lib.store.reading():
        for page in lib.store.scan(name, "text", page=step):
            for cid, meta, vec in zip(page.ids, page.metadatas, page.embeddings, strict=True):
                ids.append(item_id(cid, meta))
                chunks.append(int(meta.get("chunk", 0)))
                rows.append(vec)
    return ids, chunks, np.asarray(rows, dtype=np.float32)


def top_items(sims: Any, items: Sequence[str], k: int) -> list[list[str]]:
    """Per query row of ``sims`` (queries x documents), the k best document ids."""
    import numpy as np

    k = min(k, sims.shape[1])
    part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    out = []
    for row, cand in zip(sims, part, strict=True):
        order = cand[np.argsort(-row[cand], kind="stable")]
        out.append([items[j] for j in order])
    return out


def exact_diagnostics(
    lib: Any, col: Any, corpus: Path, fields: Sequence[str], qids: list[str],
    qtexts: list[str], qrels: Qrels, engine: Run | None, status: Status,
) -> dict[str, Any]:
    import numpy as np

    status.show("exact: reading stored vectors", force=True)
    ids, chunks, mat = stored_text_vectors(lib, col.name)
    embedder = col.text_embedder()
    qvec = embedder.embed_batch(qtexts)
    items = sorted(set(ids))
    index = {d: i for i, d in enumerate(items)}
    col_of = np.fromiter((index[d] for d in ids), dtype=np.int64, count=len(ids))
    sims = qvec @ mat.T  # queries x chunks, cosine (unit vectors)

    best = np.full((len(qids), len(items)), -np.inf, dtype=np.float32)
    np.maximum.at(best.T, col_of, sims.T)  # per item: its best chunk
    first_mask = np.asarray(chunks) == 0
    first = np.full_like(best, -np.inf)
    first[:, col_of[first_mask]] = sims[:, first_mask]

    n_chunks = np.bincount(col_of, minlength=len(items))
    long_items = {items[i] for i in np.flatnonzero(n_chunks > 1)}
    status.show(f"exact: embedding {len(long_items)} multi-chunk documents truncated at "
                f"{embedder.max_tokens + 2} word pieces", force=True)
    texts: dict[str, str] = {}
    for doc in read_jsonl(corpus):
        if str(doc["_id"]) in long_items:
            texts[str(doc["_id"])] = doc_text(doc, fields)
    order = sorted(texts)
    started = time.perf_counter()
    truncated_vecs = embedder.embed_batch([texts[d] for d in order]) if order else None
    trunc = first.copy()
    if truncated_vecs is not None:
        cols = np.asarray([index[d] for d in order])
        trunc[:, cols] = qvec @ truncated_vecs.T
    status.end(f"exact: embedded {len(order)} truncated documents in "
               f"{time.perf_counter() - started:.0f}s")

    runs = {
        "exact_best_chunk": top_items(best, items, K_SEARCH),
        "exact_first_chunk": top_items(first, items, K_SEARCH),
        "exact_truncated_256": top_items(trunc, items, K_SEARCH),
    }
    out: dict[str, Any] = {
        "documents": len(items),
        "chunks": len(ids),
        "multi_chunk_documents": len(long_items),
    }
    for name, ranked in runs.items():
        out[name] = evaluate(qrels, dict(zip(qids, ranked, strict=True)))
    if engine is None:  # no dense run to compare with
        return out
    exact = dict(zip(qids, runs["exact_best_chunk"], strict=True))
    same10 = sum(engine.get(q, [])[:10] == exact[q][:10] for q in qids)
    overlap100 = sum(len(set(engine.get(q, [])) & set(exact[q])) / max(1, len(exact[q]))
                     for q in qids)
    out["hnsw_vs_exact"] = {
        "same_top10": round(same10 / max(1, len(qids)), 4),
        "mean_overlap@100": round(overlap100 / max(1, len(qids)), 4),
    }
    return out


# main -----------------------------------------------------------------------------------------
def torch_threads() -> int | None:
    torch = sys.modules.get("torch")
    return int(torch.get_num_threads()) if torch is not None else None


def collection_name(folder: Path) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", folder.resolve().name).strip("-._") or "data"
    return f"beir-{base}"[:100]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", type=Path, help="BEIR dataset folder")
    ap.add_argument("--split", default="train", help="qrels split: train, test, dev (train)")
    ap.add_argument("--home", type=Path, help="semsearch home to use and keep (a temp dir if "
                    "not given); an existing collection built from the same corpus is reused")
    ap.add_argument("--keep", action="store_true", help="keep the temporary home")
    ap.add_argument("--json", action="store_true", help="also print one JSON line on stdout")
    ap.add_argument("--exact", action="store_true",
                    help="also rank by brute force over the stored vectors (diagnostics)")
    ap.add_argument("--mode", default="dense",
                    help="search mode(s), comma-separated: dense, hybrid, lexical (dense); "
                    "the first one is the headline figure")
    ap.add_argument("--first-chunk", action="store_true",
                    help="also search first chunks only (dense, where chunk=0): the published "
                    "protocol, documents truncated at the model's window")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch CPU threads (default: torch's own choice)")
    args = ap.parse_args(argv)

    folder: Path = args.dir.expanduser()
    corpus = folder / "corpus.jsonl"
    queries_file = folder / "queries.jsonl"
    qrels_file = folder / "qrels" / f"{args.split}.tsv"
    for need in (corpus, queries_file, qrels_file):
        if not need.is_file():
            have = sorted(p.stem for p in (folder / "qrels").glob("*.tsv"))
            extra = f" (qrels splits here: {', '.join(have) or 'none'})" if "qrels" in str(
                need) else ""
            print(f"error: {need} not found{extra}", file=sys.stderr)
            return 2

    import semsearch

    if args.threads > 0:
        import torch

        torch.set_num_threads(args.threads)
    modes = [m.strip() for m in args.mode.split(",") if m.strip()]
    bad = [m for m in modes if m not in ("dense", "hybrid", "lexical")]
    if bad or not modes:
        print(f"error: bad --mode {args.mode!r}; use dense, hybrid, lexical", file=sys.stderr)
        return 2
    fields = ["title", "text"]
    qrels = read_qrels(qrels_file)
    queries = {str(q["_id"]): str(q.get("text", "")) for q in read_jsonl(queries_file)}
    missing = [q for q in qrels if q not in queries]
    if missing:
        print(f"warning: {len(missing)} qrels queries are not in queries.jsonl; they score 0",
              file=sys.stderr)
    qids = [q for q in qrels if q in queries]

    temp = args.home is None
    home = Path(tempfile.mkdtemp(prefix="semsearch-beir-")) if temp else args.home.expanduser()
    name = collection_name(folder)
    status = Status()
    result: dict[str, Any] = {}
    try:
        with semsearch.open(home=home) as lib:
            col = lib.collection(name, clip_model="none")
            reused = col.exists
            skipped: list[str] = []
            started = time.perf_counter()
            with corpus.open("rb") as f:
                n_docs = sum(1 for line in f if line.strip())
            with Heartbeat(status, f"ingest {corpus.name}", n_docs) as beat:
                summary = col.ingest(
                    [corpus], id_field="_id", text_fields=fields,
                    on_skip=lambda path, why: skipped.append(f"{path}: {why}"),
                    progress=beat.event,
                )
            ingest_s = time.perf_counter() - started
            status.end(f"ingest: {summary.line()}; {ingest_s:.1f}s wall")
            for line in skipped[:5]:
                print(f"warning: skipped {line}", file=sys.stderr)
            info = col.info()
            if info.files != 1:
                print(f"warning: collection {name!r} in {home} holds {info.files} files, "
                      "not just this corpus; scores may be off", file=sys.stderr)

            started = time.perf_counter()
            col.text_embedder()  # load the model outside the timed query loop
            load_s = time.perf_counter() - started

            runs: dict[str, Run] = {}
            rates: dict[str, float] = {}
            searches = [(m, m, None) for m in modes]
            if args.first_chunk:
                searches.append(("first_chunk", "dense", {"chunk": 0}))
            for label, mode, where in searches:
                run: Run = {}
                started = time.perf_counter()
                for n, qid in enumerate(qids, start=1):
                    hits = col.search(queries[qid], type="text", k=K_SEARCH, mode=mode,
                                      where=where)
                    run[qid] = [h.id for h in hits]  # engine order (scores are rounded)
                    if n % 25 == 0 or n == len(qids):
                        rate = n / max(1e-9, time.perf_counter() - started)
                        status.show(f"queries ({label}): {n}/{len(qids)} ({rate:.1f}/s)")
                query_s = time.perf_counter() - started
                rates[label] = len(qids) / max(1e-9, query_s)
                runs[label] = run
                status.end(f"queries ({label}): {len(qids)} in {query_s:.1f}s "
                           f"({rates[label]:.1f}/s)")
            run = runs[modes[0]]
            qps = rates[modes[0]]

            scores = evaluate(qrels, run)
            result = {
                "dataset": folder.resolve().name,
                "split": args.split,
                "mode": modes[0],
                "queries": len(qrels),
                "documents": info.counts.get("text", 0),
                "model": col.models.text_model,
                **scores,
                "ingest_seconds": round(ingest_s, 1),
                "ingest_reused": reused and summary.items == 0,
                "ingest_items_embedded": summary.items,
                "model_load_seconds": round(load_s, 1),
                "queries_per_second": round(qps, 1),
                "torch_threads": torch_threads(),
                "home": str(home),
            }
            result["runs"] = {
                label: {**evaluate(qrels, r), "queries_per_second": round(rates[label], 1)}
                for label, r in runs.items()
            }
            if args.exact:
                qtexts = [queries[q] for q in qids]
                result["exact"] = exact_diagnostics(
                    lib, col, corpus, fields, qids, qtexts, qrels, runs.get("dense"), status)
    finally:
        if temp and not args.keep:
            shutil.rmtree(home, ignore_errors=True)
        elif temp:
            print(f"kept home: {home}", file=sys.stderr)

    print_table(result)
    if args.json:
        print(json.dumps(result, sort_keys=False))
    return 0


def print_table(r: dict[str, Any]) -> None:
    title = (f"{r['dataset']} ({r['split']}, {r['queries']} queries, {r['documents']} docs, "
             f"{r['model']})")
    labels = {"dense": "semsearch dense (HNSW, best chunk)",
              "hybrid": "semsearch hybrid (dense + BM25 share bonus)",
              "lexical": "semsearch lexical (BM25)",
              "first_chunk": "semsearch dense, where chunk=0"}
    rows = [(labels[k], v) for k, v in r["runs"].items()]
    for key, label in (("exact_best_chunk", "exact, best chunk"),
                       ("exact_first_chunk", "exact, first chunk only"),
                       ("exact_truncated_256", "exact, truncated at 256 (published)")):
        if "exact" in r:
            rows.append((label, r["exact"][key]))
    width = max(len(label) for label, _ in rows)
    print(title)
    print(f"{'':{width}}  " + "  ".join(f"{m:>10}" for m in METRICS) + "     q/s")
    for label, s in rows:
        qps = f"{s['queries_per_second']:>8.1f}" if "queries_per_second" in s else ""
        print(f"{label:{width}}  " + "  ".join(f"{s[m]:>10.4f}" for m in METRICS) + qps)
    how = "reused, nothing embedded" if r["ingest_reused"] else (
        f"{r['ingest_items_embedded']} items embedded")
    print(f"ingest {r['ingest_seconds']:.1f}s ({how}); "
          f"queries ({r['mode']}) {r['queries_per_second']:.1f}/s (k={K_SEARCH}); "
          f"model load {r['model_load_seconds']:.1f}s; torch threads {r['torch_threads']}")
    if "exact" in r:
        e = r["exact"]
        line = (f"{e['chunks']} chunks for {e['documents']} docs "
                f"({e['multi_chunk_documents']} docs longer than one window)")
        if "hnsw_vs_exact" in e:
            h = e["hnsw_vs_exact"]
            line += (f"; dense HNSW vs exact: same top-10 for {h['same_top10']:.1%} of "
                     f"queries, top-100 overlap {h['mean_overlap@100']:.1%}")
        print(line)


if __name__ == "__main__":
    sys.exit(main())

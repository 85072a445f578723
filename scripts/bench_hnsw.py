"""HNSW parameters of the vector store, chosen by measurement.

Builds a constructed collection (default 50,000 unit vectors of 384 dimensions, MiniLM's
size, drawn around 2,000 random centres with noise nearly as large as the centres, so that
clusters overlap and the ten nearest neighbours straddle several of them, as text
embeddings' do) in an embedded Chroma, once per ``max_neighbors`` (M), and for each
``ef_search`` measures recall@10 against brute force (numpy, exact) and the query p50/p95
over the same queries (held-out points of the same distribution). Prints one row per
setting. ``ef_search`` changed with ``modify`` takes effect when the collection is reopened.

    python scripts/bench_hnsw.py --n 50000 --queries 200 --m 16,32 --ef 32,64,128,256
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time

import numpy as np


def data(n: int, queries: int, dim: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(2_000, dim)).astype(np.float32)
    def draw(k: int) -> np.ndarray:
        x = centres[rng.integers(0, len(centres), k)] + 0.8 * rng.normal(size=(k, dim))
        x = x.astype(np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)
    return draw(n), draw(queries)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--m", default="16,32")
    ap.add_argument("--ef", default="32,64,128,256")
    ap.add_argument("--ef-construction", type=int, default=200)
    args = ap.parse_args()
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb

    base, qs = data(args.n, args.queries, args.dim)
    exact = np.argsort(-(qs @ base.T), axis=1)[:, :10]
    truth = [set(map(str, row)) for row in exact]
    print(f"{args.n} vectors of {args.dim} dims, {args.queries} queries, k=10, "
          f"ef_construction={args.ef_construction}; recall@10 against brute force")
    print(f"{'M':>4} {'ef_search':>9} {'recall@10':>9} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'build s':>8}")
    for m in map(int, args.m.split(",")):
        root = tempfile.mkdtemp(prefix="semsearch-hnsw-")
        try:
            client = chromadb.PersistentClient(path=root)
            col = client.create_collection("bench", embedding_function=None, configuration={
                "hnsw": {"space": "cosine", "max_neighbors": m,
                         "ef_construction": args.ef_construction, "ef_search": 10}})
            t0 = time.perf_counter()
            step = client.get_max_batch_size()
            for i in range(0, args.n, step):
                part = base[i: i + step]
                col.add(ids=[str(j) for j in range(i, i + len(part))], embeddings=part)
            build = time.perf_counter() - t0
            col.query(query_embeddings=qs[:1], n_results=10, include=[])  # load the index
            for ef in map(int, args.ef.split(",")):
                col.modify(configuration={"hnsw": {"ef_search": ef}})
                client.clear_system_cache()  # reopen: the loaded index keeps its ef_search
                client = chromadb.PersistentClient(path=root)
                col = client.get_collection("bench", embedding_function=None)
                col.query(query_embeddings=qs[:1], n_results=10, include=[])
                times, hits = [], 0
                for q, want in zip(qs, truth, strict=True):
                    t = time.perf_counter()
                    got = col.query(query_embeddings=[q], n_results=10, include=[])["ids"][0]
                    times.append((time.perf_counter() - t) * 1000)
                    hits += len(want & set(got))
                times.sort()
                p95 = times[int(0.95 * (len(times) - 1))]
                print(f"{m:>4} {ef:>9} {hits / (10 * len(qs)):>9.3f} "
                      f"{statistics.median(times):>7.2f} {p95:>7.2f} {build:>8.1f}", flush=True)
        finally:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""What a map costs: time, peak memory and neighbourhood preservation per method and size.

    python scripts/bench_map.py [--sizes 10000,100000] [--methods umap,tsne,pca]

Data: constructed vectors, not a real collection: N unit vectors of dimension 384 around 50
random centres (Gaussian noise of 1.2 per dimension around each centre, normalised), so there
is cluster structure to keep. Each (size, method) runs in a fresh process (so peak RSS is its
own, and UMAP's just-in-time compilation is paid as a user's ``semsearch map`` pays it) and
times the map's work from vectors in memory: PCA to 50 dimensions, the 2-D layout (UMAP and
t-SNE lay out 10,000 landmarks and place the rest), the clusters (UMAP to 5-d and HDBSCAN on
a sample of 4,000, the rest by kNN vote). Reading the vectors from the store is not included.
The "load" column is the 1-minute load average when the row ended: on this shared 2-core
machine other processes take CPU, so the times are upper bounds.

Trustworthiness@10 (scikit-learn) is computed on a random subsample of 2,000 points (its
cost is quadratic): how many of each point's 10 nearest neighbours on the map are among its
nearest in the original 384-d space (1.0: all).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

DIM = 384
CENTRES = 50
NOISE = 1.2
TRUST_SAMPLE = 2000
TARGET_S = 120.0


def vectors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(CENTRES, DIM)).astype(np.float32)
    which = rng.integers(0, CENTRES, n)
    x = centres[which] + rng.normal(scale=NOISE, size=(n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def one(n: int, method: str) -> dict[str, float]:
    """One measurement, in this process."""
    from sklearn.manifold import trustworthiness

    from semsearch.mapping.clusters import find_clusters
    from semsearch.mapping.layout import fit_basis, project

    x = vectors(n)
    start = time.perf_counter()
    basis = fit_basis(x)
    reduced = basis.reduce(x)
    coords = project(reduced, method)
    laid = time.perf_counter()
    found = find_clusters(reduced, x)
    done = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    pick = np.random.default_rng(1).choice(n, min(TRUST_SAMPLE, n), replace=False)
    trust = trustworthiness(x[pick], coords[pick], n_neighbors=10)
    return {"n": n, "method": method, "layout_s": laid - start, "clusters_s": done - laid,
            "total_s": done - start, "peak_mb": peak, "trust10": float(trust),
            "clusters": found.count}


def load() -> str:
    return ", ".join(f"{v:.1f}" for v in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--methods", default="umap,tsne,pca")
    ap.add_argument("--one", nargs=2, metavar=("N", "METHOD"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(int(args.one[0]), args.one[1])))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    methods = args.methods.split(",")
    print(f"constructed data: unit vectors of dim {DIM} around {CENTRES} centres "
          f"(noise {NOISE}); trustworthiness@10 on a subsample of {TRUST_SAMPLE} points; "
          f"each row a fresh process; {os.cpu_count()} CPUs (shared: figures may be under "
          "load)", flush=True)
    print(f"load average at the start (1, 5, 15 min): {load()}; other processes share the "
          "CPU, so times are upper bounds", flush=True)
    print(f"{'items':>7}  {'method':<6} {'layout s':>9} {'clusters s':>10} {'total s':>8} "
          f"{'peak RSS MB':>11} {'trust@10':>8} {'clusters':>8}  {'load':>5}", flush=True)
    slow = []
    for n in sizes:
        for method in methods:
            got = subprocess.run([sys.executable, __file__, "--one", str(n), method],
                                 capture_output=True, text=True)
            if got.returncode != 0:
                print(f"{n:>7}  {method:<6} failed: {got.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(got.stdout.strip().splitlines()[-1])
            print(f"{n:>7}  {method:<6} {r['layout_s']:>9.1f} {r['clusters_s']:>10.1f} "
                  f"{r['total_s']:>8.1f} {r['peak_mb']:>11.0f} {r['trust10']:>8.3f} "
                  f"{r['clusters']:>8}  {os.getloadavg()[0]:>5.1f}", flush=True)
            if n >= 100_000 and r["total_s"] > TARGET_S:
                slow.append(f"{method} at {n}: {r['total_s']:.0f} s")
    print(f"load average at the end: {load()}", flush=True)
    if slow:
        print(f"over the {TARGET_S:.0f} s target for 100k items: {'; '.join(slow)}")


if __name__ == "__main__":
    main()

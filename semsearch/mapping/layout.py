"""From item vectors to 2-D: PCA to :data:`PCA_DIMS` dimensions first (cheap, and it keeps
the structure the neighbour methods need), then UMAP, t-SNE, or the first two principal
components.

New points (items added since a cached layout, and queries) are placed by the documented
approximation every method shares: the similarity-weighted mean of the 2-D positions of
their :data:`PLACE_K` nearest mapped items (cosine, in the original space). PCA places them
exactly (its projection)."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .extras import need

PCA_DIMS = 50
BASIS_SAMPLE = 20_000
PLACE_K = 10
#: below this many items UMAP and t-SNE have too few neighbours to mean anything: PCA is used
FEW = 8
SEED = 42
#: UMAP and t-SNE lay out at most this many items; the others are placed among them
LANDMARKS = 10_000
#: from this many points UMAP runs fewer optimisation rounds (:func:`epochs`)
MANY = 2_000


@dataclass
class Basis:
    """A PCA basis: ``(v - mean) @ components.T`` reduces a vector."""

    mean: np.ndarray
    components: np.ndarray

    def reduce(self, vectors: np.ndarray) -> np.ndarray:
        return np.asarray((vectors - self.mean) @ self.components.T, dtype=np.float32)


def fit_basis(vectors: np.ndarray, dims: int = PCA_DIMS) -> Basis:
    """The top principal components (randomised SVD on large inputs), fitted on at most
    :data:`BASIS_SAMPLE` of the vectors (a random sample: the components barely move, the
    fit costs a fifth at 100,000)."""
    n, d = vectors.shape
    k = max(1, min(dims, n - 1, d))
    if n < 2:
        return Basis(np.zeros(d, np.float32), np.eye(min(2, d), d, dtype=np.float32))
    decomposition = need("sklearn.decomposition", "scikit-learn")
    pca = decomposition.PCA(n_components=k, random_state=SEED,
                            svd_solver="randomized" if n > 2000 and k < d // 2 else "full")
    if n > BASIS_SAMPLE:
        vectors = vectors[np.random.default_rng(SEED).choice(n, BASIS_SAMPLE, replace=False)]
    pca.fit(vectors)
    return Basis(pca.mean_.astype(np.float32), pca.components_.astype(np.float32))


def numba_cache() -> Path:
    """Where numba keeps what it compiled (umap's ``cache=True`` functions), so a second
    process does not compile them again: ``$SEMSEARCH_CACHE/numba``, else
    ``~/.cache/semsearch/numba`` (``$XDG_CACHE_HOME`` when set)."""
    own = os.environ.get("SEMSEARCH_CACHE")
    base = Path(own) if own else \
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "semsearch"
    return base / "numba"


def umap_module() -> Any:
    """``import umap``, with numba's cache in :func:`numba_cache` (unless NUMBA_CACHE_DIR is
    set already) and on for every compiled function of umap and pynndescent, not only those
    marked ``cache=True``: a second process then loads what the first compiled (measured: the
    import 47 s -> 4 s, the first fit 19 s -> 4 s); an install hint when it is missing."""
    cached = "NUMBA_CACHE_DIR" in os.environ
    if not cached:
        folder = numba_cache()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            os.environ["NUMBA_CACHE_DIR"] = str(folder)
            cached = True
        except OSError:
            pass  # not writable: numba compiles in memory, as without a cache
    umap = need("umap", "umap-learn")
    if cached:
        _cache_all(("umap", "pynndescent"))
    return umap


def _cache_all(packages: tuple[str, ...]) -> None:
    """Turn numba's on-disk cache on for the compiled functions of ``packages``' modules."""
    try:
        from numba.core.registry import CPUDispatcher
    except ImportError:  # pragma: no cover
        return
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in packages:
            continue
        for obj in list(vars(module).values()):
            if isinstance(obj, CPUDispatcher):
                # one that cannot be cached is compiled anew, as without a cache
                with contextlib.suppress(Exception):
                    obj.enable_caching()


def _scaled(coords: np.ndarray) -> np.ndarray:
    """Centred, spread over about [-10, 10] (the methods' own scales differ)."""
    coords = coords - coords.mean(axis=0) if len(coords) else coords
    spread = float(np.abs(coords).max()) if coords.size else 0.0
    return np.asarray(coords * (10.0 / spread) if spread > 0 else coords, dtype=np.float32)


def project(reduced: np.ndarray, method: str, landmarks: int = LANDMARKS) -> np.ndarray:
    """2-D coordinates of PCA-reduced vectors by ``method`` (umap, tsne or pca).

    UMAP and t-SNE lay out at most ``landmarks`` items (a random sample); the others are
    placed among them by :func:`place` (cosine in the PCA space; what keeps a 100,000-item
    map within two minutes on two cores; see ``scripts/bench_map.py`` for what it costs in
    trustworthiness)."""
    n = len(reduced)
    if n == 0:
        return np.zeros((0, 2), np.float32)
    if method != "pca" and n > landmarks:
        rng = np.random.default_rng(SEED)
        sample = np.sort(rng.choice(n, landmarks, replace=False))
        rest = np.setdiff1d(np.arange(n), sample)
        coords = np.zeros((n, 2), np.float32)
        coords[sample] = project(reduced[sample], method)
        # by cosine in the PCA space: a seventh of the products of the full vectors
        unit = reduced / np.maximum(np.linalg.norm(reduced, axis=1, keepdims=True), 1e-12)
        coords[rest] = place(unit[rest], unit[sample], coords[sample])
        return coords
    if method == "pca" or n < FEW:
        out = np.zeros((n, 2), np.float32)
        out[:, : min(2, reduced.shape[1])] = reduced[:, :2]
        return _scaled(out)
    if method == "umap":
        umap = umap_module()
        k = min(15, n - 1)
        # exact neighbours (a matrix product): faster here than umap's approximate search,
        # whose just-in-time compilation alone costs about a minute per process
        graph = knn_graph(reduced, k)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # n_jobs overridden by random_state, etc.
            model = umap.UMAP(n_neighbors=k, min_dist=0.1, random_state=SEED,
                              n_epochs=epochs(n), low_memory=True,
                              init="spectral" if n > 50 else "random", precomputed_knn=graph)
            return _scaled(np.asarray(model.fit_transform(reduced)))
    if method == "tsne":
        manifold = need("sklearn.manifold", "scikit-learn")
        model = manifold.TSNE(n_components=2, perplexity=min(30.0, (n - 1) / 3.0),
                              init="pca", random_state=SEED)
        return _scaled(np.asarray(model.fit_transform(reduced)))
    raise ValueError(f"unknown method {method!r}")


def epochs(n: int) -> int | None:
    """UMAP's optimisation rounds: its own default (500) for a small map, 200 from
    :data:`MANY` points (umap's own default is 200 only above 10,000; measured by
    ``scripts/bench_map.py``: the same trustworthiness in under half the time)."""
    return 200 if n >= MANY else None


def knn_graph(points: np.ndarray, k: int, block: int = 1024
              ) -> tuple[np.ndarray, np.ndarray]:
    """Each point's ``k`` nearest points (itself first) by Euclidean distance, exactly, in
    blocks (bounded memory): (indices, distances), as umap's ``precomputed_knn`` takes them.
    torch (a dependency already) does the products and the top-k fast; numpy otherwise."""
    n = len(points)
    idx = np.zeros((n, k), dtype=np.int64)
    dist = np.zeros((n, k), dtype=np.float32)
    torch = _torch()
    sq = (points.astype(np.float32) ** 2).sum(axis=1)
    for start in range(0, n, block):
        part = points[start: start + block].astype(np.float32)
        if torch is not None:
            with torch.no_grad():
                d = (torch.from_numpy(sq[start: start + block])[:, None]
                     + torch.from_numpy(sq)[None, :]
                     - 2.0 * torch.from_numpy(part) @ torch.from_numpy(points.T.copy()))
                values, top = torch.topk(d, k, dim=1, largest=False)
                near, d2 = top.numpy(), values.numpy()
        else:
            full = sq[start: start + block, None] + sq[None, :] - 2.0 * part @ points.T
            cut = np.argpartition(full, k - 1, axis=1)[:, :k]
            d2 = np.take_along_axis(full, cut, axis=1)
            order = np.argsort(d2, axis=1)
            near, d2 = np.take_along_axis(cut, order, axis=1), np.take_along_axis(d2, order, 1)
        idx[start: start + len(part)] = near
        dist[start: start + len(part)] = np.sqrt(np.maximum(d2, 0.0))
    rows = np.arange(n)
    # a point is its own nearest (ties among duplicates may say otherwise): make it so
    self_first = idx[:, 0] == rows
    idx[~self_first, 0] = rows[~self_first]
    dist[:, 0] = 0.0
    return idx, dist


def _torch() -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return None
    return torch


def neighbours(vectors: np.ndarray, against: np.ndarray, k: int,
               block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``vectors``, its ``k`` most similar rows of ``against`` (unit
    vectors: cosine) as (indices, similarities), best first; in float32 blocks (bounded
    memory), the products and the top ``k`` by torch when it is there (several times faster
    than numpy's partition on two cores)."""
    k = max(1, min(k, len(against)))
    idx = np.zeros((len(vectors), k), dtype=np.int64)
    sims = np.zeros((len(vectors), k), dtype=np.float32)
    against = np.ascontiguousarray(against, dtype=np.float32)
    torch = _torch()
    for start in range(0, len(vectors), block):
        rows = np.ascontiguousarray(vectors[start: start + block], dtype=np.float32)
        if torch is not None:
            with torch.no_grad():
                values, top = torch.topk(torch.from_numpy(rows) @ torch.from_numpy(against).T,
                                         k, dim=1)
            idx[start: start + len(rows)] = top.numpy()
            sims[start: start + len(rows)] = values.numpy()
            continue
        s = rows @ against.T
        top = np.argpartition(-s, k - 1, axis=1)[:, :k] if k < s.shape[1] else \
            np.tile(np.arange(s.shape[1]), (len(s), 1))
        part = np.take_along_axis(s, top, axis=1)
        order = np.argsort(-part, axis=1)
        idx[start: start + len(s)] = np.take_along_axis(top, order, axis=1)
        sims[start: start + len(s)] = np.take_along_axis(part, order, axis=1)
    return idx, sims


def place(vectors: np.ndarray, mapped: np.ndarray, coords: np.ndarray,
          k: int = PLACE_K, sharpness: float = 20.0) -> np.ndarray:
    """2-D positions for new unit vectors: the similarity-weighted mean of the positions of
    their ``k`` nearest ``mapped`` vectors (weights ``exp(sharpness * (sim - best))``, so the
    nearest count most and a query sits amid the items it resembles)."""
    if len(vectors) == 0 or len(mapped) == 0:
        return np.zeros((len(vectors), 2), np.float32)
    idx, sims = neighbours(vectors, mapped, k)
    w = np.exp(sharpness * (sims - sims[:, :1]))
    w /= w.sum(axis=1, keepdims=True)
    return np.asarray((coords[idx] * w[:, :, None]).sum(axis=1), dtype=np.float32)

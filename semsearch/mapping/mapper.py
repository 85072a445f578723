"""Making a map: read the items of one space, lay them out (or update the cached layout),
find and name the clusters, place the queries. :meth:`semsearch.Collection.map` is the
facade; this is the work."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError
from ..search.filters import and_where, parse_where
from ..search.resolve import Resolver
from ..types import ProgressEvent
from . import cache
from .clusters import cluster_label, ctfidf_terms, find_clusters, representative
from .items import Items, read_items
from .layout import Basis, fit_basis, neighbours, place, project
from .points import METHODS, Map, MapCluster, MapPoint, QueryPoint

if TYPE_CHECKING:
    from ..models.registry import ModelRegistry
    from ..storage.data_dir import DataDir
    from ..types import ModelSpec

HITS = 10
COLOR_BY = ("cluster", "modality")


@dataclass
class MapRequest:
    space: str | None = None  # None: clip when the collection holds images, else text
    method: str = "umap"
    where: Any = None
    type: str = "any"
    queries: Sequence[str] = ()
    images: Sequence[str] = ()
    color_by: str = "cluster"
    refresh: bool = False
    hits: int = HITS
    extra: dict[str, Any] = field(default_factory=dict)


class Mapper:
    def __init__(self, data: DataDir, models: ModelRegistry, name: str, spec: ModelSpec,
                 on_progress: Callable[[ProgressEvent], None] | None = None) -> None:
        self.data = data
        self.models = models
        self.name = name
        self.spec = spec
        self.on_progress = on_progress

    def _tick(self, stage: str, done: int = 0, total: int = 0) -> None:
        if self.on_progress:
            self.on_progress(ProgressEvent(stage, done, total))

    def space_for(self, request: MapRequest) -> str:
        if request.space is not None:
            if request.space not in ("text", "clip"):
                raise ConfigError(f"bad space {request.space!r}; use text or clip")
            if request.space == "clip" and self.spec.clip_model is None:
                raise ConfigError(f"collection {self.name!r} has no CLIP space (built "
                                  "without a CLIP model); use --space text")
            return request.space
        if request.images:
            return "clip"
        images = self.data.item_counts(self.name).get("image", 0)
        wants_images = request.type == "image" or (request.type == "any" and images)
        return "clip" if wants_images and self.spec.clip_model is not None else "text"

    def check(self, request: MapRequest) -> None:
        if request.method not in METHODS:
            raise ConfigError(f"bad method {request.method!r}; use {', '.join(METHODS)}")
        if request.type not in ("any", "image", "text"):
            raise ConfigError(f"bad type {request.type!r}; use any, image or text")
        if request.hits < 1:
            raise ConfigError("hits must be at least 1")

    def run(self, request: MapRequest) -> Map:
        started = time.monotonic()
        self.check(request)
        space = self.space_for(request)
        if space == "text" and request.type == "image":
            raise ConfigError("images have no vectors in the text space; use --space clip")
        if space == "text" and request.images:
            raise ConfigError("an image query needs the clip space; use --space clip")
        modality = {"modality": request.type} if request.type != "any" else None
        where = and_where(modality, parse_where(request.where))
        color_field = None if request.color_by in COLOR_BY else request.color_by
        total = self.data.store.count(self.name, space)
        items = read_items(self.data.store, self.name, space, where, color_field,
                           self.on_progress, total)
        if len(items) == 0:
            raise ConfigError(f"nothing to map in collection {self.name!r} ({space} space"
                              f"{', with these filters' if where else ''})")
        path = cache.cache_path(self.data.home, self.name, space, request.method, where)
        coords, basis, how = self._layout(items, request, path)
        self._tick("clusters", 0, 1)
        found = find_clusters(basis.reduce(items.vectors), items.vectors)
        self._tick("labels", 0, 1)
        clusters = self._clusters(items, coords, found.labels, found.count)
        names = {c.id: c.label for c in clusters}
        points = [MapPoint(iid, float(x), float(y), int(c), names.get(int(c), ""), mod, p, s,
                           v if color_field else (mod if request.color_by == "modality"
                                                  else None))
                  for iid, (x, y), c, mod, p, s, v in zip(
                      items.ids, coords, found.labels, items.modality, items.paths,
                      items.snippets, items.values, strict=True)]
        queries = self._queries(request, space, items, coords, basis)
        return Map(self.name, space, request.method, points, clusters, queries,
                   request.color_by, how, time.monotonic() - started)

    # layout --------------------------------------------------------------------------------
    def _layout(self, items: Items, request: MapRequest, path: Path
                ) -> tuple[np.ndarray, Basis, str]:
        sums = cache.checksums(items.vectors)
        old = None if request.refresh else cache.load(path)
        if old is not None and old.mean.shape[0] == items.vectors.shape[1]:
            basis = Basis(old.mean, old.components)
            known = {iid: n for n, iid in enumerate(old.ids)}
            keep = np.array([known.get(i, -1) for i in items.ids], dtype=np.int64)
            same = (keep >= 0) & (np.abs(old.sums[np.maximum(keep, 0)] - sums) < 1e-4)
            fresh = int((~same).sum())
            if fresh <= cache.REDO_SHARE * len(items) and same.any():
                coords = np.zeros((len(items), 2), np.float32)
                coords[same] = old.coords[keep[same]]
                if fresh:
                    self._tick("place", 0, fresh)
                    if request.method == "pca":
                        exact = _pca_fit(basis, items.vectors[same], coords[same])
                        coords[~same] = exact(basis.reduce(items.vectors[~same])[:, :2])
                    else:
                        coords[~same] = place(items.vectors[~same], items.vectors[same],
                                              coords[same])
                    cache.save(path, cache.Layout(items.ids, coords, sums, basis.mean,
                                                  basis.components))
                return coords, basis, f"cached, {fresh} placed" if fresh else "cached"
        self._tick("layout", 0, len(items))
        basis = fit_basis(items.vectors)
        coords = project(basis.reduce(items.vectors), request.method)
        cache.save(path, cache.Layout(items.ids, coords, sums, basis.mean, basis.components))
        return coords, basis, "computed"

    # clusters ------------------------------------------------------------------------------
    def _clusters(self, items: Items, coords: np.ndarray, labels: np.ndarray,
                  count: int) -> list[MapCluster]:
        terms = ctfidf_terms(items, labels, count)
        out = []
        for c in range(count):
            members = np.flatnonzero(labels == c)
            mods = [items.modality[i] for i in members]
            rep = representative(items.vectors, members)
            centre = np.median(coords[members], axis=0)
            out.append(MapCluster(c, cluster_label(terms[c], mods), len(members), terms[c],
                                  float(centre[0]), float(centre[1]), items.ids[rep]))
        return out

    # queries -------------------------------------------------------------------------------
    def _queries(self, request: MapRequest, space: str, items: Items, coords: np.ndarray,
                 basis: Basis) -> list[QueryPoint]:
        asked = [(q, "text") for q in request.queries] + [(i, "image") for i in request.images]
        if not asked:
            return []
        self._tick("queries", 0, len(asked))
        resolver = Resolver(self.data, self.models, self.name, self.spec)
        examples = [resolver.resolve(q, kind="text" if kind == "text" else "image")[0]
                    for q, kind in asked]
        vectors = resolver.vectors(examples, space)
        out = []
        for (q, kind), vec in zip(asked, vectors, strict=True):
            if vec is None:
                raise ConfigError(f"cannot place {q!r} in the {space} space")
            unit = np.asarray(vec, dtype=np.float32)[None, :]
            idx, _ = neighbours(unit, items.vectors, request.hits)
            if request.method == "pca":
                xy = _pca_fit(basis, items.vectors, coords)(basis.reduce(unit)[:, :2])[0]
            else:
                xy = place(unit, items.vectors, coords)[0]
            out.append(QueryPoint(str(q), kind, float(xy[0]), float(xy[1]),  # type: ignore[arg-type]
                                  [items.ids[i] for i in idx[0]]))
        return out


def _pca_fit(basis: Basis, vectors: np.ndarray, coords: np.ndarray
             ) -> Callable[[np.ndarray], np.ndarray]:
    """PCA places points exactly: the affine map (least squares) from the first two PCA
    coordinates of mapped vectors to their positions on the map (which are those, scaled)."""
    reduced = basis.reduce(vectors)[:, :2]
    a = np.hstack([reduced, np.ones((len(reduced), 1), np.float32)])
    m, *_ = np.linalg.lstsq(a, coords, rcond=None)
    return lambda r: np.hstack([r, np.ones((len(r), 1), np.float32)]) @ m

"""Typed values of a map: its points, clusters and placed queries (what ``col.map()``
returns, what the renderers draw and what ``--json`` prints)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Method = Literal["umap", "tsne", "pca"]
METHODS: tuple[str, ...] = ("umap", "tsne", "pca")
#: chosen by scripts/bench_map.py: the best trustworthiness@10 within the time target
DEFAULT_METHOD: Method = "umap"
NOISE = -1  # the cluster of points HDBSCAN leaves unclustered


@dataclass
class MapPoint:
    """One item on the map."""

    id: str
    x: float
    y: float
    cluster: int  # -1: in no cluster
    label: str  # its cluster's label ("" for none)
    modality: str = "text"
    path: str | None = None
    snippet: str = ""  # the start of its text, or its file name for an image
    value: Any = None  # the metadata field the map is coloured by, when one is asked for

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MapCluster:
    """A group of nearby items, named by its most distinctive terms (or "N images")."""

    id: int
    label: str
    size: int
    terms: list[str] = field(default_factory=list)
    x: float = 0.0  # where its label goes: the median of its points
    y: float = 0.0
    #: a representative item: the one nearest the cluster's mean vector
    representative: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class QueryPoint:
    """A query placed on the map, with its nearest items in the map's space."""

    query: str
    kind: Literal["text", "image"]
    x: float
    y: float
    hits: list[str] = field(default_factory=list)  # item ids, best first

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Map:
    """A 2-D map of a collection's items in one space."""

    collection: str
    space: str
    method: str
    points: list[MapPoint]
    clusters: list[MapCluster]
    queries: list[QueryPoint] = field(default_factory=list)
    color_by: str = "cluster"
    #: how the layout was had: "computed", "cached", or "cached+N placed"
    layout: str = "computed"
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def cluster(self, cid: int) -> MapCluster | None:
        return next((c for c in self.clusters if c.id == cid), None)

    def members(self, cid: int) -> list[MapPoint]:
        return [p for p in self.points if p.cluster == cid]

    def to_dict(self) -> dict[str, Any]:
        return {
            "collection": self.collection, "space": self.space, "method": self.method,
            "color_by": self.color_by, "layout": self.layout,
            "points": [p.to_dict() for p in self.points],
            "clusters": [c.to_dict() for c in self.clusters],
            "queries": [q.to_dict() for q in self.queries],
        }

    def line(self, written: str | None = None) -> str:
        """``sample: 23 items, 3 clusters (umap, text space, computed in 4.1s), written F``"""
        n, k = len(self.points), len(self.clusters)
        head = (f"{self.collection}: {n} {'item' if n == 1 else 'items'}, {k} "
                f"{'cluster' if k == 1 else 'clusters'} ({self.method}, {self.space} space, "
                f"{self.layout} in {self.seconds:.1f}s)")
        return head + (f", written {written}" if written else "")

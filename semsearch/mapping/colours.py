"""What a point is coloured by: its cluster, its modality, or a metadata field (numbers on a
continuous scale, anything else as categories), shared by the HTML page and the picture."""

from __future__ import annotations

from dataclasses import dataclass

from .points import NOISE, Map, MapPoint

#: a qualitative palette (Tableau 10, then its lighter half) for clusters and categories
PALETTE = (
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#a0cbe8", "#ffbe7d", "#ff9d9a", "#86bcb6", "#8cd17d", "#f1ce63",
    "#d4a6c8", "#fabfd2", "#d7b5a6", "#79706e",
)
GREY = "#c8c8c8"
QUERY = "#d62728"
HIT = "#111111"


@dataclass
class Group:
    """Points drawn together, with one legend entry."""

    name: str
    colour: str
    points: list[MapPoint]


def numeric(m: Map) -> bool:
    """Whether the map is coloured by a field whose values are all numbers."""
    values = [p.value for p in m.points if p.value is not None]
    return bool(values) and m.color_by not in ("cluster", "modality") and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def groups(m: Map) -> list[Group]:
    """The legend: one group per cluster (largest first, unclustered last), per modality,
    or per value of the field (the most common first, the rest as "other")."""
    if m.color_by == "cluster":
        out = [Group(f"{c.id}: {c.label}", PALETTE[c.id % len(PALETTE)], m.members(c.id))
               for c in m.clusters]
        noise = m.members(NOISE)
        if noise:
            out.append(Group("no cluster", GREY, noise))
        return out
    key = (lambda p: p.modality) if m.color_by == "modality" else \
        (lambda p: "(none)" if p.value is None else str(p.value))
    by: dict[str, list[MapPoint]] = {}
    for p in m.points:
        by.setdefault(key(p), []).append(p)
    names = sorted(by, key=lambda k: (-len(by[k]), k))
    out = [Group(n, PALETTE[i % len(PALETTE)], by[n]) for i, n in enumerate(names[:19])]
    rest = [p for n in names[19:] for p in by[n]]
    if rest:
        out.append(Group("other", GREY, rest))
    return out

"""The map as a PNG for reports (matplotlib, Agg: no display needed): points coloured by
cluster (or the ``color_by`` field), each cluster's label at its centre, queries as stars
with their hits ringed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .colours import HIT, QUERY, groups, numeric
from .extras import need
from .points import Map

LABELS = 25  # at most this many cluster labels (the largest clusters)


def write_png(m: Map, out: Path, size: tuple[float, float] = (10.0, 8.0), dpi: int = 110,
              title: str | None = None) -> None:
    matplotlib = need("matplotlib")
    matplotlib.use("Agg", force=True)
    pyplot = need("matplotlib.pyplot", "matplotlib")
    fig, ax = pyplot.subplots(figsize=size, dpi=dpi)
    try:
        n = len(m.points)
        small = 30.0 if n < 300 else 18.0 if n < 2000 else 4.0 if n < 20000 else 1.0
        if numeric(m):
            sc = ax.scatter([p.x for p in m.points], [p.y for p in m.points], s=small,
                            c=[p.value for p in m.points], cmap="viridis", linewidths=0)
            fig.colorbar(sc, ax=ax, label=m.color_by)
        else:
            for g in groups(m):
                ax.scatter([p.x for p in g.points], [p.y for p in g.points], s=small,
                           c=g.colour, label=g.name[:40], linewidths=0, alpha=0.85)
            if len(groups(m)) <= 20:
                ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7,
                          frameon=False, markerscale=1.5)
        texts = [ax.annotate(c.label, (c.x, c.y), ha="center", va="center", fontsize=8,
                             bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none",
                                   "alpha": 0.8})
                 for c in sorted(m.clusters, key=lambda c: -c.size)[:LABELS]]
        where = {p.id: p for p in m.points}
        for q in m.queries:
            hits = [where[h] for h in q.hits if h in where]
            ax.scatter([p.x for p in hits], [p.y for p in hits], s=small * 4,
                       facecolors="none", edgecolors=HIT, linewidths=1.0)
            ax.scatter([q.x], [q.y], s=220, marker="*", c=QUERY, edgecolors="white",
                       linewidths=0.8, zorder=5)
            texts.insert(0, ax.annotate(q.query[:40], (q.x, q.y), xytext=(6, 6),
                                        textcoords="offset points", fontsize=9, color=QUERY,
                                        weight="bold"))
        ax.set_title(title or f"{m.collection}: {len(m.points)} items, {len(m.clusters)} "
                     f"clusters ({m.method}, {m.space} space)", fontsize=11)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_aspect("equal", adjustable="datalim")
        for side in ax.spines.values():
            side.set_visible(False)
        fig.tight_layout()
        _apart(fig, texts)
        fig.savefig(str(out), format="png")
    finally:
        pyplot.close(fig)


def _apart(fig: Any, texts: list[Any], tries: int = 12) -> None:
    """Move labels that overlap one placed before them (queries first, then the largest
    clusters) up or down, a line at a time, to the nearest free place."""
    renderer = fig.canvas.get_renderer()
    placed: list[Any] = []
    for text in texts:
        box = text.get_window_extent(renderer).expanded(1.05, 1.15)
        step = box.height
        x, y = text.get_position()
        for k in range(tries + 1):
            shift = (k + 1) // 2 * step * (1 if k % 2 else -1)
            moved = box.translated(0, shift)
            if not any(moved.overlaps(other) for other in placed):
                if shift:
                    text.set_position(_shifted(text, x, y, shift))
                placed.append(moved)
                break
        else:
            placed.append(box)


def _shifted(text: Any, x: float, y: float, pixels: float) -> tuple[float, float]:
    """The label's position ``pixels`` higher on the figure, in its own coordinates."""
    if text.get_anncoords() == "offset points":  # a query's label: offset in points
        return x, y + pixels * 72.0 / text.figure.dpi
    inverse = text.axes.transData.inverted()
    px, py = text.axes.transData.transform((x, y))
    return tuple(inverse.transform((px, py + pixels)))  # type: ignore[return-value]

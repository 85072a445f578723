"""The map as a PNG for reports (matplotlib, Agg: no display needed): points coloured by
cluster (or the ``color_by`` field), each cluster's label at its centre, queries as stars
with their hits ringed."""

from __future__ import annotations

from pathlib import Path

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
        small = 30.0 if n < 500 else 12.0 if n < 2000 else 4.0 if n < 20000 else 1.0
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
        for c in sorted(m.clusters, key=lambda c: -c.size)[:LABELS]:
            ax.annotate(c.label, (c.x, c.y), ha="center", va="center", fontsize=8,
                        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none",
                              "alpha": 0.75})
        where = {p.id: p for p in m.points}
        for q in m.queries:
            hits = [where[h] for h in q.hits if h in where]
            ax.scatter([p.x for p in hits], [p.y for p in hits], s=small * 4,
                       facecolors="none", edgecolors=HIT, linewidths=1.0)
            ax.scatter([q.x], [q.y], s=220, marker="*", c=QUERY, edgecolors="white",
                       linewidths=0.8, zorder=5)
            ax.annotate(q.query[:40], (q.x, q.y), xytext=(6, 6), textcoords="offset points",
                        fontsize=9, color=QUERY, weight="bold")
        ax.set_title(title or f"{m.collection}: {len(m.points)} items, {len(m.clusters)} "
                     f"clusters ({m.method}, {m.space} space)", fontsize=11)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_aspect("equal", adjustable="datalim")
        for side in ax.spines.values():
            side.set_visible(False)
        fig.tight_layout()
        fig.savefig(str(out), format="png")
    finally:
        pyplot.close(fig)

"""``semsearch map``: the embedding-space map of a collection, as HTML, PNG or JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..types import ProgressEvent
from . import render
from .app import _console, app, errors, examples, note, open_library
from .options import CollectionOpt, HomeOpt, TypeOpt, WhereOpt, choice, complete, metavar
from .settings import state

if TYPE_CHECKING:
    from ..mapping.points import Map

METHODS = ("umap", "tsne", "pca")  # semsearch.mapping.points.METHODS (not imported: fast -h)
SPACES = ("text", "clip")
STAGES = {"read": "reading vectors", "layout": "laying out the items", "place":
          "placing new items", "clusters": "finding clusters", "labels": "naming clusters",
          "queries": "placing the queries"}


@contextmanager
def stages(enabled: bool) -> Iterator[Callable[[ProgressEvent], None] | None]:
    """On a terminal: one status line on stderr saying what is being done."""
    if not enabled or state.quiet:
        yield None
        return
    with _console().status("reading vectors") as status:

        def update(event: ProgressEvent) -> None:
            text = STAGES.get(event.stage, event.stage)
            if event.stage == "read":
                text += f" ({event.done} of {event.total} rows)"
            elif event.stage in ("layout", "place", "queries") and event.total:
                text += f" ({render.plural(event.total, 'point')})"
            status.update(text)

        yield update


def cluster_lines(m: Map) -> list[str]:
    """``cluster  items  label`` then one row per cluster (unclustered items last)."""
    width = max([len(str(len(m.points))), 5])
    lines = [f"cluster  {'items':>{width}}  label"]
    for c in m.clusters:
        lines.append(f"{c.id:>7}  {c.size:>{width}}  {render.printable(c.label)}")
    rest = len(m.members(-1))
    if rest:
        lines.append(f"{'-':>7}  {rest:>{width}}  (in no cluster)")
    return lines


@app.command(name="map", epilog=examples(
    "semsearch map -c sample -o sample-map.html           # open it in a browser",
    'semsearch map -c sample --query "sea voyages" -o map.png',
    "semsearch map -c photos --space clip --image cat.jpg -o photos.html",
    "semsearch map -c papers --method pca --where year>=2020 -o papers.json",
    "semsearch map -c sample --color-by modality -o map.html",
    "semsearch map -c sample --json | jq '.clusters[].label'",
    "semsearch map -c sample --refresh -o map.html        # redo the cached layout",
))
def map_(
    collection: CollectionOpt = "",
    space: Annotated[str | None, typer.Option(
        "--space", metavar=metavar(SPACES), callback=choice(SPACES),
        autocompletion=complete(SPACES),
        help="Vectors to map: text (the text model) or clip (texts and images together). "
             "Default: clip when the collection holds images, else text.")] = None,
    method: Annotated[str, typer.Option(
        "--method", metavar=metavar(METHODS), callback=choice(METHODS),
        autocompletion=complete(METHODS),
        help="Projection to 2-D after PCA to 50 dimensions: umap (neighbourhoods kept best), "
             "tsne (slow on large collections) or pca (fast, linear).")] = "umap",
    type_: TypeOpt = "any",
    where: WhereOpt = None,
    color_by: Annotated[str, typer.Option(
        "--color-by", metavar="cluster|modality|FIELD",
        help="Colour points by their cluster, their modality or a metadata field.")
    ] = "cluster",
    query: Annotated[list[str] | None, typer.Option(
        "--query", metavar="TEXT",
        help="Place this text query on the map, its 10 nearest items ringed (repeatable).")
    ] = None,
    image: Annotated[list[Path] | None, typer.Option(
        "--image", "-i", metavar="PATH",
        help="Place this image on the map (clip space; repeatable).")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="FILE",
        help="Write the map: FILE.html (interactive: hover, click opens the file), FILE.png "
             "or FILE.json (id, x, y, cluster, label of each item, and the queries).")
    ] = None,
    refresh: Annotated[bool, typer.Option(
        "--refresh", help="Make the layout anew instead of updating the cached one.")
    ] = False,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print the whole map as JSON on stdout (as FILE.json holds it).")
    ] = False,
    home: HomeOpt = None,
) -> None:
    """Map a collection: every item as a point in 2-D, near the items it resembles, grouped
    into clusters named by their most distinctive words ("N images" for pictures), with
    queries placed among them.

    The layout is kept with the collection: the next map places new items into it (a full
    redo when over 30% changed, or with --refresh). Needs the map extra:
    pip install 'semsearch[map]'. Queries are placed by the weighted mean of their 10
    nearest items' positions (pca: exactly).
    """
    with errors(), open_library(home) as lib:
        col = lib.collection(collection)
        from ..mapping import write

        with stages(sys.stderr.isatty()) as progress:
            m = col.map(space=space, method=method, where=where, type=type_,  # type: ignore[arg-type]
                        queries=query or [], images=[str(i) for i in image or []],
                        color_by=color_by, refresh=refresh, on_progress=progress)
            written = write(m, output) if output is not None else None
        note(f"{collection}: mapped in {m.seconds:.1f}s")
        if as_json:
            typer.echo(json.dumps(m.to_dict(), ensure_ascii=False))
            return
        for line in cluster_lines(m):
            typer.echo(line)
        for q in m.queries:
            typer.echo(f"query {render.printable(q.query)!r} at ({q.x:.2f}, {q.y:.2f}), "
                       f"nearest: {', '.join(render.printable(h) for h in q.hits[:3])}")
        n, k = len(m.points), len(m.clusters)
        tail = f", written {render.display_path(str(written))}" if written else ""
        typer.echo(f"{collection}: {render.plural(n, 'item')}, {render.plural(k, 'cluster')} "
                   f"({m.method}, {m.space} space, layout {m.layout}){tail}")

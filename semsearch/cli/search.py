"""``semsearch search``, ``similar`` and ``recommend``: every result listing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..types import Results
from .app import app, errors, examples, fail, open_library, print_results
from .options import (
    AllOpt,
    CollectionOpt,
    DiverseOpt,
    ExplainOpt,
    HomeOpt,
    JsonOpt,
    KOpt,
    MinScoreOpt,
    ModeOpt,
    OffsetOpt,
    PathsOpt,
    TypeOpt,
    WhereOpt,
    choice,
)


def open_hit(results: Results, n: int) -> None:
    """Open hit ``n`` (from 1) with the system's opener, else print its path."""
    if not 1 <= n <= len(results):
        fail(f"--open {n}: there {'is' if len(results) == 1 else 'are'} "
             f"{len(results)} {'hit' if len(results) == 1 else 'hits'}", 2)
    hit = results[n - 1]
    if not hit.path or not os.path.exists(hit.path):
        fail(f"hit {n} ({hit.id}) has no file to open")
    opener = "open" if sys.platform == "darwin" else "xdg-open"
    if shutil.which(opener) is None:
        typer.echo(f"no {opener} to open it with; hit {n} is {hit.path}", err=True)
        typer.echo(hit.path)
        return
    subprocess.Popen([opener, hit.path], stdout=subprocess.DEVNULL,  # noqa: S603
                     stderr=subprocess.DEVNULL, start_new_session=True)
    typer.echo(f"opening {hit.path}", err=True)


@app.command(epilog=examples(
    'semsearch search "sunset over the sea" -c personal              # texts and images',
    'semsearch search "sunset over the sea" --type image -k 20',
    "semsearch search --image ~/Pictures/cat.jpg                      # image -> images, texts",
    "semsearch search --image a.jpg --image b.jpg --type image        # several images",
    'semsearch search "in winter" --image cabin.jpg                   # text + image',
    'semsearch search "sea stories" -c sample --where "year<1960" --where author="Ernest '
    'Hemingway"',
    'semsearch search "fix a flat tyre" -c sample --json',
    'semsearch search "ERR_CONN_RESET 0x80070005" --mode lexical     # keywords, codes, names',
    'semsearch search --expr "2:beach + me.jpg - people" -c photos   # composed query',
    'semsearch search "sunset" --type image -k 20 --diverse 0.7      # no near-duplicates',
    'semsearch search "sunset" -k 20 --offset 20 --min-score 0.2     # page 2',
    'semsearch search "sunset" --type image --paths | xargs feh       # paths only, for piping',
    'semsearch search "fix a flat tyre" -c sample --open 1           # open the best hit',
))
def search(
    query: Annotated[str | None, typer.Argument(metavar="[QUERY]", help="Text query.")] = None,
    collection: CollectionOpt = "",
    image: Annotated[
        list[Path] | None,
        typer.Option("--image", "-i", metavar="PATH", help="Query image (repeatable).")
    ] = None,
    type_: TypeOpt = "any",
    k: KOpt = 10,
    where: WhereOpt = None,
    all_chunks: Annotated[
        bool, typer.Option("--all-chunks", help="List every matching chunk, not one per item.")
    ] = False,
    mode: ModeOpt = "hybrid",
    expr: Annotated[str | None, typer.Option(
        "--expr", "-e", metavar="EXPR",
        help="Composed query, e.g. '2:cat + ./x.jpg - fruit' (see above).")] = None,
    minus: Annotated[list[str] | None, typer.Option(
        "--minus", metavar="X", help="Subtract X: text, a path or an item id (repeatable).")
    ] = None,
    weight: Annotated[list[str] | None, typer.Option(
        "--weight", metavar="W:PART", help="Weight of a query part, e.g. 2:beach (repeatable).")
    ] = None,
    diverse: DiverseOpt = None,
    min_score: MinScoreOpt = None,
    offset: OffsetOpt = 0,
    show_all: AllOpt = False,
    explain: ExplainOpt = False,
    as_json: JsonOpt = False,
    paths: PathsOpt = False,
    open_n: Annotated[int | None, typer.Option(
        "--open", metavar="N", help="Open hit N with the system's opener (xdg-open, open).")
    ] = None,
    home: HomeOpt = None,
) -> None:
    """Search a collection by text, by image, or both.

    Composed queries add and subtract parts: QUERY, each --image, each --expr term and each
    --minus (subtracted) count as weighted parts of one query vector (dense search only).
    --expr syntax: [W:]PART + [W:]PART - [W:]PART ..., operators with spaces around them, W a
    weight (default 1), a PART an item id, an existing file (image or text) or else text;
    quote a part to keep ' - ' inside it. --weight W:PART sets the weight of a part given
    elsewhere (QUERY, an --image path or a --minus).
    """
    with errors(), open_library(home) as lib:
        col = lib.collection(collection)
        weights = None
        if weight:
            from ..search.expression import split_weight

            weights = {}
            for w in weight:
                value, part = split_weight(w)
                if part == w:
                    fail(f"bad --weight {w!r}; use W:PART, e.g. 2:beach", 2)
                weights[part] = value
        results = col.search(query, image=[str(p) for p in image or []] or None,
                             type=type_,  # type: ignore[arg-type]
                             k=k, where=where, all_chunks=all_chunks,
                             mode=mode,  # type: ignore[arg-type]
                             expr=expr, minus=minus, weights=weights, diverse=diverse,
                             min_score=min_score, offset=offset, floor=not show_all)
        print_results(results, as_json, explain, query, paths)
        if open_n is not None:
            open_hit(results, open_n)


@app.command(epilog=examples(
    "semsearch similar ~/Pictures/cat.jpg -c photos      # more like this ingested photo",
    "semsearch similar book-3 -c sample --type text -k 5  # an item id works too",
    "semsearch similar ~/Downloads/new.jpg -c photos      # an outside file: embedded now",
))
def similar(
    item: Annotated[str, typer.Argument(metavar="ITEM",
        help="Item id, or a path: an ingested file, or any image or text file.")],
    collection: CollectionOpt = "",
    k: KOpt = 10,
    type_: TypeOpt = "any",
    where: WhereOpt = None,
    diverse: DiverseOpt = None,
    min_score: MinScoreOpt = None,
    offset: OffsetOpt = 0,
    show_all: AllOpt = False,
    explain: ExplainOpt = False,
    as_json: JsonOpt = False,
    paths: PathsOpt = False,
    home: HomeOpt = None,
) -> None:
    """More like this: items near ITEM (which is left out of the results)."""
    with errors(), open_library(home) as lib:
        col = lib.collection(collection)
        results = col.similar(
            item, k=k, type=type_,  # type: ignore[arg-type]
            where=where, diverse=diverse, min_score=min_score, offset=offset,
            floor=not show_all)
        print_results(results, as_json, explain, paths=paths)


@app.command(epilog=examples(
    "semsearch recommend -c photos --like a.jpg --like b.jpg --unlike c.jpg",
    'semsearch recommend -c sample --like book-3 --like "sea voyages" --unlike '
    "samples/notes/bike-repair.md",
    'semsearch recommend -c photos --like a.jpg --unlike "people" --strategy best-score '
    "--type image",
    "semsearch recommend -c photos --like a.jpg --unlike b.jpg --like-weight 1 "
    "--unlike-weight 0.25",
    "semsearch recommend --profile me -c photos -k 20",
))
def recommend(
    like: Annotated[list[str] | None, typer.Option(
        "--like", "-l", metavar="X",
        help="More like X: an item id, a path, or quoted text (repeatable).")] = None,
    unlike: Annotated[list[str] | None, typer.Option(
        "--unlike", "-u", metavar="Y",
        help="Less like Y: an item id, a path, or quoted text (repeatable).")] = None,
    profile: Annotated[str | None, typer.Option(
        "--profile", "-p", metavar="NAME",
        help="Add a profile's likes and unlikes (see `semsearch profile`).")
    ] = None,
    strategy: Annotated[str, typer.Option(
        "--strategy", "-s", metavar="[average|best-score]",
        callback=choice(("average", "best-score")),
        help="average: search with like_weight*mean(likes) - unlike_weight*mean(unlikes). "
             "best-score: a hit scores its best similarity to a like, or -(its best "
             "similarity to an unlike)^2 when that is higher.")] = "average",
    like_weight: Annotated[float, typer.Option(
        "--like-weight", metavar="W",
        help="average: weight of the likes' mean (Rocchio alpha).")] = 1.0,
    unlike_weight: Annotated[float, typer.Option(
        "--unlike-weight", metavar="W",
        help="average: weight of the unlikes' mean (Rocchio beta).")] = 0.5,
    collection: CollectionOpt = "",
    k: KOpt = 10,
    type_: TypeOpt = "any",
    where: WhereOpt = None,
    diverse: DiverseOpt = None,
    min_score: MinScoreOpt = None,
    offset: OffsetOpt = 0,
    show_all: AllOpt = False,
    explain: ExplainOpt = False,
    as_json: JsonOpt = False,
    paths: PathsOpt = False,
    home: HomeOpt = None,
) -> None:
    """Recommend: more like these, less like those. Inputs are never recommended back.

    Prefix an input with id: to force an item id, text: to force free text.
    """
    with errors(), open_library(home) as lib:
        col = lib.collection(collection)
        results = col.recommend(
            like or [], unlike or [], strategy=strategy,  # type: ignore[arg-type]
            k=k, type=type_,  # type: ignore[arg-type]
            where=where, profile=profile, diverse=diverse, min_score=min_score, offset=offset,
            like_weight=like_weight, unlike_weight=unlike_weight, floor=not show_all)
        print_results(results, as_json, explain, paths=paths)

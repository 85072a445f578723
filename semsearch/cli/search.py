"""``semsearch search``, ``similar`` and ``recommend``: every result listing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..client.library import DEFAULT_COLLECTION
from .app import app, errors, fail, open_library, print_results
from .options import (
    CollectionOpt,
    DiverseOpt,
    HomeOpt,
    JsonOpt,
    KOpt,
    MinScoreOpt,
    OffsetOpt,
    TypeOpt,
    WhereOpt,
)


@app.command()
def search(
    query: Annotated[str | None, typer.Argument(help="Text query.")] = None,
    collection: CollectionOpt = DEFAULT_COLLECTION,
    image: Annotated[
        list[Path] | None, typer.Option("--image", "-i", help="Query image (repeatable).")
    ] = None,
    type_: Annotated[
        str, typer.Option("--type", "-t", help="Results: any, image or text.")
    ] = "any",
    k: Annotated[int, typer.Option("-k", help="Number of results.", min=1)] = 10,
    where: Annotated[
        list[str] | None,
        typer.Option("--where", "-w", help="Metadata filter KEY=VALUE, KEY>=N ... (repeatable)."),
    ] = None,
    all_chunks: Annotated[
        bool, typer.Option("--all-chunks", help="List every matching chunk, not one per item.")
    ] = False,
    mode: Annotated[
        str,
        typer.Option("--mode", help="Text items for a text query: dense, lexical or hybrid."),
    ] = "hybrid",
    expr: Annotated[str | None, typer.Option(
        "--expr", "-e", metavar="EXPR",
        help="Composed query, e.g. '2:cat + ./x.jpg - fruit' (see above).")] = None,
    minus: Annotated[list[str] | None, typer.Option(
        "--minus", metavar="X", help="Subtract X: text, a path or an item id (repeatable).")
    ] = None,
    weight: Annotated[list[str] | None, typer.Option(
        "--weight", metavar="W:PART", help="Weight of a query part, e.g. 2:beach (repeatable).")
    ] = None,
    diverse: Annotated[float | None, typer.Option(
        "--diverse", min=0.0, max=1.0, metavar="LAMBDA",
        help="Re-rank by maximal marginal relevance; 1 keeps the ranking, lower is more varied.")
    ] = None,
    min_score: Annotated[float | None, typer.Option(
        "--min-score", metavar="S", help="Leave out hits scoring below S.")] = None,
    offset: Annotated[int, typer.Option(
        "--offset", min=0, metavar="N", help="Skip the first N hits (paging).")] = 0,
    as_json: JsonOpt = False,
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
                             min_score=min_score, offset=offset)
        print_results(results, as_json)


@app.command()
def similar(
    item: Annotated[str, typer.Argument(
        help="Item id, or a path: an ingested file, or any image or text file.")],
    collection: CollectionOpt = DEFAULT_COLLECTION,
    k: KOpt = 10,
    type_: TypeOpt = "any",
    where: WhereOpt = None,
    diverse: DiverseOpt = None,
    min_score: MinScoreOpt = None,
    offset: OffsetOpt = 0,
    as_json: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """More like this: items near ITEM (which is left out of the results)."""
    with errors(), open_library(home) as lib:
        results = lib.collection(collection).similar(
            item, k=k, type=type_,  # type: ignore[arg-type]
            where=where, diverse=diverse, min_score=min_score, offset=offset)
        print_results(results, as_json)


@app.command()
def recommend(
    like: Annotated[list[str] | None, typer.Option(
        "--like", "-l", metavar="X",
        help="More like X: an item id, a path, or quoted text (repeatable).")] = None,
    unlike: Annotated[list[str] | None, typer.Option(
        "--unlike", "-u", metavar="Y",
        help="Less like Y: an item id, a path, or quoted text (repeatable).")] = None,
    profile: Annotated[str | None, typer.Option(
        "--profile", "-p", help="Add a profile's likes and unlikes (see `semsearch profile`).")
    ] = None,
    strategy: Annotated[str, typer.Option(
        "--strategy", "-s",
        help="average: search with like_weight*mean(likes) - unlike_weight*mean(unlikes). "
             "best-score: a hit scores its best similarity to a like, or -(its best "
             "similarity to an unlike)^2 when that is higher.")] = "average",
    like_weight: Annotated[float, typer.Option(
        "--like-weight", help="average: weight of the likes' mean (Rocchio alpha).")] = 1.0,
    unlike_weight: Annotated[float, typer.Option(
        "--unlike-weight", help="average: weight of the unlikes' mean (Rocchio beta).")] = 0.5,
    collection: CollectionOpt = DEFAULT_COLLECTION,
    k: KOpt = 10,
    type_: TypeOpt = "any",
    where: WhereOpt = None,
    diverse: DiverseOpt = None,
    min_score: MinScoreOpt = None,
    offset: OffsetOpt = 0,
    as_json: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """Recommend: more like these, less like those. Inputs are never recommended back.

    Prefix an input with id: to force an item id, text: to force free text.
    """
    with errors(), open_library(home) as lib:
        results = lib.collection(collection).recommend(
            like or [], unlike or [], strategy=strategy,  # type: ignore[arg-type]
            k=k, type=type_,  # type: ignore[arg-type]
            where=where, profile=profile, diverse=diverse, min_score=min_score, offset=offset,
            like_weight=like_weight, unlike_weight=unlike_weight)
        print_results(results, as_json)

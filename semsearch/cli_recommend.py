"""``semsearch similar``, ``semsearch recommend`` and ``semsearch profile ...``.

Registered onto the app of :mod:`semsearch.cli` when that module is imported.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from . import render
from .cli import CollectionOpt, HomeOpt, JsonOpt, app, errors, open_library, print_results
from .library import DEFAULT_COLLECTION
from .profiles import Profile, profile_names

TypeOpt = Annotated[str, typer.Option("--type", "-t", help="Results: any, image or text.")]
KOpt = Annotated[int, typer.Option("-k", help="Number of results.", min=1)]
WhereOpt = Annotated[
    list[str] | None,
    typer.Option("--where", "-w", help="Metadata filter KEY=VALUE, KEY>=N ... (repeatable)."),
]
DiverseOpt = Annotated[
    float | None,
    typer.Option("--diverse", min=0.0, max=1.0, metavar="LAMBDA",
                 help="Re-rank by maximal marginal relevance: LAMBDA*relevance - (1-LAMBDA)*"
                      "similarity to hits above; 1 keeps the ranking, lower is more varied."),
]
MinScoreOpt = Annotated[
    float | None, typer.Option("--min-score", metavar="S", help="Leave out hits scoring below S.")
]
OffsetOpt = Annotated[
    int, typer.Option("--offset", min=0, metavar="N", help="Skip the first N hits (paging).")
]



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


profile_app = typer.Typer(
    help="Profiles: a named, lasting set of liked and disliked items of a collection.",
    no_args_is_help=True,
)
app.add_typer(profile_app, name="profile")

NameArg = Annotated[str, typer.Argument(help="Profile name.")]
ItemsArg = Annotated[list[str], typer.Argument(help="Item ids, paths or quoted text.")]


def _entries_text(profile: Profile) -> str:
    likes, unlikes = profile.likes, profile.unlikes
    lines = [f"profile {profile.name} (collection {profile.collection}): "
             f"{len(likes)} liked, {len(unlikes)} disliked"]
    for e in likes + unlikes:
        ref = render.display_path(e.ref) if e.kind != "text" else json.dumps(e.ref)
        lines.append(f"  {e.polarity:<6}  {e.kind:<4}  {ref}")
    return "\n".join(lines)


def _change(name: str, items: list[str], collection: str, home: str | None, as_json: bool,
            polarity: str) -> None:
    with errors(), open_library(home) as lib:
        profile = lib.profile(name, collection=collection)
        stored = profile.like(*items) if polarity == "like" else profile.unlike(*items)
        if as_json:
            typer.echo(json.dumps(profile.to_dict(), ensure_ascii=False))
        else:
            verb = "liked" if polarity == "like" else "disliked"
            typer.echo(f"{name}: {len(stored)} {verb}; now {len(profile.likes)} liked, "
                       f"{len(profile.unlikes)} disliked")


@profile_app.command("like")
def profile_like(name: NameArg, items: ItemsArg, collection: CollectionOpt = DEFAULT_COLLECTION,
                 as_json: JsonOpt = False, home: HomeOpt = None) -> None:
    """Add items to a profile's likes (creating the profile)."""
    _change(name, items, collection, home, as_json, "like")


@profile_app.command("unlike")
def profile_unlike(name: NameArg, items: ItemsArg,
                   collection: CollectionOpt = DEFAULT_COLLECTION, as_json: JsonOpt = False,
                   home: HomeOpt = None) -> None:
    """Add items to a profile's dislikes (an item liked before is now disliked)."""
    _change(name, items, collection, home, as_json, "unlike")


@profile_app.command("forget")
def profile_forget(name: NameArg, items: ItemsArg,
                   collection: CollectionOpt = DEFAULT_COLLECTION, home: HomeOpt = None) -> None:
    """Take items out of a profile, liked or disliked."""
    with errors(), open_library(home) as lib:
        n = lib.profile(name, collection=collection).forget(*items)
        typer.echo(f"{name}: {n} forgotten")


@profile_app.command("show")
def profile_show(name: NameArg, collection: CollectionOpt = DEFAULT_COLLECTION,
                 as_json: JsonOpt = False, home: HomeOpt = None) -> None:
    """List a profile's liked and disliked items."""
    with errors(), open_library(home) as lib:
        profile = lib.profile(name, collection=collection)
        if not profile.exists:
            typer.echo(f"error: no profile named {name!r} in collection {collection!r} "
                       "(add to it with `semsearch profile like NAME ITEM`)", err=True)
            raise typer.Exit(1)
        if as_json:
            typer.echo(json.dumps(profile.to_dict(), ensure_ascii=False))
        else:
            typer.echo(_entries_text(profile))


@profile_app.command("list")
def profile_list(collection: CollectionOpt = DEFAULT_COLLECTION, as_json: JsonOpt = False,
                 home: HomeOpt = None) -> None:
    """List a collection's profiles."""
    with errors(), open_library(home) as lib:
        names = profile_names(lib, collection)
        if as_json:
            typer.echo(json.dumps([{"profile": n, "likes": a, "unlikes": b}
                                   for n, a, b in names]))
        elif not names:
            typer.echo(f"no profiles in collection {collection}")
        else:
            for n, a, b in names:
                typer.echo(f"{n}: {a} liked, {b} disliked")


@profile_app.command("clear")
def profile_clear(name: NameArg, collection: CollectionOpt = DEFAULT_COLLECTION,
                  home: HomeOpt = None) -> None:
    """Delete a profile."""
    with errors(), open_library(home) as lib:
        n = lib.profile(name, collection=collection).clear()
        typer.echo(f"{name}: {n} entries removed")

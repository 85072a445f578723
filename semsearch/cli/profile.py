"""``semsearch profile ...``: a named, lasting set of liked and disliked items."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from . import render
from .app import app, errors, examples, fail, open_library
from .options import CollectionOpt, HomeOpt, JsonOpt

if TYPE_CHECKING:
    from ..client.profiles import Profile

profile_app = typer.Typer(
    help="Profiles: a named, lasting set of liked and disliked items of a collection.",
    epilog=examples(
        "semsearch profile like me a.jpg b.jpg book-3 -c photos",
        'semsearch profile unlike me c.jpg "screenshots" -c photos',
        "semsearch profile show me -c photos",
        "semsearch recommend --profile me -c photos -k 20",
        "semsearch profile forget me b.jpg -c photos",
        "semsearch profile list -c photos",
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(profile_app, name="profile")

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="Profile name.")]
ItemsArg = Annotated[list[str], typer.Argument(
    metavar="ITEM...", help="Item ids, paths or quoted text.")]


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


@profile_app.command("like", epilog=examples(
    "semsearch profile like me a.jpg b.jpg book-3 -c photos"))
def profile_like(name: NameArg, items: ItemsArg, collection: CollectionOpt = "",
                 as_json: JsonOpt = False, home: HomeOpt = None) -> None:
    """Add items to a profile's likes (creating the profile)."""
    _change(name, items, collection, home, as_json, "like")


@profile_app.command("unlike", epilog=examples(
    'semsearch profile unlike me c.jpg "screenshots" -c photos'))
def profile_unlike(name: NameArg, items: ItemsArg,
                   collection: CollectionOpt = "", as_json: JsonOpt = False,
                   home: HomeOpt = None) -> None:
    """Add items to a profile's dislikes (an item liked before is now disliked)."""
    _change(name, items, collection, home, as_json, "unlike")


@profile_app.command("forget", epilog=examples("semsearch profile forget me b.jpg -c photos"))
def profile_forget(name: NameArg, items: ItemsArg,
                   collection: CollectionOpt = "", home: HomeOpt = None) -> None:
    """Take items out of a profile, liked or disliked."""
    with errors(), open_library(home) as lib:
        n = lib.profile(name, collection=collection).forget(*items)
        typer.echo(f"{name}: {n} forgotten")


@profile_app.command("show", epilog=examples(
    "semsearch profile show me -c photos", "semsearch profile show me -c photos --json"))
def profile_show(name: NameArg, collection: CollectionOpt = "",
                 as_json: JsonOpt = False, home: HomeOpt = None) -> None:
    """List a profile's liked and disliked items."""
    with errors(), open_library(home) as lib:
        profile = lib.profile(name, collection=collection)
        if not profile.exists:
            fail(f"no profile named {name!r} in collection {collection!r} "
                 "(add to it with `semsearch profile like NAME ITEM`)")
        if as_json:
            typer.echo(json.dumps(profile.to_dict(), ensure_ascii=False))
        else:
            typer.echo(_entries_text(profile))


@profile_app.command("list", epilog=examples("semsearch profile list -c photos"))
def profile_list(collection: CollectionOpt = "", as_json: JsonOpt = False,
                 home: HomeOpt = None) -> None:
    """List a collection's profiles."""
    with errors(), open_library(home) as lib:
        from ..client.profiles import profile_names

        names = profile_names(lib, collection)
        if as_json:
            typer.echo(json.dumps([{"profile": n, "likes": a, "unlikes": b}
                                   for n, a, b in names]))
        elif not names:
            typer.echo(f"no profiles in collection {collection}")
        else:
            for n, a, b in names:
                typer.echo(f"{n}: {a} liked, {b} disliked")


@profile_app.command("clear", epilog=examples("semsearch profile clear me -c photos"))
def profile_clear(name: NameArg, collection: CollectionOpt = "",
                  home: HomeOpt = None) -> None:
    """Delete a profile."""
    with errors(), open_library(home) as lib:
        n = lib.profile(name, collection=collection).clear()
        typer.echo(f"{name}: {n} entries removed")

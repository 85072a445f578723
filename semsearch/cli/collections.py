"""``semsearch collections``, ``info`` and ``rm``."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from . import render
from .app import app, errors, examples, fail, open_library
from .options import CollectionOpt, HomeOpt, JsonOpt, NoWaitOpt


@app.command("collections", epilog=examples(
    "semsearch collections            # name, files, items per modality, models",
    "semsearch collections --json",
))
def list_collections(as_json: JsonOpt = False, home: HomeOpt = None) -> None:
    """List collections with their item counts and models."""
    with errors(), open_library(home) as lib:
        infos = lib.collections()
        if as_json:
            typer.echo(json.dumps([i.to_dict() for i in infos]))
        else:
            typer.echo(render.collections_table(infos))


@app.command(epilog=examples(
    "semsearch info -c personal       # models, dimensions, counts, data directory",
    "semsearch info -c personal --json",
))
def info(collection: CollectionOpt = "", as_json: JsonOpt = False,
         home: HomeOpt = None) -> None:
    """Show a collection's models, dimensions, counts and text index (what answers a text
    query: the vector index, memory-mapped, or the store)."""
    with errors(), open_library(home) as lib:
        details = lib.collection(collection).info()
        if as_json:
            typer.echo(json.dumps({**details.to_dict(), "home": str(lib.home)}))
        else:
            typer.echo(render.info_text(details, lib.home))


@app.command(epilog=examples(
    "semsearch rm -c personal         # asks first",
    "semsearch rm -c personal --yes",
))
def rm(
    collection: CollectionOpt = "",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    home: HomeOpt = None,
    no_wait: NoWaitOpt = False,
) -> None:
    """Delete a collection (its vectors and catalog; your files are not touched)."""
    with errors(), open_library(home, no_wait) as lib:
        lib.collection(collection).info()  # fails cleanly if it does not exist
        if not yes:
            if not sys.stdin.isatty():
                fail(f"refusing to delete {collection!r} without --yes (no terminal to ask)", 2)
            typer.confirm(f"Delete collection {collection!r}?", abort=True)
        lib.remove(collection)
        typer.echo(f"removed collection {collection}")

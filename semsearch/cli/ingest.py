"""``semsearch ingest`` and ``semsearch reindex``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..client.library import DEFAULT_COLLECTION
from .app import app, errors, fail, open_library, print_skip, progress_bar
from .options import (
    ClipModelOpt,
    ClipPretrainedOpt,
    CollectionOpt,
    HomeOpt,
    JsonOpt,
    NoWaitOpt,
    TextModelOpt,
)


def _split_fields(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [f.strip() for f in value.split(",") if f.strip()]


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files and folders.")] = None,
    collection: CollectionOpt = DEFAULT_COLLECTION,
    manifest: Annotated[
        Path | None, typer.Option("--manifest", "-m", help="Collection manifest (TOML).")
    ] = None,
    id_field: Annotated[
        str | None, typer.Option("--id-field", help="Records: field holding the item id.")
    ] = None,
    text_field: Annotated[
        str | None, typer.Option("--text-field", help="Records: fields to embed, F1,F2.")
    ] = None,
    include: Annotated[list[str] | None, typer.Option("--include", help="Glob to keep.")] = None,
    truncate: Annotated[
        bool,
        typer.Option("--truncate", help="Embed only the first window of each text, no chunks."),
    ] = False,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="Glob to skip.")] = None,
    text_model: TextModelOpt = None,
    clip_model: ClipModelOpt = None,
    clip_pretrained: ClipPretrainedOpt = None,
    as_json: JsonOpt = False,
    home: HomeOpt = None,
    no_wait: NoWaitOpt = False,
    shard: Annotated[str | None, typer.Option(
        "--shard", metavar="I/N",
        help="Take a stable 1/N of the files (shard I of N, from 1), e.g. one per machine.")
    ] = None,
) -> None:
    """Add files and folders to a collection, or bring it in step with a manifest."""
    with errors():
        prune: list[str] = []
        inc, exc = list(include or []), list(exclude or [])
        targets = [str(p) for p in paths or []]
        if manifest is not None:
            from ..ingest.manifest import load_manifest

            m = load_manifest(manifest)
            if collection == DEFAULT_COLLECTION:
                collection = m.name
            targets += [str(s) for s in m.sources]
            prune = ["/"]  # in step: anything not found under the sources now is removed
            inc += m.include
            exc += m.exclude
            text_model = text_model or m.text_model
            clip_model = clip_model or m.clip_model
            clip_pretrained = clip_pretrained or m.clip_pretrained
            id_field = id_field or m.id_field
            text_field = text_field or (",".join(m.text_fields) or None)
        if not targets:
            fail("give files or folders to ingest, or --manifest FILE", 2)
        with open_library(home, no_wait) as lib:
            col = lib.collection(collection, text_model=text_model, clip_model=clip_model,
                                 clip_pretrained=clip_pretrained)
            with progress_bar(sys.stderr.isatty()) as progress:
                summary = col.ingest(
                    targets, id_field=id_field, text_fields=_split_fields(text_field),
                    include=inc, exclude=exc, prune=prune, truncate=truncate, on_skip=print_skip,
                    progress=progress, shard=shard,
                )
        for warning in summary.warnings:
            typer.echo(f"warning: {warning}", err=True)
        if as_json:
            typer.echo(json.dumps(summary.to_dict()))
        else:
            typer.echo(f"{collection}: {summary.line()}")


@app.command()
def reindex(
    collection: CollectionOpt = DEFAULT_COLLECTION,
    text_model: TextModelOpt = None,
    clip_model: ClipModelOpt = None,
    clip_pretrained: ClipPretrainedOpt = None,
    as_json: JsonOpt = False,
    home: HomeOpt = None,
    no_wait: NoWaitOpt = False,
) -> None:
    """Re-embed every item of a collection, with new models if given."""
    with errors(), open_library(home, no_wait) as lib:
        col = lib.collection(collection)
        with progress_bar(sys.stderr.isatty()) as progress:
            summary = col.reindex(text_model=text_model, clip_model=clip_model,
                                  clip_pretrained=clip_pretrained, on_skip=print_skip,
                                  progress=progress)
        for warning in summary.warnings:
            typer.echo(f"warning: {warning}", err=True)
        if as_json:
            typer.echo(json.dumps(summary.to_dict()))
        else:
            typer.echo(f"{collection}: reindexed with {col.models.describe()}: "
                       f"{summary.line()}")

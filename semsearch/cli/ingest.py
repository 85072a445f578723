"""``semsearch ingest`` and ``semsearch reindex``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from . import render
from .app import (
    app,
    errors,
    examples,
    fail,
    note,
    open_library,
    print_skip,
    progress_bar,
    warn,
)
from .options import (
    ClipModelOpt,
    ClipPretrainedOpt,
    CollectionOpt,
    HomeOpt,
    JsonOpt,
    NoWaitOpt,
    TextModelOpt,
)
from .settings import collection_name, default_models, explicit_models

if TYPE_CHECKING:
    from ..client.library import Library


def _split_fields(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [f.strip() for f in value.split(",") if f.strip()]


def _models_for(lib: Library, name: str, given: dict[str, str | None]) -> dict[str, str | None]:
    """The models to open ``name`` with: those asked for; for a new collection, the
    environment's or config file's defaults fill the gaps (an existing one keeps its own)."""
    if lib.catalog.collection(name) is not None:
        return given
    defaults = default_models()
    return {k: v or defaults[k] for k, v in given.items()}


@app.command(epilog=examples(
    "semsearch ingest ~/Pictures ~/notes -c personal",
    "semsearch ingest papers.jsonl -c papers --id-field _id --text-field title,abstract",
    'semsearch ingest ~/notes --include "**/*.md" --exclude "**/drafts/**"',
    "semsearch ingest --manifest collections/sample.toml",
    "semsearch ingest ~/Pictures --json",
))
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(
        metavar="[PATH]...", help="Files and folders.")] = None,
    collection: Annotated[str | None, typer.Option(
        "--collection", "-c", metavar="NAME",
        help="Collection name (default: the manifest's, $SEMSEARCH_COLLECTION, the config "
             "file's, else 'default').")] = None,
    manifest: Annotated[Path | None, typer.Option(
        "--manifest", "-m", metavar="PATH", help="Collection manifest (TOML).")] = None,
    id_field: Annotated[str | None, typer.Option(
        "--id-field", metavar="FIELD", help="Records: field holding the item id.")] = None,
    text_field: Annotated[str | None, typer.Option(
        "--text-field", metavar="F1,F2", help="Records: fields to embed, F1,F2.")] = None,
    include: Annotated[list[str] | None, typer.Option(
        "--include", metavar="GLOB", help="Glob to keep (repeatable).")] = None,
    truncate: Annotated[
        bool,
        typer.Option("--truncate", help="Embed only the first window of each text, no chunks."),
    ] = False,
    exclude: Annotated[list[str] | None, typer.Option(
        "--exclude", metavar="GLOB", help="Glob to skip (repeatable).")] = None,
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
    follow_links: Annotated[bool, typer.Option(
        "--follow-links", help="Also read files through symlinks pointing outside the folders.")
    ] = False,
    prune_missing: Annotated[bool, typer.Option(
        "--prune-missing",
        help="A folder or manifest source that is gone: remove its items (without this they "
             "stay, and the run ends with an error).")] = False,
) -> None:
    """Add files and folders to a collection, or bring it in step with a manifest.

    Unchanged files cost a stat. A collection of 20,000 text chunks or more has its words
    measured once, at the end of the ingest that takes it there (about 35 s per million
    short chunks), for faster lexical and hybrid search; later ingests keep them.
    """
    with errors():
        prune: list[str] = []
        inc, exc = list(include or []), list(exclude or [])
        targets = [str(p) for p in paths or []]
        given = explicit_models(text_model, clip_model, clip_pretrained)
        if manifest is not None:
            from ..ingest.manifest import load_manifest

            m = load_manifest(manifest)
            collection = collection or m.name
            targets += [str(s) for s in m.sources]
            prune = ["/"]  # in step: anything not found under the sources now is removed
            inc += m.include
            exc += m.exclude
            given = {k: v or getattr(m, k) for k, v in given.items()}
            id_field = id_field or m.id_field
            text_field = text_field or (",".join(m.text_fields) or None)
        if not targets:
            fail("give files or folders to ingest, or --manifest FILE", 2)
        name = collection_name(collection)
        with open_library(home, no_wait) as lib:
            col = lib.collection(name, **_models_for(lib, name, given))
            note(f"{name}: models {col.models.describe()}")
            with progress_bar(sys.stderr.isatty()) as progress:
                summary = col.ingest(
                    targets, id_field=id_field, text_fields=_split_fields(text_field),
                    include=inc, exclude=exc, prune=prune, truncate=truncate, on_skip=print_skip,
                    progress=progress, shard=shard, follow_links=follow_links,
                    prune_missing=prune_missing,
                )
        for warning in summary.warnings:
            warn(warning)
        if as_json:
            typer.echo(json.dumps(summary.to_dict()))
        else:
            typer.echo(f"{name}: {render.summary_line(summary)}")
        if summary.missing:
            gone = render.display_path(summary.missing[0])
            more = f" (and {len(summary.missing) - 1} more)" if len(summary.missing) > 1 else ""
            fail(f"{gone}{more} is missing (renamed, or a disk not mounted?); what the "
                 "collection held there stays: fix the path, or pass --prune-missing to "
                 "remove it")


@app.command(epilog=examples(
    "semsearch reindex -c personal",
    "semsearch reindex -c photos --clip-model ViT-B-16 --clip-pretrained laion2b_s34b_b88k",
))
def reindex(
    collection: CollectionOpt = "",
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
            summary = col.reindex(**explicit_models(text_model, clip_model, clip_pretrained),
                                  on_skip=print_skip, progress=progress)
        for warning in summary.warnings:
            warn(warning)
        if as_json:
            typer.echo(json.dumps(summary.to_dict()))
        else:
            typer.echo(f"{collection}: reindexed with {col.models.describe()}: "
                       f"{render.summary_line(summary)}")

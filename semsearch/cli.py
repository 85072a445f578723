"""The ``semsearch`` command: a thin layer over the Python client."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from . import render
from .collection import Results
from .errors import SemsearchError
from .library import DEFAULT_COLLECTION, Library
from .types import ProgressEvent

app = typer.Typer(
    help="Search your photos, notes and documents by meaning.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

CollectionOpt = Annotated[str, typer.Option("--collection", "-c", help="Collection name.")]
HomeOpt = Annotated[
    str | None,
    typer.Option("--home", help="Data directory (default: $SEMSEARCH_HOME or XDG data dir)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
TextModelOpt = Annotated[
    str | None, typer.Option("--text-model", help="sentence-transformers model name or folder.")
]
ClipModelOpt = Annotated[
    str | None,
    typer.Option("--clip-model", help="open_clip model name or config JSON; 'none' for text-only."),
]
ClipPretrainedOpt = Annotated[
    str | None,
    typer.Option("--clip-pretrained", help="open_clip pretrained tag or local weights file."),
]
NoWaitOpt = Annotated[
    bool, typer.Option("--no-wait", help="Fail at once if another process is writing.")
]


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def errors() -> Iterator[None]:
    """Every semsearch error becomes one line on stderr and exit code 1."""
    try:
        yield
    except SemsearchError as e:
        fail(str(e))
    except KeyboardInterrupt:
        fail("interrupted; what was written so far is kept, run again to finish", 130)
    except (typer.Exit, typer.Abort, SystemExit):
        raise
    except Exception as e:  # a bug or an environment problem: still one line, no traceback
        if os.environ.get("SEMSEARCH_DEBUG"):
            raise
        fail(f"unexpected {type(e).__name__}: {e} (SEMSEARCH_DEBUG=1 shows the traceback)")


def open_library(home: str | None, no_wait: bool = False) -> Library:
    def on_wait(message: str) -> None:
        typer.echo(message, err=True)

    return Library(home, wait=not no_wait, on_wait=on_wait)


def print_skip(path: str, reason: str) -> None:
    typer.echo(f"skipping {render.display_path(path)}: {reason}", err=True)


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[ProgressEvent], None] | None]:
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("scanning", total=None, rate="")

        def update(event: ProgressEvent) -> None:
            if event.stage == "scan":
                bar.update(task, description=f"scanning ({event.done} files)")
            elif event.stage == "embed":
                speed = bar.tasks[0].speed
                bar.update(task, description=f"embedding ({event.items} items written)",
                           total=event.total,
                           completed=event.done,
                           rate=f"{speed:.1f} files/s" if speed else "")

        yield update


def _split_fields(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [f.strip() for f in value.split(",") if f.strip()]


def print_results(results: Results, as_json: bool) -> None:
    """Search-like output: warnings on stderr, then a table or a JSON list on stdout."""
    for warning in results.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if as_json:
        typer.echo(json.dumps([h.to_dict() for h in results], ensure_ascii=False))
    else:
        typer.echo(render.hits_table(results))


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
            from .manifest import load_manifest

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
            from .recommend import split_weight

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


@app.command("collections")
def list_collections(as_json: JsonOpt = False, home: HomeOpt = None) -> None:
    """List collections with their item counts and models."""
    with errors(), open_library(home) as lib:
        infos = lib.collections()
        if as_json:
            typer.echo(json.dumps([i.to_dict() for i in infos]))
        else:
            typer.echo(render.collections_table(infos))


@app.command()
def info(collection: CollectionOpt = DEFAULT_COLLECTION, as_json: JsonOpt = False,
         home: HomeOpt = None) -> None:
    """Show a collection's models, dimensions and counts."""
    with errors(), open_library(home) as lib:
        details = lib.collection(collection).info()
        if as_json:
            typer.echo(json.dumps(details.to_dict()))
        else:
            typer.echo(render.info_text(details, lib.home))


@app.command()
def rm(
    collection: CollectionOpt = DEFAULT_COLLECTION,
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


# registered onto `app` when imported: similar, recommend and profile; tui
from . import cli_recommend, cli_tui  # noqa: E402,F401
from .cli_server import install as _server_cli  # noqa: E402

_server_cli(app)  # `serve`, and --chroma-url on every command (keep after all commands)


#: commands that never write to the vector store: they may skip interpreter teardown
FAST_EXIT = {"search", "similar", "recommend", "info", "collections", "profile"}


def main() -> Any:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    _server_cli(app)  # commands registered late get --chroma-url too
    try:
        app()
    except SystemExit as e:
        code = e.code
    else:
        code = 0
    command = next((a for a in sys.argv[1:] if not a.startswith("-")), "")
    if command in FAST_EXIT and not os.environ.get("SEMSEARCH_SLOW_EXIT"):
        # Once torch is loaded, interpreter teardown takes seconds (measured: about 3 s on
        # 2 cores). A read-only command has nothing left to save: run the exit hooks, flush,
        # and leave at once.
        import atexit

        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code if isinstance(code, int) else (0 if code is None else 1))
    raise SystemExit(code)


if __name__ == "__main__":  # pragma: no cover
    main()

"""The ``semsearch`` Typer app, and what every command shares: one-line errors, the library,
skip lines, progress and result printing. Commands register in their own modules."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer

from ..client.library import Library
from ..errors import SemsearchError
from ..types import ProgressEvent, Results
from . import render

app = typer.Typer(
    help="Search your photos, notes and documents by meaning.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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
    """The library a command works on; waiting for another writer is said on stderr."""

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

"""The ``semsearch`` Typer app, and what every command shares: one-line errors (usage errors
included), the library, skip lines, warnings, progress and result printing. Commands register
in their own modules."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer.core import TyperArgument, TyperCommand, TyperGroup

from ..errors import SemsearchError
from ..types import ProgressEvent, Results
from . import render
from .settings import home_dir, runtime_choice, state

if TYPE_CHECKING:
    from ..client.library import Library


class OneLineErrors(TyperGroup):
    """Usage errors as one line, ``error: MESSAGE``, exit code 2; no boxed panels."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **extra: Any) -> Any:
        run = super().main
        if not standalone_mode:
            return run(args, prog_name, complete_var, False, windows_expand_args, **extra)
        try:
            code = run(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except NoArgsIsHelpError as e:  # bare `semsearch`: the help, on stderr
            e.show()
            sys.exit(e.exit_code)
        except ClickException as e:
            message = " ".join(e.format_message().split())
            typer.echo(f"error: {message[:1].lower() + message[1:]}", err=True)
            sys.exit(e.exit_code)
        except typer.Abort:
            typer.echo("error: aborted", err=True)
            sys.exit(1)
        except SemsearchError as e:  # raised while reading options (a bad config file)
            typer.echo(f"error: {e}", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


class _Argument(TyperArgument):
    """An argument shown by its metavar alone (``[QUERY]``, ``ITEM``), not its Python type."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        if self.metavar is not None:
            return self.metavar
        return super()._usage_display_name()


class PlainCommand(TyperCommand):
    """A command whose help names what arguments take, not their Python types."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is TyperArgument:
                param.__class__ = _Argument


def plain_help(app: typer.Typer) -> None:
    """Every command registered on ``app`` (and its sub-apps) helps with :class:`PlainCommand`."""
    for info in app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = PlainCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            plain_help(group.typer_instance)


app = typer.Typer(
    cls=OneLineErrors,
    help="Search your photos, notes and documents by meaning.",
    epilog="Options before the command apply to it as if given after it; a command's own "
           "option wins. Defaults come from, in this order: the option, the environment "
           "($SEMSEARCH_HOME, $SEMSEARCH_COLLECTION, $SEMSEARCH_CHROMA_URL, "
           "$SEMSEARCH_TEXT_MODEL, $SEMSEARCH_CLIP_MODEL, $SEMSEARCH_CLIP_PRETRAINED), the "
           "config file ($XDG_CONFIG_HOME/semsearch/config.toml), the built-in default. "
           "`semsearch COMMAND -h` shows a command's options and examples.",
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def examples(*lines: str) -> str:
    """A command's help epilog: its examples, kept as written (no re-wrapping)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


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
    """The library a command works on; waiting for another writer is said on stderr. A data
    directory that cannot be made or opened is one clear line."""

    def on_wait(message: str) -> None:
        if not state.quiet:
            typer.echo(message, err=True)

    from ..client.library import Library
    from ..models.registry import shared_registry

    home = home_dir(home)
    shared_registry().runtime = runtime_choice()
    try:
        return Library(home, wait=not no_wait, on_wait=on_wait)
    except OSError as e:
        from ..storage.home import resolve_home

        fail(f"cannot use data directory {resolve_home(home)}: {e.strerror or e}")


def warn(message: str) -> None:
    """A warning on stderr, once per run, none under --quiet."""
    if state.warn_once(message):
        typer.echo(f"warning: {message}", err=True)


def note(message: str) -> None:
    """A detail on stderr under --verbose only."""
    if state.verbose and not state.quiet:
        typer.echo(message, err=True)


def print_skip(path: str, reason: str) -> None:
    if not state.quiet:
        typer.echo(f"skipping {render.display_path(path)}: {render.printable(reason)}",
                   err=True)


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")))


@contextmanager
def progress_bar(enabled: bool, console: Any = None
                 ) -> Iterator[Callable[[ProgressEvent], None] | None]:
    """On a terminal: files done of all, items embedded and their rate, time left."""
    if not enabled or state.quiet:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("files  {task.fields[items]}"))
    start = time.monotonic()
    with Progress(*columns, console=console or _console(), transient=True) as bar:
        task = bar.add_task("scanning", total=None, items="")

        def update(event: ProgressEvent) -> None:
            if event.stage == "scan":
                bar.update(task, description=f"scanning ({event.done} files)")
            elif event.stage == "embed":
                bar.update(task, description="embedding", total=event.total,
                           completed=event.done, items=items_rate(event.items,
                                                                  time.monotonic() - start))

        yield update


def items_rate(items: int, seconds: float) -> str:
    """``1234 items written, 56.7 items/s``"""
    rate = f", {items / seconds:.1f} items/s" if items and seconds > 0 else ""
    return f"{render.plural(items, 'item')} written{rate}"


def print_results(results: Results, as_json: bool, explain: bool = False,
                  query: str | None = None, paths: bool = False) -> None:
    """Search-like output: warnings on stderr (once each), then a table (with a why-line per
    hit under ``explain``), a JSON list, or one path or id per line (``paths``) on stdout; how
    many hits the relevance floor hid on stderr."""
    for warning in results.warnings:
        warn(warning)
    if as_json:
        typer.echo(json.dumps([h.to_dict() for h in results], ensure_ascii=False))
    elif paths:
        for hit in results:
            typer.echo(render.printable(hit.path if hit.path and hit.id == hit.path
                                        else hit.id))
    else:
        typer.echo(render.hits_table(results, explain=explain, query=query,
                                     width=render.terminal_width()))
    if results.hidden and not state.quiet:
        n = results.hidden
        typer.echo(f"{n} more {'hit' if n == 1 else 'hits'} below the relevance floor "
                   "(--all shows them)", err=True)

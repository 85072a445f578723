"""The ``semsearch`` entry point: the app with every command registered, and the global
options (given before the command; the command's own option wins over them)."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer

from . import collections, ingest, items, maps, profile, search, tui  # noqa: F401 - register commands
from .app import app, plain_help
from .options import (
    BackendOpt,
    ClipModelOpt,
    ClipPretrainedOpt,
    DeviceOpt,
    HomeOpt,
    PrecisionOpt,
    QuietOpt,
    TextModelOpt,
    VerboseOpt,
)
from .serve import ChromaUrlOpt, TokenOpt
from .serve import install as _server_cli
from .settings import state


def _version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"semsearch {__version__}")
        raise typer.Exit()


@app.callback()
def global_options(
    home: HomeOpt = None,
    chroma_url: ChromaUrlOpt = None,
    token: TokenOpt = None,
    text_model: TextModelOpt = None,
    clip_model: ClipModelOpt = None,
    clip_pretrained: ClipPretrainedOpt = None,
    backend: BackendOpt = None,
    precision: PrecisionOpt = None,
    device: DeviceOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Search your photos, notes and documents by meaning."""
    state.reset()
    given = {"home": home, "chroma_url": chroma_url, "text_model": text_model,
             "clip_model": clip_model, "clip_pretrained": clip_pretrained,
             "backend": backend, "precision": precision, "device": device}
    state.flags.update({k: v for k, v in given.items() if v})
    state.token = token
    state.quiet, state.verbose = quiet, verbose


_server_cli(app)  # `serve`, and --chroma-url on every command (keep after all commands)
plain_help(app)


#: commands that never write to the vector store: they may skip interpreter teardown
FAST_EXIT = {"search", "similar", "recommend", "info", "collections", "profile", "show",
             "map"}
#: global options that take a value (skipped when looking for the command's name)
_VALUED = {"--home", "--chroma-url", "--token", "--text-model", "--clip-model",
           "--clip-pretrained", "--backend", "--precision", "--device"}


def _command(args: list[str]) -> str:
    it = iter(args)
    for a in it:
        if a in _VALUED:
            next(it, None)
        elif not a.startswith("-"):
            return a
    return ""


def _alone(name: str) -> list[Any] | None:
    """The registered top-level command called ``name``, alone (None for a group, a typo or
    no command)."""
    from typer.main import get_command_name

    found = [c for c in app.registered_commands if c.callback is not None and
             (c.name or get_command_name(c.callback.__name__)) == name]
    return found if len(found) == 1 else None


def main() -> Any:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    command = _command(sys.argv[1:])
    saved = app.registered_commands, app.registered_groups
    alone = _alone(command)
    if alone:  # build the one command run, not all (typer reads every signature: 60 ms)
        app.registered_commands, app.registered_groups = alone, []
    try:
        app()
    except SystemExit as e:
        code = e.code
    else:
        code = 0
    finally:
        app.registered_commands, app.registered_groups = saved
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

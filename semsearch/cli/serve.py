"""CLI pieces for server mode: ``semsearch serve``; and the options every command takes after
its name as well as before it: ``--chroma-url``, ``--token``, ``--quiet``, ``--verbose``."""

from __future__ import annotations

import functools
import inspect
import os
import time
from collections.abc import Callable
from typing import Annotated, Any

import typer

from .app import examples
from .options import QuietOpt, VerboseOpt
from .settings import chroma_url as pick_chroma_url
from .settings import home_dir, state

ChromaUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--chroma-url",
        metavar="URL",
        help="Use the Chroma server at http://HOST:PORT (default: $SEMSEARCH_CHROMA_URL; "
        "unset: the embedded store in --home).",
    ),
]
ENV = "SEMSEARCH_CHROMA_URL"
TOKEN_ENV = "SEMSEARCH_CHROMA_TOKEN"
TokenOpt = Annotated[
    str | None,
    typer.Option("--token", metavar="TOKEN",
                 help="Token for a server started with one (default: $SEMSEARCH_CHROMA_TOKEN)."),
]


def serve(
    host: Annotated[str, typer.Option(
        "--host", metavar="HOST",
        help="Address to listen on (another than loopback needs --token).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="N", help="Port to listen on.")] = 8000,
    token: Annotated[str | None, typer.Option(
        "--token", metavar="TOKEN",
        help="Require this token from clients (default: $SEMSEARCH_CHROMA_TOKEN).")] = None,
    home: Annotated[
        str | None,
        typer.Option("--home", metavar="PATH",
                     help="Data directory (default: $SEMSEARCH_HOME or XDG data dir)."),
    ] = None,
) -> None:
    """Start a Chroma server over the data directory, for several users or processes.

    Runs until Ctrl-C. Point the CLI at it with SEMSEARCH_CHROMA_URL=http://HOST:PORT (or
    --chroma-url). Refuses while another semsearch process writes the embedded store.
    Each client keeps its own lexical index and follows the server's change log: it reads
    only the chunks other clients changed since its last search. HNSW settings of new
    collections: SEMSEARCH_HNSW_EF_SEARCH, SEMSEARCH_HNSW_M.
    """
    from ..storage.server import serve as run_server
    from .app import errors

    with errors():
        code = run_server(home_dir(home), host, port, echo=lambda line: typer.echo(line, err=True),
                          token=token or state.token)
    raise typer.Exit(code)


def with_chroma_url(fn: Callable[..., Any], output: bool = True) -> Callable[..., Any]:
    """``fn`` with ``--chroma-url`` and ``--token`` (and, with ``output``, ``--quiet`` and
    ``--verbose``). The server's URL (this option, else the global one, the environment or
    the config file) is $SEMSEARCH_CHROMA_URL while it runs, so every Library the command
    opens uses the server."""
    if getattr(fn, "_chroma_url", False):
        return fn
    sig = inspect.signature(fn, eval_str=True)
    if "chroma_url" in sig.parameters:
        return fn

    @functools.wraps(fn)
    def command(*args: Any, chroma_url: str | None = None, chroma_token: str | None = None,
                quiet: bool = False, verbose: bool = False, **kwargs: Any) -> Any:
        given = {ENV: pick_chroma_url(chroma_url), TOKEN_ENV: chroma_token or state.token}
        before = {k: os.environ.get(k) for k in given}
        for k, v in given.items():
            if v:
                os.environ[k] = v
        state.quiet = state.quiet or quiet
        state.verbose = state.verbose or verbose
        start = time.monotonic()
        try:
            return fn(*args, **kwargs)
        finally:
            if state.verbose and not state.quiet:
                typer.echo(f"took {time.monotonic() - start:.2f}s", err=True)
            for k, v in before.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    extra = [inspect.Parameter("chroma_url", inspect.Parameter.KEYWORD_ONLY, default=None,
                               annotation=ChromaUrlOpt),
             inspect.Parameter("chroma_token", inspect.Parameter.KEYWORD_ONLY, default=None,
                               annotation=TokenOpt)]
    if output:
        extra += [inspect.Parameter("quiet", inspect.Parameter.KEYWORD_ONLY, default=False,
                                    annotation=QuietOpt),
                  inspect.Parameter("verbose", inspect.Parameter.KEYWORD_ONLY, default=False,
                                    annotation=VerboseOpt)]
    params = list(sig.parameters.values())
    at = next((i for i, p in enumerate(params) if p.kind is inspect.Parameter.VAR_KEYWORD),
              len(params))
    command.__signature__ = sig.replace(  # type: ignore[attr-defined]
        parameters=[*params[:at], *extra, *params[at:]])
    command.__annotations__ = {**getattr(fn, "__annotations__", {}), "chroma_url": ChromaUrlOpt,
                               "chroma_token": TokenOpt, "quiet": QuietOpt,
                               "verbose": VerboseOpt}
    command._chroma_url = True  # type: ignore[attr-defined]
    return command


def _all_apps(app: typer.Typer) -> list[typer.Typer]:
    apps = [app]
    for group in app.registered_groups:
        if group.typer_instance is not None:
            apps += _all_apps(group.typer_instance)
    return apps


def install(app: typer.Typer) -> None:
    """Register ``serve`` and give every command registered so far ``--chroma-url``.
    Idempotent: run again after late registrations."""
    if not any(c.name == "serve" for c in app.registered_commands):
        app.command("serve", epilog=examples(
            'semsearch serve --home /srv/semsearch --host 0.0.0.0 --port 8000 --token "$TOKEN"',
            'semsearch search "the quarterly plan" -c team --chroma-url http://server:8000 '
            '--token "$TOKEN"   # a client',
        ))(serve)
    for sub in _all_apps(app):
        for info in sub.registered_commands:
            if info.callback is not None and info.callback is not serve:
                # the TUI has its own -q (--query) and no output to quiet
                info.callback = with_chroma_url(info.callback, output=info.name != "tui"
                                                and getattr(info.callback, "__name__", "")
                                                != "tui")

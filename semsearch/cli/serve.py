"""CLI pieces for server mode: ``semsearch serve``, and ``--chroma-url`` on every command."""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from typing import Annotated, Any

import typer

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


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    home: Annotated[
        str | None,
        typer.Option("--home", help="Data directory (default: $SEMSEARCH_HOME or XDG data dir)."),
    ] = None,
) -> None:
    """Start a Chroma server over the data directory, for several users or processes.

    Runs until Ctrl-C. Point the CLI at it with SEMSEARCH_CHROMA_URL=http://HOST:PORT (or
    --chroma-url). Refuses while another semsearch process writes the embedded store.
    """
    from ..storage.server import serve as run_server
    from .app import errors

    with errors():
        code = run_server(home, host, port, echo=lambda line: typer.echo(line, err=True))
    raise typer.Exit(code)


def with_chroma_url(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with a ``--chroma-url`` option: set as $SEMSEARCH_CHROMA_URL while it runs, so
    every Library the command opens uses the server."""
    if getattr(fn, "_chroma_url", False):
        return fn
    sig = inspect.signature(fn, eval_str=True)
    if "chroma_url" in sig.parameters:
        return fn

    @functools.wraps(fn)
    def command(*args: Any, chroma_url: str | None = None, **kwargs: Any) -> Any:
        if not chroma_url:
            return fn(*args, **kwargs)
        before = os.environ.get(ENV)
        os.environ[ENV] = chroma_url
        try:
            return fn(*args, **kwargs)
        finally:
            if before is None:
                os.environ.pop(ENV, None)
            else:
                os.environ[ENV] = before

    extra = inspect.Parameter("chroma_url", inspect.Parameter.KEYWORD_ONLY, default=None,
                              annotation=ChromaUrlOpt)
    params = list(sig.parameters.values())
    at = next((i for i, p in enumerate(params) if p.kind is inspect.Parameter.VAR_KEYWORD),
              len(params))
    command.__signature__ = sig.replace(  # type: ignore[attr-defined]
        parameters=[*params[:at], extra, *params[at:]])
    command.__annotations__ = {**getattr(fn, "__annotations__", {}), "chroma_url": ChromaUrlOpt}
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
        app.command("serve")(serve)
    for sub in _all_apps(app):
        for info in sub.registered_commands:
            if info.callback is not None and info.callback is not serve:
                info.callback = with_chroma_url(info.callback)

"""The ``semsearch`` entry point: the app with every command registered."""

from __future__ import annotations

import os
import sys
from typing import Any

from . import collections, ingest, profile, search, tui  # noqa: F401 - register commands
from .app import app
from .serve import install as _server_cli

_server_cli(app)  # `serve`, and --chroma-url on every command (keep after all commands)


#: commands that never write to the vector store: they may skip interpreter teardown
FAST_EXIT = {"search", "similar", "recommend", "info", "collections", "profile"}


def main() -> Any:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
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

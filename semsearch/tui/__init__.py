"""``semsearch tui``: the terminal UI (Textual). Imported only by the CLI command and the
tests; the core never imports it.

    from semsearch.tui import create_app
    create_app(semsearch.open(), "photos").run()
"""

from __future__ import annotations

from .app import SemsearchApp, create_app

__all__ = ["SemsearchApp", "create_app"]

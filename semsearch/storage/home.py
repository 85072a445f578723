"""Where semsearch keeps its data: one directory."""

from __future__ import annotations

import os
from pathlib import Path


def resolve_home(home: str | os.PathLike[str] | None = None) -> Path:
    """``home`` argument, else ``$SEMSEARCH_HOME``, else ``$XDG_DATA_HOME/semsearch``."""
    if home:
        return Path(home).expanduser().resolve()
    env = os.environ.get("SEMSEARCH_HOME")
    if env:
        return Path(env).expanduser().resolve()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return (Path(xdg) / "semsearch").resolve()

"""Open an item with the system's viewer (``xdg-open``, ``open``, ``os.startfile``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable

Opener = Callable[[str], None]


def system_open(path: str) -> None:
    """Hand ``path`` to the desktop's default application, detached; OSError on failure."""
    if sys.platform == "win32":  # pragma: no cover
        os.startfile(path)  # type: ignore[attr-defined]  # noqa: S606
        return
    command = "open" if sys.platform == "darwin" else "xdg-open"
    if shutil.which(command) is None:
        raise OSError(f"{command} is not installed: cannot open {path}")
    subprocess.Popen(  # noqa: S603 - a fixed program and one path argument
        [command, path], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)

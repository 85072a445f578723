"""Open an item with the system's viewer (``xdg-open``, ``open``, ``os.startfile``), or, where
there is none, a text in the terminal: ``$EDITOR`` at the matching line, else ``$PAGER``."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

Opener = Callable[[str], None]

#: editors (and pagers) that take ``+LINE`` before the file to start at that line
PLUS_LINE = {"vi", "vim", "nvim", "gvim", "view", "nano", "pico", "emacs", "emacsclient",
             "micro", "kak", "joe", "jed", "ne", "mg", "more", "most", "mcedit"}
#: files that are no use in an editor or a pager
BINARY_SUFFIXES = {".pdf"}


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


def terminal_command(path: str, line: int | None,
                     env: Mapping[str, str] | None = None) -> list[str] | None:
    """The command that shows the text file ``path`` in the terminal: ``$VISUAL`` or
    ``$EDITOR`` (at ``line`` where the editor takes ``+LINE``), else ``$PAGER``; None when
    none is set (or the file is no text for them)."""
    env = os.environ if env is None else env
    if Path(path).suffix.lower() in BINARY_SUFFIXES:
        return None
    for var in ("VISUAL", "EDITOR", "PAGER"):
        value = env.get(var, "").strip()
        if not value:
            continue
        try:
            argv = shlex.split(value)
        except ValueError:
            continue
        if not argv:
            continue
        name = Path(argv[0]).name
        if line is not None and line > 1:
            if name in PLUS_LINE:
                argv.append(f"+{line}")
            elif name == "less":
                argv.append(f"+{line}g")
            elif name in {"hx", "helix"}:
                return [*argv, f"{path}:{line}"]
            elif name in {"code", "codium"}:
                return [*argv, "--goto", f"{path}:{line}"]
            elif name == "subl":
                return [*argv, f"{path}:{line}"]
        return [*argv, path]
    return None


def line_of(text: str, offset: int) -> int:
    """The line (from 1) that character ``offset`` of ``text`` is on."""
    return text.count("\n", 0, max(0, min(offset, len(text)))) + 1


def chunk_line(raw: str, start: int | None, chunk: str | None) -> int:
    """The line of a file (its ``raw`` text) where a hit's chunk starts: the line of its
    ``start`` offset where the chunk is there (plain text), else where the chunk's first words
    are in the file (markup, converted formats), the place nearest ``start`` first."""
    head = (chunk or "").strip().split("\n", 1)[0][:60].strip()
    at = start if start is not None and start >= 0 else 0
    if not head or raw.startswith(head, at):
        return line_of(raw, at)
    found = [m.start() for m in re.finditer(re.escape(head), raw)]
    if found:
        return line_of(raw, min(found, key=lambda n: abs(n - at)))
    return line_of(raw, at)

"""Walking folders: which files to ingest, with their stat."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileStat:
    path: str  # absolute
    size: int
    mtime_ns: int


def _matches(rel: str, patterns: Sequence[str]) -> bool:
    for pat in patterns:
        if fnmatch.fnmatch(rel, pat):
            return True
        if pat.startswith("**/") and fnmatch.fnmatch(rel, pat[3:]):
            return True
    return False


def walk(
    root: Path,
    extensions: set[str],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> Iterator[FileStat]:
    """Files below ``root`` (or ``root`` itself) with a supported extension.

    Hidden files and folders (a leading dot) are left out; symlinked folders are not followed.
    ``include``/``exclude`` are globs against the path relative to ``root`` (``**`` allowed).
    """
    if root.is_file():
        st = root.stat()
        if root.suffix.lower() in extensions:
            yield FileStat(str(root), st.st_size, st.st_mtime_ns)
        return
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                    continue
                if not entry.is_file():
                    continue
            except OSError:
                continue
            if os.path.splitext(entry.name)[1].lower() not in extensions:
                continue
            rel = os.path.relpath(entry.path, root).replace(os.sep, "/")
            if include and not _matches(rel, include):
                continue
            if exclude and _matches(rel, exclude):
                continue
            try:
                st = entry.stat()
            except OSError:
                continue
            yield FileStat(entry.path, st.st_size, st.st_mtime_ns)


def under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)

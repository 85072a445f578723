"""Walking folders: which files to ingest, with their stat.

Nothing is passed over silently: an unreadable folder, a special file (FIFO, socket, device),
a symlink loop, a name that is not valid UTF-8 or a path too long to open each gets one skip
line. A symlink whose target lies outside the tree being ingested is not followed unless
``follow_links`` (``--follow-links``): ingesting ``~/notes`` never reads ``/proc/self/...``.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import stat as st
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

SkipFn = Callable[[str, str], None]


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


def _why(e: OSError) -> str:
    if e.errno == errno.ELOOP:
        return "symlink loop"
    if e.errno == errno.ENAMETOOLONG:
        return "path too long"
    if e.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if e.errno == errno.ENOENT:
        return "broken symlink" if e.filename and os.path.islink(e.filename) else "vanished"
    return e.strerror or type(e).__name__


def valid_name(path: str) -> bool:
    """Whether a path can be stored and shown: valid UTF-8, no NUL."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in path


def walk(
    root: Path,
    extensions: set[str],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    on_skip: SkipFn | None = None,
    follow_links: bool = False,
) -> Iterator[FileStat]:
    """Files below ``root`` (or ``root`` itself) with a supported extension.

    Hidden files and folders (a leading dot) are left out; symlinked folders are not followed.
    ``include``/``exclude`` are globs against the path relative to ``root`` (``**`` allowed).
    """
    skip = on_skip or (lambda path, reason: None)
    if not root.is_dir():
        try:
            info = root.stat()
        except OSError as e:
            skip(str(root), _why(e))
            return
        if not st.S_ISREG(info.st_mode):
            skip(str(root), "not a regular file")
        elif not valid_name(str(root)):
            skip(str(root), "file name is not valid UTF-8")
        elif root.suffix.lower() in extensions:
            yield FileStat(str(root), info.st_size, info.st_mtime_ns)
        return
    top = str(root)
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            skip(folder, f"unreadable folder ({_why(e)})")
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                    continue
            except OSError as e:
                skip(entry.path, _why(e))
                continue
            if os.path.splitext(entry.name)[1].lower() not in extensions:
                continue
            rel = os.path.relpath(entry.path, root).replace(os.sep, "/")
            if include and not _matches(rel, include):
                continue
            if exclude and _matches(rel, exclude):
                continue
            found = _regular(entry, top, follow_links, skip)
            if found is not None:
                yield found


def _regular(entry: os.DirEntry[str], top: str, follow_links: bool, skip: SkipFn
             ) -> FileStat | None:
    """The entry's stat if it is a regular file we may read, else a skip line and None."""
    if not valid_name(entry.path):
        skip(entry.path, "file name is not valid UTF-8")
        return None
    try:
        info = entry.stat()  # follows a symlink
    except OSError as e:
        skip(entry.path, _why(e))
        return None
    if not st.S_ISREG(info.st_mode):
        kind = "a directory" if st.S_ISDIR(info.st_mode) else "not a regular file"
        if kind != "a directory":
            skip(entry.path, kind)
        return None
    if entry.is_symlink() and not follow_links:
        try:
            target = os.path.realpath(entry.path)
        except OSError as e:
            skip(entry.path, _why(e))
            return None
        if not under(target, top):
            skip(entry.path, f"link to {target}, outside the folder (--follow-links follows it)")
            return None
    return FileStat(entry.path, info.st_size, info.st_mtime_ns)


def under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)

"""Splitting an ingest across machines: ``semsearch ingest --shard I/N``.

A file belongs to shard ``I`` of ``N`` (``I`` from 1) when the SHA-1 of its path relative to
the ingest root it was found under, modulo ``N``, is ``I - 1``. The relative path (not the
absolute one) decides, so machines that mount the same tree at different places agree; a
root that is a file is keyed by its name. The assignment is stable: the same file always
falls in the same shard for the same ``N``, and the N shards cover every file exactly once.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable

from ..errors import ConfigError
from .scan import under

Shard = tuple[int, int]

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(text: str | Shard | None) -> Shard | None:
    """``"2/4"`` -> ``(2, 4)``; ``None`` -> ``None``."""
    if text is None:
        return None
    if isinstance(text, tuple):
        index, count = text
    else:
        m = _SHARD.match(text)
        if not m:
            raise ConfigError(f"bad shard {text!r}; use I/N, e.g. 2/4 (shards 1 to N)")
        index, count = int(m.group(1)), int(m.group(2))
    if count < 1 or not 1 <= index <= count:
        raise ConfigError(f"bad shard {index}/{count}; I runs from 1 to N")
    return index, count


def shard_key(path: str, root: str) -> str:
    """The name a file is sharded by: its path below ``root``, '/'-separated."""
    if path == root or not under(path, root):
        return os.path.basename(path)
    return os.path.relpath(path, root).replace(os.sep, "/")


def shard_of(key: str, count: int) -> int:
    """The shard (1..count) of a shard key."""
    digest = hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def in_shard(path: str, root: str, shard: Shard | None) -> bool:
    if shard is None:
        return True
    return shard_of(shard_key(path, root), shard[1]) == shard[0]


def root_of(path: str, roots: Iterable[str]) -> str:
    """The deepest of ``roots`` that holds ``path`` (``path`` itself if none does)."""
    best = path
    for root in roots:
        if under(path, root) and (best == path or len(root) > len(best)):
            best = root
    return best

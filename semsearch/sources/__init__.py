"""Ingest adapters by file extension."""

from __future__ import annotations

from pathlib import Path

from .base import FileRead, Item, ReadOptions, Source
from .images import ImageSource
from .records import RecordsSource
from .text import TextSource

SOURCES: list[Source] = [TextSource(), RecordsSource(), ImageSource()]


def source_for(path: Path) -> Source | None:
    suffix = path.suffix.lower()
    for source in SOURCES:
        if suffix in source.extensions:
            return source
    return None


def supported_extensions() -> set[str]:
    return {ext for s in SOURCES for ext in s.extensions}


__all__ = ["FileRead", "Item", "ReadOptions", "Source", "source_for", "supported_extensions"]

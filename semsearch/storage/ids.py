"""The id rules, written once: an item's chunks are ``ITEM_ID#CHUNK`` in every space."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def chroma_id(item_id: str, chunk: int) -> str:
    return f"{item_id}#{chunk}"


def item_of(chroma_ids: str) -> str:
    """The item a Chroma id belongs to."""
    return chroma_ids.rsplit("#", 1)[0]


def chunk_of(chroma_ids: str) -> int:
    tail = chroma_ids.rsplit("#", 1)
    return int(tail[1]) if len(tail) == 2 and tail[1].isdigit() else 0


def item_id(chroma_ids: str, metadata: Mapping[str, Any] | None) -> str:
    """A row's item id: its ``item_id`` metadata (semsearch's rows), else from the Chroma id."""
    found = (metadata or {}).get("item_id")
    return str(found) if found else item_of(chroma_ids)

"""Ingest adapters: each turns one file's bytes into items."""

from __future__ import annotations

import hashlib
import json
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..types import Modality


@dataclass
class Item:
    """One searchable thing: a file, or one record of a records file."""

    id: str
    modality: Modality
    path: str
    content_key: str  # sha256 of what is embedded: the same key means the same vectors
    metadata: dict[str, Any] = field(default_factory=dict)
    text: str | None = None
    image: Any = None  # a decoded, oriented RGB PIL image


@dataclass(frozen=True)
class ReadOptions:
    id_field: str | None = None
    text_fields: tuple[str, ...] = ()
    #: embed only the first window of each text (how sentence-transformers truncates)
    truncate: bool = False

    def to_json(self) -> str:
        d: dict[str, Any] = {"id_field": self.id_field, "text_fields": list(self.text_fields)}
        if self.truncate:
            d["truncate"] = True
        return json.dumps(d)

    def for_kind(self, kind: str) -> str:
        """What a file of ``kind`` records of these options: what changes its vectors."""
        if kind == "records":
            return self.to_json()
        if kind == "text" and self.truncate:
            return json.dumps({"truncate": True})
        return ""

    @classmethod
    def from_json(cls, raw: str | None) -> ReadOptions:
        if not raw:
            return cls()
        d = json.loads(raw)
        return cls(d.get("id_field"), tuple(d.get("text_fields") or ()), bool(d.get("truncate")))


@dataclass
class FileRead:
    items: list[Item]
    problems: list[str] = field(default_factory=list)  # e.g. bad records inside a good file


MiB = 1024 * 1024


class Source(ABC):
    """An adapter for a family of file extensions."""

    kind: str = ""
    extensions: tuple[str, ...] = ()
    #: files larger than this are skipped with their size and the limit, before any reading
    max_bytes: int = 64 * MiB

    def limit(self, path: Path) -> int:
        """The size limit for one file of this source."""
        return self.max_bytes

    @abstractmethod
    def read(self, path: Path, data: bytes, base: dict[str, Any], options: ReadOptions) -> FileRead:
        """Parse ``data`` (the file's bytes); raise BadInput when the file is unusable."""


def sha256(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


#: metadata key prefixes Chroma keeps for itself (``chroma:document``...); a field named so
#: is kept as ``field_`` + its name
RESERVED_PREFIXES = ("chroma:", "#")


def clean_key(key: str) -> str:
    key = str(key).replace("\x00", "")
    return f"field_{key}" if key.startswith(RESERVED_PREFIXES) else key


def clean_metadata(values: dict[str, Any]) -> dict[str, Any]:
    """Chroma metadata takes str, int, float and bool; others become JSON, None is dropped;
    reserved keys are renamed, NUL bytes and non-finite numbers dropped."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None or key == "" or key is None:
            continue
        name = clean_key(key)
        if not name:
            continue
        if (isinstance(value, float) and not math.isfinite(value)) or (
                isinstance(value, int) and not isinstance(value, bool)
                and not -(2**63) <= value < 2**63):
            out[name] = str(value)
        elif isinstance(value, bool | int | float):
            out[name] = value
        elif isinstance(value, str):
            out[name] = value.replace("\x00", "")
        else:
            out[name] = json.dumps(value, ensure_ascii=False, default=str).replace("\\u0000", "")
    return out

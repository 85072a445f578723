"""Ingest adapters: each turns one file's bytes into items."""

from __future__ import annotations

import hashlib
import json
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


class Source(ABC):
    """An adapter for a family of file extensions."""

    kind: str = ""
    extensions: tuple[str, ...] = ()

    @abstractmethod
    def read(self, path: Path, data: bytes, base: dict[str, Any], options: ReadOptions) -> FileRead:
        """Parse ``data`` (the file's bytes); raise BadInput when the file is unusable."""


def sha256(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def clean_metadata(values: dict[str, Any]) -> dict[str, Any]:
    """Chroma metadata takes str, int, float and bool; others become JSON, None is dropped."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None or key == "":
            continue
        if isinstance(value, bool | int | float | str):
            out[str(key)] = value
        else:
            out[str(key)] = json.dumps(value, ensure_ascii=False, default=str)
    return out

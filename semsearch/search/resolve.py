"""Inputs to vectors: item ids, paths, free text and images, as one query needs them.

* An input is, in this order: ``id:ID`` or an item id of the collection (its stored vectors);
  ``text:WORDS`` (free text); the path of an existing file (an ingested file stands for its
  stored item(s); any other image or text file is read and embedded on the fly); else free
  text (where free text is allowed: not in ``similar``).
* An item's vector in a space is the mean of its chunks' vectors there, normalised (an image
  has one chunk). A text file read on the fly is chunked as ingest chunks it and averaged the
  same way; free text is embedded as a search query is.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..errors import BadInput, ConfigError
from ..models.chunking import chunks_for
from ..sources import ReadOptions, source_for
from ..storage.ids import chroma_id
from .expression import TermKind

if TYPE_CHECKING:
    from ..models.registry import ModelRegistry
    from ..storage.catalog import ItemRow
    from ..storage.data_dir import DataDir
    from ..types import Modality, ModelSpec


@dataclass(eq=False)
class Example:
    """One resolved input: a stored item, a file read on the fly, free text, or an image."""

    label: str
    kind: Literal["item", "file", "text", "image"]
    modality: Modality
    item_id: str | None = None
    text: str | None = None
    image: Any = None
    text_chunks: int = 0
    clip_chunks: int = 0


def unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def read_query_image(path: Path) -> Any:
    """A query image from disk, decoded as ingest decodes images (bounded, one clear error)."""
    from ..sources.images import decode_image

    try:
        if not path.is_file():
            raise ConfigError(f"cannot read query image {path}: not a regular file")
        data = path.read_bytes()
        return decode_image(data)
    except OSError as e:
        raise ConfigError(f"cannot read query image {path}: {e.strerror or e}") from e
    except BadInput as e:
        raise ConfigError(f"cannot use query image {path}: {e}") from e


class Resolver:
    """Resolves one request's inputs and embeds what the store does not hold."""

    def __init__(self, data: DataDir, models: ModelRegistry, name: str, spec: ModelSpec) -> None:
        self.data = data
        self.models = models
        self.name = name
        self.spec = spec
        self._vectors: dict[tuple[int, str], np.ndarray | None] = {}

    # inputs ----------------------------------------------------------------------------------
    def resolve(self, ref: Any, *, allow_text: bool = True, kind: TermKind = "auto",
                label: str | None = None) -> list[Example]:
        """An input to its examples (a records file ingested stands for all its records)."""
        if isinstance(ref, Example):
            return [ref]
        if not isinstance(ref, str | os.PathLike):
            if kind not in ("auto", "image"):
                raise ConfigError(f"cannot read {type(ref).__name__} as {kind}")
            return [Example(label or "<image>", "image", "image", image=ref)]
        raw = os.fspath(ref)
        label = label or raw
        if isinstance(ref, str) and kind == "auto":
            if raw.startswith("id:"):
                kind, raw = "item", raw[3:]
            elif raw.startswith("text:") and allow_text:
                kind, raw = "text", raw[5:]
        if kind == "text":
            if not raw.strip():
                raise ConfigError("empty text")
            return [Example(label, "text", "text", text=raw)]
        catalog = self.data.catalog
        if kind in ("auto", "item"):
            row = catalog.item(self.name, raw)
            if row is not None:
                return [self._item_example(row, label)]
            if kind == "item":
                raise ConfigError(f"no item {raw!r} in collection {self.name!r}")
        path = Path(raw).expanduser()
        if path.is_file():
            if kind != "image":
                rows = catalog.items_of(self.name, str(path.resolve()))
                if rows:
                    return [self._item_example(r, label if len(rows) == 1 else r.item_id)
                            for r in rows]
            return self._read_file(path, label, image_only=kind == "image")
        if kind in ("path", "image") or isinstance(ref, os.PathLike):
            what = "cannot read query image" if kind == "image" else "cannot use"
            if path.exists():
                raise ConfigError(f"{what} {raw}: not a regular file")
            raise ConfigError(f"no such file: {raw}" if kind != "image"
                              else f"{what} {raw}: no such file or directory")
        if allow_text and raw.strip():
            return [Example(label, "text", "text", text=raw)]
        raise ConfigError(
            f"{raw!r} is neither an item of collection {self.name!r} nor a file"
        )

    @staticmethod
    def _item_example(row: ItemRow, label: str) -> Example:
        modality: Modality = "image" if row.modality == "image" else "text"
        return Example(label, "item", modality, item_id=row.item_id,
                       text_chunks=row.text_chunks, clip_chunks=row.clip_chunks)

    def _read_file(self, path: Path, label: str, image_only: bool) -> list[Example]:
        source = source_for(path)
        if source is None:
            raise ConfigError(f"cannot use {path}: unsupported file type {path.suffix or '(none)'}")
        if image_only and source.kind != "image":
            raise ConfigError(f"{path} is not an image")
        if source.kind == "image":
            return [Example(label, "file", "image", image=read_query_image(path))]
        try:
            data = path.read_bytes()
        except OSError as e:
            raise ConfigError(f"cannot read {path}: {e.strerror or e}") from e
        base = {"path": str(path), "modality": "text"}
        try:
            read = source.read(path, data, base, ReadOptions())
        except BadInput as e:
            raise ConfigError(f"cannot use {path}: {e}") from e
        out = [Example(label if len(read.items) == 1 else item.id, "file", "text", text=item.text)
               for item in read.items if item.modality == "text" and item.text]
        if not out:
            raise ConfigError(f"nothing to use in {path}")
        return out

    # vectors ---------------------------------------------------------------------------------
    def vectors(self, examples: Sequence[Example], space: str) -> list[np.ndarray | None]:
        """Each example's unit vector in ``space`` (None: it has none there)."""
        todo = [ex for ex in examples if (id(ex), space) not in self._vectors]
        stored = [ex for ex in todo if ex.kind == "item"]
        if stored:
            ids = {ex: [chroma_id(ex.item_id or "", c) for c in range(
                ex.text_chunks if space == "text" else ex.clip_chunks)] for ex in stored}
            found = self.data.store.vectors(self.name, space,
                                            [c for cs in ids.values() for c in cs])
            for ex, cids in ids.items():
                vecs = [found[c] for c in cids if c in found]
                self._vectors[(id(ex), space)] = unit(np.mean(vecs, axis=0)) if vecs else None
        texts = [ex for ex in todo if ex.kind in ("text", "file") and ex.modality == "text"]
        images = [ex for ex in todo if ex.image is not None]
        if space == "text" and images:
            for ex in images:
                self._vectors[(id(ex), space)] = None
            images = []
        if texts or images:
            emb = self.models.for_space(self.spec, space, self.name, texts_only=not images)
            chunks: list[tuple[Example, str]] = []
            for ex in texts:
                t = ex.text or ""
                if ex.kind == "text":
                    chunks.append((ex, t))
                else:
                    chunks += [(ex, c.text) for c in chunks_for(emb, t)]
            embedded = emb.embed_batch([c for _, c in chunks]) if chunks else np.zeros((0, 1))
            groups: dict[Example, list[np.ndarray]] = {}
            for (ex, _), v in zip(chunks, embedded, strict=True):
                groups.setdefault(ex, []).append(np.asarray(v, dtype=np.float32))
            for ex in texts:
                got = groups.get(ex)
                self._vectors[(id(ex), space)] = unit(np.mean(got, axis=0)) if got else None
            if images:
                prepared = [emb.prepare_image(ex.image) for ex in images]
                for ex, v in zip(images, emb.embed_prepared(prepared), strict=True):
                    self._vectors[(id(ex), space)] = unit(np.asarray(v, dtype=np.float32))
        return [self._vectors.get((id(ex), space)) for ex in examples]

"""Collections built outside semsearch: by plain Chroma code with semsearch's registered
embedding functions (``NAME.text``/``NAME.clip``, or one ``NAME``), or by another client of
the same server. They carry no semsearch metadata: a hit's modality is inferred (an image has
a URI and no document), its id is the Chroma id, and modality filters are skipped.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from ..types import ModelSpec

if TYPE_CHECKING:
    from .vectors import Match

SPACES = ("text", "clip")
#: the registered embedding function of each space (semsearch.storage.chroma_plugin)
EF_NAMES = {"text": "semsearch-text", "clip": "semsearch-clip"}


def ef_config(col: Any) -> tuple[str, dict[str, Any]]:
    """(name, config) of the embedding function in a Chroma collection's configuration."""
    conf = getattr(col, "configuration_json", None) or {}
    ef = conf.get("embedding_function") or {}
    if not isinstance(ef, dict) or ef.get("type") != "known":
        return "", {}
    return str(ef.get("name") or ""), dict(ef.get("config") or {})


def is_external(col: Any) -> bool:
    """Built outside semsearch: no semsearch metadata on its rows."""
    return not (getattr(col, "metadata", None) or {}).get("semsearch:collection")


def _without_modality(where: dict[str, Any] | None) -> dict[str, Any] | None:
    """``where`` less its ``modality`` conditions (external collections do not carry one)."""
    if not where:
        return None
    if "$and" in where and len(where) == 1:
        parts = [p for p in (_without_modality(w) for w in where["$and"]) if p]
        return None if not parts else parts[0] if len(parts) == 1 else {"$and": parts}
    if "modality" in where and len(where) == 1:
        return None
    return where


def _infer(match: Match, uri: str | None) -> None:
    """Fill in what semsearch's own rows carry: item id, modality, path."""
    meta = match.metadata
    meta.setdefault("item_id", match.chroma_id)
    if uri:
        meta.setdefault("path", uri[len("file://"):] if uri.startswith("file://") else uri)
    meta.setdefault("modality", "image" if uri and not match.document else "text")



class ForeignCollections:
    """The Store's view of what is in Chroma beyond semsearch's own catalog."""

    client: Any

    def _hold(self, exclusive: bool) -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError

    def _col(self, collection: str, space: str, models: ModelSpec | None = None) -> Any:
        raise NotImplementedError

    # collections built elsewhere ---------------------------------------------------------
    def names(self) -> list[str]:
        """semsearch collections in the store: its own, and those built with its embedding
        functions by plain Chroma code."""
        with self._hold(False):
            found: set[str] = set()
            for col in self.client.list_collections():
                meta = col.metadata or {}
                if meta.get("semsearch:collection"):
                    found.add(str(meta["semsearch:collection"]))
                    continue
                ef = ef_config(col)[0]
                space = next((s for s, n in EF_NAMES.items() if n == ef), None)
                if space is None:
                    continue
                stem, dot, suffix = col.name.rpartition(".")
                found.add(stem if dot and suffix == space else col.name)
            return sorted(found)

    def counts(self, collection: str) -> dict[str, int]:
        """Items per modality in the store (a text item has a chunk 0 in the text space)."""
        out: dict[str, int] = {}
        with self._hold(False):
            text, clip = self._col(collection, "text"), self._col(collection, "clip")
            for col in (c for c in (text, clip) if c is not None and is_external(c)):
                got = col.get(include=["uris", "documents"])
                for uri, doc in zip(got.get("uris") or [None] * len(got["ids"]),
                                    got.get("documents") or [None] * len(got["ids"]),
                                    strict=True):
                    if col is text or (uri and not doc):
                        key = "text" if col is text else "image"
                        out[key] = out.get(key, 0) + 1
                    elif text is None:
                        out["text"] = out.get("text", 0) + 1
            if clip is not None and not is_external(clip):
                out["image"] = len(clip.get(where={"modality": "image"}, include=[])["ids"])
            own = text if text is not None and not is_external(text) else None
            if own is None and clip is not None and not is_external(clip) and text is None:
                own = clip
            if own is not None:
                first = {"$and": [{"chunk": 0}, {"modality": "text"}]}
                out["text"] = len(own.get(where=first, include=[])["ids"])
        return {k: v for k, v in out.items() if v}

    def models_of(self, collection: str) -> tuple[ModelSpec, dict[str, int]] | None:
        """The models (and dimensions) a collection in the store was built with, read from
        its semsearch metadata or its embedding functions' configuration; None if absent."""
        from ..models.registry import default_spec

        with self._hold(False):
            cols = {space: self._col(collection, space) for space in SPACES}
            if all(c is None for c in cols.values()):
                return None
            for col in cols.values():
                meta = (col.metadata or {}) if col is not None else {}
                if meta.get("semsearch:text_model"):
                    spec = ModelSpec(str(meta["semsearch:text_model"]),
                                     str(meta.get("semsearch:clip_model") or "") or None,
                                     str(meta.get("semsearch:clip_pretrained") or "") or None,
                                     str(meta.get("semsearch:text_backend")
                                         or "sentence-transformers"),
                                     str(meta.get("semsearch:clip_backend") or "open-clip"))
                    break
            else:
                text = ef_config(cols["text"])[1] if cols["text"] is not None else {}
                clip = ef_config(cols["clip"])[1] if cols["clip"] is not None else None
                spec = default_spec(
                    str(text.get("model") or "") or None,
                    (str(clip.get("model") or "") or None) if clip is not None else "none",
                    (str(clip.get("pretrained") or "") or None) if clip is not None else None,
                )
                if spec.clip_model == "none":
                    spec = ModelSpec(spec.text_model, None, None)
            dims: dict[str, int] = {}
            for space, col in cols.items():
                if col is None:
                    continue
                got = col.get(limit=1, include=["embeddings"])
                if got["ids"]:
                    dims[space] = len(got["embeddings"][0])
            return spec, dims


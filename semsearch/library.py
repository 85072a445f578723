"""The library: a data directory holding collections, and the models they share."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .catalog import Catalog, CollectionRow
from .collection import Collection
from .embedders import load_backend
from .errors import CollectionNotFound, ConfigError, ModelMismatch, StoreLocked
from .home import resolve_home
from .lock import WriteLock, WritersLock
from .types import CollectionInfo, ModelSpec

if TYPE_CHECKING:
    from .embedders.base import Embedder
    from .profiles import Profile
    from .store import Store

DEFAULT_COLLECTION = "default"
_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?$")
NO_CLIP = {"", "none", "off", "no"}


def check_name(name: str) -> str:
    if not _NAME.match(name) or ".." in name:
        raise ConfigError(
            f"bad collection name {name!r}: use 1-100 letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit"
        )
    return name


class Library:
    """Open with :func:`semsearch.open`. Thread-safe for reading; one writer at a time."""

    def __init__(
        self,
        home: str | os.PathLike[str] | None = None,
        chroma_url: str | None = None,
        wait: bool = True,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.home = resolve_home(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.chroma_url = chroma_url or os.environ.get("SEMSEARCH_CHROMA_URL") or None
        self.catalog = Catalog(self.home / "catalog.sqlite")
        self.wait = wait
        self.on_wait = on_wait
        self._store: Store | None = None
        self._models: dict[tuple[str, ...], Embedder] = {}
        self._lock = threading.Lock()
        self._writers: WritersLock | None = None

    def __repr__(self) -> str:
        return f"Library({str(self.home)!r})"

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.catalog.close()

    @property
    def store(self) -> Store:
        if self._store is None:
            from .store import Store

            self._store = Store(self.home, self.chroma_url, wait=self.wait, on_wait=self.on_wait)
        return self._store

    def write_lock(self) -> contextlib.AbstractContextManager[Any]:
        """Embedded store: one writer at a time (waits, or fails with ``wait=False``).
        Server mode: writers run at once; the server orders their writes."""
        if self.chroma_url:
            if self._writers is None:
                self._writers = WritersLock(self.home)
            return self._writers
        return WriteLock(self.home, wait=self.wait, on_wait=self.on_wait)

    def sole_writer(self) -> contextlib.AbstractContextManager[bool]:
        """Inside :meth:`write_lock`: True if no other writer shares this catalog now (always
        for the embedded store); the others wait for the block to end."""
        if self.chroma_url and self._writers is not None:
            return self._writers.alone()
        return contextlib.nullcontext(True)

    def item_counts(self, name: str) -> dict[str, int]:
        """Items per modality: the catalog's, or the vector store's in server mode (other
        clients write there too) and for a collection this catalog holds no items of."""
        counts = self.catalog.counts(name)
        if self.chroma_url or (not counts and self._has_store()):
            with contextlib.suppress(StoreLocked):
                counts = self.store.counts(name)
        return counts

    def _has_store(self) -> bool:
        return bool(self.chroma_url) or (self.home / "chroma" / "chroma.sqlite3").exists()

    def _adopt(self, name: str) -> CollectionRow | None:
        """A collection the vector store has and this catalog does not (built by another
        client of the same server, or by plain Chroma code with semsearch's embedding
        functions): recorded here with the models its embedding functions name."""
        if not self._has_store():
            return None
        found = self.store.models_of(name)
        if found is None:
            return None
        spec, dims = found
        with contextlib.suppress(ConfigError):
            spec = self.resolve_models(spec)
        self.catalog.create_collection(name, spec)
        for space, dim in dims.items():
            self.catalog.set_dim(name, space, dim)
        return self.catalog.collection(name)

    # models ----------------------------------------------------------------------------------
    def embedder(self, backend: str, *args: str | None) -> Embedder:
        key = (backend, *[a or "" for a in args])
        with self._lock:
            if key not in self._models:
                self._models[key] = load_backend(backend)(*args)  # type: ignore[arg-type]
            return self._models[key]

    @staticmethod
    def resolve_models(spec: ModelSpec) -> ModelSpec:
        """Canonical names, so that 'all-MiniLM-L6-v2' and its full hub id compare equal."""
        from .embedders.clip import DEFAULT_CLIP_PRETRAINED, canonical_clip
        from .embedders.text import canonical_text_model

        text = canonical_text_model(spec.text_model)
        if spec.clip_model is None or spec.clip_model.lower() in NO_CLIP:
            return ModelSpec(text, None, None)
        model, pretrained = canonical_clip(
            spec.clip_model, spec.clip_pretrained if spec.clip_pretrained is not None
            else DEFAULT_CLIP_PRETRAINED
        )
        return ModelSpec(text, model, pretrained)

    # collections -----------------------------------------------------------------------------
    def collection(
        self,
        name: str = DEFAULT_COLLECTION,
        *,
        text_model: str | None = None,
        clip_model: str | None = None,
        clip_pretrained: str | None = None,
    ) -> Collection:
        """A collection by name; a new one is created by its first ingest.

        Models given for an existing collection must match the ones that built it.
        """
        from .embedders.clip import DEFAULT_CLIP_MODEL
        from .embedders.text import DEFAULT_TEXT_MODEL

        check_name(name)
        row = self.catalog.collection(name) or self._adopt(name)
        if row is None:
            spec = self.resolve_models(ModelSpec(
                text_model or DEFAULT_TEXT_MODEL,
                DEFAULT_CLIP_MODEL if clip_model is None else clip_model,
                clip_pretrained,
            ))
            return Collection(self, name, spec, exists=False)
        recorded = row.models
        if text_model is not None or clip_model is not None or clip_pretrained is not None:
            asked = self.resolve_models(ModelSpec(
                text_model or recorded.text_model,
                recorded.clip_model if clip_model is None else clip_model,
                clip_pretrained if clip_pretrained is not None else recorded.clip_pretrained,
            ))
            if asked != recorded:
                raise ModelMismatch(
                    f"collection {name!r} was built with {recorded.describe()}, not "
                    f"{asked.describe()}; run `semsearch reindex -c {name}` with the new models "
                    "to re-embed it"
                )
        return Collection(self, name, recorded, exists=True)

    def collections(self) -> list[CollectionInfo]:
        names = {row.name for row in self.catalog.collections()}
        if self._has_store():
            with contextlib.suppress(StoreLocked):
                names |= {n for n in self.store.names() if _NAME.match(n) and ".." not in n}
        return [self.collection(name).info() for name in sorted(names)]

    def remove(self, name: str) -> None:
        check_name(name)
        if not self.collection(name).exists:
            raise CollectionNotFound(name)
        with self.write_lock():
            self.store.drop(name)
            self.catalog.drop_collection(name)
            shutil.rmtree(self.home / "lexical" / name, ignore_errors=True)
            from .profiles import drop_profiles

            drop_profiles(self, name)

    def profile(self, name: str, collection: str = DEFAULT_COLLECTION) -> Profile:
        """A named, persistent set of liked and disliked items of a collection (its taste);
        see :class:`semsearch.profiles.Profile`."""
        from .profiles import Profile

        check_name(collection)
        return Profile(self, collection, name)


def open(  # noqa: A001 - mirrors the module-level API people expect: semsearch.open()
    home: str | os.PathLike[str] | None = None,
    chroma_url: str | None = None,
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
) -> Library:
    """Open the data directory (``home``, ``$SEMSEARCH_HOME`` or the XDG default)."""
    return Library(home, chroma_url=chroma_url, wait=wait, on_wait=on_wait)


__all__ = ["Library", "open", "DEFAULT_COLLECTION", "check_name", "Path"]

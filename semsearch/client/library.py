"""The library: a data directory holding collections, and the models they share."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CollectionNotFound, ConfigError, ModelMismatch, StoreLocked
from ..models.registry import ModelRegistry, default_spec, resolve, shared_registry
from ..storage.catalog import CollectionRow
from ..storage.data_dir import DataDir
from ..types import DEFAULT_COLLECTION, CollectionInfo, ModelSpec
from .collection import Collection

if TYPE_CHECKING:
    from ..storage.catalog import Catalog
    from ..storage.vectors import Store
    from .profiles import Profile

_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?$")


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise ConfigError(
            f"bad collection name {name!r}: use 1-100 letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit"
        )
    return name


class Library:
    """Open with :func:`semsearch.open`. Thread-safe for reading; one writer at a time.

    Built from its dependencies: a :class:`~semsearch.storage.data_dir.DataDir` (catalog,
    vector store, lexical indexes) and a :class:`~semsearch.models.registry.ModelRegistry`
    (the process's shared one unless given).
    """

    def __init__(
        self,
        home: str | os.PathLike[str] | None = None,
        chroma_url: str | None = None,
        wait: bool = True,
        on_wait: Callable[[str], None] | None = None,
        models: ModelRegistry | None = None,
    ) -> None:
        self.data = DataDir(home, chroma_url, wait=wait, on_wait=on_wait)
        self.models = models or shared_registry()

    @property
    def home(self) -> Path:
        return self.data.home

    @property
    def chroma_url(self) -> str | None:
        return self.data.chroma_url

    @property
    def on_wait(self) -> Callable[[str], None] | None:
        """Told when a write waits for another process (the CLI prints it, the TUI shows it)."""
        return self.data.on_wait

    @on_wait.setter
    def on_wait(self, fn: Callable[[str], None] | None) -> None:
        self.data.on_wait = fn
        if self.data._store is not None:
            self.data._store.on_wait = fn

    @property
    def catalog(self) -> Catalog:
        return self.data.catalog

    @property
    def store(self) -> Store:
        return self.data.store

    def __repr__(self) -> str:
        return f"Library({str(self.home)!r})"

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.data.close()

    def write_lock(self) -> contextlib.AbstractContextManager[Any]:
        return self.data.write_lock()

    def item_counts(self, name: str) -> dict[str, int]:
        return self.data.item_counts(name)

    def _adopt(self, name: str) -> CollectionRow | None:
        """A collection the vector store has and this catalog does not (built by another
        client of the same server, or by plain Chroma code with semsearch's embedding
        functions): recorded here with the models its embedding functions name."""
        if not self.data.has_store():
            return None
        found = self.store.models_of(name)
        if found is None:
            return None
        spec, dims = found
        with contextlib.suppress(ConfigError):
            spec = resolve(spec)
        self.catalog.create_collection(name, spec)
        for space, dim in dims.items():
            self.catalog.set_dim(name, space, dim)
        return self.catalog.collection(name)

    # models ----------------------------------------------------------------------------------
    @staticmethod
    def resolve_models(spec: ModelSpec) -> ModelSpec:
        """Canonical names, so that 'all-MiniLM-L6-v2' and its full hub id compare equal."""
        return resolve(spec)

    # collections -----------------------------------------------------------------------------
    def collection(
        self,
        name: str = DEFAULT_COLLECTION,
        *,
        text_model: str | None = None,
        clip_model: str | None = None,
        clip_pretrained: str | None = None,
        text_backend: str | None = None,
        clip_backend: str | None = None,
    ) -> Collection:
        """A collection by name; a new one is created by its first ingest.

        Models given for an existing collection must match the ones that built it. The
        backends name registered embedders (``semsearch.embedders`` entry points).
        """
        check_name(name)
        row = self.catalog.collection(name) or self._adopt(name)
        if row is None:
            spec = resolve(default_spec(text_model, clip_model, clip_pretrained, text_backend,
                                        clip_backend))
            return Collection(self, name, spec, exists=False)
        recorded = row.models
        if any(v is not None for v in (text_model, clip_model, clip_pretrained, text_backend,
                                       clip_backend)):
            asked = resolve(ModelSpec(
                text_model or recorded.text_model,
                recorded.clip_model if clip_model is None else clip_model,
                clip_pretrained if clip_pretrained is not None else recorded.clip_pretrained,
                text_backend or recorded.text_backend,
                clip_backend or recorded.clip_backend,
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
        if self.data.has_store():
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
            self.data.forget_lexical(name)
        from ..mapping.cache import forget

        forget(self.home, name)

    def profile(self, name: str, collection: str = DEFAULT_COLLECTION) -> Profile:
        """A named, persistent set of liked and disliked items of a collection (its taste);
        see :class:`semsearch.client.profiles.Profile`."""
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


__all__ = ["Library", "open", "DEFAULT_COLLECTION", "check_name"]

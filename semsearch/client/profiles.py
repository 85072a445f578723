"""Profiles: a named, persistent set of liked and disliked items, kept with a collection.

Stored in the library's catalog (``catalog.sqlite``), table ``profiles``, one row per
(collection, profile, kind, ref) with its polarity: liking an item that was disliked flips it.
``kind`` is ``item`` (an item id of the collection), ``file`` (an outside file, by absolute
path, embedded when used) or ``text`` (free text). ``recommend(profile=NAME)`` likes the
profile's likes, dislikes its unlikes, and never recommends an item the profile names.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import ConfigError
from ..search.resolve import Resolver
from ..types import Results

if TYPE_CHECKING:
    from .library import Library

Polarity = Literal["like", "unlike"]
EntryKind = Literal["item", "file", "text"]
MAX_NAME = 100


def check_profile_name(name: str) -> str:
    if not name or not name.strip() or len(name) > MAX_NAME or name != name.strip():
        raise ConfigError(f"bad profile name {name!r}: use 1-{MAX_NAME} characters, "
                          "no leading or trailing spaces")
    return name


@dataclass
class ProfileEntry:
    ref: str
    kind: EntryKind
    polarity: Polarity
    added: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Profile:
    """A user's taste in one collection; open with ``lib.profile(NAME, collection=...)``.
    Kept in the catalog (:mod:`semsearch.storage.catalog`)."""

    def __init__(self, lib: Library, collection: str, name: str) -> None:
        self.lib = lib
        self.collection = collection
        self.name = check_profile_name(name)

    def __repr__(self) -> str:
        return f"Profile({self.name!r}, collection={self.collection!r})"

    # reading -------------------------------------------------------------------------------
    def entries(self) -> list[ProfileEntry]:
        rows = self.lib.catalog.profile_entries(self.collection, self.name)
        return [ProfileEntry(*r) for r in rows]  # type: ignore[arg-type]

    @property
    def likes(self) -> list[ProfileEntry]:
        return [e for e in self.entries() if e.polarity == "like"]

    @property
    def unlikes(self) -> list[ProfileEntry]:
        return [e for e in self.entries() if e.polarity == "unlike"]

    @property
    def exists(self) -> bool:
        return bool(self.entries())

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.name,
            "collection": self.collection,
            "likes": [e.to_dict() for e in self.likes],
            "unlikes": [e.to_dict() for e in self.unlikes],
        }

    # writing -------------------------------------------------------------------------------
    def like(self, *refs: Any) -> list[ProfileEntry]:
        """Add items (ids or paths), files or text to the likes; returns what was stored."""
        return self._add(refs, "like")

    def unlike(self, *refs: Any) -> list[ProfileEntry]:
        return self._add(refs, "unlike")

    def _add(self, given: tuple[Any, ...], polarity: Polarity) -> list[ProfileEntry]:
        refs = _flatten(given)
        if not refs:
            raise ConfigError(f"give at least one item to {polarity}")
        col = self.lib.collection(self.collection)
        col._require()
        resolver = Resolver(self.lib.data, self.lib.models, col.name, col.models)
        keys: dict[tuple[str, str], None] = {}
        for ref in refs:
            if not isinstance(ref, str | os.PathLike):
                raise ConfigError("a profile keeps item ids, paths and text, not image objects")
            for ex in resolver.resolve(ref):
                if ex.kind == "item":
                    keys[("item", ex.item_id or "")] = None
                elif ex.kind == "file":
                    keys[("file", str(Path(os.fspath(ref)).expanduser().resolve()))] = None
                else:
                    keys[("text", ex.text or "")] = None
        now = time.strftime("%Y-%m-%dT%H:%M:%S")
        self.lib.catalog.set_profile_entries(self.collection, self.name, keys, polarity, now)
        return [ProfileEntry(ref, kind, polarity, now) for kind, ref in keys]  # type: ignore[arg-type]

    def forget(self, *refs: Any) -> int:
        """Remove items from the profile (liked or not); returns how many entries went."""
        names: set[str] = set()
        catalog = self.lib.catalog
        for ref in _flatten(refs):
            raw = os.fspath(ref)
            names |= {raw, raw.removeprefix("id:"), raw.removeprefix("text:"),
                      str(Path(raw).expanduser().resolve())}
            if catalog.collection(self.collection) is not None:
                path = str(Path(raw).expanduser().resolve())
                names |= {i.item_id for i in catalog.items_of(self.collection, path)}
        return catalog.forget_profile_entries(self.collection, self.name, names)

    def clear(self) -> int:
        return self.lib.catalog.clear_profile(self.collection, self.name)

    # using ---------------------------------------------------------------------------------
    def recommend(self, **kwargs: Any) -> Results:
        """``col.recommend(profile=NAME, ...)`` for this profile's collection."""
        return self.lib.collection(self.collection).recommend(profile=self.name, **kwargs)


def _flatten(refs: tuple[Any, ...]) -> list[Any]:
    out: list[Any] = []
    for r in refs:
        if isinstance(r, list | tuple | set):
            out += list(r)
        else:
            out.append(r)
    return out


def profile_names(lib: Library, collection: str) -> list[tuple[str, int, int]]:
    """(name, likes, unlikes) of every profile of a collection."""
    return lib.catalog.profile_names(collection)

"""Profiles: a named, persistent set of liked and disliked items, kept with a collection.

Stored in the library's catalog (``catalog.sqlite``), table ``profiles``, one row per
(collection, profile, kind, ref) with its polarity: liking an item that was disliked flips it.
``kind`` is ``item`` (an item id of the collection), ``file`` (an outside file, by absolute
path, embedded when used) or ``text`` (free text). ``recommend(profile=NAME)`` likes the
profile's likes, dislikes its unlikes, and never recommends an item the profile names.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .errors import ConfigError

if TYPE_CHECKING:
    from .collection import Results
    from .library import Library
    from .recommend import Engine, Example

Polarity = Literal["like", "unlike"]
EntryKind = Literal["item", "file", "text"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS profiles(
    collection TEXT NOT NULL, profile TEXT NOT NULL, kind TEXT NOT NULL, ref TEXT NOT NULL,
    polarity TEXT NOT NULL, added TEXT NOT NULL,
    PRIMARY KEY(collection, profile, kind, ref));
"""
MAX_NAME = 100


def ensure_schema(db: sqlite3.Connection) -> None:
    db.executescript(SCHEMA)


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
    """A user's taste in one collection; open with ``lib.profile(NAME, collection=...)``."""

    def __init__(self, lib: Library, collection: str, name: str) -> None:
        self.lib = lib
        self.collection = collection
        self.name = check_profile_name(name)
        ensure_schema(lib.catalog.db)

    def __repr__(self) -> str:
        return f"Profile({self.name!r}, collection={self.collection!r})"

    # reading -------------------------------------------------------------------------------
    def entries(self) -> list[ProfileEntry]:
        rows = self.lib.catalog.db.execute(
            "SELECT ref, kind, polarity, added FROM profiles WHERE collection=? AND profile=? "
            "ORDER BY added, rowid", (self.collection, self.name))
        return [ProfileEntry(*r) for r in rows]

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
        from .recommend import Engine

        refs = _flatten(given)
        if not refs:
            raise ConfigError(f"give at least one item to {polarity}")
        engine = Engine(self.lib.collection(self.collection))
        keys: dict[tuple[str, str], None] = {}
        for ref in refs:
            if not isinstance(ref, str | os.PathLike):
                raise ConfigError("a profile keeps item ids, paths and text, not image objects")
            for ex in engine.resolve(ref):
                if ex.kind == "item":
                    keys[("item", ex.item_id or "")] = None
                elif ex.kind == "file":
                    keys[("file", str(Path(os.fspath(ref)).expanduser().resolve()))] = None
                else:
                    keys[("text", ex.text or "")] = None
        now = time.strftime("%Y-%m-%dT%H:%M:%S")
        with self.lib.catalog.transaction() as db:
            db.executemany(
                "INSERT INTO profiles(collection, profile, kind, ref, polarity, added) "
                "VALUES (?,?,?,?,?,?) ON CONFLICT(collection, profile, kind, ref) "
                "DO UPDATE SET polarity=excluded.polarity, added=excluded.added",
                [(self.collection, self.name, kind, ref, polarity, now) for kind, ref in keys])
        return [ProfileEntry(ref, kind, polarity, now) for kind, ref in keys]  # type: ignore[arg-type]

    def forget(self, *refs: Any) -> int:
        """Remove items from the profile (liked or not); returns how many entries went."""
        names: set[str] = set()
        for ref in _flatten(refs):
            raw = os.fspath(ref)
            names |= {raw, raw.removeprefix("id:"), raw.removeprefix("text:"),
                      str(Path(raw).expanduser().resolve())}
            if self.lib.catalog.collection(self.collection) is not None:
                path = str(Path(raw).expanduser().resolve())
                names |= {i.item_id for i in self.lib.catalog.items_of(self.collection, path)}
        if not names:
            return 0
        marks = ",".join("?" * len(names))
        with self.lib.catalog.transaction() as db:
            cur = db.execute(
                f"DELETE FROM profiles WHERE collection=? AND profile=? AND ref IN ({marks})",
                (self.collection, self.name, *names))
            return int(cur.rowcount)

    def clear(self) -> int:
        with self.lib.catalog.transaction() as db:
            cur = db.execute("DELETE FROM profiles WHERE collection=? AND profile=?",
                             (self.collection, self.name))
            return int(cur.rowcount)

    # using ---------------------------------------------------------------------------------
    def recommend(self, **kwargs: Any) -> Results:
        """``col.recommend(profile=NAME, ...)`` for this profile's collection."""
        return self.lib.collection(self.collection).recommend(profile=self.name, **kwargs)

    def examples(self, engine: Engine) -> tuple[list[Example], list[Example], set[str]]:
        """Likes and unlikes as resolved inputs, and every item id the profile names.

        An item gone from the collection, or a file gone from disk, is left out with a
        warning on the engine.
        """
        likes: list[Example] = []
        unlikes: list[Example] = []
        items: set[str] = set()
        for e in self.entries():
            if e.kind == "item":
                items.add(e.ref)
            try:
                if e.kind == "item":
                    found = engine.resolve(e.ref, kind="item", label=e.ref)
                elif e.kind == "file":
                    found = engine.resolve(Path(e.ref), kind="path", label=e.ref)
                else:
                    found = engine.resolve(e.ref, kind="text", label=e.ref)
            except ConfigError as err:
                engine.warnings.append(f"profile {self.name!r}: {err}; left out")
                continue
            items |= {ex.item_id for ex in found if ex.item_id}
            (likes if e.polarity == "like" else unlikes).extend(found)
        return likes, unlikes, items


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
    ensure_schema(lib.catalog.db)
    rows = lib.catalog.db.execute(
        "SELECT profile, sum(polarity='like'), sum(polarity='unlike') FROM profiles "
        "WHERE collection=? GROUP BY profile ORDER BY profile", (collection,))
    return [(r[0], int(r[1]), int(r[2])) for r in rows]


def drop_profiles(lib: Library, collection: str) -> None:
    """Forget every profile of a collection (when the collection is removed)."""
    ensure_schema(lib.catalog.db)
    lib.catalog.db.execute("DELETE FROM profiles WHERE collection=?", (collection,))

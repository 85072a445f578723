"""The catalog's profile rows: a named, lasting set of liked and disliked items of a
collection (table ``profiles``: collection, profile, kind, ref, polarity, added)."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any


class ProfileRows:
    """Mixed into :class:`~.catalog.Catalog`: the SQL of profiles."""

    db: Any

    def transaction(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def profile_entries(self, name: str, profile: str) -> list[tuple[str, str, str, str]]:
        """(ref, kind, polarity, added) of a profile's entries, oldest first."""
        rows = self.db.execute(
            "SELECT ref, kind, polarity, added FROM profiles WHERE collection=? AND profile=? "
            "ORDER BY added, rowid", (name, profile))
        return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows]

    def set_profile_entries(self, name: str, profile: str, keys: Iterable[tuple[str, str]],
                            polarity: str, added: str) -> None:
        """Store (kind, ref) entries with ``polarity`` (an entry already there flips)."""
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO profiles(collection, profile, kind, ref, polarity, added) "
                "VALUES (?,?,?,?,?,?) ON CONFLICT(collection, profile, kind, ref) "
                "DO UPDATE SET polarity=excluded.polarity, added=excluded.added",
                [(name, profile, kind, ref, polarity, added) for kind, ref in keys])

    def forget_profile_entries(self, name: str, profile: str, refs: Iterable[str]) -> int:
        refs = list(refs)
        if not refs:
            return 0
        marks = ",".join("?" * len(refs))
        with self.transaction() as db:
            cur = db.execute(
                f"DELETE FROM profiles WHERE collection=? AND profile=? AND ref IN ({marks})",
                (name, profile, *refs))
            return int(cur.rowcount)

    def clear_profile(self, name: str, profile: str) -> int:
        with self.transaction() as db:
            cur = db.execute("DELETE FROM profiles WHERE collection=? AND profile=?",
                             (name, profile))
            return int(cur.rowcount)

    def profile_names(self, name: str) -> list[tuple[str, int, int]]:
        """(profile, likes, unlikes) of every profile of a collection."""
        rows = self.db.execute(
            "SELECT profile, sum(polarity='like'), sum(polarity='unlike') FROM profiles "
            "WHERE collection=? GROUP BY profile ORDER BY profile", (name,))
        return [(str(r[0]), int(r[1]), int(r[2])) for r in rows]

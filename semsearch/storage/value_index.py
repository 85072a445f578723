"""Value indexes: SQLite indexes on one metadata field's value of the lexical index's rows,
so that a selective ``--where`` filter finds its rows at once in a large collection.

Each row of ``lexical_ids`` keeps its chunk's metadata as JSON (:mod:`.lexical`); a filter
is compiled to SQL over it (:mod:`.where_sql`) and checked row by row. Checking 1M rows
takes seconds. An expression index on ``json_extract(meta, '$."field"')`` (one per field,
over every collection's rows) finds the rows holding a value in milliseconds, and SQLite
keeps it up to date with every write.

Only fields that filters use get one: the first filtered query on a field of a collection
of :data:`INDEX_FROM` chunks or more that has the field creates it (once, about 2.5 s per
million chunks of all collections; it says so), so space and write cost go only to the
fields people filter by. A catalog that cannot be written (read-only, locked too long) is
filtered without it, and the process does not try again.

What uses them: a filtered dense query over the vector index scores the passing rows
exactly when they are few (:mod:`.vector_index`), and a filtered lexical query checks FTS5's
matches against the passing rows' ids instead of each match's metadata (:mod:`.lexical`).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import CatalogError
from .where_sql import index_atoms

#: collections from this many chunks get an index for each field their filters use
INDEX_FROM = 50_000
_PREFIX = "lexical_ids_value_"
SqlFilter = tuple[str, list[Any]]
#: (catalog, field) whose index this process tried to make, and (catalog, field,
#: collection) a collection lacks: not tried again
_TRIED: set[tuple[str, ...]] = set()
#: rows of a collection looked at for a field before its index is made
HOLDS_SAMPLE = 20_000


def expression(key: str, column: str = "meta", function: str = "json_extract") -> str:
    """The indexed expression: the field's value in the row's metadata (a query must spell
    it exactly so for SQLite to use the index)."""
    path = '$."' + key + '"'
    return f"{function}({column}, '" + path.replace("'", "''") + "')"


def index_name(key: str) -> str:
    return _PREFIX + hashlib.sha1(key.encode()).hexdigest()[:16]


def existing(db: Any) -> set[str]:
    return {r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type='index' AND name GLOB ?", (_PREFIX + "*",))}


def fields(db: Any) -> list[str]:
    """The metadata fields that have a value index in this catalog, sorted."""
    out = []
    for (sql,) in db.execute("SELECT sql FROM sqlite_master WHERE type='index' AND name "
                             "GLOB ?", (_PREFIX + "*",)):
        found = re.search(r"""'\$\."(.*)"'\)\)$""", str(sql or ""), re.DOTALL)
        if found:
            out.append(found.group(1).replace("''", "'"))
    return sorted(out)


def _holds(db: Any, collection: str, key: str) -> bool:
    """Whether the collection has the field, in a sample of its rows (a mistyped field gets
    no index, and costs a fresh process little); False where the rows cannot be read."""
    try:
        return db.execute(
            f"SELECT 1 FROM (SELECT meta FROM lexical_ids WHERE collection=? LIMIT ?) WHERE "
            f"{expression(key, function='json_type')} IS NOT NULL LIMIT 1",
            (collection, HOLDS_SAMPLE)).fetchone() is not None
    except CatalogError:  # (a row from before NaN was written as text, say)
        return False


def create(transaction: Callable[[], Any], keys: set[str]) -> None:
    """Create the fields' indexes (in one transaction). Raises CatalogError."""
    with transaction() as db:
        for key in sorted(keys):
            db.execute(f"CREATE INDEX IF NOT EXISTS {index_name(key)} ON lexical_ids("
                       f"collection, {expression(key)})")


@dataclass(frozen=True)
class Narrow:
    """SQL over ``lexical_ids i`` that value indexes serve, met by every row passing a
    filter; ``exact``: met by those rows only (the filter need not be checked again)."""

    sql: str
    params: list[Any]
    exact: bool

    def where(self, sql: SqlFilter) -> SqlFilter:
        """This and the filter ``sql`` (unless this is exact), as one condition."""
        return (self.sql, self.params) if self.exact else \
            (f"{self.sql} AND {sql[0]}", [*self.params, *sql[1]])


def narrowing(db: Any, collection: str, where: dict[str, Any] | None, size: int,
              transaction: Callable[[], Any],
              say: Callable[[str], None] | None = None) -> Narrow | None:
    """The :class:`Narrow` of ``where`` (its fields' indexes are created here, once, for a
    collection of ``size`` >= :data:`INDEX_FROM` chunks that has the field); None when no
    clause of ``where`` has an index."""
    atoms, whole = index_atoms(where)
    if not atoms:
        return None
    have = existing(db)
    place = str(getattr(db, "path", id(db)))
    missing = {key for key, *_ in atoms if index_name(key) not in have and
               (place, key) not in _TRIED and (place, key, collection) not in _TRIED}
    if missing and size >= INDEX_FROM:
        lacks = {key for key in missing if not _holds(db, collection, key)}
        _TRIED.update((place, key, collection) for key in lacks)
        missing -= lacks
        _TRIED.update((place, key) for key in missing)  # (a failure is not tried again)
        if missing and say is not None:
            say(f"indexing the metadata field{'s' if len(missing) > 1 else ''} "
                f"{', '.join(repr(k) for k in sorted(missing))} for filters (once)")
        with contextlib.suppress(CatalogError):  # read-only or busy: filtered without it
            if missing:
                create(transaction, missing)
        have = existing(db)
    used = [a for a in atoms if index_name(a[0]) in have]
    if not used:
        return None
    return Narrow(" AND ".join(sql.format(value=expression(key, "i.meta"))
                               for key, sql, _, _ in used),
                  [p for _, _, params, _ in used for p in params],
                  whole and len(used) == len(atoms) and all(a[3] for a in used))

"""What the filter bar and the sort menu ask for; no widgets here.

The filter bar takes metadata filters (``year<1960 author="Ernest Hemingway"``, as the CLI's
``--where``) and three of its own: ``folder:PATH`` (items of files under a folder),
``since:DATE`` and ``until:DATE`` (by the file's modification time; ``2024``, ``2024-05`` or
``2024-05-17``, ``until`` taking in the whole day). :func:`parse_filters` reads them,
:func:`build_where` turns them into the client's ``where``. :func:`sort_hits` orders a list
by relevance, date or path; :class:`FilterSuggester` completes metadata keys as one types.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from textual.suggester import Suggester

from ..errors import ConfigError
from ..search.filters import and_where, parse_where
from ..types import Hit

if TYPE_CHECKING:
    from ..client.collection import Collection

Sort = Literal["relevance", "date", "path"]
SORTS: tuple[Sort, ...] = ("relevance", "date", "path")
SORT_LABELS: dict[str, str] = {"relevance": "relevance", "date": "newest", "path": "path"}
#: the filter bar's own keys (``folder:notes``), offered by the completion too
SPECIAL_KEYS: tuple[str, ...] = ("folder:", "since:", "until:")
_SPECIAL = re.compile(r"^(folder|since|until):(.*)$", re.DOTALL)
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")
#: metadata keys that are not worth filtering on (the preview hides them too)
INTERNAL_KEYS = frozenset({"sha256", "source_sha256", "sha256_file", "record", "item_id",
                           "chunk", "start", "end", "modality"})


@dataclass(frozen=True)
class Filters:
    """The filter bar, read: metadata filters as :func:`parse_where` takes them, the folder
    (absolute) and the modification-time bounds (seconds; ``until`` excluded)."""

    where: tuple[str, ...] = ()
    folder: str | None = None
    since: float | None = None
    until: float | None = None

    def __bool__(self) -> bool:
        return bool(self.where) or self.folder is not None or self.since is not None \
            or self.until is not None


def parse_date(text: str, end: bool = False) -> float:
    """``2024``, ``2024-05``, ``2024-05-17`` (local time) as seconds: the period's start, or
    with ``end`` the start of the next one."""
    m = _DATE.match(text.strip())
    if not m:
        raise ConfigError(f"bad date {text!r}; use YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1)
    try:
        start = datetime(year, month, day)
        if not end:
            return start.timestamp()
        if m.group(3):
            return datetime.fromordinal(start.toordinal() + 1).timestamp()
        if m.group(2):
            return datetime(year + month // 12, month % 12 + 1, 1).timestamp()
        return datetime(year + 1, 1, 1).timestamp()
    except ValueError as e:
        raise ConfigError(f"bad date {text!r}: {e}") from e


def parse_filters(text: str, root: Path | None = None) -> Filters:
    """``year<1960 author="Ernest Hemingway" folder:notes since:2024`` (shell-style quoting;
    commas between filters are fine too). A relative folder is taken from ``root`` (default:
    the working directory). ConfigError for anything it cannot read."""
    try:
        parts = shlex.split(text.replace(",", " ") if '"' not in text and "'" not in text
                            else text)
    except ValueError as e:
        raise ConfigError(f"bad filters {text!r}: {e}") from e
    where: list[str] = []
    folder: str | None = None
    since = until = None
    for part in parts:
        m = _SPECIAL.match(part)
        if m is None:
            where.append(part)
            continue
        key, value = m.group(1), m.group(2).strip()
        if not value:
            what = "folder" if key == "folder" else "date"
            raise ConfigError(f"bad filter {part!r}: give a {what}")
        if key == "folder":
            p = Path(value).expanduser()
            base = root if root is not None else Path.cwd()
            folder = os.path.normpath(p if p.is_absolute() else base / p)
        elif key == "since":
            since = parse_date(value)
        else:
            until = parse_date(value, end=True)
    parse_where(where)  # one clear error now rather than from the search
    return Filters(tuple(where), folder, since, until)


def files_under(col: Collection, folder: str) -> list[str]:
    """The collection's files under ``folder``."""
    prefix = folder.rstrip(os.sep) + os.sep
    return sorted(p for p in col.lib.catalog.files(col.name) if p.startswith(prefix))


def build_where(col: Collection, filters: Filters) -> tuple[dict[str, Any] | None, bool]:
    """The client's ``where`` for ``filters``, and whether anything can pass it (False when
    no file of the collection is under the folder)."""
    parts: list[dict[str, Any] | None] = [parse_where(list(filters.where))]
    if filters.since is not None:
        parts.append({"mtime": {"$gte": filters.since}})
    if filters.until is not None:
        parts.append({"mtime": {"$lt": filters.until}})
    if filters.folder is not None:
        paths = files_under(col, filters.folder)
        if not paths:
            return None, False
        parts.append({"path": {"$in": paths}})
    return and_where(*parts), True


def sort_hits(hits: Sequence[Hit], how: str) -> list[Hit]:
    """By relevance (the ranks the collection gave), date (newest first) or path."""
    if how == "date":
        def newest(h: Hit) -> tuple[float, int]:
            mtime = h.metadata.get("mtime")
            return (-float(mtime) if isinstance(mtime, int | float) else float("inf"), h.rank)

        return sorted(hits, key=newest)
    if how == "path":
        return sorted(hits, key=lambda h: ((h.path or h.id).lower(), h.rank))
    return sorted(hits, key=lambda h: h.rank)


def metadata_keys(hits: Iterable[Hit]) -> set[str]:
    """The metadata keys worth filtering on that these hits hold."""
    return {k for h in hits for k in h.metadata if k not in INTERNAL_KEYS}


class FilterSuggester(Suggester):
    """Completes the filter being typed (the last word) with a metadata key, or one of
    ``folder:``, ``since:``, ``until:``; ``keys`` says which metadata keys there are."""

    def __init__(self, keys: Callable[[], Iterable[str]]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.keys = keys

    async def get_suggestion(self, value: str) -> str | None:
        head, _, last = value.rpartition(" ")
        if not last or re.search(r"[=<>!:\"']", last) or value.count('"') % 2 \
                or value.count("'") % 2:
            return None
        names = sorted(self.keys()) + list(SPECIAL_KEYS)
        for name in names:
            if name.startswith(last) and name != last:
                return (head + " " if head else "") + name
        return None

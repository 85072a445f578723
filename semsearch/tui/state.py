"""What the terminal UI asks of the client, and what it remembers; no widgets here.

:class:`Options` is how the app was started. A :class:`Request` is one question to the
collection (search, more like this, recommend); :func:`execute` answers it with the same
Python client the CLI uses. :class:`Taste` holds the likes and dislikes shown as chips.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote, urlparse

from ..errors import ConfigError
from ..types import Hit, Results, ResultType
from .listing import Filters, build_where
from .opener import Opener, system_open

if TYPE_CHECKING:
    from textual.widget import Widget

    from ..client.collection import Collection

RequestKind = Literal["search", "similar", "recommend"]
Polarity = Literal["like", "unlike"]

DEFAULT_K = 10
MAX_K = 200
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic",
                  ".heif"}
TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".rst", ".html", ".htm", ".pdf"}
TYPE_LABELS: dict[str, str] = {"any": "both", "image": "images", "text": "texts"}


@dataclass(frozen=True)
class Options:
    """How the app was started (:func:`semsearch.tui.create_app`'s arguments)."""

    query: str = ""  # the query bar's first values
    result_type: ResultType = "any"
    k: int = DEFAULT_K
    filters: str = ""
    image_class: type[Widget] | None = None  # draws pictures; None: text placeholders
    root: Path | None = None  # paths are shown relative to it
    opener: Opener = system_open
    profile: str | None = None  # keeps the likes and dislikes
    models: dict[str, str] = field(default_factory=dict)  # for a collection not made yet
    show_all: bool = False  # show the hits below the relevance floor too (``a`` toggles)


@dataclass(frozen=True)
class Request:
    """One question: ``search`` (text or an image path), ``similar`` (more like ``item``)
    or ``recommend`` (from ``like``/``unlike``). ``floor``: hide the hits below the relevance
    floor; ``offset``: the page (how many hits come before it)."""

    kind: RequestKind = "search"
    text: str | None = None
    image: str | None = None
    item: str | None = None
    item_label: str = ""
    like: tuple[str, ...] = ()
    unlike: tuple[str, ...] = ()
    type: ResultType = "any"
    k: int = DEFAULT_K
    where: Filters = Filters()
    floor: bool = True
    offset: int = 0
    from_bar: bool = False  # the query bar's own answer (not more like this, recommend)
    seq: int = 0

    def with_options(self, type: ResultType, k: int, where: Filters) -> Request:
        return replace(self, type=type, k=k, where=where, offset=0)

    def title(self) -> str:
        """What the results are, for the results pane's title."""
        if self.kind == "similar":
            return f"more like {self.item_label or self.item}"
        if self.kind == "recommend":
            return f"recommended from {plural(len(self.like), 'like')}, " \
                   f"{plural(len(self.unlike), 'dislike')}"
        if self.image:
            return f"like the image {Path(self.image).name}"
        return f"“{ellipsize(self.text or '', 40)}”"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def ellipsize(text: str, width: int) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def fit_path(label: str, width: int) -> str:
    """A path shortened to ``width`` at its folder boundaries (``…/notes/rain.md``), never
    through a word of its file name but at the end (``unfinis….md``)."""
    if width <= 1 or len(label) <= width:
        return label if width > 1 else label[:max(width, 0)]
    parts = label.split("/")
    for n in range(1, len(parts)):
        tail = "…/" + "/".join(parts[n:])
        if len(tail) <= width:
            return tail
    name = parts[-1]
    stem, dot, suffix = name.rpartition(".")
    if dot and stem and 0 < len(suffix) <= 5 and len(suffix) + 3 <= width:
        return stem[: width - len(suffix) - 2] + "…." + suffix
    return name[: width - 1] + "…"


def execute(col: Collection, req: Request) -> Results:
    """Answer a request with the client (raises SemsearchError for anything it refuses)."""
    where, possible = build_where(col, req.where)
    if not possible:
        return Results()
    k, type, offset, floor = req.k, req.type, req.offset, req.floor
    if req.kind == "similar":
        assert req.item is not None
        return col.similar(req.item, k=k, type=type, where=where, offset=offset, floor=floor)
    if req.kind == "recommend":
        return col.recommend(list(req.like), list(req.unlike), k=k, type=type, where=where,
                             offset=offset, floor=floor)
    if req.image:
        return col.search(image=req.image, k=k, type=type, where=where, offset=offset,
                          floor=floor)
    return col.search(req.text, k=k, type=type, where=where, offset=offset, floor=floor)


# the query bar -------------------------------------------------------------------------------
def path_in_query(text: str) -> str | None:
    """The path a query stands for, if it is one: typed, pasted or dropped onto the terminal
    (quoted, ``file://`` URL, backslash-escaped spaces). None for ordinary text."""
    s = text.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        s = s[1:-1]
    if s.startswith("file://"):
        s = unquote(urlparse(s).path)
    elif os.name != "nt" and "\\" in s:
        s = re.sub(r"\\(.)", r"\1", s)
    if not s or "\n" in s:
        return None
    suffix = Path(s).suffix.lower()
    looks_like_path = s.startswith(("/", "~", "./", "../", ".\\")) or re.match(r"^[A-Za-z]:\\", s)
    if suffix not in IMAGE_SUFFIXES | TEXT_SUFFIXES:
        return None
    p = Path(s).expanduser()
    if p.is_file():
        return str(p.resolve())
    if looks_like_path or (" " not in s and "/" in s):
        raise ConfigError(f"no such file: {s}")
    return None


def search_request(text: str) -> Request | None:
    """The request the query bar's text makes: an image path searches by the image, a text
    file's path finds items like it, anything else is a text query. None when empty."""
    if not text.strip():
        return None
    path = path_in_query(text)
    if path is None:
        return Request("search", text=text.strip())
    if Path(path).suffix.lower() in IMAGE_SUFFIXES:
        return Request("search", image=path)
    return Request("similar", item=path, item_label=Path(path).name)


def parse_k(text: str) -> int:
    try:
        k = int(text.strip())
    except ValueError:
        return DEFAULT_K
    return max(1, min(MAX_K, k))


# likes and dislikes --------------------------------------------------------------------------
@dataclass
class Chip:
    ref: str  # item id
    label: str
    polarity: Polarity


@dataclass
class Taste:
    """Likes and dislikes so far, in the order given; liking a disliked item flips it."""

    chips: list[Chip] = field(default_factory=list)

    def add(self, ref: str, label: str, polarity: Polarity) -> bool:
        """Returns False when the item already had that polarity."""
        for chip in self.chips:
            if chip.ref == ref:
                if chip.polarity == polarity:
                    return False
                self.chips.remove(chip)
                break
        self.chips.append(Chip(ref, label, polarity))
        return True

    def remove(self, ref: str) -> Chip | None:
        for chip in self.chips:
            if chip.ref == ref:
                self.chips.remove(chip)
                return chip
        return None

    def clear(self) -> None:
        self.chips.clear()

    @property
    def likes(self) -> list[str]:
        return [c.ref for c in self.chips if c.polarity == "like"]

    @property
    def unlikes(self) -> list[str]:
        return [c.ref for c in self.chips if c.polarity == "unlike"]

    def __len__(self) -> int:
        return len(self.chips)


# showing hits --------------------------------------------------------------------------------
def display_path(path: str, root: Path | None) -> str:
    """Relative to ``root`` (default: the working directory) when below it; else with ``~``."""
    base = root if root is not None else Path.cwd()
    try:
        rel = Path(path).resolve().relative_to(base.resolve())
        return rel.as_posix()
    except (ValueError, OSError):
        pass
    home = str(Path.home())
    if path.startswith(home + os.sep):
        return "~" + path[len(home):]
    return path


def hit_label(hit: Hit, root: Path | None) -> str:
    if hit.path and hit.id == hit.path:
        return display_path(hit.path, root)
    return hit.id


def ref_label(ref: str, root: Path | None) -> str:
    return display_path(ref, root) if os.path.isabs(ref) else ref


def image_size(hit: Hit) -> str:
    w, h = hit.metadata.get("width"), hit.metadata.get("height")
    return f"{w}×{h}" if w and h else ""

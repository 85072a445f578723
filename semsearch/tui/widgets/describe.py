"""What the preview says about a hit, as Rich text: its score (labelled from its parts), why it
matched, its metadata (internal keys left out, dates and sizes readable), and its text with
the matching chunk and the query's words marked."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from rich.text import Text

from ...search.explain import explain, matched_terms
from ...search.rank import FLOOR
from ...types import Hit
from ..listing import INTERNAL_KEYS
from ..state import hit_label

#: characters of context shown before the matching chunk, and after it
BEFORE = 300
AFTER = 1500
#: metadata the preview leaves out: internal bookkeeping, or said elsewhere (the title)
HIDDEN_META = INTERNAL_KEYS | {"width", "height"}
#: numbers that are times (seconds since 1970) under these keys
TIME_KEYS = re.compile(r"^(mtime|ctime|atime|created|modified|updated)$|_(time|at)$")
MATCH_STYLE = "on #3b3b5c"
WORD_STYLE = "bold underline"


def close(a: Any, b: float) -> bool:
    return isinstance(a, int | float) and abs(float(a) - b) < 5e-4


def score_label(hit: Hit) -> str:
    """What the score is, from its parts: ``cosine 0.412 + lexical bonus 0.300``, ``2.7 sd
    above this query's typical item`` (lists merged on it), ``rank fusion``, ``MMR``, or a
    plain cosine."""
    p, s = hit.parts, hit.score
    dense, bonus = p.get("dense"), p.get("lexical_bonus")
    base = f"{hit.space} space"
    if isinstance(dense, int | float):
        base = f"cosine {dense:.3f}"
        if isinstance(bonus, int | float) and bonus > 0:
            base += f" + lexical {bonus:.3f}"
    if close(p.get("rrf"), s):
        return "rank fusion of the lists"
    if p.get("relevance") is not None and not close(p.get("calibrated"), s):
        return f"MMR: relevance {p['relevance']:.3f} less likeness to the hits above"
    if close(p.get("calibrated"), s) and not close(dense, s):
        return f"sd above typical; {base}"
    if close(dense, s) or not p:
        return f"cosine, {hit.space} space"
    return base


def why_text(hit: Hit, query: str | None) -> Text:
    """The "why it matched" section: the core's one-line explanation, and the query's words
    the item holds."""
    out = Text()
    out.append("why  ", style="bold")
    out.append(explain(hit, query))
    z = hit.parts.get("calibrated")
    if isinstance(z, int | float) and z < FLOOR:
        out.append(" (below the relevance floor: shown because a shows all)", style="dim")
    if query and hit.modality == "text":
        words = matched_terms(query, hit.text)
        out.append("\nwords ", style="bold")
        out.append(", ".join(words) if words else "none of the query's words",
                   style=WORD_STYLE if words else "dim")
    return out


def when(value: float) -> str:
    return datetime.fromtimestamp(value, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def meta_text(hit: Hit, root: Path | None) -> Text:
    rows: list[tuple[str, str]] = [("score", f"{hit.score:.3f} ({score_label(hit)})"),
                                   ("rank", str(hit.rank))]
    if hit.id != hit.path:
        rows.append(("id", hit.id))
    for key, value in sorted(hit.metadata.items()):
        if key in HIDDEN_META or value is None or value == "":
            continue
        if key == "path":
            shown = hit_label(Hit(0, str(value), 0, "text", str(value), None, {}), root)
        elif TIME_KEYS.search(key) and isinstance(value, int | float) and value > 1e8:
            key = "modified" if key == "mtime" else key
            shown = when(value)
        elif key == "size" and isinstance(value, int | float):
            shown = _size(int(value))
        else:
            shown = str(value)
        rows.append((key, shown))
    width = max(len(k) for k, _ in rows)
    out = Text()
    for n, (key, value) in enumerate(rows):
        if n:
            out.append("\n")
        out.append(f"{key:<{width}}  ", style="bold")
        out.append(value)
    return out


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"  # pragma: no cover


@lru_cache(maxsize=4096)
def _matches(query: str, word: str) -> bool:
    return bool(matched_terms(query, word))


def marked_words(query: str | None, text: str) -> list[tuple[int, int]]:
    """Where the words of ``text`` that match the query's (by stem, as BM25 does) are."""
    if not query or not query.strip():
        return []
    return [(m.start(), m.end()) for m in re.finditer(r"[^\W_]+", text)
            if _matches(query, m.group().lower())]


def highlight(text: str, start: int, end: int, query: str | None) -> Text:
    """``text`` with [start, end) marked as the match and the query's words in bold."""
    out = Text(text)
    if 0 <= start < end <= len(text):
        out.stylize(MATCH_STYLE, start, end)
    for a, b in marked_words(query, text):
        out.stylize(WORD_STYLE, a, b)
    return out


def excerpt(full: str, start: int, end: int) -> tuple[str, int, int]:
    """A window of ``full`` around [start, end), with the offsets moved into it."""
    a = max(0, start - BEFORE)
    if a > 0:
        nl = full.rfind("\n", a, start)
        a = nl + 1 if nl >= 0 else a
    b = min(len(full), end + AFTER)
    lead = "…" if a > 0 else ""
    tail = "…" if b < len(full) else ""
    shift = len(lead) - a
    return lead + full[a:b] + tail, start + shift, end + shift

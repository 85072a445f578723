"""Plain-text rendering of results for the CLI (stable, testable, no terminal codes), fitted
to the terminal's width."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from ..types import CollectionInfo, Hit, IngestSummary

SNIPPET = 70


def printable(text: str) -> str:
    """Safe to print on a terminal: control characters (newlines, ESC) and undecodable
    bytes are shown escaped, so a file name cannot forge a line or move the cursor."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def display_path(path: str) -> str:
    """Relative to the working directory when below it (else absolute), printable."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return printable(path)
    if rel == "." or rel.startswith("..") or os.getcwd() == os.sep:
        return printable(os.path.abspath(path))
    return printable(rel)


def terminal_width() -> int:
    """``$COLUMNS``, else the terminal's width, else 80 (not a terminal); at least 40."""
    cols = os.environ.get("COLUMNS", "")
    if cols.isdigit() and int(cols) > 0:
        return max(40, int(cols))
    if sys.stdout.isatty():
        return max(40, shutil.get_terminal_size((80, 24)).columns)
    return 80


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _cut(text: str, width: int) -> str:
    """At most ``width`` characters, cut at a word boundary with an ellipsis."""
    if len(text) <= width:
        return text
    head = text[: width - 1]
    space = head.rfind(" ")
    if space > width // 2:
        head = head[:space]
    return head.rstrip(" ,.;:") + "…"


def _first_match(flat: str, query: str) -> int:
    """Where the first word of ``flat`` matching a query term starts, else -1."""
    from ..search.explain import matched_terms

    best = -1
    for term in matched_terms(query, flat):
        stem = term[: max(3, len(term) - 2)]
        found = re.search(r"(?<!\w)" + re.escape(stem), flat, re.IGNORECASE)
        if found and (best < 0 or found.start() < best):
            best = found.start()
    return best


def snippet(text: str | None, width: int = SNIPPET, query: str | None = None) -> str:
    """One line of ``text``, at most ``width`` characters, cut at word boundaries; with a
    query, a window around the first query term the text holds."""
    flat = re.sub(r"\s+", " ", text or "").strip()
    if len(flat) <= width:
        return flat
    at = _first_match(flat, query) if query else -1
    if at + 12 > width:  # the first query word would be cut off: show a window around it
        start = flat.rfind(" ", 0, max(0, at - width // 4)) + 1
        if start > 0:
            return "…" + _cut(flat[start:], width - 1)
    return _cut(flat, width)


def hit_label(hit: Hit) -> str:
    if hit.path and hit.id == hit.path:
        return display_path(hit.path)
    return printable(hit.id)


def hits_table(hits: Sequence[Hit], explain: bool = False, query: str | None = None,
               width: int | None = None) -> str:
    """The hits, one line each, fitting ``width`` columns (default: the terminal's)."""
    if not hits:
        return "no results"
    total = width or terminal_width()
    labels = [hit_label(h) for h in hits]
    fixed = 3 + 2 + 6 + 2 + 5 + 2 + 2
    cap = max(12, (total - fixed) // 2)
    lw = min(cap, max(4, *(len(label) for label in labels)))
    room = max(10, total - fixed - lw)
    lines = [f"{'#':>3}  {'score':>6}  {'type':<5}  {'item':<{lw}}  match"]
    for hit, label in zip(hits, labels, strict=True):
        if len(label) > lw:
            label = "…" + label[-(lw - 1):]
        if hit.modality == "image":
            w, h = hit.metadata.get("width"), hit.metadata.get("height")
            detail = f"{w}x{h} image" if w and h else "image"
        else:
            detail = snippet(hit.text, room, query)
        lines.append(f"{hit.rank:>3}  {hit.score:>6.3f}  {hit.modality:<5}  {label:<{lw}}  "
                     f"{detail}".rstrip())
        if explain:
            from ..search.explain import explain as why

            lines.append(f"{'':>13}why: {why(hit, query)}")
    return "\n".join(lines)


def summary_line(s: IngestSummary) -> str:
    """An ingest's one-line summary, ``1 item`` singular."""
    return (f"{s.added} added, {s.updated} updated, {s.unchanged} unchanged, {s.moved} moved, "
            f"{s.removed} removed, {s.skipped} skipped "
            f"({plural(s.items, 'item')} embedded in {s.seconds:.1f}s)")


def _counts(info: CollectionInfo) -> str:
    return ", ".join(f"{n} {m}" for m, n in sorted(info.counts.items())) or "empty"


def collections_table(infos: Sequence[CollectionInfo]) -> str:
    if not infos:
        return "no collections yet; add one with `semsearch ingest PATH -c NAME`"
    width = max(4, *(len(i.name) for i in infos))
    lines = [f"{'name':<{width}}  {'files':>6}  items{'':<19}  models"]
    for i in infos:
        lines.append(f"{i.name:<{width}}  {i.files:>6}  {_counts(i):<24}  {i.models.describe()}")
    return "\n".join(lines)


def info_text(info: CollectionInfo, home: Path) -> str:
    m = info.models
    clip = f"{m.clip_model} ({m.clip_pretrained})" if m.clip_model else "none (text only)"
    return "\n".join([
        f"collection:  {info.name}",
        f"created:     {info.created}",
        f"files:       {info.files}",
        f"items:       {_counts(info)}",
        f"text model:  {m.text_model} (dim {info.text_dim or '-'})",
        f"clip model:  {clip} (dim {info.clip_dim or '-'})",
        *(["runtime:     " + ", ".join(f"{k} {v}" for k, v in info.runtimes.items())]
          if info.runtimes else []),
        *([f"text index:  {info.text_index}"] if info.text_index else []),
        *([f"filters:     value indexes on {', '.join(info.filter_fields)}"]
          if info.filter_fields else []),
        f"data dir:    {home}",
    ])

"""The preview pane: the selected image larger, or the text with its matching chunk
highlighted; then the item's score and metadata."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Center, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from ...types import Hit
from ..state import hit_label, image_size

#: characters of context shown before the matching chunk, and after it
BEFORE = 300
AFTER = 1500
HIDDEN_META = {"chunk", "start", "end", "modality", "item_id", "sha256_file", "width",
               "height"}


STOPWORDS = {"the", "and", "for", "with", "from", "that", "this", "over", "into", "are", "was",
             "you", "your", "how", "what", "who", "why", "not", "but", "its", "our", "can"}


def query_words(query: str | None) -> list[str]:
    """The query's words worth marking in a text (no short or common words)."""
    return [w for w in re.findall(r"\w+", (query or "").lower())
            if len(w) > 2 and w not in STOPWORDS]


def highlight(text: str, start: int, end: int, words: list[str]) -> Text:
    """``text`` with [start, end) marked as the match and the query's words in bold."""
    out = Text(text)
    if 0 <= start < end <= len(text):
        out.stylize("on #3b3b5c", start, end)
    for word in words:
        for m in re.finditer(rf"\b{re.escape(word)}\w*", text, flags=re.IGNORECASE):
            out.stylize("bold underline", m.start(), m.end())
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


def meta_text(hit: Hit, root: Path | None) -> Text:
    out = Text()
    rows: list[tuple[str, str]] = [("score", f"{hit.score:.3f} (cosine, {hit.space} space)"),
                                   ("rank", str(hit.rank))]
    if hit.id != hit.path:
        rows.append(("id", hit.id))
    for key, value in sorted(hit.metadata.items()):
        if key in HIDDEN_META or value is None or value == "":
            continue
        if key == "path":
            shown = hit_label(Hit(0, str(value), 0, "text", str(value), None, {}), root)
        elif key == "mtime" and isinstance(value, int | float):
            shown = datetime.fromtimestamp(value, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        elif key.endswith("sha256"):
            shown = str(value)[:12] + "…"
        elif key == "size" and isinstance(value, int | float):
            shown = _size(int(value))
        else:
            shown = str(value)
        rows.append((key, shown))
    chunk = hit.metadata.get("chunk")
    if hit.modality == "text" and chunk is not None:
        rows.append(("chunk", f"#{chunk}, characters {hit.metadata.get('start', '?')}–"
                              f"{hit.metadata.get('end', '?')}"))
    width = max(len(k) for k, _ in rows)
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


class PreviewPane(Vertical):
    """Shows one hit; the app fills in the large picture or the whole text when a worker has
    read it (:meth:`show_image`, :meth:`show_text`)."""

    def __init__(self, image_class: type[Widget] | None, root: Path | None,
                 *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.image_class = image_class
        self.root = root
        self.hit: Hit | None = None
        self.query_text: str | None = None
        self._image: Widget | None = None
        self.body = Text()  # the text shown, with its highlights

    def compose(self) -> ComposeResult:
        yield Static("", id="preview-title")
        yield Center(id="preview-image")
        with VerticalScroll(id="preview-text"):
            yield Static("", id="preview-body")
        yield Static("Select a result to see it here.", id="preview-meta")

    def clear(self, note: str = "") -> None:
        self.hit = None
        self.query_one("#preview-title", Static).update("")
        self.body = Text()
        self.query_one("#preview-body", Static).update("")
        self.query_one("#preview-meta", Static).update(note)
        self.query_one("#preview-image").display = False
        self.query_one("#preview-text").display = False

    def show_hit(self, hit: Hit, query: str | None) -> None:
        """Show what is known at once: the title, the matching chunk, the metadata."""
        self.hit = hit
        self.query_text = query
        title = Text(hit_label(hit, self.root), style="bold")
        size = image_size(hit)
        title.append(f"\n{hit.modality}" + (f" · {size}" if size else "") +
                     f" · score {hit.score:.3f}", style="dim")
        self.query_one("#preview-title", Static).update(title)
        self.query_one("#preview-meta", Static).update(meta_text(hit, self.root))
        is_image = hit.modality == "image"
        self.query_one("#preview-image").display = is_image
        self.query_one("#preview-text").display = not is_image
        if is_image:
            self._set_image(None, "loading…")
        else:
            chunk = hit.text or ""
            self.body = highlight(chunk, 0, len(chunk), query_words(query))
            self.query_one("#preview-body", Static).update(self.body)
            self.query_one("#preview-text", VerticalScroll).scroll_home(animate=False)

    def show_image(self, image: Any) -> None:
        self._set_image(image, "cannot show this picture")

    def show_text(self, full: str, start: int, end: int) -> None:
        """The whole text of the item around its matching chunk, the chunk highlighted."""
        shown, a, b = excerpt(full, start, end)
        self.body = highlight(shown, a, b, query_words(self.query_text))
        self.query_one("#preview-body", Static).update(self.body)
        scroller = self.query_one("#preview-text", VerticalScroll)
        scroller.scroll_home(animate=False)
        lines_before = shown.count("\n", 0, max(0, a))
        if lines_before > 2:
            scroller.scroll_to(y=lines_before - 2, animate=False)

    def _set_image(self, image: Any, note: str) -> None:
        box = self.query_one("#preview-image", Center)
        if image is not None and self.image_class is not None:
            if self._image is not None and self._image.parent is box:
                self._image.image = image  # type: ignore[attr-defined]
                return
            box.remove_children()
            self._image = self.image_class(image)  # type: ignore[call-arg]
            self._image.add_class("picture")
            box.mount(self._image)
            return
        self._image = None
        box.remove_children()
        caption = note if self.image_class is not None else "▣ (pictures are off: --images none)"
        box.mount(Static(caption, classes="placeholder"))

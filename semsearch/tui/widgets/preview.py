"""The preview pane: the selected image larger, or the text with its matching chunk and the
query's words marked; then why it matched, its score and its metadata."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Center, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from ...types import Hit
from ..state import hit_label, image_size
from .describe import excerpt, highlight, meta_text, why_text


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
        yield Static("", id="preview-why")
        yield Static("Select a result to see it here.", id="preview-meta")

    def clear(self, note: str = "") -> None:
        self.hit = None
        self.query_one("#preview-title", Static).update("")
        self.body = Text()
        self.query_one("#preview-body", Static).update("")
        self.query_one("#preview-why", Static).update("")
        self.query_one("#preview-why", Static).display = False
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
        why = self.query_one("#preview-why", Static)
        why.update(why_text(hit, query))
        why.display = True
        self.query_one("#preview-meta", Static).update(meta_text(hit, self.root))
        is_image = hit.modality == "image"
        self.query_one("#preview-image").display = is_image
        self.query_one("#preview-text").display = not is_image
        if is_image:
            self._set_image(None, "loading…")
        else:
            chunk = hit.text or ""
            self.body = highlight(chunk, 0, len(chunk), query)
            self.query_one("#preview-body", Static).update(self.body)
            self.query_one("#preview-text", VerticalScroll).scroll_home(animate=False)

    def show_image(self, image: Any) -> None:
        self._set_image(image, "cannot show this picture")

    def show_text(self, full: str, start: int, end: int) -> None:
        """The whole text of the item around its matching chunk, the chunk highlighted."""
        shown, a, b = excerpt(full, start, end)
        self.body = highlight(shown, a, b, self.query_text)
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

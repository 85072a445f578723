"""The results: a list (thumbnail and snippet per row) or a grid of thumbnails."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from ...types import Hit
from ..state import ellipsize, hit_label, image_size

#: a grid tile's width in cells (the grid has as many columns as fit)
TILE_WIDTH = 20


class Thumb(Widget):
    """A picture in a fixed box: textual-image's widget, or a text placeholder."""

    def __init__(self, image: Any, image_class: type[Widget] | None, caption: str,
                 classes: str = "") -> None:
        super().__init__(classes=classes)
        self.image = image
        self.image_class = image_class
        self.caption = caption

    def compose(self) -> ComposeResult:
        if self.image is not None and self.image_class is not None:
            yield self.image_class(self.image)  # type: ignore[call-arg]
        else:
            yield Static(self.caption, classes="placeholder")


class ResultCard(Vertical):
    """One hit: thumbnail (or a text marker) beside its rank, score, name and snippet."""

    def __init__(self, hit: Hit, index: int, thumb: Any, image_class: type[Widget] | None,
                 root: Path | None) -> None:
        super().__init__(classes=f"card -{hit.modality}")
        self.hit = hit
        self.index = index
        self.thumb = thumb
        self.image_class = image_class
        self.root = root

    def compose(self) -> ComposeResult:
        hit = self.hit
        if hit.modality == "image":
            caption = "▣ image" if self.thumb is None else ""
            yield Thumb(self.thumb, self.image_class, caption, classes="thumb")
        else:
            yield Thumb(None, None, "¶ text", classes="thumb -text")
        yield Static(self._text(), classes="card-text")

    def _text(self) -> Text:
        hit = self.hit
        label = hit_label(hit, self.root)
        head = Text()
        head.append(f"{hit.rank:>2} ", style="bold")
        head.append(f"{hit.score:.3f} ", style="dim")
        head.append(f"{hit.modality:<5} ", style="italic")
        head.append(label, style="bold")
        if hit.modality == "image":
            size = image_size(hit)
            detail = f"{size} image" if size else "image"
        else:
            detail = ellipsize(hit.text or "", 200)
        head.append("\n")
        head.append(detail, style="dim" if hit.modality == "image" else "")
        return head

    def on_click(self, event: events.Click) -> None:
        view = self.query_ancestor(ResultsView)
        view.index = self.index
        view.focus()
        if event.chain >= 2:
            view.post_message(ResultsView.Opened(self.hit))


class ResultsView(VerticalScroll, can_focus=True):
    """Hits, one selected (``index``); posts :class:`Highlighted` when that changes and
    :class:`Opened` on a double click."""

    BINDINGS = [
        Binding("up", "move(-1, 'row')", "Up", show=False),
        Binding("down", "move(1, 'row')", "Down", show=False),
        Binding("left", "move(-1, 'cell')", "Left", show=False),
        Binding("right", "move(1, 'cell')", "Right", show=False),
        Binding("pageup", "move(-1, 'page')", show=False),
        Binding("pagedown", "move(1, 'page')", show=False),
        Binding("home", "jump(0)", show=False),
        Binding("end", "jump(-1)", show=False),
    ]

    index: reactive[int] = reactive(-1, init=False)
    grid: reactive[bool] = reactive(False, init=False)

    @dataclass
    class Highlighted(Message):
        hit: Hit | None

    @dataclass
    class Opened(Message):
        hit: Hit

    def __init__(self, image_class: type[Widget] | None, root: Path | None,
                 *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.image_class = image_class
        self.root = root
        self.hits: list[Hit] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="empty")

    # content ---------------------------------------------------------------------------------
    async def show(self, hits: list[Hit], thumbs: dict[str, Any], empty: str = "") -> None:
        """Replace the hits (keeping the selection on the same item when it is still there)."""
        keep = self.selected.id if self.selected is not None else None
        self.hits = list(hits)
        await self.remove_children(".card")
        cards = [ResultCard(h, n, thumbs.get(h.id), self.image_class, self.root)
                 for n, h in enumerate(self.hits)]
        empty_note = self.query_one("#empty", Static)
        empty_note.update(empty if not hits else "")
        empty_note.display = not hits
        if cards:
            await self.mount_all(cards)
        self._fit_grid()
        new = next((n for n, h in enumerate(self.hits) if h.id == keep), 0) if hits else -1
        self.scroll_home(animate=False)
        if new == self.index:
            self._select(new)
        else:
            self.index = new

    def message(self, text: str) -> None:
        """Show a line instead of the hits (the hits stay)."""
        note = self.query_one("#empty", Static)
        note.update(text)
        note.display = bool(text) or not self.hits

    @property
    def selected(self) -> Hit | None:
        return self.hits[self.index] if 0 <= self.index < len(self.hits) else None

    def cards(self) -> list[ResultCard]:
        return list(self.query(ResultCard))

    # selection -------------------------------------------------------------------------------
    def watch_index(self, index: int) -> None:
        self._select(index)

    def _select(self, index: int) -> None:
        for card in self.cards():
            card.set_class(card.index == index, "-selected")
            if card.index == index:
                self.scroll_to_widget(card, animate=False)
        self.post_message(self.Highlighted(self.selected))

    def columns(self) -> int:
        if not self.grid:
            return 1
        return max(1, self.scrollable_content_region.width // TILE_WIDTH)

    def action_move(self, step: int, unit: str) -> None:
        if not self.hits:
            return
        cols = self.columns()
        if unit == "cell":
            if cols == 1:
                return
            delta = step
        elif unit == "row":
            delta = step * cols
        else:
            rows = max(1, self.scrollable_content_region.height // (11 if self.grid else 4))
            delta = step * rows * cols
        self.index = max(0, min(len(self.hits) - 1, max(self.index, 0) + delta))

    def action_jump(self, where: int) -> None:
        if self.hits:
            self.index = where % len(self.hits)

    # grid ------------------------------------------------------------------------------------
    def watch_grid(self, grid: bool) -> None:
        self.set_class(grid, "-grid")
        self._fit_grid()
        if self.selected is not None:
            self._select(self.index)

    def _fit_grid(self) -> None:
        if self.grid:
            self.styles.grid_size_columns = self.columns()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_grid()

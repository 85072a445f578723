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

from ...search.rank import FLOOR
from ...types import Hit
from ..state import ellipsize, fit_path, hit_label, image_size
from ..thumbs import draws_pixels

#: a grid tile's width in cells (the grid has as many columns as fit)
TILE_WIDTH = 20
#: rows of a card, and the gap under it: list (comfortable, compact) and grid
CARD_ROWS = {"comfortable": 6, "compact": 3, "grid": 11}


def below_floor(hit: Hit) -> bool:
    """Shown only because the relevance floor is off (``a``)."""
    z = hit.parts.get("calibrated")
    return isinstance(z, int | float) and z < FLOOR


class Thumb(Widget):
    """A picture in a fixed box: textual-image's widget, or a text placeholder. Cell-drawn
    pictures (half blocks) are too coarse to tell apart in a compact row: a marker there."""

    def __init__(self, image: Any, image_class: type[Widget] | None, caption: str,
                 classes: str = "") -> None:
        super().__init__(classes=classes)
        self.image = image
        self.image_class = image_class
        self.caption = caption

    def compose(self) -> ComposeResult:
        view = next((a for a in self.ancestors if isinstance(a, ResultsView)), None)
        coarse = view is not None and view.compact and not view.grid \
            and not draws_pixels(self.image_class)
        if self.image is not None and self.image_class is not None and not coarse:
            yield self.image_class(self.image)  # type: ignore[call-arg]
        else:
            yield Static(self.caption or "▣", classes="placeholder")


class CardText(Widget):
    """A card's words, fitted to its width: the name shortened at folder boundaries (never
    broken mid-word), the snippet wrapped at words."""

    def __init__(self, hit: Hit, root: Path | None) -> None:
        super().__init__(classes="card-text")
        self.hit = hit
        self.root = root

    def render(self) -> Text:
        hit = self.hit
        width = max(4, self.size.width)
        grid = any(isinstance(a, ResultsView) and a.grid for a in self.ancestors)
        label = hit_label(hit, self.root)
        if hit.modality == "image":
            size = image_size(hit)
            detail = f"{size} image" if size else "image"
        else:
            detail = ellipsize(hit.text or "", 400)
        low = " ↓floor" if below_floor(hit) else ""
        out = Text()
        if grid:  # a line each: rank and score, the name, then the snippet (text tiles)
            out.append(f"{hit.rank} ", style="bold")
            out.append(f"{hit.score:.3f}{low}\n", style="dim")
            out.append(fit_path(label, width) + "\n", style="bold")
            out.append(detail, style="dim")
            return out
        head = f"{hit.rank:>2} {hit.score:.3f} {hit.modality:<5} "
        out.append(head[:3], style="bold")
        out.append(head[3:9], style="dim")
        out.append(head[9:], style="italic")
        out.append(fit_path(label, max(4, width - len(head) - len(low))), style="bold")
        out.append(low, style="dim")
        out.append("\n")
        out.append(detail, style="dim" if hit.modality == "image" else "")
        return out


class ResultCard(Vertical):
    """One hit: thumbnail (or a text marker) beside its rank, score, name and snippet."""

    def __init__(self, hit: Hit, index: int, thumb: Any, image_class: type[Widget] | None,
                 root: Path | None) -> None:
        super().__init__(classes=f"card -{hit.modality}" + (" -below" if below_floor(hit)
                                                            else ""))
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
        yield CardText(hit, self.root)

    def text(self) -> str:
        """The card's words as shown (for tests and logs)."""
        return self.query_one(CardText).render().plain

    def on_click(self, event: events.Click) -> None:
        view = self.query_ancestor(ResultsView)
        view.index = self.index
        view.focus()
        if event.chain >= 2:
            view.post_message(ResultsView.Opened(self.hit))


class ResultsView(VerticalScroll, can_focus=True):
    """Hits, one selected (``index``); posts :class:`Highlighted` when that changes,
    :class:`Opened` on a double click and :class:`AtEnd` when the cursor reaches the last hit
    (the next page is loaded then)."""

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
    #: list rows with small thumbnails (half blocks become a marker there)
    compact: reactive[bool] = reactive(False, init=False)

    @dataclass
    class Highlighted(Message):
        hit: Hit | None

    @dataclass
    class Opened(Message):
        hit: Hit

    @dataclass
    class AtEnd(Message):
        """The cursor is on the last hit."""

    def __init__(self, image_class: type[Widget] | None, root: Path | None,
                 *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.image_class = image_class
        self.root = root
        self.hits: list[Hit] = []
        self.thumbs: dict[str, Any] = {}  # item id -> small PIL image

    def compose(self) -> ComposeResult:
        yield Static("", id="empty")

    # content ---------------------------------------------------------------------------------
    def _card(self, hit: Hit, index: int) -> ResultCard:
        return ResultCard(hit, index, self.thumbs.get(hit.id), self.image_class, self.root)

    async def show(self, hits: list[Hit], thumbs: dict[str, Any], empty: str = "",
                   keep_scroll: bool = False) -> None:
        """Replace the hits (keeping the selection on the same item when it is still there)."""
        keep = self.selected.id if self.selected is not None else None
        self.hits = list(hits)
        self.thumbs = dict(thumbs)
        await self.remove_children(".card")
        cards = [self._card(h, n) for n, h in enumerate(self.hits)]
        empty_note = self.query_one("#empty", Static)
        empty_note.update(empty if not hits else "")
        empty_note.display = not hits
        if cards:
            await self.mount_all(cards)
        self._fit_grid()
        new = next((n for n, h in enumerate(self.hits) if h.id == keep), 0) if hits else -1
        if not keep_scroll:
            self.scroll_home(animate=False)
        if new == self.index:
            self._select(new, quiet=keep_scroll)
        else:
            self.index = new

    async def append(self, hits: list[Hit], thumbs: dict[str, Any]) -> int:
        """Add a page of hits at the end (any already shown are left out); how many came."""
        known = {h.id for h in self.hits}
        new = [h for h in hits if h.id not in known]
        self.thumbs.update(thumbs)
        start = len(self.hits)
        self.hits.extend(new)
        if new:
            await self.mount_all([self._card(h, start + n) for n, h in enumerate(new)])
            self._fit_grid()
        return len(new)

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
        if self.hits and index == len(self.hits) - 1:
            self.post_message(self.AtEnd())

    def _select(self, index: int, quiet: bool = False) -> None:
        for card in self.cards():
            card.set_class(card.index == index, "-selected")
            if card.index == index:
                self.scroll_to_widget(card, animate=False)
        if not quiet:
            self.post_message(self.Highlighted(self.selected))

    def columns(self) -> int:
        if not self.grid:
            return 1
        return max(1, self.scrollable_content_region.width // TILE_WIDTH)

    def card_rows(self) -> int:
        """Rows a card takes, its gap included."""
        return CARD_ROWS["grid" if self.grid else "compact" if self.compact else "comfortable"] \
            + 1

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
            rows = max(1, self.scrollable_content_region.height // self.card_rows())
            delta = step * rows * cols
        self.index = max(0, min(len(self.hits) - 1, max(self.index, 0) + delta))

    def action_jump(self, where: int) -> None:
        if self.hits:
            self.index = where % len(self.hits)

    # grid and density ------------------------------------------------------------------------
    async def watch_grid(self, grid: bool) -> None:
        self.set_class(grid, "-grid")
        self._fit_grid()
        await self._relayout()

    async def watch_compact(self, compact: bool) -> None:
        self.set_class(compact, "-compact")
        await self._relayout()

    async def _relayout(self) -> None:
        """Redraw the cards' words and pictures for the layout (half-block pictures come and
        go with compact rows)."""
        for text in self.query(CardText):
            text.refresh()
        if not draws_pixels(self.image_class):
            for thumb in self.query(Thumb):
                if thumb.image is not None:
                    await thumb.recompose()
        if self.selected is not None:
            self._select(self.index, quiet=True)

    def _fit_grid(self) -> None:
        if self.grid:
            self.styles.grid_size_columns = self.columns()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_grid()

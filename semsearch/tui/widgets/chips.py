"""Likes and dislikes, as chips above the results; a chip goes on click, enter or delete."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Static

from ..state import Chip, ellipsize


class ChipWidget(Static, can_focus=True):
    BINDINGS = [
        Binding("enter,delete,backspace", "remove", "Remove", show=False),
        Binding("left", "app.focus_previous", show=False),
        Binding("right", "app.focus_next", show=False),
    ]

    @dataclass
    class Removed(Message):
        ref: str
        by_key: bool = False  # from the keyboard: the focus goes to the next chip

    def __init__(self, chip: Chip) -> None:
        sign = "+" if chip.polarity == "like" else "−"
        super().__init__(f"{sign} {ellipsize(chip.label, 28)} ✕", markup=False,
                         classes=f"chip -{chip.polarity}")
        self.chip = chip
        self.tooltip = f"{chip.polarity}: {chip.label} (click to remove)"

    def action_remove(self) -> None:
        self.post_message(self.Removed(self.chip.ref, by_key=True))

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Removed(self.chip.ref))


class ChipsBar(Horizontal):
    """Hidden while there are no likes or dislikes."""

    def compose(self) -> ComposeResult:
        yield Static("taste", id="chips-label")

    async def show(self, chips: list[Chip]) -> None:
        await self.remove_children(ChipWidget)
        if chips:
            await self.mount_all([ChipWidget(c) for c in chips])
        self.display = bool(chips)

    def labels(self) -> list[str]:
        return [str(w.render()) for w in self.query(ChipWidget)]

"""The status line: what the app is doing (left) and which collection it shows (right)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static


class StatusLine(Horizontal):
    def compose(self) -> ComposeResult:
        yield Static("", id="status-state")
        yield Static("", id="status-collection")

    def set_state(self, text: str, busy: bool = False) -> None:
        mark = "◌ " if busy else "● "
        self.query_one("#status-state", Static).update(mark + text)
        self.set_class(busy, "-busy")

    def set_collection(self, text: str) -> None:
        self.query_one("#status-collection", Static).update(text)

    @property
    def state_text(self) -> str:
        return str(self.query_one("#status-state", Static).render())

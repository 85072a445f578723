"""The help screen: every key, from the table in :mod:`semsearch.tui.keys`."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..keys import ALL_KEYS


def keys_table() -> Table:
    table = Table(box=None, show_header=True, header_style="bold", expand=True, pad_edge=False)
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("where", style="dim", no_wrap=True)
    table.add_column("what it does")
    for key in ALL_KEYS:
        table.add_row(key.display, key.where, key.description)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark,f1,ctrl+underscore", "close", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="help", classes="dialog") as box:
            box.border_title = "semsearch · keys"
            box.border_subtitle = "esc to close"
            with VerticalScroll():
                yield Static(keys_table(), id="help-keys")

    def action_close(self) -> None:
        self.dismiss(None)

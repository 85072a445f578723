"""Ingest a file or folder into the collection, with a progress bar.

The ingest runs in a worker of the search screen (its ``start_ingest``): closing the
dialog (esc) leaves it running, and the status line keeps counting.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, ProgressBar, Static

from ...types import ProgressEvent


class IngestScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(self, collection: str, path: str = "", running: bool = False,
                 start_ingest: Callable[[str], None] | None = None) -> None:
        super().__init__()
        self.collection = collection
        self.start_ingest = start_ingest  # called with the path typed
        self.initial_path = path
        self.running = running
        self.skipped: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="ingest", classes="dialog") as box:
            box.border_title = f"ingest into {self.collection}"
            box.border_subtitle = "enter to start · esc to close (the ingest goes on)"
            path = Input(self.initial_path, placeholder="a file or folder, e.g. ~/Pictures",
                         id="ingest-path")
            path.border_title = "path"
            yield path
            yield ProgressBar(total=None, show_eta=False, id="ingest-bar")
            yield Static("Folders are walked recursively; unchanged files cost a stat.",
                         id="ingest-state", markup=False)
            yield Static("", id="ingest-skipped", markup=False)

    def on_mount(self) -> None:
        self.query_one("#ingest-bar").display = self.running
        if self.running:
            self.query_one("#ingest-path", Input).disabled = True
            self.set_state("ingesting…")

    def action_close(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted, "#ingest-path")
    def _start(self, event: Input.Submitted) -> None:
        event.stop()
        if self.running or self.start_ingest is None:
            return
        self.start_ingest(event.value.strip())

    # called by the ingest controller ---------------------------------------------------------
    def started(self) -> None:
        self.running = True
        self.skipped.clear()
        self.query_one("#ingest-path", Input).disabled = True
        self.query_one("#ingest-bar").display = True
        self.query_one("#ingest-skipped", Static).update("")
        self.query_one("#ingest-bar", ProgressBar).update(total=None, progress=0)
        self.set_state("scanning…")

    def progress(self, event: ProgressEvent) -> None:
        bar = self.query_one("#ingest-bar", ProgressBar)
        if event.stage == "scan":
            self.set_state(f"scanning: {event.done} files")
        elif event.stage == "embed":
            bar.update(total=max(event.total, 1), progress=event.done)
            self.set_state(f"embedding: {event.done} of {event.total} files, "
                           f"{event.items} items written")
        elif event.stage == "done":
            bar.update(total=max(event.total, 1), progress=max(event.total, 1))

    def skip(self, path: str, reason: str) -> None:
        self.skipped.append(f"skipped {path}: {reason}")
        self.query_one("#ingest-skipped", Static).update("\n".join(self.skipped[-5:]))

    def finished(self, line: str) -> None:
        self.running = False
        bar = self.query_one("#ingest-bar", ProgressBar)
        if bar.total is None:
            bar.update(total=1, progress=1)
        self.query_one("#ingest-path", Input).disabled = False
        self.set_state(line)

    def set_state(self, text: str) -> None:
        self.query_one("#ingest-state", Static).update(text)

"""Pick a collection (or type the name of a new one, to ingest into)."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ...client.library import Library, check_name
from ...errors import SemsearchError
from ...types import CollectionInfo


def describe(info: CollectionInfo) -> str:
    counts = ", ".join(f"{n} {m}s" for m, n in sorted(info.counts.items())) or "empty"
    clip = info.models.clip_model or "no CLIP"
    if clip.endswith(".json"):
        clip = Path(clip).stem
    return f"{info.name}  ·  {counts}  ·  {clip}"


class CollectionScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(self, lib: Library, current: str) -> None:
        super().__init__()
        self.lib = lib
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="collections", classes="dialog") as box:
            box.border_title = "switch collection"
            box.border_subtitle = "enter to open · esc to close"
            yield Static("loading…", id="collections-state")
            yield OptionList(id="collections-list")
            name = Input(placeholder="or type a name (a new one is made by its first ingest)",
                         id="collections-name")
            yield name

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exit_on_error=False)
    def _load(self) -> None:
        try:
            infos = self.lib.collections()
        except SemsearchError as e:
            self.app.call_from_thread(self._loaded, [], str(e))
            return
        self.app.call_from_thread(self._loaded, infos, "")

    def _loaded(self, infos: list[CollectionInfo], error: str) -> None:
        state = self.query_one("#collections-state", Static)
        options = self.query_one("#collections-list", OptionList)
        options.add_options([Option(describe(i), id=i.name) for i in infos])
        if error:
            state.update(f"cannot list collections: {error}")
        elif not infos:
            state.update("no collections yet: type a name, then press i to ingest into it")
        else:
            state.update(f"{len(infos)} collection{'s' if len(infos) != 1 else ''}")
            names = [i.name for i in infos]
            options.highlighted = names.index(self.current) if self.current in names else 0
            options.focus()

    def action_close(self) -> None:
        self.dismiss(None)

    @on(OptionList.OptionSelected, "#collections-list")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    @on(Input.Submitted, "#collections-name")
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        name = event.value.strip()
        try:
            check_name(name)
        except SemsearchError as e:
            self.notify(str(e), severity="error")
            return
        self.dismiss(name)

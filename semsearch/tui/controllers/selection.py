"""The selected result: its preview (the large picture, or the item's whole text with the
matching chunk marked, read in a worker) and what can be done with it: open (the system
viewer, else an editor or pager in the terminal), copy its path or text, more like this."""

from __future__ import annotations

from pathlib import Path

from textual.app import SuspendNotSupported

from ...types import Hit
from ..messages import PreviewReady
from ..notices import guarded
from ..opener import chunk_line, terminal_command
from ..state import TEXT_SUFFIXES, Request, hit_label
from ..thumbs import PREVIEW_PX
from ..widgets.results import ResultsView
from .base import Controller


def read_text(path: str) -> str | None:
    """The text ingest took from a text file (so chunk offsets line up); None if unreadable."""
    from ...sources import ReadOptions, source_for
    from ...sources.text import TextSource

    p = Path(path)
    source = source_for(p)
    if not isinstance(source, TextSource):
        return None
    read = source.read(p, p.read_bytes(), {}, ReadOptions())
    return read.items[0].text if read.items else None


def chunk_span(text: str, hit: Hit) -> tuple[int, int]:
    """Where the hit's chunk is in the item's text: its recorded offsets when they still
    match, else where the chunk's text is found; (-1, -1) when it is not there."""
    start, end = hit.metadata.get("start"), hit.metadata.get("end")
    chunk = hit.text or ""
    if isinstance(start, int) and isinstance(end, int) and text[start:end] == chunk:
        return start, end
    at = text.find(chunk) if chunk else -1
    return (at, at + len(chunk)) if at >= 0 else (-1, -1)


def hit_line(hit: Hit) -> int:
    """The line of the hit's file where its chunk starts (1 when it cannot be told)."""
    assert hit.path is not None
    try:
        with open(hit.path, encoding="utf-8", errors="replace") as f:
            raw = f.read(20_000_000)
    except OSError:
        return 1
    start = hit.metadata.get("start")
    return chunk_line(raw, start if isinstance(start, int) else None, hit.text)


class Selection(Controller):
    """Owns the preview pane."""

    @guarded
    def highlighted(self, message: ResultsView.Highlighted) -> None:
        screen = self.screen
        hit = message.hit
        screen.refresh_bindings()
        if hit is None:
            return
        query = screen.shown.text if screen.shown is not None else None
        screen.preview.show_hit(hit, query)
        if hit.modality == "image":
            if screen.options.image_class is None or not hit.path:
                screen.preview.show_image(None)
                return
            small = next((c.thumb for c in screen.results.cards() if c.hit.id == hit.id), None)
            if small is not None:
                screen.preview.show_image(small)
            self.in_thread(self._load, hit, group="preview", exclusive=True)
        elif hit.path and hit.id == hit.path and Path(hit.path).suffix.lower() in TEXT_SUFFIXES:
            self.in_thread(self._load, hit, group="preview", exclusive=True)

    def _load(self, hit: Hit) -> None:
        assert hit.path is not None
        try:
            if hit.modality == "image":
                image = self.screen.thumbs.get(hit.path, PREVIEW_PX)
                self.screen.post_message(PreviewReady(hit.id, image=image))
                return
            text = read_text(hit.path)
        except Exception:  # noqa: BLE001 - the chunk is shown already; nothing to add
            return
        if text is None:
            return
        start, end = chunk_span(text, hit)
        self.screen.post_message(PreviewReady(hit.id, text=text, start=start, end=end))

    @guarded
    def preview_ready(self, message: PreviewReady) -> None:
        preview = self.screen.preview
        hit = preview.hit
        if hit is None or hit.id != message.item_id:
            return
        if hit.modality == "image":
            if message.image is not None:
                preview.show_image(message.image)
        elif message.text is not None and message.start >= 0:
            preview.show_text(message.text, message.start, message.end)

    # actions on the selected item ------------------------------------------------------------
    def need(self) -> Hit | None:
        """The selected hit; None (with a word to the user) when there is none."""
        hit = self.screen.selected
        if hit is None:
            self.tell("select a result first", "warning")
        return hit

    @guarded
    def open_selected(self) -> None:
        hit = self.need()
        if hit is not None:
            self.open(hit)

    @guarded
    def open(self, hit: Hit) -> None:
        """Hand the hit's file to the system viewer."""
        screen = self.screen
        root = screen.options.root
        if not hit.path or not Path(hit.path).exists():
            self.tell(f"cannot open {hit_label(hit, root)}: the file is gone"
                      if hit.path else f"{hit.id} has no file to open", "error")
            return
        try:
            screen.options.opener(hit.path)
        except OSError as e:
            if hit.modality == "text" and self.in_terminal(hit):
                return
            hint = " (set $EDITOR or $PAGER to read texts in the terminal)" \
                if hit.modality == "text" else ""
            self.tell(f"cannot open {hit_label(hit, root)}: {e}{hint}", "error")
            return
        screen.status.set_state(f"Opened {hit_label(hit, root)}", busy=False)

    def in_terminal(self, hit: Hit) -> bool:
        """Show a text in ``$EDITOR`` (at the chunk's line) or ``$PAGER``, the UI suspended;
        False when neither is set."""
        assert hit.path is not None
        if terminal_command(hit.path, None) is None:
            return False
        line = hit_line(hit)
        command = terminal_command(hit.path, line)
        assert command is not None
        label = hit_label(hit, self.screen.options.root)
        try:
            code = self.screen.app.run_in_terminal(command)  # type: ignore[attr-defined]
        except (OSError, SuspendNotSupported) as e:
            self.tell(f"cannot open {label} with {command[0]}: {e or 'no terminal'}", "error")
            return True
        done = f"Opened {label} in {Path(command[0]).name}" + \
            (f" at line {line}" if line > 1 else "") + \
            (f" (it exited with {code})" if code else "")
        self.screen.status.set_state(done, busy=False)
        return True

    @guarded
    def more_like_this(self) -> None:
        hit = self.need()
        if hit is None:
            return
        label = hit_label(hit, self.screen.options.root)
        self.screen.searcher.ask(Request("similar", item=f"id:{hit.id}", item_label=label))

    @guarded
    def copy_text(self) -> None:
        hit = self.need()
        if hit is None:
            return
        label = hit_label(hit, self.screen.options.root)
        if not hit.text:
            self.tell(f"{label} has no text to copy (y copies its path)", "warning")
            return
        self.screen.app.copy_to_clipboard(hit.text)
        self.screen.status.set_state(f"Copied the text of {label} ({len(hit.text)} "
                                     "characters)", busy=False)

    @guarded
    def copy(self) -> None:
        hit = self.need()
        if hit is None:
            return
        self.screen.app.copy_to_clipboard(hit.path if hit.path and hit.id == hit.path
                                          else hit.id)
        self.screen.status.set_state(f"Copied {hit_label(hit, self.screen.options.root)}",
                                     busy=False)

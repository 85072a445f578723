"""Ingesting a file or folder into the collection, in a worker, with the ingest dialog's
progress bar; the status line keeps counting when the dialog is closed."""

from __future__ import annotations

from pathlib import Path

from ...types import ProgressEvent
from ..messages import IngestDone, IngestProgress, IngestSkipped
from ..notices import guarded, unexpected
from ..screens.ingest import IngestScreen
from ..state import ref_label
from .base import Controller


class Ingester(Controller):
    """Owns the screen's ``ingesting`` and ``last_ingest``, and the ingest dialog."""

    def open_dialog(self) -> None:
        screen = self.screen
        screen.app.push_screen(IngestScreen(screen.collection_name,
                                            screen.last_ingest or str(Path.cwd()),
                                            running=screen.ingesting, start_ingest=self.start))

    def dialog(self) -> IngestScreen | None:
        """The ingest dialog, when it is open."""
        top = self.screen.app.screen
        return top if isinstance(top, IngestScreen) else None

    @guarded
    def start(self, raw: str) -> None:
        """Ingest the path typed in the dialog."""
        screen = self.screen
        if screen.ingesting:
            self.tell("an ingest is running already", "warning")
            return
        if not raw:
            self.tell("give a file or folder to ingest", "error")
            return
        path = Path(raw).expanduser()
        if not path.exists():
            self.tell(f"no such file or folder: {raw}", "error")
            return
        screen.last_ingest = raw
        screen.ingesting = True
        dialog = self.dialog()
        if dialog is not None:
            dialog.started()
        screen.status.set_state(f"Ingesting {raw}…", busy=True)
        self.in_thread(self._ingest, str(path.resolve()), screen.collection_name,
                       group="ingest")

    def _ingest(self, path: str, name: str) -> None:
        screen = self.screen
        post = screen.post_message
        try:
            col = screen.col if screen.col is not None and screen.col.name == name else \
                screen.lib.collection(name, **screen.options.models)  # type: ignore[arg-type]

            def progress(event: ProgressEvent) -> None:
                post(IngestProgress(event))

            def skipped(path: str, reason: str) -> None:
                post(IngestSkipped(path, reason))

            summary = col.ingest([path], progress=progress, on_skip=skipped)
        except Exception as e:  # noqa: BLE001 - a worker reports, never raises
            post(IngestDone(path, None, unexpected(e)))
            return
        post(IngestDone(path, summary))

    def show_progress(self, event: ProgressEvent) -> None:
        dialog = self.dialog()
        if dialog is not None:
            dialog.progress(event)
        if event.stage == "embed":
            self.screen.status.set_state(f"Ingesting: {event.done} of {event.total} files",
                                         busy=True)

    def skipped(self, message: IngestSkipped) -> None:
        dialog = self.dialog()
        if dialog is not None:
            dialog.skip(ref_label(message.path, self.screen.options.root), message.reason)

    @guarded
    def done(self, message: IngestDone) -> None:
        screen = self.screen
        screen.ingesting = False
        dialog = self.dialog()
        if message.summary is None:
            line = f"ingest failed: {message.error}"
            self.tell(line, "error")
            screen.status.set_state(line, busy=False)
        else:
            line = f"{screen.collection_name}: {message.summary.line()}"
            self.tell(line)
            for warning in message.summary.warnings:
                screen.warn_once(warning)
        if dialog is not None:
            dialog.finished(line)
        if message.summary is not None:
            screen.loader.reopen()

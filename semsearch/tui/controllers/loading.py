"""Opening a collection and loading its models, in a worker, and switching collections."""

from __future__ import annotations

from ...errors import ModelUnavailable
from ...types import CollectionInfo
from ..messages import CollectionOpened, LoadFailed, ModelsReady, StatusChanged
from ..notices import guarded, unexpected
from ..state import plural
from ..widgets.query_bar import QueryBar
from .base import Controller


def counts_text(info: CollectionInfo) -> str:
    counts = " · ".join(plural(n, m) for m, n in sorted(info.counts.items(), reverse=True))
    return f"{info.name} · {counts or 'empty'}"


def missing(name: str) -> str:
    return f"no collection named {name!r} yet: press i to ingest files into it, or c to pick " \
           "another"


class Loader(Controller):
    """Owns the screen's ``col``, ``info``, ``ready`` and ``loading_message``."""

    def open(self, name: str) -> None:
        """Open ``name`` and load its models (a newer call replaces an older one)."""
        self.in_thread(self._open, name, group="load", exclusive=True)

    def _open(self, name: str) -> None:
        post = self.screen.post_message
        try:
            models = self.screen.options.models
            col = self.screen.lib.collection(name, **models)  # type: ignore[arg-type]
            if not col.exists:
                post(CollectionOpened(col, None, missing(name)))
                return
            post(CollectionOpened(col, col.info()))
            post(StatusChanged(f"Loading text model {col.models.text_model}…"))
            col.text_embedder()
            warnings: list[str] = []
            if col.models.clip_model is not None:
                post(StatusChanged(f"Loading CLIP model {col.models.clip_model} "
                                   f"({col.models.clip_pretrained})…"))
                try:
                    col.clip_embedder()
                except ModelUnavailable as e:
                    warnings.append(f"{e}; image results are left out")
            post(ModelsReady(col, warnings))
        except Exception as e:  # noqa: BLE001 - a worker reports, never raises
            post(LoadFailed(unexpected(e)))

    @guarded
    def opened(self, message: CollectionOpened) -> None:
        screen = self.screen
        if message.collection.name != screen.collection_name:
            return
        screen.col = message.collection
        screen.info = message.info
        if message.info is None:
            screen.pending = False
            screen.status.set_state(message.error, busy=False)
            screen.status.set_collection(f"{screen.collection_name} · not created yet")
            screen.results.message(message.error)
            self.tell(message.error, "error")
            return
        screen.status.set_collection(counts_text(message.info))

    @guarded
    def status_changed(self, message: StatusChanged) -> None:
        if not self.screen.ready or message.busy is False:
            self.screen.loading_message = message.text

    @guarded
    def models_ready(self, message: ModelsReady) -> None:
        screen = self.screen
        if message.collection.name != screen.collection_name:
            return
        screen.ready = True  # the status line says "Ready"
        for warning in message.warnings:
            screen.warn_once(warning)
        if screen.options.profile:
            screen.taste_keeper.load_profile()
        if screen.pending and screen.request is not None:
            screen.pending = False
            screen.searcher.submit(screen.request)

    @guarded
    def failed(self, message: LoadFailed) -> None:
        screen = self.screen
        screen.ready = False
        screen.pending = False
        screen.status.set_state(f"error: {message.error}", busy=False)
        screen.results.message(message.error)
        self.tell(message.error, "error")

    def reopen(self) -> None:
        """Open the collection again (its counts changed; a new one needs its models), then
        run the last request again."""
        screen = self.screen
        screen.ready = False
        screen.pending = screen.request is not None
        self.open(screen.collection_name)

    @guarded
    def switch_to(self, name: str | None) -> None:
        """Show the collection ``name`` instead (from the collection picker)."""
        screen = self.screen
        if not name or name == screen.collection_name:
            return
        screen.collection_name = name  # the status line shows the name
        screen.col = None
        screen.info = None
        screen.ready = False
        screen.taste.clear()
        screen.run_worker(screen.chips.show([]), group="chips")
        screen.searcher.show_empty()
        screen.loading_message = f"Opening collection {name}…"
        self.open(name)
        if screen.bar.text.strip():
            screen.searcher.query_changed(QueryBar.Changed("query"))

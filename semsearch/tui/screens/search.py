"""The search screen: the query bar, the likes and dislikes, the results beside the preview,
the status line and the footer.

The screen holds the state (reactives: the watchers keep the status line and the results
pane's titles in step) and the keys; the work is done by its controllers
(:mod:`semsearch.tui.controllers`), one per thing it owns. Everything slow runs in their thread
workers (opening the collection, loading the models, queries, thumbnails, ingests), so the
screen paints at once and typing never waits; workers report with the messages of
:mod:`semsearch.tui.messages`, which the screen hands to the controller that owns them.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Footer, Input
from textual.worker import WorkerState

from ...client.collection import Collection
from ...client.library import Library
from ...types import CollectionInfo, Hit
from .. import keys
from ..controllers.ingesting import Ingester
from ..controllers.loading import Loader
from ..controllers.searching import HINT, Searcher
from ..controllers.selection import Selection
from ..controllers.taste import TasteKeeper
from ..listing import SORTS
from ..messages import (
    CollectionOpened,
    IngestDone,
    IngestProgress,
    IngestSkipped,
    LoadFailed,
    ModelsReady,
    PreviewReady,
    RequestFailed,
    ResultsReady,
    StatusChanged,
)
from ..notices import guarded, tell
from ..state import Options, Request, Taste
from ..thumbs import Thumbnails
from ..widgets.chips import ChipsBar, ChipWidget
from ..widgets.preview import PreviewPane
from ..widgets.query_bar import TYPES, QueryBar
from ..widgets.results import ResultsView
from ..widgets.status import StatusLine
from .collections import CollectionScreen


class SearchScreen(Screen[None]):
    """Search ``collection`` of ``lib`` (the app's first screen)."""

    BINDINGS = keys.bindings(app_wide=False)  # type: ignore[assignment]

    #: the collection shown (the status line names it)
    collection_name: var[str] = var("", init=False)
    #: what the loader does now, while the models load (the status line says it)
    loading_message: var[str] = var("", init=False, always_update=True)
    #: the models are loaded: searches can run (the status line says "Ready")
    ready: var[bool] = var(False, init=False, always_update=True)
    #: a request waits for the models
    pending: var[bool] = var(False, init=False)
    #: the last request made, and the one whose results are shown (the results pane's titles)
    request: var[Request | None] = var(None, init=False)
    shown: var[Request | None] = var(None, init=False, always_update=True)
    #: hits below the relevance floor are shown too (``a``); how many the floor hid
    show_all: var[bool] = var(False, init=False)
    hidden: var[int] = var(0, init=False)
    #: the list shown may go on (its last page was full); a page is loading
    more: var[bool] = var(False, init=False)
    paging: var[bool] = var(False, init=False)
    #: an ingest runs
    ingesting: var[bool] = var(False, init=False)
    #: the collection, once open; its counts (None: it does not exist yet)
    col: var[Collection | None] = var(None, init=False)
    info: var[CollectionInfo | None] = var(None, init=False)

    def __init__(self, lib: Library, collection: str, options: Options) -> None:
        super().__init__()
        self.lib = lib
        self.options = options
        self.set_reactive(SearchScreen.collection_name, collection)
        self.set_reactive(SearchScreen.show_all, options.show_all)
        self.meta_keys: set[str] = set()  # metadata keys seen in hits (the filters complete)
        self.taste = Taste()  # the likes and dislikes, shown as chips
        self.thumbs = Thumbnails()
        self.seq = 0  # numbers the requests: only the last one's results are shown
        self.last_ingest = ""  # the path ingested last, offered again
        self._warned: set[str] = set()
        self.loader = Loader(self)
        self.searcher = Searcher(self)
        self.selection = Selection(self)
        self.taste_keeper = TasteKeeper(self)
        self.ingester = Ingester(self)

    # layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        o = self.options
        yield QueryBar(o.query, o.result_type, o.k, o.filters, keys=lambda: self.meta_keys,
                       id="query-bar")
        yield ChipsBar(id="chips")
        with Horizontal(id="main"):
            yield ResultsView(o.image_class, o.root, id="results")
            yield PreviewPane(o.image_class, o.root, id="preview")
        yield StatusLine(id="status")
        yield Footer(show_command_palette=False)

    @property
    def bar(self) -> QueryBar:
        return self.query_one(QueryBar)

    @property
    def results(self) -> ResultsView:
        return self.query_one(ResultsView)

    @property
    def preview(self) -> PreviewPane:
        return self.query_one(PreviewPane)

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    @property
    def chips(self) -> ChipsBar:
        return self.query_one(ChipsBar)

    @property
    def selected(self) -> Hit | None:
        return self.results.selected

    def on_mount(self) -> None:
        name = self.collection_name
        self.chips.display = False
        self.preview.clear("Select a result to see it here.")
        self.results.message(HINT.format(name))
        self.shown = None
        self.watch(self.results, "grid", self.searcher.titles, init=False)
        self.watch(self.results, "compact", self.searcher.titles, init=False)
        self.loading_message = f"Opening collection {name}…"
        self.status.set_collection(name)
        self.bar.focus_query()
        self.loader.open(name)
        if self.options.query.strip():
            self.searcher.query_changed(QueryBar.Changed("query"))

    # state -> widgets ------------------------------------------------------------------------
    def watch_collection_name(self, name: str) -> None:
        self.status.set_collection(name)

    def watch_loading_message(self) -> None:
        self.show_loading()

    def watch_ready(self, ready: bool) -> None:
        if ready:
            self.status.set_state("Ready", busy=False)

    def watch_shown(self) -> None:
        self.searcher.titles()

    def show_loading(self) -> None:
        note = " (the search runs when it is ready)" if self.pending else ""
        self.status.set_state(self.loading_message + note, busy=True)

    # notifications ---------------------------------------------------------------------------
    def tell(self, message: str, severity: str = "information") -> None:
        tell(self.app, message, severity)

    def warn_once(self, warning: str) -> None:
        if warning not in self._warned:
            self._warned.add(warning)
            self.tell(warning, "warning")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Commands are off while a text field has the focus (its keys type text), a dialog's
        field too (the footer under the dialog shows none); actions on the selected result
        are shown greyed while there is none (judged while this screen is on top)."""
        if action in keys.ACTIONS and isinstance(self.app.focused, Input):
            return False
        if action in keys.ON_SELECTION and self.app.screen is self and self.selected is None:
            return None
        return True

    @property
    def busy(self) -> bool:
        """Work under way: a worker running, or a typed query waiting for its debounce."""
        running = any(w.state in (WorkerState.PENDING, WorkerState.RUNNING)
                      for w in self.workers)
        return running or self.bar.pending or self.pending

    # messages, to the controller that owns them ----------------------------------------------
    def on_collection_opened(self, message: CollectionOpened) -> None:
        self.loader.opened(message)

    def on_status_changed(self, message: StatusChanged) -> None:
        self.loader.status_changed(message)

    def on_models_ready(self, message: ModelsReady) -> None:
        self.loader.models_ready(message)

    def on_load_failed(self, message: LoadFailed) -> None:
        self.loader.failed(message)

    @on(QueryBar.Changed)
    def _query_changed(self, message: QueryBar.Changed) -> None:
        self.searcher.query_changed(message)

    async def on_results_ready(self, message: ResultsReady) -> None:
        await self.searcher.results_ready(message)

    def on_request_failed(self, message: RequestFailed) -> None:
        self.searcher.failed(message)

    @on(ResultsView.Highlighted)
    def _highlighted(self, message: ResultsView.Highlighted) -> None:
        self.selection.highlighted(message)

    @on(ResultsView.AtEnd)
    def _at_end(self, message: ResultsView.AtEnd) -> None:
        self.searcher.load_more()

    @on(ResultsView.Opened)
    def _opened(self, message: ResultsView.Opened) -> None:
        self.selection.open(message.hit)

    def on_preview_ready(self, message: PreviewReady) -> None:
        self.selection.preview_ready(message)

    @on(ChipWidget.Removed)
    async def _chip_removed(self, message: ChipWidget.Removed) -> None:
        await self.taste_keeper.chip_removed(message)

    def on_ingest_progress(self, message: IngestProgress) -> None:
        self.ingester.show_progress(message.event)

    def on_ingest_skipped(self, message: IngestSkipped) -> None:
        self.ingester.skipped(message)

    def on_ingest_done(self, message: IngestDone) -> None:
        self.ingester.done(message)

    # keys ------------------------------------------------------------------------------------
    def action_open(self) -> None:
        self.selection.open_selected()

    def action_more_like_this(self) -> None:
        self.selection.more_like_this()

    async def action_like(self) -> None:
        await self.taste_keeper.judge("like")

    async def action_unlike(self) -> None:
        await self.taste_keeper.judge("unlike")

    def action_copy(self) -> None:
        self.selection.copy()

    def action_copy_text(self) -> None:
        self.selection.copy_text()

    def action_toggle_all(self) -> None:
        self.searcher.toggle_all()

    def action_recommend(self) -> None:
        self.taste_keeper.recommend()

    async def action_clear_taste(self) -> None:
        await self.taste_keeper.clear()

    @guarded
    def action_cycle_type(self) -> None:
        bar = self.bar
        bar.result_type = TYPES[(TYPES.index(bar.result_type) + 1) % len(TYPES)]

    @guarded
    def action_cycle_sort(self) -> None:
        bar = self.bar
        bar.sort = SORTS[(SORTS.index(bar.sort) + 1) % len(SORTS)]  # the list follows

    @guarded
    def action_toggle_grid(self) -> None:
        self.results.grid = not self.results.grid  # the titles follow

    @guarded
    def action_toggle_density(self) -> None:
        self.results.compact = not self.results.compact  # the titles follow

    def action_focus_query(self) -> None:
        self.bar.focus_query(select=True)

    def action_switch_collection(self) -> None:
        self.app.push_screen(CollectionScreen(self.lib, self.collection_name),
                             self.loader.switch_to)

    def action_map(self) -> None:
        """``M``: the map of the collection, with the query's hits ringed; a cluster picked
        there comes back as the results."""
        from .mapview import open_map

        open_map(self)

    def action_ingest(self) -> None:
        self.ingester.open_dialog()

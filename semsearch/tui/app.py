"""The terminal UI's app: search and browse a collection by meaning.

Build it with :func:`create_app` (the ``semsearch tui`` command and the tests do). Everything
slow runs in Textual thread workers (opening the collection, loading the models, queries,
thumbnails, ingests), so the first screen paints at once and typing never waits; workers
report back with the messages of :mod:`semsearch.tui.messages`. The app talks to the
collection only through the Python client (:class:`semsearch.Library`,
:class:`semsearch.Collection`), as the CLI does.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer, Input
from textual.worker import WorkerState

from ..collection import Collection
from ..errors import ModelUnavailable, SemsearchError
from ..library import Library
from ..types import CollectionInfo, Hit, ProgressEvent, ResultType
from . import keys
from .messages import (
    CollectionOpened,
    IngestDone,
    IngestProgress,
    IngestSkipped,
    LoadFailed,
    ModelsReady,
    Notice,
    PreviewReady,
    RequestFailed,
    ResultsReady,
    StatusChanged,
)
from .opener import Opener, system_open
from .screens.collections import CollectionScreen
from .screens.help import HelpScreen
from .screens.ingest import IngestScreen
from .state import (
    DEFAULT_K,
    TEXT_SUFFIXES,
    TYPE_LABELS,
    Request,
    Taste,
    execute,
    hit_label,
    parse_filters,
    plural,
    ref_label,
    search_request,
)
from .thumbs import PREVIEW_PX, THUMB_PX, Thumbnails, image_widget_class
from .widgets.chips import ChipsBar, ChipWidget
from .widgets.preview import PreviewPane
from .widgets.query_bar import TYPES, QueryBar
from .widgets.results import ResultsView
from .widgets.status import StatusLine

F = TypeVar("F", bound=Callable[..., Any])


def guarded(fn: F) -> F:
    """A UI handler never takes the app down: errors become notifications."""

    def report(self: SemsearchApp, e: Exception) -> None:
        if isinstance(e, SemsearchError):
            self.tell(str(e), "error")
        else:
            self.tell(f"unexpected error: {type(e).__name__}: {e}", "error")

    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def run_async(self: SemsearchApp, *args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(self, *args, **kwargs)
            except Exception as e:
                report(self, e)
                return None

        return run_async  # type: ignore[return-value]

    @functools.wraps(fn)
    def run(self: SemsearchApp, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(self, *args, **kwargs)
        except Exception as e:
            report(self, e)
            return None

    return run  # type: ignore[return-value]


def unexpected(e: BaseException) -> str:
    return str(e) if isinstance(e, SemsearchError) else f"unexpected error: {type(e).__name__}: {e}"


def counts_text(info: CollectionInfo) -> str:
    counts = " · ".join(plural(n, m) for m, n in sorted(info.counts.items(), reverse=True))
    return f"{info.name} · {counts or 'empty'}"


class SemsearchApp(App[None]):
    """See :func:`create_app` for the options."""

    CSS_PATH = "semsearch.tcss"
    TITLE = "semsearch"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = keys.bindings()  # type: ignore[assignment]

    def __init__(
        self,
        lib: Library,
        collection: str,
        *,
        query: str = "",
        type: ResultType = "any",
        k: int = DEFAULT_K,
        filters: str = "",
        images: str = "auto",
        root: str | Path | None = None,
        opener: Opener | None = None,
        profile: str | None = None,
        models: dict[str, str | None] | None = None,
    ) -> None:
        super().__init__()
        self.lib = lib
        self.collection_name = collection
        self.initial = (query, type, k, filters)
        self.image_mode = images
        self.image_class = image_widget_class(images)
        self.root = Path(root).expanduser() if root is not None else None
        self.opener: Opener = opener or system_open
        self.profile_name = profile
        self.model_args = {k: v for k, v in (models or {}).items() if v is not None}
        self.col: Collection | None = None
        self.info: CollectionInfo | None = None
        self.ready = False  # models loaded, searches can run
        self.request: Request | None = None  # the last request made
        self.shown: Request | None = None  # the request whose results are shown
        self.taste = Taste()
        self.thumbs = Thumbnails()
        self.notices: list[tuple[str, str]] = []  # (severity, message), for tests and logs
        self.ingesting = False
        self._seq = 0
        self._pending = False  # a request waits for the models
        self._warned: set[str] = set()
        self._last_ingest = ""
        self._loading = f"Opening collection {collection}…"  # what the loader does now
        self._profile_lock = threading.Lock()
        if self.lib.on_wait is None:
            self.lib.on_wait = self._lock_wait

    def _lock_wait(self, message: str) -> None:
        self.post_message(Notice(message, "warning"))

    def on_unmount(self) -> None:
        if self.lib.on_wait == self._lock_wait:
            self.lib.on_wait = None

    # layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        query, type_, k, filters = self.initial
        yield QueryBar(query, type_, k, filters, id="query-bar")
        yield ChipsBar(id="chips")
        with Horizontal(id="main"):
            yield ResultsView(self.image_class, self.root, id="results")
            yield PreviewPane(self.image_class, self.root, id="preview")
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

    def on_mount(self) -> None:
        self.chips.display = False
        self.preview.clear("Select a result to see it here.")
        self.results.message(f"Type in the query bar to search {self.collection_name} "
                             "by meaning.")
        self._titles()
        self._show_loading()
        self.status.set_collection(self.collection_name)
        self.bar.focus_query()
        self._open(self.collection_name)
        if self.initial[0].strip():
            self._query_changed(QueryBar.Changed("query"))

    # notifications ---------------------------------------------------------------------------
    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        self.notices.append((str(severity), message))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def tell(self, message: str, severity: str = "information") -> None:
        """A notification whose text is shown as is (paths may hold [brackets])."""
        self.notify(message, severity=severity, markup=False,  # type: ignore[arg-type]
                    timeout=8 if severity == "error" else None)

    def on_notice(self, message: Notice) -> None:
        self.tell(message.text, message.severity)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Commands are off while a text field has the focus (its keys type text); actions on
        the selected result are shown greyed while there is none."""
        if action in keys.ACTIONS and isinstance(self.focused, Input):
            return False
        if action in keys.ON_SELECTION and self.screen is self.screen_stack[0] \
                and self.selected is None:
            return None
        return True

    @property
    def busy(self) -> bool:
        """Work under way: a worker running, or a typed query waiting for its debounce."""
        running = any(w.state in (WorkerState.PENDING, WorkerState.RUNNING)
                      for w in self.workers)
        return running or self.bar.pending or self._pending

    # opening a collection --------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def _open(self, name: str) -> None:
        post = self.post_message
        try:
            col = self.lib.collection(name, **self.model_args)  # type: ignore[arg-type]
            if not col.exists:
                post(CollectionOpened(col, None, f"no collection named {name!r} yet: press i "
                                                 "to ingest files into it, or c to pick another"))
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
    def on_collection_opened(self, message: CollectionOpened) -> None:
        if message.collection.name != self.collection_name:
            return
        self.col = message.collection
        self.info = message.info
        if message.info is None:
            self._pending = False
            self.status.set_state(message.error, busy=False)
            self.status.set_collection(f"{self.collection_name} · not created yet")
            self.results.message(message.error)
            self.tell(message.error, "error")
            return
        self.status.set_collection(counts_text(message.info))

    @guarded
    def on_status_changed(self, message: StatusChanged) -> None:
        if not self.ready or message.busy is False:
            self._loading = message.text
            self._show_loading()

    def _show_loading(self) -> None:
        note = " (the search runs when it is ready)" if self._pending else ""
        self.status.set_state(self._loading + note, busy=True)

    @guarded
    def on_models_ready(self, message: ModelsReady) -> None:
        if message.collection.name != self.collection_name:
            return
        self.ready = True
        for warning in message.warnings:
            self._warn_once(warning)
        self.status.set_state("Ready", busy=False)
        if self.profile_name:
            self._load_profile()
        if self._pending and self.request is not None:
            self._pending = False
            self._submit(self.request)

    @guarded
    def on_load_failed(self, message: LoadFailed) -> None:
        self.ready = False
        self._pending = False
        self.status.set_state(f"error: {message.error}", busy=False)
        self.results.message(message.error)
        self.tell(message.error, "error")

    def _warn_once(self, warning: str) -> None:
        if warning not in self._warned:
            self._warned.add(warning)
            self.tell(warning, "warning")

    # searching -------------------------------------------------------------------------------
    @on(QueryBar.Changed)
    @guarded
    def _query_changed(self, message: QueryBar.Changed) -> None:
        if message.leave:
            self.results.focus()
        if message.source == "leave":
            return
        bar = self.bar
        where = parse_filters(bar.filters)
        if message.source == "options" and self.request is not None \
                and self.request.kind != "search":
            # type, k or filters changed under "more like this" or a recommendation
            self._submit(self.request.with_options(bar.result_type, bar.k, where))
            return
        request = search_request(bar.text)
        if request is None:
            self.request = None
            self._seq += 1
            self._show_empty()
            return
        self._submit(request.with_options(bar.result_type, bar.k, where))

    def _show_empty(self) -> None:
        self.shown = None
        hint = f"Type in the query bar to search {self.collection_name} by meaning."
        self.run_worker(self.results.show([], {}, hint), exclusive=True, group="show")
        self.preview.clear("Select a result to see it here.")
        self._titles()
        if self.ready:
            self.status.set_state("Ready", busy=False)

    def _submit(self, request: Request) -> None:
        self._seq += 1
        request = replace(request, seq=self._seq)
        self.request = request
        if self.col is None or not self.ready:
            if self.col is not None and self.info is None:
                self.tell(f"no collection named {self.collection_name!r} yet: press i to "
                          "ingest files into it, or c to pick another", "error")
                return
            self._pending = True
            self._show_loading()
            return
        self.status.set_state(f"Searching: {request.title()}…", busy=True)
        self._run(request, self.col)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _run(self, request: Request, col: Collection) -> None:
        try:
            results = execute(col, request)
            thumbs: dict[str, Any] = {}
            if self.image_class is not None:
                for hit in results:
                    if hit.modality == "image" and hit.path:
                        thumbs[hit.id] = self.thumbs.get(hit.path, THUMB_PX)
        except Exception as e:  # noqa: BLE001 - a worker reports, never raises
            self.post_message(RequestFailed(request, unexpected(e)))
            return
        self.post_message(ResultsReady(request, results, thumbs))

    @guarded
    async def on_results_ready(self, message: ResultsReady) -> None:
        if message.request.seq != self._seq:
            return  # a newer request is on its way
        self.shown = message.request
        for warning in message.results.warnings:
            self._warn_once(warning)
        n = len(message.results)
        await self.results.show(list(message.results), message.thumbs,
                                empty="Nothing found." + (" Try other filters." if
                                                          message.request.where else ""))
        if not n:
            self.preview.clear("Nothing to show.")
        self._titles()
        self.status.set_state(f"{plural(n, 'result')}: {message.request.title()}", busy=False)

    @guarded
    def on_request_failed(self, message: RequestFailed) -> None:
        if message.request.seq != self._seq:
            return
        self.status.set_state(f"error: {message.error}", busy=False)
        self.tell(message.error, "error")

    def _titles(self) -> None:
        view = self.results
        req = self.shown
        view.border_title = f"results · {plural(len(view.hits), 'hit')} · {req.title()}" \
            if req is not None else "results"
        bar = self.bar
        kind = TYPE_LABELS[bar.result_type] if bar is not None else "both"
        layout = "grid" if view.grid else "list"
        view.border_subtitle = f"{kind} · k {bar.k if bar else DEFAULT_K} · {layout}"
        self.preview.border_title = "preview"

    # the selection and its preview -----------------------------------------------------------
    @property
    def selected(self) -> Hit | None:
        return self.results.selected

    @on(ResultsView.Highlighted)
    @guarded
    def _highlighted(self, message: ResultsView.Highlighted) -> None:
        hit = message.hit
        self.refresh_bindings()
        if hit is None:
            return
        query = self.shown.text if self.shown is not None else None
        self.preview.show_hit(hit, query)
        if hit.modality == "image":
            if self.image_class is None or not hit.path:
                self.preview.show_image(None)
                return
            small = next((c.thumb for c in self.results.cards() if c.hit.id == hit.id), None)
            if small is not None:
                self.preview.show_image(small)
            self._load_preview(hit)
        elif hit.path and hit.id == hit.path and Path(hit.path).suffix.lower() in TEXT_SUFFIXES:
            self._load_preview(hit)

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def _load_preview(self, hit: Hit) -> None:
        assert hit.path is not None
        try:
            if hit.modality == "image":
                image = self.thumbs.get(hit.path, PREVIEW_PX)
                self.post_message(PreviewReady(hit.id, image=image))
                return
            text = read_text(hit.path)
        except Exception:  # noqa: BLE001 - the chunk is shown already; nothing to add
            return
        if text is None:
            return
        start, end = chunk_span(text, hit)
        self.post_message(PreviewReady(hit.id, text=text, start=start, end=end))

    @guarded
    def on_preview_ready(self, message: PreviewReady) -> None:
        hit = self.preview.hit
        if hit is None or hit.id != message.item_id:
            return
        if hit.modality == "image":
            if message.image is not None:
                self.preview.show_image(message.image)
        elif message.text is not None and message.start >= 0:
            self.preview.show_text(message.text, message.start, message.end)

    # actions on the selected item ------------------------------------------------------------
    def _need_selection(self) -> Hit | None:
        hit = self.selected
        if hit is None:
            self.tell("select a result first", "warning")
        return hit

    @guarded
    def action_open(self) -> None:
        hit = self._need_selection()
        if hit is None:
            return
        self._open_hit(hit)

    @on(ResultsView.Opened)
    @guarded
    def _opened(self, message: ResultsView.Opened) -> None:
        self._open_hit(message.hit)

    def _open_hit(self, hit: Hit) -> None:
        if not hit.path or not Path(hit.path).exists():
            self.tell(f"cannot open {hit_label(hit, self.root)}: the file is gone"
                      if hit.path else f"{hit.id} has no file to open", "error")
            return
        try:
            self.opener(hit.path)
        except OSError as e:
            self.tell(f"cannot open {hit_label(hit, self.root)}: {e}", "error")
            return
        self.status.set_state(f"Opened {hit_label(hit, self.root)}", busy=False)

    @guarded
    def action_more_like_this(self) -> None:
        hit = self._need_selection()
        if hit is None:
            return
        bar = self.bar
        request = Request("similar", item=f"id:{hit.id}", item_label=hit_label(hit, self.root))
        self._submit(request.with_options(bar.result_type, bar.k, parse_filters(bar.filters)))

    @guarded
    async def action_like(self) -> None:
        await self._judge("like")

    @guarded
    async def action_unlike(self) -> None:
        await self._judge("unlike")

    async def _judge(self, polarity: str) -> None:
        hit = self._need_selection()
        if hit is None:
            return
        label = hit_label(hit, self.root)
        if self.taste.add(f"id:{hit.id}", label, polarity):  # type: ignore[arg-type]
            await self.chips.show(self.taste.chips)
            self._profile_write(polarity, hit.id)
        verb = "Liked" if polarity == "like" else "Disliked"
        self.status.set_state(f"{verb} {label}: {plural(len(self.taste.likes), 'like')}, "
                              f"{plural(len(self.taste.unlikes), 'dislike')} (r to recommend)",
                              busy=False)

    @guarded
    def action_recommend(self) -> None:
        if not self.taste.likes:
            self.tell("like a result first (+), then r recommends from your likes and "
                      "dislikes", "warning")
            return
        bar = self.bar
        request = Request("recommend", like=tuple(self.taste.likes),
                          unlike=tuple(self.taste.unlikes))
        self._submit(request.with_options(bar.result_type, bar.k, parse_filters(bar.filters)))

    @on(ChipWidget.Removed)
    @guarded
    async def _chip_removed(self, message: ChipWidget.Removed) -> None:
        at = next((n for n, c in enumerate(self.taste.chips) if c.ref == message.ref), 0)
        chip = self.taste.remove(message.ref)
        await self.chips.show(self.taste.chips)
        if chip is not None:
            self._profile_write("forget", chip.ref)
            self.status.set_state(f"Forgot {chip.label}", busy=False)
        if self.request is not None and self.request.kind == "recommend" and self.taste.likes:
            self.action_recommend()
        left = list(self.query(ChipWidget))
        if message.by_key and left:
            left[min(at, len(left) - 1)].focus()
        elif message.by_key or not left:
            self.results.focus()

    @guarded
    async def action_clear_taste(self) -> None:
        for chip in list(self.taste.chips):
            self._profile_write("forget", chip.ref)
        self.taste.clear()
        await self.chips.show([])
        self.status.set_state("Forgot every like and dislike", busy=False)

    @guarded
    def action_copy(self) -> None:
        hit = self._need_selection()
        if hit is None:
            return
        self.copy_to_clipboard(hit.path if hit.path and hit.id == hit.path else hit.id)
        self.status.set_state(f"Copied {hit_label(hit, self.root)}", busy=False)

    # profiles: a lasting taste ---------------------------------------------------------------
    @work(thread=True, group="profile", exit_on_error=False)
    def _profile_write(self, what: str, ref: str) -> None:
        if not self.profile_name or self.col is None:
            return
        with self._profile_lock:
            try:
                profile = self.col.profile(self.profile_name)
                if what == "like":
                    profile.like(ref)
                elif what == "unlike":
                    profile.unlike(ref)
                else:
                    profile.forget(ref.removeprefix("id:"))
            except Exception as e:  # noqa: BLE001
                self.post_message(Notice(f"profile {self.profile_name}: {unexpected(e)}",
                                         "error"))

    @guarded
    def _load_profile(self) -> None:
        assert self.col is not None and self.profile_name
        entries = self.col.profile(self.profile_name).entries()
        self.taste.clear()
        for e in entries:
            ref = {"item": f"id:{e.ref}", "text": f"text:{e.ref}"}.get(e.kind, e.ref)
            self.taste.add(ref, ref_label(e.ref, self.root), e.polarity)
        self.run_worker(self.chips.show(self.taste.chips), group="chips")

    # options ---------------------------------------------------------------------------------
    @guarded
    def action_cycle_type(self) -> None:
        bar = self.bar
        bar.result_type = TYPES[(TYPES.index(bar.result_type) + 1) % len(TYPES)]

    @guarded
    def action_toggle_grid(self) -> None:
        self.results.grid = not self.results.grid
        self._titles()

    def action_focus_query(self) -> None:
        self.bar.focus_query(select=True)

    def action_quit_app(self) -> None:
        """``q``: off while typing (ctrl+q, Textual's own quit, works everywhere)."""
        self.exit()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    # collections -----------------------------------------------------------------------------
    def action_switch_collection(self) -> None:
        self.push_screen(CollectionScreen(self.lib, self.collection_name), self._switch_to)

    @guarded
    def _switch_to(self, name: str | None) -> None:
        if not name or name == self.collection_name:
            return
        self.collection_name = name
        self.col = None
        self.info = None
        self.ready = False
        self.taste.clear()
        self.run_worker(self.chips.show([]), group="chips")
        self._show_empty()
        self._loading = f"Opening collection {name}…"
        self._show_loading()
        self.status.set_collection(name)
        self._open(name)
        if self.bar.text.strip():
            self._query_changed(QueryBar.Changed("query"))

    # ingest ----------------------------------------------------------------------------------
    def action_ingest(self) -> None:
        self.push_screen(IngestScreen(self.collection_name, self._last_ingest or str(Path.cwd()),
                                      running=self.ingesting))

    def _ingest_screen(self) -> IngestScreen | None:
        screen = self.screen
        return screen if isinstance(screen, IngestScreen) else None

    @on(IngestScreen.Requested)
    @guarded
    def _ingest_requested(self, message: IngestScreen.Requested) -> None:
        if self.ingesting:
            self.tell("an ingest is running already", "warning")
            return
        raw = message.path
        if not raw:
            self.tell("give a file or folder to ingest", "error")
            return
        path = Path(raw).expanduser()
        if not path.exists():
            self.tell(f"no such file or folder: {raw}", "error")
            return
        self._last_ingest = raw
        self.ingesting = True
        screen = self._ingest_screen()
        if screen is not None:
            screen.started()
        self.status.set_state(f"Ingesting {raw}…", busy=True)
        self._ingest(str(path.resolve()), self.collection_name)

    @work(thread=True, group="ingest", exit_on_error=False)
    def _ingest(self, path: str, name: str) -> None:
        post = self.post_message
        try:
            col = self.col if self.col is not None and self.col.name == name else \
                self.lib.collection(name, **self.model_args)  # type: ignore[arg-type]
            def progress(event: ProgressEvent) -> None:
                post(IngestProgress(event))

            def skipped(path: str, reason: str) -> None:
                post(IngestSkipped(path, reason))

            summary = col.ingest([path], progress=progress, on_skip=skipped)
        except Exception as e:  # noqa: BLE001 - a worker reports, never raises
            post(IngestDone(path, None, unexpected(e)))
            return
        post(IngestDone(path, summary))

    def on_ingest_progress(self, message: IngestProgress) -> None:
        self.show_ingest_progress(message.event)

    def show_ingest_progress(self, event: ProgressEvent) -> None:
        screen = self._ingest_screen()
        if screen is not None:
            screen.progress(event)
        if event.stage == "embed":
            self.status.set_state(f"Ingesting: {event.done} of {event.total} files", busy=True)

    def on_ingest_skipped(self, message: IngestSkipped) -> None:
        screen = self._ingest_screen()
        if screen is not None:
            screen.skip(ref_label(message.path, self.root), message.reason)

    @guarded
    def on_ingest_done(self, message: IngestDone) -> None:
        self.ingesting = False
        screen = self._ingest_screen()
        if message.summary is None:
            line = f"ingest failed: {message.error}"
            self.tell(line, "error")
            self.status.set_state(line, busy=False)
        else:
            line = f"{self.collection_name}: {message.summary.line()}"
            self.tell(line)
            for warning in message.summary.warnings:
                self._warn_once(warning)
        if screen is not None:
            screen.finished(line)
        if message.summary is not None:
            # counts changed, and a new collection needs its models: open it again, then
            # run the query again
            self.ready = False
            self._pending = self.request is not None
            self._open(self.collection_name)


def read_text(path: str) -> str | None:
    """The text ingest took from a text file (so chunk offsets line up); None if unreadable."""
    from ..sources import ReadOptions, source_for
    from ..sources.text import TextSource

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


def create_app(
    lib: Library,
    collection: str,
    *,
    query: str = "",
    type: ResultType = "any",
    k: int = DEFAULT_K,
    filters: str = "",
    images: str = "auto",
    root: str | Path | None = None,
    opener: Opener | None = None,
    profile: str | None = None,
    text_model: str | None = None,
    clip_model: str | None = None,
    clip_pretrained: str | None = None,
) -> SemsearchApp:
    """The terminal UI over ``collection`` of ``lib``.

    ``query``, ``type``, ``k``, ``filters``: the query bar's first values. ``images``: how
    pictures are drawn: ``auto`` (kitty graphics or sixel where the terminal has them, half
    blocks otherwise), ``kitty``, ``sixel``, ``halfcell``, ``unicode``, or ``none`` (a text
    placeholder). ``root``: paths are shown relative to it (default: the working directory).
    ``opener``: called with a path to open it (default: the system viewer). ``profile``: keep
    likes and dislikes in this profile (``semsearch profile``), loaded at start.
    ``text_model``/``clip_model``/``clip_pretrained``: models for a collection that does not
    exist yet (its first ingest creates it); for an existing one they must match its own.
    """
    return SemsearchApp(
        lib, collection, query=query, type=type, k=k, filters=filters, images=images,
        root=root, opener=opener, profile=profile,
        models={"text_model": text_model, "clip_model": clip_model,
                "clip_pretrained": clip_pretrained},
    )


__all__ = ["SemsearchApp", "create_app"]

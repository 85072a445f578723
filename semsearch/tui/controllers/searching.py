"""Questions to the collection (the query bar's search, more like this, recommend), run in a
worker, and their results."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ...client.collection import Collection
from ..messages import RequestFailed, ResultsReady
from ..notices import guarded, unexpected
from ..state import DEFAULT_K, TYPE_LABELS, Request, execute, parse_filters, plural, search_request
from ..thumbs import THUMB_PX
from ..widgets.query_bar import QueryBar
from .base import Controller
from .loading import missing

#: what the results pane says while the query bar is empty
HINT = "Type in the query bar to search {} by meaning."


class Searcher(Controller):
    """Owns the screen's ``request``, ``shown``, ``pending`` and the results pane."""

    @guarded
    def query_changed(self, message: QueryBar.Changed) -> None:
        screen = self.screen
        if message.leave:
            screen.results.focus()
        if message.source == "leave":
            return
        bar = screen.bar
        where = parse_filters(bar.filters)
        if message.source == "options" and screen.request is not None \
                and screen.request.kind != "search":
            # type, k or filters changed under "more like this" or a recommendation
            self.submit(screen.request.with_options(bar.result_type, bar.k, where))
            return
        request = search_request(bar.text)
        if request is None:
            screen.request = None
            screen.seq += 1
            self.show_empty()
            return
        self.submit(request.with_options(bar.result_type, bar.k, where))

    def ask(self, request: Request) -> None:
        """Submit ``request`` with the query bar's type, k and filters."""
        bar = self.screen.bar
        self.submit(request.with_options(bar.result_type, bar.k, parse_filters(bar.filters)))

    def show_empty(self) -> None:
        screen = self.screen
        hint = HINT.format(screen.collection_name)
        screen.run_worker(screen.results.show([], {}, hint), exclusive=True, group="show")
        screen.preview.clear("Select a result to see it here.")
        screen.shown = None  # the titles follow
        if screen.ready:
            screen.status.set_state("Ready", busy=False)

    def submit(self, request: Request) -> None:
        screen = self.screen
        screen.seq += 1
        request = replace(request, seq=screen.seq)
        screen.request = request
        if screen.col is None or not screen.ready:
            if screen.col is not None and screen.info is None:
                self.tell(missing(screen.collection_name), "error")
                return
            screen.pending = True
            screen.show_loading()
            return
        screen.status.set_state(f"Searching: {request.title()}…", busy=True)
        self.in_thread(self._run, request, screen.col, group="search", exclusive=True)

    def _run(self, request: Request, col: Collection) -> None:
        screen = self.screen
        try:
            results = execute(col, request)
            thumbs: dict[str, Any] = {}
            if screen.options.image_class is not None:
                for hit in results:
                    if hit.modality == "image" and hit.path:
                        thumbs[hit.id] = screen.thumbs.get(hit.path, THUMB_PX)
        except Exception as e:  # noqa: BLE001 - a worker reports, never raises
            screen.post_message(RequestFailed(request, unexpected(e)))
            return
        screen.post_message(ResultsReady(request, results, thumbs))

    @guarded
    async def results_ready(self, message: ResultsReady) -> None:
        screen = self.screen
        if message.request.seq != screen.seq:
            return  # a newer request is on its way
        for warning in message.results.warnings:
            screen.warn_once(warning)
        n = len(message.results)
        await screen.results.show(list(message.results), message.thumbs,
                                  empty="Nothing found." + (" Try other filters." if
                                                            message.request.where else ""))
        if not n:
            screen.preview.clear("Nothing to show.")
        screen.shown = message.request  # the titles follow
        screen.status.set_state(f"{plural(n, 'result')}: {message.request.title()}",
                                busy=False)

    @guarded
    def failed(self, message: RequestFailed) -> None:
        if message.request.seq != self.screen.seq:
            return
        self.screen.status.set_state(f"error: {message.error}", busy=False)
        self.tell(message.error, "error")

    def titles(self) -> None:
        """The results pane's title (what the results are) and subtitle (type, k, layout)."""
        screen = self.screen
        view = screen.results
        req = screen.shown
        view.border_title = f"results · {plural(len(view.hits), 'hit')} · {req.title()}" \
            if req is not None else "results"
        bar = screen.bar
        kind = TYPE_LABELS[bar.result_type] if bar is not None else "both"
        layout = "grid" if view.grid else "list"
        view.border_subtitle = f"{kind} · k {bar.k if bar else DEFAULT_K} · {layout}"
        screen.preview.border_title = "preview"

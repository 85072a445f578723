"""Questions to the collection (the query bar's search, more like this, recommend), run in a
worker, and their results: the relevance floor (``a`` shows what it hides), the order (the
sort menu) and paging (the next page loads when the cursor reaches the end)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ...client.collection import Collection
from ...types import Results
from ..listing import SORT_LABELS, metadata_keys, parse_filters, sort_hits
from ..messages import RequestFailed, ResultsReady
from ..notices import guarded, unexpected
from ..state import DEFAULT_K, TYPE_LABELS, Request, execute, plural, search_request
from ..thumbs import THUMB_PX
from ..widgets.query_bar import QueryBar
from .base import Controller
from .loading import missing

#: what the results pane says while the query bar is empty
HINT = "Type in the query bar to search {} by meaning."


def hidden_note(hidden: int) -> str:
    return f"{hidden} hidden below the relevance floor (a shows them)" if hidden else ""


class Searcher(Controller):
    """Owns the screen's ``request``, ``shown``, ``pending``, ``hidden``, ``more`` and the
    results pane."""

    @guarded
    def query_changed(self, message: QueryBar.Changed) -> None:
        screen = self.screen
        if message.leave:
            screen.results.focus()
        if message.source == "leave":
            return
        if message.source == "sort":
            self.run_sort()
            return
        bar = screen.bar
        where = parse_filters(bar.filters, screen.options.root)
        if message.source == "options" and screen.request is not None \
                and not screen.request.from_bar:
            # type, k or filters changed under "more like this" or a recommendation
            self.submit(screen.request.with_options(bar.result_type, bar.k, where))
            return
        request = search_request(bar.text)
        if request is None:
            screen.request = None
            screen.seq += 1
            self.show_empty()
            return
        self.submit(replace(request.with_options(bar.result_type, bar.k, where),
                            from_bar=True))

    def back_to_query(self) -> None:
        """Show the query bar's answer again (a recommendation lost its likes)."""
        self.query_changed(QueryBar.Changed("query"))

    def ask(self, request: Request) -> None:
        """Submit ``request`` with the query bar's type, k and filters."""
        screen = self.screen
        bar = screen.bar
        self.submit(request.with_options(bar.result_type, bar.k,
                                         parse_filters(bar.filters, screen.options.root)))

    def show_empty(self) -> None:
        screen = self.screen
        hint = HINT.format(screen.collection_name)
        screen.run_worker(screen.results.show([], {}, hint), exclusive=True, group="show")
        screen.preview.clear("Select a result to see it here.")
        screen.hidden = 0
        screen.more = False
        screen.shown = None  # the titles follow
        if screen.ready:
            screen.status.set_state("Ready", busy=False)

    def submit(self, request: Request) -> None:
        screen = self.screen
        screen.seq += 1
        request = replace(request, seq=screen.seq, floor=not screen.show_all, offset=0)
        screen.request = request
        screen.paging = False  # a page on its way for the old list is dropped
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

    # paging ----------------------------------------------------------------------------------
    def load_more(self) -> None:
        """The next page of the list shown, with the same request (the cursor is at its end)."""
        screen = self.screen
        shown = screen.shown
        if shown is None or not screen.more or screen.paging or screen.col is None \
                or shown.seq != screen.seq:
            return
        screen.paging = True
        page = replace(shown, offset=len(screen.results.hits))
        screen.status.set_state(f"Loading more: {shown.title()}…", busy=True)
        self.in_thread(self._run, page, screen.col, group="page", exclusive=True)

    # results ---------------------------------------------------------------------------------
    @guarded
    async def results_ready(self, message: ResultsReady) -> None:
        screen = self.screen
        request, results = message.request, message.results
        if request.seq != screen.seq:
            return  # a newer request is on its way
        for warning in results.warnings:
            screen.warn_once(warning)
        screen.meta_keys |= metadata_keys(results)
        if request.offset:
            await self._append(request, results, message.thumbs)
            return
        screen.hidden = results.hidden
        screen.more = len(results) >= request.k
        await screen.results.show(sort_hits(results, screen.bar.sort), message.thumbs,
                                  empty=self.nothing(request))
        if not results:
            screen.preview.clear("Nothing to show.")
        screen.shown = request  # the titles follow
        self.say_shown()

    async def _append(self, request: Request, results: Results, thumbs: dict[str, Any]) -> None:
        screen = self.screen
        view = screen.results
        screen.paging = False
        if screen.bar.sort == "relevance":
            added = await view.append(list(results), thumbs)
        else:
            before = len(view.hits)
            merged = view.hits + [h for h in results if h.id not in {x.id for x in view.hits}]
            await view.show(sort_hits(merged, screen.bar.sort), {**view.thumbs, **thumbs},
                            keep_scroll=True)
            added = len(view.hits) - before
        screen.hidden = results.hidden
        screen.more = len(results) >= request.k and added > 0
        self.titles()
        self.say_shown()

    def nothing(self, request: Request) -> str:
        note = "Nothing found."
        if self.screen.hidden:
            note += f" {hidden_note(self.screen.hidden)}."
        elif request.where:
            note += " Try other filters."
        return note

    def say_shown(self) -> None:
        """The status line: how many results, of what, and what the floor hid."""
        screen = self.screen
        req = screen.shown
        if req is None:
            return
        n = len(screen.results.hits)
        line = f"{plural(n, 'result')}: {req.title()}"
        if screen.more:
            line += " · more as you scroll"
        if screen.hidden:
            line += f" · {hidden_note(screen.hidden)}"
        elif screen.show_all:
            line += " · floor off (a hides the weak hits)"
        screen.status.set_state(line, busy=False)

    @guarded
    def failed(self, message: RequestFailed) -> None:
        screen = self.screen
        if message.request.seq != screen.seq:
            return
        if message.request.offset:
            screen.paging = False
            screen.more = False
        screen.status.set_state(f"error: {message.error}", busy=False)
        self.tell(message.error, "error")

    # the floor and the order -----------------------------------------------------------------
    @guarded
    def toggle_all(self) -> None:
        """``a``: show the hits below the relevance floor too, or hide them again; the list
        shown is asked again."""
        screen = self.screen
        screen.show_all = not screen.show_all
        again = screen.shown or screen.request
        if again is not None:
            self.submit(again)
        else:
            floor = "off: every hit shows" if screen.show_all else "on"
            screen.status.set_state(f"The relevance floor is {floor}", busy=False)

    @guarded
    def run_sort(self) -> None:
        screen = self.screen
        view = screen.results
        if view.hits:
            screen.run_worker(view.show(sort_hits(view.hits, screen.bar.sort), view.thumbs,
                                        keep_scroll=True), group="show")
        self.titles()

    def titles(self) -> None:
        """The results pane's title (what the results are), its subtitle (type, k, layout,
        order) and the query bar's word on what the list shows."""
        screen = self.screen
        view = screen.results
        req = screen.shown
        if req is None:
            view.border_title = "results"
        else:
            count = plural(len(view.hits), "hit") + ("+" if screen.more else "")
            hidden = f" · {screen.hidden} hidden below the relevance floor" \
                if screen.hidden else (" · floor off" if screen.show_all else "")
            view.border_title = f"{count} · {req.title()}{hidden}"
        bar = screen.bar
        kind = TYPE_LABELS[bar.result_type] if bar is not None else "both"
        layout = "grid" if view.grid else "compact list" if view.compact else "list"
        view.border_subtitle = f"{kind} · k {bar.k if bar else DEFAULT_K} · {layout} · " \
                               f"by {SORT_LABELS[bar.sort]}"
        bar.showing(None if req is None or req.from_bar else req.title())
        screen.preview.border_title = "preview"

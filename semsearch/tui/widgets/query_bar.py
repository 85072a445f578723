"""The query bar: the query, the result type, the order, ``k`` and the filters."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Select

from ...types import ResultType
from ..listing import SORT_LABELS, SORTS, FilterSuggester, Sort
from ..state import DEFAULT_K, TYPE_LABELS, parse_k

#: seconds of quiet typing before a search runs
DEBOUNCE = 0.3
TYPES: tuple[ResultType, ...] = ("any", "image", "text")


HELP = Binding("f1", "app.help_anywhere", "Help", key_display="F1")


class QueryInput(Input):
    """The query field; ``down`` and ``escape`` leave it for the results."""

    BINDINGS = [Binding("enter", "submit", "Search"), ("down", "leave", "Results"),
                Binding("escape", "leave", "Results", show=False), HELP]

    @dataclass
    class Leave(Message):
        pass

    def action_leave(self) -> None:
        self.post_message(self.Leave())


class OptionInput(QueryInput):
    """The ``k`` and filters fields: ``enter`` applies at once, ``escape`` leaves (the footer
    says so: their letters type, so the screen's keys are off)."""

    BINDINGS = [Binding("enter", "submit", "Apply"), Binding("escape", "leave", "Results"),
                Binding("down", "leave", "Results", show=False), HELP]


class FilterInput(OptionInput):
    """The filters field: ``tab`` (or ``right`` at the end) takes the completion offered."""

    BINDINGS = [Binding("tab", "complete", "Complete", show=True)]

    def action_complete(self) -> None:
        if self._suggestion and self._suggestion != self.value:
            self.value = self._suggestion
            self.cursor_position = len(self.value)
        else:
            self.app.action_focus_next()


class QueryBar(Horizontal):
    """Posts :class:`QueryBar.Changed` when the query or an option changes (debounced while
    typing, at once on ``enter`` or when an option is picked)."""

    @dataclass
    class Changed(Message):
        """``source``: "query" (the query was typed or submitted), "options" (type, k or
        filters), "sort" (the order: nothing to ask) or "leave" (nothing changed; go to the
        results)."""

        source: str = "query"
        leave: bool = False  # go to the results too

    def __init__(self, query: str = "", type: ResultType = "any", k: int = DEFAULT_K,
                 filters: str = "", *, keys: Callable[[], Iterable[str]] = set,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self._initial = (query, type, k, filters)
        self._keys = keys  # the metadata keys the filters field completes
        self._timer: Timer | None = None
        self._source = "query"
        self._type: object = type
        self._sort: object = "relevance"

    def compose(self) -> ComposeResult:
        query, type_, k, filters = self._initial
        q = QueryInput(query, placeholder="Search by meaning, or paste an image's path…",
                       id="query", select_on_focus=False)
        q.border_title = "query"
        yield q
        sel: Select[str] = Select([(TYPE_LABELS[t], t) for t in TYPES], value=type_,
                                  allow_blank=False, id="type")
        yield sel
        order: Select[str] = Select([(SORT_LABELS[s], s) for s in SORTS], value="relevance",
                                    allow_blank=False, id="sort")
        yield order
        k_input = OptionInput(str(k), type="integer", id="k", max_length=3)
        k_input.border_title = "k"
        yield k_input
        f = FilterInput(filters, placeholder="year<1960 folder:notes since:2024",
                        id="filters", suggester=FilterSuggester(self._keys))
        f.border_title = "filters"
        yield f

    def on_mount(self) -> None:
        self.query_one("#type SelectCurrent").border_title = "type"
        self.query_one("#sort SelectCurrent").border_title = "sort"

    def showing(self, what: str | None) -> None:
        """Say on the query field what the list shows when it is not the query's answer
        (more like this, a recommendation): None when it is."""
        field = self.query_one("#query", Input)
        field.border_title = "query" if what is None else f"query · list shows {what}"
        field.set_class(what is not None, "-stale")

    # values ----------------------------------------------------------------------------------
    @property
    def text(self) -> str:
        return self.query_one("#query", Input).value

    @text.setter
    def text(self, value: str) -> None:
        self.query_one("#query", Input).value = value

    @property
    def result_type(self) -> ResultType:
        value = self.query_one("#type", Select).value
        return value if value in TYPES else "any"  # type: ignore[return-value]

    @result_type.setter
    def result_type(self, value: ResultType) -> None:
        self.query_one("#type", Select).value = value

    @property
    def sort(self) -> Sort:
        value = self.query_one("#sort", Select).value
        return value if value in SORTS else "relevance"  # type: ignore[return-value]

    @sort.setter
    def sort(self, value: Sort) -> None:
        self.query_one("#sort", Select).value = value

    @property
    def k(self) -> int:
        return parse_k(self.query_one("#k", Input).value)

    @property
    def filters(self) -> str:
        return self.query_one("#filters", Input).value

    def focus_query(self, select: bool = False) -> None:
        """Focus the query; ``select``: select its text, so that typing replaces it."""
        field = self.query_one("#query", Input)
        field.focus()
        if select:
            field.select_all()

    # events ----------------------------------------------------------------------------------
    def _later(self, source: str) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._source = source if self._timer is None or source == "query" else self._source
        self._timer = self.set_timer(DEBOUNCE, self._fire)

    def _fire(self) -> None:
        self._timer = None
        self.post_message(self.Changed(self._source))

    @property
    def pending(self) -> bool:
        """A debounced search is waiting to run."""
        return self._timer is not None

    def _now(self, source: str, leave: bool = False) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
            if self._source == "query":
                source = "query"
        self.post_message(self.Changed(source, leave=leave))

    @on(Input.Changed, "#query")
    def _query_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._later("query")

    @on(Input.Changed, "#k,#filters")
    def _option_typed(self, event: Input.Changed) -> None:
        event.stop()
        self._later("options")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "query":
            self._now("query", leave=True)
        else:
            self._now("options")

    @on(QueryInput.Leave)
    def _leave(self, event: QueryInput.Leave) -> None:
        event.stop()
        self._now("leave", leave=True)

    @on(Select.Changed, "#type")
    def _type_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value != self._type:  # not the first value, set at mount
            self._type = event.value
            self._now("options")

    @on(Select.Changed, "#sort")
    def _sort_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value != self._sort:
            self._sort = event.value
            self.post_message(self.Changed("sort"))

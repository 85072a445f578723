"""The map of the collection in the terminal (``M`` on the search screen): every item as a
point (textual-plotext), coloured by cluster, the clusters listed with their names, the
search screen's hits ringed and its text query placed as a star. Enter on a cluster lists
its items as results on the search screen; esc goes back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from ...client.collection import Collection
from ...errors import MissingExtra, SemsearchError
from ...mapping.points import NOISE, Map, MapPoint
from ...types import Hit

if TYPE_CHECKING:
    from .search import SearchScreen

#: plotext's colour names, in the order clusters get them
COLOURS = ("blue", "orange", "green", "red", "magenta", "cyan", "yellow", "violet",
           "bright-blue", "bright-green", "bright-red", "bright-cyan")


@dataclass
class Chosen:
    """A cluster picked on the map: its items, as hits to list."""

    title: str
    hits: list[Hit]


def cluster_hits(m: Map, cid: int) -> list[Hit]:
    """A cluster's items as hits, the most central first (nearest the cluster's middle)."""
    c = m.cluster(cid)
    cx, cy = (c.x, c.y) if c is not None else (0.0, 0.0)
    members = sorted(m.members(cid), key=lambda p: (p.x - cx) ** 2 + (p.y - cy) ** 2)
    return [Hit(n + 1, p.id, 0.0, "image" if p.modality == "image" else "text", p.path,
                p.snippet or None, {}, m.space, {"cluster": cid})
            for n, p in enumerate(members)]


def _plot_widget() -> type[Widget]:
    from textual_plotext import PlotextPlot

    return PlotextPlot


class MapScreen(Screen[Chosen | None]):
    BINDINGS = [Binding("escape,q", "close", "Back"),
                Binding("enter", "choose", "List its items", show=True)]
    #: the layout method (the tests use pca: no compilation at start)
    METHOD = "umap"

    def __init__(self, col: Collection, query: str | None = None,
                 hits: list[str] | None = None, method: str | None = None) -> None:
        super().__init__()
        self.col = col
        self.query_text = query
        self.hits = set(hits or [])
        self.method = method or self.METHOD
        self.map: Map | None = None
        self.focus_cluster: int | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="map-main"):
            yield _plot_widget()(id="map-plot")
            with Vertical(id="map-side"):
                yield Static("Making the map…", id="map-state")
                yield OptionList(id="map-clusters")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#map-side").border_title = "clusters"
        self._make()

    @work(thread=True, exit_on_error=False, group="map")
    def _make(self) -> None:
        try:
            m = self.col.map(method=self.method,
                             queries=[self.query_text] if self.query_text else [])
        except SemsearchError as e:
            self.app.call_from_thread(self._failed, str(e))
            return
        except Exception as e:  # noqa: BLE001 - a worker reports, never raises
            self.app.call_from_thread(self._failed, f"unexpected {type(e).__name__}: {e}")
            return
        self.app.call_from_thread(self._made, m)

    def _failed(self, error: str) -> None:
        self.query_one("#map-state", Static).update(f"error: {error}")
        self.app.notify(error, severity="error", markup=False)

    def _made(self, m: Map) -> None:
        self.map = m
        shown = len([p for p in m.points if p.id in self.hits])
        state = f"{len(m.points)} items · {len(m.clusters)} clusters · {m.method}, {m.space}"
        if self.hits:
            state += f" · {shown} hits ringed"
        self.query_one("#map-state", Static).update(state)
        options = self.query_one("#map-clusters", OptionList)
        options.add_options([Option(f"{c.label}  ({c.size})", id=str(c.id))
                             for c in m.clusters])
        rest = len(m.members(NOISE))
        if rest:
            options.add_option(Option(f"in no cluster  ({rest})", id=str(NOISE)))
        if options.option_count:
            options.highlighted = 0
        options.focus()
        self.draw()

    # drawing -------------------------------------------------------------------------------
    def draw(self) -> None:
        m = self.map
        if m is None:
            return
        widget = self.query_one("#map-plot")
        plt = widget.plt  # type: ignore[attr-defined]
        plt.clear_data()
        plt.clear_figure()
        plt.title(f"{m.collection}: {m.method} map of the {m.space} space")
        plt.xticks([])
        plt.yticks([])
        ids = [c.id for c in m.clusters] + [NOISE]
        for cid in ids:
            pts = m.members(cid)
            if not pts:
                continue
            faded = self.focus_cluster is not None and cid != self.focus_cluster
            colour = "gray" if cid == NOISE or faded else COLOURS[cid % len(COLOURS)]
            plt.scatter([p.x for p in pts], [p.y for p in pts], marker="dot", color=colour)
        ringed = [p for p in m.points if p.id in self.hits]
        if ringed:
            plt.scatter([p.x for p in ringed], [p.y for p in ringed], marker="o",
                        color="white", label="hits")
        for q in m.queries:
            plt.scatter([q.x], [q.y], marker="★", color="red", label=q.query[:30])
        widget.refresh()

    def points(self) -> list[MapPoint]:
        return self.map.points if self.map else []

    # keys ----------------------------------------------------------------------------------
    @on(OptionList.OptionHighlighted, "#map-clusters")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.focus_cluster = int(event.option.id or NOISE)
        self.draw()

    @on(OptionList.OptionSelected, "#map-clusters")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(int(event.option.id or NOISE))

    def action_choose(self) -> None:
        options = self.query_one("#map-clusters", OptionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            self._choose(int(option.id or NOISE))

    def _choose(self, cid: int) -> None:
        if self.map is None:
            return
        c = self.map.cluster(cid)
        title = f"cluster {c.label}" if c is not None else "items in no cluster"
        self.dismiss(Chosen(title, cluster_hits(self.map, cid)))

    def action_close(self) -> None:
        self.dismiss(None)


def open_map(screen: SearchScreen) -> None:
    """Push the map over the search screen; a cluster chosen there is listed as results."""
    col = screen.col
    if col is None or screen.info is None:
        screen.tell(f"collection {screen.collection_name!r} is not open yet (or empty)",
                    "warning")
        return
    try:
        _plot_widget()
    except ImportError:
        screen.tell(f"the map needs textual-plotext; run: {MissingExtra.hint()}", "error")
        return
    text = screen.bar.text.strip() if screen.shown is not None else ""
    query = text if text and not text.startswith(("/", "~", "./")) else None
    hits = [h.id for h in screen.results.hits]

    async def listed(chosen: Chosen | None) -> None:
        if chosen is None:
            return
        await screen.results.show(chosen.hits, {}, empty="Nothing in this cluster.")
        screen.results.border_title = f"{len(chosen.hits)} items · {chosen.title}"
        screen.status.set_state(f"{len(chosen.hits)} items of the {chosen.title} (map)",
                                busy=False)

    screen.app.push_screen(MapScreen(col, query, hits), listed)

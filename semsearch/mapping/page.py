"""The map as one self-contained HTML page (plotly, with plotly.js inlined: it opens
offline): a point per item coloured by cluster (a legend entry per cluster, click to hide
it), hover shows the item's snippet or file name, a click opens its file (``file://``; a
browser may ask first), queries drawn as stars with their hits ringed."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from .colours import HIT, QUERY, groups, numeric
from .extras import need
from .points import Map, MapPoint

SVG_POINTS = 5000
#: opens a point's file on click: the path rides in the point's customdata
CLICK_JS = """
var plot = document.getElementById('{plot_id}');
plot.on('plotly_click', function(data) {
  var p = data.points[0];
  var path = p && p.customdata && p.customdata[1];
  if (path) { window.open('file://' + encodeURI(path).replace(/#/g, '%23'), '_blank'); }
});
"""


def _hover(p: MapPoint) -> str:
    head = html.escape(p.path or p.id)
    text = html.escape(p.snippet)
    label = f"<br><i>{html.escape(p.label)}</i>" if p.label else ""
    value = f"<br>{html.escape(str(p.value))}" if p.value is not None else ""
    wrapped = "<br>".join(text[i: i + 60] for i in range(0, len(text), 60))
    return f"<b>{head}</b>{label}{value}<br>{wrapped}"


def figure(m: Map) -> Any:
    """The plotly figure of a map."""
    go = need("plotly.graph_objects", "plotly")
    fig = go.Figure()
    # SVG up to a few thousand points (sharp, drawn everywhere); WebGL beyond
    scatter = go.Scatter if len(m.points) <= SVG_POINTS else go.Scattergl
    if numeric(m):
        pts = m.points
        fig.add_trace(scatter(
            x=[p.x for p in pts], y=[p.y for p in pts], mode="markers", name=m.color_by,
            marker={"size": 6, "color": [p.value for p in pts], "colorscale": "Viridis",
                    "showscale": True, "colorbar": {"title": m.color_by}},
            text=[_hover(p) for p in pts], hoverinfo="text",
            customdata=[[p.id, p.path or ""] for p in pts]))
    else:
        for g in groups(m):
            fig.add_trace(scatter(
                x=[p.x for p in g.points], y=[p.y for p in g.points], mode="markers",
                name=html.escape(g.name), marker={"size": 6, "color": g.colour,
                                                  "opacity": 0.8},
                text=[_hover(p) for p in g.points], hoverinfo="text",
                customdata=[[p.id, p.path or ""] for p in g.points]))
    where = {p.id: p for p in m.points}
    for q in m.queries:
        hits = [where[h] for h in q.hits if h in where]
        fig.add_trace(go.Scatter(
            x=[p.x for p in hits], y=[p.y for p in hits], mode="markers",
            name=f"hits: {html.escape(q.query)}", showlegend=False,
            marker={"size": 12, "color": "rgba(0,0,0,0)", "line": {"width": 2, "color": HIT}},
            text=[_hover(p) for p in hits], hoverinfo="text",
            customdata=[[p.id, p.path or ""] for p in hits]))
        fig.add_trace(go.Scatter(
            x=[q.x], y=[q.y], mode="markers+text", name=f"query: {html.escape(q.query)}",
            marker={"size": 16, "symbol": "star", "color": QUERY,
                    "line": {"width": 1, "color": "white"}},
            text=[html.escape(q.query)], textposition="top center", hoverinfo="text"))
    for c in m.clusters:
        fig.add_annotation(x=c.x, y=c.y, text=html.escape(c.label), showarrow=False,
                           font={"size": 11, "color": "#222"}, bgcolor="rgba(255,255,255,0.6)")
    fig.update_layout(
        title=f"{html.escape(m.collection)}: {len(m.points)} items, {len(m.clusters)} clusters "
              f"({m.method}, {m.space} space)",
        template="plotly_white", legend={"title": {"text": m.color_by}},
        xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x"},
        margin={"l": 10, "r": 10, "t": 50, "b": 10}, hoverlabel={"align": "left"})
    return fig


def write_html(m: Map, out: Path) -> None:
    fig = figure(m)
    fig.write_html(str(out), include_plotlyjs=True, full_html=True, div_id="semsearch-map",
                   post_script=CLICK_JS.replace("{plot_id}", "semsearch-map"),
                   config={"displaylogo": False, "responsive": True})


def write_json(m: Map, out: Path) -> None:
    out.write_text(json.dumps(m.to_dict(), ensure_ascii=False) + "\n", encoding="utf-8")

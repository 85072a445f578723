"""``semsearch map`` and ``col.map()`` on a real small collection (the real MiniLM, and the
tiny CLIP model for images): coordinates for every item, clusters named by their topics'
words, queries placed among their topic, the cached layout updated, the HTML, PNG and JSON
files (the HTML opened in headless Chromium when it is installed)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from helpers import TINY_CLIP, make_image, write
from PIL import Image
from typer.testing import CliRunner

from semsearch import Library
from semsearch.cli import app
from semsearch.cli.maps import cluster_lines
from semsearch.mapping.colours import PALETTE

runner = CliRunner()

TOPICS = {
    "garden": [
        "Turn the garden beds and mix compost into the soil before sowing beans.",
        "Tomatoes in the garden want full sun, steady watering and a stake.",
        "Mulch the vegetable garden to keep weeds down and moisture in the soil.",
        "Sow lettuce and peas in the garden once the soil warms in spring.",
        "Prune the roses and feed the garden soil with compost in autumn.",
        "Water the seedlings in the garden early in the morning.",
        "Compost from kitchen scraps makes the garden soil rich.",
        "Weeding the garden beds every week keeps the vegetables healthy.",
    ],
    "stars": [
        "Through a small telescope the rings of Saturn are easy to see at night.",
        "The Orion nebula glows faintly below the belt of three bright stars.",
        "Dark skies far from city lights show the Milky Way and faint galaxies.",
        "Jupiter and its four large moons shine through the telescope.",
        "A meteor shower peaks tonight; look north-east after midnight for shooting stars.",
        "The telescope mount tracks the stars as the Earth turns.",
        "Venus is the brightest planet in the evening sky after sunset.",
        "Astronomers measure the distance to stars with a telescope and parallax.",
    ],
    "bread": [
        "Knead the bread dough until it is smooth and elastic.",
        "Let the bread dough rise twice before shaping the loaf.",
        "Bake the bread in a very hot oven until the crust is deep brown.",
        "Sourdough bread needs a lively starter fed with flour and water.",
        "Yeast, flour, salt and water are all a simple bread dough needs.",
        "A loaf of bread sounds hollow when tapped if it is baked through.",
        "Rye flour makes a dense, dark bread dough with a sour taste.",
        "Score the bread dough with a sharp blade just before baking.",
    ],
}
WORDS = {"garden": {"garden", "soil", "compost", "beds", "weeds"},
         "stars": {"telescope", "stars", "night", "planet", "faint", "saturn"},
         "bread": {"bread", "dough", "flour", "loaf", "oven"}}


def run(*args: object, code: int = 0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr,
                                      result.exception)
    return result


def topic_of(item: str) -> str:
    return Path(item).name.split("-")[0]


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three topics of eight notes each, ingested once (text only) with the real MiniLM."""
    base = tmp_path_factory.mktemp("map")
    for topic, lines in TOPICS.items():
        for n, line in enumerate(lines):
            write(base / "notes" / f"{topic}-{n}.txt", line)
    with Library(base / "home") as lib:
        lib.collection("notes", clip_model="none").ingest([base / "notes"])
    return base


def test_map_of_a_real_collection_through_the_client(notes: Path) -> None:
    with Library(notes / "home") as lib:
        col = lib.collection("notes")
        stages: list[str] = []
        m = col.map(method="pca", queries=["looking at planets through a telescope"],
                    on_progress=lambda e: stages.append(e.stage), refresh=True)
        assert stages[0] == "read" and {"layout", "clusters", "labels", "queries"} <= set(stages)
        assert sorted(p.id for p in m.points) == sorted(
            r[0] for r in lib.catalog.db.execute("SELECT item_id FROM items"))
        assert all(np.isfinite([p.x, p.y]).all() for p in m.points)
        assert m.space == "text" and m.layout == "computed"
        # each cluster holds one topic, and is named by that topic's words
        assert m.clusters
        for c in m.clusters:
            topics = {topic_of(p.id) for p in m.members(c.id)}
            assert len(topics) == 1, (c.label, topics)
            assert set(c.terms) & WORDS[topics.pop()], c.terms
            assert c.label == ", ".join(c.terms)
        clustered = {topic_of(p.id) for p in m.points if p.cluster >= 0}
        assert clustered == set(TOPICS)
        # the query sits among the astronomy notes, which are its hits
        q = m.queries[0]
        assert [topic_of(h) for h in q.hits[:8]] == ["stars"] * 8
        middles = {t: np.median([(p.x, p.y) for p in m.points if topic_of(p.id) == t], axis=0)
                   for t in TOPICS}
        dist = {t: float(np.hypot(q.x - xy[0], q.y - xy[1])) for t, xy in middles.items()}
        assert min(dist, key=dist.__getitem__) == "stars"


def test_map_command_writes_json_png_and_html_with_exact_output(notes: Path,
                                                                tmp_path: Path) -> None:
    home = notes / "home"
    out = tmp_path / "notes.json"
    first = run("map", "-c", "notes", "--home", home, "--method", "umap", "--refresh",
                "-o", out)
    data = json.loads(out.read_text())
    with Library(home) as lib:
        expected = lib.collection("notes").map(method="umap")  # the cached layout
    assert expected.layout == "cached"
    assert data.pop("layout") == "computed"
    assert data == {k: v for k, v in json.loads(json.dumps(expected.to_dict())).items()
                    if k != "layout"}
    # umap keeps the topics apart: each point is nearest its own topic's middle
    xy = {p["id"]: (p["x"], p["y"]) for p in data["points"]}
    middles = {t: np.median([v for i, v in xy.items() if topic_of(i) == t], axis=0)
               for t in TOPICS}
    near = [min(middles, key=lambda t: float(np.hypot(*(np.array(v) - middles[t]))))
            == topic_of(i) for i, v in xy.items()]
    assert sum(near) >= 22, sum(near)
    assert len(data["points"]) == 24
    assert {"id", "x", "y", "cluster", "label"} <= set(data["points"][0])
    n, k = len(expected.points), len(expected.clusters)
    assert first.stdout.splitlines() == cluster_lines(expected) + [
        f"notes: {n} items, {k} {'cluster' if k == 1 else 'clusters'} (umap, text space, "
        f"layout computed), written {out}"]
    assert first.stderr == ""
    # the same map again: the cached layout, the same points
    png = tmp_path / "notes.png"
    again = run("map", "-c", "notes", "--home", home, "-o", png, "--query", "bake a loaf")
    lines = again.stdout.splitlines()
    assert lines[-1] == (f"notes: {n} items, {k} {'cluster' if k == 1 else 'clusters'} (umap, "
                         f"text space, layout cached), written {png}")
    assert lines[-2].startswith("query 'bake a loaf' at (")
    assert all(topic_of(h) == "bread" for h in lines[-2].split("nearest: ")[1].split(", "))
    with Image.open(png) as img:
        assert img.format == "PNG" and img.size[0] >= 800
        pixels = np.asarray(img.convert("RGB"))
    # points in the clusters' colours (drawn at 85% opacity on white)
    for c in range(k):
        colour = 0.85 * np.array([int(PALETTE[c][i: i + 2], 16) for i in (1, 3, 5)]) + 0.15 * 255
        assert (np.abs(pixels.astype(int) - colour).sum(-1) < 30).sum() > 20
    html = tmp_path / "notes.html"
    run("map", "-c", "notes", "--home", home, "-o", html, "--color-by", "modality")
    page = html.read_text()
    assert "plotly_click" in page and "file://" in page
    assert '<script src="http' not in page  # plotly.js inlined: works offline
    assert "Tomatoes in the garden want full sun" in page  # hover text
    as_json = json.loads(run("map", "-c", "notes", "--home", home, "--json").stdout)
    assert as_json["color_by"] == "cluster" and len(as_json["points"]) == 24


def test_new_items_are_placed_into_the_cached_layout(notes: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(notes / "home", home)
    with Library(home) as lib:
        col = lib.collection("notes")
        before = {p.id: (p.x, p.y) for p in col.map(method="pca", refresh=True).points}
        new = write(tmp_path / "extra" / "stars-new.txt",
                    "We watched the planets and the stars through a telescope all night.")
        col.ingest([new])
        after = col.map(method="pca")
        assert after.layout == "cached, 1 placed"
        moved = {p.id: (p.x, p.y) for p in after.points}
        assert {i: moved[i] for i in before} == before  # nobody else moved
        placed = next(p for p in after.points if p.id == str(new))
        stars = np.median([moved[i] for i in before if topic_of(i) == "stars"], axis=0)
        others = [np.median([moved[i] for i in before if topic_of(i) == t], axis=0)
                  for t in ("garden", "bread")]
        d = float(np.hypot(*(np.array([placed.x, placed.y]) - stars)))
        assert all(d < float(np.hypot(*(np.array([placed.x, placed.y]) - o))) for o in others)
        assert col.map(method="pca", refresh=True).layout == "computed"
        lib.remove("notes")
        assert not (home / "maps" / "notes").exists()


def test_map_errors_are_one_line_with_exact_exit_codes(notes: Path, tmp_path: Path) -> None:
    home = notes / "home"
    result = run("map", "-c", "x", "--home", home, code=1)
    assert result.stderr == "error: no collection named 'x' (see `semsearch collections`)\n"
    result = run("map", "-c", "notes", "--home", home, "--method", "mds", code=2)
    assert result.stderr == ("error: invalid value for '--method': 'mds' is not one of umap, "
                             "tsne, pca\n")
    result = run("map", "-c", "notes", "--home", home, "-o", tmp_path / "map.svg", code=1)
    assert result.stderr == ("error: cannot write a map as map.svg: use a file ending in .html, "
                             ".png, .json\n")
    result = run("map", "-c", "notes", "--home", home, "--space", "clip", code=1)
    assert result.stderr == ("error: collection 'notes' has no CLIP space (built without a CLIP "
                             "model); use --space text\n")
    result = run("map", "-c", "notes", "--home", home, "-w", "year>5", code=1)
    assert result.stderr == ("error: nothing to map in collection 'notes' (text space, with "
                             "these filters)\n")
    result = run("map", "-c", "notes", "--home", home, "-o", tmp_path / "no" / "m.png", code=1)
    assert result.stderr == f"error: cannot write {tmp_path / 'no' / 'm.png'}: no folder " \
                            f"{tmp_path / 'no'}\n"
    assert result.stdout == ""


def test_images_and_texts_in_the_clip_space(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for topic, lines in TOPICS.items():
        for n, line in enumerate(lines[:4]):
            write(src / f"{topic}-{n}.txt", line)
    for n in range(6):
        make_image(src / "pics" / f"p{n}.png", n)
    with Library(tmp_path / "home") as lib:
        col = lib.collection("mixed", clip_model=TINY_CLIP, clip_pretrained="none")
        col.ingest([src])
        m = col.map(method="pca", images=[str(src / "pics" / "p0.png")])
        assert m.space == "clip" and len(m.points) == 18
        pics = [p for p in m.points if p.modality == "image"]
        assert sorted(p.snippet for p in pics) == [f"p{n}.png" for n in range(6)]
        assert m.queries[0].kind == "image" and m.queries[0].hits[0] == str(src / "pics" /
                                                                            "p0.png")
        for c in m.clusters:
            mods = [p.modality for p in m.members(c.id)]
            if set(mods) == {"image"}:
                assert c.label == f"{len(mods)} images" and c.representative in \
                    {p.id for p in m.members(c.id)}
        text_only = col.map(method="pca", space="text")
        assert text_only.space == "text" and len(text_only.points) == 12


@pytest.mark.slow
def test_the_html_map_shows_its_points_in_headless_chromium(notes: Path,
                                                           tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    html = tmp_path / "map.html"
    run("map", "-c", "notes", "--home", notes / "home", "--method", "pca", "-o", html,
        "--query", "telescope")
    shot = tmp_path / "shot.png"  # kept in the test's folder to look at
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                    "--hide-scrollbars", f"--screenshot={shot}", "--window-size=1000,700",
                    "--virtual-time-budget=5000", html.as_uri()],
                   check=True, capture_output=True, timeout=120)
    with Image.open(shot) as img:
        pixels = np.asarray(img.convert("RGB")).astype(int)
    # points drawn in the clusters' colours (80% opaque on white), and the query's red star
    with Library(notes / "home") as lib:
        k = len(lib.collection("notes").map(method="pca").clusters)
    for colour in PALETTE[:k]:
        rgb = 0.8 * np.array([int(colour[i: i + 2], 16) for i in (1, 3, 5)]) + 0.2 * 255
        assert (np.abs(pixels - rgb).sum(-1) < 40).sum() > 30, colour
    red = np.array([0xd6, 0x27, 0x28])
    assert (np.abs(pixels - red).sum(-1) < 40).sum() > 20

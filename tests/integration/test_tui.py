"""The terminal UI, driven with Textual's pilot: every key, the errors, and snapshots.

One small corpus (texts, book records, pictures) is ingested once for the module with the
real MiniLM and the tiny CLIP model; each test opens its own app on it. Hits are checked
against the Python client's own answers to the same question.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from helpers import EXACT, SHORT_TEXTS, TINY_CLIP, make_image, write
from pytest_textual_snapshot import SVGImageExtension
from textual import events
from textual.binding import BindingsMap
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input, ProgressBar, Static

from semsearch.client.library import Library
from semsearch.errors import ModelUnavailable
from semsearch.models.registry import ModelRegistry
from semsearch.search.explain import explain
from semsearch.tui import SemsearchApp, create_app
from semsearch.tui.keys import ALL_KEYS, COMMANDS
from semsearch.tui.opener import chunk_line
from semsearch.tui.screens.collections import CollectionScreen
from semsearch.tui.screens.help import HelpScreen
from semsearch.tui.screens.ingest import IngestScreen
from semsearch.tui.state import fit_path, hit_label
from semsearch.tui.widgets.chips import ChipWidget
from semsearch.tui.widgets.describe import score_label
from semsearch.tui.widgets.results import CardText, ResultCard
from semsearch.types import ProgressEvent

# pytest-textual-snapshot 1.0 names its extension in syrupy 4's way (``_file_extension``);
# syrupy 7 reads ``file_extension``: without this the snapshots are saved as ``.raw``
SVGImageExtension.file_extension = "svg"

SIZE = (120, 36)
MTIME = 1_700_000_000  # fixed file times: the preview shows them
BOOKS = [
    {"id": "book-1", "title": "The Old Man and the Sea", "author": "Ernest Hemingway",
     "year": 1952, "summary": "An old fisherman struggles with a giant marlin at sea."},
    {"id": "book-2", "title": "Dune", "author": "Frank Herbert", "year": 1965,
     "summary": "A noble family takes control of a desert planet and its spice."},
    {"id": "book-3", "title": "The Hobbit", "author": "J. R. R. Tolkien", "year": 1937,
     "summary": "A hobbit joins dwarves on a quest to take back a treasure from a dragon."},
]
PICTURES = {"beach.png": 1, "forest.png": 2, "city.jpg": 3}


def build_corpus(root: Path) -> None:
    for name, text in SHORT_TEXTS.items():
        write(root / "notes" / name, text)
    write(root / "records" / "books.jsonl", "\n".join(json.dumps(b) for b in BOOKS) + "\n")
    for name, seed in PICTURES.items():
        make_image(root / "images" / name, seed, size=(48, 36))
    for path in root.rglob("*"):
        os.utime(path, (MTIME, MTIME))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("tui")
    build_corpus(base / "corpus")
    with Library(base / "home", models=EXACT) as lib:
        col = lib.collection("tui", clip_model=TINY_CLIP, clip_pretrained="none")
        col.ingest([base / "corpus"], id_field="id", text_fields=["title", "summary"])
        lib.collection("other", clip_model="none").ingest([base / "corpus" / "notes"])
    return base


@pytest.fixture
def tlib(base: Path) -> Iterator[Library]:
    lib = Library(base / "home", models=EXACT)
    yield lib
    lib.close()


def make(lib: Library, base: Path, collection: str = "tui", show_all: bool = False,
         **options: Any) -> SemsearchApp:
    """The app over the test corpus; ``show_all``: the relevance floor off from the start
    (``a`` in the app), for tests that need more hits than this small corpus passes."""
    options.setdefault("images", "none")
    options.setdefault("opener", lambda path: None)
    app = create_app(lib, collection, root=base / "corpus", **options)
    if show_all:
        app.options = replace(app.options, show_all=True)
    return app


def run(app: SemsearchApp, body: Callable[[Pilot[None]], Awaitable[None]],
        notifications: bool = True) -> None:
    async def main() -> None:
        async with app.run_test(size=SIZE, notifications=notifications) as pilot:
            await body(pilot)

    asyncio.run(main())


async def settle(pilot: Pilot[None], timeout: float = 60.0) -> None:
    """Wait until no worker runs and no typed query waits for its debounce."""
    app = pilot.app
    assert isinstance(app, SemsearchApp)
    ui = app.search_screen
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2:
        assert time.monotonic() < deadline, f"still busy: {ui.status.state_text}"
        await pilot.pause(0.05)
        quiet = quiet + 1 if not ui.busy else 0


async def type_query(pilot: Pilot[None], text: str) -> None:
    app = pilot.app
    assert isinstance(app, SemsearchApp)
    ui = app.search_screen
    ui.bar.focus_query()
    ui.bar.text = ""
    await pilot.press(*text)
    await pilot.press("enter")  # search now, go to the results
    await settle(pilot)


def ids(hits: Any) -> list[str]:
    return [h.id for h in hits]


def errors_of(app: SemsearchApp) -> list[str]:
    return [m for severity, m in app.notices if severity == "error"]


# the main screen ------------------------------------------------------------------------------
def test_first_paint_comes_before_the_models(tlib: Library, base: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The screen paints and says what is loading while the models still load."""
    release = threading.Event()
    original = ModelRegistry.embedder

    def slow(self: ModelRegistry, *args: Any) -> Any:
        release.wait(30)
        return original(self, *args)

    monkeypatch.setattr(ModelRegistry, "embedder", slow)
    app = make(tlib, base, query="dogs")

    async def body(pilot: Pilot[None]) -> None:
        # The model load is held until release: the app painted without it.
        assert not release.is_set()
        ui = app.search_screen
        assert "Opening collection tui" in ui.status.state_text or \
            "Loading" in ui.status.state_text
        for _ in range(400):  # opening the store first takes a while on a busy machine
            if "Loading text model" in ui.status.state_text:
                break
            await pilot.pause(0.05)
        assert "Loading text model sentence-transformers/all-MiniLM-L6-v2" in \
            ui.status.state_text
        assert ui.results.hits == [] and not ui.ready
        release.set()
        await settle(pilot)
        assert ui.ready and ui.results.hits  # the query given at start ran once ready

    try:
        run(app, body)
    finally:
        release.set()


def test_typing_a_query_shows_the_clients_hits(tlib: Library, base: Path) -> None:
    app = make(tlib, base, images="halfcell")
    col = tlib.collection("tui")

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        ui = app.search_screen
        assert ui.status.state_text.endswith("Ready")
        assert "tui · 9 texts · 3 images" in str(ui.status.query_one("#status-collection")
                                                 .render())
        await pilot.press(*"dogs on the beach")  # as you type: no enter
        await settle(pilot)
        # the relevance floor hides the weak hits, as the CLI does, and says how many
        floored = col.search("dogs on the beach", k=10, floor=True)
        assert floored.hidden > 0
        assert ids(ui.results.hits) == ids(floored)
        hidden = f"{floored.hidden} hidden below the relevance floor"
        assert hidden in ui.status.state_text and hidden in str(ui.results.border_title)
        assert "(a shows them)" in ui.status.state_text
        # a: every hit, as the client gives them
        await pilot.press("escape", "a")
        await settle(pilot)
        expected = col.search("dogs on the beach", k=10)
        assert ids(ui.results.hits) == ids(expected)
        assert [round(h.score, 4) for h in ui.results.hits] == \
            [round(h.score, 4) for h in expected]
        assert {h.modality for h in ui.results.hits} == {"text", "image"}
        assert "hidden" not in ui.status.state_text and "floor off" in ui.status.state_text
        assert str(ui.results.border_title).startswith("10 hits+ · ")  # a page full: more
        # the hits under the floor are marked as such
        low = [c for c in app.query(ResultCard) if c.has_class("-below")]
        assert len(low) == floored.hidden and all("↓floor" in c.text() for c in low)
        # pictures are drawn (half blocks here) at a size one can tell apart; texts get a
        # marker
        for card in app.query(ResultCard):
            if card.hit.modality == "image":
                assert card.thumb is not None and card.query("HalfcellImage")
                assert card.query_one(".thumb").size.width >= 16
        # the first hit is selected and previewed with its metadata and score
        assert ui.preview.hit is not None and ui.preview.hit.id == expected[0].id
        meta = str(ui.preview.query_one("#preview-meta").render())
        assert f"{expected[0].score:.3f}" in meta
        await pilot.press("a")  # the floor again
        await settle(pilot)
        assert ids(ui.results.hits) == ids(floored) and hidden in ui.status.state_text

    run(app, body)


def test_text_preview_highlights_the_matching_chunk(tlib: Library, base: Path) -> None:
    app = make(tlib, base)

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await type_query(pilot, "boil pasta with garlic")
        ui = app.search_screen
        hit = ui.results.selected
        assert hit is not None and hit.id.endswith("pasta.txt")
        text = ui.preview.body
        assert text.plain.startswith("Boil the pasta")
        marked = [s for s in text.spans if "on #3b3b5c" in str(s.style)]
        assert [(s.start, s.end) for s in marked] == [(0, len(text.plain))]  # one chunk
        bold = [text.plain[s.start:s.end].lower() for s in text.spans
                if "underline" in str(s.style)]
        assert {"boil", "pasta", "garlic"} <= set(bold)
        assert "with" not in bold  # a stop word is no match
        # why it matched: the core's explanation, the query's words the text holds
        why = str(ui.preview.query_one("#preview-why").render())
        assert explain(hit, "boil pasta with garlic") in why.replace("\n", " ") or \
            explain(hit, "boil pasta with garlic")[:40] in why
        assert "words boil, pasta, garlic" in why
        # the score is labelled from its parts (no more "cosine" for a hybrid score)
        meta = str(ui.preview.query_one("#preview-meta").render())
        assert f"{hit.score:.3f} ({score_label(hit)})" in meta.replace("\n", " ")
        assert hit.parts["lexical_bonus"] > 0 and "+ lexical" in score_label(hit)
        assert "sd above" in score_label(hit)  # both kinds: merged on the calibrated score

    run(app, body)


def test_why_it_matched_marks_words_by_stem() -> None:
    """The snippet marks the words that match the query's the way BM25 does (by stem)."""
    from semsearch.tui.widgets.describe import highlight, marked_words

    text = "Boiling the pasta; boiled eggs. Garlicky? No: garlic."
    words = {text[a:b] for a, b in marked_words("boil garlic", text)}
    assert words == {"Boiling", "boiled", "garlic"}
    assert highlight(text, 0, 7, None).spans[0].style == "on #3b3b5c"


def test_type_k_and_filters_from_the_ui(tlib: Library, base: Path) -> None:
    app = make(tlib, base, show_all=True)  # a filter to one book: the floor would hide it
    col = tlib.collection("tui")

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await type_query(pilot, "a story")
        await pilot.press("t")  # both -> images
        await settle(pilot)
        ui = app.search_screen
        assert ui.bar.result_type == "image"
        assert ids(ui.results.hits) == ids(col.search("a story", type="image", k=10))
        await pilot.press("t")  # -> texts
        await settle(pilot)
        assert ids(ui.results.hits) == ids(col.search("a story", type="text", k=10))
        k_input = app.query_one("#k", Input)
        k_input.value = "2"
        await settle(pilot)
        assert ids(ui.results.hits) == ids(col.search("a story", type="text", k=2))
        filters = app.query_one("#filters", Input)
        filters.value = "year<1960"
        await settle(pilot)
        expected = col.search("a story", type="text", k=2, where=["year<1960"])
        assert ids(ui.results.hits) == ids(expected)
        assert set(ids(expected)) <= {"book-1", "book-3"}
        filters.value = 'author="Frank Herbert"'
        await settle(pilot)
        assert ids(ui.results.hits) == ["book-2"]
        assert "texts · k 2" in str(ui.results.border_subtitle)

    run(app, body)


def test_folder_and_date_filters_sort_and_completion(tlib: Library, base: Path) -> None:
    app = make(tlib, base, show_all=True)
    col = tlib.collection("tui")
    notes = str(base / "corpus" / "notes")

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await type_query(pilot, "a story")
        ui = app.search_screen
        filters = app.query_one("#filters", Input)
        # folder: the items of files under it (relative to the root the paths are shown from)
        filters.value = "folder:notes"
        await settle(pilot)
        paths = [str(p) for p in (base / "corpus" / "notes").iterdir()]
        assert ids(ui.results.hits) == \
            ids(col.search("a story", k=10, where={"path": {"$in": sorted(paths)}}))
        assert ui.results.hits and all(h.path and h.path.startswith(notes + os.sep)
                                       for h in ui.results.hits)
        # dates: by the file's modification time (the corpus's files are from Nov 2023)
        filters.value = "folder:notes until:2023-11"
        await settle(pilot)
        assert len(ui.results.hits) == 6
        filters.value = "since:2024-01-01"
        await settle(pilot)
        assert ui.results.hits == [] and "Nothing found" in \
            str(ui.results.query_one("#empty").render())
        filters.value = "folder:no/such/folder"
        await settle(pilot)
        assert ui.results.hits == [] and not errors_of(app)
        filters.value = "since:soon"
        await settle(pilot)
        assert "bad date 'soon'" in errors_of(app)[-1]
        filters.value = ""
        await settle(pilot)
        # the sort menu (s cycles it): relevance, newest first, path
        ranked = ids(ui.results.hits)
        ui.results.focus()
        await pilot.press("s")  # newest: every file has the same time here, so the ranks
        await settle(pilot)
        assert ui.bar.sort == "date" and ids(ui.results.hits) == ranked
        await pilot.press("s")
        await settle(pilot)
        assert ui.bar.sort == "path" and "by path" in str(ui.results.border_subtitle)
        keys = [(h.path or h.id).lower() for h in ui.results.hits]
        assert keys == sorted(keys) and sorted(ids(ui.results.hits)) == sorted(ranked)
        await pilot.press("s")
        await settle(pilot)
        assert ui.bar.sort == "relevance" and ids(ui.results.hits) == ranked
        # completion of metadata keys (those seen in hits) and of folder:, since:, until:
        filters.focus()
        filters.value = ""
        await pilot.press("a", "u")
        await pilot.pause(0.2)
        await pilot.press("tab")
        assert filters.value == "author"
        await pilot.press("equals_sign", *"Dune", "space", "f", "o")
        await pilot.pause(0.2)
        await pilot.press("tab")
        assert filters.value == "author=Dune folder:"
        await pilot.press("tab")  # nothing to complete: the next field
        assert app.focused is not filters

    run(app, body)


def test_a_pasted_image_path_searches_by_image(tlib: Library, base: Path) -> None:
    app = make(tlib, base, show_all=True)
    col = tlib.collection("tui")
    picture = base / "corpus" / "images" / "forest.png"

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        ui = app.search_screen
        ui.bar.focus_query()
        # as a terminal pastes (or drops) a path: quoted, in a bracketed paste
        app.query_one("#query", Input).post_message(events.Paste(f"'{picture}'"))
        await settle(pilot)
        assert ui.bar.text == f"'{picture}'"
        expected = col.search(image=str(picture), k=10)
        assert ids(ui.results.hits) == ids(expected)
        assert {h.modality for h in ui.results.hits} == {"image", "text"}  # image->both
        # merged by calibrated score: the picture itself comes first among the pictures
        assert [h for h in ui.results.hits if h.modality == "image"][0].id == str(picture)
        assert "like the image forest.png" in str(ui.results.border_title)
        # a text file's path: items like that file
        notes = base / "corpus" / "notes" / "rain.md"
        ui.bar.text = str(notes)
        await settle(pilot)
        assert ids(ui.results.hits) == ids(col.similar(str(notes), k=10))
        assert "more like rain.md" in str(ui.results.border_title)

    run(app, body)


# the keys -------------------------------------------------------------------------------------
def test_enter_and_double_click_open_with_the_system_viewer(tlib: Library, base: Path) -> None:
    opened: list[str] = []
    app = make(tlib, base, opener=opened.append, show_all=True)

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await type_query(pilot, "guitar by the campfire")
        ui = app.search_screen
        first = ui.results.hits[0]
        await pilot.press("enter")
        assert opened == [first.path]
        cards = list(app.query(ResultCard))
        await pilot.double_click(cards[1])
        await pilot.pause()
        assert opened[-1] == ui.results.hits[1].path
        assert ui.results.index == 1

    run(app, body)


def test_without_a_viewer_texts_open_in_the_editor_or_pager(
        tlib: Library, base: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_viewer(path: str) -> None:
        raise OSError("xdg-open is not installed")

    for var in ("VISUAL", "EDITOR", "PAGER"):
        monkeypatch.delenv(var, raising=False)
    app = make(tlib, base, opener=no_viewer, show_all=True)
    ran: list[list[str]] = []

    def run_in_terminal(command: Any) -> int:
        ran.append(list(command))
        return 0

    app.run_in_terminal = run_in_terminal  # type: ignore[method-assign]

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await type_query(pilot, "the stock market fell sharply")
        ui = app.search_screen
        hit = ui.results.hits[0]
        assert hit.path is not None and hit.path.endswith("stocks.md")
        await pilot.press("enter")  # neither a viewer nor an editor: a clear message
        assert ran == [] and "xdg-open is not installed" in errors_of(app)[-1]
        assert "set $EDITOR or $PAGER" in errors_of(app)[-1]
        # $EDITOR, at the line where the chunk starts
        monkeypatch.setenv("EDITOR", "vim")
        await pilot.press("enter")
        line = chunk_line(Path(hit.path).read_text(), hit.metadata["start"], hit.text)
        assert ran[-1] == ["vim", *([f"+{line}"] if line > 1 else []), hit.path]
        assert "Opened notes/stocks.md in vim" in ui.status.state_text
        monkeypatch.delenv("EDITOR")
        monkeypatch.setenv("PAGER", "less -R")
        await pilot.press("enter")
        assert ran[-1][:2] == ["less", "-R"] and ran[-1][-1] == hit.path
        # pictures have no editor
        pictures = [n for n, h in enumerate(ui.results.hits) if h.modality == "image"]
        ui.results.index = pictures[0]
        await pilot.press("enter")
        assert len(ran) == 2 and "cannot open images/" in errors_of(app)[-1]

    run(app, body)


def test_line_of_a_chunk_in_its_file() -> None:
    from semsearch.tui.opener import terminal_command

    raw = "# Title\n\nFirst paragraph.\n\nSecond one here.\nmore"
    assert chunk_line(raw, raw.index("Second"), "Second one here.\nmore") == 5
    assert chunk_line(raw, 3, "Second one here.") == 5  # markup moved the offsets: found
    assert chunk_line(raw, 0, None) == 1
    assert terminal_command("/x/a.md", 5, {"EDITOR": "nano"}) == ["nano", "+5", "/x/a.md"]
    assert terminal_command("/x/a.md", 5, {"EDITOR": "hx"}) == ["hx", "/x/a.md:5"]
    assert terminal_command("/x/a.md", 5, {"EDITOR": "ed"}) == ["ed", "/x/a.md"]
    assert terminal_command("/x/a.md", 5, {"PAGER": "less"}) == ["less", "+5g", "/x/a.md"]
    assert terminal_command("/x/a.pdf", 5, {"EDITOR": "vim"}) is None
    assert terminal_command("/x/a.md", 5, {}) is None


def test_the_next_page_loads_at_the_end_of_the_list(tlib: Library, base: Path) -> None:
    app = make(tlib, base, k=4, show_all=True)
    col = tlib.collection("tui")

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await type_query(pilot, "a story")
        ui = app.search_screen
        first = col.search("a story", k=4)
        assert ids(ui.results.hits) == ids(first)
        assert "4 hits+" in str(ui.results.border_title)
        assert "more as you scroll" in ui.status.state_text
        await pilot.press("end")  # the cursor reaches the end: the next page comes
        await settle(pilot)
        second = col.search("a story", k=4, offset=4)
        assert ids(ui.results.hits) == ids(first) + ids(second)
        assert [h.rank for h in ui.results.hits] == list(range(1, 9))
        assert ui.results.index == 3  # the cursor stays
        await pilot.press("end")
        await settle(pilot)
        await pilot.press("end")  # 12 items: the last page is short, nothing more
        await settle(pilot)
        assert len(ui.results.hits) == 12 and not ui.more
        assert sorted(ids(ui.results.hits)) == sorted(ids(col.search("a story", k=12)))
        assert str(ui.results.border_title).startswith("12 hits · ")
        assert "more as you scroll" not in ui.status.state_text

    run(app, body)


def test_d_switches_list_density(tlib: Library, base: Path) -> None:
    app = make(tlib, base, images="halfcell", show_all=True)

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await type_query(pilot, "a photo")
        ui = app.search_screen

        def pictures() -> list[ResultCard]:
            return [c for c in app.query(ResultCard) if c.hit.modality == "image"]

        # comfortable (the default): large half-block thumbnails
        assert all(c.query("HalfcellImage") for c in pictures())
        assert all(c.size.height == 6 for c in app.query(ResultCard))
        await pilot.press("d")
        await settle(pilot)
        # compact: half blocks would be too coarse to tell apart; a marker instead
        assert ui.results.compact and "compact list" in str(ui.results.border_subtitle)
        assert all(c.size.height == 3 for c in app.query(ResultCard))
        assert not any(c.query("HalfcellImage") for c in pictures())
        assert all("▣" in str(c.query_one(".placeholder", Static).render())
                   for c in pictures())
        await pilot.press("g")  # the grid draws pictures at its own size
        await settle(pilot)
        assert all(c.query("HalfcellImage") for c in pictures())
        await pilot.press("g", "d")
        await settle(pilot)
        assert not ui.results.compact and all(c.query("HalfcellImage") for c in pictures())

    run(app, body)


def test_preview_hides_internal_metadata(tlib: Library, base: Path) -> None:
    app = make(tlib, base, show_all=True)

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await type_query(pilot, "an old fisherman and a giant marlin")
        ui = app.search_screen
        hit = ui.results.selected
        assert hit is not None and hit.id == "book-1"
        assert {"sha256", "source_sha256", "record", "chunk", "start", "end"} <= \
            set(hit.metadata)
        meta = str(ui.preview.query_one("#preview-meta").render())
        keys = {line.split()[0] for line in meta.splitlines()}
        assert keys == {"score", "rank", "id", "author", "modified", "path", "size", "year"}
        assert "modified  2023-11-14 22:13 UTC" in meta
        assert "cosine, text space" not in meta  # the score is no plain cosine here

    run(app, body)


def test_m_more_like_this(tlib: Library, base: Path) -> None:
    app = make(tlib, base, show_all=True)
    col = tlib.collection("tui")

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await type_query(pilot, "rain and thunderstorms")
        await pilot.press("down")
        ui = app.search_screen
        chosen = ui.results.selected
        assert chosen is not None
        await pilot.press("m")
        await settle(pilot)
        expected = col.similar(f"id:{chosen.id}", k=10)
        assert ids(ui.results.hits) == ids(expected)
        assert chosen.id not in ids(ui.results.hits)
        assert "more like" in str(ui.results.border_title)
        # the query bar says that the list is not the query's answer
        field = app.query_one("#query", Input)
        assert field.has_class("-stale") and "list shows more like" in \
            str(field.border_title)
        await pilot.press("t")  # an option change keeps "more like this"
        await settle(pilot)
        assert ids(ui.results.hits) == ids(col.similar(f"id:{chosen.id}", k=10,
                                                        type="image"))
        assert field.has_class("-stale")
        # enter in the query bar: its answer again
        ui.bar.focus_query()
        await pilot.press("enter")
        await settle(pilot)
        assert not field.has_class("-stale") and str(field.border_title) == "query"
        assert "“rain and thunderstorms”" in str(ui.results.border_title)

    run(app, body)


def test_like_unlike_recommend_and_chips(tlib: Library, base: Path) -> None:
    app = make(tlib, base, show_all=True)
    col = tlib.collection("tui")

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("escape", "r")  # nothing liked yet
        assert any("like a result first" in m for _, m in app.notices)
        await type_query(pilot, "a book")
        ui = app.search_screen
        hits = ui.results.hits
        await pilot.press("plus", "down", "minus", "down", "plus")
        await settle(pilot)
        liked, disliked = [f"id:{hits[0].id}", f"id:{hits[2].id}"], [f"id:{hits[1].id}"]
        assert ui.taste.likes == liked and ui.taste.unlikes == disliked
        chips = list(app.query(ChipWidget))
        assert [c.chip.polarity for c in chips] == ["like", "unlike", "like"]
        assert str(chips[0].render()).startswith("+ ") and str(chips[1].render()).startswith("− ")
        await pilot.press("r")
        await settle(pilot)
        assert ids(ui.results.hits) == ids(col.recommend(liked, disliked, k=10))
        assert "recommended from 2 likes, 1 dislike" in str(ui.results.border_title)
        assert "list shows recommended from" in \
            str(app.query_one("#query", Input).border_title)
        # a chip goes on click, and the recommendation follows
        await pilot.click(chips[2])
        await settle(pilot)
        assert ui.taste.likes == liked[:1]
        assert ids(ui.results.hits) == ids(col.recommend(liked[:1], disliked, k=10))
        # and with the keyboard: focus a chip, press delete
        app.query(ChipWidget).first().focus()
        await pilot.press("delete")
        await settle(pilot)
        assert ui.taste.likes == []
        assert isinstance(app.focused, ChipWidget)  # the next chip
        # no like left: no recommendation; the list is the query's answer again
        assert "recommended" not in str(ui.results.border_title)
        assert ids(ui.results.hits) == ids(col.search("a book", k=10))
        await pilot.press("x")
        assert len(ui.taste) == 0 and not ui.chips.display

    run(app, body)


def test_x_after_a_recommendation_goes_back_to_the_query(tlib: Library, base: Path) -> None:
    app = make(tlib, base, show_all=True)
    col = tlib.collection("tui")

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await type_query(pilot, "a book")
        ui = app.search_screen
        await pilot.press("plus", "down", "minus", "r")
        await settle(pilot)
        assert "recommended from 1 like, 1 dislike" in str(ui.results.border_title)
        await pilot.press("x")
        await settle(pilot)
        assert len(ui.taste) == 0
        title = str(ui.results.border_title)
        assert "recommended" not in title and "“a book”" in title
        assert "recommended" not in ui.status.state_text
        assert ids(ui.results.hits) == ids(col.search("a book", k=10))
        assert str(app.query_one("#query", Input).border_title) == "query"

    run(app, body)


def test_a_profile_keeps_the_likes(tlib: Library, base: Path) -> None:
    app = make(tlib, base, profile="me")

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await type_query(pilot, "pasta")
        await pilot.press("plus")
        await settle(pilot)

    run(app, body)
    pasta = str(base / "corpus" / "notes" / "pasta.txt")
    assert [e.ref for e in tlib.profile("me", collection="tui").likes] == [pasta]
    again = make(tlib, base, profile="me")

    async def body2(pilot: Pilot[None]) -> None:
        await settle(pilot)
        ui = again.search_screen
        assert ui.taste.likes == [f"id:{pasta}"]
        assert [c.chip.label for c in again.query(ChipWidget)] == ["notes/pasta.txt"]

    run(again, body2)
    tlib.profile("me", collection="tui").clear()


def test_g_grid_y_copy_and_slash(tlib: Library, base: Path) -> None:
    app = make(tlib, base, show_all=True)
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign]

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await type_query(pilot, "weather this weekend")
        await pilot.press("g")
        ui = app.search_screen
        assert ui.results.grid and ui.results.has_class("-grid")
        assert ui.results.columns() == ui.results.styles.grid_size_columns >= 2
        assert "· grid" in str(ui.results.border_subtitle)
        await pilot.press("right")  # the grid moves sideways too
        assert ui.results.index == 1
        # the tiles' names fit their width, shortened at folder boundaries, never broken
        # inside a word
        for text in app.query(CardText):
            name = text.render().plain.split("\n")[1]
            assert len(name) <= text.size.width
            label = hit_label(text.hit, base / "corpus")
            assert name == label or (name.startswith("…/") and label.endswith(name[1:]))
        await pilot.press("y")
        hit = ui.results.hits[1]
        assert copied == [hit.path or hit.id]
        await pilot.press("Y")  # its text
        if hit.text:
            assert copied[-1] == hit.text
        else:
            assert copied == [hit.path or hit.id] and "no text to copy" in app.notices[-1][1]
        await pilot.press("g")
        assert not ui.results.grid
        await pilot.press("slash")
        field = app.query_one("#query", Input)
        assert app.focused is field and field.selected_text == "weather this weekend"

    run(app, body)


def test_names_are_shortened_at_folder_boundaries() -> None:
    assert fit_path("notes/unfinished.md", 40) == "notes/unfinished.md"
    assert fit_path("notes/drafts/unfinished.md", 18) == "…/unfinished.md"
    assert fit_path("notes/drafts/unfinished.md", 12) == "unfinish….md"
    assert fit_path("book-1", 4) == "boo…"


def test_paths_as_terminals_paste_and_drop_them(base: Path, tmp_path: Path) -> None:
    from semsearch.errors import ConfigError
    from semsearch.tui.state import Request, path_in_query, search_request

    picture = base / "corpus" / "images" / "beach.png"
    spaced = tmp_path / "a beach.png"
    spaced.write_bytes(picture.read_bytes())
    for given in (str(picture), f"'{picture}'", f'"{picture}"', f"file://{picture}",
                  f"  {picture}  "):
        assert path_in_query(given) == str(picture), given
    assert path_in_query(str(spaced).replace(" ", "\\ ")) == str(spaced)  # escaped space
    assert path_in_query(f"file://{str(spaced).replace(' ', '%20')}") == str(spaced)
    assert search_request(f"'{picture}'") == Request("search", image=str(picture))
    assert search_request("dogs on a beach.png please") == \
        Request("search", text="dogs on a beach.png please")
    assert search_request("   ") is None
    with pytest.raises(ConfigError, match="no such file"):
        path_in_query("~/no/such/photo.jpg")


def test_c_switches_collection(tlib: Library, base: Path) -> None:
    app = make(tlib, base)

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await type_query(pilot, "dogs")
        await pilot.press("c")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CollectionScreen)
        listed = screen.query_one("#collections-list")
        assert [listed.get_option_at_index(i).id  # type: ignore[attr-defined]
                for i in range(listed.option_count)] == ["other", "tui"]  # type: ignore
        assert listed.highlighted == 1  # type: ignore[attr-defined]
        await pilot.press("up", "enter")
        await settle(pilot)
        ui = app.search_screen
        assert ui.collection_name == "other" and ui.ready
        assert "other · 6 texts" in str(ui.status.query_one("#status-collection").render())
        # the query runs again in the new collection (text only: no CLIP there)
        assert ids(ui.results.hits) == ids(tlib.collection("other").search("dogs", k=10,
                                                                            floor=True))

    run(app, body)


def test_i_ingests_with_a_progress_bar(tlib: Library, base: Path,
                                       tmp_path: Path) -> None:
    folder = tmp_path / "new"
    write(folder / "a.txt", "Sailing boats race across the bay in a summer regatta.")
    write(folder / "b.md", "# Soup\n\nA warm lentil soup with cumin for cold evenings.")
    make_image(folder / "c.png", 7)
    app = make(tlib, base, collection="fresh", clip_model=TINY_CLIP, clip_pretrained="none")

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        assert any("no collection named 'fresh'" in m for m in errors_of(app))
        await pilot.press("escape", "i")
        screen = app.screen
        assert isinstance(screen, IngestScreen)
        field = screen.query_one("#ingest-path", Input)
        field.value = str(folder)
        await pilot.press("enter")
        await settle(pilot)
        bar = screen.query_one("#ingest-bar", ProgressBar)
        assert bar.total == 3 and bar.progress == 3
        state = str(screen.query_one("#ingest-state").render())
        assert state.startswith("fresh: 3 added")
        # the whole summary shows: it wraps rather than stopping at "(3 items"
        assert "items embedded in" in state and state.rstrip().endswith("s)")
        assert screen.query_one("#ingest-state").size.height >= 2
        assert any("fresh: 3 added" in m for _, m in app.notices)
        await pilot.press("escape")
        ui = app.search_screen
        assert ui.ready and "fresh · 2 texts · 1 image" in \
            str(ui.status.query_one("#status-collection").render())
        await type_query(pilot, "soup")
        assert ui.results.hits[0].id == str(folder / "b.md")

    try:
        run(app, body)
    finally:
        tlib.remove("fresh")


def test_help_screen_lists_every_key(tlib: Library, base: Path) -> None:
    app = make(tlib, base)

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("escape", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one("#help-keys", Static).content
        from rich.console import Console

        console = Console(width=120, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
        console.print(table)
        shown = console.export_text()
        for key in ALL_KEYS:
            assert key.display in shown and key.description in shown, key
        # and every key bound on the app or its search screen is in the table (but the
        # focus and copy keys every Textual screen has)
        textual = {b.key for _, b in BindingsMap(Screen.BINDINGS)}
        bound = {b.key_display or b.key for node in (app, app.search_screen)
                 for _, b in node._bindings if not b.system and b.key not in textual}
        assert len(bound) > 10 and bound <= {k.display for k in ALL_KEYS}
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        # F1 (or ctrl+/, which terminals send as ctrl+_) opens it from a text field too
        for key in ("f1", "ctrl+underscore"):
            for field in ("#query", "#k", "#filters"):
                app.query_one(field, Input).focus()
                await pilot.press("question_mark")  # a character there
                assert not isinstance(app.screen, HelpScreen)
                await pilot.press(key)
                assert isinstance(app.screen, HelpScreen), (key, field)
                await pilot.press(key)  # and closes it
                assert not isinstance(app.screen, HelpScreen)
        assert "?" in app.query_one("#filters", Input).value

    run(app, body)


def test_the_footer_shows_the_keys_that_work_now(tlib: Library, base: Path) -> None:
    app = make(tlib, base)

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        typing = {b.binding.action for b in app.screen.active_bindings.values() if b.enabled}
        assert "more_like_this" not in typing  # letters type into the query
        await type_query(pilot, "dogs")
        active = {b.binding.action for b in app.screen.active_bindings.values() if b.enabled}
        assert {k.action for k in COMMANDS} <= active

        def footer() -> set[str]:
            return {b.binding.description for b in app.screen.active_bindings.values()
                    if b.enabled and b.binding.show}

        # in a text field the footer shows the keys that work there (it went blank)
        app.query_one("#query", Input).focus()
        await pilot.pause()
        assert {"Search", "Results", "Help"} <= footer()
        for field, keys in (("#k", {"Apply", "Results", "Help"}),
                            ("#filters", {"Apply", "Results", "Help", "Complete"})):
            app.query_one(field, Input).focus()
            await pilot.pause()
            assert keys <= footer(), field
            assert "More like" not in footer()
        # they work: esc goes to the results
        await pilot.press("escape")
        assert app.focused is app.search_screen.results

    run(app, body)


def test_q_quits_and_ctrl_q_quits_while_typing(tlib: Library, base: Path) -> None:
    app = make(tlib, base)

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("escape", "q")
        await pilot.pause()
        assert not app.is_running

    run(app, body)
    typing = make(tlib, base)

    async def body2(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("q")  # in the query bar: a letter
        ui = typing.search_screen
        assert ui.bar.text == "q" and typing.is_running
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not typing.is_running

    run(typing, body2)


# errors ---------------------------------------------------------------------------------------
def test_errors_are_notifications(tlib: Library, base: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_opener(path: str) -> None:
        raise OSError("xdg-open is not installed")

    app = make(tlib, base, opener=broken_opener)

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        ui = app.search_screen
        ui.bar.text = "/no/such/picture.png"  # a bad path
        await settle(pilot)
        assert errors_of(app)[-1] == "no such file: /no/such/picture.png"
        ui.bar.text = "dogs"
        app.query_one("#filters", Input).value = "year<soon"  # a bad filter
        await settle(pilot)
        assert "needs a number" in errors_of(app)[-1]
        app.query_one("#filters", Input).value = ""
        await settle(pilot)
        ui.results.focus()
        await pilot.press("enter")  # the viewer cannot start
        assert "xdg-open is not installed" in errors_of(app)[-1]
        await pilot.press("i")
        app.screen.query_one("#ingest-path", Input).value = "/no/such/folder"
        await pilot.press("enter")
        assert errors_of(app)[-1] == "no such file or folder: /no/such/folder"
        assert app.is_running
        # the toast is on the screen
        assert app.screen.query("Toast")

    run(app, body)


def test_missing_collection_and_missing_models(tlib: Library, base: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    app = make(tlib, base, collection="nope", query="dogs")

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        assert any("no collection named 'nope'" in m for m in errors_of(app))
        assert app.is_running

    run(app, body)

    from semsearch.client.collection import Collection

    def missing(self: Collection) -> Any:
        raise ModelUnavailable("text model all-MiniLM-L6-v2 is not downloaded")

    monkeypatch.setattr(Collection, "text_embedder", missing)
    app2 = make(tlib, base)

    async def body2(pilot: Pilot[None]) -> None:
        await settle(pilot)
        assert errors_of(app2) == ["text model all-MiniLM-L6-v2 is not downloaded"]
        ui = app2.search_screen
        assert "error: text model" in ui.status.state_text
        assert app2.is_running

    run(app2, body2)


# snapshots ------------------------------------------------------------------------------------
def snapshot_app(lib: Library, base: Path, **options: Any) -> SemsearchApp:
    app = make(lib, base, **options)
    app.notify = lambda *a, **k: None  # type: ignore[method-assign]  # no toasts in pictures
    return app


def test_snapshot_main_screen_with_results(snap_compare: Any, tlib: Library,
                                           base: Path) -> None:
    """The list (large half-block thumbnails), the status line with what the relevance
    floor hid, the preview: why it matched, the score labelled from its parts, the metadata
    without internal keys."""
    app = snapshot_app(tlib, base, images="halfcell")

    async def before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await type_query(pilot, "dogs on the beach")
        await pilot.press("down", "plus", "up")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=before)


def test_snapshot_more_like_this_in_the_grid(snap_compare: Any, tlib: Library,
                                            base: Path) -> None:
    """The query bar says the list is "more like …"; the grid's names fit their tiles; the
    footer shows the keys of the filters field while it has the focus."""
    app = snapshot_app(tlib, base, show_all=True)

    async def before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await type_query(pilot, "rain and thunderstorms")
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("g")
        app.query_one("#filters", Input).focus()
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=before)


def test_snapshot_help_screen(snap_compare: Any, tlib: Library, base: Path) -> None:
    app = snapshot_app(tlib, base)

    async def before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("escape", "question_mark")

    assert snap_compare(app, terminal_size=SIZE, run_before=before)


def test_snapshot_ingest_progress(snap_compare: Any, tlib: Library, base: Path) -> None:
    app = snapshot_app(tlib, base)

    async def before(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await pilot.press("escape", "i")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, IngestScreen)
        screen.query_one("#ingest-path", Input).value = "~/Pictures/2024"
        screen.started()
        # what the ingest worker reports, fixed so that the picture is stable
        ui = app.search_screen
        ui.ingester.show_progress(ProgressEvent("scan", 8, 0))
        ui.ingester.show_progress(ProgressEvent("embed", 3, 8, items=5))
        screen.skip("2024/broken.jpg", "not a readable image (truncated)")
        # a summary longer than the dialog is wide: it wraps
        screen.finished("tui: 7 added, 0 updated, 0 unchanged, 0 moved, 0 removed, 1 skipped "
                        "(12 items embedded in 3.4s)")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=before)


# the map (M) ----------------------------------------------------------------------------------
async def map_made(pilot: Pilot[None]) -> Any:
    from semsearch.tui.screens.mapview import MapScreen

    for _ in range(600):
        screen = pilot.app.screen
        if isinstance(screen, MapScreen) and screen.map is not None:
            await pilot.pause(0.1)
            return screen
        await pilot.pause(0.05)
    raise AssertionError("the map was not made")


def test_map_screen_names_the_clusters_and_lists_a_clusters_items(
        tlib: Library, base: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from textual.widgets import OptionList

    from semsearch.tui.screens.mapview import MapScreen, cluster_hits

    monkeypatch.setattr(MapScreen, "METHOD", "pca")  # no JIT compilation in the test
    app = make(tlib, base)
    expected = tlib.collection("tui").map(method="pca", queries=["dogs on the beach"])

    async def body(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await type_query(pilot, "dogs on the beach")
        shown = ids(app.search_screen.results.hits)
        assert shown
        await pilot.press("M")
        screen = await map_made(pilot)
        m = screen.map
        assert [p.id for p in m.points] == [p.id for p in expected.points]
        assert [c.label for c in m.clusters] == [c.label for c in expected.clusters]
        assert screen.hits == set(shown)  # the search screen's hits are ringed
        assert [q.query for q in m.queries] == ["dogs on the beach"]
        options = screen.query_one("#map-clusters", OptionList)
        labels = [str(options.get_option_at_index(i).prompt)
                  for i in range(options.option_count)]
        assert labels[: len(m.clusters)] == [f"{c.label}  ({c.size})" for c in m.clusters]
        state = str(screen.query_one("#map-state", Static).render())
        assert state.startswith(f"{len(m.points)} items · {len(m.clusters)} clusters · pca")
        assert m.clusters, "the corpus forms at least one cluster"
        await pilot.press("enter")  # the first cluster's items, as results
        await pilot.pause(0.2)
        assert app.screen is app.search_screen
        assert ids(app.search_screen.results.hits) == ids(cluster_hits(m, m.clusters[0].id))
        assert f"cluster {m.clusters[0].label}" in str(app.search_screen.results.border_title)
        await pilot.press("M")
        await map_made(pilot)
        await pilot.press("escape")  # back, the list kept
        assert app.screen is app.search_screen

    run(app, body)

"""The command line's manners: one-line errors with the right exit codes, global options,
help, version, config file, output fitted to the terminal, --paths/--open/show/export,
--quiet/--verbose, NO_COLOR and the progress bar."""

from __future__ import annotations

import importlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from helpers import SHORT_TEXTS, write
from typer.testing import CliRunner

from semsearch import Hit, IngestSummary, Library, ProgressEvent, Results, __version__
from semsearch.cli import app, render
from semsearch.cli.app import print_results, progress_bar

app_module = importlib.import_module("semsearch.cli.app")  # the module, not the Typer app

runner = CliRunner()
SEMSEARCH = Path(sys.executable).parent / "semsearch"
BOOKS = [
    {"id": "book-1", "title": "The Old Man and the Sea", "year": 1952,
     "summary": "An aging fisherman struggles with a giant marlin far out in the Gulf Stream."},
    {"id": "book-2", "title": "Dune", "year": 1965,
     "summary": "A noble family takes control of a desert planet, the only source of spice."},
]


def run(*args: object, code: int = 0, env: dict[str, str] | None = None):
    result = runner.invoke(app, [str(a) for a in args], env=env, prog_name="semsearch")
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr,
                                      result.exception)
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A text-only collection ``t`` (three notes, two records) in its own home."""
    root = tmp_path_factory.mktemp("polish")
    src = root / "src"
    for name in ("dogs.txt", "pasta.txt", "guitar.txt"):
        write(src / name, SHORT_TEXTS[name])
    write(src / "books.jsonl", "".join(json.dumps(b) + "\n" for b in BOOKS))
    home = root / "home"
    # global options before the command: --home and a model option
    run("--home", home, "--clip-model", "none", "ingest", src, "-c", "t", "--id-field", "id",
        "--text-field", "title,summary")
    return home, src


# --- errors and exit codes ------------------------------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    (["search", "x", "--type", "video"],
     "invalid value for '--type' / '-t': 'video' is not one of any, image, text"),
    (["search", "x", "--mode", "fuzzy"],
     "invalid value for '--mode': 'fuzzy' is not one of dense, lexical, hybrid"),
    (["search", "x", "-k", "0"],
     "invalid value for '--limit' / '-k': 0 is out of range; use 1 or more"),
    (["search", "x", "--limit", "0"],
     "invalid value for '--limit' / '-k': 0 is out of range; use 1 or more"),
    (["search", "x", "--diverse", "2"],
     "invalid value for '--diverse': 2 is out of range; use from 0 to 1"),
    (["similar", "x", "--offset", "-1"],
     "invalid value for '--offset': -1 is out of range; use 0 or more"),
    (["recommend", "--like", "x", "--strategy", "nearest"],
     "invalid value for '--strategy' / '-s': 'nearest' is not one of average, best-score"),
    (["search", "x", "--no-such-option"], "no such option: --no-such-option"),
    (["no-such-command"], "no such command 'no-such-command'."),
    (["similar"], "missing argument 'ITEM'."),
])
def test_usage_errors_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = run(*args, code=2)
    assert result.stderr == f"error: {message}\n"
    assert result.stdout == ""


@pytest.mark.slow  # subprocesses
def test_usage_and_runtime_errors_from_the_real_program(tmp_path: Path) -> None:
    for args, code, line in [
        (["search", "x", "-k", "0"], 2,
         "error: invalid value for '--limit' / '-k': 0 is out of range; use 1 or more\n"),
        (["--home", "/proc/nope", "info"], 1,
         "error: cannot use data directory /proc/nope: No such file or directory\n"),
    ]:
        done = subprocess.run([str(SEMSEARCH), *args], capture_output=True, text=True,
                              timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        assert (done.returncode, done.stdout, done.stderr) == (code, "", line)


def test_data_directory_that_cannot_be_made_is_one_line() -> None:
    for args in (["info", "--home", "/proc/nope"], ["--home", "/proc/nope", "collections"]):
        result = run(*args, code=1)
        assert result.stderr == (
            "error: cannot use data directory /proc/nope: No such file or directory\n")


# --- global options -------------------------------------------------------------------------

def test_global_options_before_or_after_the_command(built, tmp_path: Path) -> None:
    home, _ = built
    before = run("--home", home, "info", "-c", "t", "--json")
    after = run("info", "-c", "t", "--json", "--home", home)
    assert before.stdout == after.stdout
    info = json.loads(before.stdout)
    assert info["home"] == str(home.resolve()) and info["name"] == "t"
    assert info["models"]["clip_model"] is None  # --clip-model none given before `ingest`
    # the command's own option wins over the global one
    assert run("--home", tmp_path / "elsewhere", "info", "-c", "t", "--home", home).stdout == (
        run("info", "-c", "t", "--home", home).stdout)
    # --chroma-url before the command is used: nothing listens there
    result = run("--chroma-url", "http://127.0.0.1:9", "collections", "--home", home, code=1)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "127.0.0.1:9" in result.stderr


def test_config_file_and_its_precedence(built, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    home, _ = built
    config = tmp_path / "xdg" / "semsearch" / "config.toml"
    write(config, f'collection = "t"\nhome = "{home}"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("SEMSEARCH_HOME")
    monkeypatch.delenv("SEMSEARCH_COLLECTION", raising=False)
    assert json.loads(run("info", "--json").stdout)["name"] == "t"  # config
    monkeypatch.setenv("SEMSEARCH_COLLECTION", "nope")  # environment over config
    assert run("info", code=1).stderr == (
        "error: no collection named 'nope' (see `semsearch collections`)\n")
    assert json.loads(run("info", "-c", "t", "--json").stdout)["home"] == str(home.resolve())
    write(config, "colour = 'blue'\n")
    assert run("info", code=1).stderr == (
        f"error: {config}: unknown setting 'colour'; use collection, home, chroma_url, "
        "text_model, clip_model, clip_pretrained, backend, precision, device\n")


# --- help -----------------------------------------------------------------------------------

def _commands() -> list[list[str]]:
    group = typer.main.get_command(app)
    out = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        subs = getattr(cmd, "commands", None)
        out += [[name, sub] for sub in subs] if subs else [[name]]
    return out


def test_help_names_things_and_has_examples() -> None:
    commands = _commands()
    assert {"search", "show", "export", "serve"} <= {c[0] for c in commands}
    for cmd in commands:
        text = run(*cmd, "--help").stdout
        assert run(*cmd, "-h").stdout == text
        assert "╭" not in text and "\x1b" not in text
        for python_type in ("<str>", "<bool>", "<int", "<float", "list[", "Path]", "[x>="):
            assert python_type not in text, (cmd, python_type)
        assert "\nExamples:\n" in text.replace("  Examples:", "Examples:"), cmd
        assert f"  semsearch {' '.join(cmd)}" in text or cmd[0] == "profile", cmd
    search = run("search", "-h").stdout
    for shown in ("-k, --limit N", "-t, --type [any|image|text]", "-w, --where KEY=VALUE",
                  "-i, --image PATH", "--home PATH", "-f, --paths", "--open N",
                  "Usage: semsearch search [OPTIONS] [QUERY]"):
        assert shown in search
    top = run("-h").stdout
    for shown in ("--install-completion", "--version", "--home PATH", "--chroma-url URL",
                  "--text-model NAME", "-q, --quiet", "-v, --verbose"):
        assert shown in top


def test_version() -> None:
    assert run("--version").stdout == f"semsearch {__version__}\n"


# --- output ---------------------------------------------------------------------------------

def _hit(rank: int, text: str, id: str = "x.txt") -> Hit:
    return Hit(rank=rank, id=id, score=0.5, modality="text", path=id, text=text, metadata={})


def test_snippets_cut_at_words_around_the_query() -> None:
    text = ("Dogs love running on the beach and fetching sticks thrown into the waves, "
            "then they dig holes in the sand until the tide comes in and washes them away.")
    assert render.snippet(text, 30) == "Dogs love running on the…"
    assert render.snippet(text, 40, query="the tide") == "…until the tide comes in and washes…"
    assert render.snippet("short", 30, query="short") == "short"
    assert render.plural(1, "item") == "1 item" and render.plural(2, "item") == "2 items"
    s = IngestSummary(added=1, items=1, seconds=0.25)
    assert render.summary_line(s) == ("1 added, 0 updated, 0 unchanged, 0 moved, 0 removed, "
                                      "0 skipped (1 item embedded in 0.2s)")


def test_the_table_fits_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    hits = [_hit(1, "word " * 80, "notes/" + "long-name-" * 6 + ".txt"), _hit(2, "short")]
    for cols in (60, 80, 132):
        monkeypatch.setenv("COLUMNS", str(cols))
        lines = render.hits_table(hits).splitlines()
        assert cols - 6 <= max(len(line) for line in lines) <= cols
    monkeypatch.delenv("COLUMNS")
    assert render.terminal_width() == 80  # not a terminal


def test_warnings_once_and_quiet(capsys: pytest.CaptureFixture[str]) -> None:
    results = Results([_hit(1, "a")], warnings=["w1", "w1", "w2"])
    app_module.state.reset()
    print_results(results, False)
    print_results(results, False)
    assert capsys.readouterr().err == "warning: w1\nwarning: w2\n"
    app_module.state.quiet = True
    print_results(Results([_hit(1, "a")], warnings=["w3"], hidden=2), False)
    assert capsys.readouterr().err == ""
    app_module.state.reset()


def test_search_paths_quiet_verbose_and_text_only_warning(built) -> None:
    home, src = built
    base = ("search", "fishing at sea", "-c", "t", "--home", home, "--all")
    plain = run(*base)
    assert plain.stderr == ""  # a text-only collection: no "image results left out"
    assert plain.stdout.splitlines()[0].split() == ["#", "score", "type", "item", "match"]
    with Library(home) as lib:
        hits = lib.collection("t").search("fishing at sea")
    paths = run(*base, "--paths").stdout.splitlines()
    assert paths == [h.path if h.id == h.path else h.id for h in hits]
    assert "book-1" in paths and str((src / "dogs.txt").resolve()) in paths
    assert run(*base, "-f").stdout == run(*base, "--paths").stdout
    verbose = run(*base, "-v").stderr.splitlines()
    assert not any("CLIP" in line for line in verbose)  # nothing to miss: no note at all
    assert verbose[-1].startswith("took ")
    assert run("-v", *base).stderr.splitlines()[-1].startswith("took ")
    quiet = run("search", "fishing at sea", "-c", "t", "--home", home, "-q")
    assert quiet.stderr == ""


def test_open_a_hit(built, monkeypatch: pytest.MonkeyPatch) -> None:
    home, src = built
    opened: list[list[str]] = []
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr("subprocess.Popen", lambda args, **kw: opened.append(args))
    args = ("search", "pasta with garlic", "-c", "t", "--home", home, "-t", "text")
    result = run(*args, "--open", "1")
    path = str((src / "pasta.txt").resolve())
    assert opened == [["xdg-open" if sys.platform != "darwin" else "open", path]]
    assert result.stderr.endswith(f"\nopening {path}\n")
    monkeypatch.setattr("shutil.which", lambda name: None)
    result = run(*args, "--open", "1")
    assert result.stdout.endswith(f"\n{path}\n") and "no xdg-open" in result.stderr
    assert run(*args, "-k", "2", "--all", "--open", "5", code=2).stderr == (
        "error: --open 5: there are 2 hits\n")


def test_show_an_item(built) -> None:
    home, src = built
    text = run("show", "book-1", "-c", "t", "--home", home).stdout
    assert text.splitlines()[:4] == ["item:      book-1", f"path:      {src / 'books.jsonl'}",
                                     "modality:  text", "chunks:    1 text"]
    assert "metadata:\n" in text and "  record: 1\n" in text and "  year: 1952\n" in text
    assert "chunk 0 (chars 0-100):\n  The Old Man and the Sea An aging" in text
    assert "marlin" in text
    one = json.loads(run("show", "book-1", "-c", "t", "--home", home, "--json").stdout)
    assert one["id"] == "book-1" and one["metadata"]["year"] == 1952
    assert one["chunks"][0]["space"] == "text" and "marlin" in one["chunks"][0]["text"]
    both = json.loads(run("show", src / "books.jsonl", "-c", "t", "--home", home,
                          "--json").stdout)
    assert [i["id"] for i in both] == ["book-1", "book-2"]
    dogs = json.loads(run("show", src / "dogs.txt", "-c", "t", "--home", home, "--json").stdout)
    assert dogs["text"] == SHORT_TEXTS["dogs.txt"]
    assert run("show", "nope", "-c", "t", "--home", home, code=1).stderr == (
        "error: no item 'nope' in collection 't' (an item id, or the path of an ingested "
        "file)\n")


def test_export(built, tmp_path: Path) -> None:
    home, src = built
    rows = [json.loads(line) for line in
            run("export", "-c", "t", "--home", home).stdout.splitlines()]
    assert sorted(r["id"] for r in rows) == sorted(
        ["book-1", "book-2"] + [str((src / n).resolve()) for n in
                                ("dogs.txt", "pasta.txt", "guitar.txt")])
    assert set(rows[0]) == {"id", "path", "modality", "metadata", "text"}
    pasta = next(r for r in rows if r["id"].endswith("pasta.txt"))
    assert pasta["text"] == SHORT_TEXTS["pasta.txt"] and pasta["modality"] == "text"
    out = tmp_path / "t.jsonl"
    result = run("export", "-c", "t", "--home", home, "--vectors", "-o", out)
    assert result.stderr == f"t: 5 items written to {out}\n"
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(len(r["text_vector"]) == 384 and r["clip_vector"] is None for r in rows)
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        result = run("export", "-c", "t", "--home", home, "-o", tmp_path / "t.parquet", code=1)
        assert result.stderr == ("error: writing Parquet needs pyarrow: pip install pyarrow "
                                 "(or write .jsonl)\n")
    assert run("export", "-c", "nope", "--home", home, code=1).stderr == (
        "error: no collection named 'nope' (see `semsearch collections`)\n")


def test_progress_shows_items_and_their_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    app_module.state.reset()
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, width=120, color_system="truecolor",
                      no_color=True)
    with progress_bar(True, console=console) as update:
        assert update is not None
        update(ProgressEvent("scan", 3, 0))
        update(ProgressEvent("embed", 2, 3, items=40))
        console.file.flush()
    assert app_module.items_rate(40, 2.0) == "40 items written, 20.0 items/s"
    assert app_module.items_rate(1, 0.0) == "1 item written"
    app_module.state.quiet = True
    with progress_bar(True, console=console) as update:
        assert update is None
    app_module.state.reset()


def test_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert app_module._console().no_color
    monkeypatch.delenv("NO_COLOR")
    assert not app_module._console().no_color

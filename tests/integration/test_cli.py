"""The command line, through typer's CliRunner: output, stderr and exit codes."""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import fields
from pathlib import Path

import pytest
from helpers import SHORT_TEXTS, TINY_CLIP, check_consistent, dump, make_image, write
from typer.testing import CliRunner

from semsearch import IngestSummary, Library
from semsearch.cli import app, render

runner = CliRunner()

MISSING = "error: no collection named 'x' (see `semsearch collections`)\n"


def run(*args: str, code: int = 0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr,
                                      result.exception)
    return result


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny corpus below the working directory (so paths show relative)."""
    monkeypatch.chdir(tmp_path)
    src = tmp_path / "src"
    for name in ("dogs.txt", "pasta.txt", "guitar.txt"):
        write(src / name, SHORT_TEXTS[name])
    make_image(src / "pics" / "a.png", 1)
    make_image(src / "pics" / "b.jpg", 2, (30, 50))
    return src


def ingest_args(home: Path, *paths: object, name: str = "cli") -> list[str]:
    return ["ingest", *map(str, paths), "-c", name, "--home", str(home),
            "--clip-model", TINY_CLIP, "--clip-pretrained", "none"]


def test_ingest_json_and_skip_lines(corpus: Path, home: Path) -> None:
    write(corpus / "empty.txt", b"")
    write(corpus / "broken.png", b"not a png at all")
    result = run(*ingest_args(home, corpus), "--json")
    summary = json.loads(result.stdout)
    assert set(summary) == {f.name for f in fields(IngestSummary)}
    assert (summary["added"], summary["skipped"], summary["items"]) == (5, 2, 5)
    assert summary["warnings"] == []
    assert sorted(summary["skipped_files"], key=lambda s: s["path"]) == [
        {"path": str((corpus / "broken.png").resolve()),
         "reason": "not a readable image (cannot identify image file)"},
        {"path": str((corpus / "empty.txt").resolve()), "reason": "empty file"},
    ]
    assert sorted(result.stderr.splitlines()) == [
        "skipping src/broken.png: not a readable image (cannot identify image file)",
        "skipping src/empty.txt: empty file",
    ]

    # without --json: one summary line on stdout
    again = run(*ingest_args(home, corpus))
    assert again.stdout.startswith("cli: 0 added, 0 updated, 5 unchanged, 0 moved, 0 removed, "
                                   "2 skipped (0 items embedded in ")
    assert again.stdout.count("\n") == 1
    with Library(home) as lib:
        check_consistent(lib, "cli")


def test_search_and_collections_output_is_exactly_the_rendered_results(corpus, home):
    run(*ingest_args(home, corpus))
    run(*ingest_args(home, corpus / "dogs.txt", name="other"))
    with Library(home) as lib:
        col = lib.collection("cli")
        for args, kwargs in [
            (["a dog on the beach"], {}),
            (["a dog on the beach", "-t", "text", "-k", "2"], {"type": "text", "k": 2}),
            (["colourful shapes", "--type", "image"], {"type": "image"}),
            (["-i", str(corpus / "pics" / "a.png"), "-k", "3"],
             {"image": [str(corpus / "pics" / "a.png")], "k": 3}),
            (["music", "-w", "modality=text", "-k", "5"], {"where": ["modality=text"], "k": 5}),
        ]:
            query = args[0] if not args[0].startswith("-") else None
            expected = col.search(query, floor=True, **kwargs)  # the CLI hides weak hits
            assert expected
            result = run("search", *args, "-c", "cli", "--home", home)
            assert result.stdout == render.hits_table(expected, query=query) + "\n"
            n = expected.hidden
            assert result.stderr == (f"{n} more {'hit' if n == 1 else 'hits'} below the "
                                     "relevance floor (--all shows them)\n" if n else "")
            as_json = run("search", *args, "-c", "cli", "--home", home, "--json")
            assert json.loads(as_json.stdout) == [h.to_dict() for h in expected]

        header, *lines = render.hits_table(col.search("a dog on the beach", k=5)).splitlines()
        assert header.split() == ["#", "score", "type", "item", "match"]
        assert any("src/dogs.txt" in line and "Dogs love running" in line for line in lines)
        assert any("src/pics/b.jpg" in line and "30x50 image" in line for line in lines)

        result = run("collections", "--home", home)
        infos = lib.collections()
        assert [i.name for i in infos] == ["cli", "other"]
        assert result.stdout == render.collections_table(infos) + "\n"
        assert "cli" in result.stdout and "3 text" in result.stdout
        listed = json.loads(run("collections", "--home", home, "--json").stdout)
        assert listed == [json.loads(json.dumps(i.to_dict())) for i in infos]
        info = run("info", "-c", "cli", "--home", home)
        assert info.stdout == render.info_text(col.info(), lib.home) + "\n"

    assert run("search", "nothing", "-c", "cli", "--home", home, "-w", "modality=video"
               ).stdout == "no results\n"
    assert run("collections", "--home", home.parent / "empty-home").stdout == (
        render.collections_table([]) + "\n")


def test_exit_codes(corpus, home):
    run(*ingest_args(home, corpus / "dogs.txt"))
    for args in (["search", "hello", "-c", "x"], ["info", "-c", "x"], ["rm", "-c", "x", "--yes"],
                 ["reindex", "-c", "x"]):
        result = run(*args, "--home", home, code=1)
        assert result.stderr == MISSING and result.stdout == ""
    # usage errors: 2
    assert run("search", "hello", "-k", "0", "--home", home, code=2).stdout == ""
    assert run("search", "hello", "--no-such-option", code=2)
    assert run("no-such-command", code=2)
    result = run("ingest", "--home", home, code=2)
    assert result.stderr == "error: give files or folders to ingest, or --manifest FILE\n"
    result = run("search", "hello", "-c", "cli", "-t", "video", "--home", home, code=2)
    assert result.stderr == ("error: invalid value for '--type' / '-t': 'video' is not one of "
                             "any, image, text\n")
    # other semsearch errors: 1, one line
    result = run("search", "hello", "-c", "cli", "-w", "year>=abc", "--home", home, code=1)
    assert result.stderr.startswith("error: bad filter 'year>=abc'")
    assert result.stderr.count("\n") == 1
    result = run("ingest", corpus, "-c", "Bad Name!", "--home", home, code=1)
    assert result.stderr.startswith("error: bad collection name 'Bad Name!'")


def test_model_mismatch_on_the_command_line(corpus, home, tmp_path):
    run(*ingest_args(home, corpus / "dogs.txt"))
    cfg = json.loads(Path(TINY_CLIP).read_text())
    cfg["embed_dim"] = 16
    other = tmp_path / "tiny-clip-16.json"
    other.write_text(json.dumps(cfg))
    result = run("ingest", corpus, "-c", "cli", "--home", home, "--clip-model", other,
                 "--clip-pretrained", "none", code=1)
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: collection 'cli' was built with ")
    assert TINY_CLIP in line and str(other) in line


def test_rm_needs_yes_without_a_terminal(corpus, home):
    run(*ingest_args(home, corpus))
    result = run("rm", "-c", "cli", "--home", home, code=2)
    assert result.stderr == "error: refusing to delete 'cli' without --yes (no terminal to ask)\n"
    with Library(home) as lib:
        assert [i.name for i in lib.collections()] == ["cli"]
        assert dump(lib, "cli", "text")

    result = run("rm", "-c", "cli", "--yes", "--home", home)
    assert result.stdout == "removed collection cli\n"
    with Library(home) as lib:
        assert lib.collections() == []
        assert not lib.store.has("cli", "text") and not lib.store.has("cli", "clip")
        assert lib.catalog.files("cli") == {}
    assert run("search", "dogs", "-c", "cli", "--home", home, code=1).stderr == (
        "error: no collection named 'cli' (see `semsearch collections`)\n")
    # the files themselves are untouched
    assert (corpus / "dogs.txt").read_text() == SHORT_TEXTS["dogs.txt"]


def test_manifest_brings_a_collection_in_step(corpus, home, tmp_path):
    write(corpus / "drafts" / "wip.txt", "A draft about sailing that should stay out.")
    other = write(tmp_path / "elsewhere" / "x.txt", SHORT_TEXTS["rain.md"])
    manifest = write(tmp_path / "conf" / "mine.toml", "\n".join([
        'name = "mine"',
        'sources = ["../src"]',
        'exclude = ["**/drafts/**", "**/*.jpg"]',
        "[models]",
        f'clip = "{TINY_CLIP}"',
        'clip_pretrained = "none"',
    ]) + "\n")
    with Library(home) as lib:  # something ingested into it from outside the sources
        lib.collection("mine", clip_model=TINY_CLIP, clip_pretrained="none").ingest([other])

    first = json.loads(run("ingest", "--manifest", manifest, "--home", home, "--json").stdout)
    assert (first["added"], first["removed"], first["skipped"]) == (4, 1, 0)

    def paths() -> set[str]:
        with Library(home) as lib:
            check_consistent(lib, "mine")
            return set(lib.catalog.files("mine"))

    src = str(corpus.resolve())
    assert paths() == {f"{src}/dogs.txt", f"{src}/pasta.txt", f"{src}/guitar.txt",
                       f"{src}/pics/a.png"}

    (corpus / "pasta.txt").unlink()
    write(corpus / "new.md", "# New\n\nA note added later, about birds.")
    result = run("ingest", "-m", manifest, "--home", home)
    assert result.stdout.startswith("mine: 1 added, 0 updated, 3 unchanged, 0 moved, 1 removed")
    assert paths() == {f"{src}/dogs.txt", f"{src}/guitar.txt", f"{src}/new.md",
                       f"{src}/pics/a.png"}
    with Library(home) as lib:
        hits = lib.collection("mine").search("birds", type="text", mode="dense", k=1)
        assert hits[0].path == f"{src}/new.md"

    bad = write(tmp_path / "conf" / "bad.toml", "name = [\n")
    assert run("ingest", "-m", bad, "--home", home, code=1).stderr.startswith(
        f"error: {bad}: bad TOML")
    assert run("ingest", "-m", tmp_path / "nope.toml", "--home", home, code=1).stderr == (
        f"error: no manifest at {tmp_path / 'nope.toml'}\n")



@pytest.mark.parametrize("argv", [["search", "--help"], ["--quiet", "collections", "--help"],
                                  ["--home", "search", "info", "--help"]])
def test_main_builds_only_the_command_run_and_says_the_same(argv, monkeypatch, capsys):
    """The entry point builds just the command named (typer reads every command's signature
    otherwise); what it prints is what the whole app prints."""
    entry = importlib.import_module("semsearch.cli.main")
    monkeypatch.setenv("SEMSEARCH_SLOW_EXIT", "1")
    monkeypatch.setattr("sys.argv", ["semsearch", *argv])
    built: list[int] = []
    real = entry.app.registered_commands
    monkeypatch.setattr(entry.typer.main, "get_command_from_info", _counting(
        entry.typer.main.get_command_from_info, built))
    with pytest.raises(SystemExit) as exit_:
        entry.main()
    assert exit_.value.code == 0
    alone = entry._alone(entry._command(argv))
    assert (len(built) == 1) == bool(alone)
    assert entry.app.registered_commands is real  # put back
    whole = CliRunner().invoke(app, argv)
    assert _prog(capsys.readouterr().out) == _prog(whole.stdout)


def _prog(text: str) -> str:
    """Help with the program's name (which depends on how it was started) left out, and
    its whitespace (the two runners see different terminal widths, and wrap there)."""
    return "".join(re.sub(r"(?m)^Usage: .*?(?= (?:search|collections|info|\[OPTIONS\]))",
                           "Usage: PROG", text).split())


def _counting(fn, calls):
    def counted(*args, **kwargs):
        calls.append(1)
        return fn(*args, **kwargs)
    return counted

"""The README's usage examples run as written: every ``semsearch search|similar|recommend|info|
collections`` line of the Usage section's code blocks that needs no picture or file of yours
runs on the sample collection (built text-only here) and exits 0."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from semsearch.cli import app

ROOT = Path(__file__).resolve().parents[2]
SAFE = {"search", "similar", "recommend", "info", "collections"}
#: arguments that name pictures or files of the reader's, not in the repository
PERSONAL = re.compile(r"(^~|\.(jpe?g|png|webp|gif|bin)$|^papers\.jsonl$)")


def usage_commands() -> list[str]:
    """The ``semsearch ...`` lines (``$ semsearch ...`` too) of the Usage section's code
    blocks, comments dropped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    usage = text.split("\n## Usage\n", 1)[1].split("\n## ", 1)[0]
    lines = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", usage, re.S):
        for line in block.splitlines():
            line = line.strip().removeprefix("$ ")
            if line.startswith("semsearch "):
                lines.append(line)
    return lines


def runnable(line: str) -> list[str] | None:
    """The arguments to run ``line`` with, or None when it needs things we do not have."""
    args = shlex.split(line, comments=True)[1:]
    if not args or args[0] not in SAFE:
        return None
    if any(PERSONAL.search(a) for a in args) or "--image" in args or "image" in args:
        return None  # pictures of yours, or image results: the sample is built text-only
    if "--profile" in args:
        return None
    for i, a in enumerate(args[:-1]):  # personal, photos, team: the sample stands in
        if a in ("-c", "--collection"):
            args[i + 1] = "sample"
    return args


def test_the_usage_examples_are_found() -> None:
    lines = usage_commands()
    assert len(lines) > 20
    assert 'semsearch search "fix a flat tyre" -c sample --json' in lines
    assert len([line for line in lines if runnable(line)]) >= 10


def test_the_usage_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the examples name samples/... relative to the repository
    monkeypatch.setenv("SEMSEARCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SEMSEARCH_COLLECTION", "sample")  # lines without -c
    runner = CliRunner()
    built = runner.invoke(app, ["ingest", "--manifest", "collections/sample.toml",
                                "--clip-model", "none", "-q"])
    assert built.exit_code == 0, built.output
    assert built.stdout.startswith("sample: 6 added") and built.stderr == ""
    ran = []
    for line in usage_commands():
        args = runnable(line)
        if args is None:
            continue
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (line, result.output)
        assert "error" not in result.stderr, (line, result.stderr)
        ran.append(line)
    assert any(line.startswith("semsearch recommend -c sample --like book-3") for line in ran)
    assert any(line.startswith("semsearch similar book-3 -c sample") for line in ran)

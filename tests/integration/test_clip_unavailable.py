"""Offline without CLIP weights: texts still go in and are searchable; images wait."""

from __future__ import annotations

import time

import pytest
from helpers import SHORT_TEXTS, assert_hits, brute_rank, check_consistent, items_in, make_image
from helpers import write as write_file
from typer.testing import CliRunner

from semsearch import ModelUnavailable
from semsearch.cli import app
from semsearch.models.open_clip import (
    DEFAULT_CLIP_MODEL,
    DEFAULT_CLIP_PRETRAINED,
    _cached_weights,
)


@pytest.fixture(autouse=True)
def _no_default_clip_weights() -> None:
    import open_clip

    cfg = open_clip.get_pretrained_cfg(DEFAULT_CLIP_MODEL, DEFAULT_CLIP_PRETRAINED)
    if _cached_weights(cfg):
        pytest.skip(f"{DEFAULT_CLIP_MODEL} ({DEFAULT_CLIP_PRETRAINED}) weights are cached here: "
                    "CLIP is available, nothing to test")


def test_texts_go_in_images_are_skipped_with_one_warning(reference_lib, tmp_path, monkeypatch):
    lib = reference_lib
    src = tmp_path / "src"
    for name, text in SHORT_TEXTS.items():
        write_file(src / name, text)
    pics = [make_image(src / f"p{n}.png", n) for n in range(3)]
    col = lib.collection("off")  # the default models: ViT-B-32 (laion2b_s34b_b79k)
    assert (col.models.clip_model, col.models.clip_pretrained) == (
        DEFAULT_CLIP_MODEL, DEFAULT_CLIP_PRETRAINED)

    skipped: list[tuple[str, str]] = []
    started = time.monotonic()
    summary = col.ingest([src], on_skip=lambda p, r: skipped.append((p, r)))
    assert time.monotonic() - started < 20
    assert summary.added == len(SHORT_TEXTS)
    assert summary.skipped == len(pics)
    assert sorted(skipped) == sorted(
        (str(p.resolve()), "CLIP model unavailable, images need it") for p in pics)
    (warning,) = summary.warnings
    assert DEFAULT_CLIP_MODEL in warning and DEFAULT_CLIP_PRETRAINED in warning
    assert "--clip-pretrained" in warning and "\n" not in warning
    assert items_in(lib, "off", "clip") == {}
    check_consistent(lib, "off")

    # text search works, and matches brute force
    text = col.text_embedder()
    corpus = {i: text.embed_batch([r[0].document]) for i, r in items_in(lib, "off", "text").items()}
    query = "weather forecast"
    expected = brute_rank(text.embed_batch([query])[0], corpus)
    assert_hits(col.search(query, type="text", mode="dense", k=3), expected, 3)
    # any: the text results, with a warning that images are left out
    hits = col.search(query, mode="dense", k=3)
    assert_hits(hits, expected, 3)
    assert len(hits.warnings) == 1 and "image results left out" in hits.warnings[0]
    with pytest.raises(ModelUnavailable, match="--clip-pretrained"):
        col.search(query, type="image")
    with pytest.raises(ModelUnavailable):
        col.search(image=pics[0])

    # the next run: still no CLIP, texts unchanged, images still skipped with the warning
    again = col.ingest([src])
    assert (again.unchanged, again.added, again.skipped, again.items) == (
        len(SHORT_TEXTS), 0, len(pics), 0)
    assert len(again.warnings) == 1

    # the CLI: a one-line error, exit code 1
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["search", query, "-t", "image", "-c", "off",
                                 "--home", str(lib.home)])
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: CLIP model {DEFAULT_CLIP_MODEL} ({DEFAULT_CLIP_PRETRAINED})")
    assert result.stdout == ""
    result = runner.invoke(app, ["ingest", "src", "-c", "off", "--home", str(lib.home)])
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    assert sorted(lines[:-1]) == [f"skipping src/p{n}.png: CLIP model unavailable, images need it"
                                  for n in range(3)]
    assert lines[-1].startswith("warning: CLIP model ViT-B-32")

"""Ranking users can trust: the shown score orders every listing, in every mode and type;
the relevance floor hides what is below it and says how many."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SHORT_TEXTS, TINY_CLIP, make_image, write
from typer.testing import CliRunner

from semsearch import Library
from semsearch.cli import app


@pytest.fixture(scope="module")
def col(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("ranking")
    for name, text in SHORT_TEXTS.items():
        write(root / "docs" / name, text)
    for i in range(8):
        make_image(root / "docs" / f"p{i}.png", i)
    lib = Library(root / "home")
    c = lib.collection("rank", clip_model=TINY_CLIP, clip_pretrained="none")
    c.ingest([root / "docs"])
    yield c
    lib.close()


def monotonic(hits) -> bool:
    scores = [h.score for h in hits]
    return scores == sorted(scores, reverse=True) and [h.rank for h in hits] == list(
        range(hits[0].rank, hits[0].rank + len(hits))) if hits else True


def test_scores_follow_the_order_in_every_listing(col) -> None:
    query = "a dog running on the beach"
    image = str(Path(col.lib.catalog.files("rank").__iter__().__next__()).parent / "p1.png")
    listings = []
    for mode in ("dense", "lexical", "hybrid"):
        for type_ in ("any", "text", "image"):
            for diverse in (None, 0.5):
                if mode == "lexical" and diverse is not None:
                    continue
                listings.append(col.search(query, mode=mode, type=type_, k=8, diverse=diverse))
    for type_ in ("any", "text", "image"):
        listings.append(col.search(image=image, type=type_, k=8))
        listings.append(col.similar(image, type=type_, k=8))
        listings.append(col.recommend([image], ["text:pasta"], type=type_, k=8))
        listings.append(col.recommend([image], ["text:pasta"], strategy="best-score",
                                      type=type_, k=8))
        listings.append(col.search(query, type=type_, k=4, offset=3))
    assert sum(len(x) for x in listings) > 100
    for hits in listings:
        assert monotonic(hits), [(h.id, h.score) for h in hits]
        for h in hits:
            assert isinstance(h.parts, dict)


def test_the_floor_hides_noise_and_says_how_many(col) -> None:
    everything = col.search("pasta with garlic and olive oil", type="text", k=6)
    shown = col.search("pasta with garlic and olive oil", type="text", k=6, floor=True)
    assert Path(shown[0].id).name == "pasta.txt"
    assert shown.hidden == len(everything) - len(shown) > 0
    assert [h.id for h in shown] == [h.id for h in everything[: len(shown)]]
    for h in everything[len(shown):]:
        assert h.parts["calibrated"] < 1.0
    runner = CliRunner()
    home = str(col.lib.home)
    out = runner.invoke(app, ["search", "pasta with garlic and olive oil", "-c", "rank",
                              "--home", home, "--type", "text", "-k", "6"])
    assert out.exit_code == 0, out.output
    assert f"{shown.hidden} more hits below the relevance floor (--all shows them)" in out.stderr
    every = runner.invoke(app, ["search", "pasta with garlic and olive oil", "-c", "rank",
                                "--home", home, "--type", "text", "-k", "6", "--all",
                                "--explain", "--json"])
    assert every.exit_code == 0 and "below the relevance floor" not in every.stderr
    explained = runner.invoke(app, ["search", "pasta with garlic and olive oil", "-c", "rank",
                                    "--home", home, "--type", "text", "-k", "1", "--explain"])
    assert "why: text space, chunk 0" in explained.stdout
    assert "garlic" in explained.stdout.split("why:")[1]

"""The one pipeline with a fake embedder registered like the built-ins: a plugin serves a
collection; search, similar and recommend are one planner; rankings match brute force."""

from __future__ import annotations

from pathlib import Path

import pytest

from semsearch import Library, Request
from semsearch.models import ModelRegistry
from semsearch.models.registry import backends

from .fakes import FakeEmbedder

NOTES = {
    "bike.txt": "patch the bicycle tube with glue and a rubber patch",
    "tyres.txt": "car tyre pressure is checked at the petrol station",
    "pasta.txt": "boil pasta in salted water and add garlic and oil",
    "bread.txt": "bake bread with flour water salt and yeast",
    "garden.txt": "plant tomatoes in spring and water them in the evening",
    "stars.txt": "saturn rings and jupiter moons through a small telescope",
}


@pytest.fixture
def col(tmp_path: Path):
    src = tmp_path / "notes"
    src.mkdir()
    for name, text in NOTES.items():
        (src / name).write_text(text)
    lib = Library(tmp_path / "home", models=ModelRegistry())
    c = lib.collection("u", text_backend="fake", text_model="fake-words", clip_model="none")
    summary = c.ingest([src])
    assert summary.added == len(NOTES)
    yield c
    lib.close()


def cosines(query: str, exclude: frozenset[str] = frozenset()) -> dict[str, float]:
    """Brute force: each note's cosine to the query."""
    emb = FakeEmbedder()
    q = emb.embed_batch([query])[0]
    keep = [n for n in NOTES if n not in exclude]
    vecs = emb.embed_batch([NOTES[n] for n in keep])
    return {n: float(v @ q) for n, v in zip(keep, vecs, strict=True)}


def names(hits) -> list[str]:
    return [Path(h.id).name for h in hits]


def assert_ranked(hits, query: str, exclude: frozenset[str] = frozenset(), start: int = 0
                  ) -> None:
    """Scores are the brute-force cosines, in the brute-force order (ties in any order)."""
    sims = cosines(query, exclude)
    for h in hits:
        assert h.score == pytest.approx(sims[Path(h.id).name], abs=1e-5)
    ranked = sorted(sims.values(), reverse=True)
    assert [h.score for h in hits] == pytest.approx(ranked[start: start + len(hits)], abs=1e-5)


def test_a_registered_plugin_embedder_serves_a_collection(col) -> None:
    assert "fake" in backends()
    info = col.info()
    assert info.models.text_backend == "fake" and info.text_dim == 64
    reopened = Library(col.lib.home).collection("u")
    assert reopened.models.text_backend == "fake"
    assert "fake:fake-words" in reopened.models.describe()


def test_dense_search_ranks_by_cosine(col) -> None:
    hits = col.search("water the tomatoes", mode="dense", k=6)
    assert len(hits) == 6
    assert_ranked(hits, "water the tomatoes")


def test_search_similar_and_recommend_are_one_pipeline(col) -> None:
    direct = col.run(Request.search("pasta garlic", mode="dense", k=3, offset=1))
    assert names(direct) == names(col.search("pasta garlic", mode="dense", k=3, offset=1))
    assert_ranked(direct, "pasta garlic", start=1)
    bike = str(Path(next(iter(col.lib.catalog.files("u")))).parent / "bike.txt")
    similar = col.similar(bike, k=5)
    assert "bike.txt" not in names(similar)
    assert_ranked(similar, NOTES["bike.txt"], frozenset({"bike.txt"}))
    rec = col.recommend([bike], k=5)
    assert names(rec) == names(similar)  # one like: Rocchio is the item's own vector


def test_mmr_min_score_and_offset_apply_the_same_way_everywhere(col) -> None:
    for run in (lambda **kw: col.search("water", mode="dense", **kw),
                lambda **kw: col.recommend(["text:water"], **kw)):
        full = run(k=6)
        assert names(run(k=2, offset=2)) == names(full)[2:4]
        floor = full[2].score
        assert all(h.score >= floor for h in run(k=6, min_score=floor))
        assert len(run(k=6, diverse=0.3)) == min(6, len(full))


def test_a_lexical_query_loads_no_model(col) -> None:
    registry = ModelRegistry()
    fresh = Library(col.lib.home, models=registry).collection("u")
    hits = fresh.search("saturn", mode="lexical", type="text")
    assert names(hits) == ["stars.txt"]
    assert not registry.loaded("fake", "fake-words")

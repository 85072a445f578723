"""Parsers and ranking rules on small inputs: composed queries, filters, RRF, MMR, best-score."""

from __future__ import annotations

import numpy as np
import pytest

from semsearch.errors import ConfigError
from semsearch.search.expression import Composed, Term
from semsearch.search.filters import check_arguments, parse_where
from semsearch.search.rank import best_score, mmr, rrf
from semsearch.storage.ids import chroma_id, chunk_of, item_id, item_of
from semsearch.storage.vectors import Match


def unit(v: list[float]) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64)
    return a / np.linalg.norm(a)


def test_compose_syntax() -> None:
    c = Composed.parse("2:cat + ./x.jpg - fruit")
    assert [(t.value, t.weight) for t in c.terms] == [("cat", 2.0), ("./x.jpg", 1.0),
                                                     ("fruit", -1.0)]
    c = Composed.parse('- 0.5:"rock - paper" + scissors-like + .25:3d')
    assert [(t.value, t.weight) for t in c.terms] == [("rock - paper", -0.5),
                                                     ("scissors-like", 1.0), ("3d", 0.25)]
    assert Composed.parse(str(c)) == c
    assert str(Composed([Term("a"), Term("b c", -2)])) == "a - 2:b c"
    for bad in ("cat + ", "- ", '"unclosed - x'):
        with pytest.raises(ConfigError):
            Composed.parse(bad)


def test_rules_on_small_arrays() -> None:
    assert list(best_score(np.array([0.9, 0.2, 0.5]), np.array([0.1, 0.6, 0.5]))) == \
        pytest.approx([0.9, -0.36, -0.25])
    v = np.eye(3)
    v[1] = unit([1, 0.1, 0])
    assert mmr(np.array([1.0, 0.99, 0.5]), v, 1.0, 3) == [0, 1, 2]
    assert mmr(np.array([1.0, 0.99, 0.5]), v, 0.5, 2) == [0, 2]


def test_where_parsing() -> None:
    assert parse_where(["year>=2020"]) == {"year": {"$gte": 2020}}
    assert parse_where(["camera=X100"]) == {"camera": {"$eq": "X100"}}
    assert parse_where(["n=3"]) == {"$or": [{"n": {"$eq": 3}}, {"n": {"$eq": "3"}}]}
    assert parse_where(["a=1", 'b="x y"'])["$and"][1] == {"b": {"$eq": "x y"}}
    assert parse_where({"k": 1}) == {"k": 1}
    assert parse_where(None) is None
    for bad in ["no operator", "year>abc"]:
        with pytest.raises(ConfigError):
            parse_where([bad])


def test_shared_arguments_are_checked() -> None:
    check_arguments("any", 1, 0, 0.5, "hybrid")
    for args in [("video", 1), ("any", 0), ("any", 1, -1), ("any", 1, 0, 2.0),
                 ("any", 1, 0, float("nan")), ("any", 1, 0, None, "fuzzy")]:
        with pytest.raises(ConfigError):
            check_arguments(*args)  # type: ignore[arg-type]


def test_id_rules() -> None:
    assert chroma_id("notes/a.md", 3) == "notes/a.md#3"
    assert item_of("x#y.csv#12#0") == "x#y.csv#12"
    assert chunk_of("a#7") == 7 and chunk_of("a") == 0
    assert item_id("a#0", {"item_id": "b"}) == "b" and item_id("a#0", {}) == "a"


def test_rrf_sums_reciprocal_ranks_and_breaks_ties_by_list_order() -> None:
    def m(item: str) -> Match:
        return Match(f"{item}#0", 0.5, {"item_id": item}, None)

    fused = rrf([[m("a"), m("b"), m("c")], [m("c"), m("b"), m("d")]], k=60)
    scores = {"a": 1 / 61, "b": 2 / 62, "c": 1 / 63 + 1 / 61, "d": 1 / 63}
    assert [x.metadata["item_id"] for x in fused] == sorted(scores, key=lambda i: -scores[i])


def test_mixed_lists_merge_by_calibrated_score_not_by_turns() -> None:
    """Constructed scores: text cosines live around 0.1 (spread 0.05), image cosines around
    0.25 (spread 0.01, CLIP's modality gap). A text at 0.34 is far above its background, an
    image at 0.26 barely above its own: the text leads though its raw cosine is lower, and
    the weak image falls behind the strong ones of both kinds."""
    from semsearch.search.rank import Candidate, background, calibrate, merge_calibrated
    from semsearch.search.request import Leg

    rng = np.random.default_rng(0)
    text_bg = background(rng.normal(0.10, 0.05, 500))
    image_bg = background(rng.normal(0.25, 0.01, 500))
    assert text_bg is not None and image_bg is not None

    def cands(leg: Leg, scores: list[float], prefix: str) -> list[Candidate]:
        return [Candidate(Match(f"{prefix}{i}#0", 1 - s, {"item_id": f"{prefix}{i}"}, None),
                          leg, s, {"dense": s}) for i, s in enumerate(scores)]

    texts = cands(Leg("text", None), [0.34, 0.12, 0.11], "t")
    images = cands(Leg("clip", "image"), [0.30, 0.29, 0.26], "i")
    calibrate(texts, text_bg)
    calibrate(images, image_bg)
    merged = merge_calibrated([texts, images])
    order = [c.item for c in merged]
    raw = {**{f"t{i}": (s, text_bg) for i, s in enumerate([0.34, 0.12, 0.11])},
           **{f"i{i}": (s, image_bg) for i, s in enumerate([0.30, 0.29, 0.26])}}
    assert order == sorted(raw, key=lambda k: -(raw[k][0] - raw[k][1].mean) / raw[k][1].std)
    assert order[:2] == ["i0", "t0"]  # not alternation by kind, not raw cosine
    assert order.index("t0") < order.index("i2")  # a strong text beats a weak image
    assert order.index("i0") < order.index("t1")  # a strong image beats a weak text
    scores = [c.score for c in merged]
    assert scores == sorted(scores, reverse=True)  # the shown score orders the list
    for c in merged:
        bg = text_bg if c.item.startswith("t") else image_bg
        assert c.score == pytest.approx((c.parts["dense"] - bg.mean) / bg.std, abs=1e-5)


def test_fusion_counts_a_chance_word_for_nothing_and_a_whole_match_fully() -> None:
    from semsearch.search.rank import LEXICAL_BONUS, LEXICAL_THRESHOLD, fuse
    from semsearch.search.request import Leg

    def m(item: str, cos: float | None, bm25: float | None) -> Match:
        return Match(f"{item}#0", None if cos is None else 1 - cos, {"item_id": item}, None,
                     bm25)

    ceiling = 10.0
    dense = [m("right", 0.55, None), m("chance", 0.18, None), m("code", 0.10, None)]
    lexical = [m("chance", 0.18, 0.25 * ceiling), m("code", 0.10, 1.0 * ceiling)]
    fused = {c.item: c for c in fuse(dense, lexical, ceiling, Leg("text", None))}
    assert fused["chance"].score == pytest.approx(0.18)  # 25% of the query: below threshold
    assert fused["code"].score == pytest.approx(0.10 + LEXICAL_BONUS)
    assert fused["right"].score == pytest.approx(0.55)
    assert 0 < LEXICAL_THRESHOLD < 1


def test_hnsw_settings_come_from_the_environment(monkeypatch):
    from semsearch.errors import ConfigError
    from semsearch.storage.hnsw import HNSW, hnsw_settings

    assert hnsw_settings() == HNSW
    monkeypatch.setenv("SEMSEARCH_HNSW_EF_SEARCH", "64")
    monkeypatch.setenv("SEMSEARCH_HNSW_M", "24")
    monkeypatch.setenv("SEMSEARCH_HNSW_SYNC_THRESHOLD", "500")
    assert hnsw_settings() == {**HNSW, "ef_search": 64, "max_neighbors": 24,
                               "sync_threshold": 500}
    monkeypatch.setenv("SEMSEARCH_HNSW_M", "lots")
    with pytest.raises(ConfigError, match="SEMSEARCH_HNSW_M='lots': expected a whole number"):
        hnsw_settings()

"""The map's pure parts on constructed vectors: clusters recovered on separated topics, their
c-TF-IDF labels, new points and queries placed near their topic, the layout cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from semsearch.mapping import cache
from semsearch.mapping.clusters import cluster_label, ctfidf_terms, find_clusters
from semsearch.mapping.colours import groups
from semsearch.mapping.items import Items, Vocabulary
from semsearch.mapping.layout import fit_basis, neighbours, place, project
from semsearch.mapping.points import NOISE, Map, MapPoint

TOPICS = {
    "oncology": "tumor cancer chemotherapy metastasis oncology",
    "astronomy": "telescope galaxy nebula planets orbit",
    "baking": "dough flour yeast oven loaf",
    "sailing": "sail boat harbour wind keel",
}
FILLER = ["the", "study", "shows", "results", "and", "patients", "were", "observed", "in",
          "this", "work"]
PER_TOPIC = 40
DIM = 64


def corpus(seed: int = 0) -> tuple[Items, np.ndarray, np.ndarray]:
    """Four separated topics: vectors around a centre each, texts mixing the topic's words
    with words every topic shares. Returns the items, the true topics and the centres."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(len(TOPICS), DIM)).astype(np.float32)
    vocab = Vocabulary()
    vecs, truth, words, texts = [], [], [], []
    for t, topic_words in enumerate(TOPICS.values()):
        own = topic_words.split()
        for _ in range(PER_TOPIC):
            v = centres[t] + rng.normal(scale=0.35, size=DIM).astype(np.float32)
            vecs.append(v / np.linalg.norm(v))
            text = " ".join(list(rng.choice(own, 4)) + list(rng.choice(FILLER, 8)))
            texts.append(text)
            words.append(vocab.ids(text, 300))
            truth.append(t)
    n = len(vecs)
    items = Items([f"item-{i:03d}" for i in range(n)], np.asarray(vecs, np.float32),
                  ["text"] * n, [None] * n, texts, [None] * n, words, vocab)
    return items, np.asarray(truth), centres


def agreement(found: np.ndarray, truth: np.ndarray) -> float:
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(truth, found))


def test_clusters_recover_separated_topics_and_are_named_by_their_words() -> None:
    items, truth, _ = corpus()
    reduced = fit_basis(items.vectors).reduce(items.vectors)
    found = find_clusters(reduced)
    assert found.count == len(TOPICS)
    assert (found.labels != NOISE).mean() > 0.9
    assert agreement(found.labels, truth) > 0.9
    terms = ctfidf_terms(items, found.labels, found.count)
    for c in range(found.count):
        members = truth[found.labels == c]
        topic = list(TOPICS.values())[np.bincount(members).argmax()].split()
        assert len(terms[c]) == 3
        assert set(terms[c]) <= set(topic), (terms[c], topic)  # no filler word names it


def test_a_large_collection_is_clustered_on_a_sample_and_the_rest_follow() -> None:
    items, truth, _ = corpus()
    reduced = fit_basis(items.vectors).reduce(items.vectors)
    import semsearch.mapping.clusters as clusters

    old = clusters.SAMPLE
    clusters.SAMPLE = 100
    try:
        found = find_clusters(reduced)
    finally:
        clusters.SAMPLE = old
    assert found.count == len(TOPICS)
    assert agreement(found.labels, truth) > 0.9


def test_items_far_from_every_topic_stay_out_and_the_rest_join_by_vote() -> None:
    items, truth, _ = corpus()
    rng = np.random.default_rng(9)
    stray = rng.normal(size=(6, DIM)).astype(np.float32)  # directions no topic is near
    vectors = np.vstack([items.vectors, stray / np.linalg.norm(stray, axis=1, keepdims=True)])
    found = find_clusters(fit_basis(vectors).reduce(vectors), vectors)
    assert found.count == len(TOPICS)
    assert (found.labels[: len(truth)] != NOISE).all()  # every topic item is in a cluster
    assert (found.labels[len(truth):] == NOISE).all()
    assert agreement(found.labels[: len(truth)], truth) > 0.95


@pytest.mark.parametrize("method", ["pca", "tsne"])  # umap: tests/integration/test_map.py
def test_every_method_keeps_topics_apart_and_places_a_query_among_its_topic(method: str
                                                                            ) -> None:
    items, truth, centres = corpus()
    basis = fit_basis(items.vectors)
    coords = project(basis.reduce(items.vectors), method)
    assert coords.shape == (len(items), 2) and np.isfinite(coords).all()
    middles = np.array([np.median(coords[truth == t], axis=0) for t in range(len(TOPICS))])
    # each point is nearer its own topic's middle than any other
    nearest = np.argmin(((coords[:, None, :] - middles[None]) ** 2).sum(-1), axis=1)
    assert (nearest == truth).mean() > 0.95
    rng = np.random.default_rng(5)
    for t in range(len(TOPICS)):
        q = centres[t] + rng.normal(scale=0.35, size=DIM).astype(np.float32)
        xy = place((q / np.linalg.norm(q))[None, :], items.vectors, coords)[0]
        assert int(np.argmin(((middles - xy) ** 2).sum(-1))) == t


def test_neighbours_are_the_brute_force_top_k() -> None:
    items, _, _ = corpus()
    idx, sims = neighbours(items.vectors[:7], items.vectors, 5, block=3)
    full = items.vectors[:7] @ items.vectors.T
    assert (idx[:, 0] == np.arange(7)).all()
    np.testing.assert_allclose(sims, -np.sort(-full, axis=1)[:, :5], rtol=1e-5)


def test_labels_for_images_and_mixed_clusters() -> None:
    assert cluster_label([], ["image"] * 12) == "12 images"
    assert cluster_label([], ["image"]) == "1 image"
    assert cluster_label(["beach", "sea"], ["text", "image", "image"]) == "beach, sea (+2 images)"
    assert cluster_label(["cells"], ["text"]) == "cells"


def test_the_layout_cache_round_trips_and_is_per_collection(tmp_path: Path) -> None:
    items, _, _ = corpus()
    basis = fit_basis(items.vectors)
    coords = project(basis.reduce(items.vectors), "pca")
    path = cache.cache_path(tmp_path, "notes", "text", "umap", {"year": {"$gt": 3}})
    assert path != cache.cache_path(tmp_path, "notes", "text", "pca", None)
    assert cache.load(path) is None
    sums = cache.checksums(items.vectors)
    cache.save(path, cache.Layout(items.ids, coords, sums, basis.mean, basis.components))
    back = cache.load(path)
    assert back is not None and back.ids == items.ids
    np.testing.assert_array_equal(back.coords, coords)
    changed = items.vectors.copy()
    changed[3] = changed[4]
    diff = np.abs(cache.checksums(changed) - sums) > 1e-4
    assert list(np.flatnonzero(diff)) == [3]
    path.write_bytes(b"not a cache")
    assert cache.load(path) is None  # unreadable: made anew
    cache.forget(tmp_path, "notes")
    assert not path.parent.exists()


def test_colour_groups_by_cluster_modality_and_field() -> None:
    pts = [MapPoint(f"i{n}", 0.0, 0.0, n % 2 if n < 4 else NOISE, "", "image" if n % 3 else
                    "text", value=1990 + n) for n in range(6)]
    m = Map("c", "clip", "umap", pts, [])
    from semsearch.mapping.points import MapCluster

    m.clusters = [MapCluster(0, "a", 2), MapCluster(1, "b", 2)]
    assert [(g.name, len(g.points)) for g in groups(m)] == [("0: a", 2), ("1: b", 2),
                                                          ("no cluster", 2)]
    m.color_by = "modality"
    assert [(g.name, len(g.points)) for g in groups(m)] == [("image", 4), ("text", 2)]


def test_numba_keeps_its_compiled_code_under_the_semsearch_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from semsearch.mapping.layout import numba_cache

    monkeypatch.setenv("SEMSEARCH_CACHE", str(tmp_path / "c"))
    assert numba_cache() == tmp_path / "c" / "numba"
    monkeypatch.delenv("SEMSEARCH_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert numba_cache() == tmp_path / "x" / "semsearch" / "numba"

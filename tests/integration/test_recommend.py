"""similar, recommend, composed queries, MMR, min-score/offset and profiles.

Every expected ranking is computed by brute force in numpy over the vectors fetched from the
store (or embedded by the same models), never hard-coded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import (
    REFERENCE,
    SHORT_TEXTS,
    TINY_CLIP,
    Ranked,
    assert_hits,
    bg,
    brute_rank,
    embed_images,
    fuse,
    items_in,
    load_rgb,
    long_markdown,
    make_image,
    write,
)
from typer.testing import CliRunner

from semsearch import ConfigError, Library
from semsearch.client.profiles import profile_names
from semsearch.search.expression import Composed, Term

NAME = "rec"
BOOKS = [
    {"id": "book-1", "title": "The Old Man and the Sea", "summary": "An old fisherman fights a "
     "giant marlin far out in the Gulf Stream."},
    {"id": "book-2", "title": "Bread Baking", "summary": "Flour, water, salt and yeast: knead, "
     "rise, shape and bake a crusty loaf."},
    {"id": "book-3", "title": "Night Sky", "summary": "A guide to the planets, the moon and the "
     "stars through a small telescope."},
    {"id": "book-4", "title": "Guitar Chords", "summary": "Open chords, strumming patterns and "
     "folk songs for the acoustic guitar."},
]


# the corpus --------------------------------------------------------------------------------
class Corpus:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        docs = root / "docs"
        for name, text in SHORT_TEXTS.items():
            write(docs / name, text)
        write(docs / "notes.md", long_markdown(4))  # several chunks in both spaces
        write(docs / "garden.md", long_markdown(2))
        self.images = [make_image(docs / "pics" / f"p{i:02d}.png", i) for i in range(14)]
        books = write(root / "books" / "books.jsonl",
                      "\n".join(json.dumps(b) for b in BOOKS) + "\n")
        self.outside_image = make_image(root / "outside" / "query.png", 1000)
        self.outside_text = write(root / "outside" / "query.txt",
                                  "A puppy runs along the shore chasing the waves.\n")
        self.lib = Library(self.home, models=REFERENCE)
        col = self.col
        col.ingest([docs])
        col.ingest([books], id_field="id", text_fields=["title", "summary"])
        self.docs = docs

    @property
    def col(self) -> Any:
        return self.lib.collection(NAME, clip_model=TINY_CLIP, clip_pretrained="none")

    def doc(self, name: str) -> str:
        return str((self.docs / name).resolve())

    def img(self, i: int) -> str:
        return str(self.images[i].resolve())

    # vectors from the store --------------------------------------------------------------
    def corpus(self, space: str, modality: str | None = None) -> dict[str, np.ndarray]:
        return {item: np.stack([r.embedding for r in rows])
                for item, rows in items_in(self.lib, NAME, space).items()
                if modality is None or rows[0].metadata["modality"] == modality}

    def item_vec(self, space: str, item: str) -> np.ndarray:
        rows = items_in(self.lib, NAME, space)[item]
        return unit(np.mean([r.embedding for r in rows], axis=0))

    def text_vec(self, space: str, text: str) -> np.ndarray:
        emb = self.col.text_embedder() if space == "text" else self.col.clip_embedder()
        return unit(emb.embed_batch([text])[0])

    def image_vec(self, path: Path) -> np.ndarray:
        return unit(embed_images(self.col.clip_embedder(), [load_rgb(path)])[0])


def unit(v: Any) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    corpus = Corpus(tmp_path_factory.mktemp("recommend"))
    yield corpus
    corpus.lib.close()


# brute force -------------------------------------------------------------------------------
def without(corpus: dict[str, np.ndarray], exclude: set[str]) -> dict[str, np.ndarray]:
    return {i: v for i, v in corpus.items() if i not in exclude}


def brute_best(pos: list[np.ndarray], neg: list[np.ndarray],
               corpus: dict[str, np.ndarray]) -> list[Ranked]:
    """Qdrant's best_score per chunk, written out; an item scores as its best chunk."""
    out = []
    for item, chunks in corpus.items():
        best, best_chunk = -np.inf, 0
        for c, vec in enumerate(np.asarray(chunks, dtype=np.float64)):
            p = max(float(vec @ unit(x)) for x in pos)
            if neg:
                n = max(float(vec @ unit(x)) for x in neg)
                s = p if p > n else -(n * n)
            else:
                s = p
            if s > best:
                best, best_chunk = s, c
        out.append(Ranked(item, best, best_chunk))
    return sorted(out, key=lambda r: -r.score)


def bg_best(pos: list[np.ndarray], neg: list[np.ndarray],
            corpus: dict[str, np.ndarray]) -> np.ndarray:
    """The best-score rule over every chunk: the background a best-score list is read against."""
    chunks = np.concatenate([np.asarray(v, dtype=np.float64) for v in corpus.values()])
    p = (chunks @ np.stack([unit(x) for x in pos]).T).max(axis=1)
    if not neg:
        return p
    n = (chunks @ np.stack([unit(x) for x in neg]).T).max(axis=1)
    return np.where(p > n, p, -(n * n))


def brute_mmr(ranked: list[Ranked], corpus: dict[str, np.ndarray], lam: float, n: int,
              relevance: dict[str, float] | None = None) -> list[Ranked]:
    """Greedy MMR over the 4n best, plain Python loops: vectors are each hit's best chunk."""
    pool = ranked[: 4 * n]
    vec = {r.id: unit(corpus[r.id][r.chunk]) for r in pool}
    rel = relevance or {r.id: r.score for r in pool}
    picked: list[Ranked] = []
    while pool and len(picked) < n:
        def value(r: Ranked) -> float:
            sim = max((float(vec[r.id] @ vec[p.id]) for p in picked), default=0.0)
            return lam * rel[r.id] - (1 - lam) * sim
        best = max(pool, key=value)  # max keeps the first of equal values
        picked.append(best)
        pool = [r for r in pool if r is not best]
    return picked


def ids(hits: Any) -> list[str]:
    return [h.id for h in hits]


def assert_same(a: Any, b: Any) -> None:
    assert ids(a) == ids(b)
    # each search encodes its query again: float32 sums may differ in the last bits when the
    # math library splits them across threads differently (seen under load)
    assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-4)


# similar -----------------------------------------------------------------------------------
def test_similar_text_item_uses_mean_of_chunks_and_leaves_it_out(data: Corpus) -> None:
    notes = data.doc("notes.md")
    q = data.item_vec("text", notes)
    text = without(data.corpus("text"), {notes})
    hits = data.col.similar(notes, type="text", k=len(text))
    assert_hits(hits, brute_rank(q, text))
    assert notes not in ids(hits)
    assert {h.space for h in hits} == {"text"}
    # type any: text items by the text space, images by the item's CLIP vector, fused
    k = 6
    qc = data.item_vec("clip", notes)
    want = fuse([(brute_rank(q, text), bg(q, data.corpus("text"))),
                 (brute_rank(qc, data.corpus("clip", "image")),
                  bg(qc, data.corpus("clip", "image")))], k)
    assert_hits(data.col.similar(notes, k=k), want)
    # a record by id, and with the id: prefix
    b1 = data.item_vec("text", "book-1")
    assert_hits(data.col.similar("id:book-1", type="text", k=5),
                brute_rank(b1, without(data.corpus("text"), {"book-1"})), 5)
    assert_same(data.col.similar("book-1", type="text", k=5),
                data.col.similar("id:book-1", type="text", k=5))


def test_similar_image_and_outside_files(data: Corpus) -> None:
    col = data.col
    p3 = data.img(3)
    q = data.item_vec("clip", p3)
    k = 8
    want = fuse([(brute_rank(q, without(data.corpus("clip", "image"), {p3})),
                  bg(q, data.corpus("clip", "image"))),
                 (brute_rank(q, data.corpus("clip", "text")), bg(q, data.corpus("clip", "text")))],
                k)
    hits = col.similar(p3, k=k)
    assert_hits(hits, want)
    assert {h.space for h in hits} == {"clip"}
    # a relative path to an ingested file is that item
    rel = Path(p3).relative_to(data.root)
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(data.root)
        assert_same(col.similar(str(rel), k=k), hits)
    # an outside image is embedded on the fly; nothing is left out
    qo = data.image_vec(data.outside_image)
    assert_hits(col.similar(str(data.outside_image), type="image", k=k),
                brute_rank(qo, data.corpus("clip", "image")), k)
    # an outside text file: text model for texts, CLIP text tower for images
    body = data.outside_text.read_text().strip()
    qt, qc = data.text_vec("text", body), data.text_vec("clip", body)
    want = fuse([(brute_rank(qt, data.corpus("text")), bg(qt, data.corpus("text"))),
                 (brute_rank(qc, data.corpus("clip", "image")),
                  bg(qc, data.corpus("clip", "image")))], k)
    assert_hits(col.similar(data.outside_text, k=k), want)
    for bad in ("no such item or file", str(data.root / "missing.png")):
        with pytest.raises(ConfigError):
            col.similar(bad)


# recommend ---------------------------------------------------------------------------------
def test_recommend_average_is_rocchio(data: Corpus) -> None:
    col = data.col
    likes = [data.img(0), data.img(1), "id:book-3"]
    unlikes = [data.img(2), "text:a plate of pasta"]
    pos = [data.item_vec("clip", data.img(0)), data.item_vec("clip", data.img(1)),
           data.item_vec("clip", "book-3")]
    neg = [data.item_vec("clip", data.img(2)), data.text_vec("clip", "a plate of pasta")]
    inputs = {data.img(0), data.img(1), data.img(2), "book-3"}
    images = without(data.corpus("clip", "image"), inputs)
    texts = without(data.corpus("clip", "text"), inputs)
    for alpha, beta in ((1.0, 0.5), (2.0, 1.5), (1.0, 0.0)):
        q = alpha * np.mean(pos, axis=0) - beta * np.mean(neg, axis=0)
        hits = col.recommend(likes, unlikes, type="image", k=len(images),
                             like_weight=alpha, unlike_weight=beta)
        assert_hits(hits, brute_rank(q, images))
    q = np.mean(pos, axis=0) - 0.5 * np.mean(neg, axis=0)
    k = 7
    hits = col.recommend(likes, unlikes, k=k)
    assert_hits(hits, fuse([(brute_rank(q, images), bg(q, data.corpus("clip", "image"))),
                            (brute_rank(q, texts), bg(q, data.corpus("clip", "text")))], k))
    assert not inputs & set(ids(col.recommend(likes, unlikes, k=100)))


def test_recommend_text_inputs_use_the_text_space(data: Corpus) -> None:
    col = data.col
    likes = [data.doc("dogs.txt"), "baking bread at home", str(data.outside_text)]
    unlikes = ["id:book-2"]
    body = data.outside_text.read_text().strip()
    inputs = {data.doc("dogs.txt"), "book-2"}
    vec = {
        "text": ([data.item_vec("text", data.doc("dogs.txt")),
                  data.text_vec("text", "baking bread at home"), data.text_vec("text", body)],
                 [data.item_vec("text", "book-2")]),
        "clip": ([data.item_vec("clip", data.doc("dogs.txt")),
                  data.text_vec("clip", "baking bread at home"), data.text_vec("clip", body)],
                 [data.item_vec("clip", "book-2")]),
    }
    texts = without(data.corpus("text"), inputs)
    images = data.corpus("clip", "image")

    def rocchio(space: str) -> np.ndarray:
        pos, neg = vec[space]
        return np.mean(pos, axis=0) - 0.5 * np.mean(neg, axis=0)

    assert_hits(col.recommend(likes, unlikes, type="text", k=len(texts)),
                brute_rank(rocchio("text"), texts))
    k = 6
    assert_hits(col.recommend(likes, unlikes, k=k),
                fuse([(brute_rank(rocchio("text"), texts),
                       bg(rocchio("text"), data.corpus("text"))),
                      (brute_rank(rocchio("clip"), images), bg(rocchio("clip"), images))], k))


def test_recommend_best_score_is_qdrants_rule(data: Corpus) -> None:
    col = data.col
    # text space, with multi-chunk candidates (notes.md, garden.md)
    likes = [data.doc("dogs.txt"), "stars and planets through a telescope"]
    unlikes = ["id:book-2", data.doc("stocks.md")]
    pos = [data.item_vec("text", data.doc("dogs.txt")),
           data.text_vec("text", "stars and planets through a telescope")]
    neg = [data.item_vec("text", "book-2"), data.item_vec("text", data.doc("stocks.md"))]
    texts = without(data.corpus("text"), {data.doc("dogs.txt"), data.doc("stocks.md"),
                                          "book-2"})
    want = brute_best(pos, neg, texts)
    hits = col.recommend(likes, unlikes, strategy="best-score", type="text", k=len(texts))
    assert_hits(hits, want)
    assert any(r.score < 0 for r in want), "some candidates should be penalised"
    for h in hits:  # the hit shows its best chunk
        best = next(r for r in want if r.id == h.id)
        assert h.metadata["chunk"] == best.chunk
    # CLIP space: images and texts, several likes, fused
    likes = [data.img(4), data.img(5), data.img(6), "id:book-4"]
    unlikes = [data.img(7)]
    pos = [data.item_vec("clip", i) for i in (data.img(4), data.img(5), data.img(6))] + [
        data.item_vec("clip", "book-4")]
    neg = [data.item_vec("clip", data.img(7))]
    inputs = {data.img(4), data.img(5), data.img(6), data.img(7), "book-4"}
    k = 8
    want = fuse([(brute_best(pos, neg, without(data.corpus("clip", "image"), inputs)),
                  bg_best(pos, neg, data.corpus("clip", "image"))),
                 (brute_best(pos, neg, without(data.corpus("clip", "text"), inputs)),
                  bg_best(pos, neg, data.corpus("clip", "text")))], k)
    assert_hits(col.recommend(likes, unlikes, strategy="best-score", k=k), want)
    # without unlikes: the best similarity to any like
    want = brute_best(pos, [], without(data.corpus("clip", "image"), inputs - {data.img(7)}))
    assert_hits(col.recommend(likes, strategy="best-score", type="image", k=5), want, 5)


def test_errors(data: Corpus) -> None:
    col = data.col
    with pytest.raises(ConfigError):
        col.recommend([], [data.img(0)])
    with pytest.raises(ConfigError):
        col.recommend([data.img(0)], strategy="nearest")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        col.recommend([data.img(0)], diverse=1.5)
    with pytest.raises(ConfigError):
        col.search("x", offset=-1)
    with pytest.raises(ConfigError):
        col.recommend(["id:no-such-item"])
    with pytest.raises(ConfigError):  # likes and unlikes cancel out
        col.search(expr="dogs - dogs")


# composed search ---------------------------------------------------------------------------
def test_composed_search_matches_weighted_sum(data: Corpus) -> None:
    col = data.col
    out = data.outside_image
    q = 2 * data.text_vec("clip", "beach") + data.image_vec(out) \
        - data.text_vec("clip", "people")
    k = 8
    want = fuse([(brute_rank(q, data.corpus("clip", "image")), bg(q, data.corpus("clip", "image"))),
                 (brute_rank(q, data.corpus("clip", "text")), bg(q, data.corpus("clip", "text")))],
                k)
    hits = col.search(expr=f"2:beach + {out} - people", k=k)
    assert_hits(hits, want)
    # the same query from parts and flags
    assert_same(col.search("beach", image=out, minus=["people"], weights={"beach": 2}, k=k),
                hits)
    assert_same(col.search(expr=Composed([Term("beach", 2), Term(out, 1, "image"),
                                          Term("people", -1)]), k=k), hits)
    # an item id as a term is its stored vector; text-only terms use the text space for texts
    q = data.text_vec("text", "dogs") - 0.5 * data.item_vec("text", "book-1")
    assert_hits(col.search(expr="dogs - 0.5:id:book-1", type="text", k=6),
                brute_rank(q, data.corpus("text")), 6)
    with pytest.raises(ConfigError):
        col.search("beach", weights={"nowhere": 2})


def test_plain_search_is_unchanged_by_the_new_options(data: Corpus) -> None:
    col = data.col
    for args in ({"text": "dogs running on a beach"},
                 {"text": "bread", "type": "text", "mode": "dense"},
                 {"image": [data.img(1), data.img(2)], "text": "in winter"},
                 {"image": str(data.outside_image), "type": "image"}):
        plain = col.search(k=6, **args)
        assert_same(col.search(k=6, min_score=-2.0, **args), plain)
        assert_same(col.search(k=6, diverse=1.0, **args), plain)
        page = col.search(k=3, offset=3, **args)
        assert ids(page) == ids(plain)[3:6]
        assert [h.rank for h in page] == [4, 5, 6]


# MMR ---------------------------------------------------------------------------------------
def test_mmr_matches_brute_force(data: Corpus) -> None:
    col = data.col
    images = data.corpus("clip", "image")
    q = data.text_vec("clip", "a red square")
    for lam in (0.0, 0.3, 0.7):
        want = brute_mmr(brute_rank(q, images), images, lam, 4)
        hits = col.search("a red square", type="image", k=4, diverse=lam)
        assert ids(hits) == [r.id for r in want]
        assert [h.parts["relevance"] for h in hits] == pytest.approx(
            [r.score for r in want], abs=1e-4)
        scores = [h.score for h in hits]  # the MMR value at each pick: never rising
        assert scores == sorted(scores, reverse=True)
    # text space, multi-chunk items: each hit's vector is its best chunk
    texts = data.corpus("text")
    qt = data.text_vec("text", "sow tomatoes and watch the planets")
    want = brute_mmr(brute_rank(qt, texts), texts, 0.5, 3)
    hits = col.search("sow tomatoes and watch the planets", type="text", mode="dense", k=3,
                      diverse=0.5)
    assert ids(hits) == [r.id for r in want]
    # similar and recommend (best-score: relevance is the best-score value)
    p0 = data.img(0)
    others = without(images, {p0})
    want = brute_mmr(brute_rank(data.item_vec("clip", p0), others), others, 0.4, 5)
    assert ids(col.similar(p0, type="image", k=5, diverse=0.4)) == [r.id for r in want]
    inputs = {data.img(0), data.img(8), data.img(9)}
    pos = [data.item_vec("clip", data.img(0)), data.item_vec("clip", data.img(8))]
    neg = [data.item_vec("clip", data.img(9))]
    ranked = brute_best(pos, neg, without(images, inputs))
    want = brute_mmr(ranked, images, 0.5, 4)
    hits = col.recommend([data.img(0), data.img(8)], [data.img(9)], strategy="best-score",
                         type="image", k=4, diverse=0.5)
    assert ids(hits) == [r.id for r in want]
    assert [h.parts["relevance"] for h in hits] == pytest.approx([r.score for r in want],
                                                                 abs=1e-4)


# min-score and offset ----------------------------------------------------------------------
def test_min_score_and_offset_everywhere(data: Corpus) -> None:
    col = data.col
    calls = [
        lambda **kw: col.search("guitar by the campfire", **kw),
        lambda **kw: col.similar(data.img(5), **kw),
        lambda **kw: col.recommend([data.img(5), "id:book-4"], [data.img(6)], **kw),
        lambda **kw: col.recommend([data.img(5)], [data.img(6)], strategy="best-score", **kw),
    ]
    for call in calls:
        for type_ in ("image", "any"):
            full = call(type=type_, k=9)
            assert len(full) == 9
            pages = call(type=type_, k=3) + call(type=type_, k=3, offset=3) + \
                call(type=type_, k=3, offset=6)
            assert_same(pages, full)
            assert [h.rank for h in pages] == list(range(1, 10))
        full = call(type="image", k=9)
        floor = full[4].score
        kept = call(type="image", k=9, min_score=floor)
        assert ids(kept) == [h.id for h in full if h.score >= floor]
        assert all(h.score >= floor for h in kept)
    assert len(col.similar(data.img(5), type="image", k=5, min_score=2.0)) == 0


# profiles ----------------------------------------------------------------------------------
def test_profiles_persist_and_drive_recommend(data: Corpus) -> None:
    lib = Library(data.home, models=REFERENCE)
    try:
        alice = lib.profile("alice", collection=NAME)
        assert not alice.exists
        alice.like(data.img(10), "id:book-3", str(data.outside_image))
        alice.unlike(data.img(11), "a plate of pasta")
        alice.like(data.img(11))  # flips: liked now
        alice.unlike(data.img(12))
    finally:
        lib.close()

    lib = Library(data.home, models=REFERENCE)  # a fresh view: all from the catalog
    try:
        alice = lib.profile("alice", collection=NAME)
        likes = {(e.kind, e.ref) for e in alice.likes}
        unlikes = {(e.kind, e.ref) for e in alice.unlikes}
        assert likes == {("item", data.img(10)), ("item", "book-3"),
                         ("file", str(data.outside_image.resolve())), ("item", data.img(11))}
        assert unlikes == {("text", "a plate of pasta"), ("item", data.img(12))}
        assert ("alice", 4, 2) in profile_names(lib, NAME)

        col = lib.collection(NAME)
        explicit = dict(like=[data.img(10), "id:book-3", str(data.outside_image),
                              data.img(11)],
                        unlike=["text:a plate of pasta", data.img(12)])
        for strategy in ("average", "best-score"):
            got = col.recommend(profile="alice", strategy=strategy, k=8)
            assert_same(got, col.recommend(**explicit, strategy=strategy, k=8))  # type: ignore[arg-type]
            assert_same(got, alice.recommend(strategy=strategy, k=8))
        # profile and explicit inputs add up; nothing the profile names comes back
        named = {data.img(10), data.img(11), data.img(12), "book-3"}
        every = col.recommend([data.img(13)], profile="alice", k=100)
        assert not (named | {data.img(13)}) & set(ids(every))
        assert len(every) == sum(1 for _ in items_in(lib, NAME, "clip")) - len(named) - 1
        # brute force: Rocchio over the profile's vectors, in the CLIP space
        pos = [data.item_vec("clip", data.img(10)), data.item_vec("clip", "book-3"),
               data.image_vec(data.outside_image), data.item_vec("clip", data.img(11))]
        neg = [data.text_vec("clip", "a plate of pasta"), data.item_vec("clip", data.img(12))]
        q = np.mean(pos, axis=0) - 0.5 * np.mean(neg, axis=0)
        assert_hits(col.recommend(profile="alice", type="image", k=5),
                    brute_rank(q, without(data.corpus("clip", "image"), named)), 5)

        assert alice.forget(data.img(12), "a plate of pasta") == 2
        assert alice.unlikes == []
        assert lib.profile("bob", collection=NAME).exists is False
        with pytest.raises(ConfigError):
            col.recommend(profile="bob")
        assert alice.clear() == 4
    finally:
        lib.close()


def test_profiles_go_with_their_collection(data: Corpus, tmp_path: Path) -> None:
    lib = Library(data.home, models=REFERENCE)
    try:
        write(tmp_path / "one.txt", "a single short note")
        col = lib.collection("gone", clip_model="none")
        col.ingest([tmp_path / "one.txt"])
        lib.profile("carol", collection="gone").like(str(tmp_path / "one.txt"))
        assert profile_names(lib, "gone") == [("carol", 1, 0)]
        lib.remove("gone")
        assert profile_names(lib, "gone") == []
    finally:
        lib.close()


# the CLI -----------------------------------------------------------------------------------
def run(*args: str) -> Any:
    from semsearch.cli import app

    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_cli(data: Corpus) -> None:
    col = data.col
    h = ("--home", str(data.home), "-c", NAME)

    def hits_of(*args: str) -> list[str]:
        res = run(*args, *h, "--json", "--all")  # the Python calls have no floor
        assert res.exit_code == 0, res.output
        return [x["id"] for x in json.loads(res.stdout)]

    assert hits_of("similar", data.img(3), "-k", "4", "--type", "image") == \
        ids(col.similar(data.img(3), k=4, type="image"))
    assert hits_of("recommend", "--like", data.img(0), "--like", "dogs", "--unlike",
                   data.img(2), "--strategy", "best-score", "-k", "5", "--diverse", "0.5",
                   "--offset", "1") == \
        ids(col.recommend([data.img(0), "dogs"], [data.img(2)], strategy="best-score", k=5,
                          diverse=0.5, offset=1))
    out = data.outside_image
    assert hits_of("search", "beach", "--image", str(out), "--minus", "people", "--weight",
                   "2:beach", "-k", "5") == ids(col.search(expr=f"2:beach + {out} - people",
                                                           k=5))
    assert hits_of("search", "--expr", f"2:beach + {out} - people", "-k", "5",
                   "--min-score", "0.1") == \
        ids(col.search(expr=f"2:beach + {out} - people", k=5, min_score=0.1))

    # profiles
    res = run("profile", "like", "dave", data.img(1), "id:book-1", *h)
    assert res.exit_code == 0 and "2 liked" in res.stdout, res.output
    assert run("profile", "unlike", "dave", data.img(2), *h).exit_code == 0
    res = run("profile", "show", "dave", *h, "--json")
    shown = json.loads(res.stdout)
    assert {e["ref"] for e in shown["likes"]} == {data.img(1), "book-1"}
    assert [e["ref"] for e in shown["unlikes"]] == [data.img(2)]
    res = run("profile", "show", "dave", *h)
    assert "2 liked, 1 disliked" in res.stdout
    assert hits_of("recommend", "--profile", "dave", "-k", "5") == \
        ids(col.recommend([data.img(1), "id:book-1"], [data.img(2)], k=5))
    assert "dave: 2 liked, 1 disliked" in run("profile", "list", *h).stdout
    assert run("profile", "clear", "dave", *h).exit_code == 0

    # errors: one line, exit 1 (2 for usage)
    for args in (("recommend",), ("similar", "no such thing"), ("profile", "show", "nobody")):
        res = run(*args, *h)
        assert res.exit_code == 1, res.output
        assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1
    res = run("recommend", "--like", data.img(0), "--strategy", "nearest", *h)
    assert res.exit_code == 2 and res.stderr.startswith("error: ")  # a usage error
    assert res.stderr.count("\n") == 1
    assert run("search", "x", "--weight", "2beach", *h).exit_code == 2
    assert run("similar", data.img(0), "--diverse", "3", *h).exit_code == 2
    assert "[W:]PART + [W:]PART - [W:]PART" in " ".join(run("search", "--help").stdout.split())

"""Search in every direction, checked against brute-force cosine rankings in numpy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
    picture,
    write,
)

from semsearch import Collection, ConfigError, Hit, Library

K = 4


@dataclass
class Corpus:
    lib: Library
    col: Collection
    texts: dict[str, np.ndarray]  # item id -> text-space chunk vectors
    clip_texts: dict[str, np.ndarray]  # item id -> clip-space chunk vectors
    images: dict[str, np.ndarray]  # item id -> clip image vector (1, dim)
    image_files: dict[str, Path]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    root = tmp_path_factory.mktemp("search")
    for name, text in SHORT_TEXTS.items():
        write(root / "notes" / name, text)
    write(root / "notes" / "long.md", long_markdown())
    image_files = {}
    for seed, name in enumerate(["a.png", "b.jpg", "c.webp", "d.bmp", "e.png", "f.tiff"]):
        path = make_image(root / "pics" / name, seed + 10, (40 + 4 * seed, 36))
        image_files[str(path.resolve())] = path
    lib = Library(root / "home", models=REFERENCE)  # exact checks: the torch reference
    col = lib.collection("s", clip_model=TINY_CLIP, clip_pretrained="none")
    summary = col.ingest([root / "notes", root / "pics"])
    assert summary.added == len(SHORT_TEXTS) + 1 + len(image_files)

    # the corpus embedded here, by the same models: chunk texts as stored, images from disk
    text, clip = col.text_embedder(), col.clip_embedder()
    texts = {i: text.embed_batch([r.document for r in rows])
             for i, rows in items_in(lib, "s", "text").items()}
    clip_texts = {i: clip.embed_batch([r.document for r in rows])
                  for i, rows in items_in(lib, "s", "clip").items()
                  if rows[0].metadata["modality"] == "text"}
    for name, body in SHORT_TEXTS.items():
        (chunk,) = items_in(lib, "s", "text")[str((root / "notes" / name).resolve())]
        assert chunk.document == body
    images = {i: embed_images(clip, [load_rgb(p)]) for i, p in image_files.items()}
    yield Corpus(lib, col, texts, clip_texts, images, image_files)
    lib.close()


QUERIES = ["a dog playing on the beach", "cooking dinner with garlic", "stormy weather",
           "bright stars and planets in the night sky"]


@pytest.mark.parametrize("query", QUERIES)
def test_text_to_text(corpus: Corpus, query: str) -> None:
    q = corpus.col.text_embedder().embed_batch([query])[0]
    expected = brute_rank(q, corpus.texts)
    for k in (1, K, len(expected)):
        hits = corpus.col.search(query, type="text", mode="dense", k=k)
        assert_hits(hits, expected, k)
        assert all(h.modality == "text" and h.space == "text" for h in hits)


@pytest.mark.parametrize("query", QUERIES[:2])
def test_text_to_image(corpus: Corpus, query: str) -> None:
    q = corpus.col.clip_embedder().embed_batch([query])[0]
    expected = brute_rank(q, corpus.images)
    hits = corpus.col.search(query, type="image", k=len(expected))
    assert_hits(hits, expected)
    assert all(h.modality == "image" and h.space == "clip" and h.text is None for h in hits)
    assert [h.path for h in hits] == [h.id for h in hits]


def test_image_to_image(corpus: Corpus) -> None:
    clip = corpus.col.clip_embedder()
    for item_id, path in list(corpus.image_files.items())[:3]:
        expected = brute_rank(embed_images(clip, [load_rgb(path)])[0], corpus.images)
        hits = corpus.col.search(image=path, type="image", k=len(expected))
        assert_hits(hits, expected)
        assert hits[0].id == item_id and hits[0].score == pytest.approx(1.0, abs=1e-4)

    # a PIL image not in the collection, and several images (their mean) as one query
    new = picture(99)
    expected = brute_rank(embed_images(clip, [new])[0], corpus.images)
    assert_hits(corpus.col.search(image=new, type="image", k=K), expected, K)
    two = [load_rgb(p) for p in list(corpus.image_files.values())[:2]]
    expected = brute_rank(embed_images(clip, two).mean(axis=0), corpus.images)
    assert_hits(corpus.col.search(image=two, type="image", k=K), expected, K)


def test_image_to_text(corpus: Corpus) -> None:
    clip = corpus.col.clip_embedder()
    path = next(iter(corpus.image_files.values()))
    expected = brute_rank(embed_images(clip, [load_rgb(path)])[0], corpus.clip_texts)
    hits = corpus.col.search(image=path, type="text", k=len(expected))
    assert_hits(hits, expected)
    assert all(h.modality == "text" and h.space == "clip" for h in hits)
    long_id = next(i for i in corpus.clip_texts if i.endswith("long.md"))
    (long_hit,) = [h for h in hits if h.id == long_id]  # once, by its best CLIP chunk
    assert long_hit.metadata["chunk"] == next(r.chunk for r in expected if r.id == long_id)


def test_image_and_text_together(corpus: Corpus) -> None:
    clip = corpus.col.clip_embedder()
    path = list(corpus.image_files.values())[1]
    img = embed_images(clip, [load_rgb(path)])[0]
    q = img / np.linalg.norm(img) + clip.embed_batch(["a red square"])[0]
    expected = brute_rank(q, corpus.images)
    assert_hits(corpus.col.search("a red square", image=path, type="image", k=K), expected, K)


@pytest.mark.parametrize("query", QUERIES[:3])
def test_any_merges_text_and_image_lists_by_calibrated_score(corpus: Corpus, query: str) -> None:
    tq = corpus.col.text_embedder().embed_batch([query])[0]
    iq = corpus.col.clip_embedder().embed_batch([query])[0]
    texts, images = brute_rank(tq, corpus.texts), brute_rank(iq, corpus.images)
    for k in (K, 10):
        hits = corpus.col.search(query, type="any", mode="dense", k=k)
        expected = fuse([(texts, bg(tq, corpus.texts)), (images, bg(iq, corpus.images))], k)
        assert_hits(hits, expected)
        assert {h.modality for h in hits} == {"text", "image"}
        for h in hits:
            assert h.space == ("text" if h.modality == "text" else "clip")
    default = corpus.col.search(query, mode="dense", k=K)
    assert [h.id for h in default] == [h.id for h in
                                       corpus.col.search(query, type="any", mode="dense", k=K)]


def test_any_with_an_image_query(corpus: Corpus) -> None:
    clip = corpus.col.clip_embedder()
    path = list(corpus.image_files.values())[2]
    q = embed_images(clip, [load_rgb(path)])[0]
    images, texts = brute_rank(q, corpus.images), brute_rank(q, corpus.clip_texts)
    hits = corpus.col.search(image=path, k=K)
    assert_hits(hits, fuse([(images, bg(q, corpus.images)), (texts, bg(q, corpus.clip_texts))],
                           K))
    assert all(h.space == "clip" for h in hits)


def test_where_on_file_metadata(corpus: Corpus) -> None:
    clip = corpus.col.clip_embedder()
    q = clip.embed_batch(["a picture"])[0]
    wide = {i: v for i, v in corpus.images.items()
            if load_rgb(corpus.image_files[i]).size[0] >= 48}
    assert 0 < len(wide) < len(corpus.images)
    hits = corpus.col.search("a picture", type="image", where=["width>=48"], k=10)
    assert_hits(hits, brute_rank(q, wide))
    png = [i for i in corpus.images if i.endswith(".png")]
    hits = corpus.col.search("a picture", type="image", where={"path": {"$in": png}}, k=10)
    assert_hits(hits, brute_rank(q, {i: corpus.images[i] for i in png}))


def test_hit_to_dict_keys_and_values(corpus: Corpus) -> None:
    hits = corpus.col.search(QUERIES[0], mode="dense", k=10)
    assert hits and {h.modality for h in hits} == {"text", "image"}
    for rank, hit in enumerate(hits, start=1):
        assert isinstance(hit, Hit)
        d = hit.to_dict()
        assert list(d) == ["rank", "id", "score", "modality", "path", "text", "metadata",
                           "space", "parts"]
        assert d["rank"] == rank and d["id"] == hit.id and d["score"] == hit.score
        assert d["metadata"]["path"] == d["path"]
        assert not {"item_id", "sha256_file"} & set(d["metadata"])
        if hit.modality == "image":
            assert d["text"] is None and {"width", "height"} <= set(d["metadata"])
        else:
            assert isinstance(d["text"], str) and d["text"]
    assert isinstance(hits.warnings, list) and hits.warnings == []


def test_bad_queries(corpus: Corpus) -> None:
    col = corpus.col
    with pytest.raises(ConfigError):
        col.search("x", type="video")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        col.search("x", k=0)
    with pytest.raises(ConfigError):
        col.search("   ")
    with pytest.raises(ConfigError, match="needs a number"):
        col.search("x", where=["year>=abc"])
    with pytest.raises(ConfigError, match="bad filter"):
        col.search("x", where=["no operator"])
    with pytest.raises(ConfigError, match="cannot read query image"):
        col.search(image="/no/such/image.png")


def test_ranked_helper_sanity() -> None:
    """The brute-force helper itself: items score by their best chunk."""
    corpus = {"a": np.array([[1.0, 0.0], [0.0, 1.0]]), "b": np.array([[0.6, 0.8]])}
    ranked = brute_rank(np.array([0.0, 1.0]), corpus)
    assert ranked == [Ranked("a", 1.0, 1), Ranked("b", pytest.approx(0.8), 0)]


@pytest.mark.parametrize("kwargs", [{"type": "text", "mode": "dense"}, {"type": "text"},
                                    {"type": "any", "mode": "dense"}, {}])
def test_all_chunks_lists_every_chunk(corpus: Corpus, kwargs: dict) -> None:
    query = "bake bread and look at Saturn through a telescope"
    long_id = next(i for i in corpus.texts if i.endswith("long.md"))
    n_chunks = len(corpus.texts[long_id])
    assert n_chunks >= 3
    hits = corpus.col.search(query, all_chunks=True, k=100, **kwargs)
    keys = [(h.id, h.metadata["chunk"]) for h in hits]
    assert len(keys) == len(set(keys))
    assert sum(h.id == long_id for h in hits) == n_chunks
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    if kwargs.get("mode") == "dense":
        # within the text list, chunks keep their cosine order
        q = corpus.col.text_embedder().embed_batch([query])[0]
        want = sorted((float(v @ q) for vs in corpus.texts.values() for v in vs), reverse=True)
        got = [h.parts["dense"] for h in hits if h.space == "text"]
        assert got == pytest.approx(want, abs=1e-4)

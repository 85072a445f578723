"""Model records: a collection keeps the models that built it; reindex changes them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import (
    SHORT_TEXTS,
    TINY_CLIP,
    assert_hits,
    brute_rank,
    check_consistent,
    dump,
    embed_images,
    items_in,
    load_rgb,
    make_image,
    write,
)

from semsearch import Library, ModelMismatch, ModelSpec, ModelUnavailable

MINILM = "sentence-transformers/all-MiniLM-L6-v2"


def tiny16(tmp_path: Path) -> str:
    cfg = json.loads(Path(TINY_CLIP).read_text())
    cfg["embed_dim"] = 16
    path = tmp_path / "tiny-clip-16.json"
    path.write_text(json.dumps(cfg))
    return str(path)


def build(lib: Library, tmp_path: Path):
    src = tmp_path / "src"
    for name in ("dogs.txt", "pasta.txt", "rain.md"):
        write(src / name, SHORT_TEXTS[name])
    pics = [make_image(src / f"p{n}.png", n) for n in range(3)]
    col = lib.collection("m", clip_model=TINY_CLIP, clip_pretrained="none")
    col.ingest([src])
    return col, src, pics


def test_other_models_for_an_existing_collection_raise_model_mismatch(lib, tmp_path):
    build(lib, tmp_path)
    other = tiny16(tmp_path)
    with pytest.raises(ModelMismatch) as e:
        lib.collection("m", clip_model=other, clip_pretrained="none")
    assert TINY_CLIP in str(e.value) and other in str(e.value)
    assert "reindex" in str(e.value)
    with pytest.raises(ModelMismatch) as e:
        lib.collection("m", text_model="paraphrase-MiniLM-L3-v2")
    assert MINILM in str(e.value)
    assert "sentence-transformers/paraphrase-MiniLM-L3-v2" in str(e.value)
    with pytest.raises(ModelMismatch, match="no CLIP"):
        lib.collection("m", clip_model="none")

    # the same models, however spelled, are fine; so is giving none
    same = lib.collection("m", text_model="all-MiniLM-L6-v2", clip_model=TINY_CLIP,
                          clip_pretrained="none")
    assert same.models == ModelSpec(MINILM, TINY_CLIP, "none")
    assert lib.collection("m").models == same.models
    with Library(lib.home) as again:  # recorded in the catalog, not in memory
        assert again.collection("m").models == same.models
        with pytest.raises(ModelMismatch):
            again.collection("m", clip_model=other, clip_pretrained="none")


def test_reindex_with_new_models_updates_vectors_and_dims(reference_lib, tmp_path):
    lib = reference_lib
    col, src, pics = build(lib, tmp_path)
    info = col.info()
    assert (info.text_dim, info.clip_dim) == (384, 32)
    other = tiny16(tmp_path)

    summary = col.reindex(clip_model=other, clip_pretrained="none")
    assert (summary.added, summary.skipped, summary.items) == (6, 0, 6)
    assert col.models == ModelSpec(MINILM, other, "none")
    info = col.info()
    assert (info.text_dim, info.clip_dim) == (384, 16)
    assert info.counts == {"text": 3, "image": 3}
    assert {r.embedding.shape for r in dump(lib, "m", "clip")} == {(16,)}
    check_consistent(lib, "m")
    with Library(lib.home) as again:
        assert again.collection("m").models == col.models
        assert again.collection("m").info().clip_dim == 16

    # searches use the new model
    clip = col.clip_embedder()
    assert clip.dim == 16
    corpus = {str(p.resolve()): embed_images(clip, [load_rgb(p)]) for p in pics}
    expected = brute_rank(embed_images(clip, [load_rgb(pics[0])])[0], corpus)
    assert_hits(col.search(image=pics[0], type="image", k=3), expected)
    q = clip.embed_batch(["a colourful picture"])[0]
    assert_hits(col.search("a colourful picture", type="image", k=3), brute_rank(q, corpus))

    # and back to text only: the CLIP space goes, text search stays
    summary = col.reindex(clip_model="none")
    assert col.models == ModelSpec(MINILM, None, None)
    info = col.info()
    assert (info.text_dim, info.clip_dim) == (384, None)
    assert info.counts == {"text": 3}
    assert not lib.store.has("m", "clip")
    assert summary.skipped == 3  # images need a CLIP model
    assert {s.reason for s in summary.skipped_files} == {"CLIP model unavailable, images need it"}
    with pytest.raises(ModelUnavailable, match="without a CLIP model"):
        col.search("a dog", type="image")
    text = col.text_embedder()
    corpus = {i: text.embed_batch([r[0].document]) for i, r in items_in(lib, "m", "text").items()}
    hits = col.search("rainy weekend", mode="dense", k=3)
    assert_hits(hits, brute_rank(text.embed_batch(["rainy weekend"])[0], corpus))
    check_consistent(lib, "m")


def test_failed_reindex_changes_nothing(lib, tmp_path):
    col, src, pics = build(lib, tmp_path)
    before = {s: [r.chroma_id for r in dump(lib, "m", s)] for s in ("text", "clip")}
    # the default CLIP weights are not in the cache and the hub is offline
    with pytest.raises(ModelUnavailable):
        col.reindex(clip_model="ViT-B-32", clip_pretrained="laion2b_s34b_b79k")
    assert col.models == ModelSpec(MINILM, TINY_CLIP, "none")
    assert lib.collection("m").models == col.models
    assert {s: [r.chroma_id for r in dump(lib, "m", s)] for s in ("text", "clip")} == before
    assert col.search(image=pics[0], type="image", k=1)[0].path == str(pics[0].resolve())


def test_local_weights_file(lib, tmp_path):
    import open_clip
    import torch

    open_clip.add_model_config(TINY_CLIP)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = open_clip.create_model(Path(TINY_CLIP).stem, pretrained=None)
    weights = tmp_path / "w.pt"
    torch.save(model.state_dict(), weights)

    src = tmp_path / "src"
    write(src / "a.txt", SHORT_TEXTS["guitar.txt"])
    pic = make_image(src / "p.png", 3)
    col = lib.collection("w", clip_model=TINY_CLIP, clip_pretrained=str(weights))
    assert col.models.clip_pretrained == str(weights.resolve())
    summary = col.ingest([src])
    assert (summary.added, summary.warnings) == (2, [])
    loaded = col.clip_embedder()
    random_init = lib.collection(
        "r", clip_model=TINY_CLIP, clip_pretrained="none").clip_embedder()
    assert loaded is not random_init
    texts = ["a guitar by the fire", "stock markets"]
    np.testing.assert_allclose(loaded.embed_batch(texts), random_init.embed_batch(texts),
                               atol=1e-6)
    img = load_rgb(pic)
    np.testing.assert_allclose(embed_images(loaded, [img]), embed_images(random_init, [img]),
                               atol=1e-6)
    (row,) = items_in(lib, "w", "clip")[str(pic.resolve())]
    np.testing.assert_allclose(row.embedding, embed_images(random_init, [img])[0], atol=1e-5)

    missing = tmp_path / "nope" / "w.pt"
    with pytest.raises(ModelUnavailable, match="does not exist"):
        lib.collection("x", clip_model=TINY_CLIP, clip_pretrained=str(missing)).clip_embedder()

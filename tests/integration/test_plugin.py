"""semsearch as a Chroma plugin: registered embedding functions, an image data loader, plain
chromadb code reopening semsearch collections (the README's snippet, run as written), and
semsearch searching collections built with plain chromadb."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers import TINY_CLIP, load_rgb, make_image
from PIL import Image

import semsearch.storage.chroma_plugin as sc
from semsearch.client.library import Library
from semsearch.errors import ConfigError

pytestmark = pytest.mark.slow  # runs semsearch in subprocesses

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
TOL = 2e-5
TEXT_QUERIES = ["how do I fix a flat tyre", "a book about the sea", "bread and baking"]
IMAGE_QUERIES = ["a red apple", "the night sky"]
IMAGES = ["samples/images/red-apple.png", "samples/images/chessboard.gif"]


def readme_snippet() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Use from plain Chroma", 1)[1]
    m = re.search(r"```python\n(.*?)```", section, re.S)
    assert m, "no python snippet under 'Use from plain Chroma'"
    return m.group(1)


#: run after the README's snippet, in the same plain-chromadb process: build two collections
#: the way a Chroma user would, and dump every answer as JSON
DUMP = textwrap.dedent("""
    import json, sys
    import chromadb
    from semsearch.storage.chroma_plugin import (
        ClipEmbeddingFunction, ImageLoader, TextEmbeddingFunction)

    spec = json.loads(sys.argv[1])
    c = chromadb.PersistentClient(path=spec["chroma"])
    loader = ImageLoader()
    out = {"text": {}, "clip_text": {}, "clip_uri": {}, "clip_array": {}, "ext": {}}

    def pairs(res):
        return list(zip(res["ids"][0], res["distances"][0]))

    texts = c.get_collection("sample.text")
    clip = c.get_collection("sample.clip", data_loader=loader)
    image_only = {"modality": "image"}
    for q in spec["text_queries"]:
        out["text"][q] = pairs(texts.query(query_texts=[q], n_results=8))
    for q in spec["image_queries"]:
        out["clip_text"][q] = pairs(clip.query(query_texts=[q], n_results=4, where=image_only))
    for p in spec["images"]:
        out["clip_uri"][p] = pairs(clip.query(query_uris=[p], n_results=4, where=image_only))
        out["clip_array"][p] = pairs(clip.query(query_images=loader([p]), n_results=4,
                                                where=image_only))

    notes = c.create_collection("ext-notes", embedding_function=TextEmbeddingFunction(),
                                configuration={"hnsw": {"space": "cosine"}})
    notes.add(ids=[f"n{i}" for i in range(len(spec["notes"]))], documents=spec["notes"])
    pics = c.create_collection("ext-pics", data_loader=loader,
                               embedding_function=ClipEmbeddingFunction(spec["clip"], "none"),
                               configuration={"hnsw": {"space": "cosine"}})
    pics.add(ids=[f"p{i}" for i in range(len(spec["pictures"]))], uris=spec["pictures"])
    pics.add(ids=["caption"], documents=["a drawing of a red apple"])
    for q in spec["text_queries"]:
        out["ext"]["notes:" + q] = pairs(notes.query(query_texts=[q], n_results=4))
    for q in spec["image_queries"]:
        out["ext"]["pics:" + q] = pairs(pics.query(query_texts=[q], n_results=5))
    out["ext"]["pics:image"] = pairs(pics.query(query_uris=[spec["images"][0]], n_results=5))
    print("DUMP " + json.dumps(out))
""")


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The bundled samples ingested as collection 'sample' (tiny CLIP), then the README's
    snippet and DUMP run in a separate, plain-chromadb Python process."""
    root = tmp_path_factory.mktemp("plugin")
    home = root / "home"
    with Library(home) as lib:
        lib.collection("sample", clip_model=TINY_CLIP, clip_pretrained="none").ingest(
            [ROOT / "samples"], id_field="id", text_fields=["title", "summary"])
    pictures = [str(make_image(root / "pics" / f"q{i}.png", seed=70 + i)) for i in range(4)]
    spec = {
        "chroma": str(home / "chroma"), "text_queries": TEXT_QUERIES,
        "image_queries": IMAGE_QUERIES, "images": IMAGES, "clip": TINY_CLIP,
        "notes": ["Patch the inner tube, then pump the tyre back up.",
                  "Knead the dough, let it rise twice and bake it hot.",
                  "The old fisherman fought a marlin far out at sea.",
                  "Water the fern once a week and keep it out of direct sun."],
        "pictures": pictures,
    }
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               SEMSEARCH_HOME=str(home))
    env.pop("SEMSEARCH_CHROMA_URL", None)
    proc = subprocess.run([sys.executable, "-c", readme_snippet() + "\n" + DUMP, json.dumps(spec)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    dump = json.loads(next(line for line in lines if line.startswith("DUMP "))[5:])
    with Library(home) as lib:
        yield {"lib": lib, "home": home, "readme": lines[:3], "dump": dump, "spec": spec}


def chunk_id(hit: Any) -> str:
    """The Chroma id of a hit: ITEM_ID#CHUNK for semsearch's rows, the id for others."""
    return f"{hit.id}#{hit.metadata['chunk']}" if "chunk" in hit.metadata else hit.id


def same(hits: list[Any], pairs: list[tuple[str, float]]) -> None:
    """Same ids in the same order, score = 1 - distance (near-ties may swap)."""
    assert pairs and len(hits) == len(pairs), ([chunk_id(h) for h in hits], pairs)
    for hit, (cid, dist) in zip(hits, pairs, strict=True):
        cosine = hit.parts["dense"]  # the score may be calibrated (merged lists)
        assert abs(cosine - (1.0 - dist)) <= TOL, (chunk_id(hit), cosine, cid, dist)
        if chunk_id(hit) != cid:
            tied = {c for c, d in pairs if abs(d - dist) <= TOL}
            assert chunk_id(hit) in tied, ([chunk_id(h) for h in hits], pairs)


def test_readme_snippet_answers_like_semsearch(plain: dict[str, Any]) -> None:
    col = plain["lib"].collection("sample")
    printed = [tuple(ast.literal_eval(part) for part in re.split(r"(?<=\]) (?=\[)", line))
               for line in plain["readme"]]
    expected = [
        col.search(TEXT_QUERIES[0], type="text", mode="dense", all_chunks=True, k=3),
        col.search(IMAGE_QUERIES[0], type="image", all_chunks=True, k=3),
        col.search(image=str(ROOT / IMAGES[0]), type="image", all_chunks=True, k=3),
    ]
    assert len(printed) == 3
    for (ids, distances), hits in zip(printed, expected, strict=True):
        same(hits, list(zip(ids, distances, strict=True)))


def test_plain_chromadb_queries_equal_semsearch_search(plain: dict[str, Any]) -> None:
    col = plain["lib"].collection("sample")
    dump = plain["dump"]
    for q in TEXT_QUERIES:
        same(col.search(q, type="text", mode="dense", all_chunks=True, k=8), dump["text"][q])
    for q in IMAGE_QUERIES:
        same(col.search(q, type="image", all_chunks=True, k=4), dump["clip_text"][q])
    for p in IMAGES:
        hits = col.search(image=str(ROOT / p), type="image", all_chunks=True, k=4)
        same(hits, dump["clip_uri"][p])
        same(hits, dump["clip_array"][p])


def test_semsearch_searches_collections_built_with_plain_chromadb(plain: dict[str, Any]) -> None:
    lib, dump, spec = plain["lib"], plain["dump"]["ext"], plain["spec"]
    names = {c.name: c for c in lib.collections()}
    assert {"sample", "ext-notes", "ext-pics"} <= set(names)
    assert names["ext-notes"].models.clip_model is None
    assert names["ext-notes"].counts == {"text": len(spec["notes"])}
    assert names["ext-pics"].counts == {"image": len(spec["pictures"]), "text": 1}
    assert lib.collection("ext-pics").models.clip_model == TINY_CLIP
    notes = lib.collection("ext-notes")
    for q in TEXT_QUERIES:
        hits = notes.search(q, type="text", mode="dense", k=4)
        same(hits, dump["notes:" + q])
        assert all(h.modality == "text" and h.text for h in hits)
    pics = lib.collection("ext-pics")
    for q in IMAGE_QUERIES:
        hits = pics.search(q, type="image", k=5)
        same(hits, dump["pics:" + q])
        for h in hits:
            assert (h.modality, h.path is not None) == (("text", False) if h.id == "caption"
                                                        else ("image", True))
    by_image = pics.search(image=str(ROOT / spec["images"][0]), type="any", k=5)
    same(by_image, dump["pics:image"])
    with pytest.raises(ConfigError, match="no files"):  # it would only delete them
        notes.reindex()
    assert notes.search(TEXT_QUERIES[0], type="text", mode="dense", k=4)


def test_registered_embedding_functions_round_trip(plain: dict[str, Any]) -> None:
    from chromadb.utils.embedding_functions import known_embedding_functions

    assert known_embedding_functions["semsearch-text"] is sc.TextEmbeddingFunction
    assert known_embedding_functions["semsearch-clip"] is sc.ClipEmbeddingFunction
    col = plain["lib"].collection("sample")
    text = sc.embedding_function("text", col.models)
    clip = sc.embedding_function("clip", col.models)
    for ef in (text, clip):
        again = type(ef).build_from_config(ef.get_config())
        assert again.get_config() == ef.get_config() and again.name() == ef.name()
        type(ef).validate_config(ef.get_config())
        with pytest.raises(ValueError):
            type(ef).validate_config({"model": 3})
        assert ef.default_space() == "cosine"
    docs = ["a flat tyre", "sourdough bread"]
    np.testing.assert_allclose(np.asarray(text(docs)), col.text_embedder().embed_batch(docs),
                               atol=1e-6)
    np.testing.assert_allclose(np.asarray(clip(docs)), col.clip_embedder().embed_batch(docs),
                               atol=1e-6)


def test_image_loader(tmp_path: Path) -> None:
    """What ingest does to an image: EXIF orientation, RGB (transparency on white), the first
    frame, and at most 1024 pixels a side."""
    loader = sc.ImageLoader()
    big = make_image(tmp_path / "big.jpg", seed=1, size=(1500, 900))
    with Image.open(big) as img:
        exif = img.getexif()
        exif[0x0112] = 6  # rotate 90 degrees clockwise to display
        img.save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    rgba = Image.new("RGBA", (40, 30), (255, 0, 0, 255))
    rgba.putpixel((0, 0), (0, 0, 0, 0))
    rgba.save(tmp_path / "alpha.png")
    make_image(tmp_path / "pal.gif", seed=2)

    rotated, alpha, pal, none = loader([str(tmp_path / "rotated.jpg"),
                                        "file://" + str(tmp_path / "alpha.png"),
                                        str(tmp_path / "pal.gif"), None])
    assert none is None
    want = load_rgb(tmp_path / "rotated.jpg")
    assert want.size == (900, 1500)  # upright: portrait
    want.thumbnail((1024, 1024))
    assert rotated.shape == (want.height, want.width, 3) == (1024, want.width, 3)
    assert rotated.dtype == np.uint8
    np.testing.assert_array_equal(rotated, np.asarray(want))
    assert alpha.shape == (30, 40, 3)
    assert tuple(alpha[0, 0]) == (255, 255, 255) and tuple(alpha[5, 5]) == (255, 0, 0)
    assert pal.shape == (36, 48, 3)
    np.testing.assert_array_equal(pal, np.asarray(load_rgb(tmp_path / "pal.gif")))

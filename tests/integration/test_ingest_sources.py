"""Ingest of every source kind, and the metadata each item carries."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from helpers import (
    SHORT_TEXTS,
    TINY_CLIP,
    assert_hits,
    brute_rank,
    dump,
    embed_images,
    items_in,
    load_rgb,
    long_markdown,
    make_image,
    write,
)
from PIL import Image

from semsearch.models.chunking import TEXT_OVERLAP


def open_tiny(lib, name="c"):
    return lib.collection(name, clip_model=TINY_CLIP, clip_pretrained="none")


def file_meta(path: Path) -> dict:
    st = path.stat()
    return {
        "path": str(path.resolve()),
        "size": st.st_size,
        "mtime": round(st.st_mtime_ns / 1e9, 3),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }


def test_text_files_one_item_each_with_file_metadata(reference_lib, tmp_path):
    lib = reference_lib
    docs = tmp_path / "docs"
    paths = [write(docs / name, text) for name, text in SHORT_TEXTS.items()]
    col = open_tiny(lib)
    summary = col.ingest([docs])
    assert (summary.added, summary.skipped, summary.items) == (len(paths), 0, len(paths))

    for space in ("text", "clip"):
        items = items_in(lib, "c", space)
        assert set(items) == {str(p.resolve()) for p in paths}
        for p in paths:
            (row,) = items[str(p.resolve())]  # short: a single chunk
            assert row.document == p.read_text().strip()
            meta = row.metadata
            assert {k: meta[k] for k in ("path", "size", "mtime", "sha256")} == file_meta(p)
            assert meta["modality"] == "text"
            assert (meta["chunk"], meta["start"], meta["end"]) == (0, 0, len(row.document))
            assert "width" not in meta

    # the stored text vectors are the model's vectors of the file text
    text = col.text_embedder()
    rows = items_in(lib, "c", "text")
    for p in paths:
        want = text.embed_batch([p.read_text().strip()])[0]
        np.testing.assert_allclose(rows[str(p.resolve())][0].embedding, want, atol=1e-5)
    info = col.info()
    assert info.counts == {"text": len(paths)}
    assert info.files == len(paths)
    assert (info.text_dim, info.clip_dim) == (text.dim, col.clip_embedder().dim)


def test_long_markdown_is_chunked_and_found_once_by_its_best_chunk(reference_lib, tmp_path):
    lib = reference_lib
    docs = tmp_path / "docs"
    for name, text in SHORT_TEXTS.items():
        write(docs / name, text)
    notes = write(docs / "notes.md", long_markdown())
    body = notes.read_text()
    col = open_tiny(lib)
    col.ingest([docs])
    nid = str(notes.resolve())

    for space, embedder in (("text", col.text_embedder()), ("clip", col.clip_embedder())):
        rows = items_in(lib, "c", space)[nid]
        assert len(rows) >= 3, f"{space}: expected several chunks"
        starts = [r.metadata["start"] for r in rows]
        ends = [r.metadata["end"] for r in rows]
        assert [r.metadata["chunk"] for r in rows] == list(range(len(rows)))
        assert starts[0] == 0 and ends[-1] == len(body)
        assert starts == sorted(starts) and len(set(starts)) == len(starts)
        for r in rows:
            assert r.document == body[r.metadata["start"]:r.metadata["end"]]
            assert len(embedder.token_spans(r.document)) <= embedder.max_tokens
            assert r.metadata["path"] == nid and r.metadata["size"] == len(body.encode())
        for a, b in zip(rows, rows[1:], strict=False):
            if space == "text":  # windows overlap by TEXT_OVERLAP tokens
                assert b.metadata["start"] < a.metadata["end"]
                overlap = body[b.metadata["start"]:a.metadata["end"]]
                assert 0 < len(embedder.token_spans(overlap)) <= TEXT_OVERLAP + 1
            else:  # CLIP windows do not overlap, and leave no gap but whitespace
                assert body[a.metadata["end"]:b.metadata["start"]].strip() == ""

    # search: the note is one hit, scored and shown by its best chunk
    text = col.text_embedder()
    stored = items_in(lib, "c", "text")
    corpus = {i: text.embed_batch([r.document for r in rows]) for i, rows in stored.items()}
    n = len(corpus)
    for query in ("telescope, the rings of Saturn and the moons of Jupiter",
                  "knead the dough and bake a loaf of bread",
                  "sow beans and tomatoes in warm soil"):
        expected = brute_rank(text.embed_batch([query])[0], corpus)
        hits = col.search(query, type="text", mode="dense", k=n)
        assert_hits(hits, expected)
        (note,) = [h for h in hits if h.id == nid]
        best = next(r for r in expected if r.id == nid).chunk
        assert note.metadata["chunk"] == best
        assert note.text == stored[nid][best].document
        assert (note.metadata["start"], note.metadata["end"]) == (
            stored[nid][best].metadata["start"], stored[nid][best].metadata["end"])

        # every chunk on its own with all_chunks
        every = col.search(query, type="text", mode="dense", k=100, all_chunks=True)
        q = text.embed_batch([query])[0]
        want = sorted((float(v @ q) for vs in corpus.values() for v in vs), reverse=True)
        assert [h.score for h in every] == pytest.approx(want, abs=1e-4)
        assert sum(h.id == nid for h in every) == len(stored[nid])


JSONL = [
    {"id": "bk-1", "title": "Dune", "body": "A desert planet, giant sandworms and a spice that "
     "everyone wants.", "year": 1965, "rating": 4.6, "path": "shelf/a", "tags": ["sf", "classic"]},
    {"id": "bk-2", "title": "Neuromancer", "body": "A washed-up hacker is hired for one last job "
     "in cyberspace.", "year": 1984, "rating": 4.1, "lang": "en"},
    {"id": "bk-3", "title": "The Martian", "body": "An astronaut stranded on Mars grows potatoes "
     "to survive.", "year": 2011, "rating": 4.7, "lang": "en"},
    {"id": "bk-4", "title": "Piranesi", "body": "A man lives alone in an endless house of halls "
     "and statues, flooded by tides.", "year": 2020, "rating": 4.4, "lang": "en"},
]
CSV = (
    "sku,title,body,year,price,shelf\n"
    "c-1,Kettle,Electric kettle that boils water in two minutes,2020,29.99,B\n"
    "c-2,Toaster,Four-slot toaster with a bagel setting,2018,45.50,B\n"
    "c-3,Telescope,Small refractor telescope for watching planets and the moon,2020,199.00,C\n"
)


def test_records_jsonl_and_csv_ids_fields_and_filters(reference_lib, tmp_path):
    lib = reference_lib
    jl = write(tmp_path / "books.jsonl", "\n".join(json.dumps(r) for r in JSONL) + "\n")
    cv = write(tmp_path / "shop.csv", CSV)
    col = open_tiny(lib)
    s1 = col.ingest([jl], id_field="id", text_fields=["title", "body"])
    s2 = col.ingest([cv], id_field="sku", text_fields=["title", "body"])
    assert (s1.added, s1.items, s1.skipped) == (1, 4, 0)
    assert (s2.added, s2.items, s2.skipped) == (1, 3, 0)

    rows = {i: r[0] for i, r in items_in(lib, "c", "text").items()}
    assert set(rows) == {"bk-1", "bk-2", "bk-3", "bk-4", "c-1", "c-2", "c-3"}
    assert set(items_in(lib, "c", "clip")) == set(rows)

    dune = rows["bk-1"]
    assert dune.document == f"{JSONL[0]['title']} {JSONL[0]['body']}"
    assert dune.metadata["year"] == 1965 and dune.metadata["rating"] == 4.6
    assert json.loads(dune.metadata["tags"]) == ["sf", "classic"]
    assert dune.metadata["field_path"] == "shelf/a"  # a record field named like ours is kept
    assert dune.metadata["path"] == str(jl.resolve())
    assert dune.metadata["record"] == 1 and dune.metadata["modality"] == "text"
    assert not {"id", "title", "body"} & set(dune.metadata)
    kettle = rows["c-1"]
    assert kettle.metadata["year"] == 2020 and kettle.metadata["shelf"] == "B"  # a number
    assert kettle.metadata["record"] == 2 and kettle.metadata["path"] == str(cv.resolve())
    assert not {"sku", "title", "body"} & set(kettle.metadata)

    text = col.text_embedder()
    corpus = {i: text.embed_batch([r.document]) for i, r in rows.items()}
    query = "a book about space and other planets"
    q = text.embed_batch([query])[0]

    def expect(keep):
        return brute_rank(q, {i: v for i, v in corpus.items() if keep(rows[i].metadata)})

    cases = [
        (["year>=1984"], lambda m: isinstance(m["year"], int) and m["year"] >= 1984),
        (["year<2000", "rating>4.5"],
         lambda m: isinstance(m["year"], int) and m["year"] < 2000 and m["rating"] > 4.5),
        # a number for equality matches ints and CSV text alike
        (["year=2020"], lambda m: str(m["year"]) == "2020"),
        (["year!=2020"], lambda m: str(m["year"]) != "2020"),
        (["shelf=B"], lambda m: m.get("shelf") == "B"),
        (["lang=en", "year<=2011"],
         lambda m: m.get("lang") == "en" and isinstance(m["year"], int) and m["year"] <= 2011),
        ({"rating": {"$gt": 4.5}}, lambda m: isinstance(m.get("rating"), float)
         and m["rating"] > 4.5),
    ]
    for where, keep in cases:
        expected = expect(keep)
        assert expected, where
        hits = col.search(query, type="text", mode="dense", where=where, k=10)
        assert_hits(hits, expected)
        assert all(h.id in rows for h in hits)
    assert {h.id for h in col.search(query, type="text", mode="dense", where=["year=2020"])} == {
        "bk-4", "c-1", "c-3"}

    # same options again: unchanged; other options: the file is read again with new ids
    again = col.ingest([jl], id_field="id", text_fields=["title", "body"])
    assert (again.unchanged, again.items) == (1, 0)
    plain = col.ingest([jl])
    assert plain.updated == 1
    ids = set(items_in(lib, "c", "text"))
    assert {f"{jl.resolve()}#{n}" for n in range(1, 5)} <= ids
    assert not {"bk-1", "bk-2", "bk-3", "bk-4"} & ids
    no_opts = items_in(lib, "c", "text")[f"{jl.resolve()}#2"][0]
    # without --text-field every string field is text; other fields are metadata
    assert no_opts.document == "bk-2 Neuromancer " + JSONL[1]["body"] + " en"
    assert no_opts.metadata["year"] == 1984 and "lang" not in no_opts.metadata


def test_image_formats_dimensions_and_first_gif_frame(lib, tmp_path):
    pics = tmp_path / "pics"
    files = {
        "a.png": make_image(pics / "a.png", 1, (48, 36)),
        "b.jpg": make_image(pics / "b.jpg", 2, (40, 52), quality=90),
        "c.webp": make_image(pics / "c.webp", 3, (33, 27)),
        "e.bmp": make_image(pics / "e.bmp", 5, (30, 30)),
        "f.tiff": make_image(pics / "f.tiff", 6, (45, 20)),
        "g.jpeg": make_image(pics / "g.jpeg", 7, (24, 64)),
    }
    red, blue = Image.new("RGB", (40, 24), (255, 0, 0)), Image.new("RGB", (40, 24), (0, 0, 255))
    gif = pics / "d.gif"
    red.save(gif, save_all=True, append_images=[blue], duration=100, loop=0)
    files["d.gif"] = gif
    with Image.open(gif) as g:
        assert getattr(g, "n_frames", 1) == 2
    col = open_tiny(lib)
    summary = col.ingest([pics])
    assert (summary.added, summary.skipped, summary.items) == (len(files), 0, len(files))

    clip = col.clip_embedder()
    items = items_in(lib, "c", "clip")
    assert dump(lib, "c", "text") == []
    assert set(items) == {str(p.resolve()) for p in files.values()}
    for p in files.values():
        (row,) = items[str(p.resolve())]
        img = load_rgb(p)
        meta = row.metadata
        assert (meta["width"], meta["height"]) == img.size
        assert {k: meta[k] for k in ("path", "size", "mtime", "sha256")} == file_meta(p)
        assert meta["modality"] == "image" and row.document is None
        np.testing.assert_allclose(row.embedding, embed_images(clip, [img])[0], atol=1e-5)

    g = items[str(gif.resolve())][0].embedding
    want_red, want_blue = embed_images(clip, [red, blue])
    np.testing.assert_allclose(g, want_red, atol=1e-5)
    assert float(g @ want_blue) < float(g @ want_red) - 1e-4
    assert col.info().counts == {"image": len(files)}


def test_exif_orientation_is_applied(lib, tmp_path):
    raw = Image.new("RGB", (40, 20), (30, 120, 200))
    raw.paste((250, 200, 10), (0, 0, 10, 20))  # a marker on the left edge
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to view
    path = tmp_path / "pics" / "rotated.jpg"
    path.parent.mkdir()
    raw.save(path, "JPEG", exif=exif.tobytes(), quality=95)
    with Image.open(path) as check:
        assert check.size == (40, 20) and check.getexif().get(0x0112) == 6

    col = open_tiny(lib)
    col.ingest([path])
    (row,) = items_in(lib, "c", "clip")[str(path.resolve())]
    assert (row.metadata["width"], row.metadata["height"]) == (20, 40)
    clip = col.clip_embedder()
    upright = load_rgb(path)
    assert upright.size == (20, 40)
    with Image.open(path) as img:
        as_stored = img.convert("RGB")
    want, unrotated = embed_images(clip, [upright, as_stored])
    np.testing.assert_allclose(row.embedding, want, atol=1e-5)
    assert not np.allclose(row.embedding, unrotated, atol=1e-3)

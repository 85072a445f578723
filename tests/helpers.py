"""Test helpers: small corpora, brute-force rankings in numpy, store invariants."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from semsearch.client.library import Library
from semsearch.models.registry import ModelRegistry
from semsearch.models.runtime import RuntimeChoice
from semsearch.storage.vectors import Match

DATA = Path(__file__).parent / "data"
#: models on torch fp32, whose vectors do not depend on the batch (see conftest.reference_lib)
REFERENCE = ModelRegistry(RuntimeChoice(backend="torch", precision="fp32", device="cpu"))
#: ONNX fp32: torch's vectors to 1e-6, whatever the batch or the CPU's instruction set, for
#: outputs that print scores (snapshots); the default CPU runtime (int8) scales activations
#: per batch, and its integer kernels differ between CPUs with and without VNNI
EXACT = ModelRegistry(RuntimeChoice(backend="onnx", precision="fp32", device="cpu"))
TINY_CLIP = str(DATA / "tiny-clip.json")
SCORE_TOL = 1e-4
#: brute-force scores closer than this may come back in either order
TIE = 2e-5

SHORT_TEXTS = {
    "dogs.txt": "Dogs love running on the beach and fetching sticks thrown into the waves.",
    "pasta.txt": "Boil the pasta in salted water, then toss it with garlic, olive oil and chili.",
    "stocks.md": "# Markets\n\nThe stock market fell sharply after the central bank raised rates.",
    "guitar.txt": "She tuned her acoustic guitar and played a slow folk song by the campfire.",
    "rain.md": "Heavy rain and thunderstorms are expected across the valley this weekend.",
    "python.txt": "Python lists are mutable sequences; tuples cannot be changed after creation.",
}

_PARAGRAPHS = [
    "Gardening in spring starts with the soil. Turn the beds, mix in compost, and wait for "
    "the ground to warm before sowing beans, peas and lettuce. Tomatoes want full sun, "
    "steady water and a stake to climb. Mulch keeps the weeds down and the moisture in. ",
    "Astronomy at night needs dark skies far from city lights. Through a small telescope "
    "the rings of Saturn and the moons of Jupiter are easy to find, and on clear winter "
    "evenings the Orion nebula glows faintly below the belt of three bright stars. ",
    "Baking bread at home takes flour, water, salt and yeast, and mostly patience. Knead "
    "the dough until it is smooth, let it rise twice, shape the loaf and bake it in a very "
    "hot oven until the crust is deep brown and sounds hollow when tapped. ",
]


def long_markdown(repeats: int = 4) -> str:
    """Three topics, each repeated: well over the text model's 256-token window."""
    parts = ["# Notes\n"]
    for p in _PARAGRAPHS:
        parts.append("\n" + (p * repeats).strip() + "\n")
    return "".join(parts).strip()


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def picture(seed: int, size: tuple[int, int] = (48, 36)) -> Image.Image:
    """A distinct RGB picture: a coloured background, a few shapes and some noise."""
    rng = np.random.default_rng(seed)
    base = tuple(int(c) for c in rng.integers(0, 256, 3))
    img = Image.new("RGB", size, base)  # type: ignore[arg-type]
    draw = ImageDraw.Draw(img)
    for _ in range(4):
        x0, y0 = int(rng.integers(0, size[0] // 2)), int(rng.integers(0, size[1] // 2))
        x1, y1 = x0 + int(rng.integers(4, size[0] // 2)), y0 + int(rng.integers(4, size[1] // 2))
        draw.rectangle((x0, y0, x1, y1), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    noise = rng.integers(-20, 20, (size[1], size[0], 3))
    arr = np.clip(np.asarray(img, dtype=np.int16) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(arr)


def make_image(path: Path, seed: int, size: tuple[int, int] = (48, 36), **save: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    picture(seed, size).save(path, **save)
    return path


def load_rgb(path: Path) -> Image.Image:
    """What a viewer shows: first frame, EXIF orientation applied, RGB."""
    with Image.open(path) as img:
        img.seek(0)
        img.load()
        return ImageOps.exif_transpose(img).convert("RGB")


def embed_images(clip: Any, images: list[Image.Image]) -> np.ndarray:
    return np.asarray(clip.embed_prepared([clip.prepare_image(i) for i in images]))


# the store ---------------------------------------------------------------------------------
@dataclass
class Row:
    chroma_id: str
    metadata: dict[str, Any]
    document: str | None
    embedding: np.ndarray


def dump(lib: Library, name: str, space: str) -> list[Row]:
    """Everything in one Chroma collection (fresh handle, sorted by id)."""
    rows = [Row(cid, meta, doc, emb)
            for page in lib.store.scan(name, space)
            for cid, meta, doc, emb in zip(page.ids, page.metadatas, page.documents,
                                           page.embeddings, strict=True)]
    return sorted(rows, key=lambda r: r.chroma_id)


def items_in(lib: Library, name: str, space: str) -> dict[str, list[Row]]:
    """Item id -> its rows in the space, in chunk order."""
    out: dict[str, list[Row]] = {}
    for row in dump(lib, name, space):
        out.setdefault(row.metadata["item_id"], []).append(row)
    for rows in out.values():
        rows.sort(key=lambda r: r.metadata["chunk"])
    return out


def catalog_items(lib: Library, name: str) -> dict[str, tuple[str, int, int]]:
    rows = lib.catalog.db.execute(
        "SELECT item_id, path, text_chunks, clip_chunks FROM items WHERE collection=?", (name,)
    )
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def check_consistent(lib: Library, name: str) -> None:
    """Store and catalog agree: every catalogued item has exactly its chunks, nothing else."""
    items = catalog_items(lib, name)
    files = set(lib.catalog.files(name))
    assert {path for path, _, _ in items.values()} <= files
    for space, pos in (("text", 1), ("clip", 2)):
        rows = dump(lib, name, space)
        ids = [r.chroma_id for r in rows]
        assert len(ids) == len(set(ids)), f"duplicate ids in {space}"
        expected = {f"{item}#{n}" for item, info in items.items() for n in range(info[pos])}
        assert set(ids) == expected, f"{space}: orphans {set(ids) - expected}, " \
                                     f"missing {expected - set(ids)}"
        for r in rows:
            assert r.chroma_id == f"{r.metadata['item_id']}#{r.metadata['chunk']}"
            assert r.metadata["path"] == items[r.metadata["item_id"]][0]
    assert lib.catalog.pending(name) == []


# brute force -------------------------------------------------------------------------------
@dataclass
class Ranked:
    id: str
    score: float
    chunk: int


def brute_rank(query: np.ndarray, corpus: dict[str, np.ndarray]) -> list[Ranked]:
    """Cosine ranking of items; an item scores as its best chunk. Rows are unit vectors."""
    q = np.asarray(query, dtype=np.float64)
    q = q / np.linalg.norm(q)
    out = []
    for item_id, vectors in corpus.items():
        sims = np.asarray(vectors, dtype=np.float64) @ q
        best = int(np.argmax(sims))
        out.append(Ranked(item_id, float(sims[best]), best))
    return sorted(out, key=lambda r: -r.score)


def as_matches(ranked: list[Ranked]) -> list[Match]:
    return [Match(f"{r.id}#{r.chunk}", 1.0 - r.score, {"item_id": r.id}, None) for r in ranked]


def bg(query: np.ndarray, corpus: dict[str, np.ndarray]) -> np.ndarray:
    """The query's cosine to every chunk of a corpus: the background its scores are read
    against (the store samples every row of a small collection)."""
    q = np.asarray(query, dtype=np.float64)
    q = q / np.linalg.norm(q)
    return np.concatenate([np.asarray(v, dtype=np.float64) @ q for v in corpus.values()])


def fuse(lists: list[tuple[list[Ranked], np.ndarray]], k: int) -> list[Ranked]:
    """The expected ``type=any`` order: each list's scores standardised against its background
    (mean and standard deviation of the query's scores over the leg's space), merged by that
    value, which becomes the score."""
    out = []
    for ranked, background in lists:
        mean, std = float(np.mean(background)), float(np.std(background))
        out += [Ranked(r.id, (r.score - mean) / std, r.chunk) for r in ranked[:k]]
    return sorted(out, key=lambda r: -r.score)[:k]


def assert_hits(hits: list[Any], expected: list[Ranked], k: int | None = None,
                ties: list[Ranked] | None = None) -> None:
    """Same ids in the same order and the same scores; near-ties may swap places.

    ``ties``: the full brute-force list to look up near-tied scores in (default ``expected``).
    """
    exp = expected[:k] if k else expected
    pool = ties or expected
    assert len(hits) == len(exp), ([h.id for h in hits], [e.id for e in exp])
    assert len({h.id for h in hits}) == len(hits), "an item came back twice"
    for hit, want in zip(hits, exp, strict=True):
        assert abs(hit.score - want.score) <= SCORE_TOL, (hit.id, hit.score, want)
        if hit.id != want.id:
            tied = {r.id for r in pool if abs(r.score - want.score) <= TIE}
            assert hit.id in tied, (
                f"got {[h.id for h in hits]}, expected {[e.id for e in exp]}"
            )

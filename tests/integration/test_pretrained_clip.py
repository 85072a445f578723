"""Real CLIP weights (ViT-B-32, laion2b_s34b_b79k): pictures and captions meet in one space.

Runs only where the weights are already in the Hugging Face cache (run ``semsearch ingest``
once with network access, or ``python -c "import open_clip;
open_clip.create_model('ViT-B-32', pretrained='laion2b_s34b_b79k')"``).
"""

from __future__ import annotations

import pytest
from helpers import assert_hits, brute_rank, embed_images, load_rgb, write
from PIL import Image, ImageDraw

from semsearch.models.open_clip import DEFAULT_CLIP_MODEL, DEFAULT_CLIP_PRETRAINED, _cached_weights

pytestmark = pytest.mark.pretrained_clip

COLOURS = {"red": (220, 20, 30), "green": (30, 160, 40), "blue": (20, 40, 220)}


@pytest.fixture
def weights() -> str:
    import open_clip

    cfg = open_clip.get_pretrained_cfg(DEFAULT_CLIP_MODEL, DEFAULT_CLIP_PRETRAINED)
    found = _cached_weights(cfg)
    if not found:
        pytest.skip(f"{DEFAULT_CLIP_MODEL} ({DEFAULT_CLIP_PRETRAINED}) weights are not in the "
                    f"Hugging Face cache ({cfg.get('hf_hub')}) and downloads are off")
    return found


def test_photos_and_captions_rank_sensibly(lib, tmp_path, weights):
    src = tmp_path / "src"
    src.mkdir()
    pics = {}
    for name, rgb in COLOURS.items():
        img = Image.new("RGB", (224, 224), (245, 245, 240))
        ImageDraw.Draw(img).ellipse((40, 40, 184, 184), fill=rgb)
        pics[name] = src / f"{name}.png"
        img.save(pics[name])
    captions = {name: write(src / f"{name}.txt", f"a photo of a {name} circle")
                for name in COLOURS}
    col = lib.collection("real")  # default models
    summary = col.ingest([src])
    assert (summary.added, summary.skipped, summary.warnings) == (6, 0, [])
    clip = col.clip_embedder()
    assert clip.dim == 512

    images = {str(p.resolve()): embed_images(clip, [load_rgb(p)]) for p in pics.values()}
    texts = {str(p.resolve()): clip.embed_batch([p.read_text()]) for p in captions.values()}
    for name in COLOURS:
        query = f"a {name} circle"
        hits = col.search(query, type="image", k=3)
        assert_hits(hits, brute_rank(clip.embed_batch([query])[0], images))
        assert hits[0].path == str(pics[name].resolve())

        by_image = col.search(image=pics[name], type="text", k=3)
        q = embed_images(clip, [load_rgb(pics[name])])[0]
        assert_hits(by_image, brute_rank(q, texts))
        assert by_image[0].path == str(captions[name].resolve())

"""CLIP text queries without torch: the ported tokenizer gives open_clip's tokens, the text
tower's export (made when ``auto`` builds CLIP on torch) gives torch's vectors, and a text
search in a fresh process finds the same images without importing torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import TINY_CLIP, make_image, write
from hypothesis import given, settings
from hypothesis import strategies as st

from semsearch.client.library import Library
from semsearch.models import clip_text
from semsearch.models.clip_onnx import export_folder
from semsearch.models.clip_tokens import _PLAIN, ClipBpe, vocab_file
from semsearch.models.open_clip import OpenClipEmbedder
from semsearch.models.registry import ModelRegistry, default_spec
from semsearch.models.runtime import RuntimeChoice

open_clip = pytest.importorskip("open_clip")
OPEN_CLIP_TOKENS = open_clip.get_tokenizer("ViT-B-32")
PORT = ClipBpe(vocab_file())  # type: ignore[arg-type]
TEXTS = ["a red apple", "the sea at night", "", "naïve café &amp; 東京 ✓", "x" * 400,
         " ".join(["sunset"] * 90)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=80), min_size=1, max_size=4))
def test_the_ported_tokenizer_gives_open_clips_tokens(texts: list[str]) -> None:
    assert np.array_equal(PORT(texts), OPEN_CLIP_TOKENS(texts).numpy())


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=60))
def test_ftfy_keeps_the_plain_text_the_port_does_not_give_it(text: str) -> None:
    import ftfy

    if _PLAIN.fullmatch(text):  # (it turns "\r" into "\n": whitespace, collapsed after)
        assert ftfy.fix_text(text).split() == text.split()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SEMSEARCH_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_building_clip_on_torch_exports_its_text_tower_for_queries(cache: Path) -> None:
    model = OpenClipEmbedder(TINY_CLIP, "none", runtime=RuntimeChoice())
    assert model.runtime.backend == "torch" and model._onnx is None  # auto keeps CLIP on torch
    folder = clip_text.find(model.model_id)
    assert folder is not None and folder.is_relative_to(cache)

    registry = ModelRegistry(RuntimeChoice())
    spec = default_spec(clip_model=TINY_CLIP, clip_pretrained="none")
    query = registry.clip_texts(spec)
    assert isinstance(query, clip_text.ClipTextQuery)
    a, b = model.embed_batch(TEXTS), query.embed_batch(TEXTS)
    assert a.shape == b.shape and ((a * b).sum(axis=1) > 0.9999).all()
    # the graph cut to each batch's length, its token table beside it: the same vectors
    assert query._table is not None and (folder / "query-fp32.onnx").is_file()
    alone = np.stack([query.embed_batch([t])[0] for t in TEXTS])
    assert ((alone * a).sum(axis=1) > 0.9999).all()
    assert query.dim == model.dim and query.max_tokens == model.max_tokens
    for text in TEXTS:
        assert query.token_spans(text) == model.token_spans(text)

    assert registry.runtimes(spec)["clip"] == "torch-fp32 (cpu), text queries onnx-fp32 (cpu)"

    # a text query loads it in the background while the store opens
    fresh = ModelRegistry(RuntimeChoice())
    thread = fresh.warm_text(spec, text=False, clip=True)
    assert thread is not None
    thread.join(120)
    warmed = fresh.clip_texts(spec)
    assert isinstance(warmed, clip_text.ClipTextQuery) and warmed._session is not None

    # only auto on a CPU takes it; an explicit runtime gets the whole model
    torch_registry = ModelRegistry(RuntimeChoice(backend="torch", device="cpu"))
    assert isinstance(torch_registry.clip_texts(spec), OpenClipEmbedder)


def test_a_model_the_port_cannot_tokenise_is_tried_once(cache: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[int] = []
    monkeypatch.setattr(clip_text, "tokenizer_kind",
                        lambda *a: checked.append(1))  # another tokenizer: None
    for _ in range(2):
        model = OpenClipEmbedder(TINY_CLIP, "none", runtime=RuntimeChoice())
    assert clip_text.find(model.model_id) is None and checked == [1]
    registry = ModelRegistry(RuntimeChoice())
    spec = default_spec(clip_model=TINY_CLIP, clip_pretrained="none")
    assert isinstance(registry.clip_texts(spec), OpenClipEmbedder)  # queries stay on torch


def test_changed_weights_are_not_served_by_an_old_export(cache: Path, tmp_path: Path) -> None:
    import torch

    weights = tmp_path / "tiny.pt"
    first = OpenClipEmbedder(TINY_CLIP, "none", runtime=RuntimeChoice(backend="torch"))
    torch.save(first._model.state_dict(), weights)
    built = OpenClipEmbedder(TINY_CLIP, str(weights), runtime=RuntimeChoice())
    assert clip_text.find(built.model_id) is not None
    with torch.no_grad():
        for p in first._model.parameters():
            p.add_(0.1)
    torch.save(first._model.state_dict(), weights)  # new weights, same path
    assert clip_text.find(built.model_id) is None  # the query takes the torch path again
    again = OpenClipEmbedder(TINY_CLIP, str(weights), runtime=RuntimeChoice())
    folder = clip_text.find(again.model_id)
    assert folder is not None  # exported again from the new weights
    query = clip_text.ClipTextQuery(again.model_id, folder, again.runtime)
    a, b = again.embed_batch(TEXTS[:2]), query.embed_batch(TEXTS[:2])
    assert ((a * b).sum(axis=1) > 0.9999).all()

    # a tag that now resolves to another file (a new snapshot) while the old one stays
    other = tmp_path / "other.pt"
    torch.save(first._model.state_dict(), other)
    clip_text.ensure(again.model_id, str(other), again._model, again._tokenizer, 77, 32)
    assert clip_text.find(again.model_id) == export_folder(again.model_id, str(other))


def test_a_changed_model_config_is_exported_again(tmp_path: Path) -> None:
    config = tmp_path / "tiny.json"
    config.write_text(Path(TINY_CLIP).read_text())
    before = export_folder(f"{config}:none", "none")
    spec = json.loads(config.read_text())
    spec["embed_dim"], spec["note"] = 64, "another model"  # another size, whatever the clock
    config.write_text(json.dumps(spec))
    assert export_folder(f"{config}:none", "none") != before


@pytest.mark.slow  # a subprocess, to see what a fresh process imports
def test_a_text_query_over_images_imports_no_torch(cache: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    for i in range(6):
        make_image(src / f"p{i}.png", i)
    write(src / "note.txt", "a note about the sea at night")
    home = tmp_path / "home"
    with Library(home, models=ModelRegistry()) as lib:  # its own: CLIP is built (exported) here
        lib.collection("c", clip_model=TINY_CLIP, clip_pretrained="none").ingest([src])
        expected = [(h.id, round(h.score, 3)) for h in lib.collection("c").search(
            "the sea at night", type="image", k=4)]
    code = (
        "import json, sys\n"
        "from semsearch.client.library import Library\n"
        "with Library(sys.argv[1]) as lib:\n"
        "    hits = lib.collection('c').search('the sea at night', type='image', k=4)\n"
        "print(json.dumps({'hits': [[h.id, round(h.score, 3)] for h in hits],\n"
        "                  'torch': 'torch' in sys.modules}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(home)], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["torch"] is False
    assert [tuple(h) for h in got["hits"]] == expected

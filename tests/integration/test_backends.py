"""Model runtimes: torch (the reference), ONNX Runtime and OpenVINO, fp32 and int8.

The ONNX files are exported once from the packaged MiniLM and the tiny CLIP config into the
cache (``~/.cache/semsearch/onnx``, or ``$SEMSEARCH_CACHE``) and reused by later runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import SHORT_TEXTS, TINY_CLIP, long_markdown, picture, write
from typer.testing import CliRunner

from semsearch.cli import app
from semsearch.client.library import Library
from semsearch.errors import ModelUnavailable
from semsearch.models import open_clip as clip_module
from semsearch.models import sentence_transformers as st_module
from semsearch.models.inference import model_file, read_meta
from semsearch.models.open_clip import OpenClipEmbedder
from semsearch.models.registry import ModelRegistry, default_spec
from semsearch.models.runtime import RuntimeChoice
from semsearch.models.sentence_transformers import SentenceTransformerEmbedder

TEXTS = [*SHORT_TEXTS.values(), "a", "how do I fix a flat tyre?", long_markdown(4),
         "Ünïcödé — naïve café, 東京 ✓", "x" * 300]

_built: dict[tuple[str, str], SentenceTransformerEmbedder] = {}


def text_model(backend: str, precision: str = "auto") -> SentenceTransformerEmbedder:
    key = (backend, precision)
    if key not in _built:
        _built[key] = SentenceTransformerEmbedder(
            runtime=RuntimeChoice(backend=backend, precision=precision, device="cpu"))
    return _built[key]


def test_auto_on_the_cpu_is_onnx_int8_for_minilm() -> None:
    model = text_model("auto")  # its int8 agreement was measured: cosine 0.99, SciFact nDCG
    assert (model.runtime.backend, model.runtime.precision) == ("onnx", "int8")
    assert model.dim == text_model("torch").dim == 384
    assert model.max_tokens == text_model("torch").max_tokens


@pytest.mark.parametrize(("backend", "precision", "mean", "worst"), [
    ("onnx", "fp32", 0.99999, 0.9999),
    ("onnx", "int8", 0.99, 0.96),
    ("openvino", "fp32", 0.99999, 0.9999),
    ("openvino", "int8", 0.99, 0.96),
])
def test_runtimes_agree_with_torch(backend: str, precision: str, mean: float,
                                   worst: float) -> None:
    ref = text_model("torch").embed_batch(TEXTS)
    got = text_model(backend, precision).embed_batch(TEXTS)
    assert got.shape == ref.shape and got.dtype == np.float32
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-4)
    cos = (got * ref).sum(axis=1)
    assert cos.mean() >= mean and cos.min() >= worst, cos


def test_batches_are_independent_of_order_and_padding() -> None:
    model = text_model("onnx", "fp32")
    together = model.embed_batch(TEXTS)
    alone = np.stack([model.embed_batch([t])[0] for t in TEXTS])
    assert np.allclose(together, alone, atol=1e-5)


def test_token_spans_match_the_torch_tokenizer() -> None:
    for text in TEXTS:
        assert text_model("onnx", "int8").token_spans(text) == \
            text_model("torch").token_spans(text)


def test_the_export_is_cached_and_a_second_load_needs_no_torch(monkeypatch) -> None:
    model = text_model("onnx", "int8")
    assert model._onnx is not None
    folder = model._onnx.folder
    meta = read_meta(folder)
    assert meta is not None and meta["dim"] == 384 and meta["pooling"] == "mean"
    graph = model_file(folder, "text", "int8")
    weights = graph.with_name(graph.name + ".data")  # read in place, not parsed from protobuf
    assert graph.is_file() and weights.stat().st_size > 10 * graph.stat().st_size

    def no_torch(*args: object, **kwargs: object) -> None:
        raise AssertionError("the torch model was loaded although the export is cached")

    monkeypatch.setattr(st_module, "load_sentence_transformer", no_torch)
    again = SentenceTransformerEmbedder(
        runtime=RuntimeChoice(backend="onnx", precision="int8", device="cpu"))
    assert np.allclose(again.embed_batch(TEXTS[:3]), model.embed_batch(TEXTS[:3]), atol=1e-6)


def test_a_damaged_export_is_one_clear_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SEMSEARCH_CACHE", str(tmp_path / "cache"))
    good = text_model("onnx", "fp32")._onnx
    assert good is not None
    bad = tmp_path / "cache" / "onnx" / good.folder.name
    bad.mkdir(parents=True)
    for f in good.folder.iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    model_file(bad, "text", "fp32").write_bytes(b"not a model")
    broken = SentenceTransformerEmbedder(
        runtime=RuntimeChoice(backend="onnx", precision="fp32", device="cpu"))
    with pytest.raises(ModelUnavailable, match="delete that folder to export it again"):
        broken.embed_batch(["hello"])


def test_tiny_clip_towers_on_onnx_match_torch() -> None:
    torch_model = OpenClipEmbedder(TINY_CLIP, "none", runtime=RuntimeChoice(backend="torch"))
    onnx_model = OpenClipEmbedder(TINY_CLIP, "none",
                                  runtime=RuntimeChoice(backend="onnx", precision="fp32"))
    images = [picture(i, (40 + 7 * i, 30)) for i in range(5)]
    a = torch_model.embed_prepared([torch_model.prepare_image(im) for im in images])
    b = onnx_model.embed_prepared([onnx_model.prepare_image(im) for im in images])
    assert ((a * b).sum(axis=1) > 0.9999).all()
    texts = ["a red apple", "the sea at night", ""]
    a, b = torch_model.embed_batch(texts), onnx_model.embed_batch(texts)
    assert ((a * b).sum(axis=1) > 0.9999).all()
    assert onnx_model.dim == torch_model.dim and onnx_model._model is None


def test_the_default_clip_weights_table_matches_open_clip() -> None:
    import open_clip

    for (arch, tag), repo in clip_module.KNOWN_HF.items():
        assert open_clip.get_pretrained_cfg(arch, tag)["hf_hub"].rstrip("/") == repo


def test_missing_default_clip_weights_are_found_without_importing_open_clip(monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", "/nonexistent")
    monkeypatch.setattr(clip_module, "_import_open_clip", lambda: pytest.fail("imported"))
    with pytest.raises(ModelUnavailable, match="is not downloaded and the network"):
        OpenClipEmbedder()


def test_no_op_and_rename_ingests_load_only_what_they_need(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for name, text in SHORT_TEXTS.items():
        write(src / name, text)
    with Library(tmp_path / "home") as lib:  # default CLIP model, whose weights are missing
        assert lib.collection("c").ingest([src]).added == len(SHORT_TEXTS)
    registry = ModelRegistry(RuntimeChoice(backend="onnx", precision="int8"))
    with Library(tmp_path / "home", models=registry) as lib:
        summary = lib.collection("c").ingest([src])
        assert summary.unchanged == len(SHORT_TEXTS) and summary.items == 0
        assert registry._models == {}  # nothing was loaded, not even the text model
        (src / "dogs.txt").rename(src / "hounds.txt")
        summary = lib.collection("c").ingest([src])
        assert summary.moved == 1 and summary.items == 0
        text = next(iter(registry._models.values()))
        assert isinstance(text, SentenceTransformerEmbedder) and text._onnx is not None
        assert text._onnx._session is None  # the tokenizer planned it; nothing ran


def run_cli(*args: str, code: int = 0):
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    return result


def test_runtime_options_on_the_command_line(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    write(tmp_path / "src" / "a.txt", SHORT_TEXTS["dogs.txt"])
    run_cli("--home", home, "--backend", "torch", "ingest", str(tmp_path / "src"),
            "--clip-model", "none")
    bad = run_cli("--home", home, "--backend", "torch", "--precision", "int8",
                  "search", "dogs", code=1)
    assert bad.stderr == "error: --precision int8 needs --backend onnx or openvino\n"
    bad = run_cli("--home", home, "--backend", "tensorflow", "search", "dogs", code=1)
    assert bad.stderr == ("error: --backend must be one of auto, torch, onnx, openvino, "
                          "not 'tensorflow'\n")
    if not Path("/proc/driver/nvidia/version").exists():  # no GPU here: one clear line
        bad = run_cli("--home", home, "--device", "cuda", "search", "dogs", code=1)
        assert bad.stderr == ("error: --device cuda: no such device here; use --device auto "
                              "or cpu\n")
    info = json.loads(run_cli("--home", home, "--backend", "onnx", "--precision", "int8",
                              "info", "--json").stdout)
    assert info["runtimes"] == {"text": "onnx-int8 (cpu)"}
    assert "runtime:     text torch-fp32 (cpu)\n" in run_cli(
        "--home", home, "--backend", "torch", "info").stdout
    for backend in ("torch", "onnx", "openvino"):
        out = run_cli("--home", home, "--backend", backend, "search", "puppies at the sea",
                      "--json")
        hits = json.loads(out.stdout)
        assert hits[0]["path"].endswith("a.txt")


@pytest.mark.slow  # a subprocess, to see what a fresh process imports
def test_an_onnx_text_query_imports_no_torch(tmp_path: Path) -> None:
    write(tmp_path / "src" / "a.txt", SHORT_TEXTS["dogs.txt"])
    with Library(tmp_path / "home") as lib:
        lib.collection("c", clip_model="none").ingest([tmp_path / "src"])
    code = (
        "import json, sys\n"
        "from semsearch.cli.main import main\n"
        "import atexit\n"
        "atexit.register(lambda: print(json.dumps(sorted({m.split('.')[0] for m in "
        "sys.modules} & {'torch', 'transformers', 'sentence_transformers', 'open_clip'})),"
        " file=sys.stderr))\n"
        "sys.argv = ['semsearch', '--home', sys.argv[1], 'search', 'dogs', '-c', 'c']\n"
        "main()\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "home")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "a.txt" in out.stdout
    assert json.loads(out.stderr.strip().splitlines()[-1]) == []


def test_a_text_query_loads_its_exported_model_while_the_store_opens(tmp_path: Path) -> None:
    text_model("onnx", "fp32")  # the export exists
    spec = default_spec(clip_model="none")
    torch_registry = ModelRegistry(RuntimeChoice(backend="torch", device="cpu"))
    assert torch_registry.warm_text(spec) is None  # torch is never loaded in the background
    assert not torch_registry.loaded(spec.text_backend, spec.text_model)

    registry = ModelRegistry(RuntimeChoice(backend="onnx", precision="fp32", device="cpu"))
    thread = registry.warm_text(spec)
    assert thread is not None and not thread.daemon
    thread.join(120)
    assert registry.loaded(spec.text_backend, spec.text_model)
    model = registry.text(spec)
    assert isinstance(model, SentenceTransformerEmbedder) and model._onnx is not None
    assert model._onnx._session is not None  # made in the background
    assert np.array_equal(model.embed_batch(TEXTS[:3]),
                          text_model("onnx", "fp32").embed_batch(TEXTS[:3]))
    assert registry.warm_text(spec) is None  # loaded already: nothing more

    # through a query: a text search starts it before the store opens, a lexical one never
    write(tmp_path / "src" / "a.txt", SHORT_TEXTS["dogs.txt"])
    with Library(tmp_path / "home") as lib:
        lib.collection("c", clip_model="none").ingest([tmp_path / "src"])
    started: list[str] = []
    for mode in ("lexical", "hybrid"):
        fresh = ModelRegistry(RuntimeChoice(backend="onnx", precision="fp32", device="cpu"))
        original = fresh.warm_text
        fresh.warm_text = lambda s, *a, _m=mode, _o=original: (  # type: ignore[method-assign]
            started.append(_m), _o(s, *a))[1]
        with Library(tmp_path / "home", models=fresh) as lib:
            hits = lib.collection("c").search("dogs", mode=mode)
        assert [h.id for h in hits][:1] == [str(tmp_path / "src" / "a.txt")]
    assert started == ["hybrid"]


def test_int8_is_made_from_an_fp32_export_without_torch(tmp_path, monkeypatch) -> None:
    """A cache from before int8 became the default holds fp32 only: int8 is quantised from
    those files at the first use, with no torch model loaded."""
    good = text_model("onnx", "fp32")._onnx
    assert good is not None
    reference = text_model("torch").embed_batch(TEXTS)
    monkeypatch.setenv("SEMSEARCH_CACHE", str(tmp_path / "cache"))
    old = tmp_path / "cache" / "onnx" / good.folder.name
    old.mkdir(parents=True)
    for f in good.folder.iterdir():
        if "int8" not in f.name:
            (old / f.name).write_bytes(f.read_bytes())

    def no_torch(*args: object, **kwargs: object) -> None:
        raise AssertionError("torch was loaded to quantise an existing fp32 export")

    monkeypatch.setattr(st_module, "load_sentence_transformer", no_torch)
    model = SentenceTransformerEmbedder(runtime=RuntimeChoice(device="cpu"))
    assert model._onnx is not None and model._onnx.folder == old
    assert model_file(old, "text", "int8").is_file()
    cos = (model.embed_batch(TEXTS) * reference).sum(axis=1)
    assert cos.mean() >= 0.99 and cos.min() >= 0.96, cos


def _fp32_only_cache(tmp_path: Path) -> Path:
    good = text_model("onnx", "fp32")._onnx
    assert good is not None
    old = tmp_path / "cache" / "onnx" / good.folder.name
    old.mkdir(parents=True)
    for f in good.folder.iterdir():
        if "int8" not in f.name:
            (old / f.name).write_bytes(f.read_bytes())
    return old


def test_processes_deriving_int8_at_once_all_succeed(tmp_path: Path) -> None:
    """Several first queries after an upgrade (the TUI and a script) quantise once: the
    others wait for the lock and find int8 made."""
    folder = _fp32_only_cache(tmp_path)
    code = ("from semsearch.models.sentence_transformers import SentenceTransformerEmbedder\n"
            "from semsearch.models.runtime import RuntimeChoice\n"
            "m = SentenceTransformerEmbedder(runtime=RuntimeChoice(device='cpu'))\n"
            "print(m.runtime.label, m.embed_batch(['hello']).shape)\n")
    env = {**os.environ, "SEMSEARCH_CACHE": str(tmp_path / "cache")}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [e for _, e in outs]
    assert [o.strip() for o, _ in outs] == ["onnx-int8 (cpu) (1, 384)"] * 3
    assert model_file(folder, "text", "int8").is_file()
    assert sum("exporting" in e for _, e in outs) == 1  # one process made it
    assert not list(folder.parent.glob(".export-*")) and not folder.with_name(
        folder.name + ".old").exists()


def test_auto_int8_that_cannot_be_made_runs_fp32(tmp_path, monkeypatch, caplog) -> None:
    from semsearch.models import onnx_export

    _fp32_only_cache(tmp_path)
    monkeypatch.setenv("SEMSEARCH_CACHE", str(tmp_path / "cache"))

    def fails(src: Path, dst: Path) -> None:
        raise OSError("Read-only file system")

    monkeypatch.setattr(onnx_export, "quantize", fails)
    with caplog.at_level("INFO", logger="semsearch"):
        model = SentenceTransformerEmbedder(runtime=RuntimeChoice(device="cpu"))
    assert model.runtime.label == "onnx-fp32 (cpu)"
    assert "int8 is not available here" in caplog.text and "Read-only" in caplog.text
    assert np.allclose(model.embed_batch(TEXTS[:3]), text_model("onnx", "fp32").embed_batch(
        TEXTS[:3]), atol=1e-6)
    with pytest.raises(ModelUnavailable, match="Read-only file system"):  # asked for: an error
        SentenceTransformerEmbedder(
            runtime=RuntimeChoice(backend="onnx", precision="int8", device="cpu"))

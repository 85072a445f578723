"""A sentence-transformers model run from its ONNX export: tokenizers + ONNX Runtime (or
OpenVINO), no torch once the export exists. The graph holds the transformer, the pooling
and the L2 normalisation, so its output is the model's sentence embedding."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelUnavailable
from . import onnx_export
from .base import normalize
from .inference import Session, export_dir, fingerprint, model_file
from .runtime import Runtime

#: padded tokens and texts per run, by device. On the CPU small runs keep the activations in
#: cache: measured on MiniLM (2 cores), 1024 tokens ran short texts 17 % and 256-token chunks
#: 33 % faster than 8192 tokens (int8; fp32 9 % and 25 %); torch is flat across batch sizes
CPU_BUDGET = (1024, 32)
GPU_BUDGET = (16384, 256)


class ExportUnsupported(ModelUnavailable):
    """This model's architecture cannot be exported here (e.g. an unusual pooling)."""


def export_folder(model_id: str, source: Path | None) -> Path:
    """Where the export of ``model_id`` (weights in ``source``) is cached."""
    return export_dir("text", model_id, fingerprint(model_id, source))


class OnnxText:
    def __init__(self, model_id: str, source: Path | None, runtime: Runtime,
                 load_torch: Callable[[], Any]) -> None:
        self.runtime = runtime
        self.folder = export_folder(model_id, source)
        meta = onnx_export.exported(self.folder, ["text"], runtime.precision,
                        lambda: self._export(model_id, load_torch()))
        self.max_seq = int(meta["max_seq_length"])
        self.dim = int(meta["dim"])
        self.pad_id = int(meta["pad_id"])
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self._tok.no_padding()
        self._tok.enable_truncation(self.max_seq)
        self._spans = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self._spans.no_padding()
        self._spans.no_truncation()
        self._session: Session | None = None  # made on first use: chunking needs only
        # the tokenizer (a renamed file is read and planned, its vectors reused)
        self._session_lock = threading.Lock()

    def _export(self, model_id: str, st: Any) -> dict[str, Any]:
        pooling = onnx_export.pooling_of(st)
        tok = getattr(st, "tokenizer", None)
        if pooling is None or tok is None or not getattr(tok, "is_fast", False):
            raise ExportUnsupported(f"{model_id} cannot be exported to ONNX here (it needs "
                                    "mean or CLS pooling and a fast tokenizer)")
        get_dim = getattr(st, "get_embedding_dimension", None) or \
            st.get_sentence_embedding_dimension
        meta = {"model": model_id, "pooling": pooling, "dim": int(get_dim()),
                "max_seq_length": int(getattr(st, "max_seq_length", 256) or 256),
                "pad_id": int(tok.pad_token_id or 0)}

        def save_tokenizer_and_graph(path: Path) -> None:
            tok.backend_tokenizer.save(str(path.parent / "tokenizer.json"))
            onnx_export.text_graph(st, pooling)(path)

        onnx_export.build(self.folder, {"text": save_tokenizer_and_graph},
                          self.runtime.precision, meta, model_id)
        return meta

    def encode(self, texts: list[str]) -> np.ndarray:
        budget, max_rows = CPU_BUDGET if self.runtime.device == "cpu" else GPU_BUDGET
        encodings = self._tok.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        start = 0
        while start < len(order):
            width = len(encodings[order[start]].ids)
            end = start
            while end < len(order):  # grow while the padded batch stays within budget
                w = max(width, len(encodings[order[end]].ids))
                if ((end - start + 1) * w > budget or end - start >= max_rows) \
                        and end > start:
                    break
                width, end = w, end + 1
            batch = order[start:end]
            ids = np.full((len(batch), width), self.pad_id, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                e = encodings[i].ids
                ids[row, :len(e)] = e
                mask[row, :len(e)] = 1
            out[batch] = self.session({"input_ids": ids, "attention_mask": mask})
            start = end
        return normalize(out)  # exactly as torch rounds it: the store's cosine index
        # renormalises, and a vector read back must equal the one written

    @property
    def session(self) -> Session:
        with self._session_lock:  # a warm-up thread may be making it
            if self._session is None:
                self._session = Session(model_file(self.folder, "text",
                                                   self.runtime.precision), self.runtime)
            return self._session

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        enc = self._spans.encode(text, add_special_tokens=False)
        return [(int(a), int(b)) for a, b in enc.offsets]

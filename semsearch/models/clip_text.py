"""CLIP text queries without torch.

On a CPU, ``auto`` runs CLIP on torch (ONNX is not faster for its image tower). A text query
only needs the text tower, and importing torch and building the model costs seconds: so when
the torch model is built, its text tower is also exported to ONNX fp32 (once; the same
weights), and later text queries run that export with :class:`~.clip_tokens.ClipBpe`: no
torch, no open_clip. The export's vectors agree with torch's to a cosine of 0.9999+ (fp32;
int8 would not be mixed with torch's image vectors unmeasured).

The export lives where ``--backend onnx`` puts it (one folder per model and weights); a small
index (``clip-text-queries.json`` in the cache) maps the model to the weights it was made
from, so a query finds it without resolving weights through open_clip. Changed or missing
weights change the folder's fingerprint: the query then takes the torch path, which reports
them or exports again.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .base import Embedder, normalize
from .clip_onnx import export_folder
from .clip_tokens import ClipBpe, bpe_spans, vocab_file
from .inference import (
    Session,
    cache_root,
    is_exported,
    model_file,
    read_meta,
    write_meta,
)
from .onnx_export import TOKEN_TABLE
from .runtime import Runtime

PRECISION = "fp32"
QUERY = "query"
INDEX = "clip-text-queries.json"
#: what the export's meta says of a tokenizer ClipBpe reproduces
BPE = "clip-bpe"
#: texts the port must tokenise exactly as open_clip before it is trusted
PROBES = ["a photo of a cat", "Sunset over the SEA!", "naïve café &amp; 東京 — 42%",
          "don't you've it'll", "  spaces\tand\nlines  ", "", "x" * 300,
          " ".join(["word"] * 100)]


def tokenizer_kind(tokenizer: Any, context: int) -> str | None:
    """:data:`BPE` when ``tokenizer`` (open_clip's) gives the port's tokens, else None."""
    path = vocab_file()
    if path is None or type(tokenizer).__name__ != "SimpleTokenizer" or \
            getattr(tokenizer, "reduction_fn", None) is not None:
        return None
    try:
        ours = ClipBpe(path, context)(PROBES)
        theirs = np.asarray(tokenizer(PROBES, context_length=context).numpy())
    except Exception:  # an open_clip this port does not know
        return None
    return BPE if ours.shape == theirs.shape and bool((ours == theirs).all()) else None


def _index() -> dict[str, Any]:
    try:
        data = json.loads((cache_root() / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def remember(model_id: str, weights: str | None, folder: Path) -> None:
    """Record which weights ``folder`` was exported from (atomically; last writer wins)."""
    _remember(model_id, {"weights": weights, "folder": str(folder)})


def _remember(model_id: str, entry: dict[str, Any]) -> None:
    data = _index()
    if data.get(model_id) == entry:
        return
    data[model_id] = entry
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{INDEX}.{os.getpid()}.{threading.get_ident()}"
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, root / INDEX)


def find(model_id: str) -> Path | None:
    """The text-tower export for ``model_id`` when it exists, was made from the weights that
    are there now, and is tokenised by the port."""
    entry = _index().get(model_id)
    if not isinstance(entry, dict):
        return None
    folder = export_folder(model_id, entry.get("weights"))
    meta = read_meta(folder) if str(folder) == entry.get("folder") else None
    if meta is None or not model_file(folder, _part(meta), PRECISION).is_file():
        return None
    return folder if meta.get("tokenizer") == BPE and vocab_file() is not None else None


def _part(meta: dict[str, Any] | None) -> str:
    """The graph queries run: ``query`` (cut to each batch's length) where it was made."""
    return QUERY if (meta or {}).get("query") == QUERY else "text"


def ensure(model_id: str, weights: str | None, model: Any, tokenizer: Any, context: int,
           image_size: int) -> None:
    """Export the torch model's text tower for later queries, once (a notice says so), or
    again when the weights changed. A model whose tokenizer the port does not reproduce is
    remembered, not checked at every load; a failed export is tried again next time."""
    from . import onnx_export

    folder = export_folder(model_id, weights)
    query = onnx_export.clip_query_graph(model)
    if find(model_id) == folder and (query is None or _part(read_meta(folder)) == QUERY):
        return  # made from the weights just loaded (an older export: the cut graph is added)
    entry = _index().get(model_id)
    if isinstance(entry, dict) and entry.get("unserved") == folder.name:
        return
    kind = tokenizer_kind(tokenizer, context)
    if kind is None:  # another tokenizer: the same answer next time
        _remember(model_id, {"weights": weights, "unserved": folder.name})
        return
    _export(model_id, folder, model, kind, context, image_size, query)
    remember(model_id, weights, folder)


def _export(model_id: str, folder: Path, model: Any, kind: str, context: int,
            image_size: int, query: Callable[[Path], None] | None) -> None:
    from . import onnx_export

    meta = read_meta(folder)
    part = "text" if query is None else QUERY
    if meta is not None and is_exported(folder, (part,), PRECISION) and \
            (query is None or meta.get("query") == QUERY):
        if meta.get("tokenizer") != kind:
            write_meta(folder, {**meta, "tokenizer": kind})
        return
    import torch

    with torch.no_grad():
        probe = model.encode_text(torch.zeros(1, context, dtype=torch.long))
    meta = {**(meta or {}), "model": model_id, "dim": int(probe.shape[-1]),
            "context_length": context, "image_size": image_size, "tokenizer": kind}
    if query is not None:
        meta["query"] = QUERY
    graph = query or onnx_export.clip_graphs(model, image_size, context)["text"]
    onnx_export.build(folder, {part: graph}, PRECISION, meta,
                      f"CLIP {model_id} text tower, for text queries without torch,")


class ClipTextQuery(Embedder):
    """CLIP's text tower from its ONNX export: texts only (queries), no torch."""

    space = "clip"

    def __init__(self, model_id: str, folder: Path, runtime: Runtime) -> None:
        self.model_id = model_id
        self.folder = folder
        self.runtime = runtime
        meta = read_meta(folder) or {}
        self._part = _part(meta)
        self._dim = int(meta["dim"])
        self.context = int(meta["context_length"])
        self.max_tokens = max(8, self.context - 2)  # start and end tokens
        self._lock = threading.Lock()
        self._bpe: ClipBpe | None = None
        self._session: Session | None = None
        self._table: np.ndarray | None = None  # token embeddings, for the cut graph

    @property
    def dim(self) -> int:
        return self._dim

    def prepare(self) -> None:
        with self._lock:
            if self._session is None:
                path = vocab_file()
                assert path is not None  # checked by find()
                self._bpe = ClipBpe(path, self.context)
                if self._part == QUERY:
                    self._table = np.load(self.folder / TOKEN_TABLE, mmap_mode="r")
                self._session = Session(model_file(self.folder, self._part, PRECISION),
                                        self.runtime, few=True)

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self.prepare()
        assert self._bpe is not None and self._session is not None
        tokens = self._bpe(texts)
        if self._table is None:
            return normalize(self._session({"tokens": tokens}))
        # up to the last end token (the highest id, as open_clip pools): causal attention
        # makes what follows it irrelevant
        tokens = tokens[:, :int(tokens.argmax(axis=1).max()) + 1]
        embedded = np.ascontiguousarray(self._table[tokens], dtype=np.float32)
        return normalize(self._session({"embedded": embedded, "tokens": tokens}))

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        self.prepare()
        assert self._bpe is not None
        return bpe_spans(text, self._bpe.encode)

"""Both CLIP towers from their ONNX export, run by ONNX Runtime or OpenVINO.

open_clip still tokenises and preprocesses (its tokenizer module imports torch), but once the
export exists the model itself is never built: a second run loads two graphs, not the
weights. The image tower gets the same normalised float batch the torch model would.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from . import onnx_export
from .inference import Session, export_dir, fingerprint, model_file
from .runtime import Runtime

PARTS = ("image", "text")
#: images or texts per run on the CPU: measured on ViT-B-32 (2 cores), 16 images ran 9 % (fp32)
#: and 16 % (int8) faster than 64, texts about 5 %; a GPU takes the whole batch at once
CPU_ROWS = 16


class OnnxClip:
    def __init__(self, model_id: str, weights: str | None, runtime: Runtime,
                 build_torch: Callable[[], Any]) -> None:
        self.runtime = runtime
        self.folder = export_folder(model_id, weights)
        meta = onnx_export.exported(self.folder, PARTS, runtime.precision,
                        lambda: self._export(model_id, build_torch()))
        self.meta = meta
        self.dim = int(meta["dim"])
        self.context = int(meta["context_length"])
        self._image = Session(model_file(self.folder, "image", runtime.precision), runtime)
        self._text = Session(model_file(self.folder, "text", runtime.precision), runtime)

    def _export(self, model_id: str, model: Any) -> dict[str, Any]:
        cfg = dict(getattr(model.visual, "preprocess_cfg", {}) or {})
        size = image_size(model)
        context = int(getattr(model, "context_length", 77) or 77)
        import torch

        with torch.no_grad():
            probe = model.encode_text(torch.zeros(1, context, dtype=torch.long))
        meta = {"model": model_id, "dim": int(probe.shape[-1]), "context_length": context,
                "image_size": int(size),
                "preprocess": {k: list(v) if isinstance(v, tuple) else v
                               for k, v in cfg.items()}}
        onnx_export.build(self.folder, onnx_export.clip_graphs(model, int(size), context),
                          self.runtime.precision, meta, f"CLIP {model_id}")
        return meta

    def preprocess(self, open_clip: Any) -> Any:
        """open_clip's evaluation transform, rebuilt from the recorded config."""
        p = self.meta.get("preprocess") or {}
        size = self.meta["image_size"]
        return open_clip.image_transform(
            (size, size), is_train=False, mean=tuple(p["mean"]) if p.get("mean") else None,
            std=tuple(p["std"]) if p.get("std") else None, resize_mode=p.get("resize_mode"),
            interpolation=p.get("interpolation"), fill_color=p.get("fill_color", 0))

    def encode_text(self, tokens: np.ndarray) -> np.ndarray:
        return self._runs(self._text, "tokens", tokens.astype(np.int64))

    def encode_image(self, pixels: np.ndarray) -> np.ndarray:
        return self._runs(self._image, "pixels", pixels.astype(np.float32))

    def _runs(self, session: Session, name: str, batch: np.ndarray) -> np.ndarray:
        rows = CPU_ROWS if self.runtime.device == "cpu" else len(batch)
        if len(batch) <= rows:
            return session({name: batch})
        return np.concatenate([session({name: batch[i:i + rows]})
                               for i in range(0, len(batch), rows)])


def export_folder(model_id: str, weights: str | None) -> Path:
    """The export folder of a CLIP model (``MODEL:WEIGHTS``): named from the model and a
    fingerprint of its weights file and, for a model given as a config file, of that file."""
    head, sep, _ = model_id.partition(".json:")
    config = head + ".json" if sep and Path(head + ".json").is_file() else None
    return export_dir("clip", model_id, fingerprint(model_id, weights, config))


def image_size(model: Any) -> int:
    """The side of the square images an open_clip model takes."""
    cfg = dict(getattr(model.visual, "preprocess_cfg", {}) or {})
    size = cfg.get("size") or model.visual.image_size
    return int(size[0] if isinstance(size, (tuple, list)) else size)


def weights_fingerprint(pretrained: str | None, resolved: str | None) -> str | None:
    """What identifies the weights: the resolved file where there is one, else the tag."""
    if resolved and Path(resolved).is_file():
        return resolved
    return pretrained

"""Shared image/text space: open_clip models.

``--clip-model`` is an open_clip model name (``ViT-B-32``) or the path of an open_clip
model-config JSON file. ``--clip-pretrained`` is an open_clip pretrained tag (downloaded once
into the Hugging Face cache), a local weights file, or ``none`` (random weights, seeded: for
tests and plumbing only, the vectors mean nothing).
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, ModelUnavailable
from . import hub
from .base import Embedder, normalize
from .clip_onnx import OnnxClip, image_size, weights_fingerprint
from .clip_tokens import bpe_spans
from .runtime import RuntimeChoice, choose

DEFAULT_CLIP_MODEL = "ViT-B-32"
DEFAULT_CLIP_PRETRAINED = "laion2b_s34b_b79k"
RANDOM_WEIGHTS = "none"

#: the Hugging Face repository of pretrained tags, known without importing open_clip (the
#: tests check it against open_clip's own table)
KNOWN_HF = {(DEFAULT_CLIP_MODEL, DEFAULT_CLIP_PRETRAINED): "laion/CLIP-ViT-B-32-laion2B-s34B-b79K"}
WEIGHT_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")


def _import_open_clip() -> Any:
    try:
        import open_clip
    except ImportError as e:  # pragma: no cover - depends on the install
        raise ModelUnavailable(
            f"open_clip is not installed ({e}); install it with `pip install open-clip-torch`"
        ) from e
    return open_clip


def canonical_clip(model: str, pretrained: str | None) -> tuple[str, str]:
    """Names recorded with a collection: config files and weight files become absolute paths."""
    if model.endswith(".json") or Path(model).is_file():
        model = str(Path(model).expanduser().resolve())
    pre = pretrained or RANDOM_WEIGHTS
    if pre != RANDOM_WEIGHTS and (os.sep in pre or Path(pre).expanduser().is_file()):
        pre = str(Path(pre).expanduser().resolve())
    return model, pre


def _register_config(open_clip: Any, model: str) -> str:
    """A config-file path is registered with open_clip under its file stem."""
    path = Path(model)
    if not (model.endswith(".json") or path.is_file()):
        return model
    if not path.is_file():
        raise ConfigError(f"CLIP model config {model} does not exist")
    open_clip.add_model_config(path)
    return path.stem


def _cached_weights(cfg: dict[str, Any]) -> str | None:
    """The weights file for a pretrained tag if it is already on disk."""
    hf = cfg.get("hf_hub", "")
    if hf:
        from huggingface_hub import try_to_load_from_cache

        # 'org/name/' means the default file name; 'org/name/file.bin' names the file
        repo_id, filename = (hf.rstrip("/"), "") if hf.endswith("/") else os.path.split(hf)
        names = [filename] if filename else []
        names += ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"]
        for name in names:
            try:
                found = try_to_load_from_cache(repo_id=repo_id, filename=name)
            except Exception:
                found = None
            if isinstance(found, str) and Path(found).is_file():
                return found
    url = cfg.get("url", "")
    if url:
        candidate = Path.home() / ".cache" / "clip" / os.path.basename(url)
        if candidate.is_file():
            return str(candidate)
    return None


def known_weights_missing(model: str, pretrained: str) -> str | None:
    """Why the default weights cannot be had, found without importing open_clip: they are
    not in the Hugging Face cache and the hub is out of reach. None when they may be had,
    or for models not in :data:`KNOWN_HF` (open_clip then looks for itself)."""
    repo = KNOWN_HF.get((model, pretrained))
    if repo is None:
        return None
    snap = hub.cached_snapshot(repo)
    if snap is not None and any((snap / f).is_file() for f in WEIGHT_FILES):
        return None
    if hub.reachable():
        return None
    return (f"CLIP model {model} ({pretrained}) is not downloaded and the network is "
            "unreachable; run once with network access to cache it, or pass a local weights "
            "file with --clip-pretrained PATH")


class OpenClipEmbedder(Embedder):
    """Runs on torch, or both towers on their ONNX export (``--backend onnx|openvino``)."""

    space = "clip"
    batch_size = 32
    default_model = DEFAULT_CLIP_MODEL
    accepts_runtime = True

    @classmethod
    def canonical(cls, model: str, weights: str | None) -> tuple[str, str | None]:
        return canonical_clip(model, weights if weights is not None else DEFAULT_CLIP_PRETRAINED)

    def __init__(
        self, model: str = DEFAULT_CLIP_MODEL, pretrained: str | None = DEFAULT_CLIP_PRETRAINED,
        runtime: RuntimeChoice | None = None,
    ) -> None:
        self.model_name, self.pretrained = canonical_clip(model, pretrained)
        self.model_id = f"{self.model_name}:{self.pretrained}"
        missing = known_weights_missing(self.model_name, self.pretrained)
        if missing:  # found out without importing open_clip and torch (seconds)
            raise ModelUnavailable(missing)
        open_clip = _import_open_clip()
        import torch

        self._torch = torch
        arch = _register_config(open_clip, self.model_name)
        if arch not in open_clip.list_models():
            raise ConfigError(
                f"unknown CLIP model {model!r}; see open_clip.list_models() "
                "or pass the path of a model config JSON"
            )
        kwargs: dict[str, Any] = {}
        weights: str | None
        if self.pretrained == RANDOM_WEIGHTS:
            weights = None
        elif Path(self.pretrained).is_file():
            weights = self.pretrained
        elif os.sep in self.pretrained:
            raise ModelUnavailable(
                f"CLIP weights file {self.pretrained} does not exist; pass an existing "
                "file with --clip-pretrained PATH"
            )
        else:
            weights = self._resolve_tag(open_clip, arch, self.pretrained)
            cfg = open_clip.get_pretrained_cfg(arch, self.pretrained)
            for key, arg in (("mean", "image_mean"), ("std", "image_std")):
                if cfg.get(key):
                    kwargs[arg] = tuple(cfg[key])
            if cfg.get("quick_gelu"):
                kwargs["force_quick_gelu"] = True
        self.runtime = choose(runtime or RuntimeChoice.from_env(), self.model_id,
                              prefer_torch=True)
        self._model: Any = None
        self._onnx: OnnxClip | None = None

        def build() -> Any:
            if self._model is None:
                self._model, self._preprocess = _create(open_clip, torch, arch, weights,
                                                        self.pretrained, kwargs)
            return self._model

        if self.runtime.backend != "torch":
            self._onnx = OnnxClip(self.model_id, weights_fingerprint(self.pretrained, weights),
                                  self.runtime, build)
            self._model = None  # it only served the export
            self._preprocess = self._onnx.preprocess(open_clip)
            ctx, self._dim = self._onnx.context, self._onnx.dim
        else:
            model_obj = build().to(self.runtime.device)
            ctx = int(getattr(model_obj, "context_length", 77) or 77)
            if self.runtime.device != "cpu":
                self.batch_size = 128
        self._pil_steps, self._mean, self._std = _split_preprocess(self._preprocess, torch)
        self._tokenizer = open_clip.get_tokenizer(arch)
        self._bpe = getattr(self._tokenizer, "encode", None)
        self.max_tokens = max(8, ctx - 2)  # start and end tokens
        if self._onnx is None:
            with torch.no_grad():
                probe = self._model.encode_text(self._tokenizer(["a"]).to(self.runtime.device))
            self._dim = int(probe.shape[-1])
            if self.runtime.device == "cpu" and \
                    (runtime or RuntimeChoice.from_env()).backend == "auto":
                self._export_text_tower(weights, ctx)

    def _export_text_tower(self, weights: str | None, context: int) -> None:
        """Export the text tower once, so later text queries need no torch (:mod:`.clip_text`);
        a failure leaves queries on torch."""
        from . import clip_text

        fp = weights_fingerprint(self.pretrained, weights)
        if fp != RANDOM_WEIGHTS and not (fp and Path(fp).is_file()):
            return  # weights downloaded by this run: exported at the next load, from the file
        with contextlib.suppress(ModelUnavailable, OSError):
            clip_text.ensure(self.model_id, fp, self._model, self._tokenizer, context,
                             image_size(self._model))

    @staticmethod
    def _resolve_tag(open_clip: Any, arch: str, tag: str) -> str:
        cfg = open_clip.get_pretrained_cfg(arch, tag)
        if not cfg:
            tags = ", ".join(open_clip.list_pretrained_tags_by_model(arch)) or "none"
            raise ConfigError(
                f"CLIP model {arch} has no pretrained tag {tag!r} (known: {tags}); "
                "or pass a local weights file with --clip-pretrained PATH"
            )
        cached = _cached_weights(cfg)
        if cached:
            return cached
        probe_url = "" if cfg.get("hf_hub") else cfg.get("url", "")
        if not hub.reachable(probe_url):
            raise ModelUnavailable(
                f"CLIP model {arch} ({tag}) is not downloaded and the network is unreachable; "
                f"run once with network access to cache it, or pass a local weights file "
                f"with --clip-pretrained PATH"
            )
        return tag

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def supports_images(self) -> bool:
        return True

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        with self._torch.no_grad():
            for i in range(0, len(texts), self.batch_size):
                tokens = self._tokenizer(texts[i : i + self.batch_size])
                if self._onnx is not None:
                    out.append(self._onnx.encode_text(tokens.numpy()))
                else:
                    vec = self._model.encode_text(tokens.to(self.runtime.device))
                    out.append(vec.float().cpu().numpy())
        return normalize(np.concatenate(out))

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return bpe_spans(text, self._bpe)

    def prepare_image(self, image: Any) -> Any:
        """The PIL steps only, as a uint8 HWC array; ToTensor and Normalize run per batch."""
        if self._pil_steps is not None:
            img = self._pil_steps(image)
            if getattr(img, "mode", None) == "RGB":
                return np.asarray(img, dtype=np.uint8)
        return self._preprocess(image)

    def _to_float(self, images: np.ndarray) -> Any:
        """uint8 (N, H, W, C) to normalised float (N, C, H, W): ToTensor then Normalize."""
        torch = self._torch
        if self._onnx is not None:
            mean, std = self._mean.numpy(), self._std.numpy()
            x = images.transpose(0, 3, 1, 2).astype(np.float32) / 255
            return torch.from_numpy(((x - mean) / std).astype(np.float32))
        x = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
        return x.to(dtype=torch.get_default_dtype()).div(255).sub_(self._mean).div_(self._std)

    def embed_prepared(self, prepared: list[Any]) -> np.ndarray:
        if not prepared:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._torch.no_grad():
            if all(isinstance(p, np.ndarray) for p in prepared):
                batch = self._to_float(np.stack(prepared))
            else:
                batch = self._torch.stack([
                    self._to_float(np.stack([p]))[0] if isinstance(p, np.ndarray) else p
                    for p in prepared
                ])
            if self._onnx is not None:
                return normalize(self._onnx.encode_image(batch.numpy()))
            batch = batch.to(self.runtime.device)
            return normalize(self._model.encode_image(batch).float().cpu().numpy())


def _split_preprocess(preprocess: Any, torch: Any) -> tuple[Any, Any, Any]:
    """open_clip's ``Compose([...PIL steps, ToTensor, Normalize])`` as (PIL steps, mean, std).

    Reader threads then run only the PIL steps, and the float conversion runs once per batch:
    each small torch op in a reader thread starts an OpenMP team that competes with the
    model's threads, which on a 2-core machine cost 10-30 ms an image. (None, None, None) when
    the transform has another shape: prepare_image then runs it whole.
    """
    from torchvision.transforms import Compose, Normalize, ToTensor

    steps = list(getattr(preprocess, "transforms", []))
    if not (isinstance(preprocess, Compose) and len(steps) >= 2
            and type(steps[-2]).__call__ in (ToTensor.__call__, _maybe_to_tensor_call())
            and isinstance(steps[-2], ToTensor) and isinstance(steps[-1], Normalize)):
        return None, None, None
    dtype = torch.get_default_dtype()
    mean = torch.as_tensor(steps[-1].mean, dtype=dtype).view(1, -1, 1, 1)
    std = torch.as_tensor(steps[-1].std, dtype=dtype).view(1, -1, 1, 1)
    return Compose(steps[:-2]), mean, std


def _maybe_to_tensor_call() -> Any:
    try:
        from open_clip.transform import MaybeToTensor
    except ImportError:  # pragma: no cover - older open_clip
        return None
    return MaybeToTensor.__call__


def _create(open_clip: Any, torch: Any, arch: str, weights: str | None, tag: str,
            kwargs: dict[str, Any]) -> tuple[Any, Any]:
    """The torch model in eval mode and its preprocessing (random weights are seeded)."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.CRITICAL)  # open_clip logs download errors on the root logger
    try:
        if weights is None:
            with torch.random.fork_rng():
                torch.manual_seed(0)
                model_obj, _, preprocess = open_clip.create_model_and_transforms(
                    arch, pretrained=None, **kwargs)
        else:
            model_obj, _, preprocess = open_clip.create_model_and_transforms(
                arch, pretrained=weights, **kwargs)
    except (RuntimeError, FileNotFoundError, OSError, ValueError, KeyError) as e:
        raise ModelUnavailable(
            f"CLIP model {arch} ({tag}) could not be loaded: {str(e).splitlines()[0][:200]}"
        ) from e
    finally:
        root.setLevel(level)
    model_obj.eval()
    return model_obj, preprocess

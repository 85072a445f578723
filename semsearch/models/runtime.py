"""How a model runs: the inference backend (torch, ONNX Runtime, OpenVINO), its precision
(fp32, int8) and the device (CUDA, Apple MPS, CPU).

The runtime is a setting of the process, not of a collection: every runtime computes the
same model from the same weights, and the README's table gives their measured agreement with
fp32 torch (mean cosine and SciFact nDCG@10). ``auto`` picks, in order:

- device: CUDA, then MPS, then CPU. Looking for a GPU imports torch only where a GPU driver is
  present, so a CPU-only machine never pays for it;
- backend: torch on a GPU; on the CPU, ONNX Runtime when it is installed (the same fp32
  vectors as torch, within 1e-6, and no torch import on a query);
- precision: int8 on ONNX Runtime on the CPU for a model whose int8 agreement with torch
  was measured (MiniLM: in one run of ``scripts/bench_models.py`` on this project's 2-core
  CPU, 2.68x torch on short texts and 1.94x on 256-token chunks, mean cosine 0.993, SciFact
  nDCG@10 within 0.0003 of fp32); fp32 everywhere else. CLIP stays fp32: its int8 image
  tower is 2.4x torch, but its agreement cannot be measured without real weights.

Set with ``--backend``, ``--precision``, ``--device`` (CLI), the ``SEMSEARCH_BACKEND``,
``SEMSEARCH_PRECISION``, ``SEMSEARCH_DEVICE`` environment variables, or the config file.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

BACKENDS = ("auto", "torch", "onnx", "openvino")
PRECISIONS = ("auto", "fp32", "int8")
DEVICES = ("auto", "cpu", "cuda", "mps")

ENV = {"backend": "SEMSEARCH_BACKEND", "precision": "SEMSEARCH_PRECISION",
       "device": "SEMSEARCH_DEVICE"}


@dataclass(frozen=True)
class RuntimeChoice:
    """What was asked for (each may be ``auto``)."""

    backend: str = "auto"
    precision: str = "auto"
    device: str = "auto"

    def __post_init__(self) -> None:
        for value, allowed, flag in ((self.backend, BACKENDS, "--backend"),
                                     (self.precision, PRECISIONS, "--precision"),
                                     (self.device, DEVICES, "--device")):
            if value not in allowed:
                raise ConfigError(f"{flag} must be one of {', '.join(allowed)}, not {value!r}")

    @classmethod
    def from_env(cls) -> RuntimeChoice:
        return cls(**{k: os.environ.get(v, "auto").strip().lower() or "auto"
                      for k, v in ENV.items()})


@dataclass(frozen=True)
class Runtime:
    """What a model actually runs on."""

    backend: str
    precision: str
    device: str

    @property
    def label(self) -> str:
        """e.g. ``onnx-int8 (cpu)``."""
        return f"{self.backend}-{self.precision} ({self.device})"


def _gpu_driver_present() -> bool:
    if sys.platform == "darwin":
        return platform.machine() == "arm64"
    return Path("/proc/driver/nvidia/version").exists() or Path("/dev/nvidia0").exists()


def detect_device() -> str:
    """CUDA, then MPS, then CPU."""
    return next((d for d in ("cuda", "mps") if _available(d)), "cpu")


def _available(device: str) -> bool:
    if not _gpu_driver_present():
        return False
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    if device == "cuda":
        return bool(torch.cuda.is_available())
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def choose(choice: RuntimeChoice, model_id: str, *, onnx_capable: bool = True,
           prefer_torch: bool = False, int8_measured: bool = False) -> Runtime:
    """The runtime for one model. ``onnx_capable`` False (a model this project cannot export)
    makes ``auto`` fall back to torch and an explicit ONNX/OpenVINO request an error;
    ``prefer_torch`` makes an ``auto`` backend keep torch (where ONNX was not measured to
    win) unless int8 is asked for; ``int8_measured`` (the model's int8 agreement with torch
    was measured) makes an ``auto`` precision int8 on ONNX Runtime on the CPU."""
    device = detect_device() if choice.device == "auto" else choice.device
    if choice.device in ("cuda", "mps") and not _available(choice.device):
        raise ConfigError(f"--device {choice.device}: no such device here; use --device auto "
                          "or cpu")
    backend = choice.backend
    if backend == "auto":
        keep_torch = prefer_torch and choice.precision != "int8"
        backend = "onnx" if (device == "cpu" and onnx_capable and not keep_torch
                             and installed("onnxruntime")) else "torch"
    if backend != "torch" and not onnx_capable:
        raise ConfigError(f"{model_id} cannot run on {backend} (export is supported for "
                          "sentence-transformers models with mean or CLS pooling and open_clip "
                          "models); use --backend torch")
    if backend == "openvino" and device not in ("cpu", "auto"):
        raise ConfigError("--backend openvino runs on the CPU here; use --device cpu")
    precision = choice.precision
    if precision == "auto":
        precision = "int8" if (int8_measured and backend == "onnx" and device == "cpu") \
            else "fp32"
    if precision == "int8" and backend == "torch":
        raise ConfigError("--precision int8 needs --backend onnx or openvino")
    if backend == "onnx" and not installed("onnxruntime"):
        raise ConfigError("--backend onnx needs onnxruntime: pip install onnxruntime")
    if backend == "openvino" and not installed("openvino"):
        raise ConfigError("--backend openvino needs OpenVINO: pip install 'semsearch[openvino]'")
    return Runtime(backend, precision, device)

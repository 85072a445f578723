"""An exported model file run by ONNX Runtime or OpenVINO: no torch in this module.

Each model is exported once from the user's own weights (see :mod:`.onnx_export`) into a
folder under the cache (``$SEMSEARCH_CACHE``, else ``~/.cache/semsearch``), named from the
model and a fingerprint of its weight files, so changed weights are exported again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelUnavailable
from .runtime import Runtime

#: bump when the exported graphs change: older exports are then made again
EXPORT_VERSION = 3


def cache_root() -> Path:
    base = os.environ.get("SEMSEARCH_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache"), "semsearch")
    return Path(base).expanduser() / "onnx"


def fingerprint(*sources: str | Path | None) -> str:
    """A short hash of names and, for files and folders, the size and mtime of what they hold
    (the folders' top-level files: weights, configs, tokenizers)."""
    h = hashlib.sha1(f"v{EXPORT_VERSION}".encode())
    for src in sources:
        if src is None:
            continue
        h.update(str(src).encode())
        p = Path(src)
        files = sorted(p.iterdir()) if p.is_dir() else [p] if p.is_file() else []
        for f in files:
            if f.is_file():
                st = f.stat()
                h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:12]


def export_dir(kind: str, name: str, fp: str) -> Path:
    slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)[-60:].strip("-")
    return cache_root() / f"{kind}-{slug}-{fp}"


def model_file(folder: Path, part: str, precision: str) -> Path:
    return folder / f"{part}-{precision}.onnx"


def is_exported(folder: Path, parts: Sequence[str], precision: str) -> bool:
    """Whether ``folder`` holds its facts and every part at ``precision``."""
    return read_meta(folder) is not None and all(
        model_file(folder, p, precision).is_file() for p in parts)


def read_meta(folder: Path) -> dict[str, Any] | None:
    try:
        meta: dict[str, Any] = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta


def write_meta(folder: Path, meta: dict[str, Any]) -> None:
    tmp = folder / "meta.json.tmp"
    tmp.write_text(json.dumps(meta, indent=1), encoding="utf-8")
    os.replace(tmp, folder / "meta.json")


def threads() -> int:
    """One thread a core the OS reports, or ``SEMSEARCH_THREADS``."""
    n = os.cpu_count() or 1
    return max(1, int(os.environ.get("SEMSEARCH_THREADS", 0) or n))


class Session:
    """One exported graph: ``run(feeds) -> first output`` as float32."""

    def __init__(self, path: Path, runtime: Runtime, few: bool = False) -> None:
        """``few``: it will run a few small batches (queries): ONNX Runtime then skips
        repacking the weights for speed (the session loads in about 60 % of the time, and
        each run is slower by milliseconds)."""
        self.path, self.runtime = path, runtime
        if runtime.backend == "openvino":
            self._run = self._openvino(path, runtime.precision)
        else:
            self._run = self._onnxruntime(path, runtime.device, few)

    @staticmethod
    def _onnxruntime(path: Path, device: str, few: bool) -> Any:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        if few:
            opts.add_session_config_entry("session.disable_prepacking", "1")
        opts.intra_op_num_threads = threads()
        opts.inter_op_num_threads = 1
        # threads spin briefly between operators (ONNX Runtime's default; SEMSEARCH_ORT_SPIN=0
        # makes them sleep, for machines shared with other work)
        opts.add_session_config_entry("session.intra_op.allow_spinning",
                                      os.environ.get("SEMSEARCH_ORT_SPIN", "1"))
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        providers = ["CPUExecutionProvider"]
        if device == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise ModelUnavailable("ONNX Runtime here has no CUDA support (install "
                                       "onnxruntime-gpu), or use --backend torch on the GPU")
            providers.insert(0, "CUDAExecutionProvider")
        try:
            sess = ort.InferenceSession(str(path), opts, providers=providers)
        except Exception as e:  # a damaged or partial export
            raise ModelUnavailable(f"cannot load {path}: {str(e).splitlines()[0][:200]}; "
                                   "delete that folder to export it again") from e
        output = sess.get_outputs()[0].name

        def run(feeds: dict[str, np.ndarray]) -> np.ndarray:
            return np.asarray(sess.run([output], feeds)[0], dtype=np.float32)
        return run

    @staticmethod
    def _openvino(path: Path, precision: str) -> Any:
        import openvino as ov

        core = ov.Core()
        try:
            config: dict[str, Any] = {"INFERENCE_NUM_THREADS": threads(),
                                      "PERFORMANCE_HINT": "LATENCY"}
            if precision == "fp32":  # else OpenVINO runs bf16 where the CPU has it
                config["INFERENCE_PRECISION_HINT"] = "f32"
            compiled = core.compile_model(str(path), "CPU", config)
        except Exception as e:
            raise ModelUnavailable(f"OpenVINO cannot load {path}: "
                                   f"{str(e).splitlines()[0][:200]}") from e
        request = compiled.create_infer_request()

        def run(feeds: dict[str, np.ndarray]) -> np.ndarray:
            result = request.infer(feeds)
            return np.asarray(next(iter(result.values())), dtype=np.float32)
        return run

    def __call__(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        return self._run(feeds)  # type: ignore[no-any-return]

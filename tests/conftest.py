"""Shared set-up: offline models, one model cache for the whole session, a fresh home per test.

Everything is real: Chroma in a temporary folder, the packaged MiniLM text model and a tiny
open_clip model with seeded random weights (``tests/data/tiny-clip.json``, pretrained "none").
Models are loaded once per session: every :class:`semsearch.Library` of a process shares the
process's model registry (:func:`semsearch.models.registry.shared_registry`).
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
# one torch thread: small batches, and on a shared 2-core machine two spinning OpenMP threads
# make each forward pass many times slower
os.environ.setdefault("OMP_NUM_THREADS", "1")

from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from semsearch.client.library import Library  # noqa: E402


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Never touch the user's data dir or a Chroma server."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("SEMSEARCH_HOME", str(tmp_path / "default-home"))
    monkeypatch.delenv("SEMSEARCH_CHROMA_URL", raising=False)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def lib(home: Path) -> Iterator[Library]:
    library = Library(home)
    yield library
    library.close()


@pytest.fixture
def reference_lib(home: Path) -> Iterator[Library]:
    """A library whose models run on torch fp32, the reference, for checks against vectors
    computed again elsewhere (brute-force rankings). ONNX fp32 agrees with it to 1e-6; the
    default CPU runtime for MiniLM, ONNX int8, scales activations per batch, so its vectors
    move by about 1e-2 with their batch (test_backends.py checks every runtime)."""
    from helpers import REFERENCE

    library = Library(home, models=REFERENCE)
    yield library
    library.close()

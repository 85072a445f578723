"""The embedder contract: one abstract ``embed_batch`` for text; image models add two more."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

_WORD = re.compile(r"\S+")


class Embedder(ABC):
    """Turns text (and, for multimodal models, images) into L2-normalised float32 vectors."""

    #: which space the vectors live in: "text" or "clip"
    space: str = "text"
    #: recorded with a collection, compared when it is reopened
    model_id: str = ""
    #: the most tokens one input may hold before the model truncates it
    max_tokens: int = 256
    batch_size: int = 64
    #: the model a collection gets when none is named
    default_model: str = ""
    #: True when the constructor takes ``runtime=`` (a :class:`.runtime.RuntimeChoice`)
    accepts_runtime: bool = False

    @classmethod
    def canonical(cls, model: str, weights: str | None) -> tuple[str, str | None]:
        """The names recorded with a collection (e.g. full hub ids, absolute paths)."""
        return model, weights

    @property
    @abstractmethod
    def dim(self) -> int: ...

    @abstractmethod
    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Embed texts; rows are unit vectors."""

    def prepare(self) -> None:
        """Load what the first :meth:`embed_batch` needs, ahead of it (the registry may call
        this from another thread while the process does other work; by default nothing)."""
        return None

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character span of each token, used to chunk at the model's limit.

        The default counts whitespace-separated words as one token each.
        """
        return [m.span() for m in _WORD.finditer(text)]

    @property
    def supports_images(self) -> bool:
        return False

    def prepare_image(self, image: Any) -> Any:
        """CPU-side preprocessing of one PIL image (runs in a worker thread)."""
        raise NotImplementedError

    def embed_prepared(self, prepared: list[Any]) -> np.ndarray:
        """Embed images returned by :meth:`prepare_image`."""
        raise NotImplementedError


def normalize(vectors: np.ndarray) -> np.ndarray:
    v = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return v / norms

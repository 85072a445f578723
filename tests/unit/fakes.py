"""A fake embedder for the fast tier, registered like the real ones (llm's ``EmbedDemo``).

Vectors are hashed bags of words: texts that share words are close, others are far. No model,
no torch: a planner test runs in milliseconds.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from semsearch.models import Embedder, normalize, register

DIM = 64
_WORD = re.compile(r"[a-z0-9]+")


class FakeEmbedder(Embedder):
    space = "text"
    max_tokens = 32
    default_model = "fake-words"

    def __init__(self, model: str = "fake-words") -> None:
        self.model_id = model
        self.calls = 0

    @property
    def dim(self) -> int:
        return DIM

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                h = int.from_bytes(hashlib.sha1(word.encode()).digest()[:4], "big")
                out[row, h % DIM] += 1.0
            if not out[row].any():
                out[row, 0] = 1.0
        return normalize(out)


def install() -> None:
    register("fake", FakeEmbedder)

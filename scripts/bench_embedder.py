"""The benchmarks' fast test embedder, in a module of its own: the fresh processes that
``bench_scale.py`` times import it and nothing else of the benchmark (its vocabulary takes
0.3-0.5 s to draw, which a user's process never pays)."""

from __future__ import annotations

import hashlib

import numpy as np

from semsearch.models import Embedder, normalize

DIM = 384


class HashEmbedder(Embedder):
    """Vectors hashed from the text: fast and deterministic (a benchmark stand-in)."""

    space = "text"
    max_tokens = 256
    default_model = "hash-384"

    def __init__(self, model: str = "hash-384") -> None:
        self.model_id = model

    @property
    def dim(self) -> int:
        return DIM

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for i, t in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "big")
            out[i] = np.random.default_rng(seed).standard_normal(DIM)
        return normalize(out)

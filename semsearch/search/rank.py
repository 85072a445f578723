"""Ranking: fusion of lists, the best-score rule, MMR, and paging. Pure functions of scores
and vectors; nothing here touches the store or a model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..storage.ids import item_id
from ..storage.vectors import Match
from .request import Leg

#: reciprocal-rank-fusion constant (Cormack et al. 2009)
RRF_K = 60


@dataclass
class Candidate:
    """One hit in the making: the stored row, the list it came from, the value the list is
    sorted by (``score``) and the parts that value was made of."""

    match: Match
    leg: Leg
    score: float
    parts: dict[str, Any] = field(default_factory=dict)

    @property
    def item(self) -> str:
        return item_id(self.match.chroma_id, self.match.metadata)


def mmr(scores: np.ndarray, vectors: np.ndarray, lam: float, n: int) -> list[int]:
    """Maximal marginal relevance: indices of ``n`` picks, in pick order.

    ``argmax lam * score - (1 - lam) * max cos(candidate, picked)``; ties go to the earlier
    candidate. ``vectors`` are unit rows.
    """
    m = len(scores)
    if m == 0 or n <= 0:
        return []
    rel = np.asarray(scores, dtype=np.float64)
    v = np.asarray(vectors, dtype=np.float64)
    closest = np.full(m, -np.inf)
    free = np.ones(m, dtype=bool)
    picked: list[int] = []
    for _ in range(min(n, m)):
        penalty = np.where(np.isfinite(closest), closest, 0.0) if picked else np.zeros(m)
        value = lam * rel - (1.0 - lam) * penalty
        value[~free] = -np.inf
        best = int(np.argmax(value))
        picked.append(best)
        free[best] = False
        closest = np.maximum(closest, v @ v[best])
    return picked


def best_score(pos: np.ndarray, neg: np.ndarray | None) -> np.ndarray:
    """Qdrant's best_score rule, per candidate: ``pos`` if ``pos > neg`` else ``-(neg**2)``."""
    if neg is None:
        return pos
    return np.where(pos > neg, pos, -(neg**2))


def rrf(
    lists: Sequence[Sequence[Match]], k: int = RRF_K, weights: Sequence[float] | None = None,
    per_item: bool = True,
) -> list[Match]:
    """Reciprocal-rank fusion: score(item) = sum over lists of w / (k + rank), rank from 1.

    Each returned match keeps its own cosine similarity; ties keep list order. ``per_item``
    False fuses chunks (Chroma ids) rather than items, for lists of every chunk.
    """
    scores: dict[str, float] = {}
    first: dict[str, Match] = {}
    order: dict[str, tuple[int, int]] = {}
    for li, matches in enumerate(lists):
        w = weights[li] if weights is not None else 1.0
        for rank, m in enumerate(matches, start=1):
            key = item_id(m.chroma_id, m.metadata) if per_item else m.chroma_id
            scores[key] = scores.get(key, 0.0) + w / (k + rank)
            if key not in first:
                first[key] = m
                order[key] = (rank, li)
    ranked = sorted(scores, key=lambda i: (-scores[i], order[i]))
    return [first[i] for i in ranked]


def diversify(cands: list[Candidate], vectors: np.ndarray, relevance: np.ndarray, lam: float,
              need: int) -> list[Candidate]:
    """MMR over ``cands`` (rows of ``vectors`` are their unit vectors)."""
    return [cands[i] for i in mmr(relevance, vectors, lam, need)]


def merge(lists: Sequence[list[Candidate]], per_item: bool = True) -> list[Candidate]:
    """One list from several (one per space or modality)."""
    if not lists:
        return []
    if len(lists) == 1:
        return list(lists[0])
    by_match = {id(c.match): c for lst in lists for c in lst}
    fused = rrf([[c.match for c in lst] for lst in lists], per_item=per_item)
    return [by_match[id(m)] for m in fused]

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
    """MMR over ``cands`` (rows of ``vectors`` are their unit vectors). Each pick's ``score``
    becomes its MMR value when picked (capped at the previous pick's, so the listing stays in
    score order even where a similarity is negative); ``relevance`` keeps the relevance."""
    picks = mmr(relevance, vectors, lam, need)
    out = []
    chosen: list[int] = []
    last = float("inf")
    for i in picks:
        penalty = max((float(vectors[i] @ vectors[j]) for j in chosen), default=0.0)
        c = cands[i]
        c.parts["relevance"] = round(float(relevance[i]), 6)
        value = lam * float(relevance[i]) - ((1.0 - lam) * penalty if chosen else 0.0)
        last = c.score = min(last, value)
        chosen.append(i)
        out.append(c)
    return out


# hybrid fusion ---------------------------------------------------------------------------------
#: a document's BM25 counts once it matches more than this share of the query (see ``fuse``)
LEXICAL_THRESHOLD = 0.4
#: what a document matching the whole query gains over its cosine
LEXICAL_BONUS = 0.7


def lexical_bonus(share: float) -> float:
    """``LEXICAL_BONUS * max(0, share - LEXICAL_THRESHOLD) / (1 - LEXICAL_THRESHOLD)``."""
    return LEXICAL_BONUS * max(0.0, share - LEXICAL_THRESHOLD) / (1.0 - LEXICAL_THRESHOLD)


def fuse(dense: Sequence[Match], lexical: Sequence[Match], ceiling: float, leg: Leg,
         per_item: bool = True) -> list[Candidate]:
    """Score-aware fusion: ``cosine + bonus(share)``, where ``share = bm25 / ceiling`` is the
    part of the query's information (the idf of its words, a word the collection lacks
    counting as the rarest) that the document matches, and the bonus grows from 0 at a
    share of ``LEXICAL_THRESHOLD`` to ``LEXICAL_BONUS`` at the whole query.

    So a document that matches a name, a code or most of a query's rare words rises above
    what its cosine says, while chance matches of one or two words of a paraphrased question
    (a small share) change nothing: the dense order stands. Each candidate needs its cosine
    (lexical-only ones are read from the store first); one missing from the BM25 list has
    ``bm25 = 0``. Sorted by the fused score, ties by list order. The measured figures behind
    the two constants are in the README ("Ranking")."""
    out: dict[str, Candidate] = {}
    order: dict[str, int] = {}
    for m in list(dense) + list(lexical):
        key = item_id(m.chroma_id, m.metadata) if per_item else m.chroma_id
        c = out.get(key)
        if c is None:
            order[key] = len(order)
            c = out[key] = Candidate(m, leg, 0.0, {"dense": None, "bm25": None})
        if m.distance is not None and c.parts["dense"] is None:
            c.parts["dense"] = round(1.0 - float(m.distance), 6)
            if c.match.distance is None:
                c.match = Match(c.match.chroma_id, m.distance, c.match.metadata,
                                c.match.document, c.match.bm25)
        if m.bm25 is not None and c.parts["bm25"] is None:
            c.parts["bm25"] = round(float(m.bm25), 6)
    for c in out.values():
        cos = c.parts["dense"] if c.parts["dense"] is not None else 0.0
        share = min(1.0, (c.parts["bm25"] or 0.0) / ceiling) if ceiling > 0 else 0.0
        bonus = lexical_bonus(share)
        c.parts["bm25_share"] = round(share, 6)
        c.parts["lexical_bonus"] = round(bonus, 6)
        c.score = cos + bonus
    return sorted(out.values(), key=lambda c: (-c.score, order[c.item if per_item
                                                              else c.match.chroma_id]))


# calibration -----------------------------------------------------------------------------------
#: hits whose calibrated score is below this are hidden by default (``--all`` shows them)
FLOOR = 1.0


@dataclass
class Background:
    """A query's scores over a sample of its leg's space: what an ordinary item scores."""

    mean: float
    std: float

    def z(self, score: float) -> float:
        return (score - self.mean) / self.std if self.std > 1e-9 else 0.0


def background(scores: np.ndarray, scale: float = 1.0) -> Background | None:
    """From a sample's scores (``scale``: the share of the score they stand for, e.g. the
    dense weight of a hybrid score). None when the sample is too small to say."""
    if len(scores) < 2:
        return None
    return Background(float(np.mean(scores)) * scale, float(np.std(scores)) * scale)


def calibrate(cands: list[Candidate], bg: Background | None) -> None:
    """Each candidate's ``calibrated`` part: standard deviations above the query's typical
    item in its own space (absorbs each space's scale, and CLIP's modality gap)."""
    for c in cands:
        c.parts["calibrated"] = round(bg.z(c.score), 6) if bg is not None else None


def merge_calibrated(lists: Sequence[list[Candidate]], per_item: bool = True
                     ) -> list[Candidate]:
    """Several lists (spaces, modalities) as one, by calibrated score: a strong text hit
    outranks a weak image and vice versa. Each candidate's ``score`` becomes that value; an
    item found by two lists (a collection without modality metadata) is listed once."""
    merged = [c for lst in lists for c in lst]
    for c in merged:
        c.score = float(c.parts["calibrated"])
    seen: set[str] = set()
    out = []
    for c in sorted(merged, key=lambda c: -c.score):
        key = c.item if per_item else c.match.chroma_id
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def merge_by_rank(lists: Sequence[list[Candidate]], per_item: bool = True) -> list[Candidate]:
    """Lists without calibrated scores (diversified, lexical-only) as one, by RRF; each
    candidate's ``score`` becomes its fused RRF value so the listing stays in score order."""
    by_match = {id(c.match): c for lst in lists for c in lst}
    fused = rrf([[c.match for c in lst] for lst in lists], per_item=per_item)
    out = [by_match[id(m)] for m in fused]
    ranks: dict[int, float] = {}
    for lst in lists:
        for r, c in enumerate(lst, start=1):
            ranks[id(c)] = ranks.get(id(c), 0.0) + 1.0 / (RRF_K + r)
    for c in out:
        c.parts["rrf"] = round(ranks.get(id(c), 0.0), 6)
        c.score = ranks.get(id(c), 0.0)
    return out

"""Retrieval metrics with trec_eval / BEIR semantics (checked against pytrec_eval in tests).

``ranked`` is a list of ids, best first; ``rels`` maps relevant ids to their graded relevance
(levels <= 0 count as not relevant).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Sequence[str]]


def ndcg_at(ranked: Sequence[str], rels: Mapping[str, int], k: int) -> float:
    """trec_eval ``ndcg_cut.k``: gain = relevance level, discount log2(rank + 1)."""
    dcg = sum(rels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k])
              if rels.get(d, 0) > 0)
    ideal = sorted((r for r in rels.values() if r > 0), reverse=True)[:k]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: Sequence[str], rels: Mapping[str, int], k: int) -> float:
    """trec_eval ``recall.k``: relevant ids in the top k / all relevant ids."""
    relevant = {d for d, r in rels.items() if r > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def precision_at(ranked: Sequence[str], rels: Mapping[str, int], k: int) -> float:
    """trec_eval ``P.k``: relevant ids in the top k / k (a short list is padded with misses)."""
    return sum(1 for d in ranked[:k] if rels.get(d, 0) > 0) / k


def mrr_at(ranked: Sequence[str], rels: Mapping[str, int], k: int) -> float:
    """BEIR's MRR@k: 1 / rank of the first relevant id in the top k, else 0."""
    for i, d in enumerate(ranked[:k]):
        if rels.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def hit_at(ranked: Sequence[str], rels: Mapping[str, int], k: int) -> float:
    """1 if any relevant id is in the top k (CLIP_benchmark's retrieval recall), else 0."""
    return 1.0 if any(rels.get(d, 0) > 0 for d in ranked[:k]) else 0.0


Measure = Callable[[Sequence[str], Mapping[str, int], int], float]
MEASURES: dict[str, Measure] = {
    "ndcg": ndcg_at, "recall": recall_at, "precision": precision_at, "mrr": mrr_at, "hit": hit_at,
}


def evaluate(qrels: Qrels, run: Run, measures: Sequence[str]) -> dict[str, float]:
    """Means over the queries of ``qrels`` (a query missing from ``run`` scores 0).

    ``measures`` are names like ``"ndcg@10"``, ``"recall@100"``, ``"mrr@10"``, ``"hit@5"``.
    """
    parsed: list[tuple[str, Measure, int]] = []
    for m in measures:
        name, _, depth = m.partition("@")
        if name not in MEASURES or not depth.isdigit():
            raise ValueError(f"unknown measure {m!r}; use e.g. ndcg@10, recall@100, mrr@10")
        parsed.append((m, MEASURES[name], int(depth)))
    totals = dict.fromkeys(measures, 0.0)
    for qid, rels in qrels.items():
        ranked = run.get(qid, [])
        for m, fn, k in parsed:
            totals[m] += fn(ranked, rels, k)
    n = max(1, len(qrels))
    return {m: v / n for m, v in totals.items()}

"""Retrieval metrics: hand-computed cases, and agreement with trec_eval (pytrec_eval)."""

from __future__ import annotations

import math
import random

import pytest

from semsearch.metrics import evaluate, hit_at, mrr_at, ndcg_at, precision_at, recall_at


def test_hand_computed_cases():
    rels = {"a": 2, "b": 1, "z": 0}
    ranked = ["x", "a", "y", "b"]
    dcg = 2 / math.log2(3) + 1 / math.log2(5)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at(ranked, rels, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at(ranked, rels, 1) == 0.0
    assert recall_at(ranked, rels, 2) == 0.5
    assert recall_at(ranked, rels, 4) == 1.0
    assert precision_at(ranked, rels, 4) == 0.5
    assert precision_at(ranked, rels, 10) == 0.2  # a short list counts its missing ranks
    assert mrr_at(ranked, rels, 10) == 0.5
    assert mrr_at(ranked, rels, 1) == 0.0
    assert hit_at(ranked, rels, 1) == 0.0 and hit_at(ranked, rels, 2) == 1.0
    assert ndcg_at(["z"], {"z": 0}, 10) == 0.0  # no relevant document at all


def test_evaluate_averages_over_qrels_queries_only():
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}}
    run = {"q1": ["a"], "q3": ["b"]}  # q2 has no results, q3 is not judged
    assert evaluate(qrels, run, ["recall@10", "mrr@10"]) == {"recall@10": 0.5, "mrr@10": 0.5}
    with pytest.raises(ValueError):
        evaluate(qrels, run, ["bleu@4"])


def test_agrees_with_trec_eval():
    pytrec_eval = pytest.importorskip("pytrec_eval")
    rng = random.Random(7)
    docs = [f"d{i}" for i in range(60)]
    qrels: dict[str, dict[str, int]] = {}
    scored: dict[str, dict[str, float]] = {}
    for q in range(40):
        qid = f"q{q}"
        qrels[qid] = {d: rng.choice([0, 1, 1, 2]) for d in rng.sample(docs, rng.randint(1, 6))}
        if q % 7 == 3:
            continue  # a judged query with no results
        picked = rng.sample(docs, rng.randint(5, 40))
        scored[qid] = {d: 100.0 - n for n, d in enumerate(picked)}  # distinct scores, no ties
    run = {q: sorted(s, key=lambda d: -s[d]) for q, s in scored.items()}
    ours = evaluate(qrels, run, ["ndcg@10", "recall@10", "recall@100", "precision@5"])

    evaluator = pytrec_eval.RelevanceEvaluator(
        qrels, {"ndcg_cut.10", "recall.10", "recall.100", "P.5"})
    per_query = evaluator.evaluate(scored)
    def mean(key: str) -> float:
        # trec_eval leaves out judged queries without results: BEIR and we count them as 0
        return sum(per_query[q][key] for q in per_query) / len(qrels)
    assert ours["ndcg@10"] == pytest.approx(mean("ndcg_cut_10"), abs=1e-9)
    assert ours["recall@10"] == pytest.approx(mean("recall_10"), abs=1e-9)
    assert ours["recall@100"] == pytest.approx(mean("recall_100"), abs=1e-9)
    assert ours["precision@5"] == pytest.approx(mean("P_5"), abs=1e-9)

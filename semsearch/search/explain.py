"""Why an item matched: its space, its chunk, the query words it holds, its score's parts."""

from __future__ import annotations

import re

from ..storage.words import query_terms, stems
from ..types import Hit

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def matched_terms(query: str, text: str | None) -> list[str]:
    """The query's searched words that occur in ``text`` (compared by stem)."""
    if not query or not text:
        return []
    terms = query_terms(query)
    present = set(stems([w.lower() for w in _WORD.findall(text)]))
    return [t for t, s in zip(terms, stems(terms), strict=True) if s in present]


def explain(hit: Hit, query: str | None = None) -> str:
    """One line: ``text space, chunk 2 (chars 310-620); cosine 0.41, BM25 7.2 (62% of the
    query: tyre, puncture) +0.37; 3.1 sd above typical``."""
    where = f"{hit.space} space"
    chunk = hit.metadata.get("chunk")
    if chunk is not None and hit.modality == "text":
        where += f", chunk {chunk}"
        if hit.metadata.get("start") is not None:
            where += f" (chars {hit.metadata['start']}-{hit.metadata.get('end')})"
    p = hit.parts
    bits = []
    if p.get("dense") is not None:
        bits.append(f"cosine {p['dense']:.3f}")
    if p.get("bm25"):
        share = p.get("bm25_share")
        words = matched_terms(query or "", hit.text)
        bm = f"BM25 {p['bm25']:.2f}"
        if share is not None:
            bm += f" ({share:.0%} of the query"
            bm += f": {', '.join(words)})" if words else ")"
        if p.get("lexical_bonus"):
            bm += f" +{p['lexical_bonus']:.3f}"
        bits.append(bm)
    elif query and hit.modality == "text":
        bits.append("no query word in it")
    if p.get("relevance") is not None:
        bits.append(f"relevance {p['relevance']:.3f} before diversifying")
    if p.get("rrf") is not None:
        bits.append(f"rank fusion {p['rrf']:.4f}")
    if p.get("calibrated") is not None:
        bits.append(f"{p['calibrated']:.1f} sd above this query's typical item")
    return f"{where}; " + ", ".join(bits) if bits else where

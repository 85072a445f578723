#!/usr/bin/env python3
"""Sanity checks for the personal-notes evaluation set (standard library only).

Usage: python3 check.py [-v]

Checks:
  * queries.jsonl parses; ids unique; kind is "natural" or "keyword";
    "relevant" is a list with exactly one existing file in notes/
  * no note is the answer to more than 2 queries
  * every keyword query has a token that occurs verbatim (case-insensitive)
    in its relevant note; reports how many notes contain its rarest such token
  * natural questions share on average < 1.0 content words with their note
    (lowercased, [a-z]{3,} tokens, simple stopword list)
With -v, lists the shared words of each natural question.
"""

import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOTES_DIR = HERE / "notes"
QUERIES = HERE / "queries.jsonl"
MAX_AVG_SHARED = 1.0
MAX_QUERIES_PER_NOTE = 2

STOPWORDS = set(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "aren",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "cannot",
        "could",
        "couldn",
        "did",
        "didn",
        "do",
        "does",
        "doesn",
        "doing",
        "don",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "get",
        "got",
        "had",
        "hadn",
        "has",
        "hasn",
        "have",
        "haven",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "isn",
        "it",
        "its",
        "itself",
        "just",
        "let",
        "ll",
        "me",
        "more",
        "most",
        "mustn",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "ought",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "re",
        "same",
        "shan",
        "she",
        "should",
        "shouldn",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "ve",
        "very",
        "was",
        "wasn",
        "we",
        "were",
        "weren",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "won",
        "would",
        "wouldn",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
    ]
)


def content_words(text):
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) >= 3 and w not in STOPWORDS}


def keyword_tokens(query):
    """The whole query plus its whitespace-separated tokens, edge punctuation stripped."""
    toks = [query.strip()]
    for t in query.split():
        t = t.strip(".,;:!?\"'()[]")
        if t:
            toks.append(t)
    return toks


def main():
    verbose = "-v" in sys.argv[1:]
    notes = {
        p.name: p.read_text(encoding="utf-8")
        for p in sorted(NOTES_DIR.iterdir())
        if p.suffix in (".md", ".txt")
    }
    lowered = {name: text.lower() for name, text in notes.items()}
    errors = []

    queries = []
    with QUERIES.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                queries.append(json.loads(line))
            except json.JSONDecodeError as exc:
                errors.append(f"line {lineno}: bad JSON ({exc})")

    ids = Counter(q.get("id") for q in queries)
    errors += [f"duplicate id {i}" for i, n in ids.items() if n > 1]
    per_note = Counter()
    for q in queries:
        qid = q.get("id")
        if q.get("kind") not in ("natural", "keyword"):
            errors.append(f"{qid}: bad kind {q.get('kind')!r}")
        rel = q.get("relevant")
        if not (isinstance(rel, list) and len(rel) == 1):
            errors.append(f"{qid}: 'relevant' must be a list with one file")
            continue
        if rel[0] not in notes:
            errors.append(f"{qid}: relevant file {rel[0]} not found")
            continue
        per_note[rel[0]] += 1
        if not str(q.get("query", "")).strip():
            errors.append(f"{qid}: empty query")
    errors += [
        f"{name} is the answer to {n} queries (max {MAX_QUERIES_PER_NOTE})"
        for name, n in per_note.items()
        if n > MAX_QUERIES_PER_NOTE
    ]

    kinds = Counter(q.get("kind") for q in queries)
    md = sum(n.endswith(".md") for n in notes)
    print(
        f"notes: {len(notes)} ({md} .md, {len(notes) - md} .txt); "
        f"notes used as answers: {len(per_note)}"
    )
    print(f"queries: {len(queries)} (natural {kinds['natural']}, keyword {kinds['keyword']})")

    # keyword queries: exact token present in the relevant note
    print("\nkeyword queries (rarest matching token, number of notes containing it):")
    not_unique = 0
    for q in queries:
        if q.get("kind") != "keyword" or q.get("relevant", [None])[0] not in notes:
            continue
        rel = q["relevant"][0]
        hits = [t for t in keyword_tokens(q["query"]) if t.lower() in lowered[rel]]
        if not hits:
            errors.append(f"{q['id']}: no token of {q['query']!r} occurs in {rel}")
            continue
        # rarest matching token; ties go to the earliest (whole query first)
        dfs = [sum(t.lower() in txt for txt in lowered.values()) for t in hits]
        df = min(dfs)
        best = hits[dfs.index(df)]
        not_unique += df > 1
        print(f"  {q['id']:<4} {q['query']!r:<48} -> {best!r} in {df} note(s)")
    print(f"  keyword queries whose best token is in more than one note: {not_unique}")

    # natural queries: lexical overlap with the relevant note
    shared_counts = []
    for q in queries:
        if q.get("kind") != "natural" or q.get("relevant", [None])[0] not in notes:
            continue
        rel = q["relevant"][0]
        shared = content_words(q["query"]) & content_words(notes[rel])
        shared_counts.append(len(shared))
        if verbose:
            print(f"  {q['id']:<4} {len(shared)} {sorted(shared)}  {q['query']}")
        title = notes[rel].strip().splitlines()[0].lstrip("# ").strip().lower()
        if len(title) > 12 and title in q["query"].lower():
            errors.append(f"{q['id']}: copies the title of {rel}")
    if shared_counts:
        avg = sum(shared_counts) / len(shared_counts)
        dist = dict(sorted(Counter(shared_counts).items()))
        print(
            f"\nnatural queries: average shared content words with relevant note = {avg:.2f} "
            f"(distribution {dist})"
        )
        if avg >= MAX_AVG_SHARED:
            errors.append(f"natural average overlap {avg:.2f} >= {MAX_AVG_SHARED}")

    if errors:
        print("\nFAILED:")
        for e in errors:
            print("  " + e)
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

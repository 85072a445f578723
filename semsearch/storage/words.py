"""The words of texts and queries as the lexical index sees them: FTS5's ``unicode61``
words (letters and digits), lowercased, Porter-stemmed (PyStemmer's ``porter`` is the
algorithm FTS5's tokenizer runs), query stop words dropped."""

from __future__ import annotations

import re
from collections.abc import Sequence

#: Lucene's English stop words, dropped from queries (documents keep them)
STOPWORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is",
    "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there",
    "these", "they", "this", "to", "was", "will", "with",
))
_WORD = re.compile(r"[^\W_]+", re.UNICODE)  # unicode61: letters and digits


def any_of(terms: Sequence[str]) -> str:
    """An FTS5 query matching any of the words."""
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


def query_terms(text: str) -> list[str]:
    """The words of a query that are searched: lowercased, stop words dropped, one word per
    stem, in order."""
    words = [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]
    seen: dict[str, str] = {}
    for w, stem in zip(words, stems(words), strict=True):
        seen.setdefault(stem, w)
    return list(seen.values())


def stems(words: Sequence[str]) -> list[str]:
    try:
        import Stemmer  # PyStemmer: its 'porter' is the algorithm FTS5's tokenizer runs
    except ImportError:  # pragma: no cover
        return list(words)
    return list(Stemmer.Stemmer("porter").stemWords(list(words)))


def word_stems(text: str) -> list[tuple[str, str]]:
    """The words of a text as the index sees them, lowercased, each with its Porter stem;
    stop words and single characters dropped (for cluster labels)."""
    words = [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]
    return list(zip(words, stems(words), strict=True))

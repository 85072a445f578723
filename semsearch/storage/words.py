"""The words of texts and queries as the lexical index sees them: FTS5's ``unicode61``
words (letters and digits), lowercased, diacritics removed, Porter-stemmed, query stop
words dropped. Stems come from FTS5's own tokenizer (an in-memory table), so a word's
stem is exactly the term the index holds for it: Porter implementations differ at the
edges (FTS5 leaves words under three letters and over 64 as they are, and folds
diacritics first), and a stem the index lacks would read as the rarest word."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Sequence

#: Lucene's English stop words, dropped from queries (documents keep them)
STOPWORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is",
    "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there",
    "these", "they", "this", "to", "was", "will", "with",
))
_WORD = re.compile(r"[^\W_]+", re.UNICODE)  # unicode61: letters and digits
_ASCII_WORD = re.compile(r"[a-z0-9]+")


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


#: what FTS5's tokenizer made of words already seen (bounded: cleared when full)
_STEMS: dict[str, str] = {}
_STEMS_MAX = 200_000
_tokenizer: sqlite3.Connection | None = None
_lock = threading.Lock()


def _tokenizing() -> sqlite3.Connection:
    """The in-memory FTS5 table that tokenizes as the index does (under ``_lock``)."""
    global _tokenizer
    if _tokenizer is None:
        _tokenizer = sqlite3.connect(":memory:", check_same_thread=False)
        _tokenizer.execute("CREATE VIRTUAL TABLE w USING fts5(body, tokenize='porter "
                           "unicode61 remove_diacritics 2')")
        _tokenizer.execute("CREATE VIRTUAL TABLE w_i USING fts5vocab(w, 'instance')")
    return _tokenizer


def stems(words: Sequence[str]) -> list[str]:
    """Each word's term in the lexical index (its first token, as FTS5's ``porter
    unicode61 remove_diacritics 2`` tokenizer makes it); a word it makes no token of stays
    as it is."""
    with _lock:
        got = {w: _STEMS[w] for w in words if w in _STEMS}
        new = [w for w in dict.fromkeys(words) if w not in got]
        if new:
            db = _tokenizing()
            db.execute("DELETE FROM w")
            db.executemany("INSERT INTO w(rowid, body) VALUES (?,?)", list(enumerate(new, 1)))
            made: dict[int, str] = {}
            for doc, term in db.execute(  # (FTS5 may cut a 32 KB token inside a character)
                    "SELECT doc, CAST(term AS BLOB) FROM w_i ORDER BY doc, offset"):
                made.setdefault(int(doc), bytes(term).decode(errors="replace"))
            got.update((w, made.get(i, w)) for i, w in enumerate(new, 1))
            if len(new) <= _STEMS_MAX:  # (the cache stays within its size)
                if len(_STEMS) + len(new) > _STEMS_MAX:
                    _STEMS.clear()
                _STEMS.update((w, got[w]) for w in new)
        return [got[w] for w in words]


def word_stems(text: str) -> list[tuple[str, str]]:
    """The words of a text, lowercased, each with its Porter stem (PyStemmer's, fast and
    close to the index's: for cluster labels, over many texts); stop words and single
    characters dropped."""
    words = [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]
    try:
        import Stemmer
    except ImportError:  # pragma: no cover
        return list(zip(words, words, strict=True))
    return list(zip(words, Stemmer.Stemmer("porter").stemWords(words), strict=True))


def counts(texts: Sequence[str]) -> list[tuple[int, dict[str, int]]]:
    """Each text's length in words and its terms' counts, as the lexical index's tokenizer
    makes them (a text of no words: 0 and none). ASCII texts are split here (unicode61's
    words are then runs of ASCII letters and digits) and their words stemmed by FTS5
    (:func:`stems`, remembered); other texts go through FTS5 whole."""
    out: list[tuple[int, dict[str, int]]] = [(0, {}) for _ in texts]
    split = {i: _ASCII_WORD.findall(t.lower()) for i, t in enumerate(texts) if t.isascii()}
    unique = list(dict.fromkeys(w for words in split.values() for w in words))
    stem = dict(zip(unique, stems(unique), strict=True))
    for i, words in split.items():
        out[i] = (len(words), dict(Counter(stem[w] for w in words)))
    rest = [i for i in range(len(texts)) if i not in split]
    if not rest:
        return out
    with _lock:
        db = _tokenizing()
        db.execute("DELETE FROM w")
        db.executemany("INSERT INTO w(rowid, body) VALUES (?,?)",
                       [(i + 1, texts[i]) for i in rest])
        for doc, term, count in db.execute(
                "SELECT doc, CAST(term AS BLOB), count(*) FROM w_i GROUP BY doc, term"):
            length, tfs = out[int(doc) - 1]
            # (FTS5 may cut a 32 KB token inside a character: no query meets it)
            with contextlib.suppress(UnicodeDecodeError):
                tfs[bytes(term).decode()] = int(count)
            out[int(doc) - 1] = (length + int(count), tfs)
        db.execute("DELETE FROM w")
    return out

"""CLIP's byte-pair tokenizer, without torch.

A port of open_clip's ``SimpleTokenizer`` (OpenAI's CLIP tokenizer, MIT licence) as open_clip
builds it for its BPE models: text cleaned by ftfy, HTML entities undone, whitespace collapsed
and lowercased; the start and end tokens around it; cut to the context with the end token
kept last. It reads open_clip's own vocabulary file, found without importing open_clip (whose
tokenizer module imports torch). A text tower is served with it only after its export checked
that it gives open_clip's own tokens (:mod:`.clip_text`).
"""

from __future__ import annotations

import contextlib
import gzip
import html
import importlib.util
import marshal
import os
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from .inference import cache_root, fingerprint

VOCAB_FILE = "bpe_simple_vocab_16e6.txt.gz"
SPECIALS = ("<start_of_text>", "<end_of_text>")
#: words longer than this are tokenised in pieces (see :func:`bpe_spans`)
LONG_WORD = 64


def vocab_file() -> Path | None:
    """open_clip's vocabulary, where open_clip is installed (not imported)."""
    spec = importlib.util.find_spec("open_clip")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / VOCAB_FILE
        if path.is_file():
            return path
    return None


#: printable ASCII and whitespace, no ``&``: text that ftfy and HTML unescaping keep as it is
_PLAIN = re.compile(r"[\t\n\r\x20-\x25\x27-\x7e]*")


def _vocabulary(path: Path) -> tuple[dict[str, int], dict[tuple[str, ...], int]]:
    """(token ids, merge ranks) from open_clip's vocabulary file; kept in the cache as a
    marshal file, which loads in a third of the time of parsing the gzip (0.05 s, not 0.15)."""
    cached = cache_root() / f"clip-bpe-{fingerprint(path)}.marshal"
    with contextlib.suppress(OSError, ValueError, EOFError, TypeError):
        encoder, ranks = marshal.loads(cached.read_bytes())
        return encoder, ranks
    with gzip.open(path) as f:
        lines = f.read().decode("utf-8").split("\n")[1: 49152 - 256 - 2 + 1]
    merges = [tuple(m.split()) for m in lines]
    vocab = list(_bytes_to_unicode().values())
    vocab += [v + "</w>" for v in vocab] + ["".join(m) for m in merges] + list(SPECIALS)
    encoder = {v: i for i, v in enumerate(vocab)}
    ranks = {m: i for i, m in enumerate(merges)}
    with contextlib.suppress(OSError):
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f".{cached.name}.{os.getpid()}")
        tmp.write_bytes(marshal.dumps((encoder, ranks)))
        os.replace(tmp, cached)
    return encoder, ranks


@lru_cache
def _bytes_to_unicode() -> dict[int, str]:
    bs = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
          *range(ord("®"), ord("ÿ") + 1)]
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs], strict=True))


class ClipBpe:
    """``tokens = ClipBpe(path)(texts)``: an int64 array (texts, context)."""

    def __init__(self, path: Path, context: int = 77) -> None:
        import regex

        self.encoder, self.ranks = _vocabulary(path)
        self.byte_encoder = _bytes_to_unicode()
        self.cache = {t: t for t in SPECIALS}
        self.pattern: Any = regex.compile(
            "|".join(SPECIALS) + r"""|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
            regex.IGNORECASE)
        self.sot, self.eot = (self.encoder[t] for t in SPECIALS)
        self.context = context

    def _bpe(self, token: str) -> str:
        if token in self.cache:
            return self.cache[token]
        word = (*token[:-1], token[-1] + "</w>")
        pairs = set(zip(word, word[1:], strict=False))
        if not pairs:
            return token + "</w>"
        while True:
            bigram = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if bigram not in self.ranks:
                break
            first, second = bigram
            merged: list[str] = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                except ValueError:
                    merged.extend(word[i:])
                    break
                merged.extend(word[i:j])
                i = j
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = tuple(merged)
            if len(word) == 1:
                break
            pairs = set(zip(word, word[1:], strict=False))
        out = " ".join(word)
        self.cache[token] = out
        return out

    def encode(self, text: str) -> list[int]:
        if not _PLAIN.fullmatch(text):  # ftfy leaves plain ASCII as it is: not imported for it
            import ftfy

            text = ftfy.fix_text(text)
        text = " ".join(html.unescape(html.unescape(text)).strip().split()).lower()
        ids: list[int] = []
        for token in self.pattern.findall(text):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self._bpe(token).split(" "))
        return ids

    def __call__(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.context), dtype=np.int64)
        for row, text in enumerate(texts):
            tokens = [self.sot, *self.encode(text), self.eot]
            if len(tokens) > self.context:
                tokens = tokens[: self.context]
                tokens[-1] = self.eot
            out[row, : len(tokens)] = tokens
        return out


def bpe_spans(text: str, encode: Callable[[str], list[Any]] | None) -> list[tuple[int, int]]:
    """One character span per BPE token (a word's tokens share its span). BPE is quadratic in
    a word's length, so a very long "word" is measured in pieces of LONG_WORD characters,
    each its own span: a 64 KB run of letters takes milliseconds, not minutes."""
    spans: list[tuple[int, int]] = []
    for m in re.finditer(r"\S+", text):
        word, start = m.group(), m.start()
        for i in range(0, len(word), LONG_WORD):
            piece = word[i: i + LONG_WORD]
            n = len(encode(piece)) if encode else 1
            end = start + i + len(piece)
            span = m.span() if len(word) <= LONG_WORD else (start + i, end)
            spans.extend([span] * max(1, n))
    return spans

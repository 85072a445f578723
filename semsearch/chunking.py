"""Split text into windows of at most ``max_tokens`` tokens, overlapping by ``overlap``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chunk:
    index: int
    start: int  # character offsets into the item's text
    end: int
    text: str


def chunk_text(
    text: str, spans: list[tuple[int, int]], max_tokens: int, overlap: int = 0
) -> list[Chunk]:
    """Windows over token ``spans`` (character offsets of each token of ``text``)."""
    if not spans:
        return [Chunk(0, 0, len(text), text)] if text.strip() else []
    if len(spans) <= max_tokens:
        return [Chunk(0, 0, len(text), text)]
    overlap = max(0, min(overlap, max_tokens // 2))
    chunks: list[Chunk] = []
    start_tok = 0
    while start_tok < len(spans):
        end_tok = min(start_tok + max_tokens, len(spans))
        # a word split into several tokens shares one span: never cut through it, or the
        # window holds the whole word (more than max_tokens) and the next one repeats it
        while end_tok < len(spans) and end_tok - 1 > start_tok and (
            spans[end_tok] == spans[end_tok - 1]
        ):
            end_tok -= 1
        a, b = spans[start_tok][0], spans[end_tok - 1][1]
        if chunks and b <= chunks[-1].end and a >= chunks[-1].start:
            break
        chunks.append(Chunk(len(chunks), a, b, text[a:b]))
        if end_tok == len(spans):
            break
        next_tok = max(start_tok + 1, end_tok - overlap)
        while next_tok - 1 > start_tok and spans[next_tok] == spans[next_tok - 1]:
            next_tok -= 1
        start_tok = next_tok
    return chunks

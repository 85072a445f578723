"""Split text into windows of at most ``max_tokens`` tokens, overlapping by ``overlap``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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


#: text-space windows overlap by this many tokens; CLIP windows do not overlap
TEXT_OVERLAP = 32


class Tokenizing(Protocol):
    max_tokens: int
    space: str

    def token_spans(self, text: str) -> list[tuple[int, int]]: ...


#: texts are tokenised in segments of about this many characters (cut at white space), so
#: memory and time stay proportional to the text, whatever the tokenizer does with a long input
SEGMENT = 32_768


def segments(text: str, size: int = SEGMENT) -> list[tuple[int, int]]:
    """(start, end) pieces of ``text``, about ``size`` long, cut after white space where any."""
    out: list[tuple[int, int]] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
            if cut > start + size // 2:
                end = cut + 1
        out.append((start, end))
        start = end
    return out


def token_spans(model: Tokenizing, text: str) -> list[tuple[int, int]]:
    """``model.token_spans`` over the whole text, computed segment by segment."""
    if len(text) <= SEGMENT:
        return model.token_spans(text)
    spans: list[tuple[int, int]] = []
    for a, b in segments(text):
        spans += [(a + s, a + e) for s, e in model.token_spans(text[a:b])]
    return spans


def chunks_for(model: Tokenizing, text: str) -> list[Chunk]:
    """How one model sees a text: windows at its token limit (overlapping in the text space)."""
    overlap = TEXT_OVERLAP if model.space == "text" else 0
    return chunk_text(text, token_spans(model, text), model.max_tokens, overlap)

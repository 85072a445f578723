"""Composed queries: ``2:cat + ./x.jpg - fruit`` as weighted terms."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import ConfigError

TermKind = Literal["auto", "text", "item", "path", "image"]


@dataclass
class Term:
    """One part of a composed query: text, an item id, a path or a PIL image, with a weight.

    A negative weight subtracts the term. ``kind`` forces how ``value`` is read (``auto``:
    item id, then file path, then text).
    """

    value: Any
    weight: float = 1.0
    kind: TermKind = "auto"

    @property
    def label(self) -> str:
        return os.fspath(self.value) if isinstance(self.value, str | os.PathLike) else "<image>"

    def __str__(self) -> str:
        label = self.label
        if re.search(r"\s[+-]\s|^[+-]\s|^\d", label) or label != label.strip():
            label = '"' + label.replace('"', '\\"') + '"'
        w = abs(self.weight)
        return label if w == 1 else f"{w:g}:{label}"


_WEIGHT = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*:(.+)$", re.S)


def split_weight(text: str) -> tuple[float, str]:
    """``"2:beach"`` -> ``(2.0, "beach")``; no prefix -> ``(1.0, text)``."""
    m = _WEIGHT.match(text)
    if not m or not m.group(2).strip():
        return 1.0, text
    return float(m.group(1)), m.group(2)


def _unquote(text: str) -> str:
    t = text.strip()
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"":
        return t[1:-1].replace("\\" + t[0], t[0])
    return t


@dataclass
class Composed:
    """A weighted sum of terms, e.g. ``Composed.parse('2:cat + ./x.jpg - fruit')``."""

    terms: list[Term] = field(default_factory=list)

    @classmethod
    def parse(cls, expr: str) -> Composed:
        """Parse ``[W:]TERM (+|- [W:]TERM)...``.

        Terms are separated by `` + `` and `` - `` with spaces around them; a leading ``-``
        subtracts the first term. ``W:`` is a weight (a number, default 1). Quote a term
        (``"rock - paper"``) to keep an operator inside it. A term that is an item id or an
        existing file is that item or file; anything else is text.
        """
        parts: list[tuple[int, str]] = []
        sign, buf, quote, i = 1, [], "", 0
        s = expr.strip()
        if s[:1] in "+-" and (len(s) == 1 or s[1].isspace()):
            sign, i = (-1 if s[0] == "-" else 1), 1
        while i < len(s):
            ch = s[i]
            if quote:
                if ch == "\\" and i + 1 < len(s) and s[i + 1] == quote:
                    buf.append(quote)
                    i += 2
                    continue
                if ch == quote:
                    quote = ""
                buf.append(ch)
            elif ch in "'\"" and not "".join(buf).strip(" \t:0123456789."):
                quote = ch
                buf.append(ch)
            elif (
                ch in "+-" and i > 0 and s[i - 1].isspace()
                and (i + 1 == len(s) or s[i + 1].isspace())
            ):
                parts.append((sign, "".join(buf)))
                sign, buf = (-1 if ch == "-" else 1), []
            else:
                buf.append(ch)
            i += 1
        if quote:
            raise ConfigError(f"unclosed quote in query {expr!r}")
        parts.append((sign, "".join(buf)))
        terms = []
        for sign, raw in parts:
            weight, body = split_weight(raw)
            value = _unquote(body)
            if not value.strip():
                raise ConfigError(f"empty term in query {expr!r}")
            terms.append(Term(value, sign * weight))
        return cls(terms)

    def __str__(self) -> str:
        out = ""
        for i, t in enumerate(self.terms):
            if i == 0:
                out = ("- " if t.weight < 0 else "") + str(t)
            else:
                out += (" - " if t.weight < 0 else " + ") + str(t)
        return out



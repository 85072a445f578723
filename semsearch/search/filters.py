"""Metadata filters (``year>=2020``) and the arguments every result listing shares."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ConfigError

_FILTER = re.compile(r"^\s*([A-Za-z0-9_.:\-]+)\s*(==|!=|>=|<=|=|>|<)\s*(.*)$")
_OPS = {"=": "$eq", "==": "$eq", "!=": "$ne", ">": "$gt", ">=": "$gte", "<": "$lt", "<=": "$lte"}


def _typed(raw: str) -> Any:
    text = raw.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text.lower() in {"true", "false"}:
        return text.lower() == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_where(filters: Sequence[str] | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """``["year>=2020", "camera=X100"]`` (or a Chroma where dict) -> a Chroma where clause.

    A number written for equality also matches the same number stored as text
    (CSV fields arrive as text).
    """
    if not filters:
        return None
    if isinstance(filters, Mapping):
        return dict(filters)
    clauses: list[dict[str, Any]] = []
    for f in filters:
        m = _FILTER.match(f)
        if not m:
            raise ConfigError(f"bad filter {f!r}; use KEY=VALUE, KEY!=VALUE, KEY>=N, KEY<N ...")
        key, op, raw = m.group(1), _OPS[m.group(2)], m.group(3)
        value = _typed(raw)
        if op in {"$gt", "$gte", "$lt", "$lte"} and not isinstance(value, int | float):
            raise ConfigError(f"bad filter {f!r}: {m.group(2)} needs a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"bad filter {f!r}: {raw.strip()} is not a finite number")
        if op in {"$eq", "$ne"} and isinstance(value, int | float) and not isinstance(value, bool):
            both = [{key: {op: value}}, {key: {op: raw.strip()}}]
            clauses.append({"$or": both} if op == "$eq" else {"$and": both})
        else:
            clauses.append({key: {op: value}})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def and_where(*parts: dict[str, Any] | None) -> dict[str, Any] | None:
    present = [p for p in parts if p]
    if not present:
        return None
    return present[0] if len(present) == 1 else {"$and": present}


def check_arguments(
    type: str, k: int, offset: int = 0, diverse: float | None = None, mode: str = "dense",
    min_score: float | None = None,
) -> None:
    """The arguments every result listing shares (search, similar, recommend)."""
    if mode not in ("dense", "lexical", "hybrid"):
        raise ConfigError(f"bad mode {mode!r}; use dense, lexical or hybrid")
    if type not in ("any", "image", "text"):
        raise ConfigError(f"bad type {type!r}; use any, image or text")
    if k < 1:
        raise ConfigError("k must be at least 1")
    if offset < 0:
        raise ConfigError("offset must be 0 or more")
    if diverse is not None and not (0.0 <= diverse <= 1.0 and not math.isnan(diverse)):
        raise ConfigError("diverse (MMR lambda) must be between 0 and 1")
    if min_score is not None and not math.isfinite(min_score):
        raise ConfigError(f"min score must be a finite number, not {min_score}")

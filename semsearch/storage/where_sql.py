"""A Chroma ``where`` clause compiled to SQL over a JSON metadata column.

The lexical index keeps each text chunk's metadata (as JSON) beside its FTS5 row, so a
filtered BM25 query is one SQL statement, exact whatever the filter's selectivity. The
semantics are Chroma's: ``$eq``/``$in`` match a value of the same kind (numbers: an int
equals the same float; booleans and strings only themselves); ``$ne``/``$nin`` match every
row that ``$eq``/``$in`` does not, including rows without the key; ``$gt``/``$gte``/``$lt``/
``$lte`` compare numbers only. One difference, on purpose: Chroma compares an integer field
with a fractional bound as if the bound were truncated (``n < 0.5`` misses ``n = 0``); SQL
compares the numbers.

Clauses this module cannot express (``$contains`` on arrays, unknown operators, odd keys)
give ``None``: the caller checks the filter in the store instead.
"""

from __future__ import annotations

from typing import Any

_COMPARE = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_NUMERIC = "json_type({col}, ?) IN ('integer','real')"


class _Unsupported(Exception):
    pass


def compile_where(where: dict[str, Any] | None, column: str = "meta"
                  ) -> tuple[str, list[Any]] | None:
    """``(sql, params)`` true exactly for the rows whose metadata ``column`` passes ``where``;
    ``("1", [])`` for no filter; None when the clause cannot be compiled."""
    if not where:
        return "1", []
    params: list[Any] = []
    try:
        sql = _clause(where, column, params)
    except _Unsupported:
        return None
    return sql, params


def _clause(where: Any, col: str, params: list[Any]) -> str:
    if not isinstance(where, dict) or not where:
        raise _Unsupported
    parts: list[str] = []
    for key, value in where.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise _Unsupported
            inner = [_clause(v, col, params) for v in value]
            parts.append("(" + (" AND " if key == "$and" else " OR ").join(inner) + ")")
        elif key.startswith("$"):
            raise _Unsupported
        else:
            parts.append(_field(key, value, col, params))
    return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"


def _field(key: str, cond: Any, col: str, params: list[Any]) -> str:
    if '"' in key or "\\" in key:
        raise _Unsupported
    path = f'$."{key}"'
    if not isinstance(cond, dict):
        cond = {"$eq": cond}
    if len(cond) != 1:
        return "(" + " AND ".join(_field(key, {o: v}, col, params)
                                  for o, v in cond.items()) + ")"
    op, value = next(iter(cond.items()))
    if op == "$eq":
        return _equal(path, value, col, params)
    if op == "$ne":
        return f"NOT {_equal(path, value, col, params)}"
    if op in ("$in", "$nin"):
        if not isinstance(value, list) or not value:
            raise _Unsupported
        any_of = "(" + " OR ".join(_equal(path, v, col, params) for v in value) + ")"
        return any_of if op == "$in" else f"NOT {any_of}"
    if op in _COMPARE:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Unsupported
        params += [path, path, value]
        return (f"coalesce({_NUMERIC.format(col=col)} AND "
                f"json_extract({col}, ?) {_COMPARE[op]} ?, 0)")
    raise _Unsupported


def _equal(path: str, value: Any, col: str, params: list[Any]) -> str:
    """True when the field holds ``value`` (of its kind); false (never NULL) when it is
    missing, so that ``NOT`` of it keeps the rows without the key, as Chroma does."""
    if isinstance(value, bool):
        params.append(path)
        return f"coalesce(json_type({col}, ?) = '{'true' if value else 'false'}', 0)"
    if isinstance(value, int | float):
        params += [path, path, value]
        return f"coalesce({_NUMERIC.format(col=col)} AND json_extract({col}, ?) = ?, 0)"
    if isinstance(value, str):
        params += [path, path, value]
        return f"coalesce(json_type({col}, ?) = 'text' AND json_extract({col}, ?) = ?, 0)"
    raise _Unsupported

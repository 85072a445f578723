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

import json
import math
from typing import Any

_COMPARE = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
_NUMERIC = "json_type({col}, ?) IN ('integer','real')"


def meta_json(meta: dict[str, Any] | None) -> str | None:
    """The metadata as JSON; a NaN or an infinity (there are none in JSON, and SQLite's
    JSON functions, value indexes included, refuse the row) written as text, as ingest
    cleans them (metadata read back from a store may hold them)."""
    if meta is None:
        return None
    try:
        return json.dumps(meta, separators=(",", ":"), default=str, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(meta), separators=(",", ":"), default=str)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return [_finite(v) for v in value] if isinstance(value, list | tuple) else value


def plain_key(key: str) -> bool:
    """Whether a JSON path can name the key as :func:`meta_json` stores it: JSON escapes
    non-ASCII and control characters, quotes and backslashes in keys (``caf\\u00e9``),
    which a path does not match; filters on such keys are left to the store."""
    try:
        return json.dumps(key)[1:-1] == key and _bindable(key)
    except (TypeError, ValueError):  # pragma: no cover
        return False


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


def _bindable(value: Any) -> bool:
    """Whether SQLite takes the value: text it can encode, an integer in 64 bits."""
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return False
    return not isinstance(value, int) or -(2 ** 63) <= value < 2 ** 63


def _field(key: str, cond: Any, col: str, params: list[Any]) -> str:
    if not plain_key(key):
        raise _Unsupported
    path = f'$."{key}"'
    if not isinstance(cond, dict):
        cond = {"$eq": cond}
    if not cond or not all(_bindable(v) for v in cond.values()) or any(
            isinstance(v, list) and not all(_bindable(x) for x in v) for v in cond.values()):
        raise _Unsupported
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


#: a clause a value index serves: (field, SQL over ``{value}``, its parameters, exact)
Atom = tuple[str, str, list[Any], bool]


def index_atoms(where: Any) -> tuple[list[Atom], bool]:
    """The clauses of ``where`` that every passing row must meet and that an index on one
    field's value can serve, each true for a superset of the rows passing its clause;
    ``{value}`` stands for the field's ``json_extract`` (booleans read as 1 and 0 there).
    An atom is *exact* when it passes exactly its clause's rows. Top-level fields, ``$and``
    lists, and an ``$or`` whose every branch holds values of one field (``k=5`` reads as
    the number or the text); ``$ne`` and ``$nin`` narrow nothing. The flag: the atoms are
    the whole filter (every clause is one exact atom)."""
    if not isinstance(where, dict) or not where:
        return [], False
    atoms: list[Atom] = []
    whole = True
    for key, cond in where.items():
        if key == "$and" and isinstance(cond, list) and cond:
            for part in cond:
                got, all_of = index_atoms(part)
                atoms += got
                whole = whole and all_of
        elif key == "$or" and isinstance(cond, list) and cond:
            got, all_of = _any_of([index_atoms(part) for part in cond])
            atoms += got
            whole = whole and all_of
        elif not key.startswith("$") and plain_key(key):
            conds = cond if isinstance(cond, dict) and cond else {"$eq": cond}
            for op, value in conds.items():
                atom = _atom(op, value)
                if atom is not None:
                    atoms.append((key, *atom))
                whole = whole and atom is not None and atom[2]
        else:
            whole = False
    return atoms, whole


def _any_of(branches: list[tuple[list[Atom], bool]]) -> tuple[list[Atom], bool]:
    """An ``$or``'s atom: the values of a field every branch holds values of (each branch's
    rows hold one of its own), or none; exact when every branch is that one exact atom."""
    values = [{a[0]: a for a in atoms if a[1].startswith(("{value} = ", "{value} IN "))}
              for atoms, _ in branches]
    for key in values[0] if values else {}:
        if all(key in v for v in values):
            union = [p for v in values for p in v[key][2]]
            exact = all(whole and len(atoms) == 1 and atoms[0][3]
                        for atoms, whole in branches)
            return [(key, "{value} IN (" + ",".join("?" * len(union)) + ")", union,
                     exact)], exact
    return [], False


def _atom(op: str, value: Any) -> tuple[str, list[Any], bool] | None:
    def scalar(v: Any) -> bool:  # (bool is an int: read as 1 and 0)
        return isinstance(v, str | int | float) and _bindable(v)

    def exact(v: Any) -> bool:  # true and false read as 1 and 0
        return (isinstance(v, str) and not v.startswith(("[", "{"))) or (
            isinstance(v, int | float) and not isinstance(v, bool) and v not in (0, 1))

    if op == "$eq" and scalar(value):
        return "{value} = ?", [int(value) if isinstance(value, bool) else value], exact(value)
    if op == "$in" and isinstance(value, list) and value and all(scalar(v) for v in value):
        return ("{value} IN (" + ",".join("?" * len(value)) + ")",
                [int(v) if isinstance(v, bool) else v for v in value],
                all(exact(v) for v in value))
    if op in _COMPARE and not isinstance(value, bool) and isinstance(value, int | float) \
            and _bindable(value):
        return f"{{value}} {_COMPARE[op]} ?", [value], False  # (text sorts above numbers)
    return None

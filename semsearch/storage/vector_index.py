"""The vector index: a collection's text vectors in a memory-mapped HNSW graph (usearch,
float16), so that a text query never loads Chroma's whole HNSW index.

Local Chroma reads a collection's entire HNSW index into memory on its first read in a
process (1M x 384 float32: 1.5 GB of vectors alone). This index is a second copy of the
embedded store's *text* space, kept beside the lexical index:

- **main**: an immutable usearch file (``HOME/vectors/NAME-TOKEN.usearch``), opened as a
  memory-mapped view: a query touches only the pages of the graph it walks;
- **delta**: the vectors written since (``vector_delta``, float32, about :data:`MERGE_AT`
  rows at most), in the catalog, written in the same transaction as the lexical rows they
  belong to, and scored exactly;
- keys are the lexical index's row ids (``lexical_ids.id``, never reused): a changed chunk
  gets a new id and a removed one loses it, so a key the lexical index no longer holds is
  dead wherever it is.

``gen`` moves with every change (it starts at a random number, so an index made anew never
repeats an old one's): a reader caches the delta by it. The writer side (building from the
store, merging the delta into a new file) is :mod:`.vector_files`. An index exists only for
an embedded collection whose every text row the lexical index holds; every lexical write
either brings its vectors or drops the index (:func:`forget`), and queries then go to
Chroma until the next ingest builds it again (:meth:`DataDir.fresh_vectors`).
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .hnsw import hnsw_settings
from .value_index import Narrow
from .vector_schema import SCHEMA  # noqa: F401 - the tables (the catalog reads them there)

#: a filtered query asks the graph for at most this many nearest rows to find its hits
#: among; a filter that passes too few of them is left to the store (its metadata index)
FILTER_PROBE = 16384
#: below this many rows a filtered query goes to the store: loading its index costs little
#: there, and its metadata index finds the passing rows at once
FILTER_GRAPH_FROM = 50_000
#: a filter whose passing rows a value index finds, this many or fewer, is answered by
#: scoring those rows exactly (their vectors read from the memory-mapped file)
EXACT_UP_TO = 16384
#: SQLite's limit on parameters, with room
_PART = 500
_views: dict[str, Any] = {}
_views_lock = threading.Lock()
SqlFilter = tuple[str, list[Any]]


@dataclass(frozen=True)
class State:
    dim: int
    file: str | None
    main_rows: int
    gen: int


# writing (inside the catalog's transaction) ------------------------------------------------
def create(db: Any, collection: str) -> None:
    """An empty index for a collection whose text space is empty."""
    db.execute("INSERT OR REPLACE INTO vector_index(collection, dim, gen) VALUES (?,0,?)",
               (collection, secrets.randbits(52)))


def note(db: Any, collection: str, keys: Sequence[int], vectors: Sequence[np.ndarray]) -> None:
    """The vectors of new lexical rows, where the collection has an index."""
    if not keys or not touch(db, collection):
        return
    db.execute("UPDATE vector_index SET dim=? WHERE collection=? AND dim=0",
               (len(vectors[0]), collection))
    db.executemany("INSERT OR REPLACE INTO vector_delta(collection, key, vec) VALUES (?,?,?)",
                   [(collection, int(k), np.asarray(v, dtype=np.float32).tobytes())
                    for k, v in zip(keys, vectors, strict=True)])


def touch(db: Any, collection: str) -> bool:
    """Move the generation (first, so another thread of this process, which shares the
    connection, never pairs a half-written change with the old one); False without index."""
    return db.execute("UPDATE vector_index SET gen = gen + 1 WHERE collection=?",
                      (collection,)).rowcount > 0


def forget(db: Any, collection: str) -> None:
    """Drop a collection's index (its rows no longer follow the lexical index's); its files
    go with :func:`.vector_files.remove_files`."""
    db.execute("DELETE FROM vector_delta WHERE collection=?", (collection,))
    db.execute("DELETE FROM vector_index WHERE collection=?", (collection,))


def usearch_index() -> Any:
    """usearch's ``Index`` class. onnxruntime is imported first: its pybind11 extension,
    loaded after usearch's (2.26), crashes the process (a segfault, in any order of use)."""
    with contextlib.suppress(ImportError):
        import onnxruntime  # noqa: F401
    from usearch.index import Index

    return Index


def open_view(path: Path) -> Any:
    """The main file, memory-mapped (one view per file and process). Raises OSError when it
    is missing or unreadable."""
    key = str(path)
    with _views_lock:
        view = _views.get(key)
        if view is None:
            try:
                view = usearch_index().restore(key, view=True)
            except (RuntimeError, ValueError) as e:
                raise OSError(f"{path}: {e}") from e
            if view is None:
                raise FileNotFoundError(key)
            view.expansion_search = hnsw_settings()["ef_search"]  # type: ignore[misc]
            _views[key] = view
        return view


def close_view(path: Path) -> None:
    with _views_lock:
        _views.pop(str(path), None)


class VectorIndex:
    """The text vectors of one collection, read on the catalog's connection (``lock``: the
    catalog's transaction lock, held while a consistent snapshot is read)."""

    def __init__(self, db: Any, home: Path, collection: str,
                 lock: AbstractContextManager[Any]) -> None:
        self.db = db
        self.dir = home / "vectors"
        self.collection = collection
        self.lock = lock
        self._delta: tuple[tuple[int, int], np.ndarray, np.ndarray] | None = None
        self._file: str | None = None
        self._keys: tuple[int, list[int]] | None = None  # (gen, a sample of live keys)
        self._sample: tuple[int, int, np.ndarray] | None = None  # (gen, n, vectors)

    def state(self) -> State | None:
        row = self.db.execute("SELECT dim, file, main_rows, gen FROM vector_index WHERE "
                              "collection=?", (self.collection,)).fetchone()
        return State(int(row[0]), row[1], int(row[2]), int(row[3])) if row else None

    def main(self, state: State) -> Any:
        if self._file not in (None, state.file):  # merged since: let the old mapping go
            close_view(self.dir / str(self._file))
        self._file = state.file
        return open_view(self.dir / state.file) if state.file else None

    def close(self) -> None:
        if self._file:
            close_view(self.dir / self._file)
        self._file = None

    def delta_rows(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM vector_delta WHERE collection=?",
                                   (self.collection,)).fetchone()[0])

    def size(self) -> int:
        """Live rows: the lexical index's count."""
        row = self.db.execute("SELECT rows FROM lexical_tables WHERE collection=?",
                              (self.collection,)).fetchone()
        return int(row[0] or 0) if row else 0

    # reading -----------------------------------------------------------------------------------
    def snapshot(self) -> tuple[State, Any, np.ndarray, np.ndarray] | None:
        """State, main view and delta rows, consistent with each other (read under the
        catalog's lock); None when there is no index or its file cannot be read."""
        with self.lock:
            state = self.state()
            if state is None:
                return None
            try:
                main = self.main(state)
            except OSError:
                return None  # gone or damaged: the store answers; the next ingest rebuilds
            stamp = (state.gen, state.dim)
            delta = self._delta
            if delta is None or delta[0] != stamp:
                rows = self.db.execute("SELECT key, vec FROM vector_delta WHERE collection=? "
                                       "ORDER BY key", (self.collection,)).fetchall()
                keys = np.array([r[0] for r in rows], dtype=np.int64)
                vecs = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(
                    len(rows), state.dim) if rows else np.zeros((0, state.dim), np.float32)
                delta = self._delta = (stamp, keys, vecs)
            return state, main, delta[1], delta[2]

    def live(self, keys: Iterable[int], sql: SqlFilter | None = None) -> set[int]:
        """Which of ``keys`` the lexical index holds (and pass the compiled filter)."""
        cond, params = sql or ("1", [])
        keys = [int(k) for k in keys]
        out: set[int] = set()
        for i in range(0, len(keys), _PART):
            part = keys[i:i + _PART]
            out.update(r[0] for r in self.db.execute(
                f"SELECT i.id FROM lexical_ids i WHERE i.id IN ({','.join('?' * len(part))}) "
                f"AND +i.collection=? AND {cond}", [*part, self.collection, *params]))
        return out

    def search(self, query: np.ndarray, n: int, sql: SqlFilter | None = None,
               narrow: Narrow | None = None) -> list[tuple[int, float]] | None:
        """The ``n`` nearest live rows (passing the compiled filter ``sql``) as (key, cosine
        distance), nearest first. ``narrow``: SQL over ``lexical_ids i`` that value indexes
        serve (:mod:`.value_index`), met by every passing row: when it leaves at most
        :data:`EXACT_UP_TO` passing rows, they are scored exactly. None when there is no
        index, or the filter is too selective for a graph search: the store answers those."""
        snap = self.snapshot()
        if snap is None:
            return None
        state, main, dkeys, dvecs = snap
        q = np.asarray(query, dtype=np.float32)
        q = q / (np.linalg.norm(q) or 1.0)
        share = 1.0
        if sql is not None:  # a small collection, or a selective filter: the store's
            if len(dkeys) + state.main_rows < FILTER_GRAPH_FROM:  # metadata index serves
                return None                                      # it better
            if narrow is not None:
                with self.lock:  # (no other thread's transaction half-written)
                    passing = self._passing(sql, narrow)
                if len(passing) <= EXACT_UP_TO:
                    return self._exact(q, n, passing, main, dkeys, dvecs)
            share = self._share(state, sql)  # (more than EXACT_UP_TO pass: sampled)
            if narrow is not None:
                share = max(share, len(passing) / max(1, self.size()))
            if share * FILTER_PROBE < 2 * n:
                return None
        found: dict[int, float] = {}
        if len(dkeys):  # exact, nearest first, a slice at a time until n are live and pass
            dist = 1.0 - dvecs @ q
            order = np.argsort(dist, kind="stable")
            for i in range(0, len(order), 4 * n + 16):
                part = order[i:i + 4 * n + 16]
                ok = self.live(dkeys[part].tolist(), sql)
                found.update((int(dkeys[j]), float(dist[j])) for j in part
                             if int(dkeys[j]) in ok)
                if len(found) >= n:
                    break
        if main is not None and len(main):
            alive = max(1, self.size() - len(dkeys))  # main's live rows, about
            more = self._from_main(main, q, n, sql, share * min(1.0, alive / len(main)))
            if more is None:
                return None
            found.update(more)
        return sorted(found.items(), key=lambda kv: (kv[1], kv[0]))[:n]

    def _from_main(self, main: Any, q: np.ndarray, n: int, sql: SqlFilter | None,
                   share: float) -> dict[int, float] | None:
        """The ``n`` nearest live (passing) rows of the main file, asking the graph for more
        while dead or filtered-out keys crowd the answer (``share``: the part of its rows
        expected live and passing); candidates are checked nearest first, a slice at a
        time, until ``n`` pass. None when :data:`FILTER_PROBE` candidates hold too few."""
        total = len(main)
        want = min(total, int(2 * n / max(share, 1e-6)) + 10)
        while True:
            got = main.search(q, want, threads=1)
            keys = np.asarray(got.keys, dtype=np.int64).tolist()
            dists = np.asarray(got.distances, dtype=np.float64).tolist()
            out: dict[int, float] = {}
            for i in range(0, len(keys), 512):
                ok = self.live(keys[i:i + 512], sql)
                out.update((k, d) for k, d in zip(keys[i:i + 512], dists[i:i + 512],
                                                  strict=True) if k in ok)
                if len(out) >= n:
                    return out
            if want >= total:
                return out
            if sql is not None and want >= FILTER_PROBE:
                return None
            want = min(total, want * 4)

    def _passing(self, sql: SqlFilter, narrow: Narrow) -> list[int]:
        """The live rows passing the filter, found through value indexes: at most
        :data:`EXACT_UP_TO` + 1 of them (more: the graph is searched)."""
        cond, params = narrow.where(sql)
        return [r[0] for r in self.db.execute(
            f"SELECT i.id FROM lexical_ids i WHERE i.collection=? AND {cond} LIMIT ?",
            [self.collection, *params, EXACT_UP_TO + 1])]

    @staticmethod
    def _exact(q: np.ndarray, n: int, keys: list[int], main: Any, dkeys: np.ndarray,
               dvecs: np.ndarray) -> list[tuple[int, float]]:
        """The ``n`` nearest of ``keys`` (as :meth:`search`), every one scored: recent rows
        from the delta, the others' vectors read from the main file."""
        ask = np.array(keys, dtype=np.int64)
        recent = np.isin(ask, dkeys)
        parts = [(ask[recent], 1.0 - dvecs[np.searchsorted(dkeys, ask[recent])] @ q)]
        rest = ask[~recent].astype(np.uint64)  # (dkeys are sorted: read by key)
        if len(rest) and main is not None:
            rest = rest[np.asarray(main.contains(rest), dtype=bool)]
            if len(rest):
                vecs = np.asarray(main.get(rest), dtype=np.float32)
                norms = np.sqrt(np.einsum("ij,ij->i", vecs, vecs))
                parts.append((rest.astype(np.int64), 1.0 - vecs @ q / np.maximum(norms, 1e-12)))
        got = np.concatenate([k for k, _ in parts])
        dist = np.concatenate([d for _, d in parts]).astype(np.float64)
        best = np.lexsort((got, dist))[:n]  # nearest first, ties by key
        return list(zip(got[best].tolist(), dist[best].tolist(), strict=True))

    def _share(self, state: State, sql: SqlFilter) -> float:
        """The share of the rows passing a filter, from a sample of the live keys."""
        if self._keys is None or self._keys[0] != state.gen:
            self._keys = (state.gen, self.sample_keys(512))
        keys = self._keys[1]
        return len(self.live(keys, sql)) / len(keys) if keys else 1.0

    def vectors(self, keys: Sequence[int]) -> dict[int, np.ndarray] | None:
        """The stored vectors of ``keys`` (float16 precision for those in the main file);
        None when there is no index."""
        snap = self.snapshot()
        if snap is None:
            return None
        _, main, dkeys, dvecs = snap
        out: dict[int, np.ndarray] = {}
        at = {int(k): i for i, k in enumerate(dkeys.tolist())}
        rest = []
        for k in keys:
            if int(k) in at:
                out[int(k)] = dvecs[at[int(k)]]
            else:
                rest.append(int(k))
        if rest and main is not None:
            arr = np.array(rest, dtype=np.uint64)
            has = np.asarray(main.contains(arr), dtype=bool)
            if has.any():
                got = np.asarray(main.get(arr[has]), dtype=np.float32)
                for k, v in zip(arr[has].tolist(), got, strict=True):
                    out[int(k)] = v / (np.linalg.norm(v) or 1.0)
        return out

    def sample_keys(self, n: int, runs: int = 64) -> list[int]:
        """About ``n`` live keys, in short runs spread over the collection's key range."""
        lo, hi = self.db.execute(  # apart: min and max together scan every row's key
            "SELECT (SELECT min(id) FROM lexical_ids WHERE collection=?1), "
            "(SELECT max(id) FROM lexical_ids WHERE collection=?1)", (self.collection,)
        ).fetchone()
        keys: set[int] = set()
        if lo is not None:
            for r in range(runs):
                keys.update(row[0] for row in self.db.execute(
                    "SELECT id FROM lexical_ids WHERE collection=? AND id >= ? ORDER BY id "
                    "LIMIT ?", (self.collection, lo + (hi - lo) * r // runs,
                                max(1, n // runs))))
        return sorted(keys)

    def sample(self, n: int) -> np.ndarray | None:
        """About ``n`` live vectors spread over the collection (as the store's sample); None
        when there is no index."""
        state = self.state()
        if state is None:
            return None
        if self._sample is None or self._sample[:2] != (state.gen, n):
            found = self.vectors(self.sample_keys(n))
            if found is None:
                return None
            self._sample = (state.gen, n, np.stack(list(found.values())) if found
                            else np.zeros((0, 1), np.float32))
        return self._sample[2]

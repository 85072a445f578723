"""The vector index: a collection's text vectors in a memory-mapped HNSW graph (usearch,
float16), so that a text query never loads Chroma's whole HNSW index.

Local Chroma reads a collection's entire HNSW index into memory on its first read in a
process (1M x 384 float32: 5.8 GB resident, 11 s before the first hit). This index is a
second copy of the embedded store's *text* space, kept beside the lexical index:

- **main**: an immutable usearch file (``HOME/vectors/NAME-GEN.usearch``), opened as a
  memory-mapped view: a query touches only the pages of the graph it walks;
- **delta**: the vectors written since (``vector_delta``, float32, at most
  :data:`MERGE_AT` rows), in the catalog, written in the same transaction as the lexical
  rows they belong to, and scored exactly;
- keys are the lexical index's row ids (``lexical_ids.id``): a changed chunk gets a new id,
  a removed one loses it, so a key the lexical index no longer holds is dead wherever it is,
  and nothing else has to be told of a removal.

When the delta reaches :data:`MERGE_AT` rows, the writer folds it into a new main file (a
copy: readers keep the old one until they next look) and swaps the two in one transaction.
Every lexical write either brings its vectors or drops this index (:meth:`forget`); the
collection's queries then go to Chroma until the next ingest rebuilds it from the store
(:meth:`DataDir.fresh_vectors`). Server mode and collections semsearch did not write have
none: there the store's own index answers.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .hnsw import hnsw_settings

SCHEMA = """
CREATE TABLE IF NOT EXISTS vector_index(
    collection TEXT PRIMARY KEY, dim INTEGER NOT NULL, file TEXT, main_rows INTEGER NOT NULL
    DEFAULT 0, gen INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS vector_delta(
    collection TEXT NOT NULL, key INTEGER NOT NULL, vec BLOB NOT NULL,
    PRIMARY KEY(collection, key)) WITHOUT ROWID;
"""
#: delta rows folded into a new main file (the delta is read and scored whole by a query)
MERGE_AT = int(os.environ.get("SEMSEARCH_VECTOR_MERGE_AT", "4096"))
#: a filtered query asks the graph for at most this many nearest rows to find its hits
#: among; a filter that passes too few of them is left to the store (its metadata index)
FILTER_PROBE = 16384
#: below this many rows a filtered query goes to the store: loading its index costs little
#: there, and its metadata index finds the passing rows at once
FILTER_GRAPH_FROM = 50_000
#: SQLite's limit on parameters, with room
_PART = 500
_views: dict[str, Any] = {}
_views_lock = threading.Lock()


def usable() -> bool:
    """Whether queries may use the index (``SEMSEARCH_VECTOR_INDEX=0``: always Chroma)."""
    return os.environ.get("SEMSEARCH_VECTOR_INDEX", "1") != "0"


@dataclass(frozen=True)
class State:
    dim: int
    file: str | None
    main_rows: int
    gen: int


def _blob(vec: np.ndarray) -> bytes:
    return np.asarray(vec, dtype=np.float32).tobytes()


def _new_index(dim: int) -> Any:
    from usearch.index import Index

    hnsw = hnsw_settings()
    return Index(ndim=dim, metric="cos", dtype="f16", connectivity=hnsw["max_neighbors"],
                 expansion_add=hnsw["ef_construction"], expansion_search=hnsw["ef_search"])


def note(db: Any, collection: str, keys: Sequence[int], vectors: Sequence[np.ndarray],
         fresh: bool) -> None:
    """Inside the catalog's transaction: the vectors of new lexical rows. ``fresh``: the
    collection had no text before, so an index starts here; otherwise rows are noted only
    where an index exists (one from before is built from the store at the next ingest)."""
    if not keys:
        return
    if db.execute("SELECT 1 FROM vector_index WHERE collection=?",
                  (collection,)).fetchone() is None:
        if not fresh:
            return
        db.execute("INSERT INTO vector_index(collection, dim) VALUES (?,?)",
                   (collection, len(vectors[0])))
    db.executemany("INSERT OR REPLACE INTO vector_delta(collection, key, vec) VALUES (?,?,?)",
                   [(collection, int(k), _blob(v)) for k, v in zip(keys, vectors, strict=True)])
    db.execute("UPDATE vector_index SET gen = gen + 1 WHERE collection=?", (collection,))


def forget(db: Any, collection: str) -> None:
    """Inside the catalog's transaction: drop a collection's index (lexical rows were written
    without their vectors); its files go at the next build."""
    db.execute("DELETE FROM vector_delta WHERE collection=?", (collection,))
    db.execute("DELETE FROM vector_index WHERE collection=?", (collection,))


def _view(path: Path) -> Any:
    """The main file, memory-mapped (one view per file and process)."""
    key = str(path)
    with _views_lock:
        view = _views.get(key)
        if view is None:
            from usearch.index import Index

            view = Index.restore(key, view=True)
            if view is None:
                raise FileNotFoundError(key)
            view.expansion_search = hnsw_settings()["ef_search"]  # type: ignore[misc]
            _views[key] = view
        return view


class VectorIndex:
    """The text vectors of one collection, on the catalog's connection."""

    def __init__(self, db: Any, home: Path, collection: str) -> None:
        self.db = db
        self.dir = home / "vectors"
        self.collection = collection
        self._delta: tuple[int, np.ndarray, np.ndarray] | None = None  # (gen, keys, vectors)
        self._file: str | None = None
        self._keys: tuple[int, list[int]] | None = None  # (gen, a sample of live keys)
        self._sample: tuple[int, int, np.ndarray] | None = None  # (gen, n, vectors)

    # state -------------------------------------------------------------------------------------
    def state(self) -> State | None:
        row = self.db.execute("SELECT dim, file, main_rows, gen FROM vector_index WHERE "
                              "collection=?", (self.collection,)).fetchone()
        return State(int(row[0]), row[1], int(row[2]), int(row[3])) if row else None

    def _main(self, state: State) -> Any:
        if not state.file:
            return None
        if self._file not in (None, state.file):  # merged since: let the old mapping go
            with _views_lock:
                _views.pop(str(self.dir / self._file), None)
        self._file = state.file
        return _view(self.dir / state.file)

    def delta_rows(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM vector_delta WHERE collection=?",
                                   (self.collection,)).fetchone()[0])

    # reading -----------------------------------------------------------------------------------
    def _snapshot(self) -> tuple[State, Any, np.ndarray, np.ndarray] | None:
        """State, main view and the live delta rows, consistent with each other: read again
        when a writer moved the generation meanwhile."""
        for _ in range(20):
            state = self.state()
            if state is None:
                return None
            try:
                main = self._main(state)
            except (FileNotFoundError, RuntimeError, ValueError):
                continue  # a merge replaced the file just now
            if self._delta is None or self._delta[0] != state.gen:
                rows = self.db.execute(
                    "SELECT d.key, d.vec FROM vector_delta d JOIN lexical_ids i ON i.id = d.key "
                    "WHERE d.collection=? ORDER BY d.key", (self.collection,)).fetchall()
                keys = np.array([r[0] for r in rows], dtype=np.int64)
                vecs = (np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
                        .reshape(len(rows), state.dim) if rows
                        else np.zeros((0, state.dim), dtype=np.float32))
                self._delta = (state.gen, keys, vecs)
            if self.state() == state:
                return state, main, self._delta[1], self._delta[2]
        return None

    def size(self) -> int | None:
        """Live rows (the lexical index's count); None when there is no index."""
        return None if self.state() is None else int(self.db.execute(
            "SELECT rows FROM lexical_tables WHERE collection=?",
            (self.collection,)).fetchone()[0] or 0)

    def live(self, keys: Iterable[int], sql: tuple[str, list[Any]] | None = None) -> set[int]:
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

    def search(self, query: np.ndarray, n: int, sql: tuple[str, list[Any]] | None = None
               ) -> list[tuple[int, float]] | None:
        """The ``n`` nearest live rows (passing the compiled filter ``sql``) as (key, cosine
        distance), nearest first. None when there is no index, or the filter is too
        selective for a graph search (:meth:`_from_main`): the store answers those."""
        snap = self._snapshot()
        if snap is None:
            return None
        state, main, dkeys, dvecs = snap
        share = 1.0
        if sql is not None:  # a small collection, or a selective filter: the store's
            if len(dkeys) + state.main_rows < FILTER_GRAPH_FROM:  # metadata index serves
                return None                                      # it better
            share = self._share(state, sql)
            if share * FILTER_PROBE < 2 * n:
                return None
        q = np.asarray(query, dtype=np.float32)
        q = q / (np.linalg.norm(q) or 1.0)
        found: dict[int, float] = {}
        if len(dkeys):  # exact, nearest first, checking the filter a slice at a time
            dist = 1.0 - dvecs @ q
            order = np.argsort(dist, kind="stable")
            for i in range(0, len(order), 4 * n + 16):
                part = order[i:i + 4 * n + 16]
                ok = self.live(dkeys[part].tolist(), sql) if sql else None
                found.update((int(dkeys[j]), float(dist[j])) for j in part
                             if ok is None or int(dkeys[j]) in ok)
                if len(found) >= n:
                    break
        if main is not None and len(main):
            more = self._from_main(main, q, n, sql, share)
            if more is None:
                return None
            found.update(more)
        return sorted(found.items(), key=lambda kv: (kv[1], kv[0]))[:n]

    def _from_main(self, main: Any, q: np.ndarray, n: int, sql: tuple[str, list[Any]] | None,
                   share: float) -> dict[int, float] | None:
        """The ``n`` nearest live (passing) rows of the main file, asking the graph for more
        while dead or filtered-out keys crowd the answer (``share``: the part of the rows
        the filter passes, as sampled); candidates are checked nearest first, a slice at a
        time, until ``n`` pass. None when :data:`FILTER_PROBE` candidates hold too few."""
        total = len(main)
        want = min(total, int(2 * n / share) + 10)
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

    def _share(self, state: State, sql: tuple[str, list[Any]]) -> float:
        """The share of the main file's rows passing a filter, from a sample of its keys."""
        if self._keys is None or self._keys[0] != state.gen:
            self._keys = (state.gen, self.sample_keys(512))
        keys = self._keys[1]
        return len(self.live(keys, sql)) / len(keys) if keys else 1.0

    def vectors(self, keys: Sequence[int]) -> dict[int, np.ndarray] | None:
        """The stored vectors of ``keys`` (float16 precision for those in the main file);
        None when there is no index."""
        snap = self._snapshot()
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

    def sample_keys(self, n: int, slices: int = 8) -> list[int]:
        """About ``n`` live keys, in a few runs spread over the collection."""
        lo, hi = self.db.execute("SELECT min(id), max(id) FROM lexical_ids WHERE "
                                 "collection=?", (self.collection,)).fetchone()
        keys: set[int] = set()
        if lo is not None:
            for s in range(slices):
                keys.update(r[0] for r in self.db.execute(
                    "SELECT id FROM lexical_ids WHERE id >= ? AND +collection=? ORDER BY id "
                    "LIMIT ?", (lo + (hi - lo) * s // slices, self.collection,
                                max(1, n // slices))))
        return sorted(keys)

    def sample(self, n: int) -> np.ndarray | None:
        """About ``n`` live vectors spread over the collection (as the store's sample); None
        when there is no index."""
        state = self.state()
        if state is None:
            return None
        if self._sample is None or self._sample[:2] != (state.gen, n):
            found = self.vectors(self.sample_keys(n)) or {}
            self._sample = (state.gen, n, np.stack(list(found.values())) if found
                            else np.zeros((0, 1), np.float32))
        return self._sample[2]

    # merging and building (the writer, under the write lock) -----------------------------------
    def merge(self, transaction: Any, force: bool = False) -> bool:
        """Fold the delta into a new main file once it holds :data:`MERGE_AT` rows (or any,
        with ``force``); dead keys are dropped, and the file rebuilt when they are many."""
        state = self.state()
        if state is None or (self.delta_rows() < MERGE_AT and not force):
            return False
        rows = self.db.execute(
            "SELECT d.key, d.vec FROM vector_delta d JOIN lexical_ids i ON i.id = d.key "
            "WHERE d.collection=?", (self.collection,)).fetchall()
        index = _new_index(state.dim)
        if state.file:
            index.load(str(self.dir / state.file))
            held = np.asarray(index.keys, dtype=np.int64)
            alive = np.fromiter(self.live(held.tolist()), dtype=np.int64)
            dead = held[~np.isin(held, alive)]
            if len(dead) > len(held) // 4:  # many holes: build the graph anew
                vecs = np.asarray(index.get(alive.astype(np.uint64)), dtype=np.float32) \
                    if len(alive) else None
                index = _new_index(state.dim)
                if vecs is not None:
                    index.add(alive.astype(np.uint64), vecs)
            elif len(dead):
                index.remove(dead.astype(np.uint64))
        if rows:
            index.add(np.array([r[0] for r in rows], dtype=np.uint64),
                      np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
                      .reshape(len(rows), state.dim))
        self._swap(transaction, state, index, [r[0] for r in rows])
        return True

    def build(self, transaction: Any, dim: int,
              pages: Iterable[tuple[list[str], np.ndarray]]) -> int:
        """A new index from every text vector of the store (``pages`` of chunk ids and
        vectors); chunks the lexical index lacks are left out. Returns the rows indexed."""
        index = _new_index(dim)
        for cids, vecs in pages:
            keys = self.keys_of(cids)
            pick = [i for i, c in enumerate(cids) if c in keys]
            if pick:
                index.add(np.array([keys[cids[i]] for i in pick], dtype=np.uint64),
                          np.asarray(vecs, dtype=np.float32)[pick])
        with transaction() as db:
            db.execute("DELETE FROM vector_delta WHERE collection=?", (self.collection,))
            db.execute("INSERT OR REPLACE INTO vector_index(collection, dim, gen) "
                       "VALUES (?,?,0)", (self.collection, dim))
        state = self.state()
        assert state is not None
        self._swap(transaction, state, index, [])
        return len(index)

    def _swap(self, transaction: Any, state: State, index: Any, merged: list[int]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        name = f"{self.collection}-{state.gen + 1}-{os.getpid()}.usearch"
        tmp = self.dir / f".{name}.tmp"
        index.save(str(tmp))
        os.replace(tmp, self.dir / name)
        with transaction() as db:
            for i in range(0, len(merged), _PART):
                part = merged[i:i + _PART]
                db.execute(f"DELETE FROM vector_delta WHERE collection=? AND key IN "
                           f"({','.join('?' * len(part))})", [self.collection, *part])
            db.execute("DELETE FROM vector_delta WHERE collection=? AND key NOT IN "
                       "(SELECT id FROM lexical_ids WHERE collection=?)",
                       (self.collection, self.collection))
            db.execute("UPDATE vector_index SET file=?, main_rows=?, gen=gen+1 WHERE "
                       "collection=?", (name, len(index), self.collection))
        self.tidy()

    def keys_of(self, cids: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in range(0, len(cids), _PART):
            part = list(cids[i:i + _PART])
            out.update((str(c), int(k)) for k, c in self.db.execute(
                f"SELECT id, cid FROM lexical_ids WHERE collection=? AND cid IN "
                f"({','.join('?' * len(part))})", [self.collection, *part]))
        return out

    def tidy(self) -> None:
        """Remove this collection's files the state no longer names (a reader holding one
        keeps its mapping)."""
        state = self.state()
        keep = state.file if state else None
        if not self.dir.exists():
            return
        for f in self.dir.glob(f"*{self.collection}-*.usearch*"):
            stem = f.name.lstrip(".")
            if f.name != keep and stem.rsplit("-", 2)[0] == self.collection:
                with contextlib.suppress(OSError):
                    f.unlink()

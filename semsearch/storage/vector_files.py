"""The vector index's writer (:mod:`.vector_index`): its main file built from the store, and
the delta folded into a new main file. Runs under the data directory's write lock.

A new file is written beside the old one (``.NAME-TOKEN.usearch.tmp``, synced, renamed),
and only then named in the catalog, in one transaction that also drops the rows it took
from the delta: a kill or a full disk at any point leaves the index as it was, and the
stray file is cleared by the next merge. Readers keep their mapping of the old file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .hnsw import hnsw_settings
from .vector_index import _PART, VectorIndex, close_view, usearch_index

#: delta rows folded into a new main file (a query reads and scores the delta whole)
MERGE_AT = int(os.environ.get("SEMSEARCH_VECTOR_MERGE_AT", "4096"))


def new_graph(dim: int) -> Any:
    hnsw = hnsw_settings()
    return usearch_index()(ndim=dim, metric="cos", dtype="f16", connectivity=hnsw["max_neighbors"],
                 expansion_add=hnsw["ef_construction"], expansion_search=hnsw["ef_search"])


def remove_files(home: Path, collection: str, keep: str | None = None) -> None:
    """A collection's files in ``HOME/vectors`` but ``keep`` (stray ones included; a reader
    holding one keeps its mapping). Names are ``NAME-TOKEN``: another collection's never
    match (``notes`` is not ``notes-old``)."""
    folder = home / "vectors"
    if not folder.is_dir():
        return
    for f in folder.iterdir():
        stem = f.name.lstrip(".").split(".usearch")[0]
        if f.name != keep and stem.rsplit("-", 1)[0] == collection:
            close_view(f)
            with contextlib.suppress(OSError):
                f.unlink()


class VectorFiles:
    """Builds and merges one collection's vector index (``transaction``: the catalog's)."""

    def __init__(self, index: VectorIndex, transaction: Callable[[], Any]) -> None:
        self.index = index
        self.db = index.db
        self.transaction = transaction
        self.collection = index.collection

    def readable(self) -> bool:
        """Whether the index's main file (if it has one) opens."""
        state = self.index.state()
        if state is None or not state.file:
            return True
        try:
            self.index.main(state)
            return True
        except OSError:
            return False

    def build(self, dim: int, pages: Iterable[tuple[list[str], np.ndarray]]) -> int:
        """A new index from every text vector of the store (``pages`` of chunk ids and
        vectors), keyed by the lexical rows of those chunks. Returns the rows indexed."""
        graph = new_graph(dim)
        for cids, vecs in pages:
            keys = self.keys_of(cids)
            pick = [i for i, c in enumerate(cids) if c in keys]
            if pick:
                graph.add(np.array([keys[cids[i]] for i in pick], dtype=np.uint64),
                          np.asarray(vecs, dtype=np.float32)[pick])
        name = self._save(graph)
        with self.transaction() as db:
            db.execute("DELETE FROM vector_delta WHERE collection=?", (self.collection,))
            db.execute("INSERT OR REPLACE INTO vector_index(collection, dim, file, main_rows, "
                       "gen) VALUES (?,?,?,?,?)", (self.collection, dim, name, len(graph),
                                                   secrets.randbits(52)))
        remove_files(self.index.dir.parent, self.collection, keep=name)
        return len(graph)

    def merge(self, force: bool = False) -> bool:
        """Fold the delta into a new main file once it holds :data:`MERGE_AT` rows, or once
        half the main file's keys are dead (or whatever it holds, with ``force``)."""
        state = self.index.state()
        if state is None or not state.dim:
            return False
        waiting = self.index.delta_rows()
        dead = state.main_rows + waiting - self.index.size()  # at least, with dead deltas
        if not force and waiting < MERGE_AT and not (state.main_rows and
                                                      dead > state.main_rows // 2):
            return False
        rows = self.db.execute("SELECT key, vec FROM vector_delta WHERE collection=?",
                               (self.collection,)).fetchall()
        keys = np.array([r[0] for r in rows], dtype=np.int64)
        live = np.isin(keys, np.fromiter(self.index.live(keys.tolist()), dtype=np.int64))
        graph = new_graph(state.dim)
        if state.file:
            graph.load(str(self.index.dir / state.file))
            if dead > 0:  # (no removal since the last merge: no key to check)
                graph = self._drop_dead(graph, state.dim)
        if live.any():
            vecs = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(
                len(rows), state.dim)
            graph.add(keys[live].astype(np.uint64), vecs[live])
        name = self._save(graph)
        with self.transaction() as db:
            db.execute("UPDATE vector_index SET gen = gen + 1 WHERE collection=?",
                       (self.collection,))
            for i in range(0, len(rows), _PART):
                part = [int(k) for k in keys[i:i + _PART]]
                db.execute(f"DELETE FROM vector_delta WHERE collection=? AND key IN "
                           f"({','.join('?' * len(part))})", [self.collection, *part])
            db.execute("UPDATE vector_index SET file=?, main_rows=? WHERE collection=?",
                       (name, len(graph), self.collection))
        remove_files(self.index.dir.parent, self.collection, keep=name)
        return True

    def _drop_dead(self, graph: Any, dim: int) -> Any:
        """The graph without the keys the lexical index no longer holds: built anew when
        they are a quarter of it or more."""
        held = np.asarray(graph.keys, dtype=np.int64)
        alive = np.fromiter(self.index.live(held.tolist()), dtype=np.int64)
        dead = held[~np.isin(held, alive)]
        if len(dead) > len(held) // 4:
            fresh = new_graph(dim)
            if len(alive):
                fresh.add(alive.astype(np.uint64),
                          np.asarray(graph.get(alive.astype(np.uint64)), dtype=np.float32))
            return fresh
        if len(dead):
            graph.remove(dead.astype(np.uint64))
        return graph

    def _save(self, graph: Any) -> str:
        """Write the graph to a new file (synced, then renamed); its name."""
        folder = self.index.dir
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{self.collection}-{uuid.uuid4().hex[:12]}.usearch"
        tmp = folder / f".{name}.tmp"
        graph.save(str(tmp))
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, folder / name)
        with contextlib.suppress(OSError):  # the rename, on disk (POSIX)
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        return name

    def keys_of(self, cids: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for i in range(0, len(cids), _PART):
            part = list(cids[i:i + _PART])
            out.update((str(c), int(k)) for k, c in self.db.execute(
                f"SELECT id, cid FROM lexical_ids WHERE collection=? AND cid IN "
                f"({','.join('?' * len(part))})", [self.collection, *part]))
        return out

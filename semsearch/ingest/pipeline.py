"""Ingest: bring a collection in step with files on disk.

Per file, the catalog remembers size, mtime and content hash. An unchanged file costs a stat;
a changed file is re-read and re-embedded; a file whose content hash is already known (a move,
a rename, a copy, an unchanged record) reuses the stored vectors; files gone from an ingested
folder are removed. Reading and decoding run in worker threads, ahead of the models.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ModelUnavailable
from ..sources import Item, ReadOptions, source_for, supported_extensions
from ..storage.catalog import FileRow, ItemRow
from ..storage.ids import chroma_id
from ..types import IngestSummary, ModelSpec, ProgressEvent, Skipped
from .embedding import Planned, embed
from .embedding import plan as plan_item
from .reader import Prepared, read_ahead
from .removal import Removals
from .scan import FileStat, under, walk
from .shard import Shard, in_shard, root_of

if TYPE_CHECKING:
    from ..models.base import Embedder
    from ..models.registry import ModelRegistry
    from ..storage.data_dir import DataDir
    from ..storage.vectors import Store

#: flush to the store after this many embeddings are waiting
FLUSH_UNITS = 256

SkipFn = Callable[[str, str], None]
ProgressFn = Callable[[ProgressEvent], None]


@dataclass
class Open:
    """A file whose items are being flushed; recorded when all ``expected`` are written."""

    prep: Prepared
    old_items: list[ItemRow]  # what the catalog had for this path before this run
    expected: int
    plans: list[Planned] = field(default_factory=list)


class Ingester(Removals):
    """One ingest run over one collection, built from its dependencies: the data directory,
    the models and the collection's model spec."""

    def __init__(
        self,
        data: DataDir,
        models: ModelRegistry,
        name: str,
        spec: ModelSpec,
        options: ReadOptions,
        on_skip: SkipFn | None = None,
        progress: ProgressFn | None = None,
    ) -> None:
        self.data = data
        self.models = models
        self.spec = spec
        self.name = name
        self.catalog = data.catalog
        self.options = options
        self.on_skip = on_skip or (lambda path, reason: None)
        self.progress = progress or (lambda event: None)
        self.summary = IngestSummary()
        self.text: Embedder | None = None
        self.clip: Embedder | None = None
        self.clip_wanted = spec.clip_model is not None
        self.lexical = data.lexical(name)
        self.items_written = 0
        self._claimed: dict[str, str] = {}  # record id -> the file that holds it in this run
        self.gone: set[str] = set()
        self.kept: list[str] = []  # paths the walk could not read: not gone

    @property
    def store(self) -> Store:
        """Opened on first use: a run with nothing to write never imports Chroma."""
        return self.data.store

    # planning --------------------------------------------------------------------------------
    def run(
        self,
        paths: Sequence[str | os.PathLike[str]],
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        prune: Iterable[str] = (),
        shard: Shard | None = None,
        follow_links: bool = False,
        prune_missing: bool = False,
    ) -> IngestSummary:
        """``shard`` (I, N): only files of shard I of N (semsearch.shard) are ingested, and
        only they are pruned when gone. A file or folder the walk could not read is skipped
        with a line and kept as it was (never taken for gone). A path given that does not
        exist is a skip line and goes into ``summary.missing`` (what the collection held under
        it stays: a renamed folder or an unmounted disk is never a mass removal) unless
        ``prune_missing``: then what it held is removed."""
        started = time.perf_counter()
        extensions = supported_extensions()
        known = self.catalog.files(self.name)
        seen: dict[str, FileStat] = {}
        roots: list[str] = [str(Path(p).resolve()) for p in prune]
        first_root = len(roots)
        for raw in paths:
            root = Path(raw).expanduser().resolve()
            if not root.exists():
                held = sum(under(p, str(root)) for p in known)
                if prune_missing:
                    roots.append(str(root))  # what it held is removed below
                    if not held:
                        self._skip(str(raw), "no such file or directory")
                    continue
                self.kept.append(str(root))  # a missing source's items stay
                self.summary.missing.append(str(raw))
                self._skip(str(raw), "no such file or directory" + (
                    f" (its {held} file{'s' if held != 1 else ''} stay in the collection; "
                    "--prune-missing removes them)" if held else ""))
                continue
            if root.is_file() and root.suffix.lower() not in extensions:
                self._skip(str(raw), f"unsupported file type {root.suffix or '(none)'}")
                continue
            roots.append(str(root))
            for stat in walk(root, extensions, include, exclude, self._walk_skip, follow_links):
                if in_shard(stat.path, str(root), shard):
                    seen[stat.path] = stat
            self.progress(ProgressEvent("scan", len(seen), 0))
        gone = [p for p in known if p not in seen and any(under(p, r) for r in roots)
                and not any(under(p, k) for k in self.kept)
                and in_shard(p, root_of(p, roots[first_root:]), shard)]

        todo: list[FileStat] = []
        lacking_clip: list[FileStat] = []
        for path, stat in seen.items():
            row = known.get(path)
            if row is None or not self._unchanged(row, stat):
                todo.append(stat)
            elif self.clip_wanted and "clip" not in row.spaces:
                lacking_clip.append(stat)  # ingested while CLIP was unavailable
            else:
                self.summary.unchanged += 1
        if todo or lacking_clip:
            self._load_models(todo, lacking_clip)
        if self.clip is not None:
            todo += lacking_clip  # their text vectors are reused, CLIP vectors added
        else:
            self.summary.unchanged += len(lacking_clip)
        with self.data.sole_writer() as sole:
            if sole:  # else pending items may be another writer's, still in flight
                self._clean_pending()
        gone_by_sha: dict[str, str] = {known[p].sha256: p for p in gone}
        self.gone = set(gone)
        moved_from: set[str] = set()
        if todo or gone:
            self.data.fresh_vectors(self.name)
        self._process(todo, known, gone_by_sha, moved_from)
        if gone:
            with self.store.writing():
                self._remove([p for p in gone if p not in moved_from])
                self._remove(sorted(moved_from), count=False)
            self.data.merge_vectors(self.name)  # many removed: the file is made anew
        if todo:
            self.data.measure_words(self.name)
        self.summary.seconds = time.perf_counter() - started
        self.progress(ProgressEvent("done", len(todo), len(todo)))
        return self.summary

    def _unchanged(self, row: FileRow, stat: FileStat) -> bool:
        if row.size != stat.size or row.mtime_ns != stat.mtime_ns:
            return False
        return row.options == self.options.for_kind(row.kind)

    def _load_models(self, todo: list[FileStat], lacking_clip: list[FileStat]) -> None:
        """The models this run needs, and no more: files that only lack CLIP vectors need
        the text model only once CLIP can be had (a re-run while CLIP weights are missing
        loads nothing)."""
        if self.clip_wanted:
            try:
                self.clip = self.models.clip(self.spec, self.name)
            except ModelUnavailable as e:
                self.clip = None
                self.summary.warnings.append(
                    f"{e}. Images are skipped and texts go into the text space only "
                    "until the CLIP model is available."
                )
        kinds = {source_for(Path(s.path)).kind  # type: ignore[union-attr]
                 for s in todo + (lacking_clip if self.clip is not None else [])}
        if kinds & {"text", "records"}:
            self.text = self.models.text(self.spec)

    def _walk_skip(self, path: str, reason: str) -> None:
        self.kept.append(path)
        self._skip(path, reason)

    def _skip(self, path: str, reason: str) -> None:
        self.summary.skipped += 1
        self.summary.skipped_files.append(Skipped(path, reason))
        self.on_skip(path, reason)

    # embedding and writing -------------------------------------------------------------------
    def _process(
        self,
        todo: list[FileStat],
        known: dict[str, FileRow],
        gone_by_sha: dict[str, str],
        moved_from: set[str],
    ) -> None:
        """Items are flushed in slices of about FLUSH_UNITS embeddings; a file is recorded
        once all its items are written, so a big records file commits as it goes."""
        queue: list[tuple[Open, Item]] = []
        units = 0
        for done, prep in enumerate(read_ahead(todo, self.options, self.clip), start=1):
            self.progress(ProgressEvent("embed", done - 1, len(todo), prep.stat.path,
                                        self.items_written))
            if prep.error or prep.read is None:
                self._skip(prep.stat.path, prep.error or "unreadable")
                continue
            for problem in prep.read.problems:  # bad records of a good file count as skips
                self._skip(*problem.removeprefix("skipping ").split(": ", 1))
            if prep.kind == "records":
                self._claim_ids(prep)
            if not prep.read.items:
                continue
            entry = Open(prep, self.catalog.items_of(self.name, prep.stat.path),
                         len(prep.read.items))
            for item in prep.read.items:
                queue.append((entry, item))
                units += 1 + len(item.text or "") // 1000
                if units >= FLUSH_UNITS:
                    self._flush(queue, known, gone_by_sha, moved_from)
                    self.progress(ProgressEvent("embed", done - 1, len(todo), prep.stat.path,
                                                self.items_written))
                    queue, units = [], 0
        if queue:
            self._flush(queue, known, gone_by_sha, moved_from)
        self.progress(ProgressEvent("embed", len(todo), len(todo), None, self.items_written))

    def _claim_ids(self, prep: Prepared) -> None:
        """A record id names one item in the collection: a record whose id belongs to a
        record of another file is skipped, not silently overwritten."""
        assert prep.read is not None
        path = prep.stat.path
        owners = self.catalog.items_by_ids(self.name, [i.id for i in prep.read.items])
        kept = []
        for item in prep.read.items:
            owner = self._claimed.get(item.id)
            row = owners.get(item.id)
            if owner is None and row is not None and row.path != path and row.path not in self.gone:
                owner = row.path
            if owner is not None and owner != path:
                self._skip(f"{path}:{item.metadata.get('record', '?')}",
                           f"id {item.id!r} is already used by {owner}")
                continue
            self._claimed[item.id] = path
            kept.append(item)
        prep.read.items = kept

    def _reuse(self, plans: list[Planned]) -> int:
        """Fill vectors from items with the same content already in the store."""
        sources = self.catalog.items_by_key(self.name, [p.item.content_key for p in plans])
        wanted: dict[str, list[tuple[Planned, str, int]]] = {"text": [], "clip": []}
        reused = 0
        for plan in plans:
            src = sources.get(plan.item.content_key)
            if src is None or src.modality != plan.item.modality:
                continue
            if plan.text_chunks and src.text_chunks == len(plan.text_chunks):
                wanted["text"] += [(plan, src.item_id, i) for i in range(len(plan.text_chunks))]
            if plan.clip_chunks and src.clip_chunks == len(plan.clip_chunks):
                wanted["clip"] += [(plan, src.item_id, i) for i in range(len(plan.clip_chunks))]
        for space, wants in wanted.items():
            if not wants:
                continue
            found = self.store.vectors(self.name, space, [chroma_id(s, i) for _, s, i in wants])
            for plan, src_id, i in wants:
                vec = found.get(chroma_id(src_id, i))
                if vec is not None:
                    target = plan.text_vectors if space == "text" else plan.clip_vectors
                    target[i] = vec
                    reused += 1
        return reused

    def _write_space(self, space: str, plans: list[Planned], dim: int | None) -> None:
        ids: list[str] = []
        vecs: list[np.ndarray] = []
        metas: list[dict[str, Any]] = []
        docs: list[str | None] = []
        for p in plans:
            chunks = p.text_chunks if space == "text" else p.clip_chunks
            vectors = p.text_vectors if space == "text" else p.clip_vectors
            for chunk, vec in zip(chunks, vectors, strict=True):
                assert vec is not None
                meta = p.metadata(chunk)
                ids.append(chroma_id(p.item.id, chunk.index))
                vecs.append(vec)
                metas.append(meta)
                docs.append(chunk.text if p.item.modality == "text" else None)
        if not ids:
            return
        embedder = self.text if space == "text" else self.clip
        assert embedder is not None
        self.catalog.set_dim(self.name, space, embedder.dim)
        uris = [m["path"] if m.get("modality") == "image" else None for m in metas]
        self.store.upsert(self.name, space, self.spec, ids, np.stack(vecs), metas, docs, uris)

    def _flush(
        self,
        queue: list[tuple[Open, Item]],
        known: dict[str, FileRow],
        gone_by_sha: dict[str, str],
        moved_from: set[str],
    ) -> None:
        plans = [plan_item(item, self.text, self.clip, self.options.truncate)
                 for _, item in queue]
        self._reuse(plans)
        images = {item.id: entry.prep.images[item.id] for entry, item in queue
                  if item.id in entry.prep.images}
        self.summary.items += embed(plans, images, self.text, self.clip)
        with self.store.writing():  # readers see all of this flush or none of it
            self._commit(queue, plans, known, gone_by_sha, moved_from)
        self.data.merge_vectors(self.name)

    def _commit(
        self,
        queue: list[tuple[Open, Item]],
        plans: list[Planned],
        known: dict[str, FileRow],
        gone_by_sha: dict[str, str],
        moved_from: set[str],
    ) -> None:
        self.catalog.add_pending(
            self.name, [(p.item.id, len(p.text_chunks), len(p.clip_chunks)) for p in plans]
        )
        self._write_space("text", plans, None)
        self._write_space("clip", plans, None)
        finished: list[Open] = []
        for (entry, _), plan in zip(queue, plans, strict=True):
            entry.plans.append(plan)
            if len(entry.plans) == entry.expected:
                finished.append(entry)
        stale = self._delete_stale(finished)
        with self.catalog.transaction() as db:  # the lexical index moves with the catalog
            self.catalog.record_items(db, self.name, [self._item_row(p) for p in plans])
            self.lexical.remove(db, stale)
            self.lexical.put(db, [(chroma_id(p.item.id, c.index), c.text, p.metadata(c))
                                  for p in plans for c in p.text_chunks],
                             None if self.data.chroma_url else  # server: no vector index
                             [v for p in plans for v in p.text_vectors])
            for entry in finished:
                self._record_file(db, entry, known, gone_by_sha, moved_from)
        self.items_written += len(plans)

    @staticmethod
    def _item_row(p: Planned) -> ItemRow:
        return ItemRow(p.item.id, p.item.path, p.item.content_key, p.item.modality,
                       len(p.text_chunks), len(p.clip_chunks))

    def _record_file(
        self,
        db: Any,
        entry: Open,
        known: dict[str, FileRow],
        gone_by_sha: dict[str, str],
        moved_from: set[str],
    ) -> None:
        prep = entry.prep
        spaces = {"text"} if any(p.text_chunks for p in entry.plans) else set()
        if self.clip is not None:
            spaces.add("clip")
        row = FileRow(prep.stat.path, prep.stat.size, prep.stat.mtime_ns, prep.sha, prep.kind,
                      self.options.for_kind(prep.kind),
                      ",".join(sorted(spaces)))
        self.catalog.record_file(db, self.name, row, [p.item.id for p in entry.plans])
        if prep.stat.path in known:
            self.summary.updated += 1
        elif prep.sha in gone_by_sha and gone_by_sha[prep.sha] not in moved_from:
            moved_from.add(gone_by_sha[prep.sha])
            self.summary.moved += 1
        else:
            self.summary.added += 1

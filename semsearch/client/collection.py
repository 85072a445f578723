"""A collection: ingest into it, search it. A thin facade over ingest and search."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import CollectionNotFound, ConfigError
from ..models.base import Embedder
from ..search.expression import Composed
from ..search.planner import Planner
from ..search.request import LIKE_WEIGHT, UNLIKE_WEIGHT, Request, SearchMode, Strategy
from ..sources import ReadOptions
from ..types import CollectionInfo, IngestSummary, ModelSpec, ProgressEvent, Results, ResultType

if TYPE_CHECKING:
    from ..mapping.points import Map
    from .library import Library
    from .profiles import Profile

Where = Sequence[str] | Mapping[str, Any] | None


class Collection:
    def __init__(self, lib: Library, name: str, models: ModelSpec, exists: bool) -> None:
        self.lib = lib
        self.name = name
        self.models = models
        self.exists = exists

    def __repr__(self) -> str:
        return f"Collection({self.name!r}, {self.models.describe()})"

    # models ----------------------------------------------------------------------------------
    def text_embedder(self) -> Embedder:
        return self.lib.models.text(self.models)

    def clip_embedder(self) -> Embedder:
        return self.lib.models.clip(self.models, self.name)

    # ingest ----------------------------------------------------------------------------------
    def ingest(
        self,
        paths: Sequence[str | os.PathLike[str]],
        *,
        id_field: str | None = None,
        text_fields: Sequence[str] | None = None,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        prune: Sequence[str | os.PathLike[str]] = (),
        truncate: bool = False,
        on_skip: Callable[[str, str], None] | None = None,
        progress: Callable[[ProgressEvent], None] | None = None,
        shard: str | tuple[int, int] | None = None,
        follow_links: bool = False,
        prune_missing: bool = False,
    ) -> IngestSummary:
        """Add, update, move and remove items so the collection matches ``paths``.

        ``prune``: folders whose catalogued files are removed when not found now (a
        manifest's sources); each path given is pruned too. ``truncate``: embed only the
        first window of each text instead of chunking all of it. ``shard``: ``"I/N"`` or (I, N),
        this run's share of the files (see :mod:`semsearch.ingest.shard`). ``follow_links``:
        also read files through symlinks that point outside the folders given.
        ``prune_missing``: a path given that no longer exists has its items removed (without
        it, a missing path is an error and nothing changes).
        """
        from ..ingest.pipeline import Ingester  # not needed by a search
        from ..ingest.shard import parse_shard

        part = parse_shard(shard)
        if isinstance(paths, str | os.PathLike):
            paths = [paths]
        options = ReadOptions(id_field, tuple(text_fields or ()), truncate)
        data = self.lib.data
        with data.write_lock():
            if not self.exists:
                data.catalog.create_collection(self.name, self.models)
                self.exists = True
            ingester = Ingester(data, self.lib.models, self.name, self.models, options,
                                on_skip=on_skip, progress=progress)
            return ingester.run(paths, include, exclude, [str(p) for p in prune], part,
                                follow_links=follow_links, prune_missing=prune_missing)

    def reindex(
        self,
        *,
        text_model: str | None = None,
        clip_model: str | None = None,
        clip_pretrained: str | None = None,
        on_skip: Callable[[str, str], None] | None = None,
        progress: Callable[[ProgressEvent], None] | None = None,
    ) -> IngestSummary:
        """Re-embed every file of the collection, with new models if given."""
        self._require()
        m = self.models
        new = self.lib.resolve_models(ModelSpec(
            text_model or m.text_model,
            m.clip_model if clip_model is None else clip_model,
            clip_pretrained if clip_pretrained is not None else
            (m.clip_pretrained if clip_model is None else None),
            m.text_backend, m.clip_backend,
        ))
        data = self.lib.data
        files = data.catalog.files(self.name)
        if not files and data.item_counts(self.name):
            raise ConfigError(
                f"collection {self.name!r} holds items this data directory has no files for "
                "(built by another client or by plain Chroma); reindex would only delete them"
            )
        groups: dict[str, list[str]] = {}
        for path, row in files.items():
            groups.setdefault(row.options or "", []).append(path)
        # load the new models before dropping anything: a missing model changes nothing
        self.lib.models.text(new)
        if new.clip_model is not None:
            self.lib.models.clip(new, self.name)
        with data.write_lock():
            data.store.drop(self.name)
            data.catalog.clear_contents(self.name)
            data.catalog.set_models(self.name, new)
        self.models = new
        total = IngestSummary()
        for raw_options, paths in groups.items():
            opts = ReadOptions.from_json(raw_options)
            s = self.ingest(paths, id_field=opts.id_field, text_fields=opts.text_fields,
                            truncate=opts.truncate, on_skip=on_skip, progress=progress,
                            prune_missing=True)
            for key in ("added", "skipped", "items", "seconds"):
                setattr(total, key, getattr(total, key) + getattr(s, key))
            total.skipped_files += s.skipped_files
            total.warnings += [w for w in s.warnings if w not in total.warnings]
        return total

    # search ----------------------------------------------------------------------------------
    def _require(self) -> None:
        if not self.exists:
            raise CollectionNotFound(self.name)

    def planner(self) -> Planner:
        """The query pipeline over this collection (one per request: it collects warnings)."""
        self._require()
        return Planner(self.lib.data, self.lib.models, self.name, self.models)

    def run(self, request: Request) -> Results:
        """Run one typed request (see :class:`semsearch.search.request.Request`)."""
        return self.planner().run(request)

    def search(
        self,
        text: str | None = None,
        *,
        image: str | os.PathLike[str] | Any | Sequence[Any] | None = None,
        type: ResultType = "any",
        k: int = 10,
        where: Where = None,
        all_chunks: bool = False,
        mode: SearchMode = "hybrid",
        expr: str | Composed | None = None,
        minus: Sequence[Any] | None = None,
        weights: Mapping[str, float] | None = None,
        diverse: float | None = None,
        min_score: float | None = None,
        offset: int = 0,
        floor: bool = False,
    ) -> Results:
        """Search by text, by image(s), or both.

        Text alone: text items by the text model (``mode``: ``dense`` vectors, ``lexical``
        BM25, or ``hybrid``, both fused), images by CLIP's text tower. Images (with or
        without text): everything by CLIP. Composed queries (``expr="2:cat + ./x.jpg -
        fruit"``, ``minus``, ``weights``), MMR re-ranking (``diverse``), ``min_score`` and
        ``offset`` apply as in every listing (:mod:`semsearch.search.planner`). ``floor``
        hides hits below the relevance floor (the CLI and TUI do by default);
        ``Results.hidden`` says how many.
        """
        self._require()
        return self.run(Request.search(
            text, image=image, expr=expr, minus=minus, weights=weights, type=type, k=k,
            where=where, all_chunks=all_chunks, mode=mode, diverse=diverse,
            min_score=min_score, offset=offset, show_all=not floor))

    def similar(
        self, item: str | os.PathLike[str], *, k: int = 10, type: ResultType = "any",
        where: Where = None, diverse: float | None = None,
        min_score: float | None = None, offset: int = 0, floor: bool = False,
    ) -> Results:
        """More like one item: an item id or a path (an outside file is embedded on the fly).
        The item itself is left out."""
        self._require()
        return self.run(Request.similar(item, k=k, type=type, where=where, diverse=diverse,
                                        min_score=min_score, offset=offset,
                                        show_all=not floor))

    def recommend(
        self, like: Any = (), unlike: Any = (), *, strategy: Strategy = "average", k: int = 10,
        type: ResultType = "any", where: Where = None,
        profile: str | None = None, diverse: float | None = None,
        min_score: float | None = None, offset: int = 0, like_weight: float = LIKE_WEIGHT,
        unlike_weight: float = UNLIKE_WEIGHT, floor: bool = False,
    ) -> Results:
        """More like ``like``, less like ``unlike`` (item ids, paths or free text); strategy
        ``average`` (Rocchio) or ``best-score`` (Qdrant's rule). Inputs are left out."""
        self._require()
        return self.run(Request.recommend(
            like, unlike, strategy=strategy, k=k, type=type, where=where, profile=profile,
            diverse=diverse, min_score=min_score, offset=offset, like_weight=like_weight,
            unlike_weight=unlike_weight, show_all=not floor))

    def profile(self, name: str) -> Profile:
        """A named, persistent set of liked and disliked items of this collection."""
        from .profiles import Profile

        return Profile(self.lib, self.name, name)

    # map -------------------------------------------------------------------------------------
    def map(
        self, *, space: str | None = None, method: str = "umap", where: Where = None,
        type: ResultType = "any", queries: Sequence[str] = (),
        images: Sequence[str | os.PathLike[str]] = (), color_by: str = "cluster",
        refresh: bool = False, hits: int = 10,
        on_progress: Callable[[ProgressEvent], None] | None = None,
    ) -> Map:
        """A 2-D map of the items (:mod:`semsearch.mapping`): coordinates, clusters and their
        labels, and ``queries`` (texts) and ``images`` (paths) placed on it with their
        ``hits`` nearest items. ``space``: text or clip (default: clip when the collection
        holds images, else text). ``method``: umap, tsne or pca. The layout is cached with
        the collection; new items are placed into it; ``refresh`` makes it anew. Needs the
        ``map`` extra (``pip install 'semsearch[map]'``)."""
        from ..mapping.mapper import Mapper, MapRequest

        self._require()
        request = MapRequest(space, method, where, type, list(queries),
                             [os.fspath(i) for i in images], color_by, refresh, hits)
        return Mapper(self.lib.data, self.lib.models, self.name, self.models,
                      on_progress).run(request)

    # lexical index ---------------------------------------------------------------------------
    def rebuild_lexical(self) -> int:
        """Re-read every text chunk from the store into the BM25 index; returns its size."""
        return self.lib.data.rebuild_lexical(self.name)

    # info ------------------------------------------------------------------------------------
    def info(self) -> CollectionInfo:
        self._require()
        data = self.lib.data
        row = data.catalog.collection(self.name)
        assert row is not None
        return CollectionInfo(
            name=self.name,
            models=row.models,
            text_dim=row.text_dim,
            clip_dim=row.clip_dim,
            counts=data.item_counts(self.name),
            files=data.catalog.file_count(self.name),
            created=row.created,
            runtimes=self.lib.models.runtimes(row.models),
            text_index=data.text_index(self.name) if row.text_dim else "",
            filter_fields=data.filter_fields(),
        )

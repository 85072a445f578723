"""A collection: ingest into it, search it."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .errors import CollectionNotFound, ConfigError, ModelUnavailable
from .lexical import LexicalIndex
from .query import and_where, best_per_item, check_arguments, parse_where, rrf
from .sources import ReadOptions
from .sources.images import decode_image
from .store import Match, item_of, reads_store
from .types import (
    CollectionInfo,
    Hit,
    IngestSummary,
    Modality,
    ModelSpec,
    ProgressEvent,
    ResultType,
)

if TYPE_CHECKING:
    from .embedders.base import Embedder
    from .library import Library
    from .profiles import Profile
    from .recommend import Composed, Strategy

INTERNAL_KEYS = {"item_id", "sha256_file"}
SearchMode = Literal["dense", "lexical", "hybrid"]
#: lexical candidates fetched per query before filtering and fusion
LEXICAL_DEPTH = 100
#: hybrid fusion: the usual RRF constant and equal (dense, lexical) weights; not tuned
HYBRID_RRF_K = 60
HYBRID_WEIGHTS = (1.0, 1.0)


class Results(list[Hit]):
    """Search hits, best first, plus any warnings (e.g. a model that could not load)."""

    def __init__(self, hits: Sequence[Hit] = (), warnings: Sequence[str] = ()) -> None:
        super().__init__(hits)
        self.warnings = list(warnings)


class Collection:
    def __init__(self, lib: Library, name: str, models: ModelSpec, exists: bool) -> None:
        self._lexical: LexicalIndex | None = None
        self.lib = lib
        self.name = name
        self.models = models
        self.exists = exists

    def __repr__(self) -> str:
        return f"Collection({self.name!r}, {self.models.describe()})"

    # models ----------------------------------------------------------------------------------
    def text_embedder(self) -> Embedder:
        return self.lib.embedder("sentence-transformers", self.models.text_model)

    def clip_embedder(self) -> Embedder:
        if self.models.clip_model is None:
            raise ModelUnavailable(f"collection {self.name!r} was built without a CLIP model")
        return self.lib.embedder(
            "open-clip", self.models.clip_model, self.models.clip_pretrained
        )

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
    ) -> IngestSummary:
        """Add, update, move and remove items so the collection matches ``paths``.

        ``prune``: folders whose catalogued files are removed when not found now (a
        manifest's sources); each path given is pruned too. ``truncate``: embed only the
        first window of each text instead of chunking all of it. ``shard``: ``"I/N"`` or (I, N),
        this run's share of the files (see :mod:`semsearch.shard`).
        """
        from .ingest import Ingester
        from .shard import parse_shard

        part = parse_shard(shard)

        if isinstance(paths, str | os.PathLike):
            paths = [paths]
        options = ReadOptions(id_field, tuple(text_fields or ()), truncate)
        with self.lib.write_lock():
            if not self.exists:
                self.lib.catalog.create_collection(self.name, self.models)
                self.exists = True
            ingester = Ingester(self, options, on_skip=on_skip, progress=progress)
            return ingester.run(paths, include, exclude, [str(p) for p in prune], part)

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
        new = self.lib.resolve_models(
            ModelSpec(
                text_model or self.models.text_model,
                self.models.clip_model if clip_model is None else clip_model,
                clip_pretrained if clip_pretrained is not None else
                (self.models.clip_pretrained if clip_model is None else None),
            )
        )
        files = self.lib.catalog.files(self.name)
        if not files and self.lib.item_counts(self.name):
            raise ConfigError(
                f"collection {self.name!r} holds items this data directory has no files for "
                "(built by another client or by plain Chroma); reindex would only delete them"
            )
        groups: dict[str, list[str]] = {}
        for path, row in files.items():
            groups.setdefault(row.options or "", []).append(path)
        # load the new models before dropping anything: a missing model changes nothing
        old, self.models = self.models, new
        try:
            self.text_embedder()
            if new.clip_model is not None:
                self.clip_embedder()
        except BaseException:
            self.models = old
            raise
        with self.lib.write_lock():
            self.lexical.mark_dirty()
            self.lib.store.drop(self.name)
            self.lib.catalog.clear_contents(self.name)
            self.lib.catalog.set_models(self.name, new)
        total = IngestSummary()
        for raw_options, paths in groups.items():
            opts = ReadOptions.from_json(raw_options)
            s = self.ingest(paths, id_field=opts.id_field, text_fields=opts.text_fields,
                            truncate=opts.truncate, on_skip=on_skip, progress=progress)
            for key in ("added", "skipped", "items", "seconds"):
                setattr(total, key, getattr(total, key) + getattr(s, key))
            total.skipped_files += s.skipped_files
            total.warnings += [w for w in s.warnings if w not in total.warnings]
        return total

    # search ----------------------------------------------------------------------------------
    def _require(self) -> None:
        if not self.exists:
            raise CollectionNotFound(self.name)

    def _query_image_vector(self, clip: Embedder, images: Sequence[Any]) -> np.ndarray:
        prepared = []
        for img in images:
            if isinstance(img, str | os.PathLike):
                path = Path(img).expanduser()
                try:
                    data = path.read_bytes()
                except OSError as e:
                    raise ConfigError(f"cannot read query image {img}: {e.strerror}") from e
                img = decode_image(data)
            prepared.append(clip.prepare_image(img))
        return clip.embed_prepared(prepared).mean(axis=0)

    @reads_store
    def _space_query(
        self, space: str, vector: np.ndarray, k: int, where: dict[str, Any] | None,
        per_item: bool,
    ) -> list[Match]:
        col = self.lib.store.get(self.name, space)
        if col is None:
            return []
        total = col.count()
        n = min(total, k * 4 + 20) if per_item else min(total, k)
        while True:
            matches = self.lib.store.query(col, vector, n, where)
            if not per_item:
                return matches[:k]
            best = best_per_item(matches)
            if len(best) >= k or n >= total or len(matches) < n:
                return best[:k]
            n = min(total, n * 4)

    # lexical index ---------------------------------------------------------------------------
    @property
    def lexical(self) -> LexicalIndex:
        if self._lexical is None:
            self._lexical = LexicalIndex(self.lib.home / "lexical" / self.name)
        return self._lexical

    def rebuild_lexical(self) -> int:
        """Re-read every text chunk from the store into the BM25 index; returns its size."""
        col = self.lib.store.get(self.name, "text")
        ids, docs = self.lib.store.documents(col) if col is not None else ([], [])
        self.lexical.rebuild(ids, docs)
        return len(ids)

    def _fresh_lexical(self) -> LexicalIndex:
        index = self.lexical
        col = self.lib.store.get(self.name, "text")
        if index.dirty or (col is not None and index.size() != col.count()):
            self.rebuild_lexical()  # stale after a crash, or written by another client
        return index

    def _text_query(
        self, text: str, k: int, where: dict[str, Any] | None, per_item: bool, mode: SearchMode
    ) -> list[Match]:
        """Text items for a text query: dense, lexical (BM25) or both fused by RRF.

        Fusion needs only ranks: BM25 candidates are filtered by id, fused, and only the
        lexical hits that reach the top ``k`` are read from the store.
        """
        dense: list[Match] = []
        tvec: np.ndarray | None = None
        if mode != "lexical":
            tvec = self.text_embedder().embed_batch([text])[0]
            dense = self._space_query("text", tvec, k, where, per_item)
            if mode == "dense":
                return dense
        col = self.lib.store.get(self.name, "text")
        if col is None:
            return dense
        ranked = self._fresh_lexical().search(text, max(LEXICAL_DEPTH, k * 4))
        if where:
            allowed = self.lib.store.passing(col, [cid for cid, _ in ranked], where)
            ranked = [(cid, score) for cid, score in ranked if cid in allowed]
        lexical = [Match(cid, None, {"item_id": item_of(cid)}, None, score)
                   for cid, score in ranked]
        if per_item:
            lexical = best_per_item(lexical)
        if mode == "lexical":
            top = lexical[:k]
        else:
            top = rrf([dense, lexical], k=HYBRID_RRF_K, weights=HYBRID_WEIGHTS,
                      per_item=per_item)[:k]
        stubs = [m.chroma_id for m in top if m.document is None and m.distance is None]
        found = self.lib.store.fetch(col, stubs, None, tvec is not None)
        out = []
        for m in top:
            if m.chroma_id in found:
                meta, doc, vec = found[m.chroma_id]
                dist = None if vec is None or tvec is None else 1.0 - float(vec @ tvec)
                m = Match(m.chroma_id, dist, meta, doc, m.bm25)
            out.append(m)
        return out

    def search(
        self,
        text: str | None = None,
        *,
        image: str | os.PathLike[str] | Any | Sequence[Any] | None = None,
        type: ResultType = "any",
        k: int = 10,
        where: Sequence[str] | Mapping[str, Any] | None = None,
        all_chunks: bool = False,
        mode: SearchMode = "hybrid",
        expr: str | Composed | None = None,
        minus: Sequence[Any] | None = None,
        weights: Mapping[str, float] | None = None,
        diverse: float | None = None,
        min_score: float | None = None,
        offset: int = 0,
    ) -> Results:
        """Search by text, by image(s), or both.

        Text alone: text items by the text model (``mode``: ``dense`` vectors, ``lexical``
        BM25, or ``hybrid``, both fused), images by CLIP's text tower. Images (with or
        without text): everything by CLIP. ``type="any"`` merges the per-modality lists by
        reciprocal-rank fusion; each hit keeps the cosine similarity of its own space.

        Composed queries (``expr="2:cat + ./x.jpg - fruit"``, ``minus``, ``weights``), MMR
        re-ranking (``diverse``), ``min_score`` and ``offset``: see :mod:`semsearch.recommend`.
        """
        if expr is not None or minus or weights or diverse is not None \
                or min_score is not None or offset:
            from . import recommend

            return recommend.search(
                self, text, image=image, expr=expr, minus=minus, weights=weights, type=type,
                k=k, where=where, all_chunks=all_chunks, diverse=diverse, min_score=min_score,
                offset=offset, mode=mode)
        self._require()
        check_arguments(type, k, mode=mode)
        images: list[Any] = []
        if image is not None:
            images = list(image) if isinstance(image, list | tuple) else [image]
        text = (text or "").strip() or None
        if text is None and not images:
            raise ConfigError("give a text query, an image, or both")
        user_where = parse_where(where)
        warnings: list[str] = []
        per_item = not all_chunks
        only = {"image": {"modality": "image"}, "text": {"modality": "text"}}

        clip: Embedder | None = None
        clip_error: str | None = None
        if images or type in ("any", "image"):
            try:
                clip = self.clip_embedder()
            except ModelUnavailable as e:
                clip_error = str(e)
        if clip is None and (images or type == "image"):
            raise ModelUnavailable(clip_error or "CLIP model unavailable")

        lists: list[list[Match]] = []
        spaces: list[str] = []
        if images:
            assert clip is not None
            vec = self._query_image_vector(clip, images)
            if text:
                vec = vec / np.linalg.norm(vec) + clip.embed_batch([text])[0]
            vec = vec / np.linalg.norm(vec)
            for modality in ("image", "text"):
                if type in ("any", modality):
                    lists.append(self._space_query(
                        "clip", vec, k, and_where(only[modality], user_where), per_item))
                    spaces.append("clip")
        else:
            assert text is not None
            if type in ("any", "text"):
                lists.append(self._text_query(text, k, user_where, per_item, mode))
                spaces.append("text")
            if type in ("any", "image"):
                if clip is None:
                    warnings.append(f"{clip_error}; image results left out")
                else:
                    cvec = clip.embed_batch([text])[0]
                    lists.append(self._space_query(
                        "clip", cvec, k, and_where(only["image"], user_where), per_item))
                    spaces.append("clip")
        space_of = {id(m): s for lst, s in zip(lists, spaces, strict=True) for m in lst}
        fused = lists[0] if len(lists) == 1 else rrf(lists, per_item=per_item)
        hits = [self._hit(rank, m, space_of[id(m)])
                for rank, m in enumerate(fused[:k], start=1)]
        return Results(hits, warnings)

    # recommendations (semsearch.recommend) --------------------------------------------------
    def similar(
        self, item: str | os.PathLike[str], *, k: int = 10, type: ResultType = "any",
        where: Sequence[str] | Mapping[str, Any] | None = None, diverse: float | None = None,
        min_score: float | None = None, offset: int = 0,
    ) -> Results:
        """More like one item: an item id or a path (an outside file is embedded on the fly).
        The item itself is left out."""
        from . import recommend

        return recommend.similar(self, item, k=k, type=type, where=where, diverse=diverse,
                                 min_score=min_score, offset=offset)

    def recommend(
        self, like: Any = (), unlike: Any = (), *, strategy: Strategy = "average", k: int = 10,
        type: ResultType = "any", where: Sequence[str] | Mapping[str, Any] | None = None,
        profile: str | None = None, diverse: float | None = None,
        min_score: float | None = None, offset: int = 0, like_weight: float = 1.0,
        unlike_weight: float = 0.5,
    ) -> Results:
        """More like ``like``, less like ``unlike`` (item ids, paths or free text); strategy
        ``average`` (Rocchio) or ``best-score`` (Qdrant's rule). Inputs are left out."""
        from . import recommend

        return recommend.recommend(
            self, like, unlike, strategy=strategy, k=k, type=type, where=where,
            profile=profile, diverse=diverse, min_score=min_score, offset=offset,
            like_weight=like_weight, unlike_weight=unlike_weight)

    def profile(self, name: str) -> Profile:
        """A named, persistent set of liked and disliked items of this collection."""
        from .profiles import Profile

        return Profile(self.lib, self.name, name)

    @staticmethod
    def _hit(rank: int, m: Match, space: str) -> Hit:
        meta = {k: v for k, v in m.metadata.items() if k not in INTERNAL_KEYS}
        modality: Modality = "image" if meta.get("modality") == "image" else "text"
        item_id = str(m.metadata.get("item_id") or m.chroma_id.rsplit("#", 1)[0])
        return Hit(
            rank=rank,
            id=item_id,
            score=round(m.similarity, 6),
            modality=modality,
            path=meta.get("path"),
            text=m.document if modality == "text" else None,
            metadata=meta,
            space=space,
        )

    # info ------------------------------------------------------------------------------------
    def info(self) -> CollectionInfo:
        self._require()
        row = self.lib.catalog.collection(self.name)
        assert row is not None
        return CollectionInfo(
            name=self.name,
            models=row.models,
            text_dim=row.text_dim,
            clip_dim=row.clip_dim,
            counts=self.lib.item_counts(self.name),
            files=self.lib.catalog.file_count(self.name),
            created=row.created,
        )

"""The one query pipeline: a :class:`~.request.Request` in, :class:`~semsearch.types.Results`
out, for search, similar, recommend and profile recommendations alike.

1. **Resolve** the inputs (:mod:`.resolve`): item ids, paths, text, images.
2. **Plan the legs**: when every input is text, text results come from the text space and
   image results from CLIP (text tower); when any input is an image, everything is found in
   the CLIP space. A leg that needs a missing CLIP model is an error when the request needs it
   (an image input, ``type="image"``), else a warning.
3. **Retrieve** per leg (:mod:`.retrieve`): a query vector (composed terms, or Rocchio's
   ``like_weight * mean(likes) - unlike_weight * mean(unlikes)``), BM25 for a plain text
   query, or Qdrant's best-score over the likes' neighbours. Candidates score as their best
   chunk (one hit per item).
4. **Rank** (:mod:`.rank`): inputs left out, ``min_score``, MMR (``diverse``), the legs
   merged into one list, then ``offset``/``k``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError, ModelUnavailable
from ..types import Hit, Modality, Results, ResultType
from .expression import TermKind
from .filters import check_arguments, parse_where
from .rank import RRF_K, Candidate, diversify, merge, rrf
from .request import Leg, Request
from .resolve import Example, Resolver, unit
from .retrieve import Retriever

if TYPE_CHECKING:
    from ..models.registry import ModelRegistry
    from ..storage.data_dir import DataDir
    from ..storage.vectors import Match
    from ..types import ModelSpec

#: MMR looks at this many candidates per result wanted
MMR_POOL = 4
#: hybrid fusion: the usual RRF constant and equal (dense, lexical) weights
HYBRID_RRF_K = RRF_K
HYBRID_WEIGHTS = (1.0, 1.0)
#: metadata that is semsearch's bookkeeping, not the user's
INTERNAL_KEYS = {"item_id", "sha256_file"}


def legs(examples: Sequence[Example], type: ResultType) -> list[Leg]:
    """The lists to rank for these inputs and result type."""
    if any(ex.modality == "image" for ex in examples):
        return [Leg("clip", m) for m in ("image", "text") if type in ("any", m)]
    out = []
    if type in ("any", "text"):
        out.append(Leg("text", None))
    if type in ("any", "image"):
        out.append(Leg("clip", "image"))
    return out


def linear(parts: Sequence[tuple[list[np.ndarray], float]]) -> np.ndarray | None:
    """``sum(w * unit(mean(vectors of the part)))``, normalised; None when nothing is left."""
    q: np.ndarray | None = None
    for vecs, w in parts:
        if not vecs or w == 0:
            continue
        v = w * unit(np.mean(np.stack(vecs).astype(np.float64), axis=0))
        q = v if q is None else q + v
    if q is None:
        return None
    if float(np.linalg.norm(q)) < 1e-9:
        raise ConfigError("the query's parts cancel out: nothing is left to search with")
    return unit(q).astype(np.float32)


def to_hit(rank: int, c: Candidate) -> Hit:
    m = c.match
    meta = {k: v for k, v in m.metadata.items() if k not in INTERNAL_KEYS}
    modality: Modality = "image" if meta.get("modality") == "image" else "text"
    return Hit(rank=rank, id=c.item, score=round(c.score, 6), modality=modality,
               path=meta.get("path"), text=m.document if modality == "text" else None,
               metadata=meta, space=c.leg.space, parts=c.parts)


class Planner:
    """Runs requests over one collection, built from its dependencies (the data directory,
    the models and the collection's model spec), as rclip's ``RClip(model, database)``."""

    def __init__(self, data: DataDir, models: ModelRegistry, name: str, spec: ModelSpec,
                 resolver: Resolver | None = None) -> None:
        self.data = data
        self.models = models
        self.name = name
        self.spec = spec
        self.resolver = resolver or Resolver(data, models, name, spec)
        self.retriever = Retriever(data, name)
        self.warnings: list[str] = []

    def run(self, req: Request) -> Results:
        check_arguments(req.type, req.k, req.offset, req.diverse, req.mode)
        groups, signs, exclude = self._inputs(req)
        flat = [ex for g in groups for ex in g]
        has_image = any(ex.modality == "image" for ex in flat)
        where = parse_where(req.where)
        need = req.offset + req.k
        depth = need * (MMR_POOL if req.diverse is not None else 1) + len(exclude)
        lists: list[list[Candidate]] = []
        with self.data.store.reading():  # one consistent view of the store
            for leg in legs(flat, req.type):
                found = self._leg(req, leg, groups, signs, has_image, where, depth)
                if found is None:
                    continue
                cands, query, vectors = found
                lists.append(self._trim(req, leg, cands, need, exclude, query, vectors))
        ranked = merge(lists, per_item=not req.all_chunks)
        page = ranked[req.offset: req.offset + req.k]
        hits = [to_hit(rank, c) for rank, c in enumerate(page, start=req.offset + 1)]
        return Results(hits, list(dict.fromkeys(self.warnings)))

    # inputs ----------------------------------------------------------------------------------
    def _inputs(self, req: Request) -> tuple[list[list[Example]], list[float], set[str]]:
        resolve = self.resolver.resolve
        if not req.recommending:
            groups: list[list[Example]] = []
            signs: list[float] = []
            if req.images:
                groups.append([ex for img in req.images for ex in resolve(img, kind="image")])
                signs.append(1.0)
            for p in req.parts:
                groups.append(resolve(p.ref, kind=p.kind))
                signs.append(p.weight)
            return groups, signs, set()
        likes = [ex for r in req.likes for ex in resolve(r, allow_text=req.allow_text)]
        unlikes = [ex for r in req.unlikes for ex in resolve(r, allow_text=req.allow_text)]
        exclude: set[str] = set()
        if req.profile is not None:
            p_likes, p_unlikes, p_items = self._profile(req.profile)
            likes += p_likes
            unlikes += p_unlikes
            exclude |= p_items
        if not likes:
            raise ConfigError("give at least one item, file or text to like"
                              + (f" (profile {req.profile!r} has no likes)"
                                 if req.profile else ""))
        exclude |= {ex.item_id for ex in likes + unlikes if ex.item_id}
        return [likes, unlikes], [1.0, -1.0], exclude

    def _profile(self, profile: str) -> tuple[list[Example], list[Example], set[str]]:
        """A profile's likes and unlikes as resolved inputs, and every item id it names. An
        item gone from the collection, or a file gone from disk, is left out with a warning."""
        likes: list[Example] = []
        unlikes: list[Example] = []
        items: set[str] = set()
        for ref, kind, polarity, _ in self.data.catalog.profile_entries(self.name, profile):
            if kind == "item":
                items.add(ref)
            try:
                as_kind: TermKind = "path" if kind == "file" else "item" if kind == "item" \
                    else "text"
                found = self.resolver.resolve(ref, kind=as_kind, label=ref)
            except ConfigError as err:
                self.warnings.append(f"profile {profile!r}: {err}; left out")
                continue
            items |= {ex.item_id for ex in found if ex.item_id}
            (likes if polarity == "like" else unlikes).extend(found)
        return likes, unlikes, items

    def _leg_vectors(self, leg: Leg, groups: Sequence[Sequence[Example]], type: ResultType,
                     has_image_input: bool) -> list[list[np.ndarray]] | None:
        """Per group, the examples' vectors in the leg's space; None drops the leg."""
        try:
            if leg.space == "clip":
                self.models.clip(self.spec, self.name)  # raises when it cannot be had
            out = []
            for group in groups:
                vecs = self.resolver.vectors(group, leg.space)
                for ex, v in zip(group, vecs, strict=True):
                    if v is None:
                        self.warnings.append(
                            f"{ex.label} has no vector in the {leg.space} space; "
                            f"left out of the {leg.label} results")
                out.append([v for v in vecs if v is not None])
            return out
        except ModelUnavailable as e:
            if leg.space == "text" or has_image_input or type == "image":
                raise
            self.warnings.append(f"{e}; image results left out")
            return None

    # retrieval -------------------------------------------------------------------------------
    def _leg(self, req: Request, leg: Leg, groups: list[list[Example]], signs: list[float],
             has_image: bool, where: dict[str, Any] | None, depth: int,
             ) -> tuple[list[Candidate], np.ndarray | None, dict[str, np.ndarray] | None] | None:
        lexical = req.text is not None and leg.space == "text"
        if lexical and req.mode == "lexical" and req.diverse is None:
            return self._text_leg(req, leg, None, where, depth), None, None
        vecs = self._leg_vectors(leg, groups, req.type, has_image)
        if vecs is None:
            return None
        per_item = not req.all_chunks
        if not req.recommending:
            q = linear(list(zip(vecs, signs, strict=True)))
            if q is None:
                return None
            if lexical:
                return self._text_leg(req, leg, q, where, depth), q, None
            found = self.retriever.dense(leg.space, q, max(1, depth), leg.where(where), per_item)
            return self._scored(leg, found), q, None
        pos, neg = vecs
        if not pos:
            self.warnings.append(f"no liked input has a vector in the {leg.space} space; "
                                 f"{leg.label} results left out")
            return None
        if req.strategy == "average":
            parts = [([v], req.like_weight / len(pos)) for v in pos]
            parts += [([v], -req.unlike_weight / len(neg)) for v in neg]
            q = linear(parts)
            assert q is not None
            found = self.retriever.dense(leg.space, q, max(1, depth), leg.where(where), True)
            return self._scored(leg, found), q, None
        found, vectors = self.retriever.best_score(
            leg, np.stack(pos), np.stack(neg) if neg else None, depth, where)
        return self._scored(leg, found), None, vectors

    @staticmethod
    def _scored(leg: Leg, matches: list[Match]) -> list[Candidate]:
        return [Candidate(m, leg, m.similarity, {"dense": round(m.similarity, 6)})
                for m in matches]

    def _text_leg(self, req: Request, leg: Leg, q: np.ndarray | None,
                  where: dict[str, Any] | None, depth: int) -> list[Candidate]:
        """Text items for a plain text query: dense, lexical (BM25) or both fused. Fusion needs
        only the lexical ranks: BM25 candidates are filtered by id, fused, and only the
        lexical hits that reach the top are read from the store."""
        per_item = not req.all_chunks
        dense: list[Match] = []
        if req.mode != "lexical":
            assert q is not None
            dense = self.retriever.dense("text", q, depth, where, per_item)
            if req.mode == "dense":
                return self._scored(leg, dense)
        assert req.text is not None
        lexical = self.retriever.lexical(req.text, depth * 4, where, per_item)
        if req.mode == "lexical":
            top = lexical[:depth]
        else:
            top = rrf([dense, lexical], k=HYBRID_RRF_K, weights=HYBRID_WEIGHTS,
                      per_item=per_item)[:depth]
        top = self.retriever.hydrate(top, q)
        return [Candidate(m, leg, m.similarity,
                          {"dense": None if m.distance is None else round(1 - m.distance, 6),
                           "bm25": m.bm25})
                for m in top]

    # ranking ---------------------------------------------------------------------------------
    def _trim(self, req: Request, leg: Leg, cands: list[Candidate], need: int,
              exclude: set[str], query: np.ndarray | None,
              vectors: dict[str, np.ndarray] | None) -> list[Candidate]:
        """Excluded items out, scores below ``min_score`` out, MMR, ``need`` kept. MMR
        relevance: the cosine to the query vector when there is one, else the hit's score."""
        kept = [c for c in cands if c.item not in exclude
                and (req.min_score is None or round(c.match.similarity, 6) >= req.min_score)]
        if req.diverse is None:
            return kept[:need]
        pool = kept[: MMR_POOL * need]
        if vectors is None:
            vectors = self.retriever.chunk_vectors(leg.space, [c.match for c in pool])
        vecs = np.stack([unit(np.asarray(vectors[c.match.chroma_id], dtype=np.float64))
                         for c in pool]) if pool else np.zeros((0, 1))
        if query is not None and pool:
            rel = vecs @ np.asarray(query, dtype=np.float64)
        else:
            rel = np.array([c.match.similarity for c in pool])
        return diversify(pool, vecs, rel, req.diverse, need)

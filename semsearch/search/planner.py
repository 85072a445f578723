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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError, ModelUnavailable
from ..storage.vectors import Match
from ..types import Hit, Modality, Results, ResultType
from .expression import TermKind
from .filters import check_arguments, parse_where
from .rank import (
    FLOOR,
    Background,
    Candidate,
    background,
    best_score,
    calibrate,
    diversify,
    fuse,
    lexical_bonus,
    merge_by_rank,
    merge_calibrated,
)
from .request import Leg, Request
from .resolve import Example, Resolver, unit
from .retrieve import LEXICAL_DEPTH, Ahead, Retriever

if TYPE_CHECKING:
    from ..models.registry import ModelRegistry
    from ..storage.data_dir import DataDir
    from ..types import ModelSpec

#: MMR looks at this many candidates per result wanted
MMR_POOL = 4
#: hybrid fusion looks at this many BM25 candidates at least
FUSION_DEPTH = 40
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


@dataclass
class LegResult:
    """One leg's candidates, the vector they were found with (or the chunk vectors of a
    best-score list), and the query's background scores in that leg's space."""

    cands: list[Candidate]
    query: np.ndarray | None
    vectors: dict[str, np.ndarray] | None
    background: Background | None


def below_floor(c: Candidate) -> bool:
    z = c.parts.get("calibrated")
    return z is not None and z < FLOOR


def to_hit(rank: int, c: Candidate, completed: Match | None = None) -> Hit:
    m = completed or c.match
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
        check_arguments(req.type, req.k, req.offset, req.diverse, req.mode, req.min_score)
        groups, signs, exclude = self._inputs(req)
        flat = [ex for g in groups for ex in g]
        has_image = any(ex.modality == "image" for ex in flat)
        where = parse_where(req.where)
        need = req.offset + req.k
        depth = need * (MMR_POOL if req.diverse is not None else 1) + len(exclude)
        lists: list[list[Candidate]] = []
        plan = legs(flat, req.type)
        texts = any(ex.kind in ("text", "file") for ex in flat)
        text_leg = req.mode != "lexical" and texts and any(leg.space == "text" for leg in plan)
        clip_leg = texts and not has_image and self.spec.clip_model is not None and \
            any(leg.space == "clip" for leg in plan)
        if text_leg or clip_leg:
            self.models.warm_text(self.spec, text_leg, clip_leg)  # while the store opens
        with self.data.store.reading():  # one consistent view of the store
            for leg in plan:
                found = self._leg(req, leg, groups, signs, has_image, where, depth)
                if found is None:
                    continue
                cands = self._trim(req, leg, found, need, exclude)
                bg = found.background
                if bg is not None and req.diverse is not None:  # scores are MMR values
                    bg = Background(bg.mean * req.diverse, bg.std * req.diverse)
                calibrate(cands, bg)
                lists.append(cands)
            ranked = self._merge(req, [lst for lst in lists if lst])
            if req.min_score is not None:
                ranked = [c for c in ranked if round(c.score, 6) >= req.min_score]
            hidden = 0
            if not req.show_all:
                shown = [c for c in ranked if not below_floor(c)]
                hidden = len(ranked[:need]) - len(shown[:need])
                ranked = shown
            page = ranked[req.offset: req.offset + req.k]
            complete = self.retriever.complete([c.match for c in page])
        page = [c for c in page if c.match.chroma_id in complete]
        hits = [to_hit(rank, c, complete[c.match.chroma_id])
                for rank, c in enumerate(page, start=req.offset + 1)]
        return Results(hits, list(dict.fromkeys(self.warnings)), hidden)

    @staticmethod
    def _merge(req: Request, lists: list[list[Candidate]]) -> list[Candidate]:
        """One list: as it is when there is one; by calibrated score when every hit has one;
        else (a lexical-only BM25 list) by reciprocal rank."""
        if len(lists) <= 1:
            return lists[0] if lists else []
        calibrated = all(c.parts.get("calibrated") is not None for lst in lists for c in lst)
        if calibrated:
            return merge_calibrated(lists, per_item=not req.all_chunks)
        return merge_by_rank(lists, per_item=not req.all_chunks)

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
        """Per group, the examples' vectors in the leg's space; None drops the leg (silently
        for a text-only collection asked for any type: it has no image results to miss)."""
        if leg.space == "clip" and self.spec.clip_model is None and not has_image_input \
                and type != "image":
            return None
        try:
            if leg.space == "clip":  # raises when it cannot be had
                self.models.for_space(self.spec, "clip", self.name, texts_only=not any(
                    ex.image is not None for group in groups for ex in group))
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
             has_image: bool, where: dict[str, Any] | None, depth: int) -> LegResult | None:
        text_query = req.text is not None and leg.space == "text"
        if text_query and req.mode == "lexical" and req.diverse is None:
            return self._text_leg(req, leg, None, where, depth)
        ahead = None
        if text_query and req.mode == "hybrid":  # BM25 reads while the query is embedded
            assert req.text is not None
            ahead = self.retriever.lexical_ahead(req.text, max(FUSION_DEPTH, 4 * depth), where)
        vecs = self._leg_vectors(leg, groups, req.type, has_image)
        if vecs is None:
            return None
        per_item = not req.all_chunks
        if not req.recommending:
            q = linear(list(zip(vecs, signs, strict=True)))
            if q is None:
                return None
            if text_query:
                return self._text_leg(req, leg, q, where, depth, ahead)
            found = self.retriever.dense(leg.space, q, max(1, depth), leg.where(where), per_item)
            return LegResult(self._scored(leg, found), q, None, self._background(leg, q))
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
            return LegResult(self._scored(leg, found), q, None, self._background(leg, q))
        p, n = np.stack(pos), np.stack(neg) if neg else None
        found, vectors = self.retriever.best_score(leg, p, n, depth, where)
        return LegResult(self._scored(leg, found), None, vectors,
                         self._background(leg, None, (p, n)))

    def _background(self, leg: Leg, q: np.ndarray | None,
                    rule: tuple[np.ndarray, np.ndarray | None] | None = None,
                    scale: float = 1.0) -> Background | None:
        """How this query scores an ordinary item of the leg (a sample of its space)."""
        sample = self.retriever.sample(leg).astype(np.float64)
        if len(sample) == 0:
            return None
        if q is not None:
            scores = sample @ np.asarray(q, dtype=np.float64)
        else:
            assert rule is not None
            pos, neg = rule
            scores = best_score((sample @ pos.T).max(axis=1),
                                (sample @ neg.T).max(axis=1) if neg is not None else None)
        return background(scores, scale)

    @staticmethod
    def _scored(leg: Leg, matches: list[Match]) -> list[Candidate]:
        return [Candidate(m, leg, m.similarity, {"dense": round(m.similarity, 6)})
                for m in matches]

    def _text_leg(self, req: Request, leg: Leg, q: np.ndarray | None,
                  where: dict[str, Any] | None, depth: int,
                  ahead: Ahead | None = None) -> LegResult:
        """Text items for a plain text query: dense, lexical (BM25) or hybrid (both, fused by
        :func:`~.rank.fuse`: the cosine, plus a bonus when BM25 says the text matches most of
        the query)."""
        per_item = not req.all_chunks
        assert req.text is not None
        if req.mode == "dense":
            assert q is not None
            found = self.retriever.dense("text", q, depth, where, per_item)
            return LegResult(self._scored(leg, found), q, None, self._background(leg, q))
        if req.mode == "lexical":
            lexical, ceiling = self.retriever.lexical(req.text, max(LEXICAL_DEPTH, depth),
                                                      where, per_item)
            lexical = self.retriever.hydrate(lexical[:depth], q)
            cands = [Candidate(m, leg, float(m.bm25 or 0.0),
                               {"bm25": round(float(m.bm25 or 0.0), 6),
                                "bm25_share": round(min(1.0, (m.bm25 or 0.0) / ceiling), 6)
                                if ceiling else None}) for m in lexical]
            return LegResult(cands, None, None, None)
        assert q is not None
        dense = self.retriever.dense("text", q, depth, where, per_item)
        lexical, ceiling = self.retriever.lexical(req.text, max(FUSION_DEPTH, 4 * depth),
                                                  where, per_item, ahead)
        seen = {m.chroma_id for m in dense}
        # a BM25 hit outside the dense list earns a place only through its bonus: one below
        # the threshold scores its cosine, which is below the dense list's, so it is not read
        rising = [m for m in lexical if m.chroma_id not in seen and ceiling > 0
                  and lexical_bonus(min(1.0, (m.bm25 or 0.0) / ceiling)) > 0]
        lexical = self.retriever.hydrate(rising, q, documents=False) + \
            [m for m in lexical if m.chroma_id in seen]
        cands = fuse(dense, lexical, ceiling, leg, per_item)[:depth]
        # MMR weighs the fused score, not the cosine: no query vector for it
        return LegResult(cands, None, None, self._background(leg, q))

    # ranking ---------------------------------------------------------------------------------
    def _trim(self, req: Request, leg: Leg, found: LegResult, need: int,
              exclude: set[str]) -> list[Candidate]:
        """Excluded items out, MMR, ``need`` (and the floor's and ``min_score``'s share) kept.
        MMR relevance: the cosine to the query vector when there is one, else the score."""
        kept = [c for c in found.cands if c.item not in exclude]
        query, vectors = found.query, found.vectors
        if req.diverse is None:
            spare = req.min_score is not None or not req.show_all
            return kept if spare else kept[:need]
        pool = kept[: MMR_POOL * need]
        if vectors is None:
            vectors = self.retriever.chunk_vectors(leg.space, [c.match for c in pool])
        vecs = np.stack([unit(np.asarray(vectors[c.match.chroma_id], dtype=np.float64))
                         for c in pool]) if pool else np.zeros((0, 1))
        if query is not None and pool:
            rel = vecs @ np.asarray(query, dtype=np.float64)
        else:
            rel = np.array([c.score for c in pool])
        return diversify(pool, vecs, rel, req.diverse, need)

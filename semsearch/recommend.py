"""More like these, less like those: similar items, recommendations and composed queries.

Everything here works on the vectors already in the store; nothing is re-embedded that the
store holds. The rules (also in the README, "Recommendations"):

* **Inputs.** Each input (a *like*, an *unlike*, a term of a composed query) is, in this order:
  ``id:ID`` or an item id of the collection (its stored vectors); ``text:WORDS`` (free text);
  the path of an existing file (an ingested file stands for its stored item(s); any other
  image or text file is read and embedded on the fly); else free text (where free text is
  allowed: not in ``similar``).
* **An item's vector** in a space is the mean of its chunks' vectors there, normalised (an
  image has one chunk). A text file read on the fly is chunked as ingest chunks it, and
  averaged the same way; free text is embedded as a search query is.
* **Spaces.** As in search: when every input is text, text results come from the text space
  and image results from CLIP (text tower); when any input is an image, everything is found
  in the CLIP space. With ``type="any"`` the per-modality lists are merged by reciprocal-rank
  fusion (each hit keeps the score of its own list).
* **Candidates** score as their best chunk (one hit per item).
* **average** (Rocchio): ``q = like_weight * mean(likes) - unlike_weight * mean(unlikes)``,
  normalised; a hit's score is its cosine similarity to ``q``. The defaults (1, 0.5) are
  Qdrant's ``average_vector`` (``2*avg_pos - avg_neg``) up to scale.
* **best-score** (Qdrant's rule): for a candidate chunk ``c``, ``pos = max cos(c, like)``,
  ``neg = max cos(c, unlike)`` (``-inf`` without unlikes); its score is ``pos`` when
  ``pos > neg``, else ``-(neg ** 2)``. Candidates are the union of each like's nearest
  neighbours (one batched query), re-scored exactly in numpy over all their chunks.
* **Composed queries**: ``q = sum(w_i * v_i)`` over the terms' unit vectors (a ``-`` term has
  a negative weight), normalised, then searched like any query vector.
* **MMR** (``diverse=LAMBDA``): from the ``4 * (offset + k)`` best candidates of each list,
  pick greedily ``argmax LAMBDA * score(c) - (1 - LAMBDA) * max cos(c, picked)``, where a
  candidate's vector is its best-matching chunk. ``1`` keeps the ranking, ``0`` only spreads.
  With ``type="any"`` each modality's list is diversified in its own space, then fused.
* ``min_score`` drops hits whose own score is below it (before fusion); ``offset`` skips the
  first hits of the final ranking (paging: ``offset=10, k=10`` is the second page).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .collection import Collection, Results
from .errors import BadInput, ConfigError, ModelUnavailable
from .query import and_where, check_arguments, parse_where, rrf
from .store import Match, chroma_id, item_of

if TYPE_CHECKING:
    from .embedders.base import Embedder
    from .types import Modality, ResultType

Strategy = Literal["average", "best-score"]
STRATEGIES: tuple[str, ...] = ("average", "best-score")
TermKind = Literal["auto", "text", "item", "path", "image"]

#: Rocchio weights of the ``average`` strategy (Qdrant's average_vector, up to scale)
LIKE_WEIGHT = 1.0
UNLIKE_WEIGHT = 0.5
#: MMR looks at this many candidates per result wanted
MMR_POOL = 4

_ONLY: dict[str, dict[str, Any]] = {
    "image": {"modality": "image"},
    "text": {"modality": "text"},
}


# composed queries ----------------------------------------------------------------------------
@dataclass
class Term:
    """One part of a composed query: text, an item id, a path or a PIL image, with a weight.

    A negative weight subtracts the term. ``kind`` forces how ``value`` is read (``auto``:
    item id, then file path, then text).
    """

    value: Any
    weight: float = 1.0
    kind: TermKind = "auto"

    @property
    def label(self) -> str:
        return os.fspath(self.value) if isinstance(self.value, str | os.PathLike) else "<image>"

    def __str__(self) -> str:
        label = self.label
        if re.search(r"\s[+-]\s|^[+-]\s|^\d", label) or label != label.strip():
            label = '"' + label.replace('"', '\\"') + '"'
        w = abs(self.weight)
        return label if w == 1 else f"{w:g}:{label}"


_WEIGHT = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*:(.+)$", re.S)


def split_weight(text: str) -> tuple[float, str]:
    """``"2:beach"`` -> ``(2.0, "beach")``; no prefix -> ``(1.0, text)``."""
    m = _WEIGHT.match(text)
    if not m or not m.group(2).strip():
        return 1.0, text
    return float(m.group(1)), m.group(2)


def _unquote(text: str) -> str:
    t = text.strip()
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"":
        return t[1:-1].replace("\\" + t[0], t[0])
    return t


@dataclass
class Composed:
    """A weighted sum of terms, e.g. ``Composed.parse('2:cat + ./x.jpg - fruit')``."""

    terms: list[Term] = field(default_factory=list)

    @classmethod
    def parse(cls, expr: str) -> Composed:
        """Parse ``[W:]TERM (+|- [W:]TERM)...``.

        Terms are separated by `` + `` and `` - `` with spaces around them; a leading ``-``
        subtracts the first term. ``W:`` is a weight (a number, default 1). Quote a term
        (``"rock - paper"``) to keep an operator inside it. A term that is an item id or an
        existing file is that item or file; anything else is text.
        """
        parts: list[tuple[int, str]] = []
        sign, buf, quote, i = 1, [], "", 0
        s = expr.strip()
        if s[:1] in "+-" and (len(s) == 1 or s[1].isspace()):
            sign, i = (-1 if s[0] == "-" else 1), 1
        while i < len(s):
            ch = s[i]
            if quote:
                if ch == "\\" and i + 1 < len(s) and s[i + 1] == quote:
                    buf.append(quote)
                    i += 2
                    continue
                if ch == quote:
                    quote = ""
                buf.append(ch)
            elif ch in "'\"" and not "".join(buf).strip(" \t:0123456789."):
                quote = ch
                buf.append(ch)
            elif (
                ch in "+-" and i > 0 and s[i - 1].isspace()
                and (i + 1 == len(s) or s[i + 1].isspace())
            ):
                parts.append((sign, "".join(buf)))
                sign, buf = (-1 if ch == "-" else 1), []
            else:
                buf.append(ch)
            i += 1
        if quote:
            raise ConfigError(f"unclosed quote in query {expr!r}")
        parts.append((sign, "".join(buf)))
        terms = []
        for sign, raw in parts:
            weight, body = split_weight(raw)
            value = _unquote(body)
            if not value.strip():
                raise ConfigError(f"empty term in query {expr!r}")
            terms.append(Term(value, sign * weight))
        return cls(terms)

    def __str__(self) -> str:
        out = ""
        for i, t in enumerate(self.terms):
            if i == 0:
                out = ("- " if t.weight < 0 else "") + str(t)
            else:
                out += (" - " if t.weight < 0 else " + ") + str(t)
        return out


# inputs --------------------------------------------------------------------------------------
@dataclass(eq=False)
class Example:
    """One resolved input: a stored item, a file read on the fly, free text, or an image."""

    label: str
    kind: Literal["item", "file", "text", "image"]
    modality: Modality
    item_id: str | None = None
    text: str | None = None
    image: Any = None
    text_chunks: int = 0
    clip_chunks: int = 0


@dataclass
class Leg:
    """One ranked list: a space, and the modality its results are restricted to."""

    space: str
    modality: str | None

    def where(self, user: dict[str, Any] | None) -> dict[str, Any] | None:
        return and_where(_ONLY[self.modality] if self.modality else None, user)


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def _as_list(values: Any) -> list[Any]:
    if values is None:
        return []
    if isinstance(values, str | os.PathLike) or not isinstance(values, Iterable):
        return [values]
    return list(values)


def mmr(scores: np.ndarray, vectors: np.ndarray, lam: float, n: int) -> list[int]:
    """Maximal marginal relevance: indices of ``n`` picks, in pick order.

    ``argmax lam * score - (1 - lam) * max cos(candidate, picked)``; ties go to the earlier
    candidate. ``vectors`` are unit rows.
    """
    m = len(scores)
    if m == 0 or n <= 0:
        return []
    rel = np.asarray(scores, dtype=np.float64)
    v = np.asarray(vectors, dtype=np.float64)
    closest = np.full(m, -np.inf)
    free = np.ones(m, dtype=bool)
    picked: list[int] = []
    for _ in range(min(n, m)):
        penalty = np.where(np.isfinite(closest), closest, 0.0) if picked else np.zeros(m)
        value = lam * rel - (1.0 - lam) * penalty
        value[~free] = -np.inf
        best = int(np.argmax(value))
        picked.append(best)
        free[best] = False
        closest = np.maximum(closest, v @ v[best])
    return picked


def best_score(pos: np.ndarray, neg: np.ndarray | None) -> np.ndarray:
    """Qdrant's best_score rule, per candidate: ``pos`` if ``pos > neg`` else ``-(neg**2)``."""
    if neg is None:
        return pos
    return np.where(pos > neg, pos, -(neg**2))


# the engine ----------------------------------------------------------------------------------
class Engine:
    """One request over one collection: resolves inputs, fetches vectors, ranks, pages."""

    def __init__(self, col: Collection) -> None:
        col._require()
        self.col = col
        self.lib = col.lib
        self.name = col.name
        self.warnings: list[str] = []
        self._vectors: dict[tuple[int, str], np.ndarray | None] = {}

    # resolving -----------------------------------------------------------------------------
    def resolve(self, ref: Any, *, allow_text: bool = True, kind: TermKind = "auto",
                label: str | None = None) -> list[Example]:
        """An input to its examples (a records file ingested stands for all its records)."""
        if isinstance(ref, Example):
            return [ref]
        if not isinstance(ref, str | os.PathLike):
            if kind not in ("auto", "image"):
                raise ConfigError(f"cannot read {type(ref).__name__} as {kind}")
            return [Example(label or "<image>", "image", "image", image=ref)]
        raw = os.fspath(ref)
        label = label or raw
        if isinstance(ref, str) and kind == "auto":
            if raw.startswith("id:"):
                kind, raw = "item", raw[3:]
            elif raw.startswith("text:") and allow_text:
                kind, raw = "text", raw[5:]
        if kind == "text":
            if not raw.strip():
                raise ConfigError("empty text")
            return [Example(label, "text", "text", text=raw)]
        if kind in ("auto", "item"):
            row = self.lib.catalog.item(self.name, raw)
            if row is not None:
                return [self._item_example(row, label)]
            if kind == "item":
                raise ConfigError(f"no item {raw!r} in collection {self.name!r}")
        path = Path(raw).expanduser()
        if path.is_file():
            if kind != "image":
                rows = self.lib.catalog.items_of(self.name, str(path.resolve()))
                if rows:
                    return [self._item_example(r, label if len(rows) == 1 else r.item_id)
                            for r in rows]
            return self._read_file(path, label, image_only=kind == "image")
        if kind in ("path", "image") or isinstance(ref, os.PathLike):
            raise ConfigError(f"no such file: {raw}")
        if allow_text and raw.strip():
            return [Example(label, "text", "text", text=raw)]
        raise ConfigError(
            f"{raw!r} is neither an item of collection {self.name!r} nor a file"
        )

    @staticmethod
    def _item_example(row: Any, label: str) -> Example:
        modality: Modality = "image" if row.modality == "image" else "text"
        return Example(label, "item", modality, item_id=row.item_id,
                       text_chunks=row.text_chunks, clip_chunks=row.clip_chunks)

    def _read_file(self, path: Path, label: str, image_only: bool) -> list[Example]:
        from .sources import ReadOptions, source_for

        source = source_for(path)
        if source is None:
            raise ConfigError(f"cannot use {path}: unsupported file type {path.suffix or '(none)'}")
        if image_only and source.kind != "image":
            raise ConfigError(f"{path} is not an image")
        try:
            data = path.read_bytes()
        except OSError as e:
            raise ConfigError(f"cannot read {path}: {e.strerror or e}") from e
        base = {"path": str(path), "modality": "image" if source.kind == "image" else "text"}
        try:
            read = source.read(path, data, base, ReadOptions())
        except BadInput as e:
            raise ConfigError(f"cannot use {path}: {e}") from e
        out = []
        for item in read.items:
            if item.modality == "image":
                out.append(Example(label, "file", "image", image=item.image))
            elif item.text:
                out.append(Example(label if len(read.items) == 1 else item.id, "file", "text",
                                   text=item.text))
        if not out:
            raise ConfigError(f"nothing to use in {path}")
        return out

    # vectors -------------------------------------------------------------------------------
    def _embedder(self, space: str) -> Embedder:
        return self.col.text_embedder() if space == "text" else self.col.clip_embedder()

    def vectors(self, examples: Sequence[Example], space: str) -> list[np.ndarray | None]:
        """Each example's unit vector in ``space`` (None: it has none there)."""
        todo = [ex for ex in examples if (id(ex), space) not in self._vectors]
        stored = [ex for ex in todo if ex.kind == "item"]
        if stored:
            col = self.lib.store.get(self.name, space)
            ids = {ex: [chroma_id(ex.item_id or "", c) for c in range(
                ex.text_chunks if space == "text" else ex.clip_chunks)] for ex in stored}
            found = self.lib.store.vectors(col, [c for cs in ids.values() for c in cs]) \
                if col is not None else {}
            for ex, cids in ids.items():
                vecs = [found[c] for c in cids if c in found]
                self._vectors[(id(ex), space)] = _unit(np.mean(vecs, axis=0)) if vecs else None
        texts = [ex for ex in todo if ex.kind == "text"]
        files = [ex for ex in todo if ex.kind == "file" and ex.modality == "text"]
        images = [ex for ex in todo if ex.image is not None]
        if space == "text" and images:
            for ex in images:
                self._vectors[(id(ex), space)] = None
            images = []
        if texts or files or images:
            emb = self._embedder(space)
            chunks: list[tuple[Example, str]] = [(ex, ex.text or "") for ex in texts]
            if files:
                from .chunking import chunk_text
                from .ingest import TEXT_OVERLAP

                overlap = TEXT_OVERLAP if space == "text" else 0
                for ex in files:
                    t = ex.text or ""
                    chunks += [(ex, c.text) for c in chunk_text(
                        t, emb.token_spans(t), emb.max_tokens, overlap)]
            embedded = emb.embed_batch([c for _, c in chunks]) if chunks else np.zeros((0, 1))
            groups: dict[Example, list[np.ndarray]] = {}
            for (ex, _), v in zip(chunks, embedded, strict=True):
                groups.setdefault(ex, []).append(np.asarray(v, dtype=np.float32))
            for ex in texts + files:
                got = groups.get(ex)
                self._vectors[(id(ex), space)] = _unit(np.mean(got, axis=0)) if got else None
            if images:
                prepared = [emb.prepare_image(ex.image) for ex in images]
                for ex, v in zip(images, emb.embed_prepared(prepared), strict=True):
                    self._vectors[(id(ex), space)] = _unit(np.asarray(v, dtype=np.float32))
        return [self._vectors.get((id(ex), space)) for ex in examples]

    # planning ------------------------------------------------------------------------------
    @staticmethod
    def legs(examples: Sequence[Example], type: ResultType) -> list[Leg]:
        """The lists to rank, in search's order (it matters for rank-fusion ties)."""
        if any(ex.modality == "image" for ex in examples):
            return [Leg("clip", m) for m in ("image", "text") if type in ("any", m)]
        legs = []
        if type in ("any", "text"):
            legs.append(Leg("text", None))
        if type in ("any", "image"):
            legs.append(Leg("clip", "image"))
        return legs

    def leg_vectors(
        self, leg: Leg, groups: Sequence[Sequence[Example]], type: ResultType,
        has_image_input: bool,
    ) -> list[list[np.ndarray]] | None:
        """Per group, the examples' vectors in the leg's space; None drops the leg.

        A leg that cannot be served (no CLIP model) is an error when the request needs it
        (an image input, or ``type="image"``), else a warning and the leg is left out.
        """
        try:
            if leg.space == "clip" and self.col.models.clip_model is None:
                self.col.clip_embedder()  # raises: built without a CLIP model
            out = []
            for group in groups:
                vecs = self.vectors(group, leg.space)
                for ex, v in zip(group, vecs, strict=True):
                    if v is None:
                        self.warnings.append(
                            f"{ex.label} has no vector in the {leg.space} space; "
                            f"left out of the {leg.modality or 'text'} results")
                out.append([v for v in vecs if v is not None])
            return out
        except ModelUnavailable as e:
            if leg.space == "text" or has_image_input or type == "image":
                raise
            self.warnings.append(f"{e}; image results left out")
            return None

    # ranking -------------------------------------------------------------------------------
    def by_vector(
        self, leg: Leg, q: np.ndarray, depth: int, where: dict[str, Any] | None,
        per_item: bool,
    ) -> list[Match]:
        return self.col._space_query(leg.space, q, max(1, depth), leg.where(where), per_item)

    def by_best_score(
        self, leg: Leg, pos: np.ndarray, neg: np.ndarray | None, depth: int,
        where: dict[str, Any] | None,
    ) -> tuple[list[Match], dict[str, np.ndarray]]:
        """Candidates: the union of each like's nearest chunks (one batched query, ids only);
        then every chunk of each candidate item is scored exactly in numpy and the item keeps
        its best chunk. Metadata is read for the ``depth`` best items only."""
        col = self.lib.store.get(self.name, leg.space)
        if col is None:
            return [], {}
        total = col.count()
        if total == 0:
            return [], {}
        w = leg.where(where)
        n = min(total, depth * 4 + 20)
        found: dict[str, None] = {}
        while True:
            res = col.query(query_embeddings=np.asarray(pos, dtype=np.float32), n_results=n,
                            where=w, include=["distances"])
            short = any(len(ids) < n for ids in res["ids"])
            for ids in res["ids"]:
                found.update(dict.fromkeys(ids))
            items = {item_of(cid) for cid in found}
            if len(items) >= depth or n >= total or short:
                break
            n = min(total, n * 4)
        if not found:
            return [], {}
        vectors = self.lib.store.vectors(col, list(found))
        vectors.update(self._other_chunks(col, leg, items, found, w))
        cids = [c for c in list(found) + [c for c in vectors if c not in found] if c in vectors]
        emb = np.stack([vectors[c] for c in cids]).astype(np.float64)
        p = (emb @ np.asarray(pos, dtype=np.float64).T).max(axis=1)
        ng = (emb @ np.asarray(neg, dtype=np.float64).T).max(axis=1) \
            if neg is not None and len(neg) else None
        scores = best_score(p, ng)
        best: dict[str, int] = {}
        for i, cid in enumerate(cids):
            item = item_of(cid)
            if item not in best or scores[i] > scores[best[item]]:
                best[item] = i
        order = sorted(best.values(), key=lambda i: -scores[i])[:depth]
        top = [cids[i] for i in order]
        got = col.get(ids=top, include=["metadatas", "documents"])
        docs = got.get("documents") or [None] * len(got["ids"])
        info = {cid: (dict(meta or {}), doc)
                for cid, meta, doc in zip(got["ids"], got["metadatas"], docs, strict=True)}
        matches = [Match(cids[i], 1.0 - float(scores[i]), *info[cids[i]])
                   for i in order if cids[i] in info]
        return matches, {m.chroma_id: vectors[m.chroma_id] for m in matches}

    def _other_chunks(self, col: Any, leg: Leg, items: set[str], found: dict[str, None],
                      where: dict[str, Any] | None) -> dict[str, np.ndarray]:
        """Vectors of the candidates' chunks that no like's query returned (multi-chunk
        texts), passing ``where``; chunk counts come from the catalog."""
        column = "text_chunks" if leg.space == "text" else "clip_chunks"
        missing: list[str] = []
        listed = sorted(items)
        for i in range(0, len(listed), 500):
            part = listed[i: i + 500]
            rows = self.lib.catalog.db.execute(
                f"SELECT item_id, {column} FROM items WHERE collection=? AND {column} > 1 "
                f"AND item_id IN ({','.join('?' * len(part))})", (self.name, *part))
            for item_id, count in rows:
                missing += [c for c in (chroma_id(item_id, j) for j in range(int(count)))
                            if c not in found]
        out: dict[str, np.ndarray] = {}
        step = self.lib.store.max_batch
        for i in range(0, len(missing), step):
            got = col.get(ids=missing[i: i + step], where=where, include=["embeddings"])
            for cid, vec in zip(got["ids"], got["embeddings"], strict=True):
                out[cid] = np.asarray(vec, dtype=np.float32)
        return out

    def _chunk_vectors(self, leg: Leg, matches: Sequence[Match]) -> dict[str, np.ndarray]:
        col = self.lib.store.get(self.name, leg.space)
        if col is None or not matches:
            return {}
        return self.lib.store.vectors(col, [m.chroma_id for m in matches])

    # finishing -----------------------------------------------------------------------------
    def trim(
        self, leg: Leg, matches: list[Match], *, need: int, exclude: set[str],
        min_score: float | None, diverse: float | None,
        vectors: dict[str, np.ndarray] | None = None, query: np.ndarray | None = None,
    ) -> list[Match]:
        """Excluded items out, scores below ``min_score`` out, MMR, ``need`` kept.

        MMR relevance: the cosine to ``query`` when the list came from a query vector, else
        the hit's score (best-score).
        """
        kept = [m for m in matches
                if str(m.metadata.get("item_id") or m.chroma_id.rsplit("#", 1)[0]) not in exclude
                and (min_score is None or round(m.similarity, 6) >= min_score)]
        if diverse is None:
            return kept[:need]
        pool = kept[: MMR_POOL * need]
        if vectors is None:
            vectors = self._chunk_vectors(leg, pool)
        vecs = np.stack([_unit(np.asarray(vectors[m.chroma_id], dtype=np.float64))
                         for m in pool]) if pool else np.zeros((0, 1))
        if query is not None and pool:
            rel = vecs @ np.asarray(query, dtype=np.float64)
        else:
            rel = np.array([m.similarity for m in pool])
        picks = mmr(rel, vecs, diverse, need)
        return [pool[i] for i in picks]

    def finish(self, lists: Sequence[tuple[Leg, list[Match]]], k: int, offset: int) -> Results:
        space_of = {id(m): leg.space for leg, lst in lists for m in lst}
        if not lists:
            return Results([], self.warnings)
        fused = lists[0][1] if len(lists) == 1 else rrf([lst for _, lst in lists])
        page = fused[offset: offset + k]
        hits = [Collection._hit(rank, m, space_of[id(m)])
                for rank, m in enumerate(page, start=offset + 1)]
        return Results(hits, list(dict.fromkeys(self.warnings)))



def _linear(engine: Engine, leg: Leg, parts: Sequence[tuple[list[np.ndarray], float]]
            ) -> np.ndarray | None:
    """``sum(w * unit(mean(vectors of the part)))``, normalised; None when nothing is left."""
    q: np.ndarray | None = None
    for vecs, w in parts:
        if not vecs or w == 0:
            continue
        v = w * _unit(np.mean(np.stack(vecs).astype(np.float64), axis=0))
        q = v if q is None else q + v
    if q is None:
        return None
    if float(np.linalg.norm(q)) < 1e-9:
        raise ConfigError("the query's parts cancel out: nothing is left to search with")
    return _unit(q).astype(np.float32)


# the three requests --------------------------------------------------------------------------
def search(
    col: Collection,
    text: str | None = None,
    *,
    image: Any = None,
    expr: str | Composed | None = None,
    minus: Sequence[Any] | Any = None,
    weights: Mapping[str, float] | None = None,
    type: ResultType = "any",
    k: int = 10,
    where: Sequence[str] | Mapping[str, Any] | None = None,
    all_chunks: bool = False,
    diverse: float | None = None,
    min_score: float | None = None,
    offset: int = 0,
    mode: str = "hybrid",
) -> Results:
    """``Collection.search`` with composed queries, MMR, a score floor and paging.

    Without ``expr``/``minus``/``weights`` the query is search's own (images averaged, plus
    the text; a text-only query finds text items by ``mode``); with them, every part is a
    term of its own: the text, each image, each ``expr`` term, each ``minus`` (subtracted);
    ``weights`` maps a term's text or path to its weight. Composed queries are dense only.
    """
    check_arguments(type, k, offset, diverse, mode)
    engine = Engine(col)
    images = _as_list(image) if image is not None else []
    text = (text or "").strip() or None
    composed = expr is not None or bool(minus) or bool(weights)
    if composed and mode == "lexical":
        raise ConfigError("a composed query searches vectors only; use --mode dense or hybrid")
    plain_text = not composed and not images and text is not None
    terms: list[Term] = []
    if text:
        terms.append(Term(text, 1.0, "text"))
    if composed:
        terms += [Term(img, 1.0, "image") for img in images]
        if expr is not None:
            terms += (expr if isinstance(expr, Composed) else Composed.parse(expr)).terms
        for m in _as_list(minus):
            w, body = split_weight(m) if isinstance(m, str) else (1.0, m)
            terms.append(Term(body, -w))
    if not terms and not images:
        raise ConfigError("give a text query, an image, or both")
    if weights:
        def key(label: str) -> str:
            return os.path.normpath(os.path.expanduser(label.strip()))

        given = {key(name): float(w) for name, w in weights.items()}
        labels = {key(t.label) for t in terms}
        for name, w in weights.items():
            if key(name) not in labels:
                raise ConfigError(f"weight {w:g}:{name}: no query part {name!r}")
        terms = [Term(t.value, math.copysign(given.get(key(t.label), abs(t.weight)), t.weight),
                      t.kind) for t in terms]
    groups: list[list[Example]] = []
    signs: list[float] = []
    if not composed and images:
        groups.append([ex for img in images for ex in engine.resolve(img, kind="image")])
        signs.append(1.0)
    for t in terms:
        groups.append(engine.resolve(t.value, kind=t.kind))
        signs.append(t.weight)
    flat = [ex for g in groups for ex in g]
    has_image = any(ex.modality == "image" for ex in flat)
    user_where = parse_where(where)
    need = offset + k
    depth = need * (MMR_POOL if diverse is not None else 1)
    lists: list[tuple[Leg, list[Match]]] = []
    for leg in engine.legs(flat, type):
        lexical = plain_text and leg.space == "text"
        q: np.ndarray | None = None
        if not lexical or diverse is not None:
            vecs = engine.leg_vectors(leg, groups, type, has_image)
            if vecs is None:
                continue
            q = _linear(engine, leg, list(zip(vecs, signs, strict=True)))
            if q is None:
                continue
        if lexical:  # search's own text path: dense, lexical (BM25) or hybrid
            assert text is not None
            matches = col._text_query(text, depth, leg.where(user_where), not all_chunks,
                                      mode)  # type: ignore[arg-type]
        else:
            assert q is not None
            matches = engine.by_vector(leg, q, depth, user_where, not all_chunks)
        lists.append((leg, engine.trim(leg, matches, need=need, exclude=set(),
                                       min_score=min_score, diverse=diverse, query=q)))
    return engine.finish(lists, k, offset)


def recommend(
    col: Collection,
    like: Any = (),
    unlike: Any = (),
    *,
    strategy: Strategy = "average",
    k: int = 10,
    type: ResultType = "any",
    where: Sequence[str] | Mapping[str, Any] | None = None,
    profile: str | None = None,
    diverse: float | None = None,
    min_score: float | None = None,
    offset: int = 0,
    like_weight: float = LIKE_WEIGHT,
    unlike_weight: float = UNLIKE_WEIGHT,
    allow_text: bool = True,
) -> Results:
    """More like ``like``, less like ``unlike``; the inputs (and a profile's items) are never
    recommended. See the module docstring for the exact rules."""
    check_arguments(type, k, offset, diverse)
    if strategy not in STRATEGIES:
        raise ConfigError(f"bad strategy {strategy!r}; use average or best-score")
    engine = Engine(col)
    likes = [ex for ref in _as_list(like) for ex in engine.resolve(ref, allow_text=allow_text)]
    unlikes = [ex for ref in _as_list(unlike)
               for ex in engine.resolve(ref, allow_text=allow_text)]
    exclude: set[str] = set()
    if profile is not None:
        from .profiles import Profile

        p_likes, p_unlikes, p_items = Profile(col.lib, col.name, profile).examples(engine)
        likes += p_likes
        unlikes += p_unlikes
        exclude |= p_items
    if not likes:
        raise ConfigError("give at least one item, file or text to like"
                          + (f" (profile {profile!r} has no likes)" if profile else ""))
    exclude |= {ex.item_id for ex in likes + unlikes if ex.item_id}
    has_image = any(ex.modality == "image" for ex in likes + unlikes)
    user_where = parse_where(where)
    need = offset + k
    depth = need * (MMR_POOL if diverse is not None else 1) + len(exclude)
    lists: list[tuple[Leg, list[Match]]] = []
    for leg in engine.legs(likes + unlikes, type):
        vecs = engine.leg_vectors(leg, [likes, unlikes], type, has_image)
        if vecs is None:
            continue
        pos, neg = vecs
        if not pos:
            engine.warnings.append(f"no liked input has a vector in the {leg.space} space; "
                                   f"{leg.modality or 'text'} results left out")
            continue
        vectors: dict[str, np.ndarray] | None = None
        q: np.ndarray | None = None
        if strategy == "average":
            parts = [([v], like_weight / len(pos)) for v in pos]
            parts += [([v], -unlike_weight / len(neg)) for v in neg]
            q = _linear(engine, leg, parts)
            assert q is not None
            matches = engine.by_vector(leg, q, depth, user_where, True)
        else:
            matches, vectors = engine.by_best_score(
                leg, np.stack(pos), np.stack(neg) if neg else None, depth, user_where)
        lists.append((leg, engine.trim(leg, matches, need=need, exclude=exclude,
                                       min_score=min_score, diverse=diverse, vectors=vectors,
                                       query=q if strategy == "average" else None)))
    return engine.finish(lists, k, offset)


def similar(
    col: Collection,
    item: Any,
    *,
    k: int = 10,
    type: ResultType = "any",
    where: Sequence[str] | Mapping[str, Any] | None = None,
    diverse: float | None = None,
    min_score: float | None = None,
    offset: int = 0,
) -> Results:
    """More like one item (an item id, or a path: ingested or not); the item is left out."""
    if isinstance(item, str) and not item.strip():
        raise ConfigError("give an item id or a path")
    return recommend(col, [item], (), k=k, type=type, where=where, diverse=diverse,
                     min_score=min_score, offset=offset, allow_text=False)


__all__ = [
    "Composed",
    "Engine",
    "Example",
    "LIKE_WEIGHT",
    "STRATEGIES",
    "Strategy",
    "Term",
    "UNLIKE_WEIGHT",
    "best_score",
    "mmr",
    "recommend",
    "search",
    "similar",
    "split_weight",
]

"""One typed request for every result listing: search, similar, recommend, and a profile's
recommendations. The planner (:mod:`semsearch.search.planner`) runs all of them the same way."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import ConfigError
from ..types import ResultType
from .expression import Composed, Term, TermKind, split_weight
from .filters import and_where

Strategy = Literal["average", "best-score"]
STRATEGIES: tuple[str, ...] = ("average", "best-score")
SearchMode = Literal["dense", "lexical", "hybrid"]
#: Rocchio weights of the ``average`` strategy (Qdrant's average_vector, up to scale)
LIKE_WEIGHT = 1.0
UNLIKE_WEIGHT = 0.5


_ONLY: dict[str, dict[str, Any]] = {
    "image": {"modality": "image"},
    "text": {"modality": "text"},
}


@dataclass(frozen=True)
class Leg:
    """One ranked list: a space, and the modality its results are restricted to."""

    space: str
    modality: str | None

    def where(self, user: dict[str, Any] | None) -> dict[str, Any] | None:
        return and_where(_ONLY[self.modality] if self.modality else None, user)

    @property
    def label(self) -> str:
        return self.modality or "text"


@dataclass
class Part:
    """One input with its weight (negative: subtract it)."""

    ref: Any
    weight: float = 1.0
    kind: TermKind = "auto"


def as_list(values: Any) -> list[Any]:
    if values is None:
        return []
    if isinstance(values, str | os.PathLike) or not isinstance(values, Iterable):
        return [values]
    return list(values)


@dataclass
class Request:
    """What to rank and how.

    ``compose``: the query vector is ``sum(w * unit(mean(part)))`` over ``parts`` (a search;
    ``images`` are averaged into one part). ``text`` set means a plain text search, whose text
    items are found by ``mode`` (dense, lexical BM25 or hybrid). Otherwise ``likes`` and
    ``unlikes`` are combined by ``strategy`` and the inputs are never returned.
    """

    parts: list[Part] = field(default_factory=list)
    images: list[Any] = field(default_factory=list)
    text: str | None = None
    likes: list[Any] = field(default_factory=list)
    unlikes: list[Any] = field(default_factory=list)
    strategy: Strategy | Literal["compose"] = "compose"
    type: ResultType = "any"
    k: int = 10
    where: Sequence[str] | Mapping[str, Any] | None = None
    all_chunks: bool = False
    mode: SearchMode = "hybrid"
    diverse: float | None = None
    min_score: float | None = None
    offset: int = 0
    profile: str | None = None
    allow_text: bool = True
    like_weight: float = LIKE_WEIGHT
    unlike_weight: float = UNLIKE_WEIGHT
    show_all: bool = True

    @property
    def recommending(self) -> bool:
        return self.strategy != "compose"

    # builders --------------------------------------------------------------------------------
    @classmethod
    def search(
        cls, text: str | None = None, *, image: Any = None, expr: str | Composed | None = None,
        minus: Any = None, weights: Mapping[str, float] | None = None, **options: Any,
    ) -> Request:
        """Without ``expr``/``minus``/``weights`` the query is the images' mean plus the text;
        with them every part is a term of its own; ``weights`` maps a term's text or path to
        its weight. Composed queries are dense only."""
        images = as_list(image) if image is not None else []
        text = (text or "").strip() or None
        composed = expr is not None or bool(minus) or bool(weights)
        if composed and options.get("mode") == "lexical":
            raise ConfigError("a composed query searches vectors only; use --mode dense or hybrid")
        terms: list[Term] = []
        if text:
            terms.append(Term(text, 1.0, "text"))
        if composed:
            terms += [Term(img, 1.0, "image") for img in images]
            if expr is not None:
                terms += (expr if isinstance(expr, Composed) else Composed.parse(expr)).terms
            for m in as_list(minus):
                w, body = split_weight(m) if isinstance(m, str) else (1.0, m)
                terms.append(Term(body, -w))
        if not terms and not images:
            raise ConfigError("give a text query, an image, or both")
        if weights:
            terms = _weighted(terms, weights)
        return cls(parts=[Part(t.value, t.weight, t.kind) for t in terms],
                   images=[] if composed else images,
                   text=text if not composed and not images else None, **options)

    @classmethod
    def recommend(cls, like: Any = (), unlike: Any = (), *, strategy: Strategy = "average",
                  **options: Any) -> Request:
        if strategy not in STRATEGIES:
            raise ConfigError(f"bad strategy {strategy!r}; use average or best-score")
        return cls(likes=as_list(like), unlikes=as_list(unlike), strategy=strategy, **options)

    @classmethod
    def similar(cls, item: Any, **options: Any) -> Request:
        if isinstance(item, str) and not item.strip():
            raise ConfigError("give an item id or a path")
        return cls.recommend([item], (), allow_text=False, **options)


def _weighted(terms: list[Term], weights: Mapping[str, float]) -> list[Term]:
    def key(label: str) -> str:
        return os.path.normpath(os.path.expanduser(label.strip()))

    given = {key(name): float(w) for name, w in weights.items()}
    labels = {key(t.label) for t in terms}
    for name, w in weights.items():
        if key(name) not in labels:
            raise ConfigError(f"weight {w:g}:{name}: no query part {name!r}")
    return [Term(t.value, math.copysign(given.get(key(t.label), abs(t.weight)), t.weight),
                 t.kind) for t in terms]

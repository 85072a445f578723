"""Typed values at the API: what ingest returns and what search returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Modality = Literal["text", "image"]
ResultType = Literal["any", "image", "text"]


#: the collection used when none is named
DEFAULT_COLLECTION = "default"


@dataclass(frozen=True)
class ModelSpec:
    """The models a collection was built with. ``clip_model`` None means text-only.

    ``text_backend`` and ``clip_backend`` name the registered embedders (the
    ``semsearch.embedders`` entry points) that build the vectors from those models.
    """

    text_model: str
    clip_model: str | None
    clip_pretrained: str | None
    text_backend: str = "sentence-transformers"
    clip_backend: str = "open-clip"

    def describe(self) -> str:
        clip = f"{self.clip_model} ({self.clip_pretrained})" if self.clip_model else "no CLIP"
        text = self.text_model
        if self.text_backend != "sentence-transformers":
            text = f"{self.text_backend}:{text}"
        if self.clip_model and self.clip_backend != "open-clip":
            clip = f"{self.clip_backend}:{clip}"
        return f"text={text}, clip={clip}"


@dataclass
class Skipped:
    path: str
    reason: str


@dataclass
class IngestSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    moved: int = 0
    removed: int = 0
    skipped: int = 0
    items: int = 0
    seconds: float = 0.0
    skipped_files: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: paths given that do not exist (their items were kept unless pruning was asked for)
    missing: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.moved} moved, {self.removed} removed, {self.skipped} skipped "
            f"({self.items} {'item' if self.items == 1 else 'items'} embedded in "
            f"{self.seconds:.1f}s)"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Hit:
    rank: int
    id: str
    score: float
    modality: Modality
    path: str | None
    text: str | None
    metadata: dict[str, Any]
    space: str = "text"
    #: why it ranks here: the parts of ``score`` (``dense`` cosine, ``bm25``, ranks in each
    #: list, the calibrated value the lists were merged on), see :mod:`semsearch.search.rank`
    parts: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "id": self.id,
            "score": self.score,
            "modality": self.modality,
            "path": self.path,
            "text": self.text,
            "metadata": self.metadata,
            "space": self.space,
            "parts": self.parts,
        }


@dataclass
class CollectionInfo:
    name: str
    models: ModelSpec
    text_dim: int | None
    clip_dim: int | None
    counts: dict[str, int]
    files: int
    created: str
    #: how this process runs each space's model, e.g. {"text": "onnx-int8 (cpu)"}
    runtimes: dict[str, str] = field(default_factory=dict)
    #: where text queries find their nearest chunks: the vector index (its chunk count, and
    #: those not yet merged into its file) or the store
    text_index: str = ""
    #: metadata fields with a value index in this data dir (filters on them find their
    #: chunks at once; made by a first filter on a large collection)
    filter_fields: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return d


@dataclass
class ProgressEvent:
    """Sent to an ingest's progress callback: ``stage`` is 'scan', 'embed' or 'done'."""

    stage: str
    done: int  # files
    total: int
    path: str | None = None
    items: int = 0  # items written so far (a records file holds many)


class Results(list[Hit]):
    """Search hits, best first, plus any warnings (e.g. a model that could not load) and how
    many hits the relevance floor hid."""

    def __init__(self, hits: Sequence[Hit] = (), warnings: Sequence[str] = (),
                 hidden: int = 0) -> None:
        super().__init__(hits)
        self.warnings = list(warnings)
        self.hidden = hidden

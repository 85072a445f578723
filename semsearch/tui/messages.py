"""Messages the workers send to the app (thread-safe: ``post_message``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from ..client.collection import Collection
    from ..types import CollectionInfo, IngestSummary, ProgressEvent, Results
    from .state import Request


@dataclass
class StatusChanged(Message):
    """What the app is doing now ("Loading text model …"); ``busy`` while it works."""

    text: str
    busy: bool = True


@dataclass
class CollectionOpened(Message):
    collection: Collection
    info: CollectionInfo | None  # None: the collection does not exist (yet)
    error: str = ""


@dataclass
class ModelsReady(Message):
    collection: Collection
    warnings: list[str] = field(default_factory=list)


@dataclass
class LoadFailed(Message):
    error: str


@dataclass
class ResultsReady(Message):
    request: Request
    results: Results
    thumbs: dict[str, Any]  # item id -> small PIL image


@dataclass
class RequestFailed(Message):
    request: Request
    error: str


@dataclass
class PreviewReady(Message):
    item_id: str
    image: Any = None  # a PIL image
    text: str | None = None  # the item's whole text, when it can be read
    start: int = -1  # where the matching chunk is in it
    end: int = -1


@dataclass
class IngestProgress(Message):
    event: ProgressEvent


@dataclass
class IngestSkipped(Message):
    path: str
    reason: str


@dataclass
class IngestDone(Message):
    path: str
    summary: IngestSummary | None
    error: str = ""


@dataclass
class Notice(Message):
    """A notification from a worker thread."""

    text: str
    severity: str = "information"

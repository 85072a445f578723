"""What an ingest takes out of a collection: leftovers of a killed run, chunks a changed file
no longer has, files that are gone. The store first, then the catalog (and its lexical
index) in one transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..storage.ids import chroma_id
from ..types import IngestSummary

if TYPE_CHECKING:
    from ..storage.catalog import Catalog
    from ..storage.lexical import LexicalIndex
    from ..storage.vectors import Store
    from .pipeline import Open


class Removals:
    """Mixed into :class:`~.pipeline.Ingester`."""

    name: str
    catalog: Catalog
    lexical: LexicalIndex
    summary: IngestSummary

    @property
    def store(self) -> Store:  # the Ingester opens it on first use
        raise NotImplementedError

    def _clean_pending(self) -> None:
        """Chunks written by a run that died before recording them: of items the catalog does
        not know, all of them; of known items, those beyond the chunk counts it recorded."""
        pending = self.catalog.pending(self.name)
        for space, attr in (("text", "text_chunks"), ("clip", "clip_chunks")):
            ids: list[str] = []
            for p in pending:
                known = self.catalog.item(self.name, p.item_id)
                start = getattr(known, attr) if known is not None else 0
                ids += [chroma_id(p.item_id, i) for i in range(start, getattr(p, attr))]
            if ids and self.store.has(self.name, space):
                self.store.delete(self.name, space, ids)
        self.catalog.clear_pending(self.name, [p.item_id for p in pending])

    def _delete_stale(self, finished: list[Open]) -> list[str]:
        """Chunks of a file's previous items that its new items no longer have (deleted from
        the store; their text chunk ids are returned for the lexical index)."""
        stale: dict[str, list[str]] = {"text": [], "clip": []}
        for entry in finished:
            new = {p.item.id: p for p in entry.plans}
            for old in entry.old_items:
                kept = new.get(old.item_id)
                keep_text = len(kept.text_chunks) if kept else 0
                keep_clip = len(kept.clip_chunks) if kept else 0
                stale["text"] += [chroma_id(old.item_id, i)
                                  for i in range(keep_text, old.text_chunks)]
                stale["clip"] += [chroma_id(old.item_id, i)
                                  for i in range(keep_clip, old.clip_chunks)]
        for space, ids in stale.items():
            self.store.delete(self.name, space, ids)
        return stale["text"]

    # removing --------------------------------------------------------------------------------
    def _remove(self, paths: list[str], count: bool = True) -> None:
        for path in paths:
            items = self.catalog.items_of(self.name, path)
            text_ids: list[str] = []
            for space, attr in (("text", "text_chunks"), ("clip", "clip_chunks")):
                ids = [chroma_id(i.item_id, n) for i in items for n in range(getattr(i, attr))]
                self.store.delete(self.name, space, ids)
                text_ids = ids if space == "text" else text_ids
            with self.catalog.transaction() as db:
                self.catalog.forget_file(db, self.name, path)
                self.lexical.remove(db, text_ids)
            if count:
                self.summary.removed += 1

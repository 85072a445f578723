"""``semsearch show`` (one item: its metadata and chunks) and ``semsearch export`` (every
item, as JSON lines or Parquet)."""

from __future__ import annotations

import json
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from ..errors import CollectionNotFound
from ..storage.ids import chroma_id, chunk_of, item_id
from . import render
from .app import app, errors, examples, fail, open_library
from .options import CollectionOpt, HomeOpt, JsonOpt

if TYPE_CHECKING:
    import numpy as np

    from ..client.library import Library

SPACES = ("text", "clip")
#: per-chunk metadata, not the item's
CHUNK_KEYS = {"item_id", "chunk", "start", "end"}


@dataclass
class Item:
    id: str
    path: str | None = None
    modality: str = "text"
    metadata: dict[str, Any] = field(default_factory=dict)
    #: per space: (chunk number, metadata, document, vector), in chunk order
    chunks: dict[str, list[tuple[int, dict[str, Any], str | None, np.ndarray]]] = field(
        default_factory=dict)

    def add(self, space: str, cid: str, meta: dict[str, Any], doc: str | None,
            vec: np.ndarray) -> None:
        if not self.metadata or space == "text":
            self.metadata = {k: v for k, v in meta.items() if k not in CHUNK_KEYS}
            self.path = meta.get("path", self.path)
            self.modality = meta.get("modality", self.modality)
        self.chunks.setdefault(space, []).append((chunk_of(cid), meta, doc, vec))

    def text(self) -> str | None:
        """The item's text, put back together from its text-space chunks (which overlap)."""
        chunks = sorted(self.chunks.get("text") or self.chunks.get("clip") or [],
                        key=lambda c: c[0])
        out, end = "", None
        for _, meta, doc, _vec in chunks:
            if doc is None:
                continue
            start, stop = meta.get("start"), meta.get("end")
            if end is not None and isinstance(start, int) and isinstance(stop, int) \
                    and stop - start == len(doc) and start <= end:
                out += doc[end - start:]
            else:
                out += (" " if out else "") + doc
            end = stop if isinstance(stop, int) else None
        return out or None

    def vector(self, space: str) -> list[float] | None:
        """The item's vector in ``space``: its chunks' mean, normalised."""
        vecs = [c[3] for c in self.chunks.get(space, [])]
        if not vecs:
            return None
        import numpy as np

        mean = np.mean(np.stack(vecs), axis=0)
        norm = float(np.linalg.norm(mean))
        return [float(x) for x in (mean / norm if norm else mean)]

    def to_dict(self, vectors: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "path": self.path, "modality": self.modality,
                             "metadata": self.metadata, "text": self.text()}
        if vectors:
            d.update({f"{s}_vector": self.vector(s) for s in SPACES})
        return d


def _collection(lib: Library, name: str) -> None:
    if not lib.collection(name).exists:
        raise CollectionNotFound(name)


def read_items(lib: Library, name: str, ids: list[str] | None = None) -> list[Item]:
    """Items of collection ``name`` (those of ``ids``, else all) from the store."""
    found: dict[str, Item] = {}
    for space in SPACES:
        if not lib.store.has(name, space):
            continue
        wanted = None
        if ids is not None:
            rows = lib.catalog.items_by_ids(name, ids)
            count = "text_chunks" if space == "text" else "clip_chunks"
            wanted = [chroma_id(r.item_id, i) for r in rows.values()
                      for i in range(getattr(r, count))]
            if not wanted:
                continue
        for page in lib.store.scan(name, space, ids=wanted):
            for cid, meta, doc, vec in zip(page.ids, page.metadatas, page.documents,
                                           page.embeddings, strict=True):
                iid = item_id(cid, meta)
                found.setdefault(iid, Item(iid)).add(space, cid, meta, doc, vec)
    for item in found.values():
        for chunks in item.chunks.values():
            chunks.sort(key=lambda c: c[0])
    return sorted(found.values(), key=lambda i: (i.path or "", i.id))


def show_text(item: Item) -> str:
    lines = [f"item:      {render.printable(item.id)}",
             f"path:      {render.display_path(item.path) if item.path else '-'}",
             f"modality:  {item.modality}",
             "chunks:    " + (", ".join(f"{len(c)} {s}" for s, c in item.chunks.items())
                              or "none")]
    if item.metadata:
        lines.append("metadata:")
        lines += [f"  {k}: {render.printable(str(v))}" for k, v in sorted(item.metadata.items())]
    for n, meta, doc, _vec in item.chunks.get("text", []):
        where = (f" (chars {meta['start']}-{meta.get('end')})"
                 if meta.get("start") is not None else "")
        lines.append(f"chunk {n}{where}:")
        lines += textwrap.wrap(render.printable(" ".join((doc or "").split())),
                               render.terminal_width() - 2, initial_indent="  ",
                               subsequent_indent="  ", break_on_hyphens=False) or ["  "]
    return "\n".join(lines)


@app.command(epilog=examples(
    "semsearch show book-3 -c sample",
    "semsearch show samples/notes/bike-repair.md -c sample --json",
))
def show(
    item: Annotated[str, typer.Argument(metavar="ITEM", help="Item id, or an ingested file.")],
    collection: CollectionOpt = "",
    as_json: JsonOpt = False,
    home: HomeOpt = None,
) -> None:
    """Show one item: its metadata and its chunks' text (every record of a records file)."""
    with errors(), open_library(home) as lib:
        _collection(lib, collection)
        ids = [item] if lib.catalog.item(collection, item) else [
            r.item_id for r in lib.catalog.items_of(collection, str(Path(item).resolve()))]
        items = read_items(lib, collection, ids) if ids else []
        if not items:
            fail(f"no item {item!r} in collection {collection!r} (an item id, or the path of "
                 "an ingested file)")
        if as_json:
            out = [{**i.to_dict(), "chunks": [
                {"space": s, "chunk": n, "start": m.get("start"), "end": m.get("end"),
                 "text": d} for s in SPACES for n, m, d, _v in i.chunks.get(s, [])]}
                for i in items]
            typer.echo(json.dumps(out[0] if len(out) == 1 else out, ensure_ascii=False))
        else:
            typer.echo("\n\n".join(show_text(i) for i in items))


def _write_parquet(rows: list[dict[str, Any]], out: Path) -> None:
    try:
        import pyarrow as pa  # type: ignore[import-not-found]
        import pyarrow.parquet as pq  # type: ignore[import-not-found]
    except ImportError:
        fail("writing Parquet needs pyarrow: pip install pyarrow (or write .jsonl)")
    for r in rows:
        r["metadata"] = json.dumps(r["metadata"], ensure_ascii=False)
    pq.write_table(pa.Table.from_pylist(rows), str(out))


@app.command(epilog=examples(
    "semsearch export -c sample -o sample.jsonl",
    "semsearch export -c sample --vectors -o sample.parquet   # needs pyarrow",
    "semsearch export -c sample | jq -r .id",
))
def export(
    collection: CollectionOpt = "",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="PATH",
        help="Write here (.parquet: Parquet, with pyarrow); default: stdout, JSON lines.")
    ] = None,
    vectors: Annotated[bool, typer.Option(
        "--vectors", help="Add each item's text_vector and clip_vector (its chunks' mean).")
    ] = False,
    home: HomeOpt = None,
) -> None:
    """Export a collection's items as JSON lines: id, path, modality, metadata, text."""
    with errors(), open_library(home) as lib:
        _collection(lib, collection)
        parquet = output is not None and output.suffix.lower() == ".parquet"
        if parquet:
            try:
                import pyarrow  # type: ignore[import-not-found]  # noqa: F401
            except ImportError:
                fail("writing Parquet needs pyarrow: pip install pyarrow (or write .jsonl)")
        rows = [i.to_dict(vectors) for i in read_items(lib, collection)]
        if parquet:
            assert output is not None
            _write_parquet(rows, output)
        elif output is None or str(output) == "-":
            _write_jsonl(rows, sys.stdout)
        else:
            with open(output, "w", encoding="utf-8") as f:
                _write_jsonl(rows, f)
        if output is not None and str(output) != "-":
            typer.echo(f"{collection}: {render.plural(len(rows), 'item')} written to {output}",
                       err=True)


def _write_jsonl(rows: list[dict[str, Any]], out: TextIO) -> None:
    for r in rows:
        out.write(json.dumps(r, ensure_ascii=False) + "\n")
    out.flush()

"""Plain-text rendering of results for the CLI (stable, testable, no terminal codes)."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from ..types import CollectionInfo, Hit

SNIPPET = 70


def display_path(path: str) -> str:
    """Relative to the working directory when below it, else as given."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return rel if not rel.startswith("..") else path


def snippet(text: str | None, width: int = SNIPPET) -> str:
    flat = re.sub(r"\s+", " ", text or "").strip()
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def hit_label(hit: Hit) -> str:
    if hit.path and hit.id == hit.path:
        return display_path(hit.path)
    return hit.id


def hits_table(hits: Sequence[Hit]) -> str:
    if not hits:
        return "no results"
    labels = [hit_label(h) for h in hits]
    width = min(48, max(4, *(len(label) for label in labels)))
    lines = [f"{'#':>3}  {'score':>6}  {'type':<5}  {'item':<{width}}  match"]
    for hit, label in zip(hits, labels, strict=True):
        if len(label) > width:
            label = "…" + label[-(width - 1):]
        if hit.modality == "image":
            w, h = hit.metadata.get("width"), hit.metadata.get("height")
            detail = f"{w}x{h} image" if w and h else "image"
        else:
            detail = snippet(hit.text)
        lines.append(f"{hit.rank:>3}  {hit.score:>6.3f}  {hit.modality:<5}  {label:<{width}}  "
                     f"{detail}")
    return "\n".join(lines)


def _counts(info: CollectionInfo) -> str:
    return ", ".join(f"{n} {m}" for m, n in sorted(info.counts.items())) or "empty"


def collections_table(infos: Sequence[CollectionInfo]) -> str:
    if not infos:
        return "no collections yet; add one with `semsearch ingest PATH -c NAME`"
    width = max(4, *(len(i.name) for i in infos))
    lines = [f"{'name':<{width}}  {'files':>6}  items{'':<19}  models"]
    for i in infos:
        lines.append(f"{i.name:<{width}}  {i.files:>6}  {_counts(i):<24}  {i.models.describe()}")
    return "\n".join(lines)


def info_text(info: CollectionInfo, home: Path) -> str:
    m = info.models
    clip = f"{m.clip_model} ({m.clip_pretrained})" if m.clip_model else "none (text only)"
    return "\n".join([
        f"collection:  {info.name}",
        f"created:     {info.created}",
        f"files:       {info.files}",
        f"items:       {_counts(info)}",
        f"text model:  {m.text_model} (dim {info.text_dim or '-'})",
        f"clip model:  {clip} (dim {info.clip_dim or '-'})",
        f"data dir:    {home}",
    ])

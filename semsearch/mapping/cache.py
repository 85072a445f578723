"""A map's layout, kept with the collection: ``HOME/maps/COLLECTION/KEY.npz``, ``KEY`` a
digest of (space, method, filters). It holds the item ids, their 2-D positions, a checksum
of each item's vector (a changed item is placed anew) and the PCA basis the layout was made
on.

On the next map of the same key, items gone are dropped, items new or changed are placed
(:func:`semsearch.mapping.layout.place`) without redoing the layout, unless they are more
than :data:`REDO_SHARE` of the items: then the layout is made anew, as with ``refresh``."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REDO_SHARE = 0.3
VERSION = 1


def checksums(vectors: np.ndarray) -> np.ndarray:
    """One number per vector that changes when the vector does (a fixed random projection)."""
    probe = np.random.default_rng(7).standard_normal(vectors.shape[1], dtype=np.float32)
    return np.asarray(vectors @ probe, dtype=np.float32)


@dataclass
class Layout:
    ids: list[str]
    coords: np.ndarray  # n x 2
    sums: np.ndarray  # n: checksums(vectors)
    mean: np.ndarray  # the PCA basis
    components: np.ndarray


def cache_path(home: Path, collection: str, space: str, method: str,
               where: dict[str, Any] | None) -> Path:
    key = json.dumps([VERSION, space, method, where], sort_keys=True, default=str)
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    return home / "maps" / collection / f"{digest}.npz"


def load(path: Path) -> Layout | None:
    """The cached layout, or None (none yet, or unreadable: it is made anew)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            return Layout([str(i) for i in f["ids"]], f["coords"], f["sums"], f["mean"],
                          f["components"])
    except (OSError, KeyError, ValueError):
        return None


def save(path: Path, layout: Layout) -> None:
    """Written whole or not at all (a temporary file renamed over the old one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            np.savez(f, ids=np.array(layout.ids, dtype=np.str_), coords=layout.coords,
                     sums=layout.sums, mean=layout.mean, components=layout.components)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def forget(home: Path, collection: str) -> None:
    """Remove every cached layout of a collection (it was removed or re-embedded)."""
    shutil.rmtree(home / "maps" / collection, ignore_errors=True)

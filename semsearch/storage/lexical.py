"""The lexical index: BM25 (bm25s) over the text items' chunks, beside the vectors.

It is derived data, rebuilt from the text space's chunks whenever an ingest changed any text
item. A ``dirty`` marker is written before the store changes and removed after the rebuild,
so an index left stale by a crash is rebuilt on the next search.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelUnavailable

INDEX = "index"
DIRTY = "dirty"


def _stemmer() -> Any:
    try:
        import Stemmer  # PyStemmer
    except ImportError:  # pragma: no cover - an optional speed/quality extra
        return None
    return Stemmer.Stemmer("english")


def _bm25s() -> Any:
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    try:
        import bm25s
    except ImportError as e:  # pragma: no cover
        raise ModelUnavailable(
            "lexical search needs bm25s: `pip install bm25s PyStemmer`"
        ) from e
    return bm25s


class LexicalIndex:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._index: Any = None
        self._ids: list[str] = []
        self._stem = _stemmer()

    @property
    def dirty(self) -> bool:
        return (self.folder / DIRTY).exists() or not (self.folder / INDEX / "ids.json").exists()

    def size(self) -> int:
        with self._lock:
            if self._index is not None or self._load():
                return len(self._ids)
        path = self.folder / INDEX / "ids.json"
        return len(json.loads(path.read_text())) if path.exists() else 0

    def remove(self) -> None:
        with self._lock:
            shutil.rmtree(self.folder, ignore_errors=True)
            self._index = None
            self._ids = []

    def mark_dirty(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / DIRTY).touch()
        self._index = None

    def _tokenize(self, texts: list[str]) -> Any:
        return _bm25s().tokenize(texts, stopwords="en", stemmer=self._stem, show_progress=False)

    def rebuild(self, ids: list[str], texts: list[str]) -> None:
        """Index ``texts`` (chunk ids ``ids``) and replace the saved index atomically."""
        bm25s = _bm25s()
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f"{INDEX}.tmp-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            index = bm25s.BM25()
            if ids:
                index.index(self._tokenize(texts), show_progress=False)
                index.save(str(tmp), show_progress=False)
            (tmp / "ids.json").write_text(json.dumps(ids))
            old = self.folder / f"{INDEX}.old-{os.getpid()}"
            if (self.folder / INDEX).exists():
                os.replace(self.folder / INDEX, old)
            os.replace(tmp, self.folder / INDEX)
            shutil.rmtree(old, ignore_errors=True)
            (self.folder / DIRTY).unlink(missing_ok=True)
            self._index = index if ids else None
            self._ids = ids

    def _load(self) -> bool:
        if self._index is not None:
            return True
        path = self.folder / INDEX
        if not (path / "ids.json").exists():
            return False
        self._ids = json.loads((path / "ids.json").read_text())
        if not self._ids:
            return False
        self._index = _bm25s().BM25.load(str(path), show_progress=False, mmap=False)
        return True

    def search(self, query: str, n: int) -> list[tuple[str, float]]:
        """Best ``n`` chunk ids for ``query`` with their BM25 scores (score > 0 only)."""
        with self._lock:
            if not self._load():
                return []
            tokens = self._tokenize([query])
            if not tokens.vocab or not any(len(t) for t in tokens.ids):
                return []
            n = min(n, len(self._ids))
            docs, scores = self._index.retrieve(tokens, k=n, show_progress=False, n_threads=1)
        out = []
        for doc, score in zip(np.asarray(docs)[0], np.asarray(scores)[0], strict=True):
            if score > 0:
                out.append((self._ids[int(doc)], float(score)))
        return out

"""Reading changed files in worker threads, ahead of the models: bytes, hash, items, and the
images' CPU-side preprocessing. Every step for one file runs inside its guard: whatever goes
wrong with one file becomes its skip reason, never the run's end."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import BadInput
from ..sources import FileRead, ReadOptions, source_for
from ..sources.base import sha256
from .scan import FileStat

if TYPE_CHECKING:
    from ..models.base import Embedder

#: files read ahead of the models
READ_AHEAD = 64


@dataclass
class Prepared:
    """One changed file, read and parsed (in a worker thread)."""

    stat: FileStat
    kind: str
    sha: str = ""
    read: FileRead | None = None
    images: dict[str, Any] = field(default_factory=dict)  # item id -> preprocessed image
    error: str | None = None


def prepare(stat: FileStat, options: ReadOptions, clip: Embedder | None) -> Prepared:
    """Read one file into items; any failure is recorded as the file's skip reason."""
    path = Path(stat.path)
    source = source_for(path)
    assert source is not None
    prep = Prepared(stat, source.kind)
    if source.kind == "image" and clip is None:
        prep.error = "CLIP model unavailable, images need it"
        return prep
    limit = source.limit(path)
    if stat.size > limit:
        prep.error = f"too large ({_size(stat.size)}; the limit for this kind of file is " \
                     f"{_size(limit)})"
        return prep
    try:
        data = path.read_bytes()
    except OSError as e:
        prep.error = f"unreadable ({e.strerror or e})"
        return prep
    except MemoryError:
        prep.error = "too large to read into memory"
        return prep
    prep.sha = sha256(data)
    base = {
        "path": stat.path,
        "size": stat.size,
        "mtime": round(stat.mtime_ns / 1e9, 3),
        "sha256": prep.sha,
        "modality": "image" if source.kind == "image" else "text",
    }
    try:
        prep.read = source.read(path, data, base, options)
        if clip is not None:
            for item in prep.read.items:
                if item.image is not None:
                    prep.images[item.id] = clip.prepare_image(item.image)
                    item.image = None  # keep memory flat: only the model input stays
    except BadInput as e:
        prep.error = str(e)
    except MemoryError:
        prep.error = "too large to decode in memory"
    except Exception as e:  # a parser bug must not end the run
        prep.error = f"could not read ({type(e).__name__}: {e})"
    if prep.error:
        prep.read, prep.images = None, {}
    return prep


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def read_ahead(todo: Sequence[FileStat], options: ReadOptions, clip: Embedder | None
               ) -> Iterator[Prepared]:
    """``prepare`` each file in worker threads, in order, at most READ_AHEAD files ahead."""
    workers = min(4, max(1, (os.cpu_count() or 2)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="semsearch-read") as ex:
        queue: deque[Future[Prepared]] = deque()
        it = iter(todo)
        for stat in it:
            queue.append(ex.submit(prepare, stat, options, clip))
            if len(queue) >= READ_AHEAD:
                break
        while queue:
            result = queue.popleft().result()
            nxt = next(it, None)
            if nxt is not None:
                queue.append(ex.submit(prepare, nxt, options, clip))
            yield result

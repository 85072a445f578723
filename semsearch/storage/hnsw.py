"""The HNSW settings of new collections (single-node Chroma: embedded, ``chroma run``,
``semsearch serve``; distributed Chroma indexes with SPANN and ignores them)."""

from __future__ import annotations

import os
from typing import Any

from ..errors import ConfigError

#: HNSW settings of new collections, chosen with ``scripts/bench_hnsw.py`` (README, "HNSW
#: settings": M 32 with ef_search 128 keeps recall@10 at 0.99 where M 16 drops to 0.95;
#: ef_construction 100 builds 1.4x faster than 200 at the same recall);
#: sync_threshold 256 (Chroma's default is 1000): the index is written to disk at least every
#: 256 vectors, about every ingest flush. A process opening the collection inserts the vectors
#: not yet written into its in-memory index again, first read, every time: with up to 999 of
#: them at 100,000 items that took 1.9 s of a cold query (0.3 s with none, 0.6 s with 160),
#: and ingesting 100,000 records took 300 s against 329 s with 1000;
#: ``SEMSEARCH_HNSW_EF_SEARCH``, ``SEMSEARCH_HNSW_M`` (max_neighbors),
#: ``SEMSEARCH_HNSW_EF_CONSTRUCTION`` and ``SEMSEARCH_HNSW_SYNC_THRESHOLD`` override them
#: when a collection is created
HNSW = {"space": "cosine", "ef_construction": 100, "ef_search": 128, "max_neighbors": 32,
        "sync_threshold": 256}
_HNSW_ENV = {"ef_search": "SEMSEARCH_HNSW_EF_SEARCH", "max_neighbors": "SEMSEARCH_HNSW_M",
             "ef_construction": "SEMSEARCH_HNSW_EF_CONSTRUCTION",
             "sync_threshold": "SEMSEARCH_HNSW_SYNC_THRESHOLD"}


def hnsw_settings() -> dict[str, Any]:
    """The HNSW configuration a new collection gets (:data:`HNSW`, as the environment
    overrides it)."""
    out: dict[str, Any] = dict(HNSW)
    for key, env in _HNSW_ENV.items():
        raw = os.environ.get(env, "").strip()
        if raw:
            if not raw.isdigit() or int(raw) < 2:
                raise ConfigError(f"{env}={raw!r}: expected a whole number of 2 or more")
            out[key] = int(raw)
    return out

"""The embedding-space map: a 2-D layout of a collection's items (PCA, then UMAP, t-SNE or
PCA), clusters found on the vectors and named by their distinctive words, queries placed on
it, and the renderers (HTML, PNG, JSON). Heavy libraries are imported only when a map is
made (the ``map`` extra)."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from .points import DEFAULT_METHOD, METHODS, Map, MapCluster, MapPoint, QueryPoint

FORMATS = (".html", ".png", ".json")


def write(m: Map, out: str | Path) -> Path:
    """Write a map as HTML, PNG or JSON, by the file's suffix."""
    path = Path(out).expanduser()
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(f"cannot write a map as {path.name}: use a file ending in "
                          f"{', '.join(FORMATS)}")
    if not path.parent.is_dir():
        raise ConfigError(f"cannot write {path}: no folder {path.parent}")
    try:
        if suffix == ".html":
            from .page import write_html

            write_html(m, path)
        elif suffix == ".png":
            from .picture import write_png

            write_png(m, path)
        else:
            from .page import write_json

            write_json(m, path)
    except OSError as e:
        raise ConfigError(f"cannot write {path}: {e.strerror or e}") from e
    return path


__all__ = ["DEFAULT_METHOD", "FORMATS", "METHODS", "Map", "MapCluster", "MapPoint",
           "QueryPoint", "write"]

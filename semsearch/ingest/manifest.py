"""Collection manifests: TOML files in ``collections/`` that say what a collection holds.

    name = "sample"
    sources = ["../samples"]          # relative to this file
    include = ["**/*.md", "**/*.png"] # optional globs, relative to each source
    exclude = ["**/drafts/**"]
    [models]
    text = "all-MiniLM-L6-v2"
    clip = "ViT-B-32"
    clip_pretrained = "laion2b_s34b_b79k"
    [records]
    id_field = "id"
    text_fields = ["title", "body"]
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass
class Manifest:
    name: str
    sources: list[Path]
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    text_model: str | None = None
    clip_model: str | None = None
    clip_pretrained: str | None = None
    id_field: str | None = None
    text_fields: list[str] = field(default_factory=list)


def _strings(data: dict[str, Any], key: str, where: Path) -> list[str]:
    value = data.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {key!r} must be a list of strings")
    return value


def load_manifest(path: str | Path) -> Manifest:
    path = Path(path).expanduser()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no manifest at {path}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read manifest {path}: {e}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: bad TOML ({e})") from e
    name = data.get("name") or path.stem
    if not isinstance(name, str):
        raise ConfigError(f"{path}: 'name' must be a string")
    sources = [(path.parent / s).resolve() for s in _strings(data, "sources", path)]
    if not sources:
        raise ConfigError(f"{path}: 'sources' lists no folder or file")
    models = data.get("models", {})
    records = data.get("records", {})
    if not isinstance(models, dict) or not isinstance(records, dict):
        raise ConfigError(f"{path}: [models] and [records] must be tables")
    def local(value: Any) -> Any:
        """A model given as a relative file or folder path is relative to the manifest."""
        if isinstance(value, str) and ("/" in value or value.endswith(".json")):
            candidate = (path.parent / value).expanduser()
            if candidate.exists():
                return str(candidate.resolve())
        return value

    return Manifest(
        name=name,
        sources=sources,
        include=_strings(data, "include", path),
        exclude=_strings(data, "exclude", path),
        text_model=local(models.get("text")),
        clip_model=local(models.get("clip")),
        clip_pretrained=local(models.get("clip_pretrained")),
        id_field=records.get("id_field"),
        text_fields=_strings(records, "text_fields", path),
    )

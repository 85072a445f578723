"""Where a command's defaults come from: flag > environment > config file > built-in default.

Global options (``semsearch --home X search ...``) count as flags: the app callback stores them
in :data:`state` for the run, and a subcommand's own option still wins over them. The config
file is TOML at ``$XDG_CONFIG_HOME/semsearch/config.toml`` (``~/.config/semsearch/...``)::

    collection = "photos"
    home = "~/semsearch-data"
    chroma_url = "http://localhost:8000"
    text_model = "all-MiniLM-L6-v2"
    clip_model = "ViT-B-32"
    clip_pretrained = "laion2b_s34b_b79k"
    backend = "auto"        # torch | onnx | openvino
    precision = "auto"      # fp32 | int8
    device = "auto"         # cpu | cuda | mps
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..models.runtime import RuntimeChoice
from ..types import DEFAULT_COLLECTION

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


#: config keys, and the environment variable each can also come from
KEYS = {
    "collection": "SEMSEARCH_COLLECTION",
    "home": "SEMSEARCH_HOME",
    "chroma_url": "SEMSEARCH_CHROMA_URL",
    "text_model": "SEMSEARCH_TEXT_MODEL",
    "clip_model": "SEMSEARCH_CLIP_MODEL",
    "clip_pretrained": "SEMSEARCH_CLIP_PRETRAINED",
    "backend": "SEMSEARCH_BACKEND",
    "precision": "SEMSEARCH_PRECISION",
    "device": "SEMSEARCH_DEVICE",
}
MODEL_KEYS = ("text_model", "clip_model", "clip_pretrained")


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "semsearch" / "config.toml"


def load_config(path: Path | None = None) -> dict[str, str]:
    """The config file's settings (empty when there is none); a bad file is a ConfigError."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror or e}") from e
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: bad TOML ({e})") from e
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ConfigError(f"{path}: unknown setting {unknown[0]!r}; "
                          f"use {', '.join(KEYS)}")
    for key, value in data.items():
        if not isinstance(value, str):
            raise ConfigError(f"{path}: {key} must be a string")
    return dict(data)


@dataclass
class State:
    """One run's global options and output level."""

    flags: dict[str, str] = field(default_factory=dict)  # global options given
    token: str | None = None
    quiet: bool = False
    verbose: bool = False
    _config: dict[str, str] | None = None
    warned: set[str] = field(default_factory=set)

    def reset(self) -> None:
        self.flags.clear()
        self.token = None
        self.quiet = self.verbose = False
        self._config = None
        self.warned.clear()

    @property
    def config(self) -> dict[str, str]:
        if self._config is None:
            self._config = load_config()
        return self._config

    def flag(self, key: str) -> str | None:
        return self.flags.get(key) or None

    def default(self, key: str) -> str | None:
        """Environment, else config file (not the flags)."""
        env = os.environ.get(KEYS[key])
        return env or self.config.get(key) or None

    def get(self, key: str, given: str | None = None) -> str | None:
        """``given`` (the subcommand's option), else the global flag, environment, config."""
        return given or self.flag(key) or self.default(key)

    def warn_once(self, message: str) -> bool:
        """Whether ``message`` is new in this run (and so should be printed)."""
        if self.quiet or message in self.warned:
            return False
        self.warned.add(message)
        return True


state = State()


def collection_name(given: str | None) -> str:
    return state.get("collection", given) or DEFAULT_COLLECTION


def home_dir(given: str | None) -> str | None:
    """The data directory to open; None leaves it to the library ($SEMSEARCH_HOME, XDG)."""
    return state.get("home", given)


def chroma_url(given: str | None) -> str | None:
    return state.get("chroma_url", given)


def explicit_models(text_model: str | None, clip_model: str | None,
                    clip_pretrained: str | None) -> dict[str, str | None]:
    """Models asked for on the command line (subcommand option, else global option)."""
    given = {"text_model": text_model, "clip_model": clip_model,
             "clip_pretrained": clip_pretrained}
    return {k: v or state.flag(k) for k, v in given.items()}


def default_models() -> dict[str, str | None]:
    """Models from the environment or the config file: used for a new collection only."""
    return {k: state.default(k) for k in MODEL_KEYS}


def runtime_choice() -> RuntimeChoice:
    """How models run this time: global flag > environment > config file > auto."""
    return RuntimeChoice(**{k: (state.get(k) or "auto").lower()
                            for k in ("backend", "precision", "device")})

"""Fail fast when the Hugging Face hub cannot be reached, instead of retrying for a minute."""

from __future__ import annotations

import functools
import os
import socket
from pathlib import Path
from urllib.parse import urlparse


def offline_forced() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}


@functools.lru_cache(maxsize=8)
def reachable(url: str = "", timeout: float = 3.0) -> bool:
    """True when a TCP connection to the hub (or ``url``'s host) opens within ``timeout``."""
    if offline_forced():
        return False
    url = url or os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    parsed = urlparse(url)
    host = parsed.hostname or "huggingface.co"
    port = parsed.port or (443 if parsed.scheme != "http" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def cache_dir() -> Path:
    """The Hugging Face hub cache, as huggingface_hub finds it (without importing it)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache"), "huggingface")
    return Path(home).expanduser() / "hub"


def cached_snapshot(repo_id: str) -> Path | None:
    """The cached snapshot folder of a model repository (its ``main`` ref), if any."""
    if repo_id.count("/") != 1:
        return None
    repo = cache_dir() / ("models--" + repo_id.replace("/", "--"))
    try:
        ref = (repo / "refs" / "main").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    snap = repo / "snapshots" / ref
    return snap if snap.is_dir() else None

"""Fail fast when the Hugging Face hub cannot be reached, instead of retrying for a minute."""

from __future__ import annotations

import functools
import os
import socket
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

"""The command line: a thin layer over the Python client (``semsearch.client``)."""

from __future__ import annotations

from .main import app, main

__all__ = ["app", "main"]

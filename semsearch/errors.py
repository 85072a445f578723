"""One root error class; the CLI turns any of these into a one-line message."""

from __future__ import annotations


class SemsearchError(Exception):
    """Root of every error semsearch raises on purpose."""


class ConfigError(SemsearchError):
    """Bad arguments, bad manifest, bad query."""


class CollectionNotFound(SemsearchError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no collection named {name!r} (see `semsearch collections`)")
        self.name = name


class ModelUnavailable(SemsearchError):
    """A model's weights cannot be had (offline, missing file, missing package)."""


class ModelMismatch(SemsearchError):
    """A collection is opened with models other than the ones that built it."""


class StoreLocked(SemsearchError):
    """Another process holds the store's write lock."""


class BadInput(SemsearchError):
    """A file or record that cannot be read; ingest skips it and goes on."""


class CatalogError(SemsearchError):
    """The catalog database cannot be opened or used."""


class MissingExtra(ConfigError):
    """An optional package a feature needs is not installed (the message says which extra)."""

    @staticmethod
    def hint() -> str:
        return "pip install 'semsearch[map]'"

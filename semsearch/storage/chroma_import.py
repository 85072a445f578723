"""Importing chromadb, about 0.4 s faster.

Four things chromadb loads and a local store never uses are left out while it imports:

- httpx's command-line client (``httpx._main``: rich and pygments), which httpx loads only
  to offer ``httpx.main``; httpx falls back to its stub when it is missing;
- yaml, which chromadb uses only to read token files: a stand-in imports it when one of its
  attributes is first read;
- the OTLP gRPC span exporter (grpc and its protobufs), needed only when
  ``chroma_otel_collection_endpoint`` is set: chromadb gets a stand-in that imports the real
  exporter when it is first called;
- jsonschema (with attrs and referencing), which chromadb uses only to check the configs of
  its own embedding functions: its schema module gets a stand-in whose ``validate`` imports
  jsonschema, hands that module the real ``jsonschema`` and ``ValidationError``, and runs.

And chromadb decorates some 200 methods with ``overrides.override``, which checks each one's
signature against the base class while the module loads: about a quarter of chromadb's import
time, and a check meant for chromadb's own development. The decorator is swapped for one that
only marks the method (what ``EnforceOverrides`` looks for) while chromadb loads, then put
back. ``SEMSEARCH_CHECK_OVERRIDES=1`` keeps the full check.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import types
from collections.abc import Iterator
from typing import Any


def _mark(method: Any) -> Any:
    with contextlib.suppress(AttributeError):  # a builtin or slotted object
        method.__override__ = True
    return method


def _override(method: Any = None, *, check_signature: bool = True,
              check_at_runtime: bool = False) -> Any:
    return _mark(method) if method is not None else _mark


OTLP = "opentelemetry.exporter.otlp.proto.grpc.trace_exporter"


def _otlp_span_exporter(*args: Any, **kwargs: Any) -> Any:
    """chromadb's ``OTLPSpanExporter``, imported when telemetry export is configured."""
    return importlib.import_module(OTLP).OTLPSpanExporter(*args, **kwargs)


#: what chromadb imports and uses only through its attributes, later if at all
LAZY = ("yaml",)


class _Deferred(types.ModuleType):
    """Stands in for a module chromadb imports: the module is imported when an attribute is
    first read (``__getattr__`` runs only for names the stand-in lacks)."""

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        real = self.load()
        self.__dict__.update({k: v for k, v in vars(real).items() if not k.startswith("__")})
        return getattr(real, attr)

    def load(self) -> Any:
        """The module itself (the stand-in leaves ``sys.modules`` first)."""
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return importlib.import_module(self.__name__)


#: the chromadb module that imports jsonschema
SCHEMA_UTILS = "chromadb.utils.embedding_functions.schemas.schema_utils"


def _jsonschema_stand_in() -> types.ModuleType:
    stub = _Deferred("jsonschema")  # any other attribute: jsonschema itself

    class ValidationError(Exception):
        """Never raised: ``validate`` puts jsonschema's own in its place first."""

    def validate(*args: Any, **kwargs: Any) -> Any:
        real = stub.load()
        utils = sys.modules.get(SCHEMA_UTILS)
        if utils is not None and getattr(utils, "jsonschema", None) is stub:
            utils.jsonschema, utils.ValidationError = real, real.ValidationError  # type: ignore[attr-defined]
        return real.validate(*args, **kwargs)

    stub.ValidationError = ValidationError  # type: ignore[attr-defined]
    stub.validate = validate  # type: ignore[attr-defined]
    return stub


@contextlib.contextmanager
def _unused_parts_left_out() -> Iterator[None]:
    stubs: dict[str, Any] = {name: _Deferred(name) for name in LAZY if name not in sys.modules}
    if "httpx._main" not in sys.modules:
        stubs["httpx._main"] = None  # ``from ._main import main`` fails: httpx's fallback
    if "jsonschema" not in sys.modules:
        stubs["jsonschema"] = _jsonschema_stand_in()
    if OTLP not in sys.modules:
        otlp = types.ModuleType(OTLP)
        otlp.OTLPSpanExporter = _otlp_span_exporter  # type: ignore[attr-defined]
        stubs[OTLP] = otlp
    sys.modules.update(stubs)
    try:
        yield
    finally:
        for name, stub in stubs.items():
            if sys.modules.get(name, False) is stub:
                del sys.modules[name]


#: modules chromadb imports when a local client opens (their classes are checked too)
LOADED_LATER = ("chromadb.api.rust", "chromadb.telemetry.product.posthog")


def import_chromadb(embedded: bool = True) -> Any:
    """``import chromadb``, without the development-time signature checks; ``embedded``:
    with what a local client imports when it opens (``chromadb.api.rust``: Chroma's Rust
    bindings, and 38 more checked methods)."""
    if "chromadb" in sys.modules or os.environ.get("SEMSEARCH_CHECK_OVERRIDES"):
        import chromadb

        return chromadb
    try:
        import overrides
    except ImportError:  # pragma: no cover - chromadb's own dependency
        import chromadb

        return chromadb
    impl = sys.modules.get("overrides.overrides")
    targets = [(m, n) for m in (overrides, impl) if m is not None
               for n in ("override", "overrides") if callable(getattr(m, n, None))]
    saved = [(m, n, getattr(m, n)) for m, n in targets]
    for m, n in targets:
        setattr(m, n, _override)
    try:
        with _unused_parts_left_out():
            import chromadb
            for name in LOADED_LATER if embedded else ():
                with contextlib.suppress(ImportError):
                    importlib.import_module(name)
    finally:
        for m, n, f in saved:
            setattr(m, n, f)
    return chromadb

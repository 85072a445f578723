"""Where models are found and kept: the ``semsearch.embedders`` entry-point group, one cache.

Built-ins (``sentence-transformers``, ``open-clip``) are registered the same way as plugins,
in ``pyproject.toml``; a plugin's embedder can serve a collection like a built-in (its name
is recorded in the collection's :class:`~semsearch.types.ModelSpec`). Heavy libraries load
only when an embedder is built, and each (backend, model) is built once per process.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from ..errors import ConfigError, ModelUnavailable
from ..types import ModelSpec
from .base import Embedder
from .runtime import RuntimeChoice, choose

if TYPE_CHECKING:
    from .clip_text import ClipTextQuery

# torch's OpenMP workers spin between parallel regions: with other processes on the cores,
# embedding one query took 100-600 ms instead of ~15 ms (measured on 2 shared cores). Must be
# set before torch loads; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

GROUP = "semsearch.embedders"
TEXT_BACKEND = "sentence-transformers"
CLIP_BACKEND = "open-clip"
NO_CLIP = {"", "none", "off", "no"}

_BUILTIN = {
    TEXT_BACKEND: "semsearch.models.sentence_transformers:SentenceTransformerEmbedder",
    CLIP_BACKEND: "semsearch.models.open_clip:OpenClipEmbedder",
}


#: registered at run time (tests, notebooks): same form as an entry point's value
_REGISTERED: dict[str, str] = {}


def register(name: str, target: str | type[Embedder]) -> None:
    """Register an embedder backend by hand, as an entry point would (``module:Class``, or
    the class itself). Installed plugins use the ``semsearch.embedders`` entry-point group."""
    if isinstance(target, type):
        target = f"{target.__module__}:{target.__qualname__}"
    _REGISTERED[name] = target


def backends() -> dict[str, str]:
    """Backend name -> ``module:Class``: built-ins first, then installed plugins, then those
    registered at run time."""
    found = dict(_BUILTIN)
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep.value)
    for name, target in _REGISTERED.items():
        found.setdefault(name, target)
    return found


def load_backend(name: str) -> type[Embedder]:
    target = backends().get(name)
    if target is None:
        raise ConfigError(f"unknown embedder backend {name!r}; known: {', '.join(backends())}")
    module_name, _, attr = target.partition(":")
    try:
        cls: object = importlib.import_module(module_name)
        for part in attr.split("."):
            cls = getattr(cls, part)
    except (ImportError, AttributeError) as e:
        raise ModelUnavailable(f"embedder backend {name!r} cannot be loaded: {e}") from e
    if not (isinstance(cls, type) and issubclass(cls, Embedder)):
        raise ConfigError(f"embedder backend {name!r} does not subclass semsearch Embedder")
    return cls


def default_spec(text_model: str | None = None, clip_model: str | None = None,
                 clip_pretrained: str | None = None, text_backend: str | None = None,
                 clip_backend: str | None = None) -> ModelSpec:
    """A spec with the built-in defaults filled in (not yet canonical: see :func:`resolve`)."""
    text_cls = load_backend(text_backend or TEXT_BACKEND)
    clip_cls = load_backend(clip_backend or CLIP_BACKEND)
    return ModelSpec(
        text_model or text_cls.default_model,
        clip_cls.default_model if clip_model is None else clip_model,
        clip_pretrained,
        text_backend or TEXT_BACKEND,
        clip_backend or CLIP_BACKEND,
    )


def resolve(spec: ModelSpec) -> ModelSpec:
    """Canonical names, so that 'all-MiniLM-L6-v2' and its full hub id compare equal."""
    text, _ = load_backend(spec.text_backend).canonical(spec.text_model, None)
    if spec.clip_model is None or spec.clip_model.lower() in NO_CLIP:
        return ModelSpec(text, None, None, spec.text_backend, spec.clip_backend)
    model, pretrained = load_backend(spec.clip_backend).canonical(
        spec.clip_model, spec.clip_pretrained)
    return ModelSpec(text, model, pretrained, spec.text_backend, spec.clip_backend)


class ModelRegistry:
    """Loaded embedders, one per (backend, model, weights), shared by everything in a process
    (libraries, collections, the registered Chroma embedding functions)."""

    def __init__(self, runtime: RuntimeChoice | None = None) -> None:
        self._models: dict[tuple[str, ...], Embedder] = {}
        self._lock = threading.Lock()
        self._runtime = runtime

    @property
    def runtime(self) -> RuntimeChoice:
        """How models run (backend, precision, device): the environment's unless set."""
        return self._runtime or RuntimeChoice.from_env()

    @runtime.setter
    def runtime(self, choice: RuntimeChoice) -> None:
        self._runtime = choice

    def _key(self, backend: str, args: tuple[str | None, ...]) -> tuple[str, ...]:
        r = self.runtime
        return (backend, *[a or "" for a in args], r.backend, r.precision, r.device)

    def embedder(self, backend: str, *args: str | None) -> Embedder:
        key = self._key(backend, args)
        with self._lock:
            if key not in self._models:
                cls = load_backend(backend)
                if getattr(cls, "accepts_runtime", False):
                    self._models[key] = cls(*args, runtime=self.runtime)  # type: ignore[call-arg]
                else:
                    self._models[key] = cls(*args)
            return self._models[key]

    def loaded(self, backend: str, *args: str | None) -> bool:
        return self._key(backend, args) in self._models

    def runtimes(self, spec: ModelSpec) -> dict[str, str]:
        """How each space's model would run here (nothing is loaded to say so)."""
        out = {}
        if spec.text_backend == TEXT_BACKEND:
            from .sentence_transformers import text_runtime

            out["text"] = text_runtime(spec.text_model, self.runtime).label
        if spec.clip_model and spec.clip_backend == CLIP_BACKEND:
            out["clip"] = choose(self.runtime, spec.clip_model, prefer_torch=True).label
            query = self._clip_text_query(spec)
            if query is not None:
                out["clip"] += f", text queries {query.runtime.label}"
        return out

    def text(self, spec: ModelSpec) -> Embedder:
        return self.embedder(spec.text_backend, spec.text_model)

    def warm_text(self, spec: ModelSpec, text: bool = True,
                  clip: bool = False) -> threading.Thread | None:
        """Start loading what a text query encodes with in a background thread, when that
        needs neither torch nor an export: the text model (``text``) and CLIP's text tower
        (``clip``), from their ONNX exports. A query then encodes its text while the store
        opens (Chroma's import, 0.5 s) instead of after. Anything that goes wrong there is
        left for the foreground to meet again and report. Returns the thread, if one was
        started: not a daemon, so the interpreter never exits under a native library still
        building its session."""
        jobs = []
        if text and spec.text_backend == TEXT_BACKEND and \
                not self.loaded(spec.text_backend, spec.text_model):
            from .sentence_transformers import served_without_torch

            if served_without_torch(spec.text_model, self.runtime):
                jobs.append(lambda: self.text(spec).prepare())
        if clip:
            fast = self._clip_text_query(spec)  # reads the export's index, loads nothing
            if fast is not None:
                jobs.append(fast.prepare)
        if not jobs:
            return None
        # what the loader imports besides its own modules (onnxruntime, tokenizers, openvino)
        # and the store's import (chromadb) also needs, imported here first, so the two
        # threads never import one module at once
        import argparse  # noqa: F401
        import json  # noqa: F401
        import multiprocessing  # noqa: F401
        import pkgutil  # noqa: F401

        import numpy  # noqa: F401

        def load(job: Callable[[], None]) -> None:
            with contextlib.suppress(Exception):  # the foreground loads it again, says why
                job()

        def load_all() -> None:  # side by side: each builds its session in native code
            others = [threading.Thread(target=load, args=(job,), name="semsearch-warm-clip")
                      for job in jobs[1:]]
            for other in others:
                other.start()
            load(jobs[0])
            for other in others:
                other.join()

        thread = threading.Thread(target=load_all, name="semsearch-warm-text")
        thread.start()
        return thread

    def clip(self, spec: ModelSpec, collection: str = "") -> Embedder:
        if spec.clip_model is None:
            raise ModelUnavailable(f"collection {collection!r} was built without a CLIP model")
        return self.embedder(spec.clip_backend, spec.clip_model, spec.clip_pretrained)

    def clip_texts(self, spec: ModelSpec, collection: str = "") -> Embedder:
        """CLIP for texts only (queries): where ``auto`` leaves CLIP on torch on a CPU, its
        text tower's ONNX export once it exists (no torch import; :mod:`.clip_text`), else
        the whole model (:meth:`clip`)."""
        fast = self._clip_text_query(spec)
        return fast if fast is not None else self.clip(spec, collection)

    def _clip_text_query(self, spec: ModelSpec) -> ClipTextQuery | None:
        choice = self.runtime
        if spec.clip_model is None or spec.clip_backend != CLIP_BACKEND or \
                choice.backend != "auto" or choice.device not in ("auto", "cpu"):
            return None
        runtime = choose(choice, spec.clip_model)
        if runtime.backend != "onnx" or runtime.device != "cpu" or runtime.precision != "fp32":
            return None  # the export is fp32; int8 asked for runs CLIP's own int8 towers
        if self.loaded(spec.clip_backend, spec.clip_model, spec.clip_pretrained):
            return None  # the whole model is here already: no second one
        from .clip_text import ClipTextQuery, find
        from .open_clip import known_weights_missing

        model, weights = load_backend(spec.clip_backend).canonical(
            spec.clip_model, spec.clip_pretrained)
        model_id = f"{model}:{weights}"
        folder = find(model_id)  # reads a small index, loads nothing
        if folder is None or known_weights_missing(model, weights or ""):  # as the model would
            return None
        key = ("clip-text-query", str(folder))
        with self._lock:
            if key not in self._models:
                self._models[key] = ClipTextQuery(model_id, folder, runtime)
            query = self._models[key]
        return query if isinstance(query, ClipTextQuery) else None

    def for_space(self, spec: ModelSpec, space: str, collection: str = "",
                  texts_only: bool = False) -> Embedder:
        """The embedder of a space; ``texts_only``: it will embed texts, no image."""
        if space == "text":
            return self.text(spec)
        return self.clip_texts(spec, collection) if texts_only else self.clip(spec, collection)


_shared = ModelRegistry()


def shared_registry() -> ModelRegistry:
    """The process's model cache."""
    return _shared

"""The embedded store (Chroma's ``PersistentClient``) shared safely between processes.

Chroma's embedded store is not safe with two processes writing one directory (chroma issues
961 and 3769), and a process that keeps a ``PersistentClient`` open does not see what
another process wrote later: it answers queries from the vector index it loaded, while the
metadata it reads is current. semsearch therefore guards the directory with two locks:

- ``write.lock`` (:class:`semsearch.lock.WriteLock`): one writer at a time, for a whole
  ingest, ``rm`` or ``reindex``. A second writer waits with a message, or fails at once
  with ``--no-wait``.
- ``store.lock`` (this module): a shared/exclusive ``flock``. Every query holds it shared;
  every write to Chroma (one flush of an ingest: its upserts, deletes and catalog commit)
  holds it exclusive. Readers never see a half-written flush, and wait at most for one.

A writer leaves a new token in ``store.generation`` before its first write under the lock.
A process whose token differs from the one it opened the store at reopens its Chroma client
before it reads or writes, so a long-lived reader (the TUI, a Python program) sees every
committed flush, and a writer never writes through a stale index.

One :class:`EmbeddedStore` per directory per process; its Chroma client is private to
semsearch (not shared with ``chromadb.PersistentClient`` objects the same process opens), so
reopening it never disturbs other code.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import SemsearchError, StoreLocked
from .chroma_reader import Reader, open_reader

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no inter-process reader/writer lock
    fcntl = None  # type: ignore[assignment]

SHARED = 1
EXCLUSIVE = 2
#: the lock holder's description starts with this while ``semsearch serve`` runs
SERVE = "semsearch serve"
#: seconds to wait for the store lock before saying so (a flush or a query is shorter)
QUIET_WAIT = 2.0

_chroma_lock = threading.Lock()


def describe_process() -> str:
    """Who holds a lock, for messages: ``pid 42 (semsearch ingest) on host``."""
    argv = [Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"]
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        argv.append(sys.argv[1])
    return f"pid {os.getpid()} ({' '.join(argv)}) on {socket.gethostname()}"


def served_hint(holder: str) -> str:
    return (f"the store is served by {holder}; point semsearch at the server with "
            "--chroma-url URL or SEMSEARCH_CHROMA_URL")


def private_client(path: str) -> tuple[Any, Any]:
    """A ``PersistentClient`` on its own Chroma ``System``: not shared with (nor replacing)
    clients other code in this process opened on the same path. Returns (client, system)."""
    from .chroma_import import import_chromadb

    chromadb = import_chromadb(embedded=True)
    from chromadb.api.shared_system_client import SharedSystemClient as Shared
    from chromadb.config import Settings

    from . import chroma_plugin as _register  # noqa: F401 - registers semsearch's embedding functions

    settings = Settings(anonymized_telemetry=False)
    with _chroma_lock:
        systems = Shared._identifier_to_system
        counts = Shared._identifier_to_refcount
        saved = (systems.pop(path, None), counts.pop(path, None))
        try:
            client = chromadb.PersistentClient(path=path, settings=settings)
            system = Shared._identifier_to_system.get(path)
        finally:
            Shared._identifier_to_system.pop(path, None)
            Shared._identifier_to_refcount.pop(path, None)
            if saved[0] is not None:
                Shared._identifier_to_system[path] = saved[0]
            if saved[1] is not None:
                Shared._identifier_to_refcount[path] = saved[1]
    return client, system


class EmbeddedStore:
    """The Chroma directory ``HOME/chroma``, one per process, with its locks."""

    _instances: dict[str, EmbeddedStore] = {}
    _instances_lock = threading.Lock()

    @classmethod
    def of(cls, home: Path) -> EmbeddedStore:
        key = str(Path(home).resolve())
        with cls._instances_lock:
            inst = cls._instances.get(key)
            if inst is None:
                inst = cls._instances[key] = cls(Path(key))
            return inst

    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = home / "chroma"
        self.lock_path = home / "store.lock"
        self.generation_path = home / "store.generation"
        self._mutex = threading.RLock()
        self._fd: int | None = None
        self._mode = 0
        self._depth = 0
        self._client: Any = None
        self._system: Any = None
        self._seen: str | None = None
        self._dirty = False
        #: bumped whenever the client is reopened or this process starts a write: collection
        #: handles and remembered misses from an older version may be stale
        self.version = 0
        self._retired: list[Any] = []

    # the client ------------------------------------------------------------------------------
    @property
    def client(self) -> Any:
        if self._client is None:
            with self.reading():
                pass
        return self._client

    def _reopen(self, full: bool) -> None:
        """Open the store anew: chromadb's client for a write (``full``), else a reader over
        Chroma's Rust core alone (no chromadb import; :mod:`.chroma_reader`) where it can."""
        if self._system is not None:
            # a handle another thread took just before keeps working (on stale data); the
            # client before that one is closed
            self._retired.append(self._system)
            while len(self._retired) > 1:
                with contextlib.suppress(Exception):
                    self._retired.pop(0).stop()
        self._client, self._system = None, None
        reader = None if full else open_reader(str(self.path))
        if reader is not None:
            self._client, self._system = reader, reader
            self.version += 1
            return
        try:
            self._client, self._system = private_client(str(self.path))
        except Exception as e:
            raise SemsearchError(f"cannot open the vector store at {self.path}: {e}") from e
        self.version += 1

    def _generation(self) -> str:
        """The token (any bytes: a garbled file only means "changed", never an error)."""
        try:
            return self.generation_path.read_bytes()[:256].decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def _refresh(self) -> None:
        current = self._generation()
        full = self._mode == EXCLUSIVE
        if self._client is None or current != self._seen or \
                (full and isinstance(self._client, Reader)):  # a write needs chromadb's
            self._reopen(full)
        self._seen = current
        self._dirty = False

    def wrote(self) -> None:
        """Called inside an exclusive hold before each write: the first one leaves a new
        generation token (before anything changes, so even a killed writer's partial flush
        makes other processes reopen)."""
        if self._dirty or self._mode != EXCLUSIVE:
            return
        token = uuid.uuid4().hex
        self.generation_path.write_text(token + "\n")
        self._seen = token
        self._dirty = True
        self.version += 1

    # the lock --------------------------------------------------------------------------------
    def holder(self) -> str:
        try:
            return self.lock_path.read_text().strip() or "another process"
        except OSError:
            return "another process"

    def _flock(self, mode: int, wait: bool, on_wait: Callable[[str], None] | None) -> None:
        if fcntl is None:  # pragma: no cover
            self._mode = mode
            return
        if self._fd is None:
            self.home.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        op = fcntl.LOCK_SH if mode == SHARED else fcntl.LOCK_EX
        quiet_until = time.monotonic() + QUIET_WAIT
        checked = False
        while True:
            try:
                fcntl.flock(self._fd, op | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                pass
            if not checked:
                checked = True
                holder = self.holder()
                if holder.startswith(SERVE):
                    raise StoreLocked(served_hint(holder))
                if not wait:
                    raise StoreLocked(f"the store is being written by {holder}; try again later"
                                      if mode == SHARED else
                                      "the store is in use by another semsearch process; "
                                      "try again later")
            if time.monotonic() >= quiet_until:  # one flush takes less, usually
                if on_wait:
                    on_wait(f"waiting for {self.holder()} to finish writing the store..."
                            if mode == SHARED else
                            "waiting for other semsearch processes to finish with the store...")
                fcntl.flock(self._fd, op)
                break
            time.sleep(0.02)
        self._mode = mode

    def _note(self, text: str) -> None:
        if fcntl is None or self._fd is None:  # pragma: no cover
            return
        data = (text + "\n").encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def _unlock(self) -> None:
        if fcntl is not None and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._mode = 0

    @contextlib.contextmanager
    def hold(
        self,
        exclusive: bool,
        wait: bool = True,
        on_wait: Callable[[str], None] | None = None,
        note: str | None = None,
    ) -> Iterator[Any]:
        """Hold the store shared (queries) or exclusive (writes); yields the Chroma client.

        Reentrant within a thread; other threads of this process wait for it. A shared hold
        that asks for exclusive access is converted, and converted back after.
        """
        with self._mutex:
            outer = self._mode
            if self._depth == 0:
                fresh = not (self.path / "chroma.sqlite3").exists()  # creating it is a write
                mode = EXCLUSIVE if exclusive or fresh else SHARED
                self._flock(mode, wait, on_wait)
                try:
                    if mode == EXCLUSIVE:
                        self._note(note or describe_process())
                    self._refresh()
                except BaseException:
                    self._unlock()
                    raise
            elif exclusive and self._mode == SHARED:
                try:
                    self._flock(EXCLUSIVE, wait, on_wait)
                except BaseException:
                    self._flock(SHARED, True, None)  # a failed conversion may drop the lock
                    raise
                try:
                    self._note(note or describe_process())
                    self._refresh()  # (from a reader: chromadb's client)
                except BaseException:
                    self._flock(SHARED, True, None)  # back as it was; the client reopens
                    raise
            self._depth += 1
            try:
                yield self._client
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._unlock()
                elif self._mode != outer:
                    self._flock(outer, True, None)

    def reading(self) -> contextlib.AbstractContextManager[Any]:
        return self.hold(False)

    def writing(self) -> contextlib.AbstractContextManager[Any]:
        return self.hold(True)

    @contextlib.contextmanager
    def reserve(self, note: str) -> Iterator[None]:
        """Hold the store exclusive without opening it (for ``semsearch serve``, whose Chroma
        server owns the directory meanwhile); fails at once if anyone holds it. Processes
        that had it open reopen it afterwards."""
        with self._mutex:
            if self._depth:
                raise StoreLocked("this process is using the store")
            try:
                self._flock(EXCLUSIVE, False, None)
            except StoreLocked as e:
                if SERVE in str(e):
                    raise
                raise StoreLocked("the store is in use by another semsearch process (a query "
                                  "or a write); try again in a moment") from None
            self._depth += 1
            try:
                self._note(note)
                self.close_client()
                yield
            finally:
                with contextlib.suppress(OSError):
                    self.generation_path.write_text(uuid.uuid4().hex + "\n")
                self._note("")
                self._depth -= 1
                self._unlock()

    def close_client(self) -> None:
        for system in [*self._retired, self._system]:
            if system is not None:
                with contextlib.suppress(Exception):
                    system.stop()
        self._retired.clear()
        self._client, self._system, self._seen = None, None, None
        self.version += 1

    def close(self) -> None:
        """Close the Chroma client (the next use reopens it)."""
        with self._mutex:
            if not self._depth:
                self.close_client()

"""Inter-process locks on the data directory.

:class:`WriteLock`: one writer at a time on the embedded store (Chroma's PersistentClient is
not safe with two writing processes); readers are guarded by :mod:`semsearch.embedded`.
:class:`WritersLock`: in server mode, where writers run at once, whether one is alone (only
then are leftovers of a killed run cleaned up: another writer's in-flight items look alike).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

from ..errors import StoreLocked
from .embedded import SERVE, describe_process, served_hint

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class WriteLock:
    def __init__(
        self,
        home: Path,
        wait: bool = True,
        on_wait: Callable[[str], None] | None = None,
        note: str | None = None,
    ) -> None:
        from filelock import FileLock

        home.mkdir(parents=True, exist_ok=True)
        self.path = home / "write.lock"
        self.owner = home / "write.lock.owner"
        self._lock = FileLock(str(self.path))
        self.wait = wait
        self.on_wait = on_wait
        self.note = note

    def holder(self) -> str:
        try:
            return self.owner.read_text().strip() or "another process"
        except OSError:
            return "another process"

    def __enter__(self) -> WriteLock:
        from filelock import Timeout

        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            holder = self.holder()
            if holder.startswith(SERVE):
                raise StoreLocked(served_hint(holder)) from None
            if not self.wait:
                raise StoreLocked(
                    f"the store is being written by {holder}; try again later"
                ) from None
            if self.on_wait:
                self.on_wait(f"waiting for {holder} to finish writing the store...")
            self._lock.acquire()
        self.owner.write_text(self.note or describe_process())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with contextlib.suppress(OSError):
            self.owner.write_text("")
        self._lock.release()


class WritersLock:
    """Server mode: every writer using this data directory (its catalog) holds this shared."""

    def __init__(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.path = home / "writers.lock"
        self._fd: int | None = None
        self._depth = 0

    def __enter__(self) -> WritersLock:
        if self._depth == 0 and fcntl is not None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(self._fd, fcntl.LOCK_SH)
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            os.close(self._fd)  # releases the lock
            self._fd = None

    @contextlib.contextmanager
    def alone(self) -> Iterator[bool]:
        """True, holding the others off, if no other writer holds this lock now."""
        if fcntl is None or self._fd is None:
            yield fcntl is None
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fcntl.flock(self._fd, fcntl.LOCK_SH)  # a failed conversion may drop the lock
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_SH)

"""An inter-process write lock around the embedded store (Chroma's PersistentClient is not
safe with two writing processes)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from .errors import StoreLocked


class WriteLock:
    def __init__(
        self, home: Path, wait: bool = True, on_wait: Callable[[str], None] | None = None
    ) -> None:
        from filelock import FileLock

        home.mkdir(parents=True, exist_ok=True)
        self.path = home / "write.lock"
        self.owner = home / "write.lock.owner"
        self._lock = FileLock(str(self.path))
        self.wait = wait
        self.on_wait = on_wait

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
            if not self.wait:
                raise StoreLocked(
                    f"the store is being written by {holder}; try again later"
                ) from None
            if self.on_wait:
                self.on_wait(f"waiting for {holder} to finish writing the store...")
            self._lock.acquire()
        self.owner.write_text(f"pid {os.getpid()}")
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

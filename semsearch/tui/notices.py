"""Notifications: errors never take the UI down, they become notifications."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from textual.app import App

from ..errors import SemsearchError

F = TypeVar("F", bound=Callable[..., Any])


class Teller(Protocol):
    def tell(self, message: str, severity: str = "information") -> None: ...


def tell(app: App[Any], message: str, severity: str = "information") -> None:
    """A notification whose text is shown as is (paths may hold [brackets])."""
    app.notify(message, severity=severity, markup=False,  # type: ignore[arg-type]
               timeout=8 if severity == "error" else None)


def unexpected(e: BaseException) -> str:
    return str(e) if isinstance(e, SemsearchError) else f"unexpected error: {type(e).__name__}: {e}"


def guarded(fn: F) -> F:
    """A UI handler never takes the app down: errors become notifications (through the
    ``tell`` method of the object whose method it is)."""

    def report(self: Teller, e: Exception) -> None:
        self.tell(unexpected(e), "error")

    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def run_async(self: Teller, *args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(self, *args, **kwargs)
            except Exception as e:
                report(self, e)
                return None

        return run_async  # type: ignore[return-value]

    @functools.wraps(fn)
    def run(self: Teller, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(self, *args, **kwargs)
        except Exception as e:
            report(self, e)
            return None

    return run  # type: ignore[return-value]

"""What every controller has: the search screen it works for, and a way to run in a thread."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual.worker import Worker

from ..notices import tell

if TYPE_CHECKING:
    from ..screens.search import SearchScreen


class Controller:
    """Logic of the search screen, kept off the screen class. A controller reads and sets the
    screen's state (its reactives) and widgets; its workers report back with messages posted
    to the screen, which hands them to the controller that owns them."""

    def __init__(self, screen: SearchScreen) -> None:
        self.screen = screen

    def tell(self, message: str, severity: str = "information") -> None:
        tell(self.screen.app, message, severity)

    def in_thread(self, fn: Callable[..., None], *args: Any, group: str,
                  exclusive: bool = False) -> Worker[None]:
        """Run ``fn(*args)`` in a thread worker of the screen; it reports with messages and
        never raises."""
        return self.screen.run_worker(functools.partial(fn, *args), name=fn.__name__,
                                      group=group, exclusive=exclusive, thread=True,
                                      exit_on_error=False)

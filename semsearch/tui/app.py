"""The terminal UI's app: search and browse a collection by meaning.

Build it with :func:`create_app` (the ``semsearch tui`` command and the tests do). The app is
thin: the styles, the keys that work on every screen, the notifications, and its first
screen, :class:`~semsearch.tui.screens.search.SearchScreen`, which does the work. The UI talks
to the collection only through the Python client (:class:`semsearch.Library`,
:class:`semsearch.Collection`), as the CLI does.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from textual.app import App
from textual.widgets import Input

from ..client.library import Library
from ..types import ResultType
from . import keys
from .messages import Notice
from .notices import tell
from .opener import Opener, system_open
from .screens.help import HelpScreen
from .screens.search import SearchScreen
from .state import DEFAULT_K, Options
from .thumbs import image_widget_class


class SemsearchApp(App[None]):
    """See :func:`create_app` for the options."""

    CSS_PATH = "semsearch.tcss"
    TITLE = "semsearch"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = keys.bindings(app_wide=True)  # type: ignore[assignment]

    def __init__(
        self,
        lib: Library,
        collection: str,
        *,
        query: str = "",
        type: ResultType = "any",
        k: int = DEFAULT_K,
        filters: str = "",
        images: str = "auto",
        root: str | Path | None = None,
        opener: Opener | None = None,
        profile: str | None = None,
        models: dict[str, str | None] | None = None,
        show_all: bool = False,
    ) -> None:
        super().__init__()
        self.lib = lib
        self._collection = collection  # the first one shown (the search screen may switch)
        self.options = Options(
            query=query, result_type=type, k=k, filters=filters,
            image_class=image_widget_class(images),
            root=Path(root).expanduser() if root is not None else None,
            opener=opener or system_open, profile=profile,
            models={k: v for k, v in (models or {}).items() if v is not None},
            show_all=show_all)
        self.notices: list[tuple[str, str]] = []  # (severity, message), for tests and logs
        self._search: SearchScreen | None = None
        if self.lib.on_wait is None:
            self.lib.on_wait = self._lock_wait

    def get_default_screen(self) -> SearchScreen:
        self._search = SearchScreen(self.lib, self._collection, self.options)
        return self._search

    @property
    def search_screen(self) -> SearchScreen:
        """The search screen (under any dialog); there once the app runs."""
        if self._search is None:
            raise RuntimeError("the app is not running")
        return self._search

    def _lock_wait(self, message: str) -> None:
        self.post_message(Notice(message, "warning"))

    def on_unmount(self) -> None:
        if self.lib.on_wait == self._lock_wait:
            self.lib.on_wait = None

    # notifications ---------------------------------------------------------------------------
    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        self.notices.append((str(severity), message))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def tell(self, message: str, severity: str = "information") -> None:
        """A notification whose text is shown as is (paths may hold [brackets])."""
        tell(self, message, severity)

    def on_notice(self, message: Notice) -> None:
        """From the workers of any screen (they post to the screen; it bubbles up here)."""
        self.tell(message.text, message.severity)

    # keys on every screen --------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Off while a text field has the focus (its keys type text)."""
        return not (action in keys.ACTIONS and isinstance(self.focused, Input))

    def action_quit_app(self) -> None:
        """``q``: off while typing (ctrl+q, Textual's own quit, works everywhere)."""
        self.exit()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_help_anywhere(self) -> None:
        """F1 (and ctrl+/): help from anywhere, text fields too."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    # programs in the terminal ----------------------------------------------------------------
    def run_in_terminal(self, command: Sequence[str]) -> int:
        """Run ``command`` (an editor, a pager) in the terminal, the UI suspended meanwhile;
        its exit status. OSError when it cannot start; SuspendNotSupported where the app
        cannot give the terminal away (a web or headless driver)."""
        with self.suspend():
            return subprocess.call(list(command))  # noqa: S603 - the user's own editor


def create_app(
    lib: Library,
    collection: str,
    *,
    query: str = "",
    type: ResultType = "any",
    k: int = DEFAULT_K,
    filters: str = "",
    images: str = "auto",
    root: str | Path | None = None,
    opener: Opener | None = None,
    profile: str | None = None,
    text_model: str | None = None,
    clip_model: str | None = None,
    clip_pretrained: str | None = None,
) -> SemsearchApp:
    """The terminal UI over ``collection`` of ``lib``.

    ``query``, ``type``, ``k``, ``filters``: the query bar's first values. ``images``: how
    pictures are drawn: ``auto`` (kitty graphics or sixel where the terminal has them, half
    blocks otherwise), ``kitty``, ``sixel``, ``halfcell``, ``unicode``, or ``none`` (a text
    placeholder). ``root``: paths are shown relative to it (default: the working directory).
    ``opener``: called with a path to open it (default: the system viewer). ``profile``: keep
    likes and dislikes in this profile (``semsearch profile``), loaded at start.
    ``text_model``/``clip_model``/``clip_pretrained``: models for a collection that does not
    exist yet (its first ingest creates it); for an existing one they must match its own.
    Hits below the relevance floor are hidden (``a`` shows them).
    """
    return SemsearchApp(
        lib, collection, query=query, type=type, k=k, filters=filters, images=images,
        root=root, opener=opener, profile=profile,
        models={"text_model": text_model, "clip_model": clip_model,
                "clip_pretrained": clip_pretrained},
    )


__all__ = ["SemsearchApp", "create_app"]

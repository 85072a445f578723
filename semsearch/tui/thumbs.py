"""Images in the terminal: real pixels (kitty graphics or sixel) where the terminal has them,
coloured half blocks otherwise, through the ``textual-image`` package.

``textual-image`` asks the terminal what it supports when it is first imported, which works
only before Textual takes over the terminal: :func:`detect` is called by ``semsearch tui``
before the app starts. Pictures are decoded and shrunk in worker threads (:class:`Thumbnails`)
and handed to the widgets as small PIL images.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Literal

from textual.widget import Widget

ImageMode = Literal["auto", "kitty", "sixel", "halfcell", "unicode", "none"]
IMAGE_MODES: tuple[str, ...] = ("auto", "kitty", "sixel", "halfcell", "unicode", "none")

#: longest side of a thumbnail (results) and of a preview, in pixels
THUMB_PX = 256
PREVIEW_PX = 1024


def detect() -> str:
    """Import textual-image (it queries the terminal) and say which renderer 'auto' uses."""
    from textual_image.renderable import Image as Auto
    from textual_image.renderable.halfcell import Image as Halfcell
    from textual_image.renderable.sixel import Image as Sixel
    from textual_image.renderable.tgp import Image as Tgp

    return {Tgp: "kitty", Sixel: "sixel", Halfcell: "halfcell"}.get(Auto, "unicode")


def image_widget_class(mode: str) -> type[Widget] | None:
    """The textual-image widget class for a mode; None for ``none`` (text placeholders)."""
    if mode == "none":
        return None
    import textual_image.widget as tw

    classes: dict[str, Any] = {
        "auto": tw.Image, "kitty": tw.TGPImage, "sixel": tw.SixelImage,
        "halfcell": tw.HalfcellImage, "unicode": tw.UnicodeImage,
    }
    if mode not in classes:
        raise ValueError(f"bad image mode {mode!r}; use one of {', '.join(IMAGE_MODES)}")
    return classes[mode]  # type: ignore[no-any-return]


def draws_pixels(image_class: type[Widget] | None) -> bool:
    """Whether the widget class draws real pixels (kitty graphics, sixel), not cells."""
    if image_class is None:
        return False
    import textual_image.widget as tw
    from textual_image.renderable.sixel import Image as Sixel
    from textual_image.renderable.tgp import Image as Tgp

    renderable = getattr(image_class, "_Renderable", None)
    return renderable in (Tgp, Sixel) or issubclass(image_class, tw.SixelImage)


class Thumbnails:
    """Decoded, shrunk pictures by (path, size, mtime, longest side); thread-safe, bounded."""

    def __init__(self, capacity: int = 512) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, int, int, int], Any] = OrderedDict()

    def get(self, path: str, longest: int = THUMB_PX) -> Any:
        """A PIL image no larger than ``longest`` on its longest side; None if unreadable."""
        try:
            st = Path(path).stat()
        except OSError:
            return None
        key = (path, st.st_size, st.st_mtime_ns, longest)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        img = load_image(path, longest)
        with self._lock:
            self._cache[key] = img
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
        return img


def load_image(path: str, longest: int) -> Any:
    """Oriented RGB, first frame, shrunk to ``longest``; None when it cannot be decoded."""
    from ..errors import BadInput
    from ..sources.images import decode_image

    try:
        img = decode_image(Path(path).read_bytes())
    except (OSError, BadInput):
        return None
    img.thumbnail((longest, longest))
    return img

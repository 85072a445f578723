"""Images: decoded, EXIF orientation applied, first frame of animations, RGB."""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path
from typing import Any

from ..errors import BadInput
from .base import FileRead, Item, MiB, ReadOptions, Source, sha256

MAX_PIXELS = 100_000_000  # refuse decompression bombs rather than eat all memory
#: a longer side over this many times the shorter is no picture (CLIP would resize a
#: 20000x1 strip to 4,480,000x224 pixels)
MAX_ASPECT = 40


def _register_heif() -> bool:
    try:
        from pillow_heif import register_heif_opener  # type: ignore[import-not-found]
    except ImportError:
        return False
    register_heif_opener()
    return True


def decode_image(data: bytes) -> Any:
    """Bytes to an oriented RGB PIL image; BadInput for anything PIL cannot fully decode."""
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    if not data:
        raise BadInput("empty file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img: Any = Image.open(io.BytesIO(data))
            w, h = img.size
            if w < 1 or h < 1:
                raise BadInput(f"empty image ({w}x{h})")
            if w * h > MAX_PIXELS:
                raise BadInput(f"too many pixels ({w}x{h}; the limit is {MAX_PIXELS:,})")
            if max(w, h) > MAX_ASPECT * min(w, h):
                raise BadInput(f"extreme aspect ratio ({w}x{h}; the limit is {MAX_ASPECT}:1)")
            img.seek(0)  # first frame of a GIF or multi-page TIFF
            img.load()  # decode now: truncated files fail here, not later
            img = ImageOps.exif_transpose(img) or img
            if img.mode != "RGB":
                if img.mode in ("RGBA", "LA", "P", "PA"):
                    rgba = img.convert("RGBA")
                    background = Image.new("RGB", rgba.size, (255, 255, 255))
                    background.paste(rgba, mask=rgba.split()[-1])
                    img = background
                else:
                    img = img.convert("RGB")
    except BadInput:
        raise
    except Exception as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        msg = re.sub(r"\s*<_io\.BytesIO object at 0x[0-9a-f]+>", "", msg).strip() or "corrupt"
        if isinstance(e, OSError) and "truncated" in msg:
            msg = "truncated"
        raise BadInput(f"not a readable image ({msg})") from e
    return img


class ImageSource(Source):
    kind = "image"
    max_bytes = 256 * MiB
    extensions: tuple[str, ...] = (
        ".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff",
    )

    def __init__(self) -> None:
        if _register_heif():
            self.extensions = self.extensions + (".heic", ".heif")

    def read(self, path: Path, data: bytes, base: dict[str, Any], options: ReadOptions) -> FileRead:
        img = decode_image(data)
        meta = dict(base)
        meta["width"], meta["height"] = img.size
        item = Item(str(path), "image", str(path), sha256(data), metadata=meta, image=img)
        return FileRead([item])

"""Plain text, Markdown, HTML and PDF files: one text item per file, chunked later."""

from __future__ import annotations

import io
import logging
import re
import warnings
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from ..errors import BadInput
from .base import FileRead, Item, MiB, ReadOptions, Source, sha256


def decode_text(data: bytes, allow_nul: bool = False) -> str:
    """UTF-8 (or UTF-16 with a BOM) text; ``allow_nul`` for records, whose bad lines are
    skipped one by one."""
    if not data.strip():
        raise BadInput("empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise BadInput("undecodable text (bad UTF-16)") from e
    if not allow_nul and b"\x00" in data[:8192]:
        raise BadInput("binary data, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BadInput(f"undecodable text (not UTF-8 at byte {e.start})") from e


class _HTMLText(HTMLParser):
    SKIP = {"script", "style", "noscript", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self.SKIP:
            self._skip += 1
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skip:
            self._skip -= 1
        self._in_title = False
        if tag in {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "tr", "section"}:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self.parts.append(data)


#: a text, Markdown or HTML file over this is skipped (documented in the README)
MAX_TEXT_BYTES = 16 * MiB
#: a PDF over this is skipped
MAX_PDF_BYTES = 256 * MiB


class TextSource(Source):
    kind = "text"
    extensions = (".txt", ".md", ".markdown", ".rst", ".html", ".htm", ".pdf")
    max_bytes = MAX_TEXT_BYTES

    def limit(self, path: Path) -> int:
        return MAX_PDF_BYTES if path.suffix.lower() == ".pdf" else MAX_TEXT_BYTES

    def read(self, path: Path, data: bytes, base: dict[str, Any], options: ReadOptions) -> FileRead:
        suffix = path.suffix.lower()
        meta = dict(base)
        if suffix == ".pdf":
            text = self._pdf(data)
        else:
            text = decode_text(data)
            if suffix in {".html", ".htm"}:
                parser = _HTMLText()
                parser.feed(text)
                text = re.sub(r"\n\s*\n+", "\n\n", "".join(parser.parts))
                if parser.title.strip():
                    meta["title"] = parser.title.strip()
        text = text.strip()
        if not text:
            raise BadInput("no text in file")
        item = Item(
            id=str(path),
            modality="text",
            path=str(path),
            content_key=sha256(text),
            metadata=meta,
            text=text,
        )
        return FileRead([item])

    @staticmethod
    def _pdf(data: bytes) -> str:
        try:
            from pypdf import PdfReader

            logging.getLogger("pypdf").setLevel(logging.ERROR)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                reader = PdfReader(io.BytesIO(data))
                pages = [page.extract_text() or "" for page in reader.pages]
        except ImportError as e:  # pragma: no cover
            raise BadInput("PDF support needs pypdf: `pip install pypdf`") from e
        except Exception as e:
            raise BadInput(f"unreadable PDF ({type(e).__name__})") from e
        return "\n\n".join(pages)

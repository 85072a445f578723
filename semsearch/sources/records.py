"""Records files (.jsonl, .csv): one text item per record; other fields become metadata."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path
from typing import Any

from ..errors import BadInput
from .base import FileRead, Item, MiB, ReadOptions, Source, clean_metadata, sha256
from .text import decode_text

#: metadata keys semsearch sets itself; a record field of the same name is kept as ``field_KEY``
RESERVED = {"path", "size", "mtime", "sha256", "modality", "item_id", "chunk", "start", "end",
            "width", "height", "record", "source_sha256"}


#: a records file over this is skipped (it is read whole)
MAX_RECORDS_BYTES = 512 * MiB
#: one record's embedded text over this is skipped (the rest of the file is kept)
MAX_RECORD_TEXT = 1 * MiB
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def typed_cell(value: str) -> Any:
    """A CSV cell as the number it spells (so ``year<1960`` matches), else the text."""
    text = value.strip()
    if not _NUMBER.match(text):
        return value
    try:
        number = float(text) if any(c in text for c in ".eE") else int(text)
    except ValueError:
        return value
    if isinstance(number, float) and not math.isfinite(number):
        return value
    return number


class RecordsSource(Source):
    kind = "records"
    extensions = (".jsonl", ".ndjson", ".csv")
    max_bytes = MAX_RECORDS_BYTES

    def read(self, path: Path, data: bytes, base: dict[str, Any], options: ReadOptions) -> FileRead:
        text = decode_text(data, allow_nul=True)
        rows, problems = self._rows(path, text)
        items: list[Item] = []
        seen: set[str] = set()
        for line_no, row in rows:
            where = f"{path}:{line_no}"
            if options.id_field:
                raw_id = row.get(options.id_field)
                if raw_id is None or str(raw_id) == "":
                    problems.append(f"skipping {where}: no {options.id_field!r} field")
                    continue
                item_id = str(raw_id)
            else:
                item_id = f"{path}#{line_no}"
            if item_id in seen:
                problems.append(f"skipping {where}: duplicate id {item_id!r}")
                continue
            fields = options.text_fields or tuple(
                k for k, v in row.items() if isinstance(v, str) and k != options.id_field
            )
            body = " ".join(str(row[f]) for f in fields
                            if row.get(f) not in (None, "")).replace("\x00", "").strip()
            if not body:
                problems.append(f"skipping {where}: no text in {', '.join(fields) or 'record'}")
                continue
            if len(body) > MAX_RECORD_TEXT:
                problems.append(f"skipping {where}: text too large ({len(body):,} characters; "
                                f"the limit for a record is {MAX_RECORD_TEXT:,})")
                continue
            extra = {k: v for k, v in row.items() if k not in fields and k != options.id_field}
            meta = {(f"field_{k}" if k in RESERVED else k): v for k, v in extra.items()}
            meta = clean_metadata(meta)
            meta.update(base)
            meta["record"] = line_no
            meta["source_sha256"] = meta.get("sha256", "")  # the file's hash
            meta["sha256"] = sha256(body)  # the record's text
            seen.add(item_id)
            items.append(
                Item(item_id, "text", str(path), meta["sha256"], metadata=meta, text=body)
            )
        if not items:
            reason = problems[0].split(": ", 1)[-1] if problems else "no records"
            raise BadInput(f"no usable records ({reason})")
        return FileRead(items, problems)

    @staticmethod
    def _rows(path: Path, text: str) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
        """Records with their line numbers; a bad record is a problem line, not the file's end."""
        rows: list[tuple[int, dict[str, Any]]] = []
        problems: list[str] = []
        if path.suffix.lower() == ".csv":
            csv.field_size_limit(MAX_RECORD_TEXT * 4)
            reader = csv.DictReader(io.StringIO(text.replace("\x00", "")))
            n = 1
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as e:
                    problems.append(f"skipping {path}:{reader.line_num}: bad CSV ({e})")
                    if reader.line_num == n:  # no progress: give up on the rest
                        break
                    n = reader.line_num
                    continue
                n = reader.line_num
                rows.append((n, {k: typed_cell(v) if isinstance(v, str) else v
                                 for k, v in row.items() if k is not None}))
            if not rows and not problems and reader.fieldnames is None:
                raise BadInput("bad CSV (no header)")
            return rows, problems
        # records end at "\n" only: str.splitlines would also cut at U+2028, U+0085...
        for n, line in enumerate(text.split("\n"), start=1):
            line = line.removesuffix("\r")
            if not line.strip():
                continue
            if "\x00" in line:
                problems.append(f"skipping {path}:{n}: contains a NUL byte")
                continue
            try:
                obj = json.loads(line)
            except (json.JSONDecodeError, RecursionError) as e:
                msg = e.msg if isinstance(e, json.JSONDecodeError) else "nested too deeply"
                problems.append(f"skipping {path}:{n}: bad JSON ({msg})")
                continue
            if not isinstance(obj, dict):
                problems.append(f"skipping {path}:{n}: not a JSON object")
                continue
            rows.append((n, obj))
        return rows, problems

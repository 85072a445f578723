"""Records files (.jsonl, .csv): one text item per record; other fields become metadata."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from ..errors import BadInput
from .base import FileRead, Item, ReadOptions, Source, clean_metadata, sha256
from .text import decode_text

#: metadata keys semsearch sets itself; a record field of the same name is kept as ``field_KEY``
RESERVED = {"path", "size", "mtime", "sha256", "modality", "item_id", "chunk", "start", "end",
            "width", "height", "record", "source_sha256"}


class RecordsSource(Source):
    kind = "records"
    extensions = (".jsonl", ".ndjson", ".csv")

    def read(self, path: Path, data: bytes, base: dict[str, Any], options: ReadOptions) -> FileRead:
        text = decode_text(data)
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
            body = " ".join(str(row[f]) for f in fields if row.get(f) not in (None, "")).strip()
            if not body:
                problems.append(f"skipping {where}: no text in {', '.join(fields) or 'record'}")
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
        rows: list[tuple[int, dict[str, Any]]] = []
        problems: list[str] = []
        if path.suffix.lower() == ".csv":
            try:
                reader = csv.DictReader(io.StringIO(text))
                for n, row in enumerate(reader, start=2):
                    rows.append((n, {k: v for k, v in row.items() if k is not None}))
            except csv.Error as e:
                raise BadInput(f"bad CSV ({e})") from e
            return rows, problems
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                problems.append(f"skipping {path}:{n}: bad JSON ({e.msg})")
                continue
            if not isinstance(obj, dict):
                problems.append(f"skipping {path}:{n}: not a JSON object")
                continue
            rows.append((n, obj))
        return rows, problems

"""Property-based tests of the ingest adapters: whatever the bytes, records or names, every
file becomes items or one skip reason (BadInput), never another exception, and no record is
lost without a problem line."""

from __future__ import annotations

import json
import os
import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from semsearch.errors import BadInput
from semsearch.ingest.scan import walk
from semsearch.sources import ReadOptions, source_for, supported_extensions
from semsearch.sources.base import clean_metadata

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
EXTENSIONS = sorted(supported_extensions() - {".heic", ".heif"})


@SETTINGS
@given(data=st.binary(max_size=4096), ext=st.sampled_from(EXTENSIONS))
def test_any_bytes_are_items_or_one_reason(data: bytes, ext: str) -> None:
    path = Path(f"/virtual/file{ext}")
    source = source_for(path)
    assert source is not None
    base = {"path": str(path), "modality": "image" if source.kind == "image" else "text"}
    try:
        read = source.read(path, data, base, ReadOptions())
    except BadInput as e:
        assert str(e) and "\n" not in str(e)
        return
    assert read.items
    for item in read.items:
        assert item.modality in ("text", "image")
        assert (item.text or "").strip() or item.image is not None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                  max_size=3),
    max_leaves=6)


@SETTINGS
@given(records=st.lists(st.dictionaries(st.text(max_size=12), json_values, max_size=5),
                        min_size=1, max_size=12),
       junk=st.lists(st.text(max_size=30), max_size=3))
def test_every_record_is_an_item_or_a_problem_line(records: list[dict], junk: list[str]) -> None:
    lines = [json.dumps(r) for r in records] + [j.replace("\n", " ") for j in junk]
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    path = Path("/virtual/records.jsonl")
    source = source_for(path)
    assert source is not None
    try:
        read = source.read(path, data, {"path": str(path), "modality": "text"}, ReadOptions())
    except BadInput:
        return  # nothing usable: the whole file is one skip line
    counted = len(read.items) + len(read.problems)
    assert counted == sum(1 for line in "\n".join(lines).split("\n") if line.strip())
    for item in read.items:
        meta = clean_metadata(item.metadata)
        assert not any(k.startswith("chroma:") for k in meta)
        assert all(isinstance(v, str | int | float | bool) for v in meta.values())


names = st.text(alphabet=string.ascii_letters + string.digits + " -_.()é\n\x1b", min_size=1,
                max_size=20).filter(lambda n: n.strip(". ") and "/" not in n)


@SETTINGS
@given(files=st.lists(names, min_size=1, max_size=8, unique=True))
def test_every_name_is_walked_or_skipped_once(tmp_path_factory, files: list[str]) -> None:
    root = tmp_path_factory.mktemp("names")
    made = set()
    for n in files:
        p = root / f"{n}.txt"
        p.write_text("x")
        made.add(str(p))
    skipped: list[str] = []
    found = [s.path for s in walk(root, supported_extensions(), on_skip=lambda p, r:
                                  skipped.append(p))]
    visible = {p for p in made if not os.path.basename(p).startswith(".")}
    assert sorted(found + skipped) == sorted(visible)

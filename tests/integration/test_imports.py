"""Importing the Python client stays light: heavy libraries load only when used."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # runs semsearch in subprocesses

HEAVY = ["typer", "click", "textual", "rich", "torch", "chromadb", "open_clip",
         "sentence_transformers", "transformers", "PIL", "bm25s"]


def test_import_semsearch_loads_no_heavy_library(tmp_path):
    code = (
        "import json, sys\n"
        "import semsearch, semsearch.client, semsearch.search.planner, semsearch.ingest.pipeline\n"
        "lib = semsearch.open(sys.argv[1])\n"
        "lib.collection('x')\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "home")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []

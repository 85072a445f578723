"""Importing the Python client stays light: heavy libraries load only when used."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # runs semsearch in subprocesses

HEAVY = ["typer", "click", "textual", "rich", "torch", "chromadb", "open_clip",
         "sentence_transformers", "transformers", "PIL", "bm25s"]


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)


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


def test_chromadb_imports_without_its_unused_parts_that_still_work_when_called():
    """What :mod:`semsearch.storage.chroma_import` leaves out of chromadb's import (jsonschema,
    yaml, httpx's command line, the OTLP gRPC exporter) is not loaded, and each still works, as
    jsonschema's own, when chromadb calls it."""
    code = (
        "import json, sys\n"
        "from semsearch.storage.chroma_import import import_chromadb\n"
        "import_chromadb()\n"
        "out = {'loaded': sorted({'jsonschema', 'grpc', 'rich', 'pygments', 'httpx._main',"
        " 'yaml'}"
        " & set(sys.modules))}\n"
        "from chromadb.utils.embedding_functions.schemas import validate_config_schema\n"
        "validate_config_schema({'preferred_providers': ['CPUExecutionProvider']},"
        " 'onnx_mini_lm_l6_v2')\n"
        "import jsonschema\n"
        "try:\n"
        "    validate_config_schema({'nonsense': 1}, 'onnx_mini_lm_l6_v2')\n"
        "except jsonschema.ValidationError as e:\n"
        "    out['rejected'] = 'nonsense' in str(e)\n"
        "from chromadb.telemetry import opentelemetry as otel\n"
        "exporter = otel.OTLPSpanExporter(endpoint='http://localhost:4317', insecure=True)\n"
        "out['exporter'] = type(exporter).__module__\n"
        "from chromadb.auth import token_authn\n"
        "out['yaml'] = token_authn.yaml.safe_load('users: [a]')\n"
        "import httpx\n"
        "out['httpx'] = httpx.Client.__module__\n"
        "print(json.dumps(out))\n"
    )
    out = python(code)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {
        "loaded": [], "rejected": True,
        "exporter": "opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
        "yaml": {"users": ["a"]},
        "httpx": "httpx"}


def test_the_vector_index_and_onnx_runtime_load_in_either_order(tmp_path):
    """usearch's extension loaded before onnxruntime's used to crash the process (a segfault
    in pybind11): the vector index loads onnxruntime first."""
    code = (
        "import sys\n"
        "from semsearch.storage.vector_index import usearch_index\n"
        "usearch_index()(ndim=4, dtype='f16')\n"
        "import onnx, onnxruntime\n"
        "from onnx import TensorProto, helper\n"
        "x = helper.make_tensor_value_info('x', TensorProto.FLOAT, [1])\n"
        "g = helper.make_graph([helper.make_node('Identity', ['x'], ['y'])], 'g', [x],\n"
        "    [helper.make_tensor_value_info('y', TensorProto.FLOAT, [1])])\n"
        "m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)])\n"
        "m.ir_version = 8\n"
        "onnxruntime.InferenceSession(m.SerializeToString(), providers=['CPUExecutionProvider'])\n"
        "print('ok')\n"
    )
    out = python(code)
    assert out.returncode == 0 and out.stdout.strip() == "ok", (out.returncode, out.stderr)

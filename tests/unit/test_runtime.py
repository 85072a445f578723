"""How ``auto`` chooses a runtime: pure rules, with the machine's answers faked."""

from __future__ import annotations

import pytest

from semsearch.errors import ConfigError
from semsearch.models import runtime
from semsearch.models.runtime import Runtime, RuntimeChoice, choose

MINILM = "sentence-transformers/all-MiniLM-L6-v2"


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch):
    def set_(device: str = "cpu", onnx: bool = True) -> None:
        monkeypatch.setattr(runtime, "detect_device", lambda: device)
        monkeypatch.setattr(runtime, "_available", lambda d: d == device)
        monkeypatch.setattr(runtime, "installed", lambda m: onnx)
    return set_


def test_auto_on_a_cpu(machine) -> None:
    machine("cpu")
    # int8 where its agreement was measured, else fp32; CLIP keeps torch unless int8 is asked
    assert choose(RuntimeChoice(), MINILM, int8_measured=True) == Runtime("onnx", "int8", "cpu")
    assert choose(RuntimeChoice(), MINILM) == Runtime("onnx", "fp32", "cpu")
    assert choose(RuntimeChoice(precision="fp32"), MINILM, int8_measured=True) == \
        Runtime("onnx", "fp32", "cpu")
    assert choose(RuntimeChoice(backend="openvino"), MINILM, int8_measured=True) == \
        Runtime("openvino", "fp32", "cpu")
    assert choose(RuntimeChoice(precision="int8"), MINILM) == Runtime("onnx", "int8", "cpu")
    assert choose(RuntimeChoice(), "ViT-B-32:laion2b", prefer_torch=True) == \
        Runtime("torch", "fp32", "cpu")
    assert choose(RuntimeChoice(precision="int8"), "ViT-B-32:laion2b", prefer_torch=True) == \
        Runtime("onnx", "int8", "cpu")
    assert choose(RuntimeChoice(backend="openvino", precision="int8"), MINILM) == \
        Runtime("openvino", "int8", "cpu")
    machine("cpu", onnx=False)
    assert choose(RuntimeChoice(), MINILM) == Runtime("torch", "fp32", "cpu")


def test_auto_on_a_gpu(machine) -> None:
    machine("cuda")
    assert choose(RuntimeChoice(), MINILM, int8_measured=True) == Runtime("torch", "fp32", "cuda")
    assert choose(RuntimeChoice(device="cpu"), MINILM) == Runtime("onnx", "fp32", "cpu")


@pytest.mark.parametrize(("choice", "message"), [
    (dict(backend="torch", precision="int8"), "--precision int8 needs --backend onnx or openvino"),
    (dict(backend="jax"), "--backend must be one of auto, torch, onnx, openvino, not 'jax'"),
    (dict(precision="fp16"), "--precision must be one of auto, fp32, int8, not 'fp16'"),
    (dict(device="cuda"), "--device cuda: no such device here; use --device auto or cpu"),
    (dict(backend="openvino", device="mps"), "--device mps: no such device here"),
])
def test_impossible_choices_are_one_clear_error(machine, choice, message) -> None:
    machine("cpu")
    with pytest.raises(ConfigError) as err:
        choose(RuntimeChoice(**choice), MINILM)
    assert str(err.value).startswith(message)


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEMSEARCH_BACKEND", "OpenVINO ")
    monkeypatch.setenv("SEMSEARCH_PRECISION", "")
    assert RuntimeChoice.from_env() == RuntimeChoice(backend="openvino")

"""Export a loaded torch model to ONNX (fp32), then quantise it to int8: once per model.

int8 is ONNX Runtime's dynamic quantisation, per output channel, MatMul and Gemm only
(measured on MiniLM: per-tensor int8 lost 5 points of cosine; per-channel keeps 0.993).
Files are written to a temporary folder and renamed into place, so an interrupted export
leaves nothing half-written behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import ModelUnavailable
from .inference import is_exported, model_file, read_meta, write_meta

log = logging.getLogger("semsearch")


def notice(message: str) -> None:
    """A line on stderr while exporting (it takes seconds to a minute, once)."""
    log.info(message)
    if not log.handlers and not logging.getLogger().handlers:
        print(message, file=sys.stderr, flush=True)


def externalize(path: Path) -> None:
    """Move a graph's weights out of its protobuf into ``NAME.data`` beside it: ONNX Runtime
    then reads them in place of parsing them (a session is made in a third of the time:
    MiniLM 0.1 s instead of 0.26-0.3 s, CLIP's text tower 0.43 s instead of 0.75-0.9 s)."""
    import onnx

    model = onnx.load(str(path))
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=path.name + ".data", size_threshold=1024)


def quantize(src: Path, dst: Path) -> None:
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as e:
        raise ModelUnavailable(f"int8 needs onnxruntime's quantisation tools and the onnx "
                               f"package ({e}): pip install onnx") from e
    root = logging.getLogger()  # the quantiser warns on the root logger; quiet while it runs
    level = root.level
    root.setLevel(max(level, logging.ERROR))
    try:
        # weights only (MatMulConstBOnly): the attention's activation products stay fp32,
        # same cosines, 6-10 % faster than quantising those too
        quantize_dynamic(str(src), str(dst), per_channel=True, weight_type=QuantType.QInt8,
                         op_types_to_quantize=["MatMul", "Gemm"],
                         extra_options={"MatMulConstBOnly": True})
    finally:
        root.setLevel(level)


def _export(module: Any, args: tuple[Any, ...], path: Path, inputs: list[str],
            dynamic: dict[str, dict[int, str]]) -> None:
    import torch

    mha = getattr(torch.backends, "mha", None)  # its fused fast path has no ONNX form
    fast = mha.get_fastpath_enabled() if mha is not None else False
    if mha is not None:
        mha.set_fastpath_enabled(False)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, args, str(path), input_names=inputs,
                              output_names=["embedding"], dynamic_axes=dynamic,
                              opset_version=17, dynamo=False)
    finally:
        if mha is not None:
            mha.set_fastpath_enabled(fast)


def build(folder: Path, parts: dict[str, Callable[[Path], None]], precision: str,
          meta: dict[str, Any], what: str) -> None:
    """Make ``folder`` hold each part at ``precision`` (fp32 first: int8 is made from it).
    One process at a time (a lock file beside the folder); one that waited finds the parts
    made and returns."""
    if not _missing(folder, parts, precision):
        return
    work: Path | None = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        with _locked(folder.parent / f".{folder.name}.lock"):
            missing = _missing(folder, parts, precision)  # another process may have made them
            if not missing:
                return
            notice(f"exporting {what} to ONNX {precision} (once; cached in {folder})")
            work = Path(tempfile.mkdtemp(prefix=".export-", dir=folder.parent))
            _make(folder, work, {p: parts[p] for p in missing}, precision, meta)
    except ModelUnavailable:
        raise
    except Exception as e:
        raise ModelUnavailable(f"exporting {what} to ONNX failed: "
                               f"{str(e).splitlines()[0][:200]}; use --backend torch") from e
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


def _missing(folder: Path, parts: Iterable[str], precision: str) -> list[str]:
    return [p for p in parts if not model_file(folder, p, precision).is_file()]


def _make(folder: Path, work: Path, parts: dict[str, Callable[[Path], None]], precision: str,
          meta: dict[str, Any]) -> None:
    if folder.is_dir():
        for f in folder.iterdir():
            shutil.copy2(f, work / f.name)
    for part, make in parts.items():
        fp32 = model_file(work, part, "fp32")
        if not fp32.is_file():
            make(fp32)
            externalize(fp32)
        if precision == "int8":
            quantize(fp32, model_file(work, part, "int8"))
            externalize(model_file(work, part, "int8"))
    write_meta(work, meta)
    if folder.is_dir():
        old = folder.with_name(folder.name + ".old")
        shutil.rmtree(old, ignore_errors=True)  # left by a run that was killed here
        os.replace(folder, old)
        os.replace(work, folder)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(work, folder)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (none where the OS has no ``fcntl``)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def exported(folder: Path, parts: Sequence[str], precision: str,
             export: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The export's recorded facts (``meta.json``), after making any part at ``precision``
    that is missing: from the fp32 files where they are there, else with ``export()``."""
    meta = read_meta(folder)
    if meta is not None and is_exported(folder, parts, precision):
        return meta
    if meta is not None and precision != "fp32" and is_exported(folder, parts, "fp32"):
        derive(folder, parts, precision, meta)  # int8 from the fp32 files: no torch
        return meta
    return export()


def derive(folder: Path, parts: Sequence[str], precision: str, meta: dict[str, Any]) -> None:
    """Make ``precision`` from the fp32 files already in ``folder`` (no model is loaded)."""
    def unreachable(path: Path) -> None:  # pragma: no cover - the fp32 files are there
        raise ModelUnavailable(f"{path} is missing")

    build(folder, dict.fromkeys(parts, unreachable), precision, meta,
          str(meta.get("model") or folder.name))


# sentence-transformers --------------------------------------------------------------------
def pooling_of(st: Any) -> str | None:
    """'mean' or 'cls' from the model's Pooling module; None for anything else."""
    for module in st:
        get = getattr(module, "get_config_dict", None)
        c = get() if get is not None else {}
        if isinstance(c.get("pooling_mode"), str):  # sentence-transformers >= 6
            mode = c["pooling_mode"]
            return mode if mode in ("mean", "cls") and c.get("include_prompt", True) else None
        if "pooling_mode_mean_tokens" in c:  # older configs: one flag a mode
            modes = [k for k, v in c.items() if k.startswith("pooling_mode") and v]
            return {"pooling_mode_mean_tokens": "mean",
                    "pooling_mode_cls_token": "cls"}.get(modes[0]) if len(modes) == 1 else None
    return None


def text_graph(st: Any, pooling: str) -> Callable[[Path], None]:
    import torch

    class Encoder(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.model(input_ids=input_ids,
                                attention_mask=attention_mask).last_hidden_state
            if pooling == "cls":
                pooled = hidden[:, 0]
            else:
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    auto_model = st[0].auto_model.eval()

    def export(path: Path) -> None:
        ids = torch.ones(2, 8, dtype=torch.long)
        axes = {"input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"}, "embedding": {0: "batch"}}
        # the plain attention (matmul, softmax, matmul) exports to a graph ONNX Runtime runs
        # 10-20 % faster than torch's fused SDPA decomposed, in fp32 and int8 alike
        config = getattr(auto_model, "config", None)
        before = getattr(config, "_attn_implementation", None)
        switch: Callable[[Any], None] | None = getattr(auto_model, "set_attn_implementation",
                                                       None)
        switched = False
        if switch is not None and before not in (None, "eager"):
            with contextlib.suppress(Exception):  # a model without the plain form keeps its own
                switch("eager")
                switched = True
        try:
            _export(Encoder(auto_model).eval(), (ids, ids), path,
                    ["input_ids", "attention_mask"], axes)
        finally:
            if switched and switch is not None:
                with contextlib.suppress(Exception):
                    switch(before)
    return export


# open_clip ----------------------------------------------------------------------------------
def clip_graphs(model: Any, image_size: int, context: int) -> dict[str, Callable[[Path], None]]:
    import torch

    class Tower(torch.nn.Module):
        def __init__(self, model: Any, image: bool) -> None:
            super().__init__()
            self.model, self.image = model, image

        def forward(self, x: Any) -> Any:
            out = self.model.encode_image(x) if self.image else self.model.encode_text(x)
            return torch.nn.functional.normalize(out.float(), p=2, dim=-1)

    def image(path: Path) -> None:
        x = torch.zeros(2, 3, image_size, image_size)
        _export(Tower(model, True).eval(), (x,), path, ["pixels"],
                {"pixels": {0: "batch"}, "embedding": {0: "batch"}})

    def text(path: Path) -> None:
        x = torch.zeros(2, context, dtype=torch.long)
        _export(Tower(model, False).eval(), (x,), path, ["tokens"],
                {"tokens": {0: "batch"}, "embedding": {0: "batch"}})
    return {"image": image, "text": text}


#: beside a query graph: the token embedding table, read row by row (memory-mapped)
TOKEN_TABLE = "token-embedding.npy"


def clip_query_graph(model: Any) -> Callable[[Path], None] | None:
    """CLIP's text tower for queries, cut to each batch's length: for open_clip's plain
    ``CLIP`` (causal attention, the end token's features), where the features at the end token
    depend on nothing after it, so the tokens after it (padding to 77) can be left out: the
    same vector, a fraction of the work. The token embedding table stays out of the graph
    (:data:`TOKEN_TABLE`, 40 % of ViT-B-32's text weights): a query reads its few rows, and
    the session loads the rest. The attention is written out here (torch's traces its length
    as a constant). None for any other text tower."""
    import torch
    from torch.nn import functional as F

    blocks = list(getattr(getattr(model, "transformer", None), "resblocks", []) or [])
    if type(model).__name__ != "CLIP" or getattr(model, "attn_mask", None) is None or \
            getattr(model, "text_pool_type", "argmax") != "argmax" or not blocks or \
            not isinstance(getattr(model, "token_embedding", None), torch.nn.Embedding) or \
            not all(type(b).__name__ == "ResidualAttentionBlock" and not hasattr(b, "ln_1_kv")
                    and isinstance(b.attn, torch.nn.MultiheadAttention)
                    and b.attn._qkv_same_embed_dim for b in blocks):
        return None

    def attention(mha: Any, x: Any, mask: Any) -> Any:
        heads = mha.num_heads
        q, k, v = F.linear(x, mha.in_proj_weight, mha.in_proj_bias).chunk(3, dim=-1)
        q, k, v = (t.unflatten(-1, (heads, -1)).transpose(1, 2) for t in (q, k, v))
        scores = q @ k.transpose(-1, -2) * (q.shape[-1] ** -0.5) + mask
        out = (scores.softmax(dim=-1) @ v).transpose(1, 2).flatten(-2)
        return mha.out_proj(out)

    class Query(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, embedded: Any, tokens: Any) -> Any:
            m = self.model
            n = tokens.shape[1]
            x = embedded + m.positional_embedding[:n]  # (batch, length, width)
            mask = m.attn_mask[:n, :n].to(x.dtype)
            for b in m.transformer.resblocks:
                x = x + b.ls_1(attention(b.attn, b.ln_1(x), mask))
                x = x + b.ls_2(b.mlp(b.ln_2(x)))
            x = m.ln_final(x)
            x = x[torch.arange(x.shape[0]), tokens.argmax(dim=-1)]
            proj = m.text_projection
            x = proj(x) if isinstance(proj, torch.nn.Linear) else x @ proj
            return F.normalize(x.float(), p=2, dim=-1)

    def export(path: Path) -> None:
        import numpy as np

        width = int(model.token_embedding.weight.shape[1])
        args = (torch.zeros(2, 5, width), torch.ones(2, 5, dtype=torch.long))
        _export(Query(model).eval(), args, path, ["embedded", "tokens"],
                {"embedded": {0: "batch", 1: "length"}, "tokens": {0: "batch", 1: "length"},
                 "embedding": {0: "batch"}})
        table = model.token_embedding.weight.detach().float().cpu().numpy()
        np.save(path.parent / TOKEN_TABLE, np.ascontiguousarray(table, dtype=np.float32))
    return export

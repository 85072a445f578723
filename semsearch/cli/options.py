"""Option types shared by the commands (one definition each), with metavars that name what
they take, and checks that make a bad value a usage error (exit code 2)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated

import typer

from .settings import collection_name

TYPES = ("any", "image", "text")
MODES = ("dense", "lexical", "hybrid")


def choice(values: Sequence[str]) -> Callable[[str | None], str | None]:
    """A check for an option taking one of ``values``."""

    def check(value: str | None) -> str | None:
        if value is not None and value not in values:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(values)}")
        return value

    return check


def between(low: float, high: float | None = None
            ) -> Callable[[float | None], float | None]:
    """A check for a number from ``low`` (to ``high``)."""

    def check(value: float | None) -> float | None:
        if value is None:
            return value
        if value < low or (high is not None and value > high):
            shown = f"from {low:g} to {high:g}" if high is not None else f"{low:g} or more"
            raise typer.BadParameter(f"{value:g} is out of range; use {shown}")
        return value

    return check


def _collection(value: str | None) -> str:
    return collection_name(value)


def metavar(values: Sequence[str]) -> str:
    return "[" + "|".join(values) + "]"


def complete(values: Sequence[str]) -> Callable[[str], list[str]]:
    return lambda incomplete: [v for v in values if v.startswith(incomplete)]


CollectionOpt = Annotated[str, typer.Option(
    "--collection", "-c", metavar="NAME", callback=_collection, show_default=False,
    help="Collection name (default: $SEMSEARCH_COLLECTION, the config file's, else "
         "'default').")]
HomeOpt = Annotated[str | None, typer.Option(
    "--home", metavar="PATH",
    help="Data directory (default: $SEMSEARCH_HOME, the config file's, else the XDG data "
         "dir).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
BackendOpt = Annotated[str | None, typer.Option(
    "--backend", metavar="auto|torch|onnx|openvino",
    help="How models run: auto (ONNX Runtime on a CPU, torch on a GPU; CLIP on torch, its "
         "text queries on ONNX; --precision int8 puts CLIP on ONNX too), torch, onnx or "
         "openvino. "
         "ONNX files are exported once from your weights and cached.")]
PrecisionOpt = Annotated[str | None, typer.Option(
    "--precision", metavar="auto|fp32|int8",
    help="auto: int8 for MiniLM on ONNX Runtime on a CPU (about 2x torch, vectors agree "
         "to 0.99 cosine), fp32 elsewhere. fp32: torch's vectors. int8 needs onnx or "
         "openvino.")]
DeviceOpt = Annotated[str | None, typer.Option(
    "--device", metavar="auto|cpu|cuda|mps",
    help="auto: CUDA, then Apple MPS, then the CPU.")]
TextModelOpt = Annotated[str | None, typer.Option(
    "--text-model", metavar="NAME",
    help="sentence-transformers model name or folder.")]
ClipModelOpt = Annotated[str | None, typer.Option(
    "--clip-model", metavar="NAME",
    help="open_clip model name or config JSON; 'none' for text-only.")]
ClipPretrainedOpt = Annotated[str | None, typer.Option(
    "--clip-pretrained", metavar="TAG",
    help="open_clip pretrained tag or local weights file.")]
NoWaitOpt = Annotated[
    bool, typer.Option("--no-wait", help="Fail at once if another process is writing.")
]

TypeOpt = Annotated[str, typer.Option(
    "--type", "-t", metavar=metavar(TYPES), callback=choice(TYPES),
    autocompletion=complete(TYPES), help="Results: any, image or text.")]
KOpt = Annotated[int, typer.Option(
    "--limit", "-k", metavar="N", callback=between(1), help="Number of results.")]
ModeOpt = Annotated[str, typer.Option(
    "--mode", metavar=metavar(MODES), callback=choice(MODES),
    autocompletion=complete(MODES), help="Text items for a text query: dense, lexical or hybrid.")]
WhereOpt = Annotated[list[str] | None, typer.Option(
    "--where", "-w", metavar="KEY=VALUE",
    help="Metadata filter KEY=VALUE, KEY>=N ... (repeatable; lexical and hybrid search "
         "apply it inside BM25 retrieval, exact however selective; on 50,000 chunks or "
         "more, the first filter on a KEY indexes its values, once).")]
DiverseOpt = Annotated[float | None, typer.Option(
    "--diverse", metavar="LAMBDA", callback=between(0.0, 1.0),
    help="Re-rank by maximal marginal relevance (0 to 1): LAMBDA*relevance - (1-LAMBDA)*"
         "similarity to hits above; 1 keeps the ranking, lower is more varied.")]
MinScoreOpt = Annotated[
    float | None, typer.Option("--min-score", metavar="S", help="Leave out hits scoring below S.")
]
OffsetOpt = Annotated[int, typer.Option(
    "--offset", metavar="N", callback=between(0), help="Skip the first N hits (paging).")]
AllOpt = Annotated[
    bool, typer.Option("--all", "-a", help="Also show hits below the relevance floor.")
]
ExplainOpt = Annotated[
    bool, typer.Option("--explain", help="Say under each hit why it matched: its space and "
                       "chunk, the query words it holds, the parts of its score.")
]
PathsOpt = Annotated[bool, typer.Option(
    "--paths", "-f", help="Print only each hit's path (or id), one per line, for piping.")]
QuietOpt = Annotated[bool, typer.Option(
    "--quiet", "-q", help="No progress, no warnings: only results and errors.")]
VerboseOpt = Annotated[bool, typer.Option(
    "--verbose", "-v", help="More detail on stderr: models, every warning, timings.")]

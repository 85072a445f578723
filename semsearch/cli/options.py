"""Option types shared by the commands (one definition each)."""

from __future__ import annotations

from typing import Annotated

import typer

CollectionOpt = Annotated[str, typer.Option("--collection", "-c", help="Collection name.")]
HomeOpt = Annotated[
    str | None,
    typer.Option("--home", help="Data directory (default: $SEMSEARCH_HOME or XDG data dir)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
TextModelOpt = Annotated[
    str | None, typer.Option("--text-model", help="sentence-transformers model name or folder.")
]
ClipModelOpt = Annotated[
    str | None,
    typer.Option("--clip-model", help="open_clip model name or config JSON; 'none' for text-only."),
]
ClipPretrainedOpt = Annotated[
    str | None,
    typer.Option("--clip-pretrained", help="open_clip pretrained tag or local weights file."),
]
NoWaitOpt = Annotated[
    bool, typer.Option("--no-wait", help="Fail at once if another process is writing.")
]


TypeOpt = Annotated[str, typer.Option("--type", "-t", help="Results: any, image or text.")]
KOpt = Annotated[int, typer.Option("-k", help="Number of results.", min=1)]
ModeOpt = Annotated[
    str,
    typer.Option("--mode", help="Text items for a text query: dense, lexical or hybrid."),
]
WhereOpt = Annotated[
    list[str] | None,
    typer.Option("--where", "-w", help="Metadata filter KEY=VALUE, KEY>=N ... (repeatable)."),
]
DiverseOpt = Annotated[
    float | None,
    typer.Option("--diverse", min=0.0, max=1.0, metavar="LAMBDA",
                 help="Re-rank by maximal marginal relevance: LAMBDA*relevance - (1-LAMBDA)*"
                      "similarity to hits above; 1 keeps the ranking, lower is more varied."),
]
MinScoreOpt = Annotated[
    float | None, typer.Option("--min-score", metavar="S", help="Leave out hits scoring below S.")
]
OffsetOpt = Annotated[
    int, typer.Option("--offset", min=0, metavar="N", help="Skip the first N hits (paging).")
]

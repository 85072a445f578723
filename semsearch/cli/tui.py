"""``semsearch tui``. The terminal UI itself lives in :mod:`semsearch.tui`."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import app, errors, examples, fail
from .options import (
    ClipModelOpt,
    ClipPretrainedOpt,
    CollectionOpt,
    HomeOpt,
    KOpt,
    TextModelOpt,
    TypeOpt,
    choice,
    metavar,
)
from .settings import explicit_models, home_dir, runtime_choice

#: semsearch.tui.thumbs.IMAGE_MODES, named here so that `semsearch -h` need not load Textual
IMAGE_MODES = ("auto", "kitty", "sixel", "halfcell", "unicode", "none")


@app.command(epilog=examples(
    "semsearch tui -c sample                       # search and browse a collection",
    'semsearch tui -c photos -q "sunset" -t image  # start with a query, images only',
    "semsearch tui -c sample --profile me          # likes and dislikes kept in profile `me`",
    "semsearch tui -c photos --images halfcell     # pictures: auto, kitty, sixel, halfcell, "
    "unicode, none",
))
def tui(
    collection: CollectionOpt = "",
    query: Annotated[str | None, typer.Option(
        "--query", "-q", metavar="TEXT",
        help="Start with this query (text, or an image's path).")] = None,
    type_: TypeOpt = "any",
    k: KOpt = 10,
    where: Annotated[str | None, typer.Option(
        "--where", "-w", metavar="FILTERS",
        help="Metadata filters, e.g. 'year<1960 author=\"Frank Herbert\"'.")
    ] = None,
    images: Annotated[str, typer.Option(
        "--images", metavar=metavar(IMAGE_MODES), callback=choice(IMAGE_MODES),
        help="Pictures: auto (kitty or sixel graphics where the terminal has them, else half "
             "blocks), kitty, sixel, halfcell, unicode or none.")
    ] = "auto",
    profile: Annotated[str | None, typer.Option(
        "--profile", "-p", metavar="NAME",
        help="Keep likes and dislikes in this profile (lasts across runs).")
    ] = None,
    text_model: TextModelOpt = None,
    clip_model: ClipModelOpt = None,
    clip_pretrained: ClipPretrainedOpt = None,
    home: HomeOpt = None,
) -> None:
    """Search and browse a collection in the terminal: results as you type, image previews,
    more like this, likes and recommendations. Press ? in it for every key."""
    from ..tui.thumbs import detect

    if k > 200:
        fail(f"invalid value for '--limit' / '-k': {k} is out of range; use from 1 to 200", 2)
    with errors():
        detect()  # asks the terminal about graphics before Textual takes it over
        from ..client.library import Library
        from ..models.registry import shared_registry
        from ..tui import create_app

        shared_registry().runtime = runtime_choice()
        lib = Library(home_dir(home))
        m = explicit_models(text_model, clip_model, clip_pretrained)
        try:
            tui_app = create_app(
                lib, collection, query=query or "", type=type_,  # type: ignore[arg-type]
                k=k, filters=where or "", images=images, profile=profile,
                text_model=m["text_model"], clip_model=m["clip_model"],
                clip_pretrained=m["clip_pretrained"])
            tui_app.run()
        finally:
            lib.close()

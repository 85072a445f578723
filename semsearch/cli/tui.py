"""``semsearch tui``. The terminal UI itself lives in :mod:`semsearch.tui`."""

from __future__ import annotations

from typing import Annotated

import typer

from ..client.library import DEFAULT_COLLECTION, Library
from .app import app, errors, fail
from .options import ClipModelOpt, ClipPretrainedOpt, CollectionOpt, HomeOpt, TextModelOpt


@app.command()
def tui(
    collection: CollectionOpt = DEFAULT_COLLECTION,
    query: Annotated[str | None, typer.Option(
        "--query", "-q", help="Start with this query (text, or an image's path).")] = None,
    type_: Annotated[str, typer.Option(
        "--type", "-t", help="Results: any, image or text.")] = "any",
    k: Annotated[int, typer.Option("-k", help="Number of results.", min=1, max=200)] = 10,
    where: Annotated[str | None, typer.Option(
        "--where", "-w", help="Metadata filters, e.g. 'year<1960 author=\"Frank Herbert\"'.")
    ] = None,
    images: Annotated[str, typer.Option(
        "--images", help="Pictures: auto (kitty or sixel graphics where the terminal has "
                         "them, else half blocks), kitty, sixel, halfcell, unicode or none.")
    ] = "auto",
    profile: Annotated[str | None, typer.Option(
        "--profile", "-p", help="Keep likes and dislikes in this profile (lasts across runs).")
    ] = None,
    text_model: TextModelOpt = None,
    clip_model: ClipModelOpt = None,
    clip_pretrained: ClipPretrainedOpt = None,
    home: HomeOpt = None,
) -> None:
    """Search and browse a collection in the terminal: results as you type, image previews,
    more like this, likes and recommendations. Press ? in it for every key."""
    from ..tui.thumbs import IMAGE_MODES, detect

    if images not in IMAGE_MODES:
        fail(f"bad --images {images!r}; use one of {', '.join(IMAGE_MODES)}", 2)
    if type_ not in ("any", "image", "text"):
        fail(f"bad --type {type_!r}; use any, image or text", 2)
    with errors():
        detect()  # asks the terminal about graphics before Textual takes it over
        from ..tui import create_app

        lib = Library(home)
        try:
            tui_app = create_app(
                lib, collection, query=query or "", type=type_,  # type: ignore[arg-type]
                k=k, filters=where or "", images=images, profile=profile,
                text_model=text_model, clip_model=clip_model, clip_pretrained=clip_pretrained)
            tui_app.run()
        finally:
            lib.close()

"""Draw the README's picture of the terminal UI: docs/tui.svg.

Ingests samples/ into a temporary data directory (with the tiny test CLIP model unless
--clip-model/--clip-pretrained say otherwise: no download), opens `semsearch tui` headless at a
fixed size, types a query, likes a result and saves Textual's SVG screenshot.

    .venv/bin/python scripts/tui_screenshot.py [--query TEXT] [--out docs/tui.svg]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import semsearch  # noqa: E402
from semsearch.tui import create_app  # noqa: E402


async def shoot(app: object, query: str, out: Path, size: tuple[int, int]) -> None:
    from semsearch.tui.app import SemsearchApp

    assert isinstance(app, SemsearchApp)
    async with app.run_test(size=size) as pilot:
        ui = app.search_screen  # the screen that does the work (and says what it does)

        async def settle() -> None:
            quiet = 0
            for _ in range(2400):
                await pilot.pause(0.05)
                quiet = quiet + 1 if not ui.busy else 0
                if quiet >= 3:
                    return
            raise SystemExit(f"the app did not settle: {ui.status.state_text}")

        await settle()
        await pilot.press(*query)
        await settle()
        await pilot.press("enter", "down", "plus", "down")
        await settle()
        out.parent.mkdir(parents=True, exist_ok=True)
        app.save_screenshot(out.name, str(out.parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--query", default="sunset over the sea")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "tui.svg")
    ap.add_argument("--clip-model", default=str(ROOT / "tests" / "data" / "tiny-clip.json"))
    ap.add_argument("--clip-pretrained", default="none")
    ap.add_argument("--images", default="halfcell")
    ap.add_argument("--size", default="130x38", help="columns x rows")
    args = ap.parse_args()
    cols, rows = (int(n) for n in args.size.split("x"))
    with tempfile.TemporaryDirectory() as home, semsearch.open(home) as lib:
        col = lib.collection("sample", clip_model=args.clip_model,
                             clip_pretrained=args.clip_pretrained)
        print(col.ingest([ROOT / "samples"], id_field="id",
                         text_fields=["title", "summary"]).line())
        app = create_app(lib, "sample", images=args.images, root=ROOT,
                         opener=lambda path: None)
        app.title = "semsearch tui"
        asyncio.run(shoot(app, args.query, args.out, (cols, rows)))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

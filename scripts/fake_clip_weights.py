#!/usr/bin/env python
"""Random ViT-B-32 weights put where the real ``laion2b_s34b_b79k`` ones go, so the default
path (CLIP weights present) can be timed on a machine that cannot download them.

    HF_HUB_CACHE=/tmp/fakehf/hub python scripts/fake_clip_weights.py
    HF_HUB_CACHE=/tmp/fakehf/hub HF_HUB_OFFLINE=1 semsearch --home /tmp/clip-home \\
        ingest --manifest collections/sample.toml
    HF_HUB_CACHE=/tmp/fakehf/hub HF_HUB_OFFLINE=1 semsearch --home /tmp/clip-home \\
        search "how do I fix a flat tyre" -c sample

The model has the real architecture and sizes, so its timings are the real model's; its
vectors mean nothing. Never point a real cache at it: it takes the real weights' place.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

REPO = "models--laion--CLIP-ViT-B-32-laion2B-s34B-b79K"


def main() -> int:
    cache = os.environ.get("HF_HUB_CACHE")
    if not cache:
        print("set HF_HUB_CACHE to a scratch folder (this replaces the weights there)",
              file=sys.stderr)
        return 2
    import open_clip
    import torch
    from safetensors.torch import save_file

    root = Path(cache) / REPO
    sha = hashlib.sha1(b"random-vit-b-32").hexdigest()
    snap = root / "snapshots" / sha
    snap.mkdir(parents=True, exist_ok=True)
    (root / "refs").mkdir(exist_ok=True)
    (root / "refs" / "main").write_text(sha)
    torch.manual_seed(0)
    model = open_clip.create_model("ViT-B-32", pretrained=None)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              str(snap / "open_clip_model.safetensors"))
    print(snap / "open_clip_model.safetensors")
    return 0


if __name__ == "__main__":
    sys.exit(main())

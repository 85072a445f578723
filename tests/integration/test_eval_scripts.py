"""The evaluation scripts run end to end through the public client; with the tiny random
CLIP model their figures are at chance level."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path
from types import ModuleType

from helpers import TINY_CLIP, make_image

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_crossmodal_eval_is_at_chance_with_random_weights(tmp_path: Path):
    folder = tmp_path / "flickr"
    n_images, per_image = 50, 2
    folder.mkdir()
    with (folder / "captions.jsonl").open("w") as f:
        for i in range(n_images):
            make_image(folder / "images" / f"{i:03}.jpg", seed=i, size=(40, 30))
            f.write(json.dumps({"image": f"images/{i:03}.jpg", "image_id": f"{i:03}",
                                "captions": [f"photo number {i} of a thing",
                                             f"another caption {i}"]}) + "\n")
    r = script("eval_crossmodal").run(folder, TINY_CLIP, "none", None, tmp_path / "home",
                                      quiet=True)
    assert (r["images"], r["captions"]) == (n_images, n_images * per_image)
    for key in ("t2i_R@1", "t2i_R@5", "t2i_R@10", "i2t_R@1", "i2t_R@5", "i2t_R@10"):
        assert 0.0 <= r[key] <= 100.0
    assert r["t2i_R@1"] <= r["t2i_R@5"] <= r["t2i_R@10"]
    assert r["i2t_R@1"] <= r["i2t_R@5"] <= r["i2t_R@10"]
    # chance: 10/50 = 20% for text->image, 1-(1-10/100)^2 = 19% for image->text
    assert r["chance_t2i_R@10"] == 20.0
    assert r["t2i_R@10"] <= 3 * r["chance_t2i_R@10"]
    assert r["i2t_R@10"] <= 3 * r["chance_i2t_R@10"]
    assert r["t2i_R@1"] <= 15.0 and r["i2t_R@1"] <= 15.0


def test_image_eval_is_at_chance_with_random_weights(tmp_path: Path):
    folder = tmp_path / "cifar"
    rows = []
    for c in range(4):
        for i in range(6):
            rel = f"images/c{c}/{i}.jpg"
            make_image(folder / rel, seed=100 * c + i, size=(32, 32))
            rows.append({"path": rel, "label": f"c{c}"})
    with (folder / "labels.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, ["path", "label"])
        w.writeheader()
        w.writerows(rows)
    r = script("eval_images").run(folder, None, 5, TINY_CLIP, "none", tmp_path / "home")
    assert (r["images"], r["classes"], r["skipped"]) == (24, 4, 0)
    assert r["chance"] == 0.25
    assert 0.0 <= r["precision@5"] <= 0.6  # random weights: around 0.25 (5 of 23 relevant)

"""Checks dense_labels.py on an export with masks (export vqa --masks): each image's cell targets
against a plain per-pixel count written here apart from the vectorised one. Prints one JSON line;
exit 1 on any mismatch. Used by test/train/dense_labels.test.ts."""
from __future__ import annotations

import json
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dense_labels import DenseLabels  # noqa: E402

CONFIG = {"image_size": 224, "patch_size": 16, "projector": {"token_pool": 2}}


def main() -> int:
    data = sys.argv[1]
    dense = DenseLabels(data, CONFIG)
    n = dense.cell_side
    checked = cells_with_objects = 0
    with open(os.path.join(data, "scenes.jsonl"), encoding="utf-8") as f:
        scenes = [json.loads(line) for line in f if line.strip()]
    for s in scenes:
        mask = np.asarray(Image.open(os.path.join(data, s["mask"])).convert("L"))
        H, W = mask.shape
        counts = {}
        for y in range(H):
            for x in range(W):
                v = int(mask[y, x])
                if v:
                    key = ((y * n) // H * n + (x * n) // W, v)
                    counts[key] = counts.get(key, 0) + 1
        t = dense.targets[s["image"]]
        for cell in range(n * n):
            seen = [(o, counts.get((cell, o["mask_value"]), 0)) for o in s["objects"]]
            seen = [(o, c) for o, c in seen if c >= dense.min_pixels]
            want_pairs = {dense.kinds.index(o["kind"]) * len(dense.colours) + dense.colours.index(o["color"]) for o, _ in seen}
            got_pairs = {int(i) for i in np.nonzero(t.pairs[cell].numpy())[0]}
            if want_pairs != got_pairs:
                print(json.dumps({"ok": False, "image": s["image"], "cell": cell, "want": sorted(want_pairs), "got": sorted(got_pairs)}))
                return 1
            if seen:
                cells_with_objects += 1
                total = sum(c for _, c in seen)
                centre = sum(np.asarray(o["center"]) * c for o, c in seen) / total
                got = t.centre[cell].numpy() * dense.centre_std + dense.centre_mean
                if np.abs(got - centre).max() > 1e-4 or float(t.weight[cell]) != 1:
                    print(json.dumps({"ok": False, "image": s["image"], "cell": cell, "centre": centre.tolist(), "got": got.tolist()}))
                    return 1
            elif float(t.weight[cell]) != 0 or float(t.kinds[cell].sum()) != 0:
                print(json.dumps({"ok": False, "image": s["image"], "cell": cell, "empty cell has targets": True}))
                return 1
            checked += 1
    mirror = check_mirror(data, dense, scenes)
    if not mirror["ok"]:
        print(json.dumps(mirror))
        return 1
    print(json.dumps({"ok": True, "images": len(scenes), "cells": checked, "cells_with_objects": cells_with_objects,
                      "kinds": dense.kinds, "colours": dense.colours, "mirror": mirror}))
    return 0


def check_mirror(data: str, dense: DenseLabels, scenes: list) -> dict:
    """train.py --dense-flip: mirrored patches equal the mirrored frame's patches, and mirrored
    targets agree with the targets of the mirrored mask with every centre's y negated (the same
    up to the few boundary pixels where the frame's column → cell map is not symmetric)."""
    import torch
    from preprocess import image_patches
    from train import mirror_patches
    config = dict(CONFIG, image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225])
    p = config["patch_size"]
    worst_patch = 0.0
    cells = same_pairs = 0
    worst_centre = 0.0
    for s in scenes:
        with Image.open(os.path.join(data, s["image"])) as im:
            rgb = im.convert("RGB")
            a = torch.from_numpy(image_patches(rgb, config))
            b = torch.from_numpy(image_patches(rgb.transpose(Image.FLIP_LEFT_RIGHT), config))
        worst_patch = max(worst_patch, float((mirror_patches(a, p) - b).abs().max()))
        t = dense.targets[s["image"]]
        back = dense.mirrored(dense.mirrored(t))
        if any(not torch.equal(x, y) for x, y in zip(back, t)) and not torch.allclose(back.centre, t.centre, atol=1e-5):
            return {"ok": False, "mirror": "mirrored twice is not the original", "image": s["image"]}
        mask = np.asarray(Image.open(os.path.join(data, s["mask"])).convert("L"))[:, ::-1].copy()
        objects = [dict(o, center=[o["center"][0], -o["center"][1], o["center"][2]]) for o in s["objects"]]
        want, got = dense.cell_targets(mask, objects), dense.mirrored(t)
        for c in range(want.pairs.shape[0]):
            cells += 1
            if torch.equal(want.pairs[c], got.pairs[c]):
                same_pairs += 1
                if float(want.weight[c]) > 0:
                    worst_centre = max(worst_centre, float((want.centre[c] - got.centre[c]).abs().max()))
    ok = worst_patch <= 1e-4 and same_pairs >= 0.97 * cells and worst_centre <= 0.25
    return {"ok": ok, "worst_patch": worst_patch, "cells": cells, "same_pairs": same_pairs, "worst_centre_std": worst_centre}


if __name__ == "__main__":
    sys.exit(main())

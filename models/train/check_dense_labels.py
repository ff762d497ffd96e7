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
    print(json.dumps({"ok": True, "images": len(scenes), "cells": checked, "cells_with_objects": cells_with_objects,
                      "kinds": dense.kinds, "colours": dense.colours}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

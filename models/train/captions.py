"""Scene listings as a training task: "List the objects from left to right." → "red ball, yellow
apple, blue cup", built from the export's true boxes (scenes.jsonl) and masks.

Why: a VLM's language model must first learn to read its visual tokens (LLaVA's first stage trains
on captions for this). Trained on the spatial questions alone, the tiny Cobra answered every val
question identically for any frame: the question gives a prior that lowers the loss at once, the
Mamba learns to let the frame's state decay before the answer, and once it does, no gradient
reaches the tokens again. A listing cannot be guessed from its question: every word of the answer
needs the frame, left to right needs each object's place and near to far its distance, the
relations the spatial questions ask about. It is a training task only; the engine does not parse
this question.
"""
from __future__ import annotations

import json
import math
import os
from typing import Dict, List, Tuple

import numpy as np
from PIL import Image

QUESTIONS = {
    "caption_left_to_right": "List the objects from left to right.",
    "caption_near_to_far": "List the objects from near to far.",
}
# One record per visible object: "Where is the red ball?" -> "column 3, row 5", the cell of the
# model's token grid (1-based, the frame stretched to the square image) that holds the middle of its
# mask. It needs one lookup (the named object's cell), where a relation needs two and a comparison.
LOCATE = "caption_locate"
KINDS = tuple(QUESTIONS) + (LOCATE,)


def read_mask(data: str, scene: dict) -> np.ndarray:
    with Image.open(os.path.join(data, scene["mask"])) as im:
        return np.asarray(im.convert("L"))


def visible_objects(mask: np.ndarray, scene: dict, min_pixels: int) -> List[dict]:
    """The scene's objects with at least min_pixels mask pixels (an object hidden behind another is not listed)."""
    counts = np.bincount(mask.ravel(), minlength=len(scene["objects"]) + 1)
    return [o for o in scene["objects"] if counts[o["mask_value"]] >= min_pixels]


def cell_of(mask: np.ndarray, value: int, grid: int) -> str:
    """"column c, row r" (1-based) of the grid cell holding the mean pixel of this object's mask."""
    rows, cols = np.nonzero(mask == value)
    H, W = mask.shape
    return f"column {int(cols.mean() * grid // W) + 1}, row {int(rows.mean() * grid // H) + 1}"


def listing(objects: List[dict], kind: str) -> str:
    """The answer: "colour kind" of each object in order, comma separated. Spatial frame: x away, y left."""
    if kind == "caption_left_to_right":
        key = lambda o: -math.atan2(o["center"][1], o["center"][0])  # bearing, leftmost first  # noqa: E731
    else:
        key = lambda o: math.hypot(o["center"][0], o["center"][1])  # noqa: E731
    return ", ".join(f"{o['color']} {o['kind']}" for o in sorted(objects, key=key))


def caption_records(data: str, min_pixels: int = 200, kinds: Tuple[str, ...] = tuple(QUESTIONS), grid: int = 7
                    ) -> Dict[str, List[dict]]:
    """Per split, one record per scene image and listing (and per visible object with LOCATE in
    kinds): {"image", "question", "answer", "type"}. `grid`: cells per side of the token grid."""
    out: Dict[str, List[dict]] = {"train": [], "val": [], "test": []}
    path = os.path.join(data, "scenes.jsonl")
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        scenes = [json.loads(line) for line in f if line.strip()]
    for s in scenes:
        if "mask" not in s or not all("center" in o for o in s["objects"]):
            continue
        mask = read_mask(data, s)
        seen = visible_objects(mask, s, min_pixels)
        if not seen:
            continue
        split = out.setdefault(s.get("split", "train"), [])
        for kind in kinds:
            if kind == LOCATE:
                split += [{"image": s["image"], "question": f"Where is the {o['color']} {o['kind']}?",
                           "answer": cell_of(mask, o["mask_value"], grid), "type": kind} for o in seen]
            else:
                split.append({"image": s["image"], "question": QUESTIONS[kind], "answer": listing(seen, kind), "type": kind})
    return out

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
from typing import Dict, List

import numpy as np
from PIL import Image

QUESTIONS = {
    "caption_left_to_right": "List the objects from left to right.",
    "caption_near_to_far": "List the objects from near to far.",
}


def visible_objects(data: str, scene: dict, min_pixels: int) -> List[dict]:
    """The scene's objects with at least min_pixels mask pixels (an object hidden behind another is not listed)."""
    with Image.open(os.path.join(data, scene["mask"])) as im:
        counts = np.bincount(np.asarray(im.convert("L")).ravel(), minlength=len(scene["objects"]) + 1)
    return [o for o in scene["objects"] if counts[o["mask_value"]] >= min_pixels]


def listing(objects: List[dict], kind: str) -> str:
    """The answer: "colour kind" of each object in order, comma separated. Spatial frame: x away, y left."""
    if kind == "caption_left_to_right":
        key = lambda o: -math.atan2(o["center"][1], o["center"][0])  # bearing, leftmost first  # noqa: E731
    else:
        key = lambda o: math.hypot(o["center"][0], o["center"][1])  # noqa: E731
    return ", ".join(f"{o['color']} {o['kind']}" for o in sorted(objects, key=key))


def caption_records(data: str, min_pixels: int = 200) -> Dict[str, List[dict]]:
    """Per split, one record per scene image and listing: {"image", "question", "answer", "type"}."""
    out: Dict[str, List[dict]] = {"train": [], "val": [], "test": []}
    path = os.path.join(data, "scenes.jsonl")
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        scenes = [json.loads(line) for line in f if line.strip()]
    for s in scenes:
        if "mask" not in s or not all("center" in o for o in s["objects"]):
            continue
        seen = visible_objects(data, s, min_pixels)
        if not seen:
            continue
        for kind, q in QUESTIONS.items():
            out.setdefault(s.get("split", "train"), []).append({"image": s["image"], "question": q, "answer": listing(seen, kind), "type": kind})
    return out

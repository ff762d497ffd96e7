"""A tiny VQA export in the layout of `spatial-reward export vqa` (notes: "VQA export layout"),
for tests and smoke runs before the real exporter lands. Not training data for the shipped model.

    /usr/bin/python3 models/train/synthetic_vqa.py --out DIR [--scenes 40] [--seed 1]

Each scene is a grey frame with two or three coloured boxes; questions have answers that
follow from the pixels (colour of the leftmost box, left-of yes/no, count, a horizontal gap in
pixels as a quantitative answer), split by scene seed. progress.jsonl holds short episodes of a
box sliding right, progress = fraction of the way.
"""
from __future__ import annotations

import argparse
import json
import os
import random

from PIL import Image, ImageDraw

COLOURS = {"red": (220, 40, 40), "green": (40, 180, 60), "blue": (50, 80, 220), "yellow": (230, 210, 40)}


def scene(rng: random.Random, w: int, h: int):
    names = rng.sample(sorted(COLOURS), rng.choice([2, 3]))
    boxes = []
    xs = sorted(rng.sample(range(4, w - 20, 6), len(names)))
    rng.shuffle(names)
    for name, x in zip(names, xs):
        y = rng.randrange(4, h - 20)
        s = rng.randrange(10, 18)
        boxes.append((name, x, y, s))
    img = Image.new("RGB", (w, h), (128 + rng.randrange(-20, 20),) * 3)
    d = ImageDraw.Draw(img)
    for name, x, y, s in boxes:
        d.rectangle([x, y, x + s, y + s], fill=COLOURS[name])
    return img, boxes


def questions(rng: random.Random, boxes):
    qs = []
    left = min(boxes, key=lambda b: b[1])
    qs.append(("What colour is the leftmost box?", left[0], "choice", {"choice": left[0]}))
    a, b = rng.sample(boxes, 2)
    yes = a[1] < b[1]
    qs.append((f"Is the {a[0]} box left of the {b[0]} box?", "Yes." if yes else "No.", "left_predicate", {"boolean": yes}))
    qs.append(("How many boxes are there?", str(len(boxes)), "count", {"value": len(boxes)}))
    gap = abs(a[1] - b[1])
    qs.append((f"How far apart are the {a[0]} and {b[0]} boxes?", f"{gap} px", "distance", {"value": gap, "unit": "px"}))
    return qs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--scenes", type=int, default=40)
    ap.add_argument("--episodes", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--width", type=int, default=96)
    ap.add_argument("--height", type=int, default=72)
    a = ap.parse_args()
    os.makedirs(os.path.join(a.out, "images"), exist_ok=True)
    n_q = 0
    with open(os.path.join(a.out, "vqa.jsonl"), "w") as f:
        for i in range(a.scenes):
            seed = a.seed * 100_000 + i
            rng = random.Random(seed)
            img, boxes = scene(rng, a.width, a.height)
            iid = f"s{i:05d}"
            img.save(os.path.join(a.out, "images", f"{iid}.png"))
            split = "val" if i % 5 == 4 else "train"
            for k, (q, ans, qt, val) in enumerate(questions(rng, boxes)):
                rec = {"id": f"{iid}-q{k}", "image": f"images/{iid}.png",
                       "conversations": [{"from": "human", "value": f"<image>\n{q}"}, {"from": "gpt", "value": ans}],
                       "question_type": qt, "answer": {"status": "ok", **val}, "short_answer": ans, "scene_seed": seed,
                       "split": split}
                f.write(json.dumps(rec) + "\n")
                n_q += 1
    with open(os.path.join(a.out, "progress.jsonl"), "w") as f:
        for e in range(a.episodes):
            rng = random.Random(a.seed * 7_000 + e)
            frames = 8
            for t in range(frames):
                img = Image.new("RGB", (a.width, a.height), (120, 120, 120))
                x = 4 + int((a.width - 24) * t / (frames - 1))
                ImageDraw.Draw(img).rectangle([x, 30, x + 14, 44], fill=COLOURS[rng.choice(sorted(COLOURS))])
                name = f"images/e{e:03d}_f{t:03d}.png"
                img.save(os.path.join(a.out, name))
                f.write(json.dumps({"image": name, "episode": e, "frame": t, "progress": t / (frames - 1),
                                    "task": "slide the box right", "split": "val" if e % 4 == 3 or (e == a.episodes - 1 and a.episodes > 1) else "train"}) + "\n")
    with open(os.path.join(a.out, "meta.json"), "w") as f:
        json.dump({"format": "spatial-reward-vqa", "version": 1, "counts": {"questions": n_q, "scenes": a.scenes},
                   "seeds": [a.seed], "camera": {"width": a.width, "height": a.height},
                   "generator": "models/train/synthetic_vqa.py"}, f)


if __name__ == "__main__":
    main()

"""Fit the progress head on whole scripted episodes as the runtime serves them (the last stage).

    /usr/bin/python3 models/train/fit_progress_head.py --model OUT/model --data DIR [--out OUT/model]

The runtime pushes a camera stream's frames into one recurrent state and reads the progress head
on the last visual token of each frame (models/README.md), so what the head sees at frame t is
the state after frames 0..t of the episode. train.py trains the head on short windows (a long
window is a long sequential scan, too slow inside the VQA training loop), which leaves it
unfit for states after 30 frames: measured on a stage-1 checkpoint, the trained head gave a
constant on held-out episodes, while a linear read-out fitted on whole-episode states ranked
frames by progress with a per-episode Spearman of 0.94. Progress is a property of the
episode so far (lifted, carried, set down), which the state integrates; one frame alone does
not show it (the same fit on single-frame states found nothing).

So this stage computes, with the model frozen, the state of every training episode frame by
frame from zero (vision → projector → prefill, exactly the runtime's per-frame prefill) and
fits `progress_head` (the contract's linear [1, d_model] head, sigmoid output) by binary cross
entropy to the ground-truth progress, full batch, then reports Spearman on the val episodes
(pooled over all frames and the mean over episodes) and writes the model. Only the two head
tensors change.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Dict, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402

from cobra import Cobra  # noqa: E402
from model_io import load_model, save_model  # noqa: E402
from preprocess import image_patches  # noqa: E402
from train import episodes_of, log, spearman  # noqa: E402


@torch.no_grad()
def episode_states(model: Cobra, config: dict, data: str, episode: List[dict]) -> torch.Tensor:
    """The hidden state (after norm_f) at each frame's last visual token, the frames prefilled in
    order into one state from zero: [frames, d_model]."""
    patches = []
    for f in episode:
        with Image.open(os.path.join(data, f["image"])) as im:
            patches.append(torch.from_numpy(image_patches(im, config)))
    vis = model.visual_tokens(torch.stack(patches))  # [W, V, D]
    V = vis.shape[1]
    hidden, _ = model.mamba(vis.reshape(1, -1, vis.shape[-1]))
    return hidden[0, V - 1::V].clone()


def states_of(model: Cobra, config: dict, data: str, episodes: List[List[dict]], what: str) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
    xs, ys = [], []
    t0 = time.time()
    for i, ep in enumerate(episodes):
        xs.append(episode_states(model, config, data, ep))
        ys.append(torch.tensor([float(f["progress"]) for f in ep]))
        if (i + 1) % 10 == 0 or i + 1 == len(episodes):
            log(f"{what}: episode {i + 1}/{len(episodes)} ({(time.time() - t0) / (i + 1):.1f} s each)")
    return xs, ys


def figures(pred: List[np.ndarray], truth: List[np.ndarray]) -> Dict[str, float]:
    p, t = np.concatenate(pred), np.concatenate(truth)
    return {"episodes": len(pred), "frames": int(len(p)), "spearman": spearman(p, t),
            "spearman_per_episode_mean": float(np.mean([spearman(a, b) for a, b in zip(pred, truth)])),
            "mae": float(np.abs(p - t).mean())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="model folder (train.py's OUT/model)")
    ap.add_argument("--data", required=True, help="VQA export with progress.jsonl")
    ap.add_argument("--out", help="where to write the model (default: --model, in place)")
    ap.add_argument("--iterations", type=int, default=3000)
    ap.add_argument("--lr", type=float, default=1e-2)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-episodes", type=int, default=0, help="at most this many train episodes (0 = all)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model, config = load_model(a.model)
    if not config.get("progress_head"):
        raise SystemExit(f"{a.model}: config.json has no progress head (progress_head: true)")
    model.eval()
    with open(os.path.join(a.model, "tokenizer.json"), encoding="utf-8") as f:
        tok_json = json.load(f)
    with open(os.path.join(a.data, "progress.jsonl"), encoding="utf-8") as f:
        frames = [json.loads(line) for line in f if line.strip()]
    train = episodes_of([r for r in frames if r.get("split") == "train"])
    val = episodes_of([r for r in frames if r.get("split") == "val"])
    if a.max_episodes > 0:
        train = train[:a.max_episodes]
    if not train:
        raise SystemExit(f"{a.data}/progress.jsonl has no train episodes")
    t0 = time.time()
    xs, ys = states_of(model, config, a.data, train, "train states")
    vxs, vys = states_of(model, config, a.data, val, "val states") if val else ([], [])

    head = model.progress_head
    with torch.no_grad():
        before = [torch.sigmoid(head(x)).squeeze(-1).numpy() for x in vxs]
    X, y = torch.cat(xs), torch.cat(ys)
    opt = torch.optim.AdamW(head.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    for it in range(a.iterations):
        loss = F.binary_cross_entropy_with_logits(head(X).squeeze(-1), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        after = [torch.sigmoid(head(x)).squeeze(-1).numpy() for x in vxs]
    report = {"train_episodes": len(train), "train_frames": int(len(y)), "train_bce": float(loss),
              "seconds": time.time() - t0}
    if vxs:
        truth = [v.numpy() for v in vys]
        report["val_before"] = figures(before, truth)
        report["val_after"] = figures(after, truth)
    out = a.out or a.model
    save_model(out, model, tok_json, trained=True)
    log(f"wrote {out}")
    print(json.dumps(report))


if __name__ == "__main__":
    main()

"""Training throughput, before/after side by side on the same batches (JSON on stdout).

    /usr/bin/python3 models/train/bench_train.py --data /tmp/vqa40 [--steps 3] [--threads 2]

"before": the previous training step (every question its own sequence: vision, projector and
prefill of the 49 visual tokens per question; the reference scan loop; patches decoded on first
use). "after": train.py's step (lm_loss_grouped: each image once; the fused scan; patches
preloaded). Both run the same batches (train.py's image-grouped order: --batch questions,
--questions-per-image per image), the progress loss on the same frames, backward, clipping and
an AdamW step, on one model with the same weights; steps alternate before/after so load on the
machine hits both alike. samples/s counts questions.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import cobra  # noqa: E402
import train  # noqa: E402
from tokenizer import ByteBPE, default_tokenizer_json  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--questions-per-image", type=int, default=16)
    ap.add_argument("--progress-batch", type=int, default=8)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    config = dict(train.TINY_CONFIG)
    tok = ByteBPE(default_tokenizer_json())
    ex = train.Examples(a.data, config, tok, 32)
    model = cobra.Cobra(config)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    rng = random.Random(0)
    order = train.image_grouped_order(ex.vqa["train"], a.questions_per_image, rng)
    frames = ex.progress["train"]

    def step(mode: str, items, fr) -> dict:
        t0 = time.time()
        if mode == "before":
            cobra.SCAN["impl"] = cobra.selective_scan_reference_inputs
            patches, ids, tgt, _ = train.vqa_batch(ex, items, tok.pad_id)
            loss, _, _ = train.lm_loss(model, patches, ids, tgt)
        else:
            cobra.SCAN["impl"] = cobra.selective_scan
            loss, _, _, _ = train.lm_loss_grouped(model, ex, items, tok.pad_id)
        total = loss
        if fr:
            total = loss + 0.5 * train.progress_loss(model, ex, fr)[0]
        opt.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return {"seconds": time.time() - t0, "loss": float(loss)}

    # "before" decoded each image on first use (a per-image dict): time that on a cold cache too.
    t = time.time()
    n_img, n_bytes, _ = ex.preload()
    preload_s = time.time() - t
    runs = {"before": [], "after": []}
    for s in range(a.steps):
        items = [ex.vqa["train"][i] for i in order[s * a.batch:(s + 1) * a.batch]]
        fr = [frames[(s * a.progress_batch + j) % len(frames)] for j in range(a.progress_batch)] if frames else []
        state = {k: v.clone() for k, v in model.state_dict().items()}
        opt_state = opt.state_dict()
        for mode in ("before", "after") if s % 2 == 0 else ("after", "before"):
            model.load_state_dict(state)
            opt.load_state_dict(opt_state)
            r = step(mode, items, fr)
            r["images"] = len({it["image"] for it in items})
            runs[mode].append(r)
            sys.stderr.write(f"step {s} {mode}: {r['seconds']:.2f} s loss {r['loss']:.5f}\n")
    out = {"threads": a.threads, "batch": a.batch, "questions_per_image": a.questions_per_image,
           "progress_batch": a.progress_batch, "steps": a.steps, "torch": torch.__version__,
           "preload": {"images": n_img, "mb": n_bytes / 1e6, "seconds": preload_s, "ms_per_image": 1e3 * preload_s / max(1, n_img)}}
    for mode, rs in runs.items():
        secs = sum(r["seconds"] for r in rs)
        out[mode] = {"seconds_per_step": [round(r["seconds"], 3) for r in rs], "losses": [r["loss"] for r in rs],
                     "samples_per_s": a.batch * len(rs) / secs,
                     "samples_in_110_min": int(a.batch * len(rs) / secs * 110 * 60)}
    out["speedup"] = out["after"]["samples_per_s"] / out["before"]["samples_per_s"]
    out["max_loss_diff"] = max(abs(x - y) for x, y in zip(out["before"]["losses"], out["after"]["losses"]))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

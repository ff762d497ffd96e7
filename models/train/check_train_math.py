"""Checks that the fast training paths compute the reference math, run by test/train/train_math.test.ts.

    /usr/bin/python3 models/train/check_train_math.py

Prints one JSON object of maximum differences:
- scan_*: selective_scan against selective_scan_reference (the plain loop) on random inputs,
  outputs, final state and every input's gradient;
- grouped_*: lm_loss_grouped (each image encoded once, its state shared by its questions, padded
  text) against lm_loss (every question its own full sequence) on a tiny export and a small
  config: the loss and every parameter's gradient;
- alone_vs_padded: one question's loss alone against in a batch padded to a longer question.
- reread_*: the same for a reread_image model: vqa_loss (each image's state shared, reread rows
  built one by one and padded) against every question as its own full sequence (visual tokens,
  BOS + question, visual tokens again, "\n", answer); and how much the loss moves when the
  reread tokens are zeroed (they must reach the loss).
"""
from __future__ import annotations

import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import cobra  # noqa: E402
from cobra import Cobra, selective_scan, selective_scan_reference_inputs  # noqa: E402
from tokenizer import ByteBPE, default_tokenizer_json  # noqa: E402
import train  # noqa: E402

SMALL = {
    **train.TINY_CONFIG, "image_size": 64, "patch_size": 16,
    "encoders": [{"name": "dino", "width": 16, "depth": 1, "heads": 2, "mlp_ratio": 2},
                 {"name": "siglip", "width": 8, "depth": 1, "heads": 1, "mlp_ratio": 2}],
    "projector": {"hidden": 32, "token_pool": 2}, "d_model": 32, "n_layer": 2, "d_state": 8, "dt_rank": 4,
}


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / (1.0 + b.abs().max()))


def scan_check(B: int, T: int, E: int, N: int, seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    # Δ spread over softplus's range, a few large; A = −exp(A_log) as initialised, perturbed.
    delta = torch.nn.functional.softplus(3 * torch.randn(B, T, E, generator=g) - 2)
    leaves = [delta, torch.randn(B, T, E, generator=g), torch.randn(B, T, N, generator=g), torch.randn(B, T, N, generator=g),
              -torch.exp(torch.log(torch.arange(1, N + 1.0)).expand(E, N) + 0.3 * torch.randn(E, N, generator=g)),
              torch.randn(B, E, N, generator=g)]
    outs = []
    for f in (selective_scan, selective_scan_reference_inputs):
        xs = [v.clone().requires_grad_() for v in leaves]
        y, h = f(*xs)
        w = torch.randn(y.shape, generator=torch.Generator().manual_seed(seed + 1))
        ((y * w).sum() + (h * h).sum()).backward()
        outs.append((y.detach(), h.detach(), [x.grad for x in xs]))
    (y1, h1, g1), (y0, h0, g0) = outs
    return {"y": rel(y1, y0), "h": rel(h1, h0), "grad": max(rel(a, b) for a, b in zip(g1, g0))}


def grouped_check() -> dict:
    with tempfile.TemporaryDirectory() as d:
        import subprocess
        subprocess.run([sys.executable, os.path.join(HERE, "synthetic_vqa.py"), "--out", d, "--scenes", "3", "--episodes", "1"], check=True)
        tok = ByteBPE(default_tokenizer_json())
        ex = train.Examples(d, SMALL, tok, 32)
        ex.preload()
        items = ex.vqa["train"] + ex.vqa["val"]  # 3 images × 4 questions of different lengths
        torch.manual_seed(0)
        model = Cobra(SMALL)
        model.reset_parameters(3)
        cobra.SCAN["impl"] = selective_scan_reference_inputs
        patches, ids, tgt, _ = train.vqa_batch(ex, items, tok.pad_id)
        ref, n_ref, ok_ref = train.lm_loss(model, patches, ids, tgt)
        ref.backward()
        g_ref = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
        model.zero_grad(set_to_none=True)
        cobra.SCAN["impl"] = selective_scan
        got, n_got, ok_got, _ = train.lm_loss_grouped(model, ex, items, tok.pad_id)
        got.backward()
        g_got = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
        vision_grads = [n for n in g_got if n.startswith("vision.") and float(g_got[n].abs().max()) > 0]
        short = min(items, key=lambda it: len(it["prompt"]) + len(it["answer"]))
        long = max(items, key=lambda it: len(it["prompt"]) + len(it["answer"]))
        with torch.no_grad():
            alone = train.lm_loss_grouped(model, ex, [short], tok.pad_id)[0]
            # Both rows of the padded batch are weighted by their answer tokens; recover the short one's loss.
            pair = [short, long]
            both, n_both, _, _ = train.lm_loss_grouped(model, ex, pair, tok.pad_id)
            other = train.lm_loss_grouped(model, ex, [long], tok.pad_id)[0]
            n_short, n_long = len(short["answer"]), len(long["answer"])
            short_in_pair = (both * n_both - other * n_long) / n_short
        return {
            "loss": abs(float(got) - float(ref)), "loss_value": float(ref),
            "grad": max(rel(g_got[n], g_ref[n]) for n in g_ref), "grad_names_equal": sorted(g_got) == sorted(g_ref),
            "answer_tokens_equal": n_ref == n_got and ok_ref == ok_got, "vision_params_with_grad": len(vision_grads),
            "items": len(items), "images": len({it["image"] for it in items}),
            "lengths": sorted({len(it["prompt"]) + len(it["answer"]) for it in items}),
            "alone_vs_padded": abs(float(short_in_pair) - float(alone)),
        }


def reread_check() -> dict:
    with tempfile.TemporaryDirectory() as d:
        import subprocess
        subprocess.run([sys.executable, os.path.join(HERE, "synthetic_vqa.py"), "--out", d, "--scenes", "3", "--episodes", "1"], check=True)
        tok = ByteBPE(default_tokenizer_json())
        config = {**SMALL, "reread_image": True}
        ex = train.Examples(d, config, tok, 32)
        ex.preload()
        items = ex.vqa["train"] + ex.vqa["val"]
        torch.manual_seed(0)
        model = Cobra(config)
        model.reset_parameters(4)
        # Reference: each question alone, one sequence from the zero state, loss weighted by answer tokens.
        total, n_ref = None, 0
        for it in items:
            vis = model.visual_tokens(ex.patches(it["image"]).unsqueeze(0))[0]
            prompt = model.reread_prompt(torch.tensor(it["question"]), vis, torch.tensor(it["end"]))
            seq = torch.cat([vis, prompt, model.embed(torch.tensor(it["answer"]))], dim=0).unsqueeze(0)
            hidden, _ = model.mamba(seq)
            a0 = vis.shape[0] + prompt.shape[0]
            logits = model.logits(hidden[0, a0 - 1:a0 - 1 + len(it["answer"])])
            li = torch.nn.functional.cross_entropy(logits, torch.tensor(it["answer"]), reduction="sum")
            total = li if total is None else total + li
            n_ref += len(it["answer"])
        ref = total / n_ref
        ref.backward()
        g_ref = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
        model.zero_grad(set_to_none=True)
        got = train.vqa_loss(model, ex, items, tok.pad_id)
        got.loss.backward()
        g_got = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
        with torch.no_grad():
            vs = train.visual_states(model, ex, [items[0]["image"]])
            embeds, tgt, _ = train.reread_batch(model, [items[0]], vs.tokens, tok.pad_id)
            zeroed, _, _ = train.reread_batch(model, [items[0]], [torch.zeros_like(vs.tokens[0])], tok.pad_id)
            logit = [model.logits(model.mamba(e, (vs.conv, vs.ssm))[0]) for e in (embeds, zeroed)]
            mask = tgt != -100
        return {
            "loss": abs(float(got.loss) - float(ref)), "loss_value": float(ref),
            "grad": max(rel(g_got[n], g_ref[n]) for n in g_ref), "grad_names_equal": sorted(g_got) == sorted(g_ref),
            "answer_tokens_equal": got.answer_tokens == n_ref, "items": len(items),
            "zeroed_tokens_logit_change": float((logit[0][mask] - logit[1][mask]).abs().max()),
        }


def main() -> None:
    torch.set_num_threads(1)
    out = {"scan_text": scan_check(6, 37, 24, 8, 1), "scan_visual": scan_check(2, 49, 16, 16, 2),
           "scan_one_token": scan_check(3, 1, 8, 4, 3), "grouped": grouped_check(), "reread": reread_check()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""Coarse-to-fine parity input/output for test/train/c2f_parity.test.ts.

    /usr/bin/python3 models/train/c2f_parity.py DIR

DIR holds a model folder written by TypeScript (config.json with coarse_to_fine,
model.safetensors, tokenizer.json), input.json {"width", "height", "question_ids"}, the raw rgb8
image in image.rgb and the TypeScript preprocessor's fine and coarse patches in patches.f32 and
coarse.f32 (little-endian f32). Runs Cobra.c2f_encode on the TypeScript patches as a batch of
two members: the first without a question, the second with the mean embedding of question_ids
(computed here, as the runtime's setQuestion does). Writes DIR/torch_c2f.json: per member the
kept patches, scores, cell counts, every cell's token and the laid-out tokens, the question row,
and how far Python's coarse patches (from the TypeScript fine patches, and from its own PIL
preprocessing of the image) are from TypeScript's, and what training relies on: where the
gradient of the tokens goes (not through the selection) and train.prefill_each (images of
different token counts) against prefilling each image alone.
"""
from __future__ import annotations

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from model_io import load_model  # noqa: E402
from preprocess import coarse_patches, rgb8_coarse_patches  # noqa: E402
import train  # noqa: E402


def training_checks(model, patches: torch.Tensor, coarse: torch.Tensor, rows: torch.Tensor) -> dict:
    g = torch.Generator().manual_seed(3)
    out = model.c2f_encode(patches, coarse, rows)
    loss = sum((t * torch.randn(t.shape, generator=g)).sum() for t in out.tokens)
    loss.backward()

    def grad_abs(name: str) -> float:
        p = dict(model.named_parameters())[name]
        return 0.0 if p.grad is None else float(p.grad.abs().max())

    kept = set(out.kept.flatten().tolist())
    pe = dict(model.named_parameters())["vision.dino.pos_embed"].grad
    rows_with_grad = set(torch.nonzero(pe.abs().sum(-1)).flatten().tolist())
    with torch.no_grad():
        tokens = [out.tokens[0].detach(), out.tokens[1].detach(), out.tokens[0].detach() + 0.1 * torch.randn(out.tokens[0].shape, generator=g)]
        conv, ssm = train.prefill_each(model, tokens)
        alone = [model.mamba(t.unsqueeze(0))[1] for t in tokens]
        prefill = max(max(float((conv[i] - a[0][0]).abs().max()), float((ssm[i] - a[1][0]).abs().max())) for i, a in enumerate(alone))
    return {
        "grad_score": grad_abs("c2f.score.weight"), "grad_pos_embed_coarse": grad_abs("vision.dino.pos_embed_coarse"),
        "grad_merge_token": grad_abs("c2f.merge_token"), "grad_count_embed": grad_abs("c2f.count_embed"),
        "grad_projector": grad_abs("projector.fc1.weight"), "grad_patch_embed": grad_abs("vision.dino.patch_embed.weight"),
        "pos_embed_rows_with_grad_outside_kept": len(rows_with_grad - kept), "pos_embed_rows_with_grad": len(rows_with_grad),
        "kept_union": len(kept), "token_counts": [t.shape[0] for t in tokens], "prefill_each_vs_alone": prefill,
    }


def main(d: str) -> None:
    torch.set_num_threads(1)
    model, config = load_model(d)
    model.eval()
    with open(os.path.join(d, "input.json"), encoding="utf-8") as f:
        inp = json.load(f)
    s = model.sizes
    fine = np.fromfile(os.path.join(d, "patches.f32"), dtype="<f4").reshape(s.patches, s.patch_dim)
    ts_coarse = np.fromfile(os.path.join(d, "coarse.f32"), dtype="<f4").reshape(s.coarse_patches, s.patch_dim)
    with open(os.path.join(d, "image.rgb"), "rb") as f:
        rgb = f.read()

    py_coarse = coarse_patches(fine, config)
    pil_coarse = rgb8_coarse_patches(rgb, inp["width"], inp["height"], config)

    with torch.no_grad():
        ids = torch.tensor(inp["question_ids"], dtype=torch.long)
        question = model.embed(ids).double().mean(0).float()  # summed in double, as setQuestion
        patches = torch.from_numpy(fine.copy()).unsqueeze(0).repeat(2, 1, 1)
        coarse = torch.from_numpy(py_coarse).unsqueeze(0).repeat(2, 1, 1)
        rows = torch.stack([torch.zeros_like(question), question])
        out = model.c2f_encode(patches, coarse, rows)

    training = training_checks(model, patches, coarse, rows)
    res = {
        "training": training,
        "kept": out.kept.tolist(),
        "scores": out.scores.tolist(),
        "counts": out.counts.tolist(),
        "cell_tokens": out.cell_tokens.flatten(1).tolist(),
        "tokens": [t.flatten().tolist() for t in out.tokens],
        "question": question.tolist(),
        "kept_count": model.kept_count(),
        "coarse_from_ts_fine_max_abs": float(np.abs(py_coarse - ts_coarse).max()),
        "coarse_pil_max_abs": float(np.abs(pil_coarse - ts_coarse).max()),
    }
    with open(os.path.join(d, "torch_c2f.json"), "w", encoding="utf-8") as f:
        json.dump(res, f)


if __name__ == "__main__":
    main(sys.argv[1])

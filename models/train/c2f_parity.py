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
preprocessing of the image) are from TypeScript's.
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

    res = {
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

"""Parity check input/output for test/backbone/torch_parity.test.ts.

    /usr/bin/python3 models/train/parity.py DIR

DIR holds a model folder written by TypeScript (config.json, model.safetensors,
tokenizer.json) and input.json: {"question", "width", "height", "prompt_ids"} with the raw rgb8
image in image.rgb and the TypeScript preprocessor's patches in patches.f32 ([P, 3p²] little-
endian f32). Writes DIR/torch_out.json: the model's outputs on the TypeScript patches (so the
comparison isolates the model), the Python preprocessing of the same image and how far it is
from TypeScript's, the Python tokenizer's ids for the question, and DIR/roundtrip/model.safetensors
(the weights read and written back, which must be byte-equal to the TypeScript file).

With "reread_dir" in input.json (a folder beside, the same weights with `reread_image: true`) it
also loads that model and computes a reread_image answer's first token as training does
(models/train/train.py `greedy`): from the state after the frame's visual tokens, the prompt
`Cobra.reread_prompt` (BOS + question, the visual tokens again, "\n") through `Cobra.mamba`, then
the logits at the "\n". Once with the full encoder's tokens, once with coarse-to-fine's (kept
cells + merge token, on the TypeScript coarse patches in coarse.f32, no question guide).
"""
from __future__ import annotations

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from model_io import WEIGHTS_FILE, load_model, read_safetensors, write_safetensors  # noqa: E402
from preprocess import rgb8_patches, rgb8_patches_uint8_pil  # noqa: E402
from tokenizer import ByteBPE, default_tokenizer_json  # noqa: E402


def main(d: str) -> None:
    torch.set_num_threads(1)
    model, config = load_model(d)
    model.eval()
    tok = ByteBPE.from_file(os.path.join(d, "tokenizer.json"))
    with open(os.path.join(d, "input.json"), encoding="utf-8") as f:
        inp = json.load(f)
    P = model.sizes.patches
    ts_patches = np.fromfile(os.path.join(d, "patches.f32"), dtype="<f4").reshape(P, model.sizes.patch_dim)
    with open(os.path.join(d, "image.rgb"), "rb") as f:
        rgb = f.read()

    py_patches = rgb8_patches(rgb, inp["width"], inp["height"], config)
    py_u8 = rgb8_patches_uint8_pil(rgb, inp["width"], inp["height"], config)

    # The prompt as the runtime builds it (src/backbone/prompt.ts): BOS + question.trim() + "\n".
    ids = [tok.bos_id] + tok.encode(inp["question"].strip() + "\n")

    with torch.no_grad():
        patches = torch.from_numpy(ts_patches.copy()).unsqueeze(0)
        features = model.vision_features(patches)
        tokens = model.projector(model.pool(features))
        hidden_v, state = model.mamba(tokens)  # prefill of the visual tokens from a zero state
        progress = model.progress(hidden_v[:, -1]) if config.get("progress_head") else None
        prompt = torch.tensor([inp["prompt_ids"]], dtype=torch.long)
        hidden_q, state_q = model.mamba(model.embed(prompt), state)  # prefill of the prompt from that state
        logits = model.logits(hidden_q[:, -1])
        # One sequence from a zero state must give the same (what training computes).
        whole, _ = model.mamba(torch.cat([tokens, model.embed(prompt)], dim=1))
        split_vs_whole = float((whole[:, -1] - hidden_q[:, -1]).abs().max())

    tensors, meta = read_safetensors(os.path.join(d, WEIGHTS_FILE))
    os.makedirs(os.path.join(d, "roundtrip"), exist_ok=True)
    write_safetensors(os.path.join(d, "roundtrip", WEIGHTS_FILE), tensors, meta)

    out = {
        "features": features[0].flatten().tolist(),
        "tokens": tokens[0].flatten().tolist(),
        "hidden_visual": hidden_v[0, -1].tolist(),
        "progress": None if progress is None else float(progress[0]),
        "conv_state": state[0][0].flatten().tolist(),
        "ssm_state": state[1][0].flatten().tolist(),
        "hidden_prompt": hidden_q[0, -1].tolist(),
        "logits": logits[0].tolist(),
        "split_vs_whole": split_vs_whole,
        "prompt_ids_python": ids,
        "tokenizer_ids": [tok.encode(t) for t in inp.get("tokenizer_texts", [])],
        "preprocess_max_abs": float(np.abs(py_patches - ts_patches).max()),
        "preprocess_uint8_pil_max_abs": float(np.abs(py_u8 - ts_patches).max()),
        "default_tokenizer_json": default_tokenizer_json(),
        "torch": torch.__version__,
    }
    if inp.get("reread_dir"):
        out.update(reread(os.path.join(d, inp["reread_dir"]), d, tok, inp["question"], ts_patches))
    with open(os.path.join(d, "torch_out.json"), "w", encoding="utf-8") as f:
        json.dump(out, f)


def reread(folder: str, d: str, tok: ByteBPE, question: str, ts_patches: np.ndarray) -> dict:
    """The reread_image model's first answer token, full and coarse-to-fine (see the module doc)."""
    model, config = load_model(folder)
    model.eval()
    # train.py's ids: BOS + encode(question stripped), then encode("\n") apart.
    head = [tok.bos_id] + tok.encode(question.strip())
    end = tok.encode("\n")
    out: dict = {"reread_config": bool(config.get("reread_image")), "reread_head_ids": head, "reread_end_ids": end}
    with torch.no_grad():
        patches = torch.from_numpy(ts_patches.copy()).unsqueeze(0)
        variants = {"full": model.visual_tokens(patches)[0]}
        if config.get("coarse_to_fine"):
            s = model.sizes
            coarse = np.fromfile(os.path.join(d, "coarse.f32"), dtype="<f4").reshape(s.coarse_patches, s.patch_dim)
            variants["c2f"] = model.c2f_encode(patches, torch.from_numpy(coarse.copy()).unsqueeze(0)).tokens[0]
        for name, tokens in variants.items():
            _, state = model.mamba(tokens.unsqueeze(0))
            prompt = model.reread_prompt(torch.tensor(head), tokens, torch.tensor(end)).unsqueeze(0)
            hidden, _ = model.mamba(prompt, state)
            logits = model.logits(hidden[:, -1])
            # The plain prompt from the same state: the reread must change the answer's logits.
            plain, _ = model.mamba(model.embed(torch.tensor([head[:1] + tok.encode(question.strip() + "\n")])), state)
            out[f"reread_{name}"] = {
                "tokens": tokens.flatten().tolist(),
                "rows": int(prompt.shape[1]),
                "hidden": hidden[0, -1].tolist(),
                "logits": logits[0].tolist(),
                "plain_logits": model.logits(plain[:, -1])[0].tolist(),
            }
    return out


if __name__ == "__main__":
    main(sys.argv[1])

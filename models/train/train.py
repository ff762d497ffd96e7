"""Train the tiny Cobra on a VQA export (layout: `spatial-reward export vqa`).

    /usr/bin/python3 models/train/train.py --data DIR --out OUT [--minutes 110] [--steps N]

A step is --batch questions in runs of --questions-per-image per image (each image encoded once
per run, lm_loss_grouped) plus --progress-batch progress frames.

Per VQA example the sequence is the frame's visual tokens, BOS, question + "\\n", answer, EOS
(src/backbone/prompt.ts); with --reread-image (config reread_image) the frame's visual tokens are
read again between the question and its "\n" (Cobra.reread_prompt). The loss is next-token
cross-entropy on the answer and EOS only. Per
progress.jsonl frame, the progress head on the last visual token's hidden state is fit with
binary cross-entropy to the soft label. AdamW, linear warm-up then cosine decay over the budget
(steps or minutes, whichever ends first), seeded, 2 threads by default.

With --c2f-prob P (a model with coarse_to_fine), a fraction P of the steps encode their images
coarse-to-fine as the runtime serves them (Cobra.c2f_encode: hard top-K of the current keep
scores, the kept patches encoded, the merge token), and every step adds --c2f-score-weight times
a loss that teaches c2f.score which patches matter (c2f_score_loss); the evaluation then also
reports val_exact_c2f on the same questions. The second training stage:

    /usr/bin/python3 models/train/train.py --data DIR --init OUT/model --out OUT2 --c2f-prob 0.5 --minutes M

Writes OUT/model/ (config.json with trained: true, model.safetensors, tokenizer.json) at the end
and OUT/checkpoint/ every --ckpt-every steps, OUT/metrics.jsonl (one line per logged step and per
evaluation), OUT/curve.png (training loss and validation exact-match accuracy / progress error).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from captions import KINDS as CAPTION_KINDS, caption_records  # noqa: E402
from cobra import Cobra  # noqa: E402
from dense_labels import DenseHead, DenseLabels, DenseTargets, OracleTokens  # noqa: E402
from model_io import load_model, load_training_head, save_model, save_training_heads  # noqa: E402
from preprocess import coarse_patches, image_patches  # noqa: E402
from tokenizer import ByteBPE, default_tokenizer_json, learn_merges, tokenizer_json, tokenizer_vocab_size  # noqa: E402

# src/backbone/config.ts TINY_CONFIG with the progress head on.
TINY_CONFIG = {
    "format": "spatial-reward-cobra", "format_version": 1, "trained": False,
    "image_size": 224, "patch_size": 16,
    "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225],
    "encoders": [
        {"name": "dino", "width": 96, "depth": 2, "heads": 3, "mlp_ratio": 4},
        {"name": "siglip", "width": 64, "depth": 2, "heads": 2, "mlp_ratio": 4},
    ],
    "projector": {"hidden": 256, "token_pool": 2},
    "d_model": 256, "n_layer": 4, "d_state": 16, "d_conv": 4, "expand": 2, "dt_rank": 16,
    "vocab_size": 264, "norm_eps": 1e-5,
    "coarse_to_fine": {"keep_ratio": 0.65, "coarse_depth": 1},
    "tie_embeddings": True, "progress_head": True,
}

IMAGE_TAG = "<image>"
# Ends a question (src/backbone/prompt.ts QUESTION_END).
QUESTION_END = "\n"


def log(msg: str) -> None:
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


# ---------------------------------------------------------------- data


def answer_text(r: dict, answers: str) -> str:
    """The answer the model learns to say: the export's short answer ("Yes", "red mug", "18 cm")
    or the engine's sentence (the gpt turn)."""
    if answers == "short":
        if "short_answer" not in r:
            raise SystemExit("vqa.jsonl has no short_answer: re-export with this version of `spatial-reward export vqa`, or --answers sentence")
        return r["short_answer"]
    return next(c["value"] for c in r["conversations"] if c["from"] == "gpt")


def export_texts(data: str, answers: str) -> List[str]:
    """Every train question and answer of an export: the corpus the tokenizer's merges are learnt from."""
    out: List[str] = []
    with open(os.path.join(data, "vqa.jsonl"), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                if r.get("split", "train") != "train":
                    continue
                human = next(c["value"] for c in r["conversations"] if c["from"] == "human")
                out.append(human.replace(IMAGE_TAG, "", 1).strip() + "\n")
                out.append(answer_text(r, answers))
    return out


class Examples:
    """The export's questions and progress frames, tokenised once; patches cached per image."""

    def __init__(self, data: str, config: dict, tok: ByteBPE, max_answer_tokens: int, cache_fp16: bool = False,
                 answers: str = "short"):
        self.data, self.config, self.tok = data, config, tok
        self.cache: Dict[str, torch.Tensor] = {}
        self.cache_fp16 = cache_fp16
        # --oracle-tokens: "patches" are each cell's ground-truth features (OracleTokens), not pixels.
        self.oracle: Optional[OracleTokens] = None
        self.vqa: Dict[str, List[dict]] = {"train": [], "val": [], "test": []}
        with open(os.path.join(data, "vqa.jsonl"), encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                human = next(c["value"] for c in r["conversations"] if c["from"] == "human")
                answer = answer_text(r, answers)
                q = human.replace(IMAGE_TAG, "", 1).strip()
                prompt = [tok.bos_id] + tok.encode(q + "\n")
                ans = tok.encode(answer.strip())[:max_answer_tokens] + [tok.eos_id]
                # With reread_image the frame's tokens go between the question and its "\n".
                self.vqa.setdefault(r.get("split", "train"), []).append(
                    {"image": r["image"], "prompt": prompt, "question": [tok.bos_id] + tok.encode(q),
                     "end": tok.encode(QUESTION_END), "answer": ans, "answer_text": answer.strip(),
                     "type": r.get("question_type", "")})
        self.progress: Dict[str, List[dict]] = {"train": [], "val": [], "test": []}
        p = os.path.join(data, "progress.jsonl")
        if os.path.exists(p):
            with open(p, encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        r = json.loads(line)
                        self.progress.setdefault(r.get("split", "train"), []).append(r)

    def patches(self, rel: str) -> torch.Tensor:
        if self.oracle is not None:
            return self.oracle.cell_features(rel)
        hit = self.cache.get(rel)
        if hit is None:
            with Image.open(os.path.join(self.data, rel)) as im:
                hit = torch.from_numpy(image_patches(im, self.config))
            if self.cache_fp16:
                hit = hit.half()
            self.cache[rel] = hit
        return hit.float() if hit.dtype != torch.float32 else hit

    def coarse(self, rel: str) -> torch.Tensor:
        """The image's coarse patches [(G/2)², 3p²], from its cached fine patches (not cached:
        the 2×2 average costs ~0.1 ms an image, a cache would add a quarter to the patch memory)."""
        return torch.from_numpy(coarse_patches(self.patches(rel).numpy(), self.config))

    def preload(self) -> Tuple[int, int, float]:
        """Decode and preprocess every image once, so Pillow is off the training loop: (images, bytes, seconds)."""
        t = time.time()
        rels = sorted({it["image"] for v in self.vqa.values() for it in v} | {r["image"] for v in self.progress.values() for r in v})
        for rel in rels:
            self.patches(rel)
        return len(rels), sum(v.numel() * v.element_size() for v in self.cache.values()), time.time() - t


def blas_library() -> str:
    """The BLAS shared library this process mapped (torch's matmuls go through it), or ""."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() or "mkl" in line.lower()}
        return ", ".join(sorted(os.path.basename(x) for x in libs if x.startswith("/")))
    except OSError:
        return ""


def image_grouped_order(items: List[dict], per_image: int, rng: random.Random) -> List[int]:
    """One epoch of indices into items: each image's questions shuffled and cut into runs of at
    most per_image, the runs shuffled, so consecutive indices share an image (one encode per run)."""
    by_image: Dict[str, List[int]] = {}
    for i, it in enumerate(items):
        by_image.setdefault(it["image"], []).append(i)
    runs: List[List[int]] = []
    for rel in sorted(by_image):
        idx = by_image[rel]
        rng.shuffle(idx)
        runs += [idx[k:k + per_image] for k in range(0, len(idx), per_image)]
    rng.shuffle(runs)
    return [i for r in runs for i in r]


def vqa_batch(ex: Examples, items: List[dict], pad_id: int) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """patches [B, P, 3p²], text ids [B, L] (prompt + answer, padded), targets [B, L] (−100 off the answer), lengths."""
    patches = torch.stack([ex.patches(it["image"]) for it in items])
    ids, tgt = text_batch(items, pad_id)
    return patches, ids, tgt, torch.tensor([len(it["prompt"]) for it in items])


def text_batch(items: List[dict], pad_id: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Text ids [B, L] (prompt + answer, padded at the end) and targets [B, L] (−100 off the answer)."""
    L = max(len(it["prompt"]) + len(it["answer"]) for it in items)
    ids = torch.full((len(items), L), pad_id, dtype=torch.long)
    tgt = torch.full((len(items), L), -100, dtype=torch.long)
    for i, it in enumerate(items):
        seq = it["prompt"] + it["answer"]
        ids[i, :len(seq)] = torch.tensor(seq)
        # Position j predicts token j + 1: the answer and EOS are predicted from the last prompt token on.
        a0 = len(it["prompt"])
        tgt[i, a0 - 1:len(seq) - 1] = torch.tensor(it["answer"])
    return ids, tgt


def reread_batch(model: Cobra, items: List[dict], tokens: List[torch.Tensor], pad_id: int
                 ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The reread_image text after each item's frame state: embeds [B, L, D] = BOS + question, the
    frame's visual tokens again, "\n", answer + EOS, padded at the end with the pad embedding;
    targets [B, L] (−100 off the answer) and the text ids [B, L'] (for counting only).

    Rows are built one by one since the visual tokens sit in the middle and coarse-to-fine gives
    frames different token counts; padding only at the end keeps each row exact (causality).
    """
    pad = model.embed(torch.tensor([pad_id]))
    rows: List[torch.Tensor] = []
    spans: List[Tuple[int, List[int]]] = []
    for it, tok in zip(items, tokens):
        q, e, a = (torch.tensor(it[k]) for k in ("question", "end", "answer"))
        prompt = model.reread_prompt(q, tok, e)
        rows.append(torch.cat([prompt, model.embed(a)], dim=0))
        spans.append((prompt.shape[0], it["answer"]))
    L = max(r.shape[0] for r in rows)
    embeds = torch.stack([torch.cat([r, pad.expand(L - r.shape[0], -1)], dim=0) for r in rows])
    tgt = torch.full((len(items), L), -100, dtype=torch.long)
    for i, (a0, ans) in enumerate(spans):
        # Position j predicts token j + 1: the answer is predicted from the "\n" on.
        tgt[i, a0 - 1:a0 - 1 + len(ans)] = torch.tensor(ans)
    ids, _ = text_batch([{"prompt": it["question"] + it["end"], "answer": it["answer"]} for it in items], pad_id)
    return embeds, tgt, ids


def lm_loss(model: Cobra, patches: torch.Tensor, ids: torch.Tensor, tgt: torch.Tensor) -> Tuple[torch.Tensor, int, int]:
    vis = model.visual_tokens(patches)
    V = vis.shape[1]
    hidden, _ = model.mamba(torch.cat([vis, model.embed(ids)], dim=1))
    logits = model.logits(hidden[:, V:])
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=-100)
    mask = tgt != -100
    correct = int(((logits.argmax(-1) == tgt) & mask).sum())
    return loss, int(mask.sum()), correct


def prefill_each(model: Cobra, tokens: List[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
    """The state after prefilling each image's visual tokens [n_i, D] from zero: conv [N, L, E, K],
    ssm [N, L, E, N_s]. Coarse-to-fine gives images different token counts; images with equal
    counts are prefilled as one batch. Padding to one length would not be exact: a pad step of
    an SSM still moves the state (the conv window shifts, h decays by exp(Δ·A) with Δ > 0).
    """
    by_len: Dict[int, List[int]] = {}
    for i, t in enumerate(tokens):
        by_len.setdefault(t.shape[0], []).append(i)
    conv: List[Optional[torch.Tensor]] = [None] * len(tokens)
    ssm: List[Optional[torch.Tensor]] = [None] * len(tokens)
    for idx in by_len.values():
        _, (c, s) = model.mamba(torch.stack([tokens[i] for i in idx]))
        for j, i in enumerate(idx):
            conv[i], ssm[i] = c[j], s[j]
    return torch.stack(conv), torch.stack(ssm)  # type: ignore[arg-type]


def c2f_score_loss(scores: torch.Tensor, fine_features: torch.Tensor) -> torch.Tensor:
    """MSE of the keep scores [B, P] onto a per-image standardised target: each fine patch's mean
    squared distance from the image's mean feature in the full encoding (detached) [B, P, C].

    Why this target: a patch that is not kept is represented only by the merge token, one vector
    that has to stand for every dropped patch of every image, so it can only stand for what
    images have in common, the table and floor around the objects. The patches whose loss
    costs most are those least like the image's average: the objects, their edges and contact
    points, which spatial questions are about. It needs no labels, no second pass through the
    language model and no gradient through the hard top-K (which has none), costs one
    subtraction per patch on features a full step already has, and is deterministic. Top-K only
    ranks, so the target is standardised per image (scale and offset of a frame do not matter).
    Measuring what each patch does to the answer loss (drop-one or gradient saliency) would be
    closer to the goal but costs a forward per patch or a noisy second backward.
    """
    f = fine_features.detach()
    dev = (f - f.mean(dim=1, keepdim=True)).pow(2).mean(dim=-1)  # [B, P]
    target = (dev - dev.mean(dim=1, keepdim=True)) / (dev.std(dim=1, keepdim=True) + 1e-6)
    return F.mse_loss(scores, target)


class VisualStates(NamedTuple):
    conv: torch.Tensor  # [images, L, E, d_conv] after each image's visual tokens
    ssm: torch.Tensor
    score_loss: Optional[torch.Tensor]  # c2f_score_loss when asked for, else None
    tokens: List[torch.Tensor]  # each image's visual tokens [n_i, D], as prefilled (reread_image reads them again)


def visual_states(model: Cobra, ex: Examples, rels: List[str], c2f: bool = False, score_loss: bool = False) -> VisualStates:
    """Each image encoded (full, or coarse-to-fine as served) and its visual tokens prefilled.

    With score_loss, also c2f_score_loss on these images: on a full step from the features it
    computes anyway plus a coarse pass; on a coarse-to-fine step from the scores that selected
    the patches plus a full encoding without gradient (for the target only).
    """
    patches = torch.stack([ex.patches(r) for r in rels])
    if not c2f:
        sl = None
        if score_loss:
            features = model.vision_features(patches)
            tokens = model.projector(model.pool(features))
            coarse = torch.stack([ex.coarse(r) for r in rels])
            sl = c2f_score_loss(model.c2f_scores(model.coarse_features(coarse)), features)
        else:
            tokens = model.visual_tokens(patches)
        _, (conv, ssm) = model.mamba(tokens)
        return VisualStates(conv, ssm, sl, list(tokens.unbind(0)))
    coarse = torch.stack([ex.coarse(r) for r in rels])
    out = model.c2f_encode(patches, coarse)
    conv, ssm = prefill_each(model, out.tokens)
    sl = None
    if score_loss:
        with torch.no_grad():
            features = model.vision_features(patches)
        sl = c2f_score_loss(out.scores, features)
    return VisualStates(conv, ssm, sl, list(out.tokens))


class VqaLoss(NamedTuple):
    loss: torch.Tensor  # answer cross-entropy
    answer_tokens: int
    correct: int
    ids: torch.Tensor
    score_loss: Optional[torch.Tensor]
    rels: List[str]  # the distinct images of the step, in order
    tokens: List[torch.Tensor]  # their visual tokens (for the dense loss)


def vqa_loss(model: Cobra, ex: Examples, items: List[dict], pad_id: int, c2f: bool = False, score_loss: bool = False) -> VqaLoss:
    """lm_loss_grouped, with the images encoded coarse-to-fine when c2f and, with score_loss,
    the keep-score loss of those images (visual_states)."""
    rels: List[str] = []
    slot: Dict[str, int] = {}
    for it in items:
        if it["image"] not in slot:
            slot[it["image"]] = len(rels)
            rels.append(it["image"])
    vs = visual_states(model, ex, rels, c2f, score_loss)
    which = torch.tensor([slot[it["image"]] for it in items])
    if model.config.get("reread_image"):
        embeds, tgt, ids = reread_batch(model, items, [vs.tokens[slot[it["image"]]] for it in items], pad_id)
    else:
        ids, tgt = text_batch(items, pad_id)
        embeds = model.embed(ids)
    hidden, _ = model.mamba(embeds, (vs.conv.index_select(0, which), vs.ssm.index_select(0, which)))
    logits = model.logits(hidden)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=-100)
    mask = tgt != -100
    correct = int(((logits.argmax(-1) == tgt) & mask).sum())
    return VqaLoss(loss, int(mask.sum()), correct, ids, vs.score_loss, rels, vs.tokens)


def lm_loss_grouped(model: Cobra, ex: Examples, items: List[dict], pad_id: int, c2f: bool = False) -> Tuple[torch.Tensor, int, int, torch.Tensor]:
    """lm_loss with each distinct image encoded and prefilled once.

    Vision → projector → prefill of the visual tokens runs once per distinct image; its state
    (conv and ssm, every layer) is indexed out to each of that image's questions, and the text
    (BOS + question + answer + EOS, padded) is prefilled from it as one batch. Splitting the
    prefill at the visual/text boundary is exact (parity.py checks split against whole), and
    the index's backward sums each question's state gradient into its image's, so gradients
    reach the shared encoder once per image. Padding is at the end of each row: by causality a
    pad token only affects later positions, none of which carries a target, so the loss needs
    no mask beyond the −100 targets (the final state, which pads would change, is not used).
    With c2f, the images are encoded coarse-to-fine (visual_states).
    Returns (loss, answer tokens, correct, text ids).
    """
    r = vqa_loss(model, ex, items, pad_id, c2f)
    return r.loss, r.answer_tokens, r.correct, r.ids


def dense_images(ex: Examples, dense: DenseLabels, split: str) -> List[str]:
    """The split's scene images that have dense targets."""
    return sorted({it["image"] for it in ex.vqa.get(split) or [] if it["image"] in dense.targets})


def mirror_patches(patches: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Fine patches [P, 3p²] (grid row-major, each (c, y, x)) of the image mirrored left to right."""
    g = int(round(patches.shape[0] ** 0.5))
    return patches.reshape(g, g, 3, patch_size, patch_size).flip(1).flip(4).reshape(patches.shape)


def tokens_and_targets(model: Cobra, ex: Examples, dense: DenseLabels, rels: List[str],
                       flip: Optional[List[bool]] = None) -> Tuple[torch.Tensor, DenseTargets]:
    """These images' visual tokens (vision → pool → projector, no language model) and their cells'
    dense targets; `flip[i]`: image i and its targets mirrored left to right (--dense-flip)."""
    p = model.config["patch_size"]
    patches = [ex.patches(r) for r in rels]
    if flip is not None:
        patches = [mirror_patches(x, p) if f else x for x, f in zip(patches, flip)]
    tokens = model.visual_tokens(torch.stack(patches))
    t = dense.batch(rels, flip)
    assert t is not None
    return tokens, t


def dense_step_loss(model: Cobra, head: DenseHead, ex: Examples, dense: DenseLabels, rels: List[str],
                    flip: Optional[List[bool]] = None) -> Tuple[torch.Tensor, dict]:
    """The dense loss of these images' visual tokens (tokens_and_targets)."""
    tokens, t = tokens_and_targets(model, ex, dense, rels, flip)
    return head.loss(tokens, t)


def dense_pretrain(model: Cobra, head: DenseHead, ex: Examples, dense: DenseLabels, minutes: float, max_steps: int, batch: int,
                   lr: float, rng: random.Random, metrics, flip_prob: float = 0.0) -> None:
    """The first stage of a run with --dense-minutes: the vision branches and the projector learn only
    what each visual token's cell holds (dense_labels.py), before any answer is asked of them; then a
    language model starts from tokens that already say what is where."""
    nan = float("nan")
    encoder_stage("dense", model, list(head.parameters()), lambda rels, flip: dense_step_loss(model, head, ex, dense, rels, flip),
                  dense_images(ex, dense, "train"), dense_images(ex, dense, "val")[:64], minutes, max_steps, batch, lr, rng, metrics, flip_prob,
                  lambda p, v: f"pair F1 {p['pair_f1']:.3f} (val {v.get('pair_f1', nan):.3f}) centre {p['centre']:.3f} (val {v.get('centre', nan):.3f})")


def distill_step_loss(model: Cobra, oracle: OracleTokens, ex: Examples, dense: DenseLabels, rels: List[str],
                      flip: Optional[List[bool]] = None) -> Tuple[torch.Tensor, dict]:
    """Mean squared distance of these images' visual tokens from the oracle's tokens of the same cells
    (the frozen --oracle-tokens map of their ground truth); `rel_err` is it over the targets' variance
    across the batch per cell (1 − R²: 0 when the encoder says exactly what the oracle says)."""
    tokens, t = tokens_and_targets(model, ex, dense, rels, flip)
    with torch.no_grad():
        target = oracle(oracle.features_of(t))
    mse = F.mse_loss(tokens, target)
    spread = (target - target.mean(dim=0, keepdim=True)).pow(2).mean()
    return mse, {"mse": float(mse), "rel_err": float(mse / (spread + 1e-12))}


def distill_pretrain(model: Cobra, oracle: OracleTokens, ex: Examples, dense: DenseLabels, minutes: float, max_steps: int, batch: int,
                     lr: float, rng: random.Random, metrics, flip_prob: float = 0.0) -> None:
    """--distill-oracle: the vision branches and the projector learn to emit the tokens a language model
    trained on --oracle-tokens reads (the oracle's map of each cell's ground truth), so that language
    model can answer from the image. Splits the two hard parts: which tokens say what is where (here,
    no language model in the loop) and how to answer from such tokens (the oracle stage, no encoder)."""
    nan = float("nan")
    encoder_stage("distill", model, [], lambda rels, flip: distill_step_loss(model, oracle, ex, dense, rels, flip),
                  dense_images(ex, dense, "train"), dense_images(ex, dense, "val")[:64], minutes, max_steps, batch, lr, rng, metrics, flip_prob,
                  lambda p, v: f"rel err {p['rel_err']:.3f} (val {v.get('rel_err', nan):.3f})")


StepLoss = Callable[[List[str], Optional[List[bool]]], Tuple[torch.Tensor, dict]]


def encoder_stage(name: str, model: Cobra, extra: List[torch.nn.Parameter], step_loss: StepLoss, train: List[str], val: List[str],
                  minutes: float, max_steps: int, batch: int, lr: float, rng: random.Random, metrics, flip_prob: float,
                  describe: Callable[[dict, dict], str]) -> None:
    """A stage that trains the vision branches and the projector (+ `extra`) alone on a per-image loss:
    batches of the training scene images (mirrored with flip_prob), AdamW with a 50-step warm-up; every
    25 steps the loss parts on the training batch and on up to 64 val images go to the log and metrics
    as {name}_step, {name}_<part> and val_{name}_<part>."""
    params = list({id(p): p for p in list(model.vision.parameters()) + list(model.projector.parameters()) + extra}.values())
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.95), weight_decay=0.01)
    t0, step, order = time.time(), 0, []
    while time.time() - t0 < minutes * 60 and step < max_steps:
        if len(order) < batch:
            order += rng.sample(train, len(train))
        rels, order = order[:batch], order[batch:]
        warm = min(1.0, (step + 1) / 50)
        for g in opt.param_groups:
            g["lr"] = lr * warm
        # Mirrored frames are new images for the encoder (it has 4,800 in a 6000-scene export and
        # overfits them: session 19); the questions' left/right would flip too, so only here.
        flip = [rng.random() < flip_prob for _ in rels] if flip_prob > 0 else None
        loss, parts = step_loss(rels, flip)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        if step % 25 == 0:
            rec = {f"{name}_step": step, f"{name}_loss": float(loss), **{f"{name}_{k}": v for k, v in parts.items()}, "elapsed_s": time.time() - t0}
            vparts: dict = {}
            if val:
                with torch.no_grad():
                    _, vparts = step_loss(val, None)
                rec.update({f"val_{name}_{k}": v for k, v in vparts.items()})
            log(f"{name} step {step} loss {float(loss):.4f} {describe(parts, vparts)} elapsed {(time.time() - t0) / 60:.1f} min")
            metrics.write(json.dumps(rec) + "\n")
            metrics.flush()


ENCODER_PREFIXES = ("vision.", "projector.", "c2f.")


def take_encoder(model: Cobra, folder: str) -> str:
    """Replaces model's encoder tensors (ENCODER_PREFIXES) by folder's; the two configs must agree on
    everything but the language model's training (same shapes: load_model checks them)."""
    other, _ = load_model(folder)
    mine = model.state_dict()
    theirs = {k: v for k, v in other.state_dict().items() if k.startswith(ENCODER_PREFIXES)}
    wrong = [k for k, v in theirs.items() if k not in mine or tuple(mine[k].shape) != tuple(v.shape)]
    if wrong or not theirs:
        raise SystemExit(f"--init-encoder {folder}: its encoder does not fit this model ({', '.join(wrong[:3]) or 'no encoder tensors'})")
    model.load_state_dict(theirs, strict=False)
    return f"encoder: {len(theirs)} tensors from {folder}"


def heads_metadata(labels: DenseLabels) -> Dict[str, str]:
    """What a saved dense head or oracle map depends on: the order of the kinds and colours of its outputs."""
    return {"kinds": json.dumps(labels.kinds), "colours": json.dumps(labels.colours)}


def episodes_of(frames: List[dict]) -> List[List[dict]]:
    """progress.jsonl frames grouped by episode, each in frame order."""
    by: Dict[str, List[dict]] = {}
    for f in frames:
        by.setdefault(f["episode"], []).append(f)
    return [sorted(v, key=lambda f: f["frame"]) for _, v in sorted(by.items())]


def progress_windows(episodes: List[List[dict]], n: int, width: int, rng: random.Random) -> List[List[dict]]:
    """n windows of `width` consecutive frames of random episodes; a quarter start at the episode's
    first frame (the runtime's stream starts there), the rest anywhere."""
    out = []
    for _ in range(n):
        ep = episodes[rng.randrange(len(episodes))]
        w = min(width, len(ep))
        start = 0 if rng.random() < 0.25 else rng.randrange(len(ep) - w + 1)
        out.append(ep[start:start + w])
    return out


def progress_forward(model: Cobra, ex: Examples, windows: List[List[dict]]) -> Tuple[torch.Tensor, torch.Tensor]:
    """The progress head after each frame of each window, the frames prefilled in order into one
    state from zero (as the runtime's stream does): logits [n, W] and targets [n, W]."""
    W = len(windows[0])
    if any(len(w) != W for w in windows):
        raise ValueError("progress windows of one batch must have one length")
    patches = torch.stack([ex.patches(f["image"]) for w in windows for f in w])
    vis = model.visual_tokens(patches)  # [n·W, V, D]
    V = vis.shape[1]
    hidden, _ = model.mamba(vis.reshape(len(windows), W * V, -1))
    last = hidden[:, V - 1::V]  # each frame's last visual token [n, W, D]
    logit = model.progress_head(last).squeeze(-1)
    target = torch.tensor([[float(f["progress"]) for f in w] for w in windows])
    return logit, target


def progress_loss(model: Cobra, ex: Examples, windows: List[List[dict]]) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    logit, target = progress_forward(model, ex, windows)
    return F.binary_cross_entropy_with_logits(logit, target), torch.sigmoid(logit), target


@torch.no_grad()
def greedy(model: Cobra, ex: Examples, items: List[dict], max_new: int, c2f: bool = False) -> List[List[int]]:
    """Answers decoded greedily as the runtime does: prefill visual tokens + prompt per item, then
    batched steps. With c2f the frame is encoded coarse-to-fine with no question guiding the keep
    scores, as `eval --source backbone --coarse-to-fine` pushes each frame before asking."""
    eos = ex.tok.eos_id
    states, nxt = [], []
    visual: Dict[str, Tuple[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]] = {}
    for it in items:
        if it["image"] not in visual:
            if c2f:
                tokens = model.c2f_encode(ex.patches(it["image"]).unsqueeze(0), ex.coarse(it["image"]).unsqueeze(0)).tokens[0]
            else:
                tokens = model.visual_tokens(ex.patches(it["image"]).unsqueeze(0))[0]
            visual[it["image"]] = (tokens, model.mamba(tokens.unsqueeze(0))[1])
        tokens, state = visual[it["image"]]
        if model.config.get("reread_image"):
            prompt = model.reread_prompt(torch.tensor(it["question"]), tokens, torch.tensor(it["end"])).unsqueeze(0)
        else:
            prompt = model.embed(torch.tensor([it["prompt"]]))
        hidden, st = model.mamba(prompt, state)
        states.append(st)
        nxt.append(int(model.logits(hidden[:, -1]).argmax(-1)))
    conv = torch.cat([s[0] for s in states])
    ssm = torch.cat([s[1] for s in states])
    out: List[List[int]] = [[] for _ in items]
    cur = torch.tensor(nxt)
    done = torch.zeros(len(items), dtype=torch.bool)
    for _ in range(max_new):
        for i in range(len(items)):
            if not done[i]:
                if int(cur[i]) == eos:
                    done[i] = True
                else:
                    out[i].append(int(cur[i]))
        if bool(done.all()):
            break
        hidden, (conv, ssm) = model.mamba(model.embed(cur.unsqueeze(1)), (conv, ssm))
        cur = model.logits(hidden[:, -1]).argmax(-1)
    return out


@torch.no_grad()
def evaluate(model: Cobra, ex: Examples, n: int, max_new: int, rng: random.Random, c2f: bool = False) -> dict:
    """Greedy exact match and loss on up to n val questions, and the progress head on val episodes.
    With c2f, the same questions again with their frames encoded coarse-to-fine: val_exact_c2f,
    val_exact_c2f_by_type, val_loss_c2f, and c2f_kept_fraction (K / P) and c2f_tokens_mean (visual
    tokens per frame, merge token included) to state beside it."""
    model.eval()
    res: dict = {}
    val = ex.vqa.get("val") or []
    if val:
        items = val if len(val) <= n else rng.sample(val, n)
        for suffix, use_c2f in [("", False)] + ([("_c2f", True)] if c2f else []):
            decoded = greedy(model, ex, items, max_new, use_c2f)
            hits = [ex.tok.decode(d).strip() == it["answer_text"] for d, it in zip(decoded, items)]
            res[f"val_exact{suffix}"] = sum(hits) / len(hits)
            per: Dict[str, List[bool]] = {}
            for h, it in zip(hits, items):
                per.setdefault(it["type"], []).append(h)
            res[f"val_exact{suffix}_by_type"] = {k: sum(v) / len(v) for k, v in sorted(per.items())}
            res[f"val_count{suffix}_by_type"] = {k: len(v) for k, v in sorted(per.items())}
            loss, _, _, _ = lm_loss_grouped(model, ex, items, ex.tok.pad_id, use_c2f)
            res[f"val_loss{suffix}"] = float(loss)
            if not use_c2f:
                res["samples"] = [{"want": it["answer_text"], "got": ex.tok.decode(d)} for d, it in zip(decoded[:3], items[:3])]
        # The same questions asked of another frame: a model that scores as well there answers from
        # the question alone (priors on kinds and colours), not from what it sees. Session 17 found
        # the shipped third run blind this way (43.3% vs 43.1% on 480 val questions).
        frames = sorted({it["image"] for it in val})
        if len(frames) < 2:
            frames = sorted({it["image"] for v in ex.vqa.values() for it in v})
        if len(frames) > 1:
            other = {f: frames[(k + 1) % len(frames)] for k, f in enumerate(frames)}
            decoded = greedy(model, ex, [dict(it, image=other[it["image"]]) for it in items], max_new)
            hits = [ex.tok.decode(d).strip() == it["answer_text"] for d, it in zip(decoded, items)]
            res["val_exact_other_frame"] = sum(hits) / len(hits)
            per_other: Dict[str, List[bool]] = {}
            for h, it in zip(hits, items):
                per_other.setdefault(it["type"], []).append(h)
            res["val_exact_other_frame_by_type"] = {k: sum(v) / len(v) for k, v in sorted(per_other.items())}
            # The answer loss with the other frames: higher than val_loss by as much as the frame tells.
            loss, _, _, _ = lm_loss_grouped(model, ex, [dict(it, image=other[it["image"]]) for it in items], ex.tok.pad_id)
            res["val_loss_other_frame"] = float(loss)
        if c2f:
            rels = sorted({it["image"] for it in items})
            res["c2f_kept_fraction"] = model.kept_count() / model.sizes.patches
            res["c2f_tokens_mean"] = float(np.mean([t.shape[0] for r in rels for t in model.c2f_encode(
                ex.patches(r).unsqueeze(0), ex.coarse(r).unsqueeze(0)).tokens]))
    pv = ex.progress.get("val") or []
    if pv and model.config.get("progress_head"):
        # Whole episodes from their first frame, as a stream is served; at most 8 episodes.
        preds, targets, per_episode = [], [], []
        for ep in episodes_of(pv)[:8]:
            _, pred, target = progress_loss(model, ex, [ep])
            preds.append(pred[0].numpy())
            targets.append(target[0].numpy())
            per_episode.append(spearman(preds[-1], targets[-1]))
        p, t = np.concatenate(preds), np.concatenate(targets)
        res["val_progress_mae"] = float(np.abs(p - t).mean())
        res["val_progress_spearman"] = spearman(p, t)
        res["val_progress_spearman_per_episode"] = float(np.mean(per_episode))
    model.train()
    return res


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 0..n−1 with ties given their mean rank (as Spearman's rho with ties needs)."""
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x), dtype=np.float64)
    xs = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and xs[j + 1] == xs[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0
        i = j + 1
    return ranks


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation with average ranks for ties (0 when either side is constant)."""
    ra, rb = average_ranks(np.asarray(a)), average_ranks(np.asarray(b))
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


# ---------------------------------------------------------------- curve


def draw_curve(path: str, train: List[Tuple[int, float]], evals: List[Tuple[int, dict]]) -> None:
    W, H, pad = 900, 420, 50
    img = Image.new("RGB", (W, H), "white")
    d = ImageDraw.Draw(img)
    half = W // 2
    panels = [(0, "train loss (answer CE + progress BCE)"), (half, "val exact match (blue; coarse-to-fine purple), progress MAE (green)")]
    for x0, title in panels:
        d.rectangle([x0 + pad, pad, x0 + half - 15, H - pad], outline="black")
        d.text((x0 + pad, 15), title, fill="black")
    max_step = max([s for s, _ in train] + [s for s, _ in evals] + [1])

    def plot(x0: int, pts: List[Tuple[int, float]], lo: float, hi: float, colour: str) -> None:
        if not pts:
            return
        span = hi - lo if hi > lo else 1.0
        xy = [(x0 + pad + (half - 15 - pad) * s / max_step, H - pad - (H - 2 * pad) * (v - lo) / span) for s, v in pts]
        if len(xy) > 1:
            d.line(xy, fill=colour, width=2)
        for x, y in xy[-1:]:
            d.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colour)

    if train:
        vals = [v for _, v in train]
        lo, hi = 0.0, max(vals)
        plot(0, train, lo, hi, "red")
        d.text((5, pad - 5), f"{hi:.2f}", fill="black")
        d.text((5, H - pad - 10), "0", fill="black")
    acc = [(s, e["val_exact"]) for s, e in evals if "val_exact" in e]
    mae = [(s, e["val_progress_mae"]) for s, e in evals if "val_progress_mae" in e]
    plot(half, acc, 0.0, 1.0, "blue")
    plot(half, [(s, e["val_exact_c2f"]) for s, e in evals if "val_exact_c2f" in e], 0.0, 1.0, "purple")
    plot(half, mae, 0.0, 1.0, "green")
    d.text((half + 20, pad - 5), "1", fill="black")
    d.text((half + 20, H - pad - 10), "0", fill="black")
    d.text((pad, H - pad + 10), f"step 0 .. {max_step}", fill="black")
    img.save(path)


# ---------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="VQA export directory (meta.json, vqa.jsonl, images/, progress.jsonl)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--config", help="config.json to train (default: TINY_CONFIG with the progress head)")
    ap.add_argument("--init", help="start from this model folder (its config, weights and tokenizer)")
    ap.add_argument("--steps", type=int, default=1_000_000)
    ap.add_argument("--minutes", type=float, default=110.0)
    ap.add_argument("--batch", type=int, default=64, help="questions per step")
    ap.add_argument("--questions-per-image", type=int, default=16,
                    help="questions of one image kept together in a step (the image is encoded once for them)")
    ap.add_argument("--cache-fp16", action="store_true",
                    help="hold the preprocessed patches as float16 (half the memory; inputs then differ from the runtime's by ~1e-3)")
    ap.add_argument("--progress-batch", type=int, default=32, help="progress frames per progress step, in windows of --progress-window")
    ap.add_argument("--progress-every", type=int, default=4,
                    help="progress loss every k-th step (a window is a long sequential scan: one batch of windows every k steps costs less than a few each step)")
    ap.add_argument("--progress-window", type=int, default=4,
                    help="consecutive episode frames prefilled into one state per window (the runtime's stream carries state across frames)")
    ap.add_argument("--progress-weight", type=float, default=1.0)
    ap.add_argument("--answers", choices=["short", "sentence"], default="short",
                    help="train the model to say the export's short answer (default) or the engine's whole sentence")
    ap.add_argument("--merges", type=int, default=1024,
                    help="byte-level BPE merges learnt from the training texts (words of letters only; 4 = the default tokenizer)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--eval-size", type=int, default=64)
    ap.add_argument("--ckpt-every", type=int, default=500)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--max-answer-tokens", type=int, default=32)
    ap.add_argument("--dense-weight", type=float, default=None,
                    help="weight of the dense loss on the visual tokens (dense_labels.py: what each cell holds, from the "
                         "export's masks); default 0.5 when the export has masks (export vqa --masks), else off")
    ap.add_argument("--dense-minutes", type=float, default=0.0,
                    help="minutes of dense loss alone (vision + projector) before the answers are trained; counted in --minutes")
    ap.add_argument("--dense-batch", type=int, default=32, help="images per step of the dense-only stage")
    ap.add_argument("--dense-flip", type=float, default=0.0,
                    help="dense-only stage: probability that an image and its targets are mirrored left to right")
    ap.add_argument("--dense-steps", type=int, default=1_000_000, help="at most this many steps of the dense-only stage")
    ap.add_argument("--captions", choices=["off", "only", "mix"], default="off",
                    help="scene listings (captions.py: 'List the objects from left to right.' from the export's boxes and masks): "
                         "only = train and validate on them alone (the stage that teaches the language model to read its tokens), "
                         "mix = add them to the questions as --caption-fraction of the training items")
    ap.add_argument("--caption-fraction", type=float, default=0.2)
    ap.add_argument("--caption-kinds", default="caption_left_to_right,caption_near_to_far",
                    help=f"which captions (comma separated, of {', '.join(CAPTION_KINDS)}); caption_locate asks each visible "
                         "object's token-grid cell ('Where is the red ball?' -> 'column 3, row 5')")
    ap.add_argument("--question-types", default="",
                    help="comma-separated question types to train and validate on (default: all), e.g. a curriculum of relations")
    ap.add_argument("--oracle-tokens", action="store_true",
                    help="diagnostic: the visual tokens are a learnt map of each cell's ground truth (dense_labels.OracleTokens) "
                         "instead of the encoder's, an upper bound on what the language model learns from a frame; needs export "
                         "--masks and scene images only; the model written is not servable")
    ap.add_argument("--init-encoder", default="",
                    help="with --init: the encoder (vision branches, projector, coarse-to-fine scorer) from this model folder "
                         "instead, e.g. an encoder distilled earlier joined to a language model trained further since")
    ap.add_argument("--distill-oracle", default="",
                    help="a model folder trained with --oracle-tokens: before the question stage, the encoder learns for "
                         "--distill-minutes to emit that run's oracle tokens (needs export --masks; uses --dense-batch, --dense-flip)")
    ap.add_argument("--distill-minutes", type=float, default=10.0)
    ap.add_argument("--reread-image", action="store_true",
                    help="train a model whose prompt reads the frame's visual tokens again after the question "
                         "(config reread_image; models/README.md); with --init it switches a model trained without it over")
    ap.add_argument("--c2f-prob", type=float, default=0.0,
                    help="probability that a step encodes its images coarse-to-fine as served (needs coarse_to_fine in the config; 0 = never)")
    ap.add_argument("--c2f-score-weight", type=float, default=None,
                    help="weight of the keep-score loss that trains c2f.score (default 1.0 when --c2f-prob > 0, else off)")
    a = ap.parse_args()
    if not 0.0 <= a.c2f_prob <= 1.0:
        raise SystemExit(f"--c2f-prob must be in [0, 1], got {a.c2f_prob}")
    if a.init_encoder and not a.init:
        raise SystemExit("--init-encoder replaces the encoder of the --init model: give --init too")
    if not 0.0 <= a.dense_flip <= 1.0:
        raise SystemExit(f"--dense-flip must be in [0, 1], got {a.dense_flip}")
    score_weight = (1.0 if a.c2f_prob > 0 else 0.0) if a.c2f_score_weight is None else a.c2f_score_weight
    if score_weight < 0 or not math.isfinite(score_weight):
        raise SystemExit(f"--c2f-score-weight must be a finite number >= 0, got {score_weight}")

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)

    if a.init:
        model, config = load_model(a.init)
        with open(os.path.join(a.init, "tokenizer.json"), encoding="utf-8") as f:
            tok_json = json.load(f)
        if a.reread_image:
            # Same tensors; only the prompt changes (Cobra reads model.config).
            config["reread_image"] = True
            model.config["reread_image"] = True
        if a.init_encoder:
            log(take_encoder(model, a.init_encoder))
    else:
        if a.config:
            with open(a.config, encoding="utf-8") as f:
                config = json.load(f)
        else:
            config = dict(TINY_CONFIG)
        if a.merges > 4:
            t = time.time()
            tok_json = tokenizer_json(learn_merges(export_texts(a.data, a.answers), a.merges))
            log(f"tokenizer: {len(tok_json['model']['merges'])} merges learnt from the training texts in {time.time() - t:.1f} s")
        else:
            tok_json = default_tokenizer_json()
        config = dict(config, vocab_size=tokenizer_vocab_size(tok_json))
        if a.reread_image:
            config["reread_image"] = True
        model = Cobra(config)
        model.reset_parameters(a.seed)
    tok = ByteBPE(tok_json)
    ex = Examples(a.data, config, tok, a.max_answer_tokens, a.cache_fp16, a.answers)
    if a.distill_oracle and (a.oracle_tokens or not a.distill_minutes > 0):
        raise SystemExit("--distill-oracle trains the encoder: it needs --distill-minutes > 0 and cannot go with --oracle-tokens")
    if a.oracle_tokens:
        if a.c2f_prob > 0 or a.dense_minutes > 0 or score_weight > 0:
            raise SystemExit("--oracle-tokens replaces the encoder: it cannot go with --c2f-prob, --c2f-score-weight or --dense-minutes")
        oracle_labels = DenseLabels(a.data, config)
        if len(oracle_labels) == 0:
            raise SystemExit(f"--oracle-tokens: {a.data} has no masks (export vqa --masks)")
        oracle = ex.oracle = OracleTokens(oracle_labels, config["d_model"])
        if a.init:
            log(load_training_head(a.init, "oracle", oracle, heads_metadata(oracle_labels)))
        # Not a submodule: the model saved stays the served architecture; the map is saved beside it.
        model.visual_tokens = lambda cells: oracle(cells)  # type: ignore[method-assign]
        a.dense_weight = 0.0
        # Episode frames have no masks, so no oracle: their questions and the progress head are left out.
        ex.vqa = {k: [it for it in v if it["image"] in oracle_labels.targets] for k, v in ex.vqa.items()}
        ex.progress = {k: [] for k in ex.progress}
        log(f"oracle tokens: {ex.oracle.features} ground-truth features per cell for {len(oracle_labels)} images")
    else:
        n_img, n_bytes, secs = ex.preload()
        log(f"preprocessed {n_img} images once ({n_bytes / 1e6:.0f} MB in memory) in {secs:.1f} s")
    if a.question_types:
        keep = {t.strip() for t in a.question_types.split(",") if t.strip()}
        known = {it["type"] for v in ex.vqa.values() for it in v}
        unknown = sorted(keep - known)
        if not keep or unknown:
            raise SystemExit(f"--question-types: {', '.join(unknown) or 'none given'} not in {a.data} (it has {', '.join(sorted(known))})")
        ex.vqa = {k: [it for it in v if it["type"] in keep] for k, v in ex.vqa.items()}
        log(f"question types: {len(keep)} kept, {len(ex.vqa['train'])} train questions")
    if a.captions != "off":
        def caption_item(r: dict) -> dict:
            q = r["question"]
            return {"image": r["image"], "prompt": [tok.bos_id] + tok.encode(q + QUESTION_END), "question": [tok.bos_id] + tok.encode(q),
                    "end": tok.encode(QUESTION_END), "answer": tok.encode(r["answer"]) + [tok.eos_id], "answer_text": r["answer"], "type": r["type"]}
        kinds = tuple(k.strip() for k in a.caption_kinds.split(",") if k.strip())
        if not kinds or any(k not in CAPTION_KINDS for k in kinds):
            raise SystemExit(f"--caption-kinds: {a.caption_kinds!r}: each must be one of {', '.join(CAPTION_KINDS)}")
        caps = {k: [caption_item(r) for r in v] for k, v in caption_records(a.data, kinds=kinds, grid=model.sizes.cell_side).items()}
        if not caps["train"]:
            raise SystemExit(f"--captions {a.captions}: {a.data} has no masks and boxes (export vqa --masks)")
        longest = max(len(it["answer"]) for v in caps.values() for it in v)
        if longest > a.max_answer_tokens:
            log(f"captions: the longest listing is {longest} tokens; answers are decoded up to that")
            a.max_answer_tokens = longest
        if a.captions == "only":
            ex.vqa["train"], ex.vqa["val"] = caps["train"], caps["val"]
        else:
            reps = max(1, round(a.caption_fraction * len(ex.vqa["train"]) / ((1 - a.caption_fraction) * len(caps["train"]))))
            ex.vqa["train"] = ex.vqa["train"] + caps["train"] * reps
            # Locating answers are short enough to score exactly: val_exact_by_type shows whether the
            # one-lookup task is learnt (listings stay out of val, as before).
            ex.vqa["val"] = ex.vqa["val"] + [it for it in caps["val"] if it["type"] == "caption_locate"]
        log(f"captions ({a.captions}): {len(caps['train'])} train listings, {len(caps['val'])} val")
    train_q, train_p = ex.vqa["train"], ex.progress["train"]
    if not train_q:
        raise SystemExit(f"{a.data}/vqa.jsonl has no train questions")
    use_progress = bool(config.get("progress_head")) and bool(train_p)
    use_c2f = a.c2f_prob > 0
    if (use_c2f or score_weight > 0) and not config.get("coarse_to_fine"):
        raise SystemExit("--c2f-prob / --c2f-score-weight need a model whose config has coarse_to_fine")
    score_loss_on = score_weight > 0 and bool(config.get("coarse_to_fine"))
    # Its own generator, so which steps run coarse-to-fine does not move the data order.
    c2f_rng = random.Random(a.seed + 0xC2F)
    blas = blas_library()
    if "openblas" not in blas and "mkl" not in blas:
        log(f"warning: torch's BLAS is {blas or 'unknown'}; Debian's default libblas3 is the netlib reference (~8 GFLOP/s "
            "on 2 threads, ~18x slower matmuls than OpenBLAS): apt install libopenblas0-openmp")
    dense: Optional[DenseLabels] = None
    head: Optional[DenseHead] = None
    if a.dense_weight is None or a.dense_weight > 0:
        t = time.time()
        dense = DenseLabels(a.data, config)
        if len(dense) == 0:
            if a.dense_weight is not None:
                raise SystemExit(f"--dense-weight {a.dense_weight}: {a.data} has no masks (export vqa --masks)")
            dense = None
        else:
            head = DenseHead(config["d_model"], len(dense.kinds), len(dense.colours))
            if a.init:
                log(load_training_head(a.init, "dense_head", head, heads_metadata(dense)))
            log(f"dense targets for {len(dense)} images ({len(dense.kinds)} kinds, {len(dense.colours)} colours) in {time.time() - t:.1f} s")
    dense_weight = (0.5 if a.dense_weight is None else a.dense_weight) if dense is not None else 0.0
    n_params = sum(p.numel() for p in model.parameters())
    log(f"train: {len(train_q)} questions, {len(ex.vqa['val'])} val, {len(train_p)} progress frames; "
        f"{n_params:,} parameters; {a.threads} threads")

    # No weight decay on norms, biases, embeddings, positions, A_log and D (as mamba_ssm / timm do).
    decay, no_decay = [], []
    trained_heads = {"dense_head": head, "oracle": ex.oracle}
    named = list(model.named_parameters())
    for prefix, m in trained_heads.items():
        named += [] if m is None else [(f"{prefix}.{k}", v) for k, v in m.named_parameters()]
    for n, p in named:
        (decay if p.dim() >= 2 and "embed" not in n and "A_log" not in n else no_decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=a.lr, betas=(0.9, 0.95))
    budget = a.minutes * 60.0
    labels = dense if dense is not None else (ex.oracle.dense if ex.oracle is not None else None)

    def save_all(folder: str) -> None:
        save_model(folder, model, tok_json, trained=True)
        if labels is not None:
            save_training_heads(folder, trained_heads, heads_metadata(labels))

    def lr_at(step: int, elapsed: float) -> float:
        if step < a.warmup:
            return a.lr * (step + 1) / a.warmup
        # The schedule runs on whichever budget is nearer its end: steps or wall time.
        frac = min(1.0, max(step / a.steps, elapsed / budget))
        return a.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))

    metrics = open(os.path.join(a.out, "metrics.jsonl"), "a", encoding="utf-8")
    t_dense = time.time()
    if a.dense_minutes > 0:
        if dense is None or head is None:
            raise SystemExit("--dense-minutes needs an export with masks (export vqa --masks)")
        dense_pretrain(model, head, ex, dense, a.dense_minutes, a.dense_steps, a.dense_batch, a.lr, rng, metrics, a.dense_flip)
    if a.distill_oracle:
        # The encoder learns the oracle's tokens; the language model (from --init, normally the oracle
        # run itself) is not touched here.
        distill_labels = dense if dense is not None else DenseLabels(a.data, config)
        if len(distill_labels) == 0:
            raise SystemExit(f"--distill-oracle: {a.data} has no masks (export vqa --masks)")
        teacher = OracleTokens(distill_labels, config["d_model"])
        said = load_training_head(a.distill_oracle, "oracle", teacher, heads_metadata(distill_labels))
        if "restored" not in said:
            raise SystemExit(f"--distill-oracle {a.distill_oracle}: no oracle map to learn from ({said})")
        log(said)
        teacher.requires_grad_(False)
        distill_pretrain(model, teacher, ex, distill_labels, a.distill_minutes, a.dense_steps, a.dense_batch, a.lr, rng, metrics, a.dense_flip)
    budget -= time.time() - t_dense
    train_curve: List[Tuple[int, float]] = []
    evals: List[Tuple[int, dict]] = []
    t0 = time.time()
    order: List[int] = []
    train_episodes = episodes_of(train_p)
    win = {"loss": 0.0, "n": 0, "tokens": 0, "correct": 0, "samples": 0, "t": time.time()}
    step = 0
    model.train()
    while step < a.steps and time.time() - t0 < budget:
        if len(order) < a.batch:
            order += image_grouped_order(train_q, a.questions_per_image, rng)
        items = [train_q[i] for i in order[:a.batch]]
        del order[:a.batch]
        for g in opt.param_groups:
            g["lr"] = lr_at(step, time.time() - t0)
        c2f_step = use_c2f and c2f_rng.random() < a.c2f_prob
        r = vqa_loss(model, ex, items, tok.pad_id, c2f_step, score_loss_on)
        loss, n_tok, n_ok, ids = r.loss, r.answer_tokens, r.correct, r.ids
        total = loss
        if r.score_loss is not None:
            total = total + score_weight * r.score_loss
        dense_parts = None
        if head is not None and dense is not None and dense_weight > 0 and not c2f_step:
            dt = dense.batch(r.rels)
            if dt is not None:
                dl, dense_parts = head.loss(torch.stack(r.tokens), dt)
                total = total + dense_weight * dl
        if use_progress and step % a.progress_every == 0:
            windows = progress_windows(train_episodes, max(1, a.progress_batch // a.progress_window), a.progress_window, rng)
            pl, _, _ = progress_loss(model, ex, windows)
            total = total + a.progress_weight * pl
        opt.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        win["loss"] += float(total)
        win["n"] += 1
        win["tokens"] += int(ids.numel() + len(items) * model.sizes.visual_tokens)
        win["correct"] += n_ok
        win["samples"] += len(items)
        win["answer_tokens"] = win.get("answer_tokens", 0) + n_tok
        if dense_parts is not None:
            win["dense_n"] = win.get("dense_n", 0) + 1
            win["dense_pair_f1"] = win.get("dense_pair_f1", 0.0) + dense_parts["pair_f1"]
        if score_loss_on or use_c2f:
            win["c2f_steps"] = win.get("c2f_steps", 0) + int(c2f_step)
            win["score_loss"] = win.get("score_loss", 0.0) + (float(r.score_loss) if r.score_loss is not None else 0.0)
        if step % a.log_every == 0 or step == a.steps:
            now = time.time()
            dt = now - win["t"]
            elapsed = now - t0
            per_step = elapsed / step
            eta = min((a.steps - step) * per_step, budget - elapsed)
            rec = {"step": step, "loss": win["loss"] / win["n"], "lr": opt.param_groups[0]["lr"],
                   "token_acc": win["correct"] / max(1, win["answer_tokens"]),
                   "tokens_per_s": win["tokens"] / dt, "samples_per_s": win["samples"] / dt,
                   "steps_per_s": win["n"] / dt, "elapsed_s": elapsed}
            c2f_note = ""
            if "dense_n" in win:
                rec["dense_pair_f1"] = win["dense_pair_f1"] / win["dense_n"]
                c2f_note += f"dense pair F1 {rec['dense_pair_f1']:.3f} "
            if "c2f_steps" in win:
                rec["c2f_steps"] = win["c2f_steps"]
                rec["score_loss"] = win["score_loss"] / win["n"]
                c2f_note += f"c2f steps {win['c2f_steps']}/{win['n']} score loss {rec['score_loss']:.3f} "
            log(f"step {step} loss {rec['loss']:.4f} answer-token acc {rec['token_acc']:.3f} "
                f"lr {rec['lr']:.2e} {rec['tokens_per_s']:.0f} tok/s {rec['samples_per_s']:.1f} samples/s "
                f"{c2f_note}elapsed {elapsed / 60:.1f} min ETA {max(0.0, eta) / 60:.1f} min")
            metrics.write(json.dumps(rec) + "\n")
            metrics.flush()
            train_curve.append((step, rec["loss"]))
            win = {"loss": 0.0, "n": 0, "tokens": 0, "correct": 0, "samples": 0, "t": time.time()}
        if step % a.eval_every == 0:
            e = evaluate(model, ex, a.eval_size, a.max_answer_tokens, rng, use_c2f)
            evals.append((step, e))
            log(f"eval step {step}: {json.dumps(e)}")
            metrics.write(json.dumps({"step": step, "eval": e}) + "\n")
            metrics.flush()
            draw_curve(os.path.join(a.out, "curve.png"), train_curve, evals)
        if step % a.ckpt_every == 0:
            save_all(os.path.join(a.out, "checkpoint"))

    e = evaluate(model, ex, a.eval_size, a.max_answer_tokens, rng, use_c2f)
    evals.append((step, e))
    log(f"final eval step {step}: {json.dumps(e)}")
    metrics.write(json.dumps({"step": step, "eval": e, "final": True, "elapsed_s": time.time() - t0}) + "\n")
    metrics.close()
    draw_curve(os.path.join(a.out, "curve.png"), train_curve, evals)
    save_all(os.path.join(a.out, "model"))
    log(f"wrote {os.path.join(a.out, 'model')} after {step} steps in {(time.time() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main()

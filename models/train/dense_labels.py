"""Dense supervision of the visual tokens from the simulator's instance masks (export vqa --masks).

Why: trained on answers alone, the tiny Cobra learnt the question priors and not the image
(session 17: the same val questions scored 43.3% on their frames and 43.1% on other frames; its
visual tokens were one constant vector plus ~5% that varied). An answer's gradient reaches the
encoder only through a language model that has not yet learnt to read it, so nothing pushes the
tokens to say what is where. The simulator knows it: which object covers which pixels, its kind,
colour and box. Every visual token (one cell of token_pool² patches, the frame stretched to the
model's square image as the preprocessor does) is taught what its cell holds, with a head used in
training only (it is not part of the served model):

- which kinds, which colours and which (kind, colour) pairs are seen in the cell (multi-label,
  present when at least `min_pixels` of the object's mask pixels fall in it);
- where the objects seen in the cell are: the pixel-weighted mean of their true box centres in the
  spatial frame (x away from the camera, y left, z up), standardised over the training scenes.

So a token carries "a yellow bowl, this far left and this far away", which a question about the
yellow bowl can read, instead of pixels the language model would have to learn to decode.
"""
from __future__ import annotations

import json
import os
from typing import Dict, List, NamedTuple, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn


class DenseTargets(NamedTuple):
    kinds: torch.Tensor  # [cells, K] 0/1
    colours: torch.Tensor  # [cells, C] 0/1
    pairs: torch.Tensor  # [cells, K·C] 0/1
    centre: torch.Tensor  # [cells, 3] standardised, meaningful where weight > 0
    weight: torch.Tensor  # [cells] 1 where an object is seen in the cell


class DenseLabels:
    """Per scene image, the cell targets of its visual tokens; built once from scenes.jsonl + masks/."""

    def __init__(self, data: str, config: dict, min_pixels: int = 20):
        self.cell_side = (config["image_size"] // config["patch_size"]) // config["projector"]["token_pool"]
        self.min_pixels = min_pixels
        scenes: List[dict] = []
        path = os.path.join(data, "scenes.jsonl")
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                scenes = [json.loads(line) for line in f if line.strip()]
        scenes = [s for s in scenes if "mask" in s and all("center" in o for o in s["objects"])]
        self.kinds = sorted({o["kind"] for s in scenes for o in s["objects"]})
        self.colours = sorted({o["color"] for s in scenes for o in s["objects"]})
        train = [np.asarray(o["center"], dtype=np.float64) for s in scenes if s.get("split") == "train" for o in s["objects"]]
        c = np.stack(train) if train else np.zeros((1, 3))
        self.centre_mean = c.mean(axis=0)
        self.centre_std = c.std(axis=0) + 1e-6
        self.targets: Dict[str, DenseTargets] = {}
        for s in scenes:
            with Image.open(os.path.join(data, s["mask"])) as im:
                mask = np.asarray(im.convert("L"))
            self.targets[s["image"]] = self.cell_targets(mask, s["objects"])

    def __len__(self) -> int:
        return len(self.targets)

    def cell_targets(self, mask: np.ndarray, objects: List[dict]) -> DenseTargets:
        """The targets of one frame: mask [H, W] (0 none, k the k-th object) → per cell of the model's token grid."""
        H, W = mask.shape
        n = self.cell_side
        K, C = len(self.kinds), len(self.colours)
        # The preprocessor stretches the whole frame to a square, so cell (cy, cx) covers rows
        # [cy·H/n, (cy+1)·H/n) and columns [cx·W/n, (cx+1)·W/n) of the frame.
        row_cell = (np.arange(H) * n) // H
        col_cell = (np.arange(W) * n) // W
        cell = (row_cell[:, None] * n + col_cell[None, :]).ravel()
        values = mask.ravel().astype(np.int64)
        n_obj = len(objects) + 1
        counts = np.bincount(cell * n_obj + values, minlength=n * n * n_obj).reshape(n * n, n_obj)[:, 1:]
        present = counts >= self.min_pixels  # [cells, objects]
        kinds = np.zeros((n * n, K), dtype=np.float32)
        colours = np.zeros((n * n, C), dtype=np.float32)
        pairs = np.zeros((n * n, K * C), dtype=np.float32)
        centre = np.zeros((n * n, 3), dtype=np.float32)
        weight = np.zeros(n * n, dtype=np.float32)
        kind_of = [self.kinds.index(o["kind"]) for o in objects]
        colour_of = [self.colours.index(o["color"]) for o in objects]
        centres = (np.asarray([o["center"] for o in objects], dtype=np.float64) - self.centre_mean) / self.centre_std
        for j in range(len(objects)):
            cells = present[:, j]
            kinds[cells, kind_of[j]] = 1
            colours[cells, colour_of[j]] = 1
            pairs[cells, kind_of[j] * C + colour_of[j]] = 1
        seen = np.where(present, counts, 0).astype(np.float64)  # [cells, objects]
        total = seen.sum(axis=1)
        has = total > 0
        centre[has] = (seen[has] @ centres) / total[has, None]
        weight[has] = 1
        t = torch.from_numpy
        return DenseTargets(t(kinds), t(colours), t(pairs), t(centre), t(weight))

    def mirrored(self, t: DenseTargets) -> DenseTargets:
        """The targets of the frame mirrored left to right: cell columns reversed and the centres'
        y (left) negated, in standardised units. The spatial frame is the camera's (x away, y left,
        z up), so a mirror image is the same scene with y → −y, up to the camera's few degrees of
        roll and the principal point's offset from the image centre."""
        n = self.cell_side

        def cols(x: torch.Tensor) -> torch.Tensor:
            return x.reshape(n, n, *x.shape[1:]).flip(1).reshape(x.shape)

        centre = cols(t.centre).clone()
        m, s = float(self.centre_mean[1]), float(self.centre_std[1])
        centre[:, 1] = torch.where(cols(t.weight) > 0, -centre[:, 1] - 2 * m / s, centre[:, 1])
        return DenseTargets(cols(t.kinds), cols(t.colours), cols(t.pairs), centre, cols(t.weight))

    def batch(self, rels: List[str], flip: Optional[List[bool]] = None) -> Optional[DenseTargets]:
        """Stacked targets of these images (`flip[i]`: of image i mirrored), or None when any of them
        has no mask (an episode frame)."""
        got = [self.targets.get(r) for r in rels]
        if not got or any(g is None for g in got):
            return None
        if flip is not None:
            got = [self.mirrored(g) if f else g for g, f in zip(got, flip)]  # type: ignore[arg-type]
        return DenseTargets(*(torch.stack(list(x)) for x in zip(*got)))  # type: ignore[arg-type]


class DenseHead(nn.Module):
    """Training-only readout of the visual tokens [B, cells, d_model] (not saved with the model)."""

    def __init__(self, d_model: int, kinds: int, colours: int):
        super().__init__()
        self.kinds, self.colours = kinds, colours
        self.out = nn.Linear(d_model, kinds + colours + kinds * colours + 3)

    def loss(self, tokens: torch.Tensor, t: DenseTargets) -> Tuple[torch.Tensor, dict]:
        y = self.out(tokens)
        K, C = self.kinds, self.colours
        k, c, p, g = y[..., :K], y[..., K:K + C], y[..., K + C:K + C + K * C], y[..., K + C + K * C:]
        lk = F.binary_cross_entropy_with_logits(k, t.kinds)
        lc = F.binary_cross_entropy_with_logits(c, t.colours)
        lp = F.binary_cross_entropy_with_logits(p, t.pairs) * 4  # sparse: most pairs are absent everywhere
        w = t.weight.unsqueeze(-1)
        lg = (F.smooth_l1_loss(g, t.centre, reduction="none") * w).sum() / (w.sum() * 3 + 1e-6)
        with torch.no_grad():
            pred = (p > 0).float()
            hit = (pred * t.pairs).sum()
            pair_f1 = float(2 * hit / (pred.sum() + t.pairs.sum() + 1e-6))
        return lk + lc + lp + lg, {"kind": float(lk), "colour": float(lc), "pair": float(lp), "centre": float(lg), "pair_f1": pair_f1}


class OracleTokens(nn.Module):
    """Diagnostic visual tokens made from the simulator's ground truth instead of the image
    (train.py --oracle-tokens; never served): each cell's dense targets (kinds, colours, pairs,
    centre where an object is seen, seen-or-not) through one linear map, plus a learnt embedding
    of the cell's place in the grid.

    Why: a relation question needs two things, tokens that say what is where and a language model
    that finds the two named objects among them and compares them. Trained end to end the two
    failures cannot be told apart. With tokens that are right by construction, what the language
    model learns in a given time is an upper bound for the real encoder's tokens: if relations
    stay at chance here, the encoder is not what holds them back.
    """

    def __init__(self, dense: DenseLabels, d_model: int):
        super().__init__()
        self.dense = dense
        K, C = len(dense.kinds), len(dense.colours)
        self.features = K + C + K * C + 3 + 1
        self.proj = nn.Linear(self.features, d_model)
        self.cell = nn.Parameter(torch.zeros(dense.cell_side ** 2, d_model).normal_(0, 0.02))

    def cell_features(self, rel: str) -> torch.Tensor:
        """[cells, features] of one scene image; a frame without masks has no oracle."""
        t = self.dense.targets.get(rel)
        if t is None:
            raise SystemExit(f"--oracle-tokens: {rel} has no mask (export vqa --masks; episode frames have none)")
        return self.features_of(t)

    @staticmethod
    def features_of(t: DenseTargets) -> torch.Tensor:
        """[..., cells, features] of targets (one frame's or a batch's)."""
        w = t.weight.unsqueeze(-1)
        return torch.cat([t.kinds, t.colours, t.pairs, t.centre * w, w], dim=-1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """[B, cells, features] → [B, cells, d_model]."""
        return self.proj(features) + self.cell

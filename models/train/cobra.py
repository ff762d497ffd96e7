"""The Cobra-style backbone of models/README.md in plain PyTorch (no CUDA kernels).

The same math as the TypeScript graphs (src/backbone/graphs, src/backbone/reference): two pre-LN
ViT branches concatenated, mean pooling of token_pool x token_pool cells, an MLP projector, a
Mamba language model (mamba_ssm `Mamba` mixer, Hugging Face `MambaForCausalLM` names), a tied LM
head and an optional progress head. Module attribute paths are chosen so that `state_dict()`
keys are exactly the names of `expectedTensors` (src/backbone/tensor_names.ts).

Coarse-to-fine (`pos_embed_coarse`, `c2f.*`, initialised like src/backbone/random_init.ts, small
N(0, 0.02)) has a forward here too, `Cobra.c2f_encode`, computing what the runtime's `vision_c2f`
graph computes (test/train/c2f_parity.test.ts compares them), so train.py --c2f-prob can train it.
"""
from __future__ import annotations

import math
from typing import List, NamedTuple, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

VISION_LN_EPS = 1e-6


class Sizes:
    """backboneSizes of src/backbone/config.ts."""

    def __init__(self, c: dict):
        self.grid = c["image_size"] // c["patch_size"]
        self.patches = self.grid * self.grid
        self.patch_dim = 3 * c["patch_size"] ** 2
        self.feature_width = sum(e["width"] for e in c["encoders"])
        self.cell_side = self.grid // c["projector"]["token_pool"]
        self.visual_tokens = self.cell_side ** 2
        self.d_inner = c["expand"] * c["d_model"]
        self.coarse_grid = self.grid // 2 if c.get("coarse_to_fine") else 0
        self.coarse_patches = self.coarse_grid ** 2


# ---------------------------------------------------------------- vision


class Attention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, W = x.shape
        dh = W // self.heads
        # q, k, v stacked along channels, each head a contiguous dh slice (as the graphs split them).
        q, k, v = self.qkv(x).view(B, T, 3, self.heads, dh).permute(2, 0, 3, 1, 4)
        att = torch.softmax((q @ k.transpose(-1, -2)) / math.sqrt(dh), dim=-1)
        return self.proj((att @ v).transpose(1, 2).reshape(B, T, W))


class Mlp(nn.Module):
    def __init__(self, width: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))  # erf form (PyTorch's default)


class Block(nn.Module):
    def __init__(self, width: int, heads: int, mlp_ratio: int):
        super().__init__()
        self.norm1 = nn.LayerNorm(width, eps=VISION_LN_EPS)
        self.attn = Attention(width, heads)
        self.norm2 = nn.LayerNorm(width, eps=VISION_LN_EPS)
        self.mlp = Mlp(width, width * mlp_ratio)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class VisionBranch(nn.Module):
    def __init__(self, e: dict, c: dict, s: Sizes):
        super().__init__()
        p = c["patch_size"]
        # A Conv2d with stride p (the stored layout [w, 3, p, p]); applied to patches already
        # flattened channel-major (c, y, x), i.e. as a linear layer with the flattened weight.
        self.patch_embed = nn.Conv2d(3, e["width"], kernel_size=p, stride=p)
        self.pos_embed = nn.Parameter(torch.zeros(s.patches, e["width"]))
        if c.get("coarse_to_fine"):
            self.pos_embed_coarse = nn.Parameter(torch.zeros(s.coarse_patches, e["width"]))
        self.blocks = nn.ModuleList([Block(e["width"], e["heads"], e["mlp_ratio"]) for _ in range(e["depth"])])
        self.norm = nn.LayerNorm(e["width"], eps=VISION_LN_EPS)

    def forward(self, patches: torch.Tensor, positions: Optional[torch.Tensor] = None) -> torch.Tensor:
        """patches [B, T, 3p²] → [B, T, w]: every fine patch in grid order, or (with `positions`
        [B, T], each row an image's fine grid indices) a subset attending only among itself."""
        w = self.patch_embed.weight
        x = F.linear(patches, w.reshape(w.shape[0], -1), self.patch_embed.bias)
        x = x + (self.pos_embed if positions is None else self.pos_embed[positions])
        for b in self.blocks:
            x = b(x)
        return self.norm(x)

    def forward_coarse(self, patches: torch.Tensor, depth: int) -> torch.Tensor:
        """Every coarse patch [B, (G/2)², 3p²] with `pos_embed_coarse`, the first `depth` blocks
        (clipped to the branch's depth), then the final LayerNorm → [B, (G/2)², w]."""
        w = self.patch_embed.weight
        x = F.linear(patches, w.reshape(w.shape[0], -1), self.patch_embed.bias) + self.pos_embed_coarse
        for b in list(self.blocks)[:depth]:
            x = b(x)
        return self.norm(x)


class Projector(nn.Module):
    def __init__(self, c: dict, s: Sizes):
        super().__init__()
        self.fc1 = nn.Linear(s.feature_width, c["projector"]["hidden"])
        self.fc2 = nn.Linear(c["projector"]["hidden"], c["d_model"])

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(pooled)))


class C2fOutput(NamedTuple):
    """Cobra.c2f_encode's result."""

    tokens: List[torch.Tensor]  # per image [n_i, d_model]: non-empty cells in order, then the merge token
    kept: torch.Tensor  # [B, K] kept fine patches, ascending
    scores: torch.Tensor  # [B, P] keep scores, fine-grid order (with the coarse path's gradient)
    counts: torch.Tensor  # [B, cells] kept patches per cell (the graph's `cell_counts`)
    cell_tokens: torch.Tensor  # [B, cells, d_model] every cell (the graph's `tokens`; empty cells are projector(0))


class CoarseToFine(nn.Module):
    """The `c2f.*` tensors; the forward that uses them is Cobra.c2f_encode (it needs the encoder and projector)."""

    def __init__(self, c: dict, s: Sizes):
        super().__init__()
        self.score = nn.Linear(s.feature_width, 4)
        self.merge_token = nn.Parameter(torch.zeros(c["d_model"]))
        self.count_embed = nn.Parameter(torch.zeros(c["d_model"]))


# ---------------------------------------------------------------- Mamba


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def selective_scan_reference(dA: torch.Tensor, dBx: torch.Tensor, C: torch.Tensor, h: torch.Tensor
                             ) -> Tuple[torch.Tensor, torch.Tensor]:
    """h_t = dA_t · h_{t−1} + dBx_t; y_t = h_t · C_t: the plain loop, kept as the reference.

    dA, dBx [B, T, E, N]; C [B, T, N]; h [B, E, N]. Returns y [B, T, E] and the last h.
    """
    hs: List[torch.Tensor] = []
    # unbind, not dA[:, t]: each indexing op's backward would allocate a full [B, T, E, N] gradient.
    for a, b in zip(dA.unbind(1), dBx.unbind(1)):
        h = a * h + b
        hs.append(h)
    y = torch.einsum("bten,btn->bte", torch.stack(hs, dim=1), C)
    return y, h


def selective_scan_reference_inputs(delta: torch.Tensor, u: torch.Tensor, Bm: torch.Tensor, Cm: torch.Tensor,
                                    A: torch.Tensor, h: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """The reference loop on the mixer's inputs: dA = exp(Δ ⊗ A), dBx = (Δ·x) ⊗ B materialised."""
    dA = torch.exp(delta.unsqueeze(-1) * A)
    dBx = u.unsqueeze(-1) * Bm.unsqueeze(2)
    return selective_scan_reference(dA, dBx, Cm, h)


def selective_scan(delta: torch.Tensor, u: torch.Tensor, Bm: torch.Tensor, Cm: torch.Tensor,
                   A: torch.Tensor, h: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """The same recurrence as selective_scan_reference, for training.

    delta, u = Δ·x [B, T, E]; Bm, Cm [B, T, N]; A [E, N]; h [B, E, N] → y [B, T, E], last h.
    Each token's exp(Δ_t ⊗ A) and (Δ_t·x_t) ⊗ B_t are formed inside the loop and read out at
    once (h_t·C_t as a bmm), so no [B, T, E, N] tensor is materialised, stacked or, in the
    backward, re-concatenated from per-token gradients: those copies were most of the
    reference's time. Measured on the training shapes (batch 64, 106 tokens, E 512, N 16;
    2 threads), fwd + bwd: this 0.34 s, the reference 0.80 s; the ONNX graphs' blocked form
    (affine blocks of k tokens, models/README.md) 0.74 s at k = 7 and 0.49 s at k = 12, since
    it re-runs the recurrence inside each block and the per-token work, not Python's loop,
    dominates at these sizes.
    """
    ys: List[torch.Tensor] = []
    for d, x, b, c in zip(delta.unbind(1), u.unbind(1), Bm.unbind(1), Cm.unbind(1)):
        h = torch.exp(d.unsqueeze(-1) * A) * h + x.unsqueeze(-1) * b.unsqueeze(1)
        ys.append(torch.bmm(h, c.unsqueeze(-1)).squeeze(-1))
    return torch.stack(ys, dim=1), h


# The scan the mixer runs; bench_train.py swaps in selective_scan_reference_inputs for the "before" figure.
SCAN = {"impl": selective_scan}


class MambaMixer(nn.Module):
    def __init__(self, c: dict, s: Sizes):
        super().__init__()
        D, E, N, R, K = c["d_model"], s.d_inner, c["d_state"], c["dt_rank"], c["d_conv"]
        self.E, self.N, self.R, self.K = E, N, R, K
        self.in_proj = nn.Linear(D, 2 * E, bias=False)
        self.conv1d = nn.Conv1d(E, E, kernel_size=K, groups=E, bias=True)
        self.x_proj = nn.Linear(E, R + 2 * N, bias=False)
        self.dt_proj = nn.Linear(R, E)
        self.A_log = nn.Parameter(torch.zeros(E, N))
        self.D = nn.Parameter(torch.ones(E))
        self.out_proj = nn.Linear(E, D, bias=False)

    def forward(self, h: torch.Tensor, conv_state: torch.Tensor, ssm_state: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """h [B, T, D] (already normed); conv_state [B, E, K]; ssm_state [B, E, N]."""
        E, N, R, K = self.E, self.N, self.R, self.K
        xz = self.in_proj(h)
        x, z = xz[..., :E], xz[..., E:]
        # The conv window after token t is the last K inputs up to t: the state's last K−1
        # columns followed by this chunk's x, then a valid depthwise convolution.
        xe = torch.cat([conv_state[:, :, 1:], x.transpose(1, 2)], dim=2)  # [B, E, K−1+T]
        new_conv = xe[:, :, -K:]
        # Depthwise conv as K shifted multiply-adds: PyTorch 1.13's grouped conv1d backward on CPU
        # is orders of magnitude slower than this at these sizes.
        T = x.shape[1]
        w = self.conv1d.weight[:, 0, :]  # [E, K]
        acc = self.conv1d.bias.unsqueeze(-1) + xe[:, :, 0:T] * w[:, 0:1]
        for k in range(1, K):
            acc = acc + xe[:, :, k:k + T] * w[:, k:k + 1]
        xc = F.silu(acc).transpose(1, 2)  # [B, T, E]
        dbc = self.x_proj(xc)
        delta = F.softplus(self.dt_proj(dbc[..., :R]))  # [B, T, E]; softplus is linear above 20 as in the reference
        Bm, Cm = dbc[..., R:R + N], dbc[..., R + N:]
        A = -torch.exp(self.A_log)  # [E, N]
        y, new_ssm = SCAN["impl"](delta, delta * xc, Bm, Cm, A, ssm_state)
        y = (y + self.D * xc) * F.silu(z)
        return self.out_proj(y), new_conv, new_ssm


class MambaLayer(nn.Module):
    def __init__(self, c: dict, s: Sizes):
        super().__init__()
        self.mixer = MambaMixer(c, s)
        self.norm = RMSNorm(c["d_model"], c["norm_eps"])


class MambaBackbone(nn.Module):
    def __init__(self, c: dict, s: Sizes):
        super().__init__()
        self.embeddings = nn.Embedding(c["vocab_size"], c["d_model"])
        self.layers = nn.ModuleList([MambaLayer(c, s) for _ in range(c["n_layer"])])
        self.norm_f = RMSNorm(c["d_model"], c["norm_eps"])


# ---------------------------------------------------------------- the model


class Cobra(nn.Module):
    def __init__(self, config: dict):
        super().__init__()
        self.config = dict(config)
        c = self.config
        s = self.sizes = Sizes(c)
        self.vision = nn.ModuleDict({e["name"]: VisionBranch(e, c, s) for e in c["encoders"]})
        self.projector = Projector(c, s)
        if c.get("coarse_to_fine"):
            self.c2f = CoarseToFine(c, s)
        self.backbone = MambaBackbone(c, s)
        if not c["tie_embeddings"]:
            self.lm_head = nn.Linear(c["d_model"], c["vocab_size"], bias=False)
        if c.get("progress_head"):
            self.progress_head = nn.Linear(c["d_model"], 1)
        self.reset_parameters(0)

    # -- init (src/backbone/random_init.ts's distributions; the values differ: its PRNG is not torch's)
    def reset_parameters(self, seed: int) -> None:
        g = torch.Generator().manual_seed(seed)
        c, E = self.config, self.sizes.d_inner
        with torch.no_grad():
            for name, p in self.named_parameters():
                leaf = name.rsplit(".", 1)[-1]
                fan_in = p[0].numel() if p.dim() > 1 else 1
                if name.startswith("backbone.layers.") and ".mixer." in name:
                    if leaf == "A_log":
                        p.copy_(torch.log(torch.arange(1, p.shape[1] + 1, dtype=torch.float32)).expand(E, -1))
                    elif leaf == "D":
                        p.fill_(1)
                    elif name.endswith("dt_proj.bias"):
                        lo, hi = math.log(1e-3), math.log(1e-1)
                        dt = torch.exp(lo + torch.rand(p.shape, generator=g) * (hi - lo)).clamp(min=1e-4)
                        p.copy_(dt + torch.log(-torch.expm1(-dt)))
                    elif name.endswith("dt_proj.weight"):
                        p.uniform_(-c["dt_rank"] ** -0.5, c["dt_rank"] ** -0.5, generator=g)
                    elif name.endswith("conv1d.bias"):
                        b = 1 / math.sqrt(c["d_conv"])
                        p.uniform_(-b, b, generator=g)
                    elif name.endswith("out_proj.weight"):
                        b = 1 / math.sqrt(fan_in) / math.sqrt(c["n_layer"])
                        p.uniform_(-b, b, generator=g)
                    else:
                        b = 1 / math.sqrt(fan_in)
                        p.uniform_(-b, b, generator=g)
                elif leaf == "weight" and "norm" in name:
                    p.fill_(1)
                elif leaf == "bias":
                    p.zero_()
                elif "pos_embed" in name or name.startswith("c2f.") or name in ("backbone.embeddings.weight", "lm_head.weight"):
                    p.normal_(0, 0.02, generator=g)
                else:
                    p.normal_(0, 1, generator=g).clamp_(-2, 2).mul_(0.02)

    # -- the pieces (one per graph of models/README.md)
    def vision_features(self, patches: torch.Tensor) -> torch.Tensor:
        """`vision`: patches [B, P, 3p²] → features [B, P, C] (branches concatenated)."""
        return torch.cat([b(patches) for b in self.vision.values()], dim=-1)

    def pool(self, features: torch.Tensor) -> torch.Tensor:
        """Mean of each token_pool² cell of the patch grid, cells row-major: [B, P, C] → [B, cells, C]."""
        B, P, C = features.shape
        g, tp = self.sizes.grid, self.config["projector"]["token_pool"]
        cs = g // tp
        f = features.reshape(B, cs, tp, cs, tp, C)
        return f.mean(dim=(2, 4)).reshape(B, cs * cs, C)

    def visual_tokens(self, patches: torch.Tensor) -> torch.Tensor:
        """`vision_projector`: patches [B, P, 3p²] → [B, cells, d_model]."""
        return self.projector(self.pool(self.vision_features(patches)))

    # -- coarse-to-fine (models/README.md "Coarse-to-fine"; the `vision_c2f` graph, src/backbone/graphs/vision_graphs.ts)
    def coarse_depth(self) -> int:
        """Leading blocks per branch the coarse scale runs (config coarse_to_fine.coarse_depth, default 1 as coarseDepthOf)."""
        d = (self.config.get("coarse_to_fine") or {}).get("coarse_depth")
        return 1 if d is None else int(d)

    def kept_count(self, keep_ratio: Optional[float] = None) -> int:
        """round(keep_ratio · P), at least 1 (keptPatchCount); JavaScript's Math.round (halves up), not Python's round."""
        r = self.config["coarse_to_fine"]["keep_ratio"] if keep_ratio is None else keep_ratio
        P = self.sizes.patches
        return min(P, max(1, math.floor(r * P + 0.5)))

    def coarse_features(self, coarse_patches: torch.Tensor) -> torch.Tensor:
        """`vision_coarse`: coarse patches [B, (G/2)², 3p²] → features [B, (G/2)², C]."""
        depth = self.coarse_depth()
        return torch.cat([b.forward_coarse(coarse_patches, depth) for b in self.vision.values()], dim=-1)

    def c2f_scores(self, coarse_features: torch.Tensor, question: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Keep score per fine patch [B, P] in fine-grid order from coarse features [B, Tc, C].

        `question` [B, d_model] (the mean token embedding of each member's question) adds
        projector(coarse patch alone) · question / √d_model to the patch's four children; a
        member whose row is all zero keeps its scores exactly (a where, as the graph does). NaN
        scores become −inf, so they rank last.
        """
        child = self.c2f.score(coarse_features)  # [B, Tc, 4], child k = (k >> 1, k & 1) row-major
        if question is not None:
            term = (self.projector(coarse_features) @ question.unsqueeze(-1)) / math.sqrt(self.config["d_model"])
            asked = (question != 0).any(dim=-1).view(-1, 1, 1)
            child = torch.where(asked, child + term, child)
        B, h = child.shape[0], self.sizes.coarse_grid
        # [B, cy, cx, dy, dx] → [B, cy, dy, cx, dx]: child (dy, dx) of (cy, cx) is fine (2cy + dy, 2cx + dx).
        grid = child.reshape(B, h, h, 2, 2).permute(0, 1, 3, 2, 4).reshape(B, self.sizes.patches)
        return torch.where(torch.isnan(grid), torch.full_like(grid, -math.inf), grid)

    def c2f_select(self, scores: torch.Tensor, k: int) -> torch.Tensor:
        """The top k patches per row [B, k], ascending (raster order): higher score first, ties to
        the lower index (a stable descending sort, as CoarseToFineSelector and ORT's TopK). No gradient."""
        order = torch.sort(scores.detach(), dim=-1, descending=True, stable=True).indices
        return order[:, :k].sort(dim=-1).values

    def patch_cells(self, index: torch.Tensor) -> torch.Tensor:
        """Pooling cell (row-major on the cell grid) of each fine grid index."""
        g, tp = self.sizes.grid, self.config["projector"]["token_pool"]
        return torch.div(index, g, rounding_mode="floor").div(tp, rounding_mode="floor") * self.sizes.cell_side \
            + torch.remainder(index, g).div(tp, rounding_mode="floor")

    def merge_token(self, kept: int) -> Optional[torch.Tensor]:
        """merge_token + (merged / P) · count_embed [d_model], or None when nothing is merged."""
        P = self.sizes.patches
        merged = P - kept
        return None if merged == 0 else self.c2f.merge_token + (merged / P) * self.c2f.count_embed

    def c2f_encode(self, patches: torch.Tensor, coarse_patches: torch.Tensor, question: Optional[torch.Tensor] = None,
                   keep_ratio: Optional[float] = None) -> "C2fOutput":
        """The coarse-to-fine encoder as `vision_c2f` + the runtime's layout compute it.

        patches [B, P, 3p²], coarse_patches [B, (G/2)², 3p²] (preprocess.coarse_patches), optional
        question [B, d_model]. The coarse scale is encoded and scored, the top K fine patches
        (hard selection, no gradient through it) encoded with attention among themselves only,
        each pooling cell averaged over its kept patches and projected; per image the non-empty
        cells in cell order, then the merge token when patches were merged. Gradients reach the
        kept patches' encoding, the projector and the merge token; `scores` carries the coarse
        path's (for a loss on the scores, train.py).
        """
        B, P, D = patches.shape
        scores = self.c2f_scores(self.coarse_features(coarse_patches), question)
        K = self.kept_count(keep_ratio)
        kept = self.c2f_select(scores, K)  # [B, K]
        gathered = patches.gather(1, kept.unsqueeze(-1).expand(B, K, D))
        features = torch.cat([b(gathered, kept) for b in self.vision.values()], dim=-1)  # [B, K, C]
        cells = self.sizes.visual_tokens
        member = (self.patch_cells(kept).unsqueeze(1) == torch.arange(cells).view(1, cells, 1)).to(features.dtype)  # [B, cells, K]
        counts = member.sum(-1)  # [B, cells]
        cell_tokens = self.projector((member / counts.clamp(min=1).unsqueeze(-1)) @ features)  # [B, cells, d]
        merge = self.merge_token(K)
        tokens = []
        for b in range(B):
            t = cell_tokens[b][counts[b] > 0]
            tokens.append(t if merge is None else torch.cat([t, merge.unsqueeze(0)], dim=0))
        return C2fOutput(tokens, kept, scores, counts, cell_tokens)

    def empty_state(self, batch: int, device=None, dtype=torch.float32) -> Tuple[torch.Tensor, torch.Tensor]:
        """conv [B, L, E, d_conv], ssm [B, L, E, d_state], zeros (the arena layout)."""
        c, E = self.config, self.sizes.d_inner
        return (torch.zeros(batch, c["n_layer"], E, c["d_conv"], device=device, dtype=dtype),
                torch.zeros(batch, c["n_layer"], E, c["d_state"], device=device, dtype=dtype))

    def mamba(self, embeds: torch.Tensor, state: Optional[Tuple[torch.Tensor, torch.Tensor]] = None
              ) -> Tuple[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        """`mamba_prefill` over every position: embeds [B, T, D] → (hidden [B, T, D] after norm_f, state)."""
        if state is None:
            state = self.empty_state(embeds.shape[0], embeds.device, embeds.dtype)
        conv, ssm = state
        residual = embeds
        convs, ssms = [], []
        for i, layer in enumerate(self.backbone.layers):
            out, cs, ss = layer.mixer(layer.norm(residual), conv[:, i], ssm[:, i])
            residual = residual + out
            convs.append(cs)
            ssms.append(ss)
        return self.backbone.norm_f(residual), (torch.stack(convs, 1), torch.stack(ssms, 1))

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        return self.backbone.embeddings(ids)

    def reread_prompt(self, question_ids: torch.Tensor, tokens: torch.Tensor, end_ids: torch.Tensor) -> torch.Tensor:
        """The prompt of a model with `reread_image` (models/README.md), prefilled from the stream's
        state after the frame: embed(BOS + question) [Tq, D], then the frame's visual tokens again
        [n, D] (the same rows the frame was prefilled with: projector output, or the kept tokens and
        merge token coarse-to-fine), then embed("\n") [Te, D]; the answer follows the "\n".

        Why read the frame twice: an SSM reads the frame before the question, so it would have to keep
        every object's place in a fixed-size state not knowing which two objects will be asked about.
        Read after the question, the frame is filtered by what is asked ("Just read twice", Arora et
        al. 2024). It costs one more prefill of the visual tokens per answer, not per frame.
        """
        return torch.cat([self.embed(question_ids), tokens, self.embed(end_ids)], dim=0)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        w = self.backbone.embeddings.weight if self.config["tie_embeddings"] else self.lm_head.weight
        return hidden @ w.t()

    def progress(self, hidden_last_visual: torch.Tensor) -> torch.Tensor:
        """sigmoid(norm_f(h) · w + b); `hidden` is already after norm_f."""
        return torch.sigmoid(self.progress_head(hidden_last_visual)).squeeze(-1)

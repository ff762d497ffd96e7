import { InvalidInputError } from "../../errors.js";
import { backboneSizes, type BackboneConfig, type EncoderBranchConfig } from "../config.js";
import type { Weights } from "../tensor_names.js";
import { requireWeight } from "../model_weights.js";
import { checkVisionWeights, VISION_LN_EPS, type VisionGraphKind } from "../graphs/vision_graphs.js";
import { coarseDepthOf, CoarseToFineSelector, layoutC2fTokens } from "../coarse_to_fine.js";

/**
 * Plain TypeScript forward passes of the `vision`, `vision_coarse` and `projector` graphs (and
 * of coarse-to-fine as a whole, which `vision_c2f` fuses),
 * written straight from models/README.md ("The forward pass") and computed in float64: the
 * ground truth the ONNX graphs are tested against. Not for the hot path.
 */

/**
 * `features` [B, T, C] for `patches` [B, T, 3p²] at grid `positions` [T] (fine, or coarse with
 * `coarse`, running the first `coarseDepth` blocks per branch: default `coarseDepthOf(config)`).
 */
export function visionReference(
  config: BackboneConfig,
  weights: Weights,
  patches: Float32Array,
  batch: number,
  positions: ArrayLike<number | bigint>,
  coarse = false,
  coarseDepth?: number,
): Float32Array {
  const kind: VisionGraphKind = coarse ? "vision_coarse" : "vision";
  checkVisionWeights(config, weights, kind);
  const s = backboneSizes(config);
  const T = positions.length;
  const D = s.patchDim;
  if (patches.length !== batch * T * D) {
    throw new InvalidInputError("bad_argument", `visionReference: patches has ${patches.length} floats, expected ${batch}x${T}x${D}`);
  }
  const grid = coarse ? s.coarsePatches : s.patches;
  const pos: number[] = [];
  for (let t = 0; t < T; t++) {
    const p = Number(positions[t]);
    if (!Number.isInteger(p) || p < 0 || p >= grid) throw new InvalidInputError("bad_argument", `visionReference: position ${p} outside [0, ${grid})`);
    pos.push(p);
  }
  const C = s.featureWidth;
  const out = new Float32Array(batch * T * C);
  const depth = coarse ? coarseDepthOf(config, coarseDepth) : Infinity;
  let offset = 0;
  for (const e of config.encoders) {
    const x = branch(e, weights, patches, batch, T, D, pos, coarse, depth);
    const w = e.width;
    for (let r = 0; r < batch * T; r++) for (let o = 0; o < w; o++) out[r * C + offset + o] = x[r * w + o];
    offset += w;
  }
  return out;
}

/** `tokens` [B, cells, d_model] = fc2(GELU(fc1(pool · features))) for `features` [B, T, C], `pool` [B, cells, T]. */
export function projectorReference(
  config: BackboneConfig,
  weights: Weights,
  features: Float32Array,
  pool: Float32Array,
  batch: number,
  tokens: number,
  cells: number,
): Float32Array {
  checkVisionWeights(config, weights, "projector");
  const C = backboneSizes(config).featureWidth;
  if (features.length !== batch * tokens * C || pool.length !== batch * cells * tokens) {
    throw new InvalidInputError("bad_argument", `projectorReference: features ${features.length} / pool ${pool.length} floats do not match B ${batch}, T ${tokens}, cells ${cells}, C ${C}`);
  }
  const pooled = new Float64Array(batch * cells * C);
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < cells; r++) {
      const o = (b * cells + r) * C;
      for (let t = 0; t < tokens; t++) {
        const a = pool[(b * cells + r) * tokens + t];
        if (a === 0) continue;
        const f = (b * tokens + t) * C;
        for (let c = 0; c < C; c++) pooled[o + c] += a * features[f + c];
      }
    }
  }
  const h = config.projector.hidden;
  const rows = batch * cells;
  const y1 = linear(pooled, rows, C, requireWeight(weights, "projector.fc1.weight"), requireWeight(weights, "projector.fc1.bias"), h);
  geluInPlace(y1);
  const y2 = linear(y1, rows, h, requireWeight(weights, "projector.fc2.weight"), requireWeight(weights, "projector.fc2.bias"), config.d_model);
  return Float32Array.from(y2);
}

export interface CoarseToFineReference {
  /** Kept fine patches, ascending. */
  readonly kept: number[];
  /** [P] keep scores, fine-grid order (NaN as −Infinity). */
  readonly scores: Float32Array;
  /** [cells] kept patches per pooling cell. */
  readonly counts: Float32Array;
  /** [T, d_model] the frame's visual tokens: non-empty cells in order, then the merge token if any patch was merged. */
  readonly tokens: Float32Array;
}

/**
 * One frame through coarse-to-fine as models/README.md writes it: the coarse scale encoded
 * (first `coarseDepth` blocks), scored (with `question` [d_model], the question's mean token
 * embedding, the scores add each coarse patch's projected token · question / √d_model; an
 * all-zero question is none) and selected by CoarseToFineSelector, the kept patches encoded,
 * pooled per cell and projected, the merge token appended. What the `vision_c2f` graph and
 * the two-graph path must both give.
 */
export function coarseToFineReference(
  config: BackboneConfig,
  weights: Weights,
  finePatches: Float32Array,
  coarsePatches: Float32Array,
  keepRatio?: number,
  coarseDepth?: number,
  question?: Float32Array,
): CoarseToFineReference {
  const s = backboneSizes(config);
  const Tc = s.coarsePatches;
  const coarseFeatures = visionReference(config, weights, coarsePatches, 1, range(Tc), true, coarseDepth);
  const guide = question === undefined ? undefined : { embedding: question, coarseTokens: coarseProjectedTokens(config, weights, coarseFeatures) };
  const sel = new CoarseToFineSelector(config, weights, keepRatio).select(coarseFeatures, guide);
  const K = sel.keptCount;
  const kept = Array.from(sel.keptIndex.subarray(0, K));
  const features = visionReference(config, weights, sel.gatherPatches(finePatches).slice(), 1, kept);
  const cellTokens = projectorReference(config, weights, features, sel.pool.slice(0, sel.cells * K), 1, K, sel.cells);
  const counts = new Float32Array(s.visualTokens);
  for (const i of kept) counts[cellOfPatch(config, i)]++;
  // Cell rows in full-grid order (empty rows unused), so layoutC2fTokens lays them out.
  const d = config.d_model;
  const full = new Float32Array(s.visualTokens * d);
  for (let r = 0; r < sel.cells; r++) full.set(cellTokens.subarray(r * d, (r + 1) * d), sel.cellIndex[r] * d);
  const tokens = new Float32Array((sel.cells + 1) * d);
  const T = layoutC2fTokens(tokens, 0, full, counts, sel.mergeToken, sel.merged);
  return { kept, scores: Float32Array.from(sel.scores), counts, tokens: tokens.slice(0, T * d) };
}

/** [(G/2)², d_model] the projector on each coarse patch alone (an identity pool): the question term's tokens. */
export function coarseProjectedTokens(config: BackboneConfig, weights: Weights, coarseFeatures: Float32Array): Float32Array {
  const Tc = backboneSizes(config).coarsePatches;
  const identity = new Float32Array(Tc * Tc);
  for (let j = 0; j < Tc; j++) identity[j * Tc + j] = 1;
  return projectorReference(config, weights, coarseFeatures, identity, 1, Tc, Tc);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function cellOfPatch(config: BackboneConfig, i: number): number {
  const s = backboneSizes(config);
  const tp = config.projector.token_pool;
  return Math.floor(Math.floor(i / s.gridSide) / tp) * s.cellSide + Math.floor((i % s.gridSide) / tp);
}

function branch(
  e: EncoderBranchConfig,
  weights: Weights,
  patches: Float32Array,
  batch: number,
  T: number,
  D: number,
  pos: readonly number[],
  coarse: boolean,
  depth: number,
): Float64Array {
  const v = `vision.${e.name}`;
  const w = e.width;
  const rows = batch * T;
  const x = linear(patches, rows, D, requireWeight(weights, `${v}.patch_embed.weight`), requireWeight(weights, `${v}.patch_embed.bias`), w);
  const pe = requireWeight(weights, coarse ? `${v}.pos_embed_coarse` : `${v}.pos_embed`);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < T; t++) {
      const r = (b * T + t) * w, q = pos[t] * w;
      for (let o = 0; o < w; o++) x[r + o] += pe[q + o];
    }
  }
  for (let i = 0; i < Math.min(e.depth, depth); i++) {
    const k = `${v}.blocks.${i}`;
    const h1 = layerNorm(x, rows, w, requireWeight(weights, `${k}.norm1.weight`), requireWeight(weights, `${k}.norm1.bias`));
    const qkv = linear(h1, rows, w, requireWeight(weights, `${k}.attn.qkv.weight`), requireWeight(weights, `${k}.attn.qkv.bias`), 3 * w);
    const att = attention(qkv, batch, T, w, e.heads);
    const a = linear(att, rows, w, requireWeight(weights, `${k}.attn.proj.weight`), requireWeight(weights, `${k}.attn.proj.bias`), w);
    for (let j = 0; j < x.length; j++) x[j] += a[j];
    const h2 = layerNorm(x, rows, w, requireWeight(weights, `${k}.norm2.weight`), requireWeight(weights, `${k}.norm2.bias`));
    const hidden = w * e.mlp_ratio;
    const m1 = linear(h2, rows, w, requireWeight(weights, `${k}.mlp.fc1.weight`), requireWeight(weights, `${k}.mlp.fc1.bias`), hidden);
    geluInPlace(m1);
    const m2 = linear(m1, rows, hidden, requireWeight(weights, `${k}.mlp.fc2.weight`), requireWeight(weights, `${k}.mlp.fc2.bias`), w);
    for (let j = 0; j < x.length; j++) x[j] += m2[j];
  }
  return layerNorm(x, rows, w, requireWeight(weights, `${v}.norm.weight`), requireWeight(weights, `${v}.norm.bias`));
}

/** Softmax(q kᵀ / √dh) v per head, no mask; qkv rows hold q, k, v stacked, each head a contiguous dh slice. */
function attention(qkv: Float64Array, batch: number, T: number, w: number, heads: number): Float64Array {
  const dh = w / heads;
  const scale = 1 / Math.sqrt(dh);
  const out = new Float64Array(batch * T * w);
  const logits = new Float64Array(T);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < T; i++) {
        const qi = (b * T + i) * 3 * w + h * dh;
        let max = -Infinity;
        for (let j = 0; j < T; j++) {
          const kj = (b * T + j) * 3 * w + w + h * dh;
          let d = 0;
          for (let c = 0; c < dh; c++) d += qkv[qi + c] * qkv[kj + c];
          logits[j] = d * scale;
          if (logits[j] > max) max = logits[j];
        }
        let z = 0;
        for (let j = 0; j < T; j++) {
          logits[j] = Math.exp(logits[j] - max);
          z += logits[j];
        }
        const o = (b * T + i) * w + h * dh;
        for (let j = 0; j < T; j++) {
          const a = logits[j] / z;
          const vj = (b * T + j) * 3 * w + 2 * w + h * dh;
          for (let c = 0; c < dh; c++) out[o + c] += a * qkv[vj + c];
        }
      }
    }
  }
  return out;
}

/** y = x Wᵀ + b for x [rows, inDim], W [outDim, inDim] (PyTorch nn.Linear layout). */
function linear(x: ArrayLike<number>, rows: number, inDim: number, W: Float32Array, bias: Float32Array, outDim: number): Float64Array {
  const y = new Float64Array(rows * outDim);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      let s = bias[o];
      const wr = o * inDim, xr = r * inDim;
      for (let i = 0; i < inDim; i++) s += x[xr + i] * W[wr + i];
      y[r * outDim + o] = s;
    }
  }
  return y;
}

function layerNorm(x: Float64Array, rows: number, w: number, g: Float32Array, bias: Float32Array): Float64Array {
  const y = new Float64Array(rows * w);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < w; i++) mean += x[r * w + i];
    mean /= w;
    let v = 0;
    for (let i = 0; i < w; i++) v += (x[r * w + i] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / w + VISION_LN_EPS);
    for (let i = 0; i < w; i++) y[r * w + i] = (x[r * w + i] - mean) * inv * g[i] + bias[i];
  }
  return y;
}

/** GELU, erf form: x·Φ(x). */
function geluInPlace(x: Float64Array): void {
  for (let i = 0; i < x.length; i++) x[i] = 0.5 * x[i] * (1 + erf(x[i] / Math.SQRT2));
}

/**
 * erf to ~1e-15 (JavaScript has no Math.erf): Taylor series near 0, continued fraction for the
 * complementary function beyond; float64 keeps the reference well inside the 1e-4 test bound.
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // erf x = 2/√π Σ (−1)ⁿ x^(2n+1) / (n! (2n+1))
    let term = ax, sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    const r = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -r : r;
  }
  if (ax > 6) return x < 0 ? -1 : 1;
  // erfc x = e^(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + 2/(x + …))))), evaluated bottom-up.
  let f = ax;
  for (let n = 60; n >= 1; n--) f = ax + n / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  const r = 1 - erfc;
  return x < 0 ? -r : r;
}

import * as ort from "onnxruntime-node";
import type { BackboneConfig } from "../../../src/backbone/config.js";
import { expectedTensors } from "../../../src/backbone/tensor_names.js";
import { mulberry32 } from "../../../src/random/mulberry32.js";

/**
 * Small model for the vision tests: 32×32 image, 8×8 patches (G 4, P 16, coarse 2×2), two
 * branches of different width and depth so concatenation order and per-branch heads matter.
 */
export const SMALL_CONFIG: BackboneConfig = {
  format: "spatial-reward-cobra",
  format_version: 1,
  trained: false,
  image_size: 32,
  patch_size: 8,
  image_mean: [0.485, 0.456, 0.406],
  image_std: [0.229, 0.224, 0.225],
  encoders: [
    { name: "dino", width: 16, depth: 2, heads: 2, mlp_ratio: 2 },
    { name: "siglip", width: 8, depth: 1, heads: 1, mlp_ratio: 3 },
  ],
  projector: { hidden: 24, token_pool: 2 },
  d_model: 16,
  n_layer: 1,
  d_state: 4,
  d_conv: 4,
  expand: 2,
  dt_rank: 4,
  vocab_size: 32,
  norm_eps: 1e-5,
  coarse_to_fine: { keep_ratio: 0.5 },
  tie_embeddings: true,
};

/**
 * Seeded weights at a scale where every term matters (randomWeights' 0.02 ViT init would make
 * attention nearly uniform and a wrong head split could hide under the tolerance): linears
 * uniform ±1.5/√fan_in, biases ±0.2, LayerNorm gains 1 ± 0.3, position embeddings ±0.5.
 */
export function testWeights(config: BackboneConfig, seed: number): Map<string, Float32Array> {
  const rand = mulberry32(seed);
  const out = new Map<string, Float32Array>();
  for (const spec of expectedTensors(config)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    const fanIn = n / spec.shape[0];
    const name = spec.name;
    let lo = -1, hi = 1;
    if (name.endsWith("norm1.weight") || name.endsWith("norm2.weight") || name.endsWith(".norm.weight")) { lo = 0.7; hi = 1.3; }
    else if (name.endsWith(".bias")) { lo = -0.2; hi = 0.2; }
    else if (name.includes("pos_embed")) { lo = -0.5; hi = 0.5; }
    else { lo = -1.5 / Math.sqrt(fanIn); hi = -lo; }
    for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rand();
    out.set(name, a);
  }
  return out;
}

export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const rand = mulberry32(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * rand() - 1) * scale;
  return a;
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

export function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

export async function runVision(s: ort.InferenceSession, patches: Float32Array, batch: number, positions: readonly number[], patchDim: number): Promise<Float32Array> {
  const out = await s.run({
    patches: new ort.Tensor("float32", patches, [batch, positions.length, patchDim]),
    positions: new ort.Tensor("int64", BigInt64Array.from(positions, (p) => BigInt(p)), [positions.length]),
  });
  return out.features.data as Float32Array;
}

export async function runProjector(s: ort.InferenceSession, features: Float32Array, pool: Float32Array, batch: number, tokens: number, cells: number, width: number): Promise<Float32Array> {
  const out = await s.run({
    features: new ort.Tensor("float32", features, [batch, tokens, width]),
    pool: new ort.Tensor("float32", pool, [batch, cells, tokens]),
  });
  return out.tokens.data as Float32Array;
}

import * as ort from "onnxruntime-node";
import { TINY_CONFIG, type BackboneConfig } from "../../src/backbone/config.js";
import { mulberry32 } from "../../src/random/mulberry32.js";

/**
 * What the backbone test folders share: their small configs (tiny dims keep the reference
 * loops and sessions fast), single-threaded ORT sessions, seeded arrays and the error measure.
 */

/** The language-model tests' config: the tiny default's vision side, a small Mamba (E = 64, L = 2). */
export const SMALL_LM_CONFIG: BackboneConfig = {
  ...TINY_CONFIG,
  d_model: 32,
  n_layer: 2,
  d_state: 8,
  d_conv: 4,
  expand: 2,
  dt_rank: 4,
  vocab_size: 50,
};

/**
 * The vision tests' config: 32×32 image, 8×8 patches (G 4, P 16, coarse 2×2), two branches of
 * different width and depth so concatenation order and per-branch heads matter.
 */
export const SMALL_VISION_CONFIG: BackboneConfig = {
  ...TINY_CONFIG,
  image_size: 32,
  patch_size: 8,
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
  coarse_to_fine: { keep_ratio: 0.5 },
};

/** The format tests' config: a small valid model (two branches, coarse-to-fine on). */
export const SMALL_FORMAT_CONFIG: BackboneConfig = {
  ...TINY_CONFIG,
  image_size: 32,
  patch_size: 8,
  encoders: [
    { name: "dino", width: 8, depth: 1, heads: 2, mlp_ratio: 2 },
    { name: "siglip", width: 4, depth: 1, heads: 1, mlp_ratio: 2 },
  ],
  projector: { hidden: 16, token_pool: 2 },
  d_model: 16,
  n_layer: 2,
  d_state: 4,
  d_conv: 4,
  expand: 2,
  dt_rank: 4,
};

export const SESSION_OPTS: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1 };

export function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, SESSION_OPTS);
}

/** n seeded values uniform in [−scale, scale). */
export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const r = mulberry32(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * r() - 1) * scale;
  return a;
}

/** Largest |a − b|; Infinity when any difference is NaN, so a NaN output never passes a bound. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** The runtime and node tests' model: 64 px, 4x4 patches pooled to 4 visual tokens, d_model 32; vocab fits the default tokenizer (264). */
export const RUNTIME_SMALL: BackboneConfig = {
  ...TINY_CONFIG,
  image_size: 64,
  patch_size: 16,
  encoders: [
    { name: "dino", width: 16, depth: 1, heads: 2, mlp_ratio: 2 },
    { name: "siglip", width: 8, depth: 1, heads: 1, mlp_ratio: 2 },
  ],
  projector: { hidden: 32, token_pool: 2 },
  d_model: 32,
  n_layer: 2,
  d_state: 8,
  d_conv: 4,
  expand: 2,
  dt_rank: 4,
  vocab_size: 264,
};


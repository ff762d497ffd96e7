import { TINY_CONFIG, type BackboneConfig } from "../../../src/backbone/config.js";
import { mulberry32 } from "../../../src/random/mulberry32.js";
import type { CameraImage } from "../../../nodes/backbone/backbone_runtime.js";

/** A small model: 64 px, 4x4 patches pooled to 4 visual tokens, d_model 32; vocab fits the default tokenizer (264). */
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

/** A seeded rgb8 image with row padding, so step matters. */
export function randomImage(seed: number, width = 48, height = 40): CameraImage {
  const step = width * 3 + 4;
  const r = mulberry32(seed);
  const data = new Uint8Array(step * height);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(r() * 256);
  return { width, height, encoding: "rgb8", step, data };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

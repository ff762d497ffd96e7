import type { ImageLike } from "../src/scene/image.js";
import { InvalidInputError } from "../src/errors.js";
import type { Rng } from "./rng.js";
import type { NoiseModel } from "./sensor_noise.js";

/**
 * A photometric variation of one rendered RGB frame. The renderer lights every scene the same
 * way and the RealSense model degrades depth and masks only, so without this an RGB-only model
 * would see one exposure, one white balance and noiseless pixels.
 */
export interface ColorJitter {
  /** Overall gain (exposure), 1 = as rendered. */
  brightness: number;
  /** Contrast about mid-grey (128), 1 = as rendered. */
  contrast: number;
  /** Per-channel gains (white balance), 1 = as rendered. */
  gainR: number;
  gainG: number;
  gainB: number;
  /** Standard deviation of per-pixel, per-channel Gaussian read noise, in 8-bit levels. */
  noiseSigma: number;
}

/** Half-widths and ranges the jitter is drawn from (recorded in an export's meta.json). */
export interface ColorJitterRanges {
  brightness: readonly [number, number];
  contrast: readonly [number, number];
  channelGain: readonly [number, number];
  /** Read noise for NoiseModel "realsense"; "none" has no pixel noise. */
  noiseSigma: readonly [number, number];
}

/**
 * Small enough that a colour keeps its name (the questions say "the red mug"): the largest
 * combined change is about ±20% per channel, far from what turns red into orange or yellow.
 */
export const DEFAULT_COLOR_JITTER_RANGES: ColorJitterRanges = {
  brightness: [0.85, 1.15],
  contrast: [0.9, 1.1],
  channelGain: [0.95, 1.05],
  noiseSigma: [1, 3],
};

export const IDENTITY_COLOR_JITTER: ColorJitter = { brightness: 1, contrast: 1, gainR: 1, gainG: 1, gainB: 1, noiseSigma: 0 };

/** One frame's (or one episode's) jitter, drawn in a fixed order so a seed always gives the same one. */
export function drawColorJitter(rng: Rng, noise: NoiseModel, ranges: ColorJitterRanges = DEFAULT_COLOR_JITTER_RANGES): ColorJitter {
  const u = (r: readonly [number, number]) => rng.uniform(r[0], r[1]);
  const brightness = u(ranges.brightness);
  const contrast = u(ranges.contrast);
  const gainR = u(ranges.channelGain), gainG = u(ranges.channelGain), gainB = u(ranges.channelGain);
  // Drawn for both models, so switching the noise model does not shift the other draws.
  const sigma = u(ranges.noiseSigma);
  return { brightness, contrast, gainR, gainG, gainB, noiseSigma: noise === "realsense" ? sigma : 0 };
}

/**
 * Writes `src` (rgb8, rows of `step` bytes) jittered into `dst` (packed rgb8, width × height × 3):
 * out = clamp(round((in · gain_c · brightness − 128) · contrast + 128 + σ · n)), n ~ N(0, 1)
 * per pixel and channel from `rng` (not drawn when σ = 0). Same inputs and rng state, same bytes.
 */
export function applyColorJitter(src: ImageLike, dst: Uint8Array, jitter: ColorJitter, rng: Rng): void {
  const { width, height, step } = src;
  if (src.encoding !== "rgb8") throw new InvalidInputError("bad_encoding", `color jitter needs rgb8, got ${src.encoding}`);
  if (step < width * 3 || src.data.length < step * (height - 1) + width * 3) {
    throw new InvalidInputError("bad_image_size", `color jitter: ${width}x${height} rgb8 with step ${step} needs more than ${src.data.length} bytes`);
  }
  if (dst.length !== width * height * 3) throw new InvalidInputError("bad_image_size", `color jitter: output holds ${dst.length} bytes, ${width * height * 3} needed`);
  for (const [k, v] of Object.entries(jitter)) {
    if (!Number.isFinite(v) || v < 0) throw new InvalidInputError("bad_argument", `color jitter ${k} must be a finite number ≥ 0, got ${v}`);
  }
  const c = jitter.contrast;
  const gains = [jitter.gainR * jitter.brightness * c, jitter.gainG * jitter.brightness * c, jitter.gainB * jitter.brightness * c];
  const offset = 128 - 128 * c;
  const sigma = jitter.noiseSigma;
  const data = src.data;
  for (let v = 0; v < height; v++) {
    let i = v * step;
    let o = v * width * 3;
    for (let u = 0; u < width * 3; u++, i++, o++) {
      let x = data[i] * gains[u % 3] + offset;
      if (sigma > 0) x += sigma * rng.normal();
      // Uint8Array stores would wrap or truncate: clamp and round explicitly.
      dst[o] = x <= 0 ? 0 : x >= 255 ? 255 : Math.round(x);
    }
  }
}

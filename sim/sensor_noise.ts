import type { Rng } from "./rng.js";

export type NoiseModel = "none" | "realsense";

export interface StereoParams {
  /** Disparity noise, pixels (RealSense D4xx subpixel accuracy ~0.08). */
  sigmaDisparity: number;
  /** Stereo baseline, metres (D435: 50 mm). */
  baseline: number;
}

export const REALSENSE_D435: StereoParams = { sigmaDisparity: 0.08, baseline: 0.05 };

/**
 * RealSense-like degradation of a perfect render, in place:
 * - depth noise σ(z) = z²·σ_d/(f·b): stereo error grows with the square of range;
 * - flying pixels: at depth discontinuities (> 3 cm between neighbours) about half the edge
 *   pixels take a depth between foreground and background;
 * - the stereo shadow: background just left of a foreground edge is seen by one imager only
 *   and reads 0, over f·b·(1/z_fg − 1/z_bg) pixels;
 * - random dropouts along edges and a few small holes;
 * - instance masks whose boundaries are off by 1–2 pixels (per-object dilation or erosion
 *   plus ragged boundary pixels), as a real segmenter's would be.
 */
export class RealsenseNoise {
  private scratchDepth = new Float32Array(0);
  private scratchMask = new Uint8Array(0);

  constructor(private readonly params: StereoParams = REALSENSE_D435) {}

  apply(depth: Float32Array, mask: Uint8Array, width: number, height: number, fx: number, objects: number, rng: Rng): void {
    const n = width * height;
    if (this.scratchDepth.length !== n) {
      this.scratchDepth = new Float32Array(n);
      this.scratchMask = new Uint8Array(n);
    }
    const clean = this.scratchDepth;
    clean.set(depth);
    const fb = fx * this.params.baseline;
    const k = this.params.sigmaDisparity / fb;

    for (let v = 0; v < height; v++) {
      for (let u = 0; u < width; u++) {
        const i = v * width + u;
        const z = clean[i];
        if (!(z > 0)) continue;
        // Nearest and farthest 4-neighbour, to find discontinuities.
        let zn = z, zf = z;
        if (u > 0 && clean[i - 1] > 0) { zn = Math.min(zn, clean[i - 1]); zf = Math.max(zf, clean[i - 1]); }
        if (u + 1 < width && clean[i + 1] > 0) { zn = Math.min(zn, clean[i + 1]); zf = Math.max(zf, clean[i + 1]); }
        if (v > 0 && clean[i - width] > 0) { zn = Math.min(zn, clean[i - width]); zf = Math.max(zf, clean[i - width]); }
        if (v + 1 < height && clean[i + width] > 0) { zn = Math.min(zn, clean[i + width]); zf = Math.max(zf, clean[i + width]); }
        const edge = zf - zn > 0.03;
        if (edge) {
          const r = rng.next();
          if (r < 0.12) { depth[i] = 0; continue; }
          if (r < 0.6) {
            const w = rng.next();
            depth[i] = zn + (zf - zn) * w;
            continue;
          }
        }
        depth[i] = z + z * z * k * rng.normal();
      }
    }

    // Stereo shadow on the left of foreground edges (left imager is the depth reference).
    for (let v = 0; v < height; v++) {
      for (let u = 1; u < width; u++) {
        const i = v * width + u;
        const zBg = clean[i - 1], zFg = clean[i];
        if (!(zFg > 0) || !(zBg > zFg + 0.03)) continue;
        const w = Math.min(40, Math.round(fb * (1 / zFg - 1 / zBg)));
        for (let s = 1; s <= w && u - s >= 0; s++) {
          const j = i - s;
          if (clean[j] > zFg + 0.03) depth[j] = 0;
        }
      }
    }

    // Holes: small elliptical blobs of no reading (specular or textureless patches).
    const holes = rng.int(2, 6);
    for (let h = 0; h < holes; h++) {
      const cu = rng.uniform(0, width), cv = rng.uniform(0, height);
      const ru = rng.uniform(2, 7), rv = rng.uniform(2, 7);
      for (let v = Math.max(0, Math.floor(cv - rv)); v <= Math.min(height - 1, Math.ceil(cv + rv)); v++) {
        for (let u = Math.max(0, Math.floor(cu - ru)); u <= Math.min(width - 1, Math.ceil(cu + ru)); u++) {
          if (((u - cu) / ru) ** 2 + ((v - cv) / rv) ** 2 <= 1) depth[v * width + u] = 0;
        }
      }
    }

    this.perturbMask(mask, width, height, objects, rng);
  }

  private perturbMask(mask: Uint8Array, width: number, height: number, objects: number, rng: Rng): void {
    const src = this.scratchMask;
    for (let id = 1; id <= objects; id++) {
      // −2..+2 pixels: erode or dilate this object's mask.
      const steps = rng.int(-2, 2);
      for (let s = 0; s < Math.abs(steps); s++) {
        src.set(mask);
        for (let v = 1; v < height - 1; v++) {
          for (let u = 1; u < width - 1; u++) {
            const i = v * width + u;
            if (steps > 0) {
              if (src[i] === 0 && (src[i - 1] === id || src[i + 1] === id || src[i - width] === id || src[i + width] === id)) mask[i] = id;
            } else if (src[i] === id && (src[i - 1] !== id || src[i + 1] !== id || src[i - width] !== id || src[i + width] !== id)) {
              mask[i] = 0;
            }
          }
        }
      }
    }
    // Ragged boundaries: a third of boundary pixels take a neighbour's label.
    src.set(mask);
    for (let v = 1; v < height - 1; v++) {
      for (let u = 1; u < width - 1; u++) {
        const i = v * width + u;
        const a = src[i];
        const b = src[i + 1] !== a ? src[i + 1] : src[i + width] !== a ? src[i + width] : a;
        if (b !== a && rng.next() < 0.33) mask[i] = b;
      }
    }
  }
}

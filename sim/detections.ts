import type { Detection2D } from "../src/perception/rgbd_frame.js";
import type { Rng } from "./rng.js";

/**
 * Detector-like 2D boxes from the true instance mask: each visible object's pixel bounds,
 * with centre jitter of a few pixels, ±8% scale error and a plausible score.
 */
export function noisyDetections(mask: Uint8Array, width: number, height: number, labels: ReadonlyMap<number, string>, rng: Rng, noisy = true): Detection2D[] {
  const n = labels.size;
  const u0 = new Int32Array(n + 1).fill(width), u1 = new Int32Array(n + 1).fill(-1);
  const v0 = new Int32Array(n + 1).fill(height), v1 = new Int32Array(n + 1).fill(-1);
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      const id = mask[v * width + u];
      if (id === 0 || id > n) continue;
      if (u < u0[id]) u0[id] = u;
      if (u > u1[id]) u1[id] = u;
      if (v < v0[id]) v0[id] = v;
      if (v > v1[id]) v1[id] = v;
    }
  }
  const out: Detection2D[] = [];
  for (let id = 1; id <= n; id++) {
    if (u1[id] < 0) continue;
    const w = u1[id] - u0[id] + 1, h = v1[id] - v0[id] + 1;
    const s = noisy ? 1 + rng.uniform(-0.08, 0.08) : 1;
    out.push({
      kind: labels.get(id) ?? "object",
      score: noisy ? rng.uniform(0.6, 0.99) : 1,
      cx: (u0[id] + u1[id]) / 2 + (noisy ? rng.uniform(-3, 3) : 0),
      cy: (v0[id] + v1[id]) / 2 + (noisy ? rng.uniform(-3, 3) : 0),
      width: w * s,
      height: h * s,
    });
  }
  return out;
}

import { quantileInPlace } from "../geometry/quantile.js";

/** Samples farther than this from the support surface are not on it (objects, a floor beyond). */
const NEAR_SUPPORT_M = 0.03;
/** Fewer samples on the support than this: no estimate (0). */
const MIN_SAMPLES = 50;

/**
 * The depth noise of this frame, as its standard deviation at 1 m range (σ(r) = k·r², the
 * law of stereo depth, where disparity noise is constant), estimated from the background
 * samples that lie on the support surface: the surface is flat, so their scatter about it is
 * the sensor's. A sample at range r whose ray meets the surface at sin α (α: angle between ray
 * and surface) is off it by ε·sin α for a depth error ε; k = 1.4826 · median |ε| / r² (the
 * median absolute deviation, robust to the objects' lowest points among the samples).
 * 0 for exact depth, and when the support is unknown or too few samples lie on it.
 *
 * `samples` are xyz triples in the camera optical frame; `rotation` takes them to the spatial
 * frame (z up), where the support lies at `supportZ`. `scratch` holds at least n values.
 */
export function depthNoiseAt1m(samples: Float32Array, n: number, rotation: Float64Array, supportZ: number | null, scratch: Float64Array): number {
  if (supportZ === null) return 0;
  const r6 = rotation[6], r7 = rotation[7], r8 = rotation[8];
  let m = 0;
  for (let i = 0; i < n; i++) {
    const x = samples[i * 3], y = samples[i * 3 + 1], z = samples[i * 3 + 2];
    const up = r6 * x + r7 * y + r8 * z;
    const h = up - supportZ;
    if (!(Math.abs(h) < NEAR_SUPPORT_M)) continue;
    const range = Math.hypot(x, y, z);
    // |up| / range is sin α; grazing rays (the table's far edge seen edge-on) say little.
    const sinA = Math.abs(up) / range;
    if (!(sinA > 0.1)) continue;
    scratch[m++] = Math.abs(h) / sinA / (range * range);
  }
  if (m < MIN_SAMPLES) return 0;
  return 1.4826 * quantileInPlace(scratch, m, 0.5);
}

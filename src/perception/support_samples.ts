import type { Detection2D } from "./rgbd_frame.js";
import type { LabelExtents } from "./label_extents.js";

/** A pixel rectangle, inclusive (u0 > u1: empty). */
export interface PixelRegion {
  u0: number; u1: number; v0: number; v1: number;
}

/** The objects' region: the union of the present instances' extents (u1 < 0: none). */
export function instanceRegion(ext: LabelExtents, width: number, height: number, out: PixelRegion): void {
  out.u0 = width; out.u1 = -1; out.v0 = height; out.v1 = -1;
  for (let i = 0; i < ext.size; i++) {
    const id = ext.present[i];
    grow(out, ext.u0[id], ext.u1[id], ext.v0[id], ext.v1[id]);
  }
}

/** The objects' region: the union of the detection boxes (unclipped, fractional; u1 < 0: none). */
export function detectionRegion(dets: readonly Detection2D[], width: number, height: number, out: PixelRegion): void {
  out.u0 = width; out.u1 = -1; out.v0 = height; out.v1 = -1;
  for (const det of dets) grow(out, det.cx - det.width / 2, det.cx + det.width / 2, det.cy - det.height / 2, det.cy + det.height / 2);
}

function grow(r: PixelRegion, u0: number, u1: number, v0: number, v1: number): void {
  r.u0 = Math.min(r.u0, u0); r.u1 = Math.max(r.u1, u1);
  r.v0 = Math.min(r.v0, v0); r.v1 = Math.max(r.v1, v1);
}

/**
 * Where the support is sought: the objects' region widened by half its size (+ 8 px) each way,
 * clipped to the image. The support is the surface the objects stand on, so the plane is
 * sought around them (a floor or a wall elsewhere in the view may be larger).
 */
export function supportRegion(objects: PixelRegion, width: number, height: number, out: PixelRegion): void {
  const mu = Math.round((objects.u1 - objects.u0) * 0.5) + 8, mv = Math.round((objects.v1 - objects.v0) * 0.5) + 8;
  out.u0 = Math.max(0, Math.floor(objects.u0 - mu)); out.u1 = Math.min(width - 1, Math.ceil(objects.u1 + mu));
  out.v0 = Math.max(0, Math.floor(objects.v0 - mv)); out.v1 = Math.min(height - 1, Math.ceil(objects.v1 + mv));
}

/** Grid step of the background samples over `region`: about `samples` of them, every 2nd pixel at the finest. */
export function sampleStride(region: PixelRegion, samples: number): number {
  return Math.max(2, Math.round(Math.sqrt(((region.u1 - region.u0 + 1) * (region.v1 - region.v0 + 1)) / samples)));
}

/**
 * Layout of the `backgroundSamples` kernel's parameters (a Float64Array): the depth image's
 * row stride (elements) and scale to metres, the label image's row stride (0: no labels, every
 * valid pixel is background), the region, the grid stride, and the trusted depth range.
 */
export const SAMPLE_PARAMS = {
  depthStride: 0, depthScale: 1, labelStride: 2, u0: 3, u1: 4, v0: 5, v1: 6, stride: 7, minDepth: 8, maxDepth: 9,
  length: 10,
} as const;

/**
 * Background samples for the support plane: a grid over the region (offset by half a stride),
 * each valid depth reading not on a labelled pixel unprojected to xyz in the camera frame
 * (rays rayX[u], rayY[v] scaled by depth) into `out`. Returns the samples written;
 * `counts[0]` gets them too and `counts[1]` the valid readings, labelled or not (none at all
 * means the depth is unusable there). The TypeScript reference of the `backgroundSamples` kernel.
 */
export function backgroundSamplesTs(
  depth: Float32Array | Uint16Array, labels: Uint8Array | Uint16Array, rayX: Float64Array, rayY: Float64Array,
  p: Float64Array, out: Float32Array, counts: Int32Array,
): number {
  const ds = p[SAMPLE_PARAMS.depthStride], dscale = p[SAMPLE_PARAMS.depthScale], ls = p[SAMPLE_PARAMS.labelStride];
  const pu0 = p[SAMPLE_PARAMS.u0], pu1 = p[SAMPLE_PARAMS.u1], pv0 = p[SAMPLE_PARAMS.v0], pv1 = p[SAMPLE_PARAMS.v1];
  const stride = p[SAMPLE_PARAMS.stride], minZ = p[SAMPLE_PARAMS.minDepth], maxZ = p[SAMPLE_PARAMS.maxDepth];
  const instanceMode = ls > 0;
  let ns = 0, valid = 0;
  for (let v = pv0 + (stride >> 1); v <= pv1; v += stride) {
    const ry = rayY[v];
    for (let u = pu0 + (stride >> 1); u <= pu1; u += stride) {
      const z = depth[v * ds + u] * dscale;
      if (!(z > minZ && z < maxZ)) continue;
      valid++;
      if (instanceMode && labels[v * ls + u] !== 0) continue;
      out[ns * 3] = rayX[u] * z;
      out[ns * 3 + 1] = ry * z;
      out[ns * 3 + 2] = z;
      ns++;
    }
  }
  counts[0] = ns;
  counts[1] = valid;
  return ns;
}

/** Height of the dominant horizontal surface along `up` (densest 1 cm slab of sample heights). */
export function supportHeightAlong(samples: Float32Array, n: number, ux: number, uy: number, uz: number): number | null {
  if (n === 0) return null;
  const bins = new Map<number, number>();
  let best = 0, bestBin = 0;
  for (let i = 0; i < n * 3; i += 3) {
    const h = ux * samples[i] + uy * samples[i + 1] + uz * samples[i + 2];
    const b = Math.round(h * 100);
    const c = (bins.get(b) ?? 0) + 1;
    bins.set(b, c);
    if (c > best) { best = c; bestBin = b; }
  }
  let s = 0, c = 0;
  for (let i = 0; i < n * 3; i += 3) {
    const h = ux * samples[i] + uy * samples[i + 1] + uz * samples[i + 2];
    if (Math.abs(h - bestBin / 100) <= 0.01) { s += h; c++; }
  }
  // The plane's offset d is minus the surface height along up.
  return -(s / c);
}

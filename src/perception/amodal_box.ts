import { quantileInPlace } from "../geometry/quantile.js";

/** An axis-aligned box in the spatial frame. */
export interface Box3 {
  cx: number; cy: number; cz: number;
  sx: number; sy: number; sz: number;
}

export interface AmodalBoxOptions {
  /** Fraction of points trimmed at each end of every extent, against stray points. */
  trim: number;
  /** An object whose lowest points are this close to the support surface rests on it. */
  restingTolerance: number;
}

export const DEFAULT_AMODAL_BOX_OPTIONS: AmodalBoxOptions = { trim: 0.005, restingTolerance: 0.03 };

/**
 * Estimates the whole object's box from the part the camera sees (SpatialVLM works from
 * point clouds; a one-view cloud misses the back half, which biases centres towards the
 * camera by about a radius). Two observations recover the hidden half:
 * - the side-to-side extremes, seen perpendicular to the viewing ray, are always visible
 *   on a convex object, so their midpoint is the centre across the ray;
 * - the highest points of an object resting on a surface lie over its centre (a flat top
 *   is seen whole from above, a round top peaks at the centre), giving the centre along
 *   the ray.
 * Tabletop objects have centrally symmetric footprints (boxes, cylinders, spheres,
 * capsules), so reflecting the seen points through that centre completes the footprint.
 * Heights run from the support surface (bottoms are hidden) to the top.
 */
export class AmodalBoxEstimator {
  private scratch = new Float32Array(1024);
  readonly options: AmodalBoxOptions;

  constructor(options: Partial<AmodalBoxOptions> = {}) {
    this.options = { ...DEFAULT_AMODAL_BOX_OPTIONS, ...options };
  }

  /** Points are x, y, z arrays (spatial frame) over [start, start + n). Writes into `out`. */
  estimate(xs: Float32Array, ys: Float32Array, zs: Float32Array, start: number, n: number, supportZ: number | null, out: Box3): void {
    if (this.scratch.length < n) this.scratch = new Float32Array(Math.max(n, this.scratch.length * 2));
    const s = this.scratch;
    const lo = this.options.trim;
    const hi = 1 - lo;
    const end = start + n;

    s.set(zs.subarray(start, end));
    const zTop = quantileInPlace(s, n, 0.99);
    const zLow = quantileInPlace(s, n, lo);
    const bottom = supportZ !== null && zLow - supportZ < this.options.restingTolerance ? Math.min(supportZ, zLow) : zLow;
    const height = Math.max(zTop - bottom, 1e-3);

    // Viewing azimuth of the object: the frame in which "across the ray" is well defined.
    let mx = 0, my = 0;
    for (let i = start; i < end; i++) { mx += xs[i]; my += ys[i]; }
    const phi = Math.atan2(my / n, mx / n);
    const c = Math.cos(phi), sn = Math.sin(phi);

    for (let i = start, k = 0; i < end; i++, k++) s[k] = -xs[i] * sn + ys[i] * c;
    const bLo = quantileInPlace(s, n, lo);
    const bHi = quantileInPlace(s, n, hi);
    const cb = (bLo + bHi) / 2;

    // Centre along the ray: centroid of the top band.
    const band = Math.max(0.006, 0.06 * height);
    let sa = 0, cnt = 0;
    for (let i = start; i < end; i++) {
      if (zs[i] >= zTop - band) { sa += xs[i] * c + ys[i] * sn; cnt++; }
    }
    let ca: number;
    if (cnt > 0) ca = sa / cnt;
    else { ca = mx / n * c + my / n * sn; }

    const cx = ca * c - cb * sn;
    const cy = ca * sn + cb * c;

    s.set(xs.subarray(start, end));
    const xLo = quantileInPlace(s, n, lo);
    const xHi = quantileInPlace(s, n, hi);
    s.set(ys.subarray(start, end));
    const yLo = quantileInPlace(s, n, lo);
    const yHi = quantileInPlace(s, n, hi);

    out.cx = cx;
    out.cy = cy;
    out.cz = bottom + height / 2;
    out.sx = 2 * Math.max(cx - xLo, xHi - cx);
    out.sy = 2 * Math.max(cy - yLo, yHi - cy);
    out.sz = height;
  }
}

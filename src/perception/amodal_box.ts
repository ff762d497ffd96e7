import { quantileInPlace } from "../geometry/quantile.js";

/** An axis-aligned box in the spatial frame. */
export interface Box3 {
  cx: number; cy: number; cz: number;
  sx: number; sy: number; sz: number;
}

/** What the object stands on, judged from the image at its bottom edge. */
export type RestingOn = "support" | "object" | "nothing" | "unknown";

export interface AmodalBoxOptions {
  /** Points trimmed at each end of every extent, as a fraction of the cloud, against stray points. */
  trim: number;
  /** An object whose lowest points are this close to the support surface rests on it. */
  restingTolerance: number;
}

export const DEFAULT_AMODAL_BOX_OPTIONS: AmodalBoxOptions = { trim: 0.0015, restingTolerance: 0.03 };

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
  /** Whether the last estimate took the object to rest on the support surface. */
  lastResting = false;
  /** Points the last estimate rejected as strays. */
  rejected = 0;
  readonly options: AmodalBoxOptions;

  constructor(options: Partial<AmodalBoxOptions> = {}) {
    this.options = { ...DEFAULT_AMODAL_BOX_OPTIONS, ...options };
  }

  /**
   * Points are x, y, z arrays (spatial frame) over [start, start + n); stray points are
   * compacted out of them in place. Writes the box into `out`; returns the points kept.
   */
  estimate(xs: Float32Array, ys: Float32Array, zs: Float32Array, start: number, n0: number, supportZ: number | null, restingOn: RestingOn, out: Box3): number {
    if (this.scratch.length < n0) this.scratch = new Float32Array(Math.max(n0, this.scratch.length * 2));
    const s = this.scratch;
    const n = this.rejectStrays(xs, ys, zs, start, n0);
    const lo = this.options.trim;
    const hi = 1 - lo;
    const end = start + n;

    s.set(zs.subarray(start, end));
    const zTop = quantileInPlace(s, n, 0.97);
    const zLow = quantileInPlace(s, n, lo);
    // A resting object's underside is hidden but ends at the support surface.
    const resting = restingOn === "support" || (restingOn === "unknown" && supportZ !== null && zLow - supportZ < this.options.restingTolerance);
    const bottom = supportZ !== null && resting ? Math.min(supportZ, zLow) : zLow;
    this.lastResting = resting;
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
    return n;
  }

  /**
   * Mask spill and flying pixels that survive the per-pixel tests lie away from the object's
   * body. Objects are compact around their median, so points farther out horizontally than
   * 1.3 times the 90th-percentile radius (plus 1 cm) are strays.
   */
  private rejectStrays(xs: Float32Array, ys: Float32Array, zs: Float32Array, start: number, n: number): number {
    const s = this.scratch;
    const end = start + n;
    s.set(xs.subarray(start, end));
    const mx = quantileInPlace(s, n, 0.5);
    s.set(ys.subarray(start, end));
    const my = quantileInPlace(s, n, 0.5);
    for (let i = start, k = 0; i < end; i++, k++) {
      const dx = xs[i] - mx, dy = ys[i] - my;
      s[k] = dx * dx + dy * dy;
    }
    const limit = 1.3 * Math.sqrt(quantileInPlace(s, n, 0.9)) + 0.01;
    const limit2 = limit * limit;
    let w = start;
    for (let i = start; i < end; i++) {
      const dx = xs[i] - mx, dy = ys[i] - my;
      if (dx * dx + dy * dy > limit2) continue;
      xs[w] = xs[i]; ys[w] = ys[i]; zs[w] = zs[i];
      w++;
    }
    this.rejected = n - (w - start);
    return w - start;
  }
}

import { smallestEigenvector } from "../geometry/symmetric3.js";

/** A plane n·p + d = 0 in the camera optical frame, n unit and pointing at the camera (d > 0). */
export interface Plane {
  nx: number;
  ny: number;
  nz: number;
  /** Camera height above the plane. */
  d: number;
  /** Fraction of sample points within the inlier threshold. */
  inlierFraction: number;
}

export interface SupportPlaneOptions {
  /** RANSAC inlier distance, metres (VQASynth uses 1 cm; stereo noise at 1.5 m needs a little more). */
  threshold: number;
  maxIterations: number;
  /** Stop early once a plane this good has been found with 99.9% confidence. */
  confidence: number;
  /** A plane needs at least this fraction of the samples (VQASynth: 30%). */
  minInlierFraction: number;
}

export const DEFAULT_SUPPORT_PLANE_OPTIONS: SupportPlaneOptions = {
  threshold: 0.012,
  maxIterations: 300,
  confidence: 0.999,
  minInlierFraction: 0.3,
};

/**
 * The plane fit's work over the samples (xyz triples, camera frame), as kernels: the
 * TypeScript ones below are the reference; perception's callers may pass native ones
 * (perception_kernels.ts). A plane is n·p + d = 0 with (nx, ny, nz) unit.
 */
export interface PlaneKernels {
  /** Samples within `threshold` of the plane. */
  countPlaneInliers(pts: Float32Array, n: number, nx: number, ny: number, nz: number, d: number, threshold: number): number;
  /**
   * Least-squares plane through the plane's inliers into out (nx, ny, nz, d; normal on the
   * given one's side, d > 0): returns how many inliers it rests on, 0 when it cannot be fitted.
   */
  refinePlane(pts: Float32Array, n: number, nx: number, ny: number, nz: number, d: number, threshold: number, out: Float64Array): number;
  /**
   * RANSAC over random sample triples (xorshift32 state seed[0], advanced in place; stops early at
   * `confidence`): the best plane into out (nx, ny, nz, d), returns its inlier count (0: none).
   */
  ransacPlane(pts: Float32Array, n: number, seed: Uint32Array, threshold: number, maxIterations: number, confidence: number, out: Float64Array): number;
}

/**
 * Finds the support surface (table top, floor) as the dominant plane of background samples
 * by RANSAC, refined by least squares on its inliers. A fixed camera sees the same plane
 * frame after frame, so the last plane is re-checked first and RANSAC only runs when it
 * no longer explains the samples.
 */
export class SupportPlaneEstimator {
  private last: Plane | null = null;
  /** xorshift32 state, one element so a kernel can advance it in place. */
  private readonly seed = new Uint32Array([0x9e3779b9]);
  private markedLast: Plane | null = null;
  private markedSeed = 0x9e3779b9;
  private readonly fitted = new Float64Array(4);
  readonly options: SupportPlaneOptions;

  constructor(options: Partial<SupportPlaneOptions> = {}, private readonly kernels: PlaneKernels = TS_PLANE_KERNELS) {
    this.options = { ...DEFAULT_SUPPORT_PLANE_OPTIONS, ...options };
  }

  reset(): void {
    this.last = null;
  }

  /** Remembers the current state, so a frame that is rejected later can be undone. */
  mark(): void {
    this.markedLast = this.last;
    this.markedSeed = this.seed[0];
  }

  /** Back to the state at the last mark(): a rejected frame leaves no trace. */
  rollback(): void {
    this.last = this.markedLast;
    this.seed[0] = this.markedSeed;
  }

  /** Samples are xyz triples in the camera optical frame; returns null if no plane is supported. */
  estimate(pts: Float32Array, n: number): Plane | null {
    if (n < 3) return null;
    if (this.last) {
      const l = this.last;
      const frac = this.kernels.countPlaneInliers(pts, n, l.nx, l.ny, l.nz, l.d, this.options.threshold) / n;
      if (frac >= Math.max(this.options.minInlierFraction, 0.85 * l.inlierFraction)) {
        const refined = this.refine(pts, n, l, this.options.threshold);
        if (refined) {
          this.last = refined;
          return refined;
        }
      }
    }
    const found = this.ransac(pts, n);
    this.last = found;
    return found;
  }

  /** RANSAC without the temporal shortcut (e.g. after rejecting a plane as not the support). */
  estimateFresh(pts: Float32Array, n: number): Plane | null {
    if (n < 3) return null;
    const found = this.ransac(pts, n);
    this.last = found;
    return found;
  }

  private refine(pts: Float32Array, n: number, p: { nx: number; ny: number; nz: number; d: number }, threshold: number): Plane | null {
    const out = this.fitted;
    const c = this.kernels.refinePlane(pts, n, p.nx, p.ny, p.nz, p.d, threshold, out);
    return c === 0 ? null : { nx: out[0], ny: out[1], nz: out[2], d: out[3], inlierFraction: c / n };
  }

  private ransac(pts: Float32Array, n: number): Plane | null {
    const { threshold, maxIterations, confidence, minInlierFraction } = this.options;
    const best = this.fitted;
    const bestCount = this.kernels.ransacPlane(pts, n, this.seed, threshold, maxIterations, confidence, best);
    if (bestCount === 0 || bestCount / n < minInlierFraction) return null;
    return this.refine(pts, n, { nx: best[0], ny: best[1], nz: best[2], d: best[3] }, threshold);
  }
}

/** The TypeScript plane kernels: the reference (and the fallback) of the native ones. */
export const TS_PLANE_KERNELS: PlaneKernels = {
  countPlaneInliers: countInliers,
  refinePlane,
  ransacPlane,
};

/** xorshift32 on state[0]: deterministic, so the same frames give the same plane. */
function nextRandom(state: Uint32Array): number {
  let x = state[0];
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  state[0] = x >>> 0;
  return state[0] / 4294967296;
}

function ransacPlane(pts: Float32Array, n: number, seed: Uint32Array, threshold: number, maxIterations: number, confidence: number, out: Float64Array): number {
  let bestCount = 0;
  let needed = maxIterations;
  for (let it = 0; it < needed && it < maxIterations; it++) {
    const i = Math.floor(nextRandom(seed) * n) * 3;
    const j = Math.floor(nextRandom(seed) * n) * 3;
    const k = Math.floor(nextRandom(seed) * n) * 3;
    const ux = pts[j] - pts[i], uy = pts[j + 1] - pts[i + 1], uz = pts[j + 2] - pts[i + 2];
    const vx = pts[k] - pts[i], vy = pts[k + 1] - pts[i + 1], vz = pts[k + 2] - pts[i + 2];
    let nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    const len = Math.hypot(nx, ny, nz);
    if (len < 1e-9) continue;
    nx /= len; ny /= len; nz /= len;
    let d = -(nx * pts[i] + ny * pts[i + 1] + nz * pts[i + 2]);
    if (d < 0) { nx = -nx; ny = -ny; nz = -nz; d = -d; }
    const count = countInliers(pts, n, nx, ny, nz, d, threshold);
    if (count > bestCount) {
      bestCount = count;
      out[0] = nx; out[1] = ny; out[2] = nz; out[3] = d;
      const w = count / n;
      const p = 1 - w * w * w;
      needed = p <= 1e-12 ? 0 : Math.ceil(Math.log(1 - confidence) / Math.log(p));
    }
  }
  return bestCount;
}

function countInliers(pts: Float32Array, n: number, nx: number, ny: number, nz: number, d: number, threshold: number): number {
  let count = 0;
  for (let i = 0; i < n * 3; i += 3) {
    const dist = nx * pts[i] + ny * pts[i + 1] + nz * pts[i + 2] + d;
    if (dist < threshold && dist > -threshold) count++;
  }
  return count;
}

/** Least-squares plane through the inliers of a plane (centroid + smallest covariance eigenvector). */
function refinePlane(pts: Float32Array, n: number, pnx: number, pny: number, pnz: number, pd: number, threshold: number, out: Float64Array): number {
  let c = 0, sx = 0, sy = 0, sz = 0;
  for (let i = 0; i < n * 3; i += 3) {
    const dist = pnx * pts[i] + pny * pts[i + 1] + pnz * pts[i + 2] + pd;
    if (dist < threshold && dist > -threshold) { c++; sx += pts[i]; sy += pts[i + 1]; sz += pts[i + 2]; }
  }
  if (c < 3) return 0;
  const mx = sx / c, my = sy / c, mz = sz / c;
  let xx = 0, xy = 0, xz = 0, yy = 0, yz = 0, zz = 0;
  for (let i = 0; i < n * 3; i += 3) {
    const dist = pnx * pts[i] + pny * pts[i + 1] + pnz * pts[i + 2] + pd;
    if (dist < threshold && dist > -threshold) {
      const dx = pts[i] - mx, dy = pts[i + 1] - my, dz = pts[i + 2] - mz;
      xx += dx * dx; xy += dx * dy; xz += dx * dz; yy += dy * dy; yz += dy * dz; zz += dz * dz;
    }
  }
  let [nx, ny, nz] = smallestEigenvector(xx, xy, xz, yy, yz, zz);
  if (nx * pnx + ny * pny + nz * pnz < 0) { nx = -nx; ny = -ny; nz = -nz; }
  const d = -(nx * mx + ny * my + nz * mz);
  if (d <= 0) return 0;
  out[0] = nx; out[1] = ny; out[2] = nz; out[3] = d;
  return c;
}

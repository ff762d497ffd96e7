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
 * Finds the support surface (table top, floor) as the dominant plane of background samples
 * by RANSAC, refined by least squares on its inliers. A fixed camera sees the same plane
 * frame after frame, so the last plane is re-checked first and RANSAC only runs when it
 * no longer explains the samples.
 */
export class SupportPlaneEstimator {
  private last: Plane | null = null;
  private seed = 0x9e3779b9;
  private markedLast: Plane | null = null;
  private markedSeed = 0x9e3779b9;
  readonly options: SupportPlaneOptions;

  constructor(options: Partial<SupportPlaneOptions> = {}) {
    this.options = { ...DEFAULT_SUPPORT_PLANE_OPTIONS, ...options };
  }

  reset(): void {
    this.last = null;
  }

  /** Remembers the current state, so a frame that is rejected later can be undone. */
  mark(): void {
    this.markedLast = this.last;
    this.markedSeed = this.seed;
  }

  /** Back to the state at the last mark(): a rejected frame leaves no trace. */
  rollback(): void {
    this.last = this.markedLast;
    this.seed = this.markedSeed;
  }

  /** Samples are xyz triples in the camera optical frame; returns null if no plane is supported. */
  estimate(pts: Float32Array, n: number): Plane | null {
    if (n < 3) return null;
    if (this.last) {
      const frac = countInliers(pts, n, this.last, this.options.threshold) / n;
      if (frac >= Math.max(this.options.minInlierFraction, 0.85 * this.last.inlierFraction)) {
        const refined = refine(pts, n, this.last, this.options.threshold);
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

  private random(): number {
    // xorshift32: deterministic, so the same frames give the same plane.
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return this.seed / 4294967296;
  }

  private ransac(pts: Float32Array, n: number): Plane | null {
    const { threshold, maxIterations, confidence, minInlierFraction } = this.options;
    let best: Plane | null = null;
    let bestCount = 0;
    let needed = maxIterations;
    for (let it = 0; it < needed && it < maxIterations; it++) {
      const i = Math.floor(this.random() * n) * 3;
      const j = Math.floor(this.random() * n) * 3;
      const k = Math.floor(this.random() * n) * 3;
      const ux = pts[j] - pts[i], uy = pts[j + 1] - pts[i + 1], uz = pts[j + 2] - pts[i + 2];
      const vx = pts[k] - pts[i], vy = pts[k + 1] - pts[i + 1], vz = pts[k + 2] - pts[i + 2];
      let nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
      const len = Math.hypot(nx, ny, nz);
      if (len < 1e-9) continue;
      nx /= len; ny /= len; nz /= len;
      let d = -(nx * pts[i] + ny * pts[i + 1] + nz * pts[i + 2]);
      if (d < 0) { nx = -nx; ny = -ny; nz = -nz; d = -d; }
      const candidate: Plane = { nx, ny, nz, d, inlierFraction: 0 };
      const count = countInliers(pts, n, candidate, threshold);
      if (count > bestCount) {
        bestCount = count;
        best = candidate;
        const w = count / n;
        const p = 1 - w * w * w;
        needed = p <= 1e-12 ? 0 : Math.ceil(Math.log(1 - confidence) / Math.log(p));
      }
    }
    if (!best || bestCount / n < minInlierFraction) return null;
    return refine(pts, n, best, threshold);
  }
}

function countInliers(pts: Float32Array, n: number, p: Plane, threshold: number): number {
  let count = 0;
  for (let i = 0; i < n * 3; i += 3) {
    const dist = p.nx * pts[i] + p.ny * pts[i + 1] + p.nz * pts[i + 2] + p.d;
    if (dist < threshold && dist > -threshold) count++;
  }
  return count;
}

/** Least-squares plane through the inliers of `p` (centroid + smallest covariance eigenvector). */
function refine(pts: Float32Array, n: number, p: Plane, threshold: number): Plane | null {
  let c = 0, sx = 0, sy = 0, sz = 0;
  for (let i = 0; i < n * 3; i += 3) {
    const dist = p.nx * pts[i] + p.ny * pts[i + 1] + p.nz * pts[i + 2] + p.d;
    if (dist < threshold && dist > -threshold) { c++; sx += pts[i]; sy += pts[i + 1]; sz += pts[i + 2]; }
  }
  if (c < 3) return null;
  const mx = sx / c, my = sy / c, mz = sz / c;
  let xx = 0, xy = 0, xz = 0, yy = 0, yz = 0, zz = 0;
  for (let i = 0; i < n * 3; i += 3) {
    const dist = p.nx * pts[i] + p.ny * pts[i + 1] + p.nz * pts[i + 2] + p.d;
    if (dist < threshold && dist > -threshold) {
      const dx = pts[i] - mx, dy = pts[i + 1] - my, dz = pts[i + 2] - mz;
      xx += dx * dx; xy += dx * dy; xz += dx * dz; yy += dy * dy; yz += dy * dz; zz += dz * dz;
    }
  }
  let [nx, ny, nz] = smallestEigenvector(xx, xy, xz, yy, yz, zz);
  if (nx * p.nx + ny * p.ny + nz * p.nz < 0) { nx = -nx; ny = -ny; nz = -nz; }
  const d = -(nx * mx + ny * my + nz * mz);
  if (d <= 0) return null;
  return { nx, ny, nz, d, inlierFraction: c / n };
}

import { quantileInPlace } from "../geometry/quantile.js";
import { noisyEdgeHigh, noisyEdgeLow } from "./noisy_edge.js";
import { hessianEigen, QuadraticSurfaceFit } from "./quadratic_surface.js";
import { RayQuadraticFit } from "./ray_quadratic_fit.js";

/** An axis-aligned box in the spatial frame. */
export interface Box3 {
  cx: number; cy: number; cz: number;
  sx: number; sy: number; sz: number;
}

/**
 * What the object stands on, judged from the image at its bottom edge: the support surface,
 * another object, nothing (the table far behind: lifted), its bottom edge hidden by nearer
 * objects ("occluded": it stands on something unseen, the support unless an object is under
 * it), or too little evidence.
 */
export type RestingOn = "support" | "object" | "nothing" | "occluded" | "unknown";

/** What the estimator knows besides the points. */
export interface BoxContext {
  /** Height of the support surface in the spatial frame, null when there is none. */
  supportZ: number | null;
  restingOn: RestingOn;
  /** Depth noise at 1 m range, metres (σ(r) = noise1m · r², a stereo camera's law); 0 for exact depth. */
  noise1m: number;
  /** Angle between neighbouring sampled pixels, radians (sampling step / focal length in pixels). */
  pixelAngle: number;
}

/** Which evidence made the last box. */
export type BoxEvidence = "top_face" | "amodal";

export interface ObjectBoxOptions {
  /** Points trimmed at each end of every extent when depth is exact, as a fraction of the cloud, against stray points. */
  trim: number;
  /** An object whose lowest points are this close to the support surface rests on it. */
  restingTolerance: number;
  /**
   * A top whose fitted curvature is flatter than this (1/m) in every direction is a face:
   * 8/m is a radius of 12.5 cm, flatter than any round object's top and far from a flat face's 0.
   */
  flatCurvature: number;
  /** A top face must span this fraction of the object's width across the view to stand for its footprint. */
  topFaceSpan: number;
}

export const DEFAULT_OBJECT_BOX_OPTIONS: ObjectBoxOptions = { trim: 0.0015, restingTolerance: 0.03, flatCurvature: 8, topFaceSpan: 0.6 };

/** Wall columns per object at most (bins of the across coordinate). */
const MAX_WALL_COLUMNS = 256;

/** Below this ray depression (about 3°) the object is seen edge-on and the top's geometry is not resolved. */
const MIN_SIN_E = 0.05;

/** Height noise (m) below which depth counts as exact: the fits on true coordinates are used as they are. */
const EXACT_SIGMA_H = 0.0005;

/**
 * Under noise, the ray-coordinate fits' discs: the curvature test's spans FACE_DISC_FRACTION
 * of the object's width across the view (inside a face's footprint, wide enough to see a
 * round top curve); the peak's PEAK_DISC_FRACTION of the smaller of the top's height over the
 * bottom and that width (a round top curves by about its own height over its half-width: a
 * disc of a third of it drops a few millimetres, where a quadratic still holds); both at
 * least RAY_DISC_MIN_M.
 */
const FACE_DISC_FRACTION = 0.3;
const PEAK_DISC_FRACTION = 0.35;
const RAY_DISC_MIN_M = 0.006;
/**
 * Points this many height-noise σ below a ray-coordinate fit are left out of its refits: the
 * wall under a face's edge (in ray coordinates it lies just nearer than the edge, and below
 * it) would bend a face's fit down; a surface's own points are rarely that far below.
 */
const RAY_FIT_TRIM_SIGMAS = 2.5;
/** A dome the ray test finds peaking more than this many half-windows above a face's level is not the object's top (see estimate). */
const ABOVE_FACE_WINDOWS = 2.5;

/**
 * The box of one object from the part of it the camera sees, using the evidence there is
 * (see src/spatial/DEFINITIONS.md, "Boxes from one view"):
 *
 * - **Top face seen**: a flat top that spans the object's width (boxes, books, cans, mugs,
 *   plates, bowls' rims) is seen whole from above, and so are all four extremes of a
 *   prism's footprint: the near ones on its front, the far one at the top face's far edge,
 *   the side ones on its silhouette. The box is the visible box.
 * - **Otherwise** (a round top: fruit, balls, a lying bottle): the far half is hidden below
 *   the horizon of the object, so the visible box is short and its centre near. The highest
 *   point of a round object lies over its centre, so the centre along the view is the peak
 *   of a quadratic fitted to the top of the cloud, across the view the midpoint of the
 *   silhouette; the footprint, centrally symmetric for tabletop shapes, is completed by
 *   reflecting the seen points through that centre (amodal completion).
 *
 * Heights run from the support surface (bottoms are hidden) to the top face's level, or to
 * the fitted peak. Depth noise (σ growing with range²) is handled where it would bias: the
 * top face's level is the median of its points, not an upper quantile; extents are read
 * where the edge is, not where noise scatters the outermost points (noisy_edge.ts); the
 * fit corrects for noise along the ray (quadratic_surface.ts). Pixels sample the surface
 * every pixel step: the outermost sample of an edge lies on average half a step inside it,
 * which is added back (on a top face seen at a depression E a step spans 1/sin E times more).
 */
export class ObjectBoxEstimator {
  readonly options: ObjectBoxOptions;
  /** Whether the last estimate took the object to rest on the support surface. */
  lastResting = false;
  /** The evidence the last box came from. */
  lastEvidence: BoxEvidence = "amodal";
  /** Points the last estimate rejected as strays. */
  rejected = 0;
  /** The lowest seen point of the last object (its bottom when nothing hides it). */
  lastLowest = 0;
  private a = new Float64Array(1024);
  private b = new Float64Array(1024);
  private s = new Float64Array(1024);
  private t = new Float64Array(1024);
  /** Ray coordinates (along, across the view) and heights of the points, for the fits under noise. */
  private ru = new Float64Array(1024);
  private rv = new Float64Array(1024);
  private rz = new Float64Array(1024);
  /** How many heights rejectHeightStrays left sorted in `a` (the kept ones), -1 when it did not. */
  private heightsSorted = -1;
  private readonly fit = new QuadraticSurfaceFit();
  private readonly rayFit = new RayQuadraticFit();
  private readonly rayEig = { l1: 0, l2: 0, e1u: 1, e1v: 0 };
  private readonly eig = { l1: 0, l2: 0, e1u: 1, e1v: 0 };
  private readonly peak = { u: 0, v: 0, z: 0 };
  private readonly wall = { xLo: 0, xHi: 0, yLo: 0, yHi: 0 };
  private readonly binCount = new Int32Array(MAX_WALL_COLUMNS + 1);
  private readonly binFirst = new Int32Array(MAX_WALL_COLUMNS + 1);

  constructor(options: Partial<ObjectBoxOptions> = {}) {
    this.options = { ...DEFAULT_OBJECT_BOX_OPTIONS, ...options };
  }

  /**
   * Points are x, y, z arrays (spatial frame, camera at the origin) over [start, start + n);
   * stray points are compacted out of them in place. Writes the box into `out`; returns the
   * points kept.
   */
  estimate(xs: Float32Array, ys: Float32Array, zs: Float32Array, start: number, n0: number, ctx: BoxContext, out: Box3): number {
    this.ensure(n0);
    let n = this.rejectStrays(xs, ys, zs, start, n0);
    const { trim } = this.options;
    const A = this.a, B = this.b, S = this.s, T = this.t;

    // The viewing ray to the object: horizontal azimuth phi, depression E below the horizon.
    let mx = 0, my = 0, mz = 0;
    for (let i = start; i < start + n; i++) { mx += xs[i]; my += ys[i]; mz += zs[i]; }
    mx /= n; my /= n; mz /= n;
    const r2 = mx * mx + my * my + mz * mz;
    const cut = this.rejectHeightStrays(xs, ys, zs, start, n, 0.01 + 2 * Math.max(0, ctx.noise1m) * r2 * Math.max(MIN_SIN_E, -mz / Math.sqrt(r2)));
    if (cut > 0) {
      n -= cut;
      mx = 0; my = 0; mz = 0;
      for (let i = start; i < start + n; i++) { mx += xs[i]; my += ys[i]; mz += zs[i]; }
      mx /= n; my /= n; mz /= n;
    }
    const end = start + n;
    const range = Math.hypot(mx, my, mz);
    const sinE = Math.max(MIN_SIN_E, -mz / range);
    const cosE = Math.sqrt(1 - sinE * sinE);
    const tanE = sinE / cosE;
    const phi = Math.atan2(my, mx);
    const c = Math.cos(phi), sn = Math.sin(phi);
    const sigma = Math.max(0, ctx.noise1m) * range * range;
    const sigH = sigma * sinE, sigS = sigma * cosE;
    const pixel = Math.max(0, ctx.pixelAngle) * range;
    for (let i = start, k = 0; i < end; i++, k++) {
      S[k] = xs[i] * c + ys[i] * sn;
      T[k] = -xs[i] * sn + ys[i] * c;
    }

    // Bottom: the support surface under a resting object (its underside is hidden).
    // rejectHeightStrays left the kept heights sorted in A (unless a NaN kept it from it).
    if (this.heightsSorted !== n) for (let i = start, k = 0; i < end; i++, k++) A[k] = zs[i];
    const Z = this.heightsSorted === n ? A.subarray(0, n) : A.subarray(0, n).sort();
    const zLow = noisyEdgeLow(Z, n, sigH, trim);
    const supportZ = ctx.supportZ;
    const above = supportZ === null ? Infinity : zLow - supportZ;
    // "Nothing under it" from a sliver seen low over the table (a bowl's rim and inside seen from
    // high above, its flanks' edges with the table far behind them) is not an object held in the
    // air: that would show more of itself than the gap under it.
    const sliver = ctx.restingOn === "nothing" && above < 0.08 && Z[n - 1] - zLow < above;
    const resting = ctx.restingOn === "support" || ctx.restingOn === "occluded" || sliver || (ctx.restingOn === "unknown" && above < this.options.restingTolerance);
    this.lastLowest = zLow;
    const bottom = supportZ !== null && resting ? Math.min(supportZ, zLow) : zLow;
    this.lastResting = resting;

    // The top's level: the densest height window near the top (a face seen from above
    // gathers its points there), then the median inside it.
    const half = Math.max(0.0025, 2.5 * sigH);
    const q99 = Z[Math.round(0.99 * (n - 1))];
    const q995 = Z[Math.round(0.995 * (n - 1))];
    const zMax = Z[n - 1];
    let j = 0;
    while (j < n - 1 && Z[j] < q99 - 4 * half) j++;
    let best = 0, bestLo = j, lo = j;
    for (let i = j; i < n; i++) {
      while (Z[i] - Z[lo] > 2 * half) lo++;
      if (i - lo + 1 > best) { best = i - lo + 1; bestLo = lo; }
    }
    let level = Z[bestLo + (best >> 1)];
    level = medianWithin(Z, n, level - half, level + half);

    // Is the top a face? Curvature of the points at that level, and their width across the view.
    const fit = this.fit;
    let cu = 0, cv = 0, m = 0;
    for (let i = start, k = 0; i < end; i++, k++) {
      if (Math.abs(zs[i] - level) > half) continue;
      cu += S[k]; cv += T[k]; B[m++] = T[k];
    }
    cu /= Math.max(1, m); cv /= Math.max(1, m);
    fit.reset();
    for (let i = start, k = 0; i < end; i++, k++) {
      if (zs[i] >= level && zs[i] <= level + half) fit.add(S[k] - cu, T[k] - cv, zs[i] - level, sigS * sigS, tanE);
    }
    for (let k = 0; k < n; k++) A[k] = T[k];
    const across = A.subarray(0, n).sort();
    const tLo = noisyEdgeLow(across, n, 0, trim), tHi = noisyEdgeHigh(across, n, 0, trim);
    const topAcross = B.subarray(0, m).sort();
    const topWidth = m >= 8 ? noisyEdgeHigh(topAcross, m, 0, 0.01) - noisyEdgeLow(topAcross, m, 0, 0.01) : 0;
    let flat = false;
    if (fit.solve()) {
      hessianEigen(fit.coef, this.eig);
      flat = this.eig.l1 > -this.options.flatCurvature && topWidth >= this.options.topFaceSpan * (tHi - tLo);
    }
    // Under noise the test above chooses its points by their noisy heights (the window over
    // the level), which flattens a round top: a lying banana's or a ball's top passed for a
    // face and its height was the window's median, 3–10 mm low. Points chosen by their rays
    // instead (exact under range noise) show the curvature a round top has; a top that curves
    // down significantly (by more than two standard errors past flatCurvature) is not a face.
    let rayTop = Number.NaN;
    if (sigH >= EXACT_SIGMA_H) {
      this.rayCoordinates(xs, ys, zs, start, n, q99, c, sn);
      // The disc starts at the upper tenth of the points (their rays).
      for (let k = 0; k < n; k++) A[k] = this.rz[k];
      const q90 = quantileInPlace(A, n, 0.9);
      let u0 = 0, v0 = 0, m0 = 0;
      for (let k = 0; k < n; k++) {
        if (this.rz[k] < q90) continue;
        u0 += this.ru[k]; v0 += this.rv[k]; m0++;
      }
      u0 /= m0; v0 /= m0;
      const width = tHi - tLo, trimBelow = RAY_FIT_TRIM_SIGMAS * sigH;
      let overruled = false;
      if (flat && this.fitRayQuadratic(n, q99, u0, v0, Math.max(RAY_DISC_MIN_M, FACE_DISC_FRACTION * width), trimBelow)) {
        const e = this.rayEig;
        const se = this.rayFit.curvatureStdError(e.e1u, e.e1v);
        overruled = e.l1 + 2 * se < -this.options.flatCurvature;
        if (overruled) flat = false;
      }
      if (!flat) rayTop = this.rayPeak(n, q99, u0, v0, Math.max(RAY_DISC_MIN_M, PEAK_DISC_FRACTION * Math.min(q99 - bottom, width)), trimBelow);
      // A dome peaking well above the face's level (more than the level window) is another
      // object's points over the face (a segment that took part of the apple on the book),
      // not the object's own top: a round top's level window lies at its peak.
      if (overruled && rayTop - level > ABOVE_FACE_WINDOWS * half) {
        flat = true;
        rayTop = Number.NaN;
      }
    }

    if (flat) {
      this.lastEvidence = "top_face";
      const height = Math.max(level - bottom, 1e-3);
      if (sigH > 0.0005 && level < -0.05) this.topFaceBox(xs, ys, zs, start, n, level, half, bottom + 0.007, level - 3 * sigH - 0.002, c, sn, sinE, sigma * cosE, pixel, out);
      else this.visibleBox(xs, ys, start, n, c, sn, sinE, sigma * cosE, pixel, out);
      out.cz = bottom + height / 2;
      out.sz = height;
      return n;
    }

    this.lastEvidence = "amodal";
    const band = Math.max(0.01, 3 * sigH, 0.2 * (q99 - bottom));
    const top = this.roundTop(xs, ys, zs, start, n, q99 - band, band, sigS, tanE, cosE, sigma);
    // Across the view the silhouette's extremes are seen: their midpoint is the centre.
    const tc = (tLo + tHi) / 2;
    const cx = this.peak.u * c - tc * sn, cy = this.peak.u * sn + tc * c;
    // The fit's peak is trusted within what the points allow: not below the upper points by
    // more than noise explains, not above the highest. Under noise the peak's height is the
    // ray-coordinate fit's (rayPeak): the fit above on noisy coordinates places the peak
    // without bias along the view, but its height swung by a centimetre where the noise is as
    // wide as the top (a lemon at 1.6 m came out 1 cm low in one of three frames).
    const zTop = Math.min(zMax, sigH < EXACT_SIGMA_H ? Math.max(top, q995) : Math.max(Number.isFinite(rayTop) ? rayTop : top, q99 - 3 * sigH - 0.003));
    const height = Math.max(zTop - bottom, 1e-3);
    // Under depth noise the silhouette's mixed-depth pixels already reach past its edge.
    this.reflectedBox(xs, ys, start, n, cx, cy, sigma * cosE, sigma < 0.001 ? pixel : 0, out);
    out.cz = bottom + height / 2;
    out.sz = height;
    return n;
  }

  /**
   * The peak of a round top (this.peak.u along the view, v across; returns its height): a
   * quadratic fitted to the points in the band below the top, then again to the points the
   * first fit puts in the band (chosen by where their ray meets the fitted surface, not by
   * their noisy heights: a height window on noisy points keeps those noise lifted, which
   * are the nearer ones).
   */
  private roundTop(xs: Float32Array, ys: Float32Array, zs: Float32Array, start: number, n: number, zMin: number, band: number, sigS: number, tanE: number, cosE: number, sigma: number): number {
    const S = this.s, T = this.t, fit = this.fit;
    const sel = this.a;
    const end = start + n;
    // Without a fit, the middle of the cloud.
    let su = 0, sv = 0;
    for (let k = 0; k < n; k++) { su += S[k]; sv += T[k]; }
    this.peak.u = su / n;
    this.peak.v = sv / n;
    let cu = 0, cv = 0, m = 0;
    for (let i = start, k = 0; i < end; i++, k++) {
      sel[k] = zs[i] >= zMin ? 1 : 0;
      if (sel[k]) { cu += S[k]; cv += T[k]; m++; }
    }
    let zPeak = zMin + band;
    let fitU = 0, fitV = 0, fitRef = 0, solved = false;
    for (let pass = 0; pass < 2; pass++) {
      if (m < 8) break;
      cu /= m; cv /= m;
      const zRef = zMin + band;
      fit.reset();
      for (let i = start, k = 0; i < end; i++, k++) if (sel[k]) fit.add(S[k] - cu, T[k] - cv, zs[i] - zRef, sigS * sigS, tanE);
      if (!fit.solve()) {
        this.peak.u = cu; this.peak.v = cv;
        break;
      }
      const weak = this.peakOf(cu, cv, sel, n, zs, start, -Infinity);
      zPeak = zRef + fit.at(this.peak.u - cu, this.peak.v - cv);
      if (weak) {
        // A ridge's ends curve away from the view unevenly: the far end's band is cut by its
        // own horizon, which drags the band's middle nearer. Near the very top both ends are
        // seen (to a depth r(1 − cos E) under the top, r the radius across the ridge).
        const lStrong = Math.min(this.eig.l1, this.eig.l2);
        const depth = lStrong < -this.options.flatCurvature ? (0.8 * (1 - cosE)) / -lStrong : band;
        const cutZ = zPeak - Math.min(band, Math.max(0.002, 2 * sigma * tanE * cosE, depth));
        this.peakOf(cu, cv, sel, n, zs, start, cutZ);
        zPeak = zRef + fit.at(this.peak.u - cu, this.peak.v - cv);
      }
      fitU = cu; fitV = cv; fitRef = zRef; solved = true;
      if (pass === 1) break;
      // Reselect by the fitted surface where each point's ray meets it, in a band no deeper
      // than a third of the top's radius of curvature: deeper, a sphere is no paraboloid,
      // and the far side, seen less, would tilt the fit.
      const lStrong = Math.min(this.eig.l1, this.eig.l2);
      const band2 = lStrong < -this.options.flatCurvature ? Math.max(0.003, 2 * sigma * tanE * cosE, Math.min(band, 0.3 / -lStrong)) : band;
      const cf = fit.coef;
      let nu = 0, nv = 0, nm = 0;
      for (let i = start, k = 0; i < end; i++, k++) {
        const u = S[k] - cu, v = T[k] - cv;
        let zp = zs[i];
        if (sigma > 0) {
          const r = Math.hypot(xs[i], ys[i], zs[i]);
          const rs = S[k] / r, rt = T[k] / r, rz = zs[i] / r;
          const qu = cf[1] + 2 * cf[3] * u + cf[4] * v, qv = cf[2] + cf[4] * u + 2 * cf[5] * v;
          const g = rz - (qu * rs + qv * rt);
          const f = zs[i] - zRef - fit.at(u, v);
          const lambda = Math.abs(g) > 1e-6 ? Math.max(-3 * sigma, Math.min(3 * sigma, -f / g)) : 0;
          zp = zs[i] + lambda * rz;
        }
        sel[k] = zp >= zPeak - band2 ? 1 : 0;
        if (sel[k]) { nu += S[k]; nv += T[k]; nm++; }
      }
      cu = nu; cv = nv; m = nm;
      if (m < 8) break;
    }
    if (!solved) return zPeak;
    // The peak's height: the fitted surface's, shifted by the median residual of the points
    // around the peak (where noise along the ray is noise in height, symmetric).
    const drop = Math.max(0.002, sigma * tanE);
    const R = this.b;
    let nr = 0;
    for (let i = start, k = 0; i < end; i++, k++) {
      const dz = zPeak - (fitRef + fit.at(S[k] - fitU, T[k] - fitV));
      if (dz > drop) continue;
      R[nr++] = zs[i] - (fitRef + fit.at(S[k] - fitU, T[k] - fitV));
    }
    if (nr < 8) return zPeak;
    return zPeak + quantileInPlace(R, nr, 0.5);
  }

  /** Ray coordinates of the points (this.ru along the view, this.rv across): where each one's ray from the camera meets the plane z = zRef. */
  private rayCoordinates(xs: Float32Array, ys: Float32Array, zs: Float32Array, start: number, n: number, zRef: number, c: number, sn: number): void {
    const U = this.ru, V = this.rv, Z = this.rz;
    for (let i = start, k = 0; k < n; i++, k++) {
      const f = zRef / zs[i];
      const qx = xs[i] * f, qy = ys[i] * f;
      U[k] = qx * c + qy * sn;
      V[k] = -qx * sn + qy * c;
      Z[k] = zs[i];
    }
  }

  /**
   * Fits z − zRef over the rays within `rho` of (u0, v0), then twice more without the points
   * more than `trimBelow` under the last fit (this.rayFit, this.rayEig); false when too few
   * or degenerate.
   */
  private fitRayQuadratic(n: number, zRef: number, u0: number, v0: number, rho: number, trimBelow: number): boolean {
    const U = this.ru, V = this.rv, Z = this.rz, fit = this.rayFit, r2 = rho * rho, cf = fit.coef;
    for (let pass = 0; pass < 3; pass++) {
      const c0 = cf[0], c1 = cf[1], c2 = cf[2], c3 = cf[3], c4 = cf[4], c5 = cf[5];
      fit.reset();
      for (let k = 0; k < n; k++) {
        const du = U[k] - u0, dv = V[k] - v0;
        if (du * du + dv * dv > r2) continue;
        const z = Z[k] - zRef;
        if (pass > 0 && z < c0 + c1 * du + c2 * dv + c3 * du * du + c4 * du * dv + c5 * dv * dv - trimBelow) continue;
        fit.add(du, dv, z);
      }
      if (!fit.solve()) return false;
    }
    hessianEigen(cf, this.rayEig);
    return true;
  }

  /**
   * The height of a round top's peak from the ray-coordinate fit: a disc of radius `rho`
   * moved to the fitted stationary point (along directions that curve down clearly; at most
   * `rho` per step) three times, then the fitted height there. Points chosen by their rays,
   * not by their noisy heights, so noise lifts none into the fit. NaN when the fit fails.
   */
  private rayPeak(n: number, zRef: number, u0: number, v0: number, rho: number, trimBelow: number): number {
    let u = u0, v = v0, z = Number.NaN;
    for (let step = 0; step < 3; step++) {
      if (!this.fitRayQuadratic(n, zRef, u, v, rho, trimBelow)) break;
      const cf = this.rayFit.coef, e = this.rayEig;
      let pu = 0, pv = 0;
      for (let d = 0; d < 2; d++) {
        const eu = d === 0 ? e.e1u : -e.e1v, ev = d === 0 ? e.e1v : e.e1u;
        const l = d === 0 ? e.l1 : e.l2;
        if (!(l < -this.options.flatCurvature)) continue;
        const off = Math.max(-rho, Math.min(rho, -(cf[1] * eu + cf[2] * ev) / l));
        pu += off * eu; pv += off * ev;
      }
      z = zRef + this.rayFit.at(pu, pv);
      u += pu; v += pv;
    }
    return z;
  }

  /**
   * The stationary point of the fitted quadratic where it curves down clearly; along a
   * direction it does not (a lying cylinder's ridge, a flat stretch), the middle of the
   * selected points along that direction. Into this.peak (u along the view, v across).
   */
  private peakOf(cu: number, cv: number, sel: Float64Array, n: number, zs: Float32Array, start: number, cutZ: number): boolean {
    const cf = this.fit.coef, e = this.eig, S = this.s, T = this.t;
    hessianEigen(cf, e);
    let pu = 0, pv = 0, weak = false;
    for (let d = 0; d < 2; d++) {
      const eu = d === 0 ? e.e1u : -e.e1v, ev = d === 0 ? e.e1v : e.e1u;
      const l = d === 0 ? e.l1 : e.l2;
      let lo = Infinity, hi = -Infinity, clo = Infinity, chi = -Infinity, cn = 0;
      for (let k = 0; k < n; k++) {
        if (!sel[k]) continue;
        const p = (S[k] - cu) * eu + (T[k] - cv) * ev;
        if (p < lo) lo = p;
        if (p > hi) hi = p;
        if (zs[start + k] >= cutZ) {
          cn++;
          if (p < clo) clo = p;
          if (p > chi) chi = p;
        }
      }
      // A stationary point outside the points it was fitted to is an extrapolation (noise
      // bending a nearly flat fit): the middle of the points is the better guess there.
      const newton = -(cf[1] * eu + cf[2] * ev) / l;
      let off: number;
      if (l < -this.options.flatCurvature && newton >= lo && newton <= hi) off = newton;
      else {
        weak = true;
        off = cn >= 8 ? (clo + chi) / 2 : (lo + hi) / 2;
      }
      pu += off * eu; pv += off * ev;
    }
    this.peak.u = cu + pu;
    this.peak.v = cv + pv;
    return weak;
  }

  /** The visible box in x and y, edges read through the noise (sAlong: noise along the horizontal ray) plus the half-pixel gap. */
  private visibleBox(xs: Float32Array, ys: Float32Array, start: number, n: number, c: number, sn: number, sinE: number, sAlong: number, pixel: number, out: Box3): void {
    const A = this.a, end = start + n, trim = this.options.trim;
    for (let i = start, k = 0; i < end; i++, k++) A[k] = xs[i];
    const X = A.subarray(0, n).sort();
    const sx = sAlong * Math.abs(c);
    const xLo = noisyEdgeLow(X, n, sx, trim) - pixelGap(-1, 0, c, sn, sinE, pixel);
    const xHi = noisyEdgeHigh(X, n, sx, trim) + pixelGap(1, 0, c, sn, sinE, pixel);
    for (let i = start, k = 0; i < end; i++, k++) A[k] = ys[i];
    const Y = A.subarray(0, n).sort();
    const sy = sAlong * Math.abs(sn);
    const yLo = noisyEdgeLow(Y, n, sy, trim) - pixelGap(0, -1, c, sn, sinE, pixel);
    const yHi = noisyEdgeHigh(Y, n, sy, trim) + pixelGap(0, 1, c, sn, sinE, pixel);
    out.cx = (xLo + xHi) / 2; out.cy = (yLo + yHi) / 2;
    out.sx = xHi - xLo; out.sy = yHi - yLo;
  }

  /**
   * Under depth noise: the footprint of a top face from its pixels' rays cut with the face's
   * plane. Noise moves a point along its ray, so where the ray meets the plane is where the
   * surface is, whatever the noise: the far and side edges come out as sharp as without
   * noise. The wall below the face's near edge shares the face's height window, and its
   * points cut with the plane land nearer than the edge, so the near edge is read from the
   * whole cloud through the noise instead (noisy_edge.ts).
   */
  private topFaceBox(xs: Float32Array, ys: Float32Array, zs: Float32Array, start: number, n: number, level: number, half: number, wallFrom: number, wallTo: number, c: number, sn: number, sinE: number, sAlong: number, pixel: number, out: Box3): void {
    const A = this.a, B = this.b, end = start + n, trim = this.options.trim;
    let m = 0;
    for (let i = start; i < end; i++) {
      const z = zs[i];
      if (Math.abs(z - level) > half || !(z < 0)) continue;
      const k = level / z;
      A[m] = xs[i] * k; B[m] = ys[i] * k; m++;
    }
    if (m < 16) { this.visibleBox(xs, ys, start, n, c, sn, sinE, sAlong, pixel, out); return; }
    const PX = A.subarray(0, m).sort(), PY = B.subarray(0, m).sort();
    let xLo = noisyEdgeLow(PX, m, 0, trim), xHi = noisyEdgeHigh(PX, m, 0, trim);
    let yLo = noisyEdgeLow(PY, m, 0, trim), yHi = noisyEdgeHigh(PY, m, 0, trim);
    // Wall columns lying well outside the top face's footprint are another object's (a mask
    // or segment that leaked onto a nearer neighbour): the wall stands under the face's edge.
    const tol = 0.01 + 3 * sAlong;
    const walls = this.wallColumns(xs, ys, zs, start, n, wallFrom, wallTo, pixel, xLo - tol, xHi + tol, yLo - tol, yHi + tol);
    const S = this.s;
    if (Math.abs(c) > 0.5) {
      if (walls) {
        if (c > 0) xLo = this.wall.xLo;
        else xHi = this.wall.xHi;
      } else {
        for (let i = start, k = 0; i < end; i++, k++) S[k] = xs[i];
        const X = S.subarray(0, n).sort();
        if (c > 0) xLo = noisyEdgeLow(X, n, sAlong * c, trim);
        else xHi = noisyEdgeHigh(X, n, -sAlong * c, trim);
      }
    }
    if (Math.abs(sn) > 0.5) {
      if (walls) {
        if (sn > 0) yLo = this.wall.yLo;
        else yHi = this.wall.yHi;
      } else {
        for (let i = start, k = 0; i < end; i++, k++) S[k] = ys[i];
        const Y = S.subarray(0, n).sort();
        if (sn > 0) yLo = noisyEdgeLow(Y, n, sAlong * sn, trim);
        else yHi = noisyEdgeHigh(Y, n, -sAlong * sn, trim);
      }
    }
    xLo -= pixelGap(-1, 0, c, sn, sinE, pixel); xHi += pixelGap(1, 0, c, sn, sinE, pixel);
    yLo -= pixelGap(0, -1, c, sn, sinE, pixel); yHi += pixelGap(0, 1, c, sn, sinE, pixel);
    out.cx = (xLo + xHi) / 2; out.cy = (yLo + yHi) / 2;
    out.sx = xHi - xLo; out.sy = yHi - yLo;
  }

  /**
   * The extremes of a prism's walls, read column by column: a pixel column crosses a vertical
   * wall along a vertical line, so all the wall points of one column share x and y, and their
   * median is the wall's place there, the depth noise averaged over the column. The extremes
   * of these medians (this.wall) are the wall's. Columns are bins of the across coordinate;
   * wall points are those between `from` and `to` in height (below the top face's noise, above
   * the support's). False when too few columns have enough points (a low object, few pixels).
   */
  private wallColumns(
    xs: Float32Array, ys: Float32Array, zs: Float32Array, start: number, n: number, from: number, to: number, pixel: number,
    xMin: number, xMax: number, yMin: number, yMax: number,
  ): boolean {
    if (!(to - from >= 0.004)) return false;
    const T = this.t, end = start + n;
    let tMin = Infinity, tMax = -Infinity, m = 0;
    for (let i = start, k = 0; i < end; i++, k++) {
      if (zs[i] < from || zs[i] > to) continue;
      if (T[k] < tMin) tMin = T[k];
      if (T[k] > tMax) tMax = T[k];
      m++;
    }
    if (m < 40) return false;
    const bins = Math.min(MAX_WALL_COLUMNS, Math.max(1, Math.floor((tMax - tMin) / Math.max(0.002, 1.5 * pixel)) + 1));
    const width = (tMax - tMin) / bins || 1;
    const count = this.binCount, first = this.binFirst;
    count.fill(0, 0, bins + 1);
    for (let i = start, k = 0; i < end; i++, k++) {
      if (zs[i] < from || zs[i] > to) continue;
      count[Math.min(bins - 1, Math.floor((T[k] - tMin) / width))]++;
    }
    first[0] = 0;
    for (let b = 0; b < bins; b++) first[b + 1] = first[b] + count[b];
    count.fill(0, 0, bins);
    const X = this.a, Y = this.b;
    for (let i = start, k = 0; i < end; i++, k++) {
      if (zs[i] < from || zs[i] > to) continue;
      const b = Math.min(bins - 1, Math.floor((T[k] - tMin) / width));
      const at = first[b] + count[b]++;
      X[at] = xs[i];
      Y[at] = ys[i];
    }
    const w = this.wall;
    w.xLo = Infinity; w.xHi = -Infinity; w.yLo = Infinity; w.yHi = -Infinity;
    let used = 0;
    for (let b = 0; b < bins; b++) {
      const c = count[b];
      if (c < 5) continue;
      const o = first[b];
      const mx = quantileInPlace(X.subarray(o, o + c), c, 0.5), my = quantileInPlace(Y.subarray(o, o + c), c, 0.5);
      if (mx < xMin || mx > xMax || my < yMin || my > yMax) continue;
      used++;
      if (mx < w.xLo) w.xLo = mx;
      if (mx > w.xHi) w.xHi = mx;
      if (my < w.yLo) w.yLo = my;
      if (my > w.yHi) w.yHi = my;
    }
    return used >= 3;
  }

  /**
   * Extents of the seen points reflected through (cx, cy): the hidden half mirrors the seen
   * one. Along an axis that runs mostly along the view, only the side facing the camera is
   * read (the far side is the hidden one, and under depth noise the pixels at its rim mix
   * the object's depth with the table's behind it); along an axis mostly across the view,
   * both sides are silhouette and the larger half counts.
   */
  private reflectedBox(xs: Float32Array, ys: Float32Array, start: number, n: number, cx: number, cy: number, sAlong: number, pixel: number, out: Box3): void {
    const A = this.a, end = start + n, trim = this.options.trim;
    const c = Math.cos(Math.atan2(cy, cx)), sn = Math.sin(Math.atan2(cy, cx));
    // The seen side's edges are on the silhouette or facing the camera: half a pixel's
    // across component is what sampling leaves out (no top face: sin E plays no part).
    const gx = 0.5 * pixel * Math.abs(sn), gy = 0.5 * pixel * Math.abs(c);
    for (let i = start, k = 0; i < end; i++, k++) A[k] = xs[i];
    const X = A.subarray(0, n).sort();
    const xLo = noisyEdgeLow(X, n, sAlong * Math.abs(c), trim) - gx, xHi = noisyEdgeHigh(X, n, sAlong * Math.abs(c), trim) + gx;
    for (let i = start, k = 0; i < end; i++, k++) A[k] = ys[i];
    const Y = A.subarray(0, n).sort();
    const yLo = noisyEdgeLow(Y, n, sAlong * Math.abs(sn), trim) - gy, yHi = noisyEdgeHigh(Y, n, sAlong * Math.abs(sn), trim) + gy;
    // A centre outside the seen extent is a fit gone wrong (another object's points in the
    // cloud): the seen extent's middle is the better guess then.
    if (!(cx > xLo && cx < xHi)) cx = (xLo + xHi) / 2;
    if (!(cy > yLo && cy < yHi)) cy = (yLo + yHi) / 2;
    out.cx = cx; out.cy = cy;
    out.sx = 2 * (Math.abs(c) >= 0.5 ? (c > 0 ? cx - xLo : xHi - cx) : Math.max(cx - xLo, xHi - cx));
    out.sy = 2 * (Math.abs(sn) >= 0.5 ? (sn > 0 ? cy - yLo : yHi - cy) : Math.max(cy - yLo, yHi - cy));
  }

  /**
   * A few points far above (or below) the rest, across a height gap wider than `gap`, are
   * not the object: a neighbour's pixels the mask took, flying pixels that passed the tests.
   * Only the outer 6% at each end can go (a solid's visible surface spans its heights
   * without gaps). Compacted out in place; returns how many.
   */
  private rejectHeightStrays(xs: Float32Array, ys: Float32Array, zs: Float32Array, start: number, n: number, gap: number): number {
    const Z = this.a;
    for (let i = start, k = 0; i < start + n; i++, k++) Z[k] = zs[i];
    Z.subarray(0, n).sort();
    const tail = Math.floor(0.06 * n);
    let hi = Infinity, lo = -Infinity;
    for (let i = n - 1; i >= n - tail && i > 0; i--) if (Z[i] - Z[i - 1] > gap) hi = Z[i - 1];
    for (let i = 0; i < tail && i + 1 < n; i++) if (Z[i + 1] - Z[i] > gap) lo = Z[i + 1];
    this.heightsSorted = n;
    if (hi === Infinity && lo === -Infinity) return 0;
    let w = start;
    for (let i = start; i < start + n; i++) {
      if (zs[i] > hi || zs[i] < lo) continue;
      xs[w] = xs[i]; ys[w] = ys[i]; zs[w] = zs[i];
      w++;
    }
    const removed = start + n - w;
    this.rejected += removed;
    // The removed heights are the lowest (below lo) and the highest (above hi): the kept ones'
    // sorted order is Z without them, and estimate() need not sort them again. A NaN (sorted
    // last, never removed) would sit between: then it does.
    this.heightsSorted = -1;
    if (!Number.isNaN(Z[n - 1])) {
      let low = 0, high = 0;
      while (low < n && Z[low] < lo) low++;
      while (high < n - low && Z[n - 1 - high] > hi) high++;
      if (low + high === removed) {
        if (low > 0) Z.copyWithin(0, low, n - high);
        this.heightsSorted = n - removed;
      }
    }
    return removed;
  }

  private ensure(n: number): void {
    if (this.a.length >= n) return;
    const len = Math.max(n, this.a.length * 2);
    this.a = new Float64Array(len);
    this.b = new Float64Array(len);
    this.s = new Float64Array(len);
    this.t = new Float64Array(len);
    this.ru = new Float64Array(len);
    this.rv = new Float64Array(len);
    this.rz = new Float64Array(len);
  }

  /**
   * Mask spill and flying pixels that survive the per-pixel tests lie away from the object's
   * body. Objects are compact around the middle of their extent (the midpoint of the 5% and
   * 95% quantiles: the median sits on the wall facing the camera, which has most of the
   * points), so points farther out horizontally than 1.3 times the 95th-percentile radius
   * (plus 1 cm) are strays.
   */
  private rejectStrays(xs: Float32Array, ys: Float32Array, zs: Float32Array, start: number, n: number): number {
    const s = this.a;
    const end = start + n;
    for (let i = start, k = 0; i < end; i++, k++) s[k] = xs[i];
    const mx = (quantileInPlace(s, n, 0.05) + quantileInPlace(s, n, 0.95)) / 2;
    for (let i = start, k = 0; i < end; i++, k++) s[k] = ys[i];
    const my = (quantileInPlace(s, n, 0.05) + quantileInPlace(s, n, 0.95)) / 2;
    for (let i = start, k = 0; i < end; i++, k++) {
      const dx = xs[i] - mx, dy = ys[i] - my;
      s[k] = dx * dx + dy * dy;
    }
    const limit = 1.3 * Math.sqrt(quantileInPlace(s, n, 0.95)) + 0.01;
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

/**
 * How far inside an edge facing horizontal direction (ux, uy) its outermost pixel sample
 * lies on average: half a pixel's footprint. Edges on the far side of a top face are seen
 * on a horizontal surface foreshortened by sin E along the view; near and side edges on the
 * silhouette or a wall, where only the across component counts.
 */
function pixelGap(ux: number, uy: number, c: number, sn: number, sinE: number, pixel: number): number {
  const along = ux * c + uy * sn, across = -ux * sn + uy * c;
  const a = along > 0 ? along / Math.max(sinE, 0.1) : 0;
  return 0.5 * pixel * Math.hypot(a, across);
}

/** Median of the sorted values within [lo, hi], or the midpoint when none are. */
function medianWithin(sorted: ArrayLike<number>, n: number, lo: number, hi: number): number {
  let i = 0;
  while (i < n && sorted[i] < lo) i++;
  let j = i;
  while (j < n && sorted[j] <= hi) j++;
  return j > i ? sorted[(i + j - 1) >> 1] : (lo + hi) / 2;
}

import { solve6 } from "../geometry/solve6.js";

/**
 * Ordinary least-squares fit of a height field z = a0 + a1·u + a2·v + a3·u² + a4·u·v + a5·v²
 * over *ray coordinates* (u, v): where each point's viewing ray meets a fixed horizontal plane.
 *
 * A stereo camera's depth error moves a point along its ray from the camera centre, so the
 * point's ray, and with it (u, v), is exact whatever the noise; only z is noisy. Regressors
 * without noise and noise in z alone are the case ordinary least squares is unbiased for, and
 * where the standard errors it reports hold. (QuadraticSurfaceFit corrects the moments of a
 * noisy regressor instead; with noise comparable to the spread of the points the correction
 * leaves a nearly singular system and the fitted peak can land anywhere.)
 *
 * Coordinates should be centred on the points (metres, a few centimetres). Allocation-free:
 * one instance per estimator, reset per fit.
 */
export class RayQuadraticFit {
  /** a0..a5 after a successful solve(). */
  readonly coef = new Float64Array(6);
  /** Points added since reset(). */
  count = 0;
  private readonly m = new Float64Array(36);
  private readonly r = new Float64Array(6);
  private zz = 0;
  private readonly f = new Float64Array(6);
  private readonly work = new Float64Array(36);
  private readonly rhs = new Float64Array(6);
  private readonly x = new Float64Array(6);
  private readonly g = new Float64Array(6);

  reset(): void {
    this.count = 0;
    this.m.fill(0);
    this.r.fill(0);
    this.zz = 0;
  }

  add(u: number, v: number, z: number): void {
    const f = this.f, m = this.m;
    f[0] = 1; f[1] = u; f[2] = v; f[3] = u * u; f[4] = u * v; f[5] = v * v;
    for (let p = 0; p < 6; p++) {
      const fp = f[p];
      for (let q = p; q < 6; q++) m[p * 6 + q] += fp * f[q];
      this.r[p] += fp * z;
    }
    this.zz += z * z;
    this.count++;
  }

  /** Solves for the coefficients; false when the points do not determine them (fewer than 12, or degenerate). */
  solve(): boolean {
    if (this.count < 12) return false;
    const m = this.m;
    for (let p = 1; p < 6; p++) for (let q = 0; q < p; q++) m[p * 6 + q] = m[q * 6 + p];
    return solve6(m, this.r, this.work, this.rhs, this.coef);
  }

  /** The fitted height at (u, v). */
  at(u: number, v: number): number {
    const c = this.coef;
    return c[0] + c[1] * u + c[2] * v + c[3] * u * u + c[4] * u * v + c[5] * v * v;
  }

  /**
   * Standard error of the curvature (second derivative) along the unit direction (eu, ev),
   * from the residual scatter: the variance of 2(a3 eu² + a4 eu ev + a5 ev²). Infinity when
   * it cannot be told (too few points for a residual, a degenerate system).
   */
  curvatureStdError(eu: number, ev: number): number {
    const n = this.count;
    if (n <= 6) return Infinity;
    const c = this.coef, m = this.m, r = this.r;
    let ssr = this.zz;
    for (let p = 0; p < 6; p++) {
      ssr -= 2 * c[p] * r[p];
      for (let q = 0; q < 6; q++) ssr += c[p] * m[p * 6 + q] * c[q];
    }
    const s2 = Math.max(0, ssr) / (n - 6);
    const g = this.g;
    g.fill(0);
    g[3] = 2 * eu * eu; g[4] = 2 * eu * ev; g[5] = 2 * ev * ev;
    if (!solve6(m, g, this.work, this.rhs, this.x)) return Infinity;
    let q = 0;
    for (let p = 0; p < 6; p++) q += g[p] * this.x[p];
    return Math.sqrt(s2 * Math.max(0, q));
  }
}

import { solve6 } from "../geometry/solve6.js";

/**
 * Least-squares fit of a height field z = a0 + a1·u + a2·v + a3·u² + a4·u·v + a5·v² to points
 * whose depth noise runs along the viewing ray, without the bias that noise would give an
 * ordinary fit.
 *
 * u is the horizontal coordinate along the ray to the object, v the one across it. A depth
 * error ε moves a point by δu = cos E·ε and δz = −sin E·ε (E: the ray's angle below the
 * horizon): the regressor u is noisy and its noise is correlated with z's, so ordinary least
 * squares tilts the fitted surface towards the camera (a dome's peak lands nearer than it is).
 * With the noise's variance along u known (σ²), the moments of the true u follow from the
 * observed ones (the Hermite correction: E[u_obs²] = u² + σ², E[u_obs³] = u³ + 3uσ², …, and
 * the cross moments with z), which is "adjusted least squares" for polynomial
 * errors-in-variables models: unbiased, not merely less biased. v is taken as exact (the
 * ray's across component over one object is a few hundredths).
 *
 * Coordinates should be centred on the points (metres, a few centimetres): the moment sums
 * then stay well conditioned. Allocation-free: one instance per estimator, reset per fit.
 */
export class QuadraticSurfaceFit {
  /** a0..a5 after a successful solve(). */
  readonly coef = new Float64Array(6);
  /** Points added since reset(). */
  count = 0;
  private readonly m = new Float64Array(36);
  private readonly r = new Float64Array(6);
  private readonly work = new Float64Array(36);
  private readonly rhs = new Float64Array(6);
  /** Σ of corrected monomials u^a v^b (a ≤ 4, b ≤ 4), indexed a * 5 + b. */
  private readonly mom = new Float64Array(25);
  /** Σ of corrected u^a v^b z (a ≤ 2, b ≤ 2), indexed a * 3 + b. */
  private readonly momZ = new Float64Array(9);

  reset(): void {
    this.count = 0;
    this.mom.fill(0);
    this.momZ.fill(0);
  }

  /**
   * One point. `s2` is the variance of its u noise (0 when depth is exact); `tanE` the
   * tangent of its ray's depression angle (z noise = −tanE × u noise).
   */
  add(u: number, v: number, z: number, s2: number, tanE: number): void {
    this.count++;
    // Corrected powers of u: Hermite polynomials in u with variance s2.
    const u2 = u * u;
    const h0 = 1, h1 = u, h2 = u2 - s2, h3 = u2 * u - 3 * s2 * u, h4 = u2 * u2 - 6 * s2 * u2 + 3 * s2 * s2;
    const v2 = v * v, v3 = v2 * v, v4 = v2 * v2;
    const m = this.mom;
    m[0] += h0; m[1] += v; m[2] += v2; m[3] += v3; m[4] += v4;
    m[5] += h1; m[6] += h1 * v; m[7] += h1 * v2; m[8] += h1 * v3;
    m[10] += h2; m[11] += h2 * v; m[12] += h2 * v2;
    m[15] += h3; m[16] += h3 * v;
    m[20] += h4;
    // Cross moments with z: E[u_obs z_obs] = u z − tanE s2; E[u_obs² z_obs] = (u² + s2) z − 2 tanE u s2.
    const zu1 = u * z + tanE * s2;
    const zu2 = u2 * z - s2 * z + 2 * tanE * s2 * u;
    const mz = this.momZ;
    mz[0] += z; mz[1] += v * z; mz[2] += v2 * z;
    mz[3] += zu1; mz[4] += zu1 * v;
    mz[6] += zu2;
  }

  /** Solves for the coefficients; false when the points do not determine them. */
  solve(): boolean {
    if (this.count < 8) return false;
    // Features f = [1, u, v, u², uv, v²] as powers (a, b) of u and v.
    const pa = [0, 1, 0, 2, 1, 0], pb = [0, 0, 1, 0, 1, 2];
    const m = this.m, r = this.r, mom = this.mom, mz = this.momZ;
    for (let p = 0; p < 6; p++) {
      for (let q = 0; q < 6; q++) m[p * 6 + q] = mom[(pa[p] + pa[q]) * 5 + pb[p] + pb[q]];
      r[p] = mz[pa[p] * 3 + pb[p]];
    }
    return solve6(m, r, this.work, this.rhs, this.coef);
  }

  /** The fitted height at (u, v). */
  at(u: number, v: number): number {
    const c = this.coef;
    return c[0] + c[1] * u + c[2] * v + c[3] * u * u + c[4] * u * v + c[5] * v * v;
  }
}

/** The Hessian's eigenvalues (ascending) and the first one's unit eigenvector, for a fitted quadratic. */
export function hessianEigen(coef: Float64Array, out: { l1: number; l2: number; e1u: number; e1v: number }): void {
  const h11 = 2 * coef[3], h12 = coef[4], h22 = 2 * coef[5];
  const mid = (h11 + h22) / 2;
  const disc = Math.sqrt(Math.max(0, ((h11 - h22) / 2) ** 2 + h12 * h12));
  out.l1 = mid - disc;
  out.l2 = mid + disc;
  // (H − l1 I) e = 0: e ∝ (h12, l1 − h11) or (l1 − h22, h12), whichever is longer.
  let eu = h12, ev = out.l1 - h11;
  const au = out.l1 - h22, av = h12;
  if (Math.hypot(au, av) > Math.hypot(eu, ev)) { eu = au; ev = av; }
  const n = Math.hypot(eu, ev);
  if (n < 1e-12) { out.e1u = 1; out.e1v = 0; return; }
  out.e1u = eu / n;
  out.e1v = ev / n;
}

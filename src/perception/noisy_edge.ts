const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * The low end of a point cloud's extent along one axis, from the sorted coordinates, when
 * every coordinate carries Gaussian noise of standard deviation `s`.
 *
 * An extreme quantile of noisy coordinates lies ~3 s beyond the surface (a 5 cm cube seen
 * through 4 mm of depth noise gains 2.4 cm of depth). Where the points' density just inside
 * the edge is ρ per metre, noise carries ρ·s/√(2π) of them past it on average, so the edge is
 * the coordinate with that many points below it. ρ is read off the points between the 2%
 * quantile and 4 s above it. With no noise this is the `trim` quantile (a few stray points
 * that survive earlier filters are cut); it never cuts fewer than that.
 */
export function noisyEdgeLow(sorted: ArrayLike<number>, n: number, s: number, trim: number): number {
  return sorted[edgeRank(sorted, n, s, trim, false)];
}

/** The high end: noisyEdgeLow mirrored. */
export function noisyEdgeHigh(sorted: ArrayLike<number>, n: number, s: number, trim: number): number {
  return sorted[n - 1 - edgeRank(sorted, n, s, trim, true)];
}

function edgeRank(v: ArrayLike<number>, n: number, s: number, trim: number, high: boolean): number {
  const base = Math.min(n - 1, Math.round(trim * (n - 1)));
  if (!(s > 0) || n < 8) return base;
  const q = Math.min(n - 1, Math.round(0.02 * (n - 1)));
  const at = (i: number) => (high ? -v[n - 1 - i] : v[i]);
  const e0 = at(q), lim = e0 + 4 * s;
  let i = q;
  while (i + 1 < n && at(i + 1) <= lim) i++;
  const rho = (i - q + 1) / (4 * s);
  return Math.min(n - 1, Math.max(base, Math.round(rho * s * INV_SQRT_2PI)));
}

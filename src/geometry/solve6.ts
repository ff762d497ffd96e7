/**
 * Solves the 6x6 linear system m·x = r by Gaussian elimination with partial pivoting, working
 * on the caller's copies `a` (36 values) and `b` (6) so m and r stay as they were; x gets the
 * solution. False when the system is (numerically) singular or the solution is not finite.
 * Allocation-free. The quadratic surface fits (quadratic_surface.ts, ray_quadratic_fit.ts) solve
 * their normal equations with it; the native port is solveInto in perception_box.cc.
 */
export function solve6(m: Float64Array, r: Float64Array, a: Float64Array, b: Float64Array, x: Float64Array): boolean {
  const n = 6;
  a.set(m);
  b.set(r);
  let scale = 0;
  for (let i = 0; i < 36; i++) scale = Math.max(scale, Math.abs(a[i]));
  if (!(scale > 0)) return false;
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let row = col + 1; row < n; row++) if (Math.abs(a[row * n + col]) > Math.abs(a[piv * n + col])) piv = row;
    if (!(Math.abs(a[piv * n + col]) > 1e-15 * scale)) return false;
    if (piv !== col) {
      for (let k = 0; k < n; k++) { const t = a[col * n + k]; a[col * n + k] = a[piv * n + k]; a[piv * n + k] = t; }
      const t = b[col]; b[col] = b[piv]; b[piv] = t;
    }
    for (let row = col + 1; row < n; row++) {
      const f = a[row * n + col] / a[col * n + col];
      if (f === 0) continue;
      for (let k = col; k < n; k++) a[row * n + k] -= f * a[col * n + k];
      b[row] -= f * b[col];
    }
  }
  for (let row = n - 1; row >= 0; row--) {
    let sum = b[row];
    for (let k = row + 1; k < n; k++) sum -= a[row * n + k] * x[k];
    x[row] = sum / a[row * n + row];
  }
  for (let i = 0; i < n; i++) if (!Number.isFinite(x[i])) return false;
  return true;
}

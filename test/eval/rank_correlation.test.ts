import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../src/errors.js";
import { spearman } from "../../src/eval/rank_correlation.js";
import { mulberry32 } from "../../src/random/mulberry32.js";

/** A seeded permutation of 0..n-1 (Fisher–Yates). */
function permutation(n: number, seed: number): number[] {
  const r = mulberry32(seed);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

describe("spearman", () => {
  it("matches hand-computed values with ties (average ranks)", () => {
    // a = [1,2,3,4,5] ranks 1..5; b = [5,6,7,8,7] ranks [1,2,3.5,5,3.5] (the two 7s share 3 and 4).
    // Both means 3. Deviations a: -2,-1,0,1,2; b: -2,-1,.5,2,.5.
    // Σab = 4+1+0+2+1 = 8, Σaa = 10, Σbb = 4+1+.25+4+.25 = 9.5: rho = 8/√95 (scipy: 0.8207826816681233).
    expect(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).toBeCloseTo(8 / Math.sqrt(95), 14);
    expect(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).toBeCloseTo(0.8207826816681233, 14);
    // a = [1,2,2,3] ranks [1,2.5,2.5,4]; b = [1,3,2,4] ranks [1,3,2,4]; both means 2.5.
    // Deviations a: -1.5,0,0,1.5; b: -1.5,.5,-.5,1.5. Σab = 4.5, Σaa = 4.5, Σbb = 5: rho = 4.5/√22.5 = √0.9.
    // (0.7378647873726218, quoted for this pair in the task brief, is not its rho.)
    expect(spearman([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(Math.sqrt(0.9), 14);
    // Ties on both sides: a = [0,0,1] ranks [1.5,1.5,3]; b = [0,1,1] ranks [1,2.5,2.5]; means 2.
    // Deviations a: -.5,-.5,1; b: -1,.5,.5. Σab = .5 − .25 + .5 = .75, Σaa = Σbb = 1.5: rho = 0.5.
    expect(spearman([0, 0, 1], [0, 1, 1])).toBeCloseTo(0.5, 14);
  });

  it("equals 1 − 6Σd²/(n(n²−1)) on untied data (an independent formula)", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const n = 3 + (seed % 17);
      const p = permutation(n, seed);
      const q = permutation(n, seed + 1000);
      let d2 = 0;
      for (let i = 0; i < n; i++) d2 += (p[i] - q[i]) ** 2;
      // Values scaled and shifted: only the order may matter.
      expect(spearman(p.map((x) => 3 * x - 7), q.map((x) => Math.exp(x / 4)))).toBeCloseTo(1 - (6 * d2) / (n * (n * n - 1)), 12);
    }
  });

  it("is 1 for a monotone pair, −1 for a reversed one, symmetric, in [−1, 1]", () => {
    const x = [0.1, 0.5, 0.2, 0.9, 0.3];
    expect(spearman(x, x.map((v) => v ** 3 + 2))).toBe(1);
    expect(spearman(x, x.map((v) => -Math.log(v)))).toBe(-1);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBe(-1);
    const a = permutation(30, 7).map((v) => v % 9);
    const b = permutation(30, 8).map((v) => v % 5);
    const rho = spearman(a, b);
    expect(rho).toBe(spearman(b, a));
    expect(Math.abs(rho)).toBeLessThanOrEqual(1);
  });

  it("is 0 when either side is constant, or with fewer than two values", () => {
    expect(spearman([3, 3, 3, 3], [1, 2, 3, 4])).toBe(0);
    expect(spearman([1, 2, 3, 4], [0, 0, 0, 0])).toBe(0);
    expect(spearman([5], [2])).toBe(0);
    expect(spearman([], [])).toBe(0);
  });

  it("refuses a length mismatch and non-finite values with a typed error", () => {
    const bad: [number[], number[], RegExp][] = [
      [[1, 2, 3], [1, 2], /lengths differ \(3 vs 2\)/],
      [[1, NaN, 3], [1, 2, 3], /a\[1\] is NaN/],
      [[1, 2, 3], [1, 2, Infinity], /b\[2\] is Infinity/],
      [[1, 2, 3], [-Infinity, 2, 3], /b\[0\] is -Infinity/],
      [["1", 2] as unknown as number[], [1, 2], /a\[0\] is string/],
      [null as unknown as number[], [1, 2], /a must be an array/],
    ];
    for (const [a, b, message] of bad) {
      expect(() => spearman(a, b)).toThrow(InvalidInputError);
      expect(() => spearman(a, b)).toThrow(message);
    }
  });
});

import { describe, expect, it } from "vitest";
import { Rng, spearman } from "../../sim/index.js";

describe("spearman", () => {
  it("identical series → 1, reversed → −1, monotone transforms do not matter", () => {
    const x = [0.3, 1.2, -4, 7, 2.5, 9, 0];
    expect(spearman(x, x)).toBeCloseTo(1, 12);
    expect(spearman(x, x.map((v) => -v))).toBeCloseTo(-1, 12);
    expect(spearman(x, x.map((v) => Math.exp(v)))).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4, 5], [5, 4, 3, 2, 1])).toBeCloseTo(-1, 12);
  });

  it("without ties equals 1 − 6Σd²/(n(n²−1))", () => {
    const rng = new Rng(12);
    for (let trial = 0; trial < 20; trial++) {
      const n = rng.int(3, 30);
      const a = Array.from({ length: n }, () => rng.normal()), b = Array.from({ length: n }, () => rng.normal());
      const rank = (xs: number[]) => { const s = [...xs].sort((p, q) => p - q); return xs.map((v) => s.indexOf(v)); };
      const ra = rank(a), rb = rank(b);
      const d2 = ra.reduce((s, r, i) => s + (r - rb[i]) ** 2, 0);
      expect(spearman(a, b)).toBeCloseTo(1 - (6 * d2) / (n * (n * n - 1)), 10);
    }
  });

  it("ties take the average rank", () => {
    // Ranks [0, 1.5, 1.5, 3] vs [0, 1, 2, 3]: Pearson = 4.5 / √(4.5·5).
    expect(spearman([1, 2, 2, 3], [10, 20, 30, 40])).toBeCloseTo(4.5 / Math.sqrt(4.5 * 5), 12);
    // Tied pair in the same order in both series: still perfectly correlated.
    expect(spearman([1, 2, 2, 3], [5, 6, 6, 9])).toBeCloseTo(1, 12);
    // The tie order in the input does not matter.
    expect(spearman([2, 1, 3, 2], [30, 10, 40, 20])).toBeCloseTo(spearman([1, 2, 2, 3], [10, 20, 30, 40]), 12);
  });
});

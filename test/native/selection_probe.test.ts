import { describe, expect, it } from "vitest";
import { kernelFamily } from "../../nodes/native/kernels_addon.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { NATIVE_TESTS } from "./native_env.js";

interface Selection {
  selectRanksInto(values: Float32Array, r1: number, r2: number, out: Float64Array): void;
  rankedEndsInto(values: Float32Array, low: number, high: number, ranks: Int32Array, out: Float64Array): void;
  selectRanksXYInto(x: Float32Array, y: Float32Array, r1: number, r2: number, out: Float64Array): void;
  keyRankInto(values: Float64Array, r: number, out: Float64Array): void;
  sortedInto(values: Float32Array, out: Float64Array): void;
}

/** Random float32 values of one of seven kinds (spread, ties, far strays, odd values, zeros of both signs, one value with NaN). */
function randomValues(rng: () => number, n: number, kind: number, wide: boolean): Float32Array {
  const odd = [0, -0, NaN, Infinity, -Infinity, 1e-45, -1e-45, 3e38, -3e38];
  const v = new Float32Array(n);
  const centre = (rng() - 0.5) * (wide ? 4 : 0.1), spread = 10 ** (rng() * 4 - 4);
  for (let i = 0; i < n; i++) {
    let x = centre + (rng() + rng() + rng() - 1.5) * spread;
    if (kind === 1) x = Math.round(x * 1000) / 1000;
    if (kind === 2 && rng() < 0.02) x = centre + (rng() - 0.5) * 50;
    if (kind === 3 && rng() < 0.05) x = odd[Math.floor(rng() * odd.length)];
    if (kind === 4) x = rng() < 0.5 ? 0 : -0;
    if (kind === 5) x = rng() < 0.01 ? NaN : centre;
    // Spatially ordered (as an object's points come, row by row): long runs in one bin.
    if (kind === 6) x = centre + spread * Math.floor(i / 40) + (rng() < 0.1 ? spread * (rng() - 0.5) * 1e-3 : 0);
    v[i] = x;
  }
  return v;
}

/**
 * perception_sort.h's rank selections (the stray cut's x/y quantiles in object_box) and Ranked's
 * ends (the visible box's edges under noise) against the
 * reference's order: a sorted Float64Array copy (ascending, -0 before +0, NaN last). Through
 * measureObjects a rank off by one only moves the stray cut a hair and is rarely seen.
 */
describe.runIf(NATIVE_TESTS)("native rank selection (kernel family 'selection')", () => {
  const k = (): Selection => {
    const f = kernelFamily<Selection>("selection", ["selectRanksInto", "rankedEndsInto", "selectRanksXYInto", "keyRankInto", "sortedInto"]);
    expect(f).not.toBeNull();
    return f!;
  };

  it("selectPairByValue and selectPair give the sorted copy's values at both ranks, bit for bit, on 3000 random sets", () => {
    const sel = k();
    const rng = mulberry32(9181);
    const odd = [0, -0, NaN, Infinity, -Infinity, 1e-45, -1e-45, 3e38, -3e38];
    const out = new Float64Array(4);
    const kinds = new Set<string>();
    for (let trial = 0; trial < 3000; trial++) {
      const n = trial % 10 === 0 ? 1 + Math.floor(rng() * 20) : trial % 3 === 0 ? 256 + Math.floor(rng() * 3000) : 1 + Math.floor(rng() * 1500);
      const v = new Float32Array(n);
      const centre = (rng() - 0.5) * (trial % 4 === 0 ? 0.1 : 4), spread = 10 ** (rng() * 4 - 4);
      const kind = trial % 7;
      for (let i = 0; i < n; i++) {
        let x = centre + (rng() + rng() + rng() - 1.5) * spread;
        if (kind === 1) x = Math.round(x * 1000) / 1000; // ties
        if (kind === 2 && rng() < 0.02) x = centre + (rng() - 0.5) * 50; // far strays
        if (kind === 3 && rng() < 0.05) x = odd[Math.floor(rng() * odd.length)];
        if (kind === 4) x = rng() < 0.5 ? 0 : -0; // only zeros of both signs
        if (kind === 5) x = rng() < 0.01 ? NaN : centre; // one value (and NaN)
        v[i] = x;
      }
      const sorted = Float64Array.from(v).sort();
      const last = n - 1;
      // The stray cut's ranks (object_box.ts quantileInPlace), then any two.
      let r1 = Math.min(last, Math.max(0, Math.round(0.05 * last))), r2 = Math.min(last, Math.max(0, Math.round(0.95 * last)));
      if (trial % 2 === 1) {
        r1 = Math.floor(rng() * n);
        r2 = r1 + Math.floor(rng() * (n - r1));
      }
      sel.selectRanksInto(v, r1, r2, out);
      const want = [sorted[r1], sorted[r2], sorted[r1], sorted[r2]];
      for (let j = 0; j < 4; j++) {
        if (!Object.is(out[j], want[j])) expect.fail(`trial ${trial} (n ${n}, kind ${kind}, ranks ${r1} ${r2}): out[${j}] ${out[j]} != ${want[j]}`);
      }
      kinds.add(`${kind}:${n >= 256}`);
    }
    expect(kinds.size).toBe(14);
  });

  it("Ranked's ends after need(low, high) (a sample's brackets from 256 values, else the general path), and ranks read past them, give the sorted copy's values on 2000 random sets", () => {
    const sel = k();
    const rng = mulberry32(7727);
    const kinds = new Set<string>();
    for (let trial = 0; trial < 2000; trial++) {
      const n = trial % 3 === 0 ? 2 + Math.floor(rng() * 300) : 256 + Math.floor(rng() * 2500);
      const kind = Math.floor(trial / 3) % 6;
      const v = randomValues(rng, n, kind, trial % 4 !== 0);
      const sorted = Float64Array.from(v).sort();
      // The edge scans' request (2% + 24 each side) or any, then reads at, just past and far from the ends.
      const edge = Math.min(Math.floor(n / 4), Math.round(0.02 * (n - 1)) + 24);
      const low = trial % 2 === 0 ? edge : Math.floor(rng() * (n / 4));
      const high = trial % 2 === 0 ? edge : Math.floor(rng() * (n / 4));
      const ranks: number[] = [];
      for (let r = 0; r < Math.min(n, low + 6); r++) ranks.push(r);
      for (let r = Math.max(0, n - high - 6); r < n; r++) ranks.push(r);
      for (let j = 0; j < 4; j++) ranks.push(Math.floor(rng() * n));
      const out = new Float64Array(ranks.length);
      sel.rankedEndsInto(v, low, high, Int32Array.from(ranks), out);
      for (let j = 0; j < ranks.length; j++) {
        if (!Object.is(out[j], sorted[ranks[j]])) expect.fail(`trial ${trial} (n ${n}, kind ${kind}, need ${low} ${high}): rank ${ranks[j]} read ${out[j]}, sorted ${sorted[ranks[j]]}`);
      }
      kinds.add(`${kind}:${n >= 256}`);
    }
    expect(kinds.size).toBe(12);
  });

  it("selectPairsByValue2 (the stray cut's x and y at once, four values a pass) gives both sorted copies' values at both ranks on 3000 random pairs", () => {
    const sel = k();
    const rng = mulberry32(4411);
    const out = new Float64Array(4);
    const kinds = new Set<string>();
    for (let trial = 0; trial < 3000; trial++) {
      const n = trial % 10 === 0 ? 1 + Math.floor(rng() * 20) : 1 + Math.floor(rng() * 2500);
      const x = randomValues(rng, n, trial % 7, trial % 4 !== 0);
      const y = randomValues(rng, n, Math.floor(trial / 7) % 7, trial % 3 !== 0);
      const sx = Float64Array.from(x).sort(), sy = Float64Array.from(y).sort();
      const last = n - 1;
      let r1 = Math.min(last, Math.max(0, Math.round(0.05 * last))), r2 = Math.min(last, Math.max(0, Math.round(0.95 * last)));
      if (trial % 2 === 1) {
        r1 = Math.floor(rng() * n);
        r2 = r1 + Math.floor(rng() * (n - r1));
      }
      sel.selectRanksXYInto(x, y, r1, r2, out);
      const want = [sx[r1], sx[r2], sy[r1], sy[r2]];
      for (let j = 0; j < 4; j++) {
        if (!Object.is(out[j], want[j])) expect.fail(`trial ${trial} (n ${n}, ranks ${r1} ${r2}): out[${j}] ${out[j]} != ${want[j]}`);
      }
      kinds.add(`${trial % 7}`);
    }
    expect(kinds.size).toBe(7);
    expect(() => sel.selectRanksXYInto(Float32Array.of(1, 2), Float32Array.of(1), 0, 1, out)).toThrow(RangeError);
    expect(() => sel.selectRanksXYInto(Float32Array.of(1, 2), Float32Array.of(1, 2), 1, 0, out)).toThrow(RangeError);
  });

  it("selectKeyByBits (the stray cut's squared distances, by their keys' high bits) gives the sorted copy's value at any rank on 2000 random sets", () => {
    const sel = k();
    const rng = mulberry32(5573);
    const out = new Float64Array(1);
    for (let trial = 0; trial < 2000; trial++) {
      const n = 1 + Math.floor(rng() * (trial % 5 === 0 ? 20 : 3000));
      const f = randomValues(rng, n, trial % 7, trial % 2 === 0);
      // Squared distances (non-negative, a far stray 10^4 times the rest) and, every third set, signed doubles.
      const v = new Float64Array(n);
      for (let i = 0; i < n; i++) v[i] = trial % 3 === 0 ? f[i] * (1 + rng() * 1e-9) : f[i] * f[i];
      const sorted = Float64Array.from(v).sort();
      const r = trial % 2 === 0 ? Math.min(n - 1, Math.round(0.95 * (n - 1))) : Math.floor(rng() * n);
      sel.keyRankInto(v, r, out);
      if (!Object.is(out[0], sorted[r])) expect.fail(`trial ${trial} (n ${n}, rank ${r}): ${out[0]} != ${sorted[r]}`);
    }
    expect(() => sel.keyRankInto(Float64Array.of(1), 1, out)).toThrow(RangeError);
  });

  it("Ranked's whole sort of floats (keys, differing bytes and counts in one pass) equals the sorted copy on 1500 random sets, few and many values", () => {
    const sel = k();
    const rng = mulberry32(6607);
    for (let trial = 0; trial < 1500; trial++) {
      const n = trial % 5 === 0 ? Math.floor(rng() * 60) : 49 + Math.floor(rng() * 3000);
      const v = randomValues(rng, n, trial % 7, trial % 2 === 0);
      const sorted = Float64Array.from(v).sort();
      const out = new Float64Array(n);
      sel.sortedInto(v, out);
      for (let i = 0; i < n; i++) {
        if (!Object.is(out[i], sorted[i])) expect.fail(`trial ${trial} (n ${n}, kind ${trial % 7}): [${i}] ${out[i]} != ${sorted[i]}`);
      }
    }
  });

  it("refuses ranks out of order, out of range or fractional, and short or mistyped arrays", () => {
    const sel = k();
    const v = Float32Array.of(3, 1, 2), out = new Float64Array(4);
    for (const [r1, r2] of [[2, 1], [0, 3], [-1, 0], [0.5, 1], [NaN, 1], [0, Infinity]]) {
      expect(() => sel.selectRanksInto(v, r1, r2, out), `${r1} ${r2}`).toThrow(RangeError);
    }
    expect(() => sel.selectRanksInto(new Float32Array(0), 0, 0, out)).toThrow(RangeError);
    expect(() => sel.selectRanksInto(v, 0, 1, new Float64Array(3))).toThrow(RangeError);
    expect(() => sel.selectRanksInto(Float64Array.of(1, 2) as unknown as Float32Array, 0, 1, out)).toThrow(TypeError);
    sel.selectRanksInto(v, 0, 2, out);
    expect(Array.from(out)).toEqual([1, 3, 1, 3]);
    expect(() => sel.rankedEndsInto(v, 2, 2, Int32Array.of(0), new Float64Array(1))).toThrow(RangeError);
    expect(() => sel.rankedEndsInto(v, 1, 1, Int32Array.of(3), new Float64Array(1))).toThrow(RangeError);
    expect(() => sel.rankedEndsInto(v, 1, 1, Int32Array.of(0, 1), new Float64Array(1))).toThrow(RangeError);
  });
});

import { describe, expect, it } from "vitest";
import { LatencyStats } from "../../src/diagnostics/latency_stats.js";
import { InvalidInputError } from "../../src/errors.js";
import { mulberry32 } from "../../src/random/mulberry32.js";

/**
 * Nearest rank ⌈q·n/100⌉ over the sorted samples (the old implementation's definition), without
 * its float error: (99.9 / 100) · 50000 is 49950.00000000001, whose ceiling is one rank too far.
 */
function nearestRank(sorted: Float64Array, q: number): number {
  const x = (q / 100) * sorted.length;
  const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil(x - x * 1e-12) - 1));
  return sorted[k];
}

/** Log-uniform over 1 µs .. 100 s, with a tail and ties, as latencies look. */
function latencies(n: number, seed: number): Float64Array {
  const r = mulberry32(seed);
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    xs[i] = u < 0.1 ? 1.25 : u < 0.95 ? 10 ** (-3 + 4 * r()) : 10 ** (1 + 4 * r());
  }
  return xs;
}

const QS = [0, 0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100];

/** A clock the test moves by hand. */
function manualClock(): { now: () => number; t: number } {
  const c = { t: 0, now: () => c.t };
  return c;
}

describe("LatencyStats: percentiles against an exact sort", () => {
  it.each([
    [1, 3, 1e-3],
    [2, 3, 1e-3],
    [3, 2, 1e-2],
  ])("seed %i, %i significant digits: every percentile within the stated precision of the nearest-rank sample", (seed, digits, rel) => {
    const xs = latencies(50_000, seed);
    const stats = new LatencyStats({ significantDigits: digits });
    for (const x of xs) stats.add(x);
    const sorted = Float64Array.from(xs).sort();
    for (const q of QS) {
      const exact = nearestRank(sorted, q);
      const got = stats.percentile(q);
      // 10^-digits of the value, plus rounding to whole microseconds.
      expect(Math.abs(got - exact), `q=${q}: ${got} vs ${exact}`).toBeLessThanOrEqual(exact * rel + 1e-3);
    }
    // Extremes and mean are exact, not bucketed.
    expect(stats.percentile(0)).toBe(sorted[0]);
    expect(stats.percentile(100)).toBe(sorted[sorted.length - 1]);
    expect(stats.mean()).toBeCloseTo(xs.reduce((a, b) => a + b, 0) / xs.length, 9);
    const s = stats.summary();
    expect(s.n).toBe(50_000);
    expect(s.max).toBeCloseTo(sorted[sorted.length - 1], 3);
    expect(Math.abs(s.p99 - nearestRank(sorted, 99))).toBeLessThanOrEqual(nearestRank(sorted, 99) * rel + 2e-3);
    expect(stats.count).toBe(50_000);
  });

  it("keeps the old API and results for small exact runs: nearest rank, NaN when empty, summary keys", () => {
    const stats = new LatencyStats();
    expect(stats.percentile(50)).toBeNaN();
    expect(stats.mean()).toBeNaN();
    expect(stats.summary().n).toBe(0);
    for (let i = 1; i <= 10; i++) stats.add(i / 10); // 0.1 .. 1.0 ms: whole microseconds, exact
    expect(stats.percentile(50)).toBe(0.5);
    expect(stats.percentile(90)).toBe(0.9);
    expect(stats.percentile(91)).toBe(1);
    expect(stats.percentile(-5)).toBe(0.1);
    expect(stats.percentile(500)).toBe(1);
    expect(stats.percentile(NaN)).toBeNaN();
    expect(stats.summary()).toEqual({ p50: 0.5, p90: 0.9, p99: 1, mean: 0.55, max: 1, n: 10 });
  });
});

describe("LatencyStats: the recent window", () => {
  it("reports the last ~10 s: old samples age out, lifetime count stays", () => {
    const clock = manualClock();
    const stats = new LatencyStats({ windowMs: 10_000, now: clock.now });
    for (let i = 0; i < 1000; i++) stats.add(100);
    clock.t = 5_000;
    for (let i = 0; i < 1000; i++) stats.add(1);
    expect(stats.summary()).toMatchObject({ n: 2000, max: 100, p50: 1, p90: 100 });
    clock.t = 9_999;
    expect(stats.summary().n).toBe(2000);
    // The first second's slice ends its 10 s at t = 10 s.
    clock.t = 10_000;
    expect(stats.summary()).toEqual({ p50: 1, p90: 1, p99: 1, mean: 1, max: 1, n: 1000 });
    expect(stats.percentile(100)).toBe(1);
    clock.t = 15_000;
    expect(stats.summary().n).toBe(0);
    expect(stats.percentile(50)).toBeNaN();
    expect(stats.mean()).toBeNaN();
    expect(stats.count).toBe(2000);
    // New samples after an idle gap are reported alone.
    stats.add(7);
    expect(stats.summary()).toEqual({ p50: 7, p90: 7, p99: 7, mean: 7, max: 7, n: 1 });
    expect(stats.windowDurationMs).toBe(10_000);
  });

  it("a steady stream keeps reporting only the window, whatever came before", () => {
    const clock = manualClock();
    const stats = new LatencyStats({ windowMs: 10_000, now: clock.now });
    // 60 s at 100 Hz of 50 ms, then 60 s at 100 Hz of 2 ms.
    for (let k = 0; k < 12_000; k++) {
      clock.t = k * 10;
      stats.add(k < 6000 ? 50 : 2);
    }
    const s = stats.summary();
    // The ring holds 9 whole slices plus the running one: 900..1000 samples, all from the second minute.
    expect(s.n).toBeGreaterThanOrEqual(900);
    expect(s.n).toBeLessThanOrEqual(1000);
    expect(s).toMatchObject({ p50: 2, p99: 2, max: 2, mean: 2 });
    expect(stats.count).toBe(12_000);
  });

  it("2 significant digits (the nodes' /diagnostics windows): every percentile of a rotating window within 1% of the nearest rank, under a fifth of the 3-digit ring's memory", () => {
    const clock = manualClock();
    const stats = new LatencyStats({ windowMs: 10_000, now: clock.now, significantDigits: 2 });
    expect(stats.footprintBytes).toBeLessThan(new LatencyStats({ windowMs: 10_000 }).footprintBytes / 5);
    // 30 s at 30 Hz: the window ends up holding the last 9-10 s.
    const xs = latencies(900, 4);
    for (let k = 0; k < xs.length; k++) {
      clock.t = (k * 1000) / 30;
      stats.add(xs[k]);
    }
    const n = stats.summary().n;
    expect(n).toBeGreaterThanOrEqual(270);
    expect(n).toBeLessThanOrEqual(300);
    const sorted = Float64Array.from(xs.subarray(xs.length - n)).sort();
    for (const q of QS) {
      const exact = nearestRank(sorted, q);
      expect(Math.abs(stats.percentile(q) - exact), `q ${q}`).toBeLessThanOrEqual(exact * 1e-2 + 2e-3);
    }
  });

  it("a clock that jumps far ahead or goes back breaks nothing", () => {
    const clock = manualClock();
    const stats = new LatencyStats({ windowMs: 1000, slices: 4, now: clock.now });
    stats.add(3);
    clock.t = 1e15;
    expect(stats.summary().n).toBe(0);
    stats.add(4);
    clock.t = 5; // backwards: the sample stays until the clock passes its slice again
    stats.add(5);
    expect(stats.summary()).toMatchObject({ n: 2, max: 5, mean: 4.5 });
    clock.t = NaN;
    stats.add(6);
    expect(stats.summary().n).toBe(3);
  });
});

describe("LatencyStats: constant memory", () => {
  it("10 M samples, with and without a window: the histograms' size is the one at construction", () => {
    const clock = manualClock();
    const lifetime = new LatencyStats();
    const windowed = new LatencyStats({ windowMs: 10_000, now: clock.now });
    const bytes = [lifetime.footprintBytes, windowed.footprintBytes];
    // Constant and modest: one histogram, or a ring of 10 plus their sum (1 µs .. 1 h, 3 digits).
    expect(bytes[0]).toBeLessThan(256 * 1024);
    expect(bytes[1]).toBeLessThan(1.5 * 1024 * 1024);
    const r = mulberry32(5);
    for (let i = 0; i < 10_000_000; i++) {
      const x = r() * 40;
      lifetime.add(x);
      windowed.add(x);
      if (i % 1000 === 0) clock.t += 1; // 1 M samples per simulated second
    }
    expect([lifetime.footprintBytes, windowed.footprintBytes]).toEqual(bytes);
    expect(lifetime.count).toBe(10_000_000);
    expect(windowed.count).toBe(10_000_000);
    expect(lifetime.summary().n).toBe(10_000_000);
    const w = windowed.summary().n;
    expect(w).toBeGreaterThanOrEqual(9_000_000 - 1000);
    expect(w).toBeLessThanOrEqual(10_000_000);
    expect(lifetime.percentile(50)).toBeCloseTo(20, 0);
  }, 120_000);
});

describe("LatencyStats: hostile samples", () => {
  it("non-finite, negative, out-of-range and non-number samples are counted and never corrupt the stats", () => {
    const stats = new LatencyStats({ highestTrackableMs: 60_000 });
    stats.add(2);
    stats.add(4);
    const hostile = [NaN, Infinity, -Infinity, -1, -1e-9, 1e300, Number.MAX_VALUE, 60_001, "5" as unknown as number, undefined as unknown as number, null as unknown as number];
    for (const h of hostile) stats.add(h);
    expect(stats.rejected).toBe(hostile.length);
    expect(stats.count).toBe(2);
    expect(stats.summary()).toEqual({ p50: 2, p90: 4, p99: 4, mean: 3, max: 4, n: 2 });
    // Zero (and −0) are durations: a cached answer can take no measurable time.
    stats.add(0);
    stats.add(-0);
    expect(stats.summary()).toMatchObject({ n: 4, p50: 0, mean: 1.5 });
    stats.add(60_000);
    expect(stats.percentile(100)).toBe(60_000);
    expect(stats.rejected).toBe(hostile.length);
  });

  it.each([
    [{ windowMs: 0 }],
    [{ windowMs: -5 }],
    [{ windowMs: NaN }],
    [{ windowMs: Infinity }],
    [{ windowMs: 1000, slices: 0 }],
    [{ windowMs: 1000, slices: 2.5 }],
    [{ windowMs: 1000, slices: 1e6 }],
    [{ significantDigits: 0 }],
    [{ significantDigits: 6 }],
    [{ significantDigits: 2.5 }],
    [{ highestTrackableMs: 0 }],
    [{ highestTrackableMs: NaN }],
    [{ highestTrackableMs: 1e30 }],
  ])("rejects options %j with bad_argument", (options) => {
    const make = () => new LatencyStats(options);
    expect(make).toThrow(InvalidInputError);
    try {
      make();
    } catch (e) {
      expect((e as InvalidInputError).code).toBe("bad_argument");
    }
  });
});

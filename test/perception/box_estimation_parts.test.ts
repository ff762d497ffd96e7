import { describe, expect, it } from "vitest";
import { Rng } from "../../sim/rng.js";
import { depthNoiseAt1m } from "../../src/perception/depth_noise.js";
import { noisyEdgeHigh, noisyEdgeLow } from "../../src/perception/noisy_edge.js";
import { hessianEigen, QuadraticSurfaceFit } from "../../src/perception/quadratic_surface.js";
import { RayQuadraticFit } from "../../src/perception/ray_quadratic_fit.js";
import { settleOnSupports } from "../../src/perception/stacked_support.js";
import type { RestingOn } from "../../src/perception/object_box.js";
import type { SceneObject } from "../../src/scene/scene_object.js";

describe("noisy edges", () => {
  it("without noise: the trim quantile; with noise: the edge of a flat density, not a σ or more past it", () => {
    const rng = new Rng(3);
    const n = 4000, s = 0.004;
    const exact = Float64Array.from({ length: n }, () => rng.uniform(0.1, 0.2)).sort();
    expect(noisyEdgeLow(exact, n, 0, 0.001)).toBeCloseTo(exact[4], 12);
    expect(noisyEdgeHigh(exact, n, 0, 0.001)).toBeCloseTo(exact[n - 5], 12);
    let lo = 0, hi = 0, naiveLo = 0;
    const trials = 20;
    for (let t = 0; t < trials; t++) {
      const v = Float64Array.from({ length: n }, () => rng.uniform(0.1, 0.2) + s * rng.normal()).sort();
      lo += noisyEdgeLow(v, n, s, 0.0015) / trials;
      hi += noisyEdgeHigh(v, n, s, 0.0015) / trials;
      naiveLo += v[Math.round(0.0015 * (n - 1))] / trials;
    }
    expect(Math.abs(lo - 0.1)).toBeLessThan(0.3 * s);
    expect(Math.abs(hi - 0.2)).toBeLessThan(0.3 * s);
    // What an extreme quantile gives: well over a σ out.
    expect(0.1 - naiveLo).toBeGreaterThan(1.2 * s);
  });

  it("small and degenerate inputs stay in range", () => {
    const v = Float64Array.from([1, 1, 1]);
    expect(noisyEdgeLow(v, 3, 0.01, 0.01)).toBe(1);
    expect(noisyEdgeHigh(v, 3, 0.01, 0.01)).toBe(1);
    const w = new Float64Array(20).fill(2);
    expect(noisyEdgeLow(w, 20, 0.01, 0)).toBe(2);
  });
});

describe("quadratic surface fit with noise along the ray", () => {
  it("recovers an exact quadratic", () => {
    const f = new QuadraticSurfaceFit();
    for (let u = -0.03; u <= 0.03; u += 0.005) for (let v = -0.03; v <= 0.03; v += 0.005) f.add(u, v, 0.01 + 0.2 * u - 0.1 * v - 12 * u * u + 3 * u * v - 20 * v * v, 0, 0.5);
    expect(f.solve()).toBe(true);
    const want = [0.01, 0.2, -0.1, -12, 3, -20];
    want.forEach((w, i) => expect(f.coef[i]).toBeCloseTo(w, 6));
    const e = { l1: 0, l2: 0, e1u: 0, e1v: 0 };
    hessianEigen(f.coef, e);
    expect(e.l1).toBeLessThan(e.l2);
    expect(e.l2).toBeLessThan(0);
  });

  it("a dome's peak under depth noise: the corrected fit finds it, the plain one pulls it towards the camera", () => {
    const rng = new Rng(11);
    const tanE = Math.tan(0.5), s = 0.004;
    let corrected = 0, plain = 0;
    const trials = 40;
    for (let t = 0; t < trials; t++) {
      const a = new QuadraticSurfaceFit(), b = new QuadraticSurfaceFit();
      for (let k = 0; k < 600; k++) {
        // A dome z = −u²/2r − v²/2r (r = 4 cm) sampled over its top, seen along a ray tilted by E.
        const u = rng.uniform(-0.025, 0.025), v = rng.uniform(-0.025, 0.025);
        const z = -(u * u + v * v) / 0.08;
        const du = s * rng.normal();
        a.add(u + du, v, z - tanE * du, s * s, tanE);
        b.add(u + du, v, z - tanE * du, 0, tanE);
      }
      expect(a.solve() && b.solve()).toBe(true);
      // Peak along u of z = a0 + a1 u + a3 u² (v = 0): −a1 / 2a3.
      corrected += -a.coef[1] / (2 * a.coef[3]) / trials;
      plain += -b.coef[1] / (2 * b.coef[3]) / trials;
    }
    expect(Math.abs(corrected)).toBeLessThan(0.0008);
    expect(plain).toBeLessThan(-0.002);
  });

  it("too few points, or all at one spot: no solution rather than garbage", () => {
    const f = new QuadraticSurfaceFit();
    for (let k = 0; k < 5; k++) f.add(0.01 * k, 0, 0, 0, 0);
    expect(f.solve()).toBe(false);
    f.reset();
    for (let k = 0; k < 50; k++) f.add(0.01, 0.02, 0.003, 0, 0.3);
    expect(f.solve()).toBe(false);
  });
});

describe("quadratic fit over ray coordinates", () => {
  const dome = (u: number, v: number) => 0.004 - 12 * u * u + 3 * u * v - 20 * v * v + 0.1 * u;
  it("recovers an exact quadratic, with a curvature standard error of 0", () => {
    const f = new RayQuadraticFit();
    for (let i = -5; i <= 5; i++) for (let j = -5; j <= 5; j++) f.add(0.003 * i, 0.003 * j, dome(0.003 * i, 0.003 * j));
    expect(f.solve()).toBe(true);
    const want = [0.004, 0.1, 0, -12, 3, -20];
    for (let k = 0; k < 6; k++) expect(f.coef[k]).toBeCloseTo(want[k], 9);
    expect(f.curvatureStdError(1, 0)).toBeLessThan(1e-6);
  });

  it("with noise in z: unbiased curvature, and a standard error that describes its scatter and shrinks with the points", () => {
    const rng = new Rng(7);
    const fit = (side: number) => {
      const f = new RayQuadraticFit();
      for (let i = -side; i <= side; i++) for (let j = -side; j <= side; j++) {
        const u = (0.015 * i) / side, v = (0.015 * j) / side;
        f.add(u, v, dome(u, v) + 0.004 * rng.normal());
      }
      expect(f.solve()).toBe(true);
      return { curv: 2 * f.coef[3], se: f.curvatureStdError(1, 0) };
    };
    const runs = Array.from({ length: 200 }, () => fit(6));
    const mean = runs.reduce((a, r) => a + r.curv, 0) / runs.length;
    const sd = Math.sqrt(runs.reduce((a, r) => a + (r.curv - mean) ** 2, 0) / (runs.length - 1));
    const se = runs.reduce((a, r) => a + r.se, 0) / runs.length;
    expect(Math.abs(mean + 24)).toBeLessThan(3 * sd / Math.sqrt(runs.length) + 0.5);
    expect(se / sd).toBeGreaterThan(0.8);
    expect(se / sd).toBeLessThan(1.25);
    expect(fit(12).se).toBeLessThan(0.6 * fit(6).se);
  });

  it("too few points, or all on a line: no solution; a standard error of Infinity when it cannot be told", () => {
    const f = new RayQuadraticFit();
    for (let k = 0; k < 11; k++) f.add(0.01 * k, 0.02 * k, 0.001 * k);
    expect(f.solve()).toBe(false);
    f.reset();
    for (let k = 0; k < 40; k++) f.add(0.001 * k, 0.002 * k, 0.0001 * k * k);
    expect(f.solve()).toBe(false);
    expect(new RayQuadraticFit().curvatureStdError(1, 0)).toBe(Infinity);
  });
});

describe("depth noise from the support surface", () => {
  // A camera 0.8 m above a table (spatial frame = optical frame rotated: here the identity
  // with z up, so samples are given directly with the table at z = −0.8).
  const R = Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  function samples(k: number, n: number, seed: number): Float32Array {
    const rng = new Rng(seed);
    const out = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      const x = rng.uniform(0.5, 1.5), y = rng.uniform(-0.4, 0.4), z = -0.8;
      const r = Math.hypot(x, y, z);
      const f = 1 + (k * r * rng.normal()); // depth error k·r² along the ray
      out[i * 3] = x * f; out[i * 3 + 1] = y * f; out[i * 3 + 2] = z * f;
    }
    return out;
  }
  it("reads a RealSense-like noise level back within 15%, and 0 for exact depth", () => {
    const scratch = new Float64Array(3000);
    const k = 0.0034;
    expect(Math.abs(depthNoiseAt1m(samples(k, 3000, 1), 3000, R, -0.8, scratch) / k - 1)).toBeLessThan(0.15);
    expect(depthNoiseAt1m(samples(0, 3000, 1), 3000, R, -0.8, scratch)).toBeLessThan(1e-6);
  });
  it("no support, or too few samples on it: 0", () => {
    const scratch = new Float64Array(3000);
    expect(depthNoiseAt1m(samples(0.003, 3000, 2), 3000, R, null, scratch)).toBe(0);
    expect(depthNoiseAt1m(samples(0.003, 20, 2), 20, R, -0.8, scratch)).toBe(0);
    // Samples all far off the support (a wall): none count.
    expect(depthNoiseAt1m(samples(0.003, 3000, 2), 3000, R, -0.3, scratch)).toBe(0);
  });
});

const bottomOf = (o: SceneObject) => o.center.z - o.size.z / 2;

describe("stacked objects stand on their support's top", () => {
  const obj = (kind: string, c: [number, number, number], s: [number, number, number]): SceneObject => ({ id: kind, kind, color: "", center: { x: c[0], y: c[1], z: c[2] }, size: { x: s[0], y: s[1], z: s[2] }, confidence: 1, numPoints: 100 });
  it("a cube seen on a book gets the book's top as its bottom; its top stays", () => {
    // Book top at −0.47; the cube's lowest seen point 8 mm above it (its bottom edge hidden).
    const book = obj("book", [1, 0, -0.485], [0.22, 0.15, 0.03]);
    const cube = obj("cube", [1.01, 0.01, -0.441], [0.05, 0.05, 0.042]);
    const objects = [book, cube];
    expect(settleOnSupports(objects, ["support", "object"] as RestingOn[], [true, false], objects.map(bottomOf))).toBe(1);
    expect(cube.center.z - cube.size.z / 2).toBeCloseTo(-0.47, 6);
    expect(cube.center.z + cube.size.z / 2).toBeCloseTo(-0.42, 6);
    expect(book.size.z).toBe(0.03);
  });
  it("an object whose bottom edge a nearer object hides: on the support (as the estimator put it), unless an object is under it", () => {
    const book = obj("book", [1, 0, -0.485], [0.22, 0.15, 0.03]);
    // The estimator put both on the support (-0.5); their lowest seen points were 2 cm up.
    const onBook = obj("cup", [1.02, 0, -0.44], [0.07, 0.07, 0.12]);
    const onTable = obj("mug", [1.4, 0, -0.45], [0.08, 0.08, 0.1]);
    const objects = [book, onBook, onTable];
    expect(settleOnSupports(objects, ["support", "occluded", "occluded"], [true, true, true], [-0.5, -0.45, -0.48])).toBe(1);
    expect(onBook.center.z - onBook.size.z / 2).toBeCloseTo(-0.47, 6);
    expect(onBook.center.z + onBook.size.z / 2).toBeCloseTo(-0.38, 6);
    expect(onTable.center.z - onTable.size.z / 2).toBeCloseTo(-0.5, 6);
  });

  it("a support seen short (its far part hidden by the cube on it) is widened to hold the cube's footprint", () => {
    // A 5 cm cube on a 5 cm cube: the lower one's box is 2 cm deep (the upper hides the rest).
    const lower = obj("cube", [1.0, 0, -0.475], [0.02, 0.05, 0.05]);
    const upper = obj("cube", [1.015, 0, -0.42], [0.05, 0.05, 0.04]);
    expect(settleOnSupports([lower, upper], ["support", "object"], [true, false], [-0.5, -0.44])).toBe(1);
    expect(lower.center.x - lower.size.x / 2).toBeCloseTo(0.99, 6);
    expect(lower.center.x + lower.size.x / 2).toBeCloseTo(1.04, 6);
    expect(upper.center.z - upper.size.z / 2).toBeCloseTo(-0.45, 6);
  });

  it("carried objects, objects beside the support and objects too far above it are left alone", () => {
    const book = () => obj("book", [1, 0, -0.485], [0.22, 0.15, 0.03]);
    const carried = obj("mug", [1, 0, -0.35], [0.08, 0.08, 0.1]);
    const beside = obj("cube", [1.3, 0, -0.441], [0.05, 0.05, 0.042]);
    const high = obj("ball", [1, 0, -0.36], [0.05, 0.05, 0.05]);
    for (const [o, r] of [[carried, "nothing"], [beside, "object"], [high, "object"]] as const) {
      const before = { ...o.center, sz: o.size.z };
      expect(settleOnSupports([book(), o], ["support", r], [true, false], [book(), o].map(bottomOf))).toBe(0);
      expect({ ...o.center, sz: o.size.z }).toEqual(before);
    }
  });
});

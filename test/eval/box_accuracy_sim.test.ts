import { describe, expect, it } from "vitest";
import { runSpatialEval } from "../../src/eval/spatial_eval.js";
import { evalScene } from "../../sim/eval_scene.js";
import { matchBoxes } from "../../src/eval/box_accuracy.js";
import { Perception } from "../../src/perception/perception.js";

/**
 * Boxes against simulator ground truth on fresh seeds (figures in the issue-11 note were taken
 * on 7_000_000+; these seeds were not looked at while tuning). Thresholds are issue 11's goals,
 * on fewer scenes: depth (front to back) within 10%, no centre bias in any direction, heights
 * of thin objects under noise, stacked objects' elevation.
 */
describe("box accuracy against ground truth", () => {
  it("exact depth, ground-truth masks: depth within 10% ≥ 92%, centre bias ≤ 2 mm along every axis and the view", () => {
    const r = runSpatialEval((s) => evalScene(s, { noise: "none", masks: "gt" }), { scenes: 16, seed: 7_400_000, perType: 1 });
    const b = r.box_accuracy!;
    expect(b.all.n).toBeGreaterThan(80);
    expect(b.all.missed).toBe(0);
    expect(b.all.depth_within_10pct).toBeGreaterThanOrEqual(0.92);
    expect(b.all.height_within_10pct).toBeGreaterThanOrEqual(0.95);
    for (const v of Object.values(b.all.centre_bias_m)) expect(Math.abs(v)).toBeLessThanOrEqual(0.002);
  }, 120_000);

  it("RealSense noise: depth within 10% ≥ 75%, centre bias ≤ 2 mm, every kind's height within 10% ≥ 80% over the kinds seen 4+ times", () => {
    const r = runSpatialEval((s) => evalScene(s, { noise: "realsense", masks: "gt" }), { scenes: 24, seed: 7_410_000, perType: 1 });
    const b = r.box_accuracy!;
    expect(b.all.depth_within_10pct).toBeGreaterThanOrEqual(0.75);
    for (const v of Object.values(b.all.centre_bias_m)) expect(Math.abs(v)).toBeLessThanOrEqual(0.002);
    // Plates and books: an upper quantile of their noisy tops read them 37% too tall. Bananas
    // (left out here until the ray-coordinate fits): a lying banana's round top passed for a
    // face, its height 3–10 mm low.
    for (const [kind, k] of Object.entries(b.by_kind)) if (k.n >= 4) expect(k.height_within_10pct, kind).toBeGreaterThanOrEqual(0.8);
    expect(b.all.height_within_10pct).toBeGreaterThanOrEqual(0.9);
  }, 120_000);

  it("RealSense + detections: a book whose segment took part of the object on it keeps its top face's height", () => {
    // The ray-coordinate test saw the other object's points as a dome over the book: the
    // book's height became the apple's top (8.3 cm for 2.7), and a ball's on the yellow book.
    for (const seed of [9_400_024, 9_400_169]) {
      const s = evalScene(seed, { noise: "realsense", masks: "detections" });
      const scene = new Perception().process(s.frame);
      const { pairs } = matchBoxes(s.truth.objects, scene.objects);
      const books = pairs.filter((p) => p.truth.kind === "book");
      expect(books.length, `${seed}`).toBeGreaterThan(0);
      for (const p of books) expect(Math.abs(p.est.size.z - p.truth.size.z) / p.truth.size.z, `${seed} ${p.truth.color} book`).toBeLessThanOrEqual(0.1);
    }
  }, 60_000);

  it("stacked scenes: a stacked object's bottom is its support's top (elevation within 10% ≥ 90% without noise)", () => {
    const r = runSpatialEval((s) => evalScene(s, { noise: "none", masks: "gt", stacking: 0.6 }), { scenes: 16, seed: 7_420_000, perType: 1 });
    const st = r.box_accuracy!.stacked;
    expect(st.n).toBeGreaterThanOrEqual(10);
    expect(st.elevation_within_10pct).toBeGreaterThanOrEqual(0.9);
    expect(Math.abs(st.bottom_bias_m)).toBeLessThan(0.002);
  }, 120_000);
});

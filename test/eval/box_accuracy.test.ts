import { describe, expect, it } from "vitest";
import { BoxAccuracyAccumulator, matchBoxes } from "../../src/eval/box_accuracy.js";
import { runSpatialEval } from "../../src/eval/spatial_eval.js";
import type { Scene, SceneObject } from "../../src/scene/scene_object.js";
import { simSample } from "../../nodes/cli/sim_samples.js";

function obj(kind: string, c: [number, number, number], s: [number, number, number], id = kind): SceneObject {
  return { id, kind, color: "", center: { x: c[0], y: c[1], z: c[2] }, size: { x: s[0], y: s[1], z: s[2] }, confidence: 1, numPoints: 0 };
}
const scene = (objects: SceneObject[], supportZ: number | null = 0): Scene => ({ stamp: 0n, objects, supportZ });

describe("box accuracy against ground truth", () => {
  it("matches by kind and nearest centre within the gate, never twice", () => {
    const truth = [obj("mug", [1, 0, 0.05], [0.08, 0.08, 0.1], "a"), obj("mug", [1, 0.1, 0.05], [0.08, 0.08, 0.1], "b"), obj("bowl", [1.2, 0, 0.03], [0.1, 0.1, 0.06])];
    // The first perceived mug is nearer b than a; the bowl is perceived as a cup (other kind).
    const est = [obj("mug", [1, 0.09, 0.05], [0.08, 0.08, 0.1], "p"), obj("mug", [1.01, 0.01, 0.05], [0.08, 0.08, 0.1], "q"), obj("cup", [1.2, 0, 0.03], [0.1, 0.1, 0.06])];
    const { pairs, missed } = matchBoxes(truth, est);
    expect(pairs.map((p) => `${p.truth.id}=${p.est.id}`).sort()).toEqual(["a=q", "b=p"]);
    expect(missed.map((m) => m.kind)).toEqual(["bowl"]);
    // Beyond the gate: no match.
    expect(matchBoxes(truth.slice(0, 1), [obj("mug", [1.2, 0, 0.05], [0.08, 0.08, 0.1])]).pairs).toEqual([]);
  });

  it("reports size fractions and signed biases per kind, and the centre bias along the ray to the camera", () => {
    const acc = new BoxAccuracyAccumulator();
    // Objects straight ahead (ray = +x) and to the left at 45° (ray = (1,1)/√2); every estimate
    // sits 1 cm towards the camera along its ray, heights 20% too tall, depth exact, width 5% narrow.
    for (const [x, y] of [[1, 0], [0.7, 0.7], [0.8, -0.3]] as const) {
      const r = Math.hypot(x, y);
      const t = obj("plate", [x, y, 0.011], [0.24, 0.24, 0.022]);
      const e = obj("plate", [x - (0.01 * x) / r, y - (0.01 * y) / r, 0.011 + 0.0022], [0.24, 0.228, 0.022 * 1.2]);
      acc.add(scene([t]), scene([e]));
    }
    acc.add(scene([obj("book", [1, 0.3, 0.015], [0.22, 0.15, 0.03])]), null);
    const s = acc.summary();
    const plate = s.by_kind.plate;
    expect(plate.n).toBe(3);
    expect(plate.missed).toBe(0);
    expect(plate.height_within_10pct).toBe(0);
    expect(plate.height_bias_rel).toBeCloseTo(0.2, 3);
    expect(plate.depth_within_10pct).toBe(1);
    expect(plate.width_within_10pct).toBe(1);
    expect(plate.width_bias_rel).toBeCloseTo(-0.05, 3);
    expect(plate.centre_bias_m.ray).toBeCloseTo(-0.01, 4);
    expect(plate.centre_bias_m.across).toBeCloseTo(0, 4);
    expect(plate.centre_bias_m.z).toBeCloseTo(0.0022, 4);
    expect(plate.centre_error_median_m).toBeCloseTo(Math.hypot(0.01, 0.0022), 4);
    expect(s.by_kind.book).toMatchObject({ n: 0, missed: 1 });
    expect(s.all.n).toBe(3);
    expect(s.all.missed).toBe(1);
  });

  it("measures stacked objects' elevation from the bottom of their box", () => {
    const acc = new BoxAccuracyAccumulator();
    // A cube on a 3 cm book: true bottom 0.03 above the support (z = 0.7).
    const truth = scene([obj("book", [1, 0, 0.715], [0.22, 0.15, 0.03]), obj("cube", [1, 0, 0.755], [0.05, 0.05, 0.05])], 0.7);
    acc.add(truth, scene([obj("book", [1, 0, 0.715], [0.22, 0.15, 0.03]), obj("cube", [1, 0, 0.7545], [0.05, 0.05, 0.051])], 0.7));
    acc.add(truth, scene([obj("book", [1, 0, 0.715], [0.22, 0.15, 0.03]), obj("cube", [1, 0, 0.74], [0.05, 0.05, 0.08])], 0.7));
    const s = acc.summary().stacked;
    expect(s.n).toBe(2);
    expect(s.elevation_within_10pct).toBe(0.5);
    expect(s.bottom_bias_m).toBeCloseTo((-0.001 - 0.03) / 2, 4);
  });

  it("runSpatialEval reports box accuracy for every kind it saw", () => {
    const r = runSpatialEval((s) => simSample(s, { noise: "none", masks: "gt", width: 320, height: 240 }), { scenes: 3, seed: 7_100_000, perType: 1 });
    const b = r.box_accuracy!;
    expect(b.all.n).toBeGreaterThanOrEqual(9);
    expect(b.all.missed).toBe(0);
    for (const k of Object.values(b.by_kind)) {
      expect(k.centre_error_median_m).toBeGreaterThan(0);
      expect(k.centre_error_median_m).toBeLessThan(0.05);
    }
  }, 60_000);
});

import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../src/errors.js";
import { parseRewardSpec } from "../../src/reward/parse_reward_spec.js";
import { RewardTracker } from "../../src/reward/reward_tracker.js";
import { SuccessHysteresis } from "../../src/reward/success_hysteresis.js";
import type { Scene, SceneObject } from "../../src/scene/scene_object.js";

const box = (id: string, kind: string, c: [number, number, number], s: [number, number, number]): SceneObject => ({ id, kind, color: "", center: { x: c[0], y: c[1], z: c[2] }, size: { x: s[0], y: s[1], z: s[2] }, confidence: 1, numPoints: 100 });
/** A cube whose bottom is `gap` above a book's top (0.03): on it while gap ≤ 2 cm. */
const scene = (gap: number, stamp = 0n): Scene => ({ stamp, supportZ: 0, objects: [box("book#1", "book", [1, 0, 0.015], [0.22, 0.15, 0.03]), box("cube#1", "cube", [1, 0, 0.03 + gap + 0.025], [0.05, 0.05, 0.05])] });

describe("success hysteresis", () => {
  it("on at once (onFrames 1); a brief excursion under the margin does not turn it off; a big one does at once", () => {
    const h = new SuccessHysteresis({ onFrames: 1, offMargin: 0.01, offFrames: 3 });
    expect([0.02, 0, 0.004, 0.006, 0, 0.02].map((e) => h.update(e))).toEqual([false, true, true, true, true, false]);
  });

  it("a lasting small excess turns it off after offFrames; onFrames waits for consecutive satisfied frames", () => {
    const h = new SuccessHysteresis({ onFrames: 2, offMargin: 0.01, offFrames: 3 });
    expect([0, 0.01, 0, 0, 0.005, 0.005, 0.005, 0].map((e) => h.update(e))).toEqual([false, false, false, true, true, true, false, false]);
    h.reset();
    expect(h.update(0)).toBe(false);
  });

  it("bad options are typed errors", () => {
    for (const bad of [{ onFrames: 0 }, { onFrames: 1.5 }, { offFrames: 0 }, { offMargin: -0.01 }, { offMargin: Number.NaN }, { offMargin: Infinity }, { onFrames: 1e9 }]) {
      expect(() => new SuccessHysteresis(bad)).toThrow(InvalidInputError);
      expect(() => new RewardTracker(parseRewardSpec("put the cube on the book"), { hysteresis: bad })).toThrow(InvalidInputError);
    }
  });
});

describe("RewardTracker with hysteresis", () => {
  const spec = parseRewardSpec("put the cube on the book");
  it("without it (default): success is the frame's residual, as before", () => {
    const t = new RewardTracker(spec);
    expect([0.05, 0.015, 0.025, 0.015].map((g) => t.update(scene(g)).success)).toEqual([false, true, false, true]);
  });

  it("with it: a one-frame bump of the cube's bottom (its top hidden) does not flip success; progress stays 1 while it holds", () => {
    const t = new RewardTracker(spec, { hysteresis: true });
    const rs = [0.05, 0.015, 0.025, 0.015, 0.015].map((g) => t.update(scene(g)));
    expect(rs.map((r) => r.success)).toEqual([false, true, true, true, true]);
    expect(rs.map((r) => r.progress === 1)).toEqual([false, true, true, true, true]);
    expect(rs[2].residual).toBeGreaterThan(0);
    // Lifted off for real: off at once.
    expect(t.update(scene(0.08)).success).toBe(false);
  });

  it("reset starts the hysteresis over", () => {
    const t = new RewardTracker(spec, { hysteresis: { onFrames: 2 } });
    t.update(scene(0));
    t.update(scene(0));
    t.reset();
    const r = t.update(scene(0));
    expect(r.success).toBe(false);
    expect(r.progress).toBeLessThan(1);
  });
});

import { describe, expect, it } from "vitest";
import { InvalidInputError, ObjectReferenceError } from "../../src/errors.js";
import type { Scene, SceneObject } from "../../src/scene/scene_object.js";
import { RewardTracker, parseRewardSpec, specResidual, type RewardResult } from "../../src/reward/index.js";
import { box, onTable, rand, sceneOf } from "./reward_fixtures.js";

const S: [number, number, number] = [0.1, 0.1, 0.1];

/** The mug at lateral offset y from a bowl at y = 0: the near residual is |y| − 0.1 − 0.05 when far. */
function mugAt(y: number, stamp = 1n): Scene {
  return sceneOf([onTable("mug#1", "mug", "red", 0.5, y, S), onTable("bowl#1", "bowl", "blue", 0.5, 0, S)], -0.4, stamp);
}

describe("RewardTracker", () => {
  it("progress is 0 at the first frame, monotone in the residual, 1 and success exactly when the residual is 0", () => {
    const tracker = new RewardTracker(parseRewardSpec("put the red mug next to the blue bowl"));
    const r = rand(11);
    const results: RewardResult[] = [tracker.update(mugAt(0.6))];
    expect(results[0].progress).toBe(0);
    expect(results[0].residual).toBeCloseTo(0.45, 12);
    for (let i = 0; i < 300; i++) results.push(tracker.update(mugAt(0.1 + r() * 0.8)));
    results.push(tracker.update(mugAt(0.15)), tracker.update(mugAt(0.1)));
    for (const a of results) {
      expect(a.reward).toBe(-a.residual);
      expect(a.success).toBe(a.residual === 0);
      expect(a.progress === 1).toBe(a.residual === 0);
      expect(a.progress).toBeGreaterThanOrEqual(0);
      expect(a.progress).toBeLessThanOrEqual(1);
      expect(a.progress).toBeCloseTo(Math.max(0, 1 - a.residual / 0.45), 12);
    }
    for (const a of results) {
      for (const b of results) if (a.residual < b.residual) expect(a.progress).toBeGreaterThanOrEqual(b.progress);
    }
    expect(results.filter((x) => x.success).length).toBeGreaterThan(0);
  });

  it("passes the scene stamp through and re-baselines on reset", () => {
    const tracker = new RewardTracker(parseRewardSpec("near(mug, bowl, 0.05)"));
    const big = 1_700_000_000_123_456_789n;
    expect(tracker.update(mugAt(0.6, big)).stamp).toBe(big);
    expect(tracker.update(mugAt(0.4, big + 1n)).stamp).toBe(big + 1n);
    expect(tracker.initialResidual).toBeCloseTo(0.45, 12);
    expect(tracker.update(mugAt(0.4)).progress).toBeCloseTo(1 - 0.25 / 0.45, 12);
    tracker.reset();
    expect(tracker.initialResidual).toBeNull();
    expect(tracker.update(mugAt(0.4)).progress).toBe(0);
    expect(tracker.update(mugAt(0.3)).progress).toBeCloseTo(1 - 0.15 / 0.25, 12);
  });

  it("a spec satisfied at the first frame has progress 1 while it stays satisfied, 0 when it is undone", () => {
    const tracker = new RewardTracker(parseRewardSpec("near(mug, bowl, 0.05)"));
    expect(tracker.update(mugAt(0.12))).toMatchObject({ progress: 1, success: true, residual: 0 });
    expect(tracker.update(mugAt(0.5))).toMatchObject({ progress: 0, success: false });
  });

  it("successTolerance: success and progress 1 within it, reward still the raw residual", () => {
    const tracker = new RewardTracker(parseRewardSpec("near(mug, bowl, 0.05)"), { successTolerance: 0.01 });
    expect(tracker.update(mugAt(0.61)).progress).toBe(0);
    const close = tracker.update(mugAt(0.155));
    expect(close.success).toBe(true);
    expect(close.progress).toBe(1);
    expect(close.reward).toBeCloseTo(-0.005, 12);
    const half = tracker.update(mugAt(0.385));
    expect(half.success).toBe(false);
    expect(half.progress).toBeCloseTo(0.5, 12);
    expect(() => new RewardTracker(parseRewardSpec("lift(mug)"), { successTolerance: -1 })).toThrow(InvalidInputError);
  });

  it("unknown, ambiguous and self-referring objects throw ObjectReferenceError, no guess", () => {
    const scene = sceneOf([
      onTable("mug#1", "mug", "red", 0.5, 0.2, S),
      onTable("mug#2", "mug", "green", 0.5, -0.2, S),
      onTable("bowl#1", "bowl", "blue", 0.5, 0, S),
    ]);
    const codeOf = (text: string): string => {
      try {
        new RewardTracker(parseRewardSpec(text)).update(scene);
      } catch (e) {
        expect(e).toBeInstanceOf(ObjectReferenceError);
        return (e as ObjectReferenceError).code;
      }
      return "none";
    };
    expect(codeOf("put the red plate next to the bowl")).toBe("unknown_object");
    expect(codeOf("put the mug next to the bowl")).toBe("ambiguous_object");
    expect(codeOf("put the bowl next to the blue bowl")).toBe("ambiguous_object");
    expect(codeOf("put the red mug next to the bowl")).toBe("none");
  });

  it("a failed frame does not poison the cache: the next good frame resolves", () => {
    const tracker = new RewardTracker(parseRewardSpec("near(red mug, bowl)"));
    expect(() => tracker.update(sceneOf([onTable("bowl#1", "bowl", "blue", 0.5, 0, S)]))).toThrow(ObjectReferenceError);
    expect(tracker.update(mugAt(0.6)).residual).toBeCloseTo(0.45, 12);
  });

  it("re-resolves when a tracked object's colour changes, following the phrase", () => {
    const tracker = new RewardTracker(parseRewardSpec("near(red mug, bowl, 0)"));
    const objs = (c1: string, c2: string): SceneObject[] => [
      onTable("mug#1", "mug", c1, 0.5, 0.3, S),
      onTable("mug#2", "mug", c2, 0.5, -0.6, S),
      onTable("bowl#1", "bowl", "blue", 0.5, 0, S),
    ];
    expect(tracker.update(sceneOf(objs("red", "green"))).residual).toBeCloseTo(0.2, 12);
    expect(tracker.update(sceneOf(objs("green", "red"))).residual).toBeCloseTo(0.5, 12);
    // Same ids in a new order also re-resolves (indices would otherwise point at the wrong box).
    expect(tracker.update(sceneOf(objs("red", "green").reverse())).residual).toBeCloseTo(0.2, 12);
  });

  it("all/any: residual composes the per-term residuals reported in terms", () => {
    const spec = parseRewardSpec("all(near(mug, bowl, 0.05), any(lift(apple, 0.1), relation(apple, on_top_of, plate)))");
    const tracker = new RewardTracker(spec);
    expect(tracker.termLabels).toEqual([
      "near(mug, bowl, 0.05)", "lift(apple, 0.1)", "relation(apple, on_top_of, plate)",
    ]);
    const scene = sceneOf([
      onTable("m", "mug", "red", 0.5, 0.4, S),
      onTable("b", "bowl", "blue", 0.5, 0, S),
      onTable("a", "apple", "red", 0.7, 0.2, [0.08, 0.08, 0.08], 0.03),
      onTable("p", "plate", "white", 0.7, -0.2, [0.2, 0.2, 0.02]),
    ]);
    const r = tracker.update(scene);
    const t = r.terms!;
    expect(t.length).toBe(3);
    for (let i = 0; i < 3; i++) {
      expect(t[i]).toBeCloseTo(specResidual(parseRewardSpec(tracker.termLabels[i]), scene), 12);
    }
    expect(r.residual).toBeCloseTo(t[0] + Math.min(t[1], t[2]), 12);
    expect(r.residual).toBeCloseTo(specResidual(spec, scene), 12);
    // update() hands out its own copy; updateInto reuses the caller's.
    const again = tracker.update(scene);
    expect(again.terms).not.toBe(r.terms);
    const out = tracker.updateInto(scene, again);
    expect(out).toBe(again);
    expect(out.terms).toBe(again.terms);
  });

  it("lift without a support plane measures from the lowest object", () => {
    const tracker = new RewardTracker(parseRewardSpec("lift the apple 10 cm"));
    const apple = onTable("a", "apple", "red", 0.7, 0.2, [0.08, 0.08, 0.08], 0.04);
    const can = onTable("c", "can", "red", 0.7, -0.2, [0.06, 0.06, 0.12]);
    expect(tracker.update(sceneOf([apple, can], null)).residual).toBeCloseTo(0.06, 12);
  });

  it("non-finite boxes are an InvalidInputError naming the object, never a success", () => {
    const tracker = new RewardTracker(parseRewardSpec("near(mug, bowl, 0.05)"));
    const bad = sceneOf([box("mug#9", "mug", "red", [NaN, 0, 0], S), onTable("bowl#1", "bowl", "blue", 0.5, 0, S)]);
    expect(() => tracker.update(bad)).toThrow(/mug#9/);
    expect(() => tracker.update(bad)).toThrow(InvalidInputError);
  });

  it("rate on an 8-object scene (printed, not asserted)", () => {
    const kinds = ["mug", "bowl", "apple", "plate", "can", "box", "cup", "banana"];
    const colors = ["red", "blue", "green", "white", "yellow", "brown", "pink", "yellow"];
    const objects = kinds.map((k, i) => onTable(`${k}#1`, k, colors[i], 0.4 + 0.1 * i, 0.3 - 0.08 * i, S));
    const spec = parseRewardSpec("all(near(red mug, blue bowl), relation(apple, on_top_of, plate), lift(banana, 0.1), relation(can, left_of, box))");
    const tracker = new RewardTracker(spec);
    // Fresh Scene objects per frame (as a node would receive), same object ids: the cached path.
    const scenes = Array.from({ length: 64 }, (_, f) => ({ stamp: BigInt(f), objects: objects.map((o) => ({ ...o })), supportZ: -0.4 }));
    const out = tracker.update(scenes[0]);
    const n = 200_000;
    for (let i = 0; i < 20_000; i++) tracker.updateInto(scenes[i & 63], out);
    let t0 = performance.now();
    for (let i = 0; i < n; i++) tracker.updateInto(scenes[i & 63], out);
    const intoRate = n / ((performance.now() - t0) / 1000);
    t0 = performance.now();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += tracker.update(scenes[i & 63]).residual;
    const rate = n / ((performance.now() - t0) / 1000);
    console.log(JSON.stringify({ bench: "reward_tracker_8_objects", updatesPerSecond: Math.round(rate), updateIntoPerSecond: Math.round(intoRate) }));
    expect(sum).toBeCloseTo(n * out.residual, 6);
  });
});

import { describe, expect, it } from "vitest";
import {
  generateWorld, MAX_STACK_HEIGHT, placeCamera, primitiveHeight, RIDERS, supportPairs, truthScene, type SimObject, type World,
} from "../../sim/index.js";
import { evalScene, SceneMixEval } from "../../sim/eval_scene.js";
import { hullSamples } from "./sim_helpers.js";
import { emptyStackedTally, summarizeStacked, tallyStacked } from "../../sim/stacked_eval.js";
import { isSpatialRewardError } from "../../src/errors.js";
import { parseRewardSpec } from "../../src/reward/parse_reward_spec.js";
import { specResidual } from "../../src/reward/spec_residual.js";
import type { Scene } from "../../src/scene/scene_object.js";
import { elevationAboveSupport } from "../../src/spatial/question_types.js";

const SEEDS = Array.from({ length: 40 }, (_, i) => 5_000_000 + i * 13);

/** Points of the rider's hull (exact corners and dense rims, sim_helpers) in the base's local frame, x and y. */
function footprintInBase(top: SimObject, base: SimObject): [number, number][] {
  const ct = Math.cos(top.pose.yaw), st = Math.sin(top.pose.yaw);
  const cb = Math.cos(base.pose.yaw), sb = Math.sin(base.pose.yaw);
  return hullSamples(top.primitive, 400).map((p) => {
    const wx = top.pose.x + ct * p.x - st * p.y - base.pose.x, wy = top.pose.y + st * p.x + ct * p.y - base.pose.y;
    return [cb * wx + sb * wy, -sb * wx + cb * wy];
  });
}

function stackHeight(world: World, o: SimObject, pairs = supportPairs(world)): number {
  const p = pairs.find((q) => q.top === o);
  return p ? 1 + stackHeight(world, p.base, pairs) : 1;
}

const expectBad = (f: () => unknown, pattern: RegExp) => {
  let caught: unknown;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(isSpatialRewardError(caught) && caught.code === "bad_argument", String(caught)).toBe(true);
  expect(String((caught as Error).message)).toMatch(pattern);
};

describe("stacked scenes (SceneOptions.stacking)", () => {
  const worlds = SEEDS.map((s) => generateWorld(s, { stacking: 0.7 }));

  it("every object off the table rests on a flat top it fits within, of a kind that may carry it, stacks at most 3 high", () => {
    let stacked = 0;
    for (const w of worlds) {
      const pairs = supportPairs(w);
      const off = w.objects.filter((o) => o.pose.z !== w.tableZ);
      // Every object off the table is found resting on something: nothing floats.
      expect(pairs.map((p) => p.top)).toEqual(off);
      stacked += pairs.length;
      for (const { top, base } of pairs) {
        expect(RIDERS[base.kind], `${top.kind} on ${base.kind}`).toContain(top.kind);
        expect(top.pose.z).toBeCloseTo(base.pose.z + primitiveHeight(base.primitive), 12);
        // The whole footprint lies on the top face: a rectangle for boxes, a disc for a plate.
        for (const [x, y] of footprintInBase(top, base)) {
          if (base.primitive.type === "box") {
            expect(Math.abs(x), `${top.id} on ${base.id}`).toBeLessThanOrEqual(base.primitive.sx / 2 + 1e-9);
            expect(Math.abs(y), `${top.id} on ${base.id}`).toBeLessThanOrEqual(base.primitive.sy / 2 + 1e-9);
          } else if (base.primitive.type === "cylinder") {
            expect(Math.hypot(x, y), `${top.id} on ${base.id}`).toBeLessThanOrEqual(base.primitive.r + 1e-9);
          } else {
            throw new Error(`${base.kind} is no support`);
          }
        }
        expect(stackHeight(w, top)).toBeLessThanOrEqual(MAX_STACK_HEIGHT);
      }
      // One object per support (a rider covers the middle of the face).
      const bases = pairs.map((p) => p.base);
      expect(new Set(bases).size).toBe(bases.length);
      expect(w.objects.length).toBeLessThanOrEqual(10);
      const names = w.objects.map((o) => `${o.color} ${o.kind}`);
      expect(new Set(names).size).toBe(names.length);
    }
    // Often enough to measure: most scenes have a stack, many pairs in all.
    expect(worlds.filter((w) => supportPairs(w).length > 0).length).toBeGreaterThanOrEqual(worlds.length / 2);
    expect(stacked).toBeGreaterThanOrEqual(40);
  });

  it("stacking 0 never stacks; the original draw (no option) keeps its occasional small object on a book or box", () => {
    for (const s of SEEDS) expect(supportPairs(generateWorld(s, { stacking: 0 }))).toEqual([]);
    const legacy = SEEDS.map((s) => generateWorld(s));
    const pairs = legacy.flatMap((w) => supportPairs(w));
    expect(pairs.length).toBeGreaterThan(0);
    for (const p of pairs) expect(["book", "box"]).toContain(p.base.kind);
    expect(legacy.filter((w) => supportPairs(w).length > 0).length).toBeLessThan(legacy.length / 2);
  });

  it("the truth says who rests on whom: the top's elevation is the support's top, 'on top of' holds, reversed it does not", () => {
    let checked = 0;
    for (const [i, w] of worlds.entries()) {
      const pairs = supportPairs(w);
      if (pairs.length === 0) continue;
      const { camera } = placeCamera(w, SEEDS[i], { width: 160, height: 120 });
      const truth = truthScene(w, camera, 0n);
      const byId = new Map(truth.objects.map((o) => [o.id, o]));
      for (const { top, base } of pairs) {
        const t = byId.get(top.id)!, b = byId.get(base.id)!;
        expect(elevationAboveSupport(t, truth.supportZ)).toBeCloseTo(top.pose.z - w.tableZ, 9);
        expect(t.center.z - t.size.z / 2).toBeCloseTo(b.center.z + b.size.z / 2, 9);
        const scene: Scene = { ...truth, objects: [t, b].map((o, k) => ({ ...o, id: `x${k}`, color: k === 0 ? "red" : "blue", kind: "thing" })) };
        expect(specResidual(parseRewardSpec("put the red thing on top of the blue thing"), scene)).toBe(0);
        expect(specResidual(parseRewardSpec("put the blue thing on top of the red thing"), scene)).toBeGreaterThan(0);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it("refuses stacking values that are not a probability, and a clutter flag that is not a boolean", () => {
    for (const bad of [-0.1, 1.5, NaN, Infinity, -Infinity, 1e308]) expectBad(() => generateWorld(1, { stacking: bad }), /stacking/);
    expectBad(() => generateWorld(1, { stacking: "0.5" as unknown as number }), /stacking/);
    expectBad(() => generateWorld(1, { clutter: "yes" as unknown as boolean }), /clutter/);
    // 1 is the end of the range: every support carries something, as far as maxObjects allows.
    const full = generateWorld(2, { stacking: 1, minObjects: 2, maxObjects: 4 });
    expect(full.objects.length).toBeLessThanOrEqual(4);
  });
});

describe("stacked figures (sim/stacked_eval.ts)", () => {
  const scenes = SEEDS.slice(0, 12).map((s) => ({ seed: s, ...evalScene(s, { noise: "none", masks: "gt", width: 160, height: 120, stacking: 0.8 }) }));

  it("the truth as the perceived scene scores every stacked figure right", () => {
    const t = emptyStackedTally();
    for (const s of scenes) tallyStacked(t, s.world, s.support, s.truth, s.truth, s.seed);
    const out = summarizeStacked(t);
    expect(out.stacked_pairs).toBeGreaterThan(5);
    expect(out.elevation.n).toBe(out.stacked_pairs - out.pairs_not_named);
    expect(out.elevation.within_10pct).toBe(1);
    expect(out.elevation.median_relative_error).toBe(0);
    expect(out.above_below).toEqual({ n: 4 * out.elevation.n, accuracy: 1 });
    expect(out.on_top_of.success_rate).toBe(1);
    expect(out.on_top_of.reversed_false_success_rate).toBe(0);
    expect(out.on_top_of.side_by_side_false_success_rate).toBe(0);
    expect(out.on_top_of.unresolved).toBe(0);
  });

  it("a stacked object seen standing on the table fails its elevation and 'on top of'; a rejected frame answers nothing", () => {
    const t = emptyStackedTally(), none = emptyStackedTally();
    for (const s of scenes) {
      const tops = new Set(s.support.map((p) => p.top.id));
      // What a segmenter that lost the support under the object would give: its box down to the table.
      const sunk: Scene = {
        ...s.truth,
        objects: s.truth.objects.map((o) => {
          if (!tops.has(o.id)) return o;
          const bottom = s.truth.supportZ!;
          const top = o.center.z + o.size.z / 2;
          return { ...o, center: { ...o.center, z: (bottom + top) / 2 }, size: { ...o.size, z: top - bottom } };
        }),
      };
      tallyStacked(t, s.world, s.support, s.truth, sunk, s.seed);
      tallyStacked(none, s.world, s.support, s.truth, null, s.seed);
    }
    const out = summarizeStacked(t), empty = summarizeStacked(none);
    expect(out.elevation.within_10pct).toBe(0);
    expect(out.on_top_of.success_rate).toBe(0);
    expect(empty.elevation.answered).toBe(0);
    expect(empty.above_below.accuracy).toBe(0);
    expect(empty.on_top_of.unresolved).toBe(2 * empty.on_top_of.stacked_pairs + empty.on_top_of.side_by_side_pairs);
  });

  it("SceneMixEval scores the sample it drew, and refuses another", () => {
    const mix = new SceneMixEval({ noise: "none", masks: "gt", width: 160, height: 120, stacking: 0.8 });
    const s = mix.sample(SEEDS[0]);
    mix.onScene(SEEDS[0], s, s.truth);
    expect(mix.summary().stacked?.scenes).toBe(1);
    const other = evalScene(SEEDS[1], { noise: "none", masks: "gt", width: 160, height: 120, stacking: 0.8 });
    expect(() => mix.onScene(SEEDS[1], other, other.truth)).toThrow(/not the sample/);
    expect(new SceneMixEval({ noise: "none", masks: "gt" }).summary()).toEqual({});
  });

  it("without scene options, evalScene is the scene eval has always used for the seed", () => {
    const a = evalScene(7, { noise: "realsense", masks: "detections", width: 160, height: 120 });
    const world = generateWorld(7);
    expect(a.world).toEqual(world);
    expect(a.frame.instances).toBeUndefined();
    expect(a.frame.detections!.length).toBeGreaterThan(0);
  });
});

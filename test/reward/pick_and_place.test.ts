import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../../src/errors.js";
import type { Vec3 } from "../../src/geometry/vec3.js";
import {
  PoseSceneBuilder, RewardTracker, parseRewardSpec, sceneFromPoses, specResidual, type ObjectPose, type RewardResult,
} from "../../src/reward/index.js";

const TABLE = 0;

/** Minimum-jerk blend 10τ³ − 15τ⁴ + 6τ⁵: zero velocity and acceleration at both ends. */
function minJerk(p0: Vec3, p1: Vec3, tau: number): Vec3 {
  const t = Math.min(1, Math.max(0, tau));
  const s = t * t * t * (10 - 15 * t + 6 * t * t);
  return { x: p0.x + (p1.x - p0.x) * s, y: p0.y + (p1.y - p0.y) * s, z: p0.z + (p1.z - p0.z) * s };
}

/** Positions through waypoints, `steps` frames per segment, first waypoint included once. */
function trajectory(waypoints: Vec3[], steps: number): Vec3[] {
  const out: Vec3[] = [waypoints[0]];
  for (let w = 1; w < waypoints.length; w++) {
    for (let k = 1; k <= steps; k++) out.push(minJerk(waypoints[w - 1], waypoints[w], k / steps));
  }
  return out;
}

const appleSize: Vec3 = { x: 0.08, y: 0.08, z: 0.08 };
const plate: ObjectPose = { id: "plate#1", kind: "plate", color: "white", position: { x: 0.7, y: -0.15, z: TABLE + 0.01 }, size: { x: 0.22, y: 0.22, z: 0.02 } };
const mug: ObjectPose = { id: "mug#1", kind: "mug", color: "red", position: { x: 0.55, y: 0.25, z: TABLE + 0.05 }, size: { x: 0.08, y: 0.1, z: 0.1 } };
const start: Vec3 = { x: 0.5, y: 0.2 - 0.25, z: TABLE + 0.04 };
const plateTop = TABLE + 0.02;
const waypoints: Vec3[] = [
  start,
  { x: start.x, y: start.y, z: start.z + 0.15 }, // lift
  { x: 0.7, y: -0.15, z: start.z + 0.15 }, // carry over the plate
  { x: 0.7, y: -0.15, z: plateTop + 0.04 }, // set down: bottom on the plate's top
];

function run(specText: string, builder: PoseSceneBuilder | null): RewardResult[] {
  const tracker = new RewardTracker(parseRewardSpec(specText));
  const path = trajectory(waypoints, 40);
  return path.map((position, i) => {
    const poses: ObjectPose[] = [mug, plate, { id: "apple#1", kind: "apple", color: "red", position, size: appleSize }];
    const stamp = 1_000_000_000n + BigInt(i) * 10_000_000n;
    const scene = builder ? builder.build(poses, stamp, TABLE) : sceneFromPoses(poses, stamp, TABLE);
    const r = tracker.update(scene);
    expect(r.residual).toBeCloseTo(specResidual(tracker.spec, scene), 12);
    expect(r.stamp).toBe(stamp);
    return r;
  });
}

describe("pick-and-place trajectory from poses", () => {
  for (const builder of [null, new PoseSceneBuilder()]) {
    it(`progress rises to 1 and success flips at the first zero residual (${builder ? "PoseSceneBuilder" : "sceneFromPoses"})`, () => {
      const rs = run("pick up the apple and put it on the plate", builder);
      const first = rs.findIndex((r) => r.residual === 0);
      expect(first).toBeGreaterThan(80); // not before the set-down segment
      expect(rs.slice(0, first).every((r) => !r.success && r.progress < 1)).toBe(true);
      expect(rs[first].success).toBe(true);
      expect(rs[first].progress).toBe(1);
      expect(rs[rs.length - 1]).toMatchObject({ success: true, progress: 1, residual: 0, reward: -0 });
      for (const r of rs) expect(r.success).toBe(r.residual === 0);
      // During the final set-down the residual only shrinks, so progress only rises.
      const setDown = rs.slice(81);
      for (let i = 1; i < setDown.length; i++) expect(setDown[i].progress).toBeGreaterThanOrEqual(setDown[i - 1].progress);
    });
  }

  it("a compound goal succeeds only when both parts hold", () => {
    const rs = run("put the apple on the plate and the mug to the left of the plate", null);
    expect(rs[0].terms![1]).toBe(0); // the mug already is left of the plate
    expect(rs.findIndex((r) => r.success)).toBe(rs.findIndex((r) => r.terms![0] === 0));
  });

  it("lift is satisfied mid-trajectory and lost again on set-down", () => {
    const rs = run("lift the apple 10 cm", null);
    const up = rs.findIndex((r) => r.success);
    expect(up).toBeGreaterThan(0);
    expect(up).toBeLessThan(41);
    expect(rs[rs.length - 1].success).toBe(false);
  });
});

describe("scenes from poses", () => {
  const poses: ObjectPose[] = [mug, plate];
  it("shares the poses' vectors and marks objects as ground truth", () => {
    const s = sceneFromPoses(poses, 5n, 0.25);
    expect(s.stamp).toBe(5n);
    expect(s.supportZ).toBe(0.25);
    expect(s.objects[0].center).toBe(mug.position);
    expect(s.objects[1].size).toBe(plate.size);
    expect(s.objects[0]).toMatchObject({ id: "mug#1", kind: "mug", color: "red", confidence: 1, numPoints: 0 });
    expect(sceneFromPoses(poses, 5n).supportZ).toBeNull();
  });
  it("the builder reuses its scene, array and objects and follows shrinking pose lists", () => {
    const b = new PoseSceneBuilder();
    const s1 = b.build(poses, 1n);
    const o0 = s1.objects[0];
    const s2 = b.build([plate, mug], 2n, 0);
    expect(s2).toBe(s1);
    expect(s2.objects[0]).toBe(o0);
    expect(s2.objects[0].id).toBe("plate#1");
    expect(s2.stamp).toBe(2n);
    expect(b.build([mug], 3n).objects.length).toBe(1);
  });
  it("rejects non-finite or negative poses", () => {
    const bad: ObjectPose = { ...mug, position: { x: NaN, y: 0, z: 0 } };
    expect(() => sceneFromPoses([bad], 1n)).toThrow(InvalidInputError);
    expect(() => new PoseSceneBuilder().build([{ ...mug, size: { x: -1, y: 1, z: 1 } }], 1n)).toThrow(/size ≥ 0/);
    expect(() => sceneFromPoses([mug], 1n, Infinity)).toThrow(/supportZ/);
    expect(() => new PoseSceneBuilder().build([mug, plate, { ...mug }], 1n)).toThrow(/share the id "mug#1"/);
  });
});

import { describe, expect, it } from "vitest";
import type { Pose, Primitive } from "../../sim/shapes.js";
import { ObjectBoxEstimator, type Box3, type BoxContext } from "../../src/perception/object_box.js";
import { shapeCloud, trueBox } from "./shape_cloud.js";

const TABLE = -0.5;
const REALSENSE_1M = 0.08 / (466 * 0.05);

function estimate(p: Primitive, pose: Pose, o: { pitch?: number; noise1m?: number; seed?: number; strays?: number } = {}) {
  const cloud = shapeCloud({ primitive: p, pose, pitch: o.pitch ?? 0.5, noise1m: o.noise1m ?? 0, seed: o.seed });
  let { xs, ys, zs, n } = cloud;
  if (o.strays) {
    // A neighbour's pixels the mask took: a few points 8 cm above the object's top.
    const top = pose.z + trueBox(p, pose).sz;
    const x2 = new Float32Array(n + o.strays), y2 = new Float32Array(n + o.strays), z2 = new Float32Array(n + o.strays);
    x2.set(xs); y2.set(ys); z2.set(zs);
    for (let i = 0; i < o.strays; i++) { x2[n + i] = pose.x + 0.01 * i; y2[n + i] = pose.y; z2[n + i] = top + 0.08; }
    xs = x2; ys = y2; zs = z2; n += o.strays;
  }
  const est = new ObjectBoxEstimator();
  const ctx: BoxContext = { supportZ: TABLE, restingOn: "support", noise1m: o.noise1m ?? 0, pixelAngle: cloud.pixelAngle };
  const box: Box3 = { cx: 0, cy: 0, cz: 0, sx: 0, sy: 0, sz: 0 };
  est.estimate(xs, ys, zs, 0, n, ctx, box);
  return { box, truth: trueBox(p, pose), evidence: est.lastEvidence };
}

const rel = (a: number, b: number) => (a - b) / b;
const can: Primitive = { type: "cylinder", r: 0.033, h: 0.122 };
const plate: Primitive = { type: "cylinder", r: 0.12, h: 0.022 };
const apple: Primitive = { type: "sphere", r: 0.038 };
const banana: Primitive = { type: "capsule", r: 0.018, length: 0.19 };
const book: Primitive = { type: "box", sx: 0.22, sy: 0.15, sz: 0.03 };
const at = (x: number, y: number, yaw = 0): Pose => ({ x, y, z: TABLE, yaw });

describe("object boxes from the evidence seen", () => {
  it("a flat top seen whole gives the visible box: a can's depth and centre are exact (the amodal step put its centre ~4 mm towards the camera)", () => {
    for (const pitch of [0.35, 0.6, 1.0]) {
      const { box, truth, evidence } = estimate(can, at(0.9, 0.05), { pitch });
      expect(evidence).toBe("top_face");
      expect(Math.abs(box.cx - truth.cx)).toBeLessThan(0.0015);
      expect(Math.abs(box.cy - truth.cy)).toBeLessThan(0.0015);
      expect(Math.abs(rel(box.sx, truth.sx))).toBeLessThan(0.04);
      expect(Math.abs(rel(box.sz, truth.sz))).toBeLessThan(0.01);
    }
  });

  it("a round top is completed through the peak over its centre: an apple's far half, hidden, is restored", () => {
    for (const pitch of [0.35, 0.6, 1.0]) {
      const { box, truth, evidence } = estimate(apple, at(0.85, -0.1), { pitch });
      expect(evidence).toBe("amodal");
      // The visible box alone is ~r(1 − sin E) short in depth: 10–25% at these pitches.
      expect(Math.abs(rel(box.sx, truth.sx))).toBeLessThan(0.03);
      expect(Math.abs(box.cx - truth.cx)).toBeLessThan(0.0015);
      expect(Math.abs(rel(box.sz, truth.sz))).toBeLessThan(0.02);
    }
  });

  it("a lying capsule (a ridge, flat along its axis) is completed too, at any yaw", () => {
    for (const yaw of [0, 0.7, 1.57]) {
      const { box, truth, evidence } = estimate(banana, at(0.9, 0, yaw), { pitch: 0.55 });
      expect(evidence).toBe("amodal");
      expect(Math.abs(rel(box.sx, truth.sx))).toBeLessThan(0.06);
      expect(Math.abs(rel(box.sy, truth.sy))).toBeLessThan(0.06);
      expect(Math.abs(box.cx - truth.cx)).toBeLessThan(0.003);
    }
  });

  it("a yawed book: the axis-aligned box of its footprint from its top face", () => {
    const { box, truth, evidence } = estimate(book, at(0.9, 0.05, 0.5), { pitch: 0.6 });
    expect(evidence).toBe("top_face");
    expect(Math.abs(rel(box.sx, truth.sx))).toBeLessThan(0.04);
    expect(Math.abs(rel(box.sy, truth.sy))).toBeLessThan(0.04);
    expect(Math.abs(rel(box.sz, truth.sz))).toBeLessThan(0.02);
  });

  it("under RealSense-like depth noise, a plate's and a book's heights stay within 10% (an upper quantile of the noisy top read +37%)", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      for (const [p, pose] of [[plate, at(1.1, 0.1)], [book, at(1.1, -0.1, 0.3)]] as const) {
        const { box, truth } = estimate(p, pose, { pitch: 0.5, noise1m: REALSENSE_1M, seed });
        expect(Math.abs(rel(box.sz, truth.sz)), `${p.type} seed ${seed}`).toBeLessThan(0.1);
      }
    }
  });

  it("under RealSense-like noise at 1.4–1.6 m seen from 30° above, round tops keep their heights (a lying banana, a lemon, an apple, a ball)", () => {
    // Before the ray-coordinate fits, a round top under this noise passed for a face (its
    // height the median of a window over its top, 3–10 mm low) or its quadratic fit, on
    // noisy coordinates with a noise-corrected system near singular, put the peak a
    // centimetre low: banana 15, lemon 4, apple 15, ball 24 of these 36 within 10%.
    const lemon: Primitive = { type: "ellipsoid", a: 0.036, b: 0.027, c: 0.027 };
    const ball: Primitive = { type: "sphere", r: 0.05 };
    const want: [string, Primitive, number][] = [["banana", banana, 0.65], ["lemon", lemon, 0.8], ["apple", apple, 0.8], ["ball", ball, 0.8]];
    for (const [name, p, rate] of want) {
      let ok = 0, all = 0;
      for (const [x, z] of [[1.4, -0.8], [1.6, -0.9]]) {
        for (const yaw of [0, 0.8, 1.57]) {
          for (let seed = 1; seed <= 6; seed++) {
            const pose: Pose = { x, y: 0.05, z, yaw };
            const cloud = shapeCloud({ primitive: p, pose, pitch: Math.atan2(-z, x), noise1m: REALSENSE_1M, seed });
            const est = new ObjectBoxEstimator();
            const box: Box3 = { cx: 0, cy: 0, cz: 0, sx: 0, sy: 0, sz: 0 };
            est.estimate(cloud.xs, cloud.ys, cloud.zs, 0, cloud.n, { supportZ: z, restingOn: "support", noise1m: REALSENSE_1M, pixelAngle: cloud.pixelAngle }, box);
            const truth = trueBox(p, pose);
            all++;
            if (Math.abs(rel(box.sz, truth.sz)) <= 0.1) ok++;
          }
        }
      }
      expect(ok / all, `${name}: ${ok} of ${all} heights within 10%`).toBeGreaterThanOrEqual(rate);
    }
  });

  it("under depth noise the centre is not pulled towards the camera and the depth is not inflated", () => {
    const errs: number[] = [], depth: number[] = [];
    for (let seed = 1; seed <= 12; seed++) {
      for (const [p, pose] of [[can, at(1.1, 0.05)], [apple, at(1.1, -0.1)]] as const) {
        const { box, truth } = estimate(p, pose, { pitch: 0.5, noise1m: REALSENSE_1M, seed });
        errs.push(box.cx - truth.cx);
        depth.push(rel(box.sx, truth.sx));
      }
    }
    const median = (a: number[]) => a.slice().sort((x, y) => x - y)[a.length >> 1];
    expect(Math.abs(median(errs))).toBeLessThan(0.002);
    expect(depth.filter((d) => Math.abs(d) <= 0.1).length / depth.length).toBeGreaterThanOrEqual(0.8);
  });

  it("a few points far above the object (a neighbour's pixels in the mask) do not raise its top", () => {
    for (const p of [can, apple]) {
      const { box, truth } = estimate(p, at(0.9, 0), { pitch: 0.6, strays: 6 });
      expect(Math.abs(rel(box.sz, truth.sz)), p.type).toBeLessThan(0.02);
      expect(Math.abs(box.cx - truth.cx), p.type).toBeLessThan(0.003);
    }
  });

  it("tiny or degenerate clouds still give a finite box", () => {
    const est = new ObjectBoxEstimator();
    const box: Box3 = { cx: 0, cy: 0, cz: 0, sx: 0, sy: 0, sz: 0 };
    const ctx: BoxContext = { supportZ: TABLE, restingOn: "unknown", noise1m: 0.01, pixelAngle: 0.002 };
    // All points at one spot; then a flat line; then a handful.
    for (const pts of [Array.from({ length: 40 }, () => [1, 0, -0.45]), Array.from({ length: 40 }, (_, i) => [1 + i * 0.001, 0, -0.45]), [[1, 0, -0.45], [1.01, 0, -0.46], [1.0, 0.01, -0.44]]]) {
      const xs = Float32Array.from(pts, (p) => p[0]), ys = Float32Array.from(pts, (p) => p[1]), zs = Float32Array.from(pts, (p) => p[2]);
      est.estimate(xs, ys, zs, 0, pts.length, ctx, box);
      for (const v of [box.cx, box.cy, box.cz, box.sx, box.sy, box.sz]) expect(Number.isFinite(v)).toBe(true);
      expect(box.sz).toBeGreaterThan(0);
    }
  });
});

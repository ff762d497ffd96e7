import { describe, expect, it } from "vitest";
import { Perception } from "../../src/perception/perception.js";
import { generateWorld, placeCamera, project, RgbdSensor, trueSpatialFrame, VisibilityMeter, type Camera } from "../../sim/index.js";
import { spatialTransform } from "../../nodes/perception_node.js";
import { projectBox, rotationFromTf, spatialToOptical } from "../../nodes/report/box_projection.js";
import type { Vec3 } from "../../src/geometry/vec3.js";

/**
 * The report draws scene boxes (spatial frame) on the camera image. Checked against the
 * simulator: its own camera projection of the same points, and the instance mask it renders
 * (the object's pixels must fall inside its projected box, around the projected centre).
 */

const SEEDS = [1, 2, 3, 5, 8, 13, 21, 42, 99, 1234, 5000, 77777];

/** An optical-frame point back in the world, by the camera's axes (the simulator's convention). */
function opticalToWorld(cam: Camera, p: Vec3): Vec3 {
  return {
    x: cam.position.x + p.x * cam.right.x + p.y * cam.down.x + p.z * cam.forward.x,
    y: cam.position.y + p.x * cam.right.y + p.y * cam.down.y + p.z * cam.forward.y,
    z: cam.position.z + p.x * cam.right.z + p.y * cam.down.z + p.z * cam.forward.z,
  };
}

interface MaskStats { n: number; cu: number; cv: number; umin: number; umax: number; vmin: number; vmax: number }

function maskStats(mask: { width: number; height: number; step: number; data: Uint8Array }, id: number): MaskStats {
  const s = { n: 0, cu: 0, cv: 0, umin: Infinity, umax: -Infinity, vmin: Infinity, vmax: -Infinity };
  for (let v = 0; v < mask.height; v++) {
    for (let u = 0; u < mask.width; u++) {
      if (mask.data[v * mask.step + u] !== id) continue;
      s.n++;
      s.cu += u;
      s.cv += v;
      s.umin = Math.min(s.umin, u);
      s.umax = Math.max(s.umax, u);
      s.vmin = Math.min(s.vmin, v);
      s.vmax = Math.max(s.vmax, v);
    }
  }
  return { ...s, cu: s.cu / s.n, cv: s.cv / s.n };
}

function extent(segments: readonly [number, number, number, number][]) {
  let u0 = Infinity, u1 = -Infinity, v0 = Infinity, v1 = -Infinity;
  for (const [a, b, c, d] of segments) {
    u0 = Math.min(u0, a, c);
    u1 = Math.max(u1, a, c);
    v0 = Math.min(v0, b, d);
    v1 = Math.max(v1, b, d);
  }
  return { u0, u1, v0, v1 };
}

describe("projectBox on simulator frames", () => {
  it("puts every true box where the simulator's camera puts it, around the object's pixels", () => {
    let objects = 0;
    let whole = 0;
    let worstCentroid = 0;
    for (const seed of SEEDS) {
      const world = generateWorld(seed);
      const { camera } = placeCamera(world, seed);
      const cap = new RgbdSensor({ noise: "none", seed }).capture(world, camera, 1n);
      const frame = trueSpatialFrame(world, camera);
      const mask = cap.frame.instances!.image;
      const visibility = new VisibilityMeter().measure(world, camera, cap.render);
      for (const [i, o] of cap.truth.objects.entries()) {
        const box = projectBox(o.center, o.size, frame.rotation, camera.intrinsics)!;
        expect(box.segments).toHaveLength(12);
        // The centre and every corner as the simulator's own camera projects them.
        const sim = project(camera, opticalToWorld(camera, spatialToOptical(frame.rotation, o.center)));
        expect(Math.abs(sim.u - box.center!.u) + Math.abs(sim.v - box.center!.v), `${seed} ${o.id}`).toBeLessThan(1e-6);
        const corner = { x: o.center.x + o.size.x / 2, y: o.center.y - o.size.y / 2, z: o.center.z + o.size.z / 2 };
        const simCorner = project(camera, opticalToWorld(camera, spatialToOptical(frame.rotation, corner)));
        const ends = box.segments.flatMap(([a, b, c, d]) => [[a, b], [c, d]]);
        expect(Math.min(...ends.map(([u, v]) => Math.hypot(u - simCorner.u, v - simCorner.v)))).toBeLessThan(1e-6);

        const m = maskStats(mask, i + 1);
        if (m.n < 150) continue;
        objects++;
        const e = extent(box.segments);
        // The amodal box holds the whole object, so its image holds the object's pixels (centres, ±0.5 px)...
        expect(m.umin, `${seed} ${o.id} left`).toBeGreaterThanOrEqual(e.u0 - 0.5);
        expect(m.umax, `${seed} ${o.id} right`).toBeLessThanOrEqual(e.u1 + 0.5);
        expect(m.vmin, `${seed} ${o.id} top`).toBeGreaterThanOrEqual(e.v0 - 0.5);
        expect(m.vmax, `${seed} ${o.id} bottom`).toBeLessThanOrEqual(e.v1 + 0.5);
        // ...and tightly, for an object seen whole: its pixels' centroid near the projected centre
        // (a hidden or cut part would move it) and, for a solid round about the vertical (whose
        // box is no wider than the solid in any heading; a diagonal banana's or book's is), its
        // pixels spanning most of the box's image.
        if (visibility[i].visibleFraction < 0.97) continue;
        whole++;
        const round = ["cylinder", "sphere", "bowl"].includes(world.objects[i].primitive.type);
        const spanU = (m.umax - m.umin + 1) / (e.u1 - e.u0), spanV = (m.vmax - m.vmin + 1) / (e.v1 - e.v0);
        if (round) expect(Math.min(spanU, spanV), `${seed} ${o.id} span ${spanU.toFixed(2)} ${spanV.toFixed(2)}`).toBeGreaterThan(0.6);
        const diag = Math.hypot(e.u1 - e.u0, e.v1 - e.v0);
        const off = Math.hypot(m.cu - box.center!.u, m.cv - box.center!.v);
        worstCentroid = Math.max(worstCentroid, off / diag);
        expect(off, `${seed} ${o.id} centroid ${off.toFixed(1)} px of ${diag.toFixed(0)}`).toBeLessThan(0.15 * diag);
      }
    }
    expect(objects).toBeGreaterThan(60);
    expect(whole).toBeGreaterThan(40);
    expect(worstCentroid).toBeGreaterThan(0);
  });

  it("draws perceived boxes through perception's /tf as through its spatial frame, on the object's pixels", () => {
    for (const seed of [3, 42, 1234]) {
      const world = generateWorld(seed);
      const { camera } = placeCamera(world, seed);
      const cap = new RgbdSensor({ noise: "none", seed }).capture(world, camera, 1n);
      const perception = new Perception();
      const scene = perception.process(cap.frame);
      const frame = perception.lastFrame!;
      const tf = spatialTransform(frame, 1n, "camera", "spatial").transforms[0].transform.rotation;
      const r = rotationFromTf(tf);
      for (let i = 0; i < 9; i++) expect(r[i]).toBeCloseTo(frame.rotation[i], 12);
      const mask = cap.frame.instances!.image;
      for (const o of scene.objects) {
        const box = projectBox(o.center, o.size, r, camera.intrinsics)!;
        // The truth object this perceived one is: the mask id under the projected centre.
        const u = Math.round(box.center!.u), v = Math.round(box.center!.v);
        const id = mask.data[v * mask.step + u];
        expect(id, `${seed} ${o.id}: the projected centre falls on an object`).toBeGreaterThan(0);
        expect(cap.truth.objects[id - 1].kind).toBe(o.kind);
      }
    }
  });

  it("is wrong when the rotation is taken the other way round (the check above can fail)", () => {
    const seed = 42;
    const world = generateWorld(seed);
    const { camera } = placeCamera(world, seed);
    const frame = trueSpatialFrame(world, camera);
    const r = frame.rotation;
    const transposed = [r[0], r[3], r[6], r[1], r[4], r[7], r[2], r[5], r[8]];
    const o = new RgbdSensor({ noise: "none", seed }).capture(world, camera, 1n).truth.objects[0];
    const right = projectBox(o.center, o.size, r, camera.intrinsics)!;
    const wrong = projectBox(o.center, o.size, transposed, camera.intrinsics);
    const far = !wrong?.center || Math.hypot(wrong.center.u - right.center!.u, wrong.center.v - right.center!.v) > 20;
    expect(far).toBe(true);
  });
});

describe("projectBox with hostile boxes", () => {
  const k = { width: 640, height: 480, fx: 500, fy: 500, cx: 319.5, cy: 239.5 };
  const identity = [1, 0, 0, 0, 1, 0, 0, 0, 1];

  it("refuses boxes that are not finite or have a negative size", () => {
    const good = { x: 0, y: 0, z: 1 };
    const size = { x: 0.1, y: 0.1, z: 0.1 };
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -Infinity]) {
      expect(projectBox({ ...good, x: bad }, size, identity, k)).toBeNull();
      expect(projectBox(good, { ...size, z: bad }, identity, k)).toBeNull();
    }
    expect(projectBox(good, { ...size, y: -0.1 }, identity, k)).toBeNull();
  });

  it("draws nothing of a box behind the camera and clips one through the camera plane", () => {
    const behind = projectBox({ x: 0, y: 0, z: -1 }, { x: 0.2, y: 0.2, z: 0.2 }, identity, k)!;
    expect(behind.segments).toHaveLength(0);
    expect(behind.center).toBeNull();
    expect(behind.top).toBeNull();
    const through = projectBox({ x: 0, y: 0, z: 0 }, { x: 0.4, y: 0.4, z: 0.4 }, identity, k)!;
    // The 4 edges in the depth direction are cut at the near plane; the 4 of the far face stay whole.
    expect(through.segments).toHaveLength(8);
    for (const s of through.segments) for (const x of s) expect(Number.isFinite(x)).toBe(true);
    expect(through.center).toBeNull();
  });

  it("refuses a transform whose rotation is not a quaternion", () => {
    expect(() => rotationFromTf({ x: 0, y: 0, z: 0, w: 0 })).toThrow(RangeError);
    expect(() => rotationFromTf({ x: Number.NaN, y: 0, z: 0, w: 1 })).toThrow(RangeError);
    const r = rotationFromTf({ x: 0, y: 0, z: 0, w: 2 });
    expect(Array.from(r)).toEqual(identity);
  });
});

import { describe, expect, it } from "vitest";
import { generateWorld, orientedCamera, placeCamera, Renderer, truthScene, trueSpatialFrame, type Camera, type Primitive, type World } from "../../sim/index.js";
import { intrinsicsFromFov } from "../../src/geometry/intrinsics.js";
import { cameraToSpatial } from "../../src/geometry/spatial_frame.js";
import { opticalPoint } from "./sim_helpers.js";

const DEG = Math.PI / 180;
const K = intrinsicsFromFov(160, 120, 69);

function single(primitive: Primitive, x: number, y: number, yaw = 0): World {
  return { tableZ: 0.75, tableHalfX: 0.6, tableHalfY: 0.9, objects: [{ id: "o#1", kind: "can", color: "red", primitive, pose: { x, y, z: 0.75, yaw } }] };
}

describe("trueSpatialFrame", () => {
  it("is gravity-aligned with x along the heading, y left, origin at the camera; supportZ is the table", () => {
    for (const [yaw, pitch, roll] of [[0, 0, 0], [0.8, 35, 3], [-2, 55, -4]]) {
      const cam = orientedCamera(K, { x: 0.1, y: -0.2, z: 1.3 }, yaw, pitch * DEG, roll * DEG);
      const w = single({ type: "sphere", r: 0.04 }, 0, 0);
      const f = trueSpatialFrame(w, cam);
      expect(f.supportZ).toBeCloseTo(w.tableZ - cam.position.z, 12);
      // World vectors → optical → spatial.
      const toSpatial = (v: { x: number; y: number; z: number }) => cameraToSpatial(f, {
        x: v.x * cam.right.x + v.y * cam.right.y + v.z * cam.right.z,
        y: v.x * cam.down.x + v.y * cam.down.y + v.z * cam.down.z,
        z: v.x * cam.forward.x + v.y * cam.forward.y + v.z * cam.forward.z,
      });
      const up = toSpatial({ x: 0, y: 0, z: 1 });
      expect(up.x).toBeCloseTo(0, 12); expect(up.y).toBeCloseTo(0, 12); expect(up.z).toBeCloseTo(1, 12);
      const head = toSpatial({ x: Math.cos(yaw), y: Math.sin(yaw), z: 0 });
      expect(head.x).toBeCloseTo(1, 12); expect(head.y).toBeCloseTo(0, 12);
      const left = toSpatial({ x: -Math.sin(yaw), y: Math.cos(yaw), z: 0 });
      expect(left.y).toBeCloseTo(1, 12);
    }
  });
});

describe("truthScene", () => {
  it("an upright cylinder straight ahead of a level camera has box (2r, 2r, h) at the right place", () => {
    const r = 0.04, h = 0.11, cam = orientedCamera(K, { x: -0.5, y: 0, z: 1.05 }, 0, 0, 0);
    const t = truthScene(single({ type: "cylinder", r, h }, 0.5, 0), cam, 7n);
    expect(t.stamp).toBe(7n);
    const o = t.objects[0];
    expect(o.size.x).toBeCloseTo(2 * r, 9); expect(o.size.y).toBeCloseTo(2 * r, 9); expect(o.size.z).toBeCloseTo(h, 9);
    expect(o.center.x).toBeCloseTo(1.0, 9);
    expect(o.center.y).toBeCloseTo(0, 9);
    expect(o.center.z).toBeCloseTo(0.75 + h / 2 - 1.05, 9);
    expect(t.supportZ).toBeCloseTo(0.75 - 1.05, 12);
    expect(o.confidence).toBe(1);
    expect([o.id, o.kind, o.color]).toEqual(["o#1", "can", "red"]);
  });

  it("box sizes do not depend on pitch or roll; they follow the yaw relative to the camera heading", () => {
    const sx = 0.16, sy = 0.08, sz = 0.05, objYaw = 0.4;
    for (const [yaw, pitch, roll] of [[0, 10, 0], [0.9, 40, 3], [-1.3, 58, -4]]) {
      const cam = orientedCamera(K, { x: -0.6, y: 0.1, z: 1.25 }, yaw, pitch * DEG, roll * DEG);
      const cyl = truthScene(single({ type: "cylinder", r: 0.03, h: 0.1 }, 0.1, 0.05), cam, 0n).objects[0];
      expect(cyl.size.x).toBeCloseTo(0.06, 9); expect(cyl.size.y).toBeCloseTo(0.06, 9); expect(cyl.size.z).toBeCloseTo(0.1, 9);
      // Centre: the object's horizontal offset from the camera, expressed along heading/left.
      const dx = 0.1 - -0.6, dy = 0.05 - 0.1;
      expect(cyl.center.x).toBeCloseTo(dx * Math.cos(yaw) + dy * Math.sin(yaw), 9);
      expect(cyl.center.y).toBeCloseTo(-dx * Math.sin(yaw) + dy * Math.cos(yaw), 9);
      const box = truthScene(single({ type: "box", sx, sy, sz }, 0.1, 0.05, objYaw), cam, 0n).objects[0];
      const rel = objYaw - yaw;
      expect(box.size.x).toBeCloseTo(sx * Math.abs(Math.cos(rel)) + sy * Math.abs(Math.sin(rel)), 9);
      expect(box.size.y).toBeCloseTo(sx * Math.abs(Math.sin(rel)) + sy * Math.abs(Math.cos(rel)), 9);
      expect(box.size.z).toBeCloseTo(sz, 9);
      // Bottom on the support plane.
      expect(box.center.z - box.size.z / 2).toBeCloseTo(0.75 - 1.25, 9);
    }
  });

  it("contains every rendered point of its object (within 2 mm) and the table points lie at supportZ", () => {
    for (const seed of [4, 21, 33]) {
      const world = generateWorld(seed);
      const { camera } = placeCamera(world, seed, { width: 240, height: 180 });
      checkContains(world, camera);
    }
  });
});

function checkContains(world: World, camera: Camera): void {
  const out = new Renderer().render(world, camera);
  const truth = truthScene(world, camera, 0n);
  const frame = trueSpatialFrame(world, camera);
  const { width, height } = camera.intrinsics;
  const lo = truth.objects.map(() => [Infinity, Infinity, Infinity]), hi = truth.objects.map(() => [-Infinity, -Infinity, -Infinity]);
  let tableErr = 0, tablePts = 0;
  for (let v = 0; v < height; v++) for (let u = 0; u < width; u++) {
    const i = v * width + u, z = out.depthMetres[i], id = out.mask.data[i];
    if (!(z > 0)) continue;
    const p = cameraToSpatial(frame, opticalPoint(camera, u, v, z));
    if (id === 0) {
      // Table (not floor) pixels: within the table's height to float32 precision.
      if (Math.abs(p.z - frame.supportZ!) < 0.05) { tableErr = Math.max(tableErr, Math.abs(p.z - frame.supportZ!)); tablePts++; }
      continue;
    }
    const a = lo[id - 1], b = hi[id - 1];
    a[0] = Math.min(a[0], p.x); a[1] = Math.min(a[1], p.y); a[2] = Math.min(a[2], p.z);
    b[0] = Math.max(b[0], p.x); b[1] = Math.max(b[1], p.y); b[2] = Math.max(b[2], p.z);
  }
  expect(tablePts).toBeGreaterThan(100);
  expect(tableErr).toBeLessThan(1e-4);
  truth.objects.forEach((o, j) => {
    const c = [o.center.x, o.center.y, o.center.z], s = [o.size.x, o.size.y, o.size.z];
    for (let k = 0; k < 3; k++) {
      expect(lo[j][k], `${o.id} axis ${k}`).toBeGreaterThanOrEqual(c[k] - s[k] / 2 - 0.002);
      expect(hi[j][k], `${o.id} axis ${k}`).toBeLessThanOrEqual(c[k] + s[k] / 2 + 0.002);
    }
    // Seen from above, the top of each object is visible: the box is not taller than the points show.
    const vis = out.visiblePixels[j] / out.silhouettePixels[j];
    if (vis > 0.99) expect(hi[j][2]).toBeGreaterThan(c[2] + s[2] / 2 - 0.01);
  });
}

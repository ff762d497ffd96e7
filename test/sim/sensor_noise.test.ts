import { describe, expect, it } from "vitest";
import { generateWorld, noisyDetections, orientedCamera, placeCamera, RealsenseNoise, REALSENSE_D435, Renderer, RgbdSensor, Rng, truthScene, type World } from "../../sim/index.js";
import { intrinsicsFromFov } from "../../src/geometry/intrinsics.js";
import { std, unproject } from "./sim_helpers.js";

const DEG = Math.PI / 180;

describe("RealsenseNoise depth", () => {
  it("σ on flat table pixels is z²·σd/(f·b) at 1 m and at 2 m (within 25%), unbiased; holes appear", () => {
    // An empty, very large table seen from 60 cm above: table at every range from ~0.7 m to ~3 m.
    const world: World = { tableZ: 0.75, tableHalfX: 3, tableHalfY: 3, objects: [] };
    const k = intrinsicsFromFov(640, 480, 69);
    const cam = orientedCamera(k, { x: 0, y: 0, z: 1.35 }, 0, 25 * DEG, 0);
    const out = new Renderer().render(world, cam);
    const { width, height } = k;
    const clean = out.depthMetres.slice(), mask = out.mask.data.slice();
    const noisy = clean.slice();
    new RealsenseNoise().apply(noisy, mask, width, height, k.fx, 0, new Rng(77));
    // Table pixels: the unprojected clean depth lies on the table plane, inside the rectangle.
    const onTable = new Uint8Array(width * height);
    for (let v = 0; v < height; v++) for (let u = 0; u < width; u++) {
      const i = v * width + u;
      if (!(clean[i] > 0)) continue;
      const p = unproject(cam, u, v, clean[i]);
      if (Math.abs(p.z - world.tableZ) < 1e-4 && Math.abs(p.x) < 3 && Math.abs(p.y) < 3) onTable[i] = 1;
    }
    const sigmaK = REALSENSE_D435.sigmaDisparity / (k.fx * REALSENSE_D435.baseline);
    expect(sigmaK).toBeCloseTo(0.08 / (k.fx * 0.05), 15);
    let holes = 0;
    for (const [lo, hi] of [[0.95, 1.05], [1.9, 2.1]]) {
      const r: number[] = [], diff: number[] = [];
      for (let v = 3; v < height - 3; v++) for (let u = 3; u < width - 3; u++) {
        const i = v * width + u;
        const z = clean[i];
        if (!(z >= lo && z <= hi)) continue;
        // Away from edges: the 7x7 neighbourhood is all table.
        let flat = true;
        for (let a = -3; a <= 3 && flat; a++) for (let b = -3; b <= 3; b++) if (!onTable[i + a * width + b]) { flat = false; break; }
        if (!flat) continue;
        if (noisy[i] === 0) { holes++; continue; }
        r.push((noisy[i] - z) / (z * z));
        diff.push(noisy[i] - z);
      }
      expect(r.length).toBeGreaterThan(2000);
      const s = std(r);
      expect(s / sigmaK).toBeGreaterThan(0.75);
      expect(s / sigmaK).toBeLessThan(1.25);
      // Absolute σ at the bin centre, the formula as stated.
      const zc = (lo + hi) / 2;
      expect(std(diff) / ((zc * zc * 0.08) / (k.fx * 0.05))).toBeGreaterThan(0.75);
      expect(std(diff) / ((zc * zc * 0.08) / (k.fx * 0.05))).toBeLessThan(1.25);
      const mean = diff.reduce((a, b) => a + b, 0) / diff.length;
      expect(Math.abs(mean)).toBeLessThan((4 * std(diff)) / Math.sqrt(diff.length));
    }
    // Holes: zero depth where the clean depth was valid.
    let dropped = 0;
    for (let i = 0; i < clean.length; i++) if (clean[i] > 0 && noisy[i] === 0) dropped++;
    expect(dropped).toBeGreaterThan(0);
    void holes;
  });

  it("stereo shadow: background just left of a near object's left edge reads 0 over f·b·(1/z_fg − 1/z_bg) pixels", () => {
    const k = intrinsicsFromFov(320, 240, 69);
    const cam = orientedCamera(k, { x: -0.5, y: 0, z: 0.85 }, 0, 10 * DEG, 0);
    const world: World = {
      tableZ: 0.75, tableHalfX: 1.5, tableHalfY: 1.5,
      objects: [{ id: "box#1", kind: "box", color: "blue", primitive: { type: "box", sx: 0.05, sy: 0.1, sz: 0.2 }, pose: { x: -0.2, y: 0, z: 0.75, yaw: 0 } }],
    };
    const out = new Renderer().render(world, cam);
    const clean = out.depthMetres.slice(), noisy = clean.slice(), mask = out.mask.data.slice();
    new RealsenseNoise().apply(noisy, mask, k.width, k.height, k.fx, 1, new Rng(3));
    let rows = 0;
    for (let v = 0; v < k.height; v++) {
      const row = v * k.width;
      let u = 1;
      while (u < k.width && out.mask.data[row + u] !== 1) u++;
      if (u >= k.width) continue;
      const zfg = clean[row + u], zbg = clean[row + u - 1];
      if (!(zbg > zfg + 0.03)) continue;
      const w = k.fx * 0.05 * (1 / zfg - 1 / zbg);
      if (w < 4) continue;
      rows++;
      for (let s = 1; s <= Math.floor(w - 0.5) && u - s >= 0; s++) expect(noisy[row + u - s], `row ${v} s ${s}`).toBe(0);
    }
    expect(rows).toBeGreaterThan(10);
  });
});

describe("RealsenseNoise masks", () => {
  it("change only near instance boundaries; interior pixels keep their id", () => {
    for (const seed of [8, 19]) {
      const world = generateWorld(seed);
      const { camera } = placeCamera(world, seed, { width: 320, height: 240 });
      const out = new Renderer().render(world, camera);
      const { width, height, fx } = camera.intrinsics;
      const clean = out.mask.data.slice(), mask = clean.slice(), depth = out.depthMetres.slice();
      new RealsenseNoise().apply(depth, mask, width, height, fx, world.objects.length, new Rng(seed));
      let changed = 0, interior = 0, interiorChanged = 0;
      for (let v = 0; v < height; v++) for (let u = 0; u < width; u++) {
        const i = v * width + u;
        if (mask[i] !== clean[i]) changed++;
        if (mask[i] > world.objects.length) changed = -1e9; // an id that names no object
        // Interior: every pixel within 3 px (7x7) has the same clean id.
        let same = u >= 3 && v >= 3 && u < width - 3 && v < height - 3;
        for (let a = -3; a <= 3 && same; a++) for (let b = -3; b <= 3; b++) if (clean[i + a * width + b] !== clean[i]) { same = false; break; }
        if (!same) continue;
        interior++;
        if (mask[i] !== clean[i]) interiorChanged++;
      }
      expect(interior).toBeGreaterThan(width * height * 0.5);
      expect(interiorChanged).toBe(0);
      expect(changed).toBeGreaterThan(0);
    }
  });
});

describe("detections", () => {
  it("one box per visible object at its mask bounding box; kinds match labels; noisy boxes within ±3 px / ±8%", () => {
    for (const seed of [2, 15, 40]) {
      const world = generateWorld(seed);
      const { camera } = placeCamera(world, seed, { width: 320, height: 240 });
      const out = new Renderer().render(world, camera);
      const { width, height } = camera.intrinsics;
      const n = world.objects.length;
      const box = Array.from({ length: n + 1 }, () => [Infinity, -Infinity, Infinity, -Infinity]);
      for (let v = 0; v < height; v++) for (let u = 0; u < width; u++) {
        const id = out.mask.data[v * width + u];
        if (!id) continue;
        const b = box[id];
        b[0] = Math.min(b[0], u); b[1] = Math.max(b[1], u); b[2] = Math.min(b[2], v); b[3] = Math.max(b[3], v);
      }
      const visible = world.objects.map((_, i) => i + 1).filter((id) => box[id][1] >= 0);
      expect(visible.length).toBe(n); // placement keeps everything visible
      const exact = noisyDetections(out.mask.data, width, height, out.labels, new Rng(1), false);
      const noisy = noisyDetections(out.mask.data, width, height, out.labels, new Rng(1), true);
      expect(exact.length).toBe(visible.length);
      expect(noisy.length).toBe(visible.length);
      visible.forEach((id, j) => {
        const [u0, u1, v0, v1] = box[id];
        const cx = (u0 + u1) / 2, cy = (v0 + v1) / 2, w = u1 - u0 + 1, h = v1 - v0 + 1;
        expect(exact[j].kind).toBe(world.objects[id - 1].kind);
        expect(exact[j].cx).toBeCloseTo(cx, 9); expect(exact[j].cy).toBeCloseTo(cy, 9);
        expect(exact[j].width).toBeCloseTo(w, 9); expect(exact[j].height).toBeCloseTo(h, 9);
        expect(exact[j].score).toBe(1);
        expect(noisy[j].kind).toBe(world.objects[id - 1].kind);
        expect(Math.abs(noisy[j].cx - cx)).toBeLessThanOrEqual(3);
        expect(Math.abs(noisy[j].cy - cy)).toBeLessThanOrEqual(3);
        expect(Math.abs(noisy[j].width / w - 1)).toBeLessThanOrEqual(0.08 + 1e-9);
        expect(Math.abs(noisy[j].height / h - 1)).toBeLessThanOrEqual(0.08 + 1e-9);
        expect(noisy[j].score).toBeGreaterThan(0); expect(noisy[j].score).toBeLessThanOrEqual(1);
      });
    }
  });
});

describe("RgbdSensor", () => {
  it("frames carry the camera's intrinsics, stamp, registered images and the truth scene", () => {
    const world = generateWorld(6);
    const { camera } = placeCamera(world, 6, { width: 200, height: 150 });
    for (const noise of ["none", "realsense"] as const) {
      const cap = new RgbdSensor({ noise, seed: 6 }).capture(world, camera, 123n);
      const f = cap.frame;
      expect(f.stamp).toBe(123n);
      expect(f.intrinsics).toEqual(camera.intrinsics);
      for (const img of [f.rgb, f.depth, f.instances!.image]) { expect(img.width).toBe(200); expect(img.height).toBe(150); expect(img.data.length).toBe(img.step * 150); }
      expect(f.depth.encoding).toBe("32FC1");
      expect(f.detections!.length).toBe(world.objects.length);
      expect(cap.truth).toEqual(truthScene(world, camera, 123n));
      if (noise === "none") {
        const clean = new Renderer().render(world, camera);
        expect(Buffer.from(f.depth.data).equals(Buffer.from(clean.depth.data))).toBe(true);
      }
    }
  });
});

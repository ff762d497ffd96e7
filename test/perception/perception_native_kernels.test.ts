import { describe, expect, it } from "vitest";
import { InvalidInputError, isSpatialRewardError } from "../../src/errors.js";
import { LabelExtents, MAX_LABEL } from "../../src/perception/label_extents.js";
import { MEASURE, MEASURE_PARAMS } from "../../src/perception/object_measurements.js";
import { Perception } from "../../src/perception/perception.js";
import { createTsPerceptionKernels, type PerceptionKernels } from "../../src/perception/perception_kernels.js";
import type { RgbdFrame } from "../../src/perception/rgbd_frame.js";
import { SAMPLE_PARAMS } from "../../src/perception/support_samples.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import type { Scene } from "../../src/scene/scene_object.js";
import { nativePerceptionKernels, nativePerceptionStatus } from "../../nodes/perception/native_perception_kernels.js";
import { loadKernelsAddon } from "../../nodes/native/kernels_addon.js";
import { evalScene } from "../../sim/eval_scene.js";
import { RgbdSensor, teleopScenario, worldAt } from "../../sim/index.js";
import { NATIVE_TESTS } from "../native/native_env.js";
import { mutateFrame } from "./frame_mutator.js";
import { copyFrame, simFrame, withMillimetreDepth } from "./sim_frame.js";
import { relayoutImage } from "./image_layout.js";

/**
 * The native perception kernels (native/src/kernels/perception_*.cc) against their TypeScript
 * references (the default kernels): the same scenes, boxes, colours, ids and counters, bit for
 * bit, on simulator frames of every kind perception meets; and hostile arguments to each
 * kernel: a typed bad_argument error, never a crash and never a write outside the arrays.
 * Skipped only where the addon is not built and SPATIAL_REWARD_REQUIRE_NATIVE is unset (CI sets it).
 */
const native = NATIVE_TESTS ? nativePerceptionKernels() : null;
const exact = NATIVE_TESTS ? nativePerceptionStatus().exactMath : false;

function sceneText(s: Scene): string {
  return JSON.stringify(s, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

/** Both paths on one frame: the same scene (or the same rejection code) and the same counters. */
function expectSame(frame: RgbdFrame, what: string, ts = new Perception(), nat = new Perception({ kernels: native! })): void {
  const run = (p: Perception): string => {
    try {
      return sceneText(p.process(frame));
    } catch (e) {
      if (!isSpatialRewardError(e)) throw e;
      return `rejected ${e.code}`;
    }
  };
  const a = run(ts), b = run(nat);
  if (exact) expect(b, what).toBe(a);
  else expect(closeTo(JSON.parse(b), JSON.parse(a)), what).toBe(true);
  expect(nat.counters.snapshot(), what).toEqual(ts.counters.snapshot());
}

/** Without V8's own transcendental functions (another engine): every number within 1e-9 m, everything else equal. */
function closeTo(a: unknown, b: unknown): boolean {
  if (typeof a === "number" && typeof b === "number") return Math.abs(a - b) <= 1e-9 || Object.is(a, b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => closeTo(x, b[i]));
  if (a && b && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => closeTo((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}

describe.skipIf(!NATIVE_TESTS)("native perception kernels equal the TypeScript reference", () => {
  it("the kernels addon has the perception families", () => {
    expect(native, "nativePerceptionKernels() is null: rebuild the addon (npm run build:native)").not.toBeNull();
    expect(new Perception({ kernels: native! }).kernels.name).toBe("native");
    expect(new Perception().kernels.name).toBe("typescript");
  });

  it("V8's own Math.sin/cos/atan2/log/pow are used where the engine exports them (Node on Linux does)", () => {
    if (process.platform === "linux" && process.release.name === "node") expect(exact).toBe(true);
  });

  it("single frames, 160x120: 40 seeds x {clean, realsense} x {masks, detections}", { timeout: 240_000 }, () => {
    for (let seed = 9100; seed < 9140; seed++) {
      for (const noise of ["none", "realsense"] as const) {
        for (const segmentation of ["masks", "detections"] as const) {
          expectSame(simFrame(seed, { noise, segmentation }), `seed ${seed} ${noise} ${segmentation}`);
        }
      }
    }
  });

  it("640x480 eval scenes: plain, stacked and cluttered, clean and realsense, masks and detections", { timeout: 300_000 }, () => {
    for (let i = 0; i < 3; i++) {
      for (const noise of ["none", "realsense"] as const) {
        for (const masks of ["gt", "detections"] as const) {
          expectSame(evalScene(7_900_000 + i, { noise, masks }).frame, `plain ${i} ${noise} ${masks}`);
          expectSame(evalScene(7_910_000 + i, { noise, masks, stacking: 0.7 }).frame, `stacked ${i} ${noise} ${masks}`);
          expectSame(evalScene(7_920_000 + i, { noise, masks, clutter: true }).frame, `clutter ${i} ${noise} ${masks}`);
        }
      }
    }
  });

  it("a 640x480 teleop episode with tracking, clean and realsense: every frame's scene and the counters", { timeout: 300_000 }, () => {
    for (const noise of ["none", "realsense"] as const) {
      const frames = 40;
      const { world, camera, episode } = teleopScenario(12, frames, { width: 640, height: 480 }, { minObjects: 8, maxObjects: 8 });
      const sensor = new RgbdSensor({ noise, seed: 12 });
      const ts = new Perception(), nat = new Perception({ kernels: native! });
      for (let f = 0; f < frames; f++) {
        const cap = sensor.capture(worldAt(world, episode.poses[f]), camera, BigInt(f) * 33_333_333n);
        delete cap.frame.detections;
        expectSame(cap.frame, `${noise} frame ${f}`, ts, nat);
      }
    }
  });

  it("16UC1 depth, bgr8 colour, padded and unaligned rows, a given up vector", { timeout: 120_000 }, () => {
    for (let seed = 9200; seed < 9206; seed++) {
      const f = simFrame(seed, { segmentation: "masks", noise: "realsense" });
      expectSame(withMillimetreDepth(f), `16UC1 ${seed}`);
      const bgr = copyFrame(f);
      const px = bgr.rgb.data;
      for (let i = 0; i < px.length; i += 3) { const r = px[i]; px[i] = px[i + 2]; px[i + 2] = r; }
      expectSame({ ...bgr, rgb: { ...bgr.rgb, encoding: "bgr8" } }, `bgr8 ${seed}`);
      const padded = copyFrame(f);
      padded.depth = relayoutImage(f.depth, { padBytes: 12, byteOffset: 4 });
      padded.rgb = relayoutImage(f.rgb, { padBytes: 7, byteOffset: 1, trimLastRowPadding: true });
      padded.instances = { image: relayoutImage(f.instances!.image, { padBytes: 5, byteOffset: 1 }), labels: f.instances!.labels };
      expectSame(padded, `padded ${seed}`);
      // Unaligned and big-endian depth: copied by the reader, the same samples.
      expectSame({ ...f, depth: relayoutImage(f.depth, { byteOffset: 3, bigEndian: true }) }, `unaligned big-endian ${seed}`);
      expectSame({ ...f, upInCamera: { x: 0, y: -0.8, z: -0.6 } }, `up vector ${seed}`);
    }
  });

  it("300 mutated frames (the fuzz mutator): the same scene or the same rejection on both paths, never an untyped error", { timeout: 300_000 }, () => {
    const rand = mulberry32(4242);
    const bases = [simFrame(41, { segmentation: "masks" }), simFrame(42, { segmentation: "detections", noise: "realsense" }), withMillimetreDepth(simFrame(43))];
    let t = 1000n * 1_000_000_000n;
    for (let i = 0; i < 300; i++) {
      t += 33_333_333n;
      const { frame, mutations } = mutateFrame(bases[i % bases.length], rand, t);
      expectSame(frame, `case ${i}: ${mutations.join(", ")}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Hostile arguments to each kernel.

/** A valid 64x48 frame's kernel arguments (a cube of label 7 on a plane), to break one at a time. */
function validArgs() {
  const width = 64, height = 48;
  const depth = new Float32Array(width * height).fill(1.2);
  const labels = new Uint8Array(width * height);
  for (let v = 20; v < 30; v++) for (let u = 25; u < 40; u++) { labels[v * width + u] = 7; depth[v * width + u] = 1.0; }
  const rgb = new Uint8Array(width * height * 3).fill(120);
  const rayX = Float64Array.from({ length: width }, (_, u) => (u - 32) / 50);
  const rayY = Float64Array.from({ length: height }, (_, v) => (v - 24) / 50);
  const ext = new LabelExtents();
  const p = new Float64Array(MEASURE_PARAMS.length);
  const P = MEASURE_PARAMS;
  p[P.width] = width; p[P.height] = height; p[P.depthStride] = width; p[P.depthScale] = 1; p[P.labelStride] = width;
  p[P.rgbStep] = width * 3; p[P.bgr] = 0; p[P.floorZ] = -Infinity; p[P.colorFloorZ] = -Infinity; p[P.repair] = 2; p[P.noise1m] = 0;
  p[P.supportZ] = NaN; p[P.focalSum] = 100; p[P.minDepth] = 0.1; p[P.maxDepth] = 10; p[P.maxPointsPerObject] = 1500; p[P.minPoints] = 30;
  p[P.trim] = 0.0015; p[P.restingTolerance] = 0.03; p[P.flatCurvature] = 8; p[P.topFaceSpan] = 0.6;
  // Camera looking down at 45°: optical → spatial (x forward, y left, z up).
  const c = Math.SQRT1_2;
  p.set([0, -c, c, -1, 0, 0, 0, -c, -c], P.rotation);
  const xs = new Float32Array(width * height), ys = new Float32Array(width * height), zs = new Float32Array(width * height);
  return { width, height, depth, labels, rgb, rayX, rayY, ext, p, xs, ys, zs, ids: Int32Array.of(7), out: new Float64Array(MEASURE.stride) };
}

function expectRefused(f: () => unknown, what: string): void {
  let error: unknown = null;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error, `${what}: accepted`).toBeInstanceOf(InvalidInputError);
  expect((error as InvalidInputError).code, what).toBe("bad_argument");
}

describe.skipIf(!NATIVE_TESTS)("native perception kernels on hostile arguments: a typed error, never a crash", () => {
  const k = (): PerceptionKernels => native!();

  it("the valid arguments measure the cube on both paths alike (so the cases below break one thing each)", () => {
    const a = validArgs(), b = validArgs();
    const kn = k(), kt = createTsPerceptionKernels();
    kn.labelExtents(a.labels, a.width, a.width, a.height, a.ext);
    kt.labelExtents(b.labels, b.width, b.width, b.height, b.ext);
    expect(a.ext.size).toBe(1);
    kn.measureObjects(a.p, a.depth, a.labels, a.rgb, a.rayX, a.rayY, a.ids, 1, a.ext, a.xs, a.ys, a.zs, a.out);
    kt.measureObjects(b.p, b.depth, b.labels, b.rgb, b.rayX, b.rayY, b.ids, 1, b.ext, b.xs, b.ys, b.zs, b.out);
    expect(a.out[MEASURE.points]).toBeGreaterThan(30);
    expect(Array.from(a.out)).toEqual(Array.from(b.out));
  });

  it("depthNoiseAt1m over random samples (two at a time natively), odd counts, zeros, NaN and infinities: the same value", () => {
    const rng = mulberry32(4501);
    const kn = k(), kt = createTsPerceptionKernels();
    const c = Math.SQRT1_2;
    const rotation = Float64Array.of(0, -c, c, -1, 0, 0, 0, -c, -c);
    const odd = [0, -0, NaN, Infinity, -Infinity, 1e-300, 1e30];
    let nonzero = 0;
    for (let trial = 0; trial < 400; trial++) {
      // Few samples (50..71): the median is one sample's value, a different one each trial.
      const n = 50 + Math.floor(rng() * 22);
      const samples = new Float32Array(n * 3);
      for (let i = 0; i < n; i++) {
        const u = (rng() - 0.5) * 1.2, v = (rng() - 0.5) * 0.9;
        const z = (0.6 / (c * (1 + v))) * (1 + (rng() - 0.5) * 0.01) * (rng() < 0.1 ? 0.9 : 1);
        samples.set([u * z, v * z, z], i * 3);
        // Ties for the largest magnitude, and values no sensor gives.
        if (rng() < 0.05) samples[i * 3] = samples[i * 3 + 2];
        if (trial % 4 === 3 && rng() < 0.1) samples[i * 3 + Math.floor(rng() * 3)] = odd[Math.floor(rng() * odd.length)];
      }
      const supportZ = trial % 50 === 49 ? NaN : -0.6;
      const a = kn.depthNoiseAt1m(samples, n, rotation, supportZ, new Float64Array(n));
      const b = kt.depthNoiseAt1m(samples, n, rotation, supportZ, new Float64Array(n));
      expect(Object.is(a, b), `trial ${trial}: ${a} vs ${b}`).toBe(true);
      if (a > 0) nonzero++;
    }
    expect(nonzero).toBeGreaterThan(200);
  });

  it("measureObjects' colour from random bytes (every luminance bin), rgb8 and bgr8: the same brightest-pixel mean", () => {
    const rng = mulberry32(1207);
    const kn = k(), kt = createTsPerceptionKernels();
    const bins = new Set<number>();
    for (let trial = 0; trial < 60; trial++) {
      const a = validArgs(), b = validArgs();
      // Dark, bright or anywhere: the brightest 8% then falls in every bin over the trials.
      const top = [40, 255, 120][trial % 3];
      for (let i = 0; i < a.rgb.length; i++) a.rgb[i] = b.rgb[i] = Math.floor(rng() * (top + 1));
      for (let i = 0; i < a.rgb.length; i += 3) bins.add(Math.min(31, ((a.rgb[i] * 3 + a.rgb[i + 1] * 6 + a.rgb[i + 2]) / 10 * 32) >> 8));
      a.p[MEASURE_PARAMS.bgr] = b.p[MEASURE_PARAMS.bgr] = trial % 2;
      kn.labelExtents(a.labels, a.width, a.width, a.height, a.ext);
      kt.labelExtents(b.labels, b.width, b.width, b.height, b.ext);
      kn.measureObjects(a.p, a.depth, a.labels, a.rgb, a.rayX, a.rayY, a.ids, 1, a.ext, a.xs, a.ys, a.zs, a.out);
      kt.measureObjects(b.p, b.depth, b.labels, b.rgb, b.rayX, b.rayY, b.ids, 1, b.ext, b.xs, b.ys, b.zs, b.out);
      expect(Number.isNaN(a.out[MEASURE.red]), `trial ${trial}`).toBe(false);
      expect(Array.from(a.out), `trial ${trial}`).toEqual(Array.from(b.out));
    }
    expect(bins.size).toBe(32);
  });

  it("measureObjects on random blobs with stray islands (cut or kept), millimetre ties, both signs, few and many points: the same output", () => {
    const rng = mulberry32(6113);
    const kn = k(), kt = createTsPerceptionKernels();
    let many = 0, rejecting = 0;
    for (let trial = 0; trial < 80; trial++) {
      const width = 96, height = 72;
      const a = validArgs(), b = validArgs();
      for (const x of [a, b]) {
        x.width = width; x.height = height;
        x.depth = new Float32Array(width * height).fill(1.2);
        x.labels = new Uint8Array(width * height);
        x.rgb = new Uint8Array(width * height * 3).fill(120);
        x.rayX = Float64Array.from({ length: width }, (_, u) => (u - 48) / 70);
        x.rayY = Float64Array.from({ length: height }, (_, v) => (v - 36) / 70);
        x.xs = new Float32Array(width * height); x.ys = new Float32Array(width * height); x.zs = new Float32Array(width * height);
        const P = MEASURE_PARAMS;
        x.p[P.width] = width; x.p[P.height] = height; x.p[P.depthStride] = width; x.p[P.labelStride] = width; x.p[P.rgbStep] = width * 3;
        x.p[P.maxPointsPerObject] = 4000; x.p[P.noise1m] = trial % 3 === 0 ? 0.002 : 0;
      }
      // A blob of random size anywhere (the optical axis through it or beside it: x and y of both signs or one).
      const w = 8 + Math.floor(rng() * 60), h = 6 + Math.floor(rng() * 50);
      const u0 = Math.floor(rng() * (width - w)), v0 = Math.floor(rng() * (height - h));
      const base = 0.8 + rng() * 0.6, tilt = (rng() - 0.5) * 0.01;
      // Millimetre steps in some trials: many equal coordinates.
      const quantum = trial % 2 === 0 ? 0.001 : 0;
      const at = (u: number, v: number, z: number) => {
        const zq = quantum ? Math.round(z / quantum) * quantum : z;
        for (const x of [a, b]) { x.labels[v * width + u] = 7; x.depth[v * width + u] = zq; }
      };
      for (let v = v0; v < v0 + h; v++) for (let u = u0; u < u0 + w; u++) at(u, v, base + tilt * (u - u0) + (rng() - 0.5) * 0.004);
      // Strays: small labelled islands away from the blob, at the blob's depth or off it.
      const islands = Math.floor(rng() * 4);
      for (let s = 0; s < islands; s++) {
        const su = Math.floor(rng() * (width - 2)), sv = Math.floor(rng() * (height - 2)), sz = base + (rng() - 0.5) * 0.2;
        for (let dv = 0; dv < 2; dv++) for (let du = 0; du < 2; du++) at(su + du, sv + dv, sz);
      }
      kn.labelExtents(a.labels, width, width, height, a.ext);
      kt.labelExtents(b.labels, width, width, height, b.ext);
      kn.measureObjects(a.p, a.depth, a.labels, a.rgb, a.rayX, a.rayY, a.ids, 1, a.ext, a.xs, a.ys, a.zs, a.out);
      kt.measureObjects(b.p, b.depth, b.labels, b.rgb, b.rayX, b.rayY, b.ids, 1, b.ext, b.xs, b.ys, b.zs, b.out);
      expect(Array.from(a.out), `trial ${trial}`).toEqual(Array.from(b.out));
      if (b.out[MEASURE.points] >= 256) many++;
      if (b.out[MEASURE.rejected] > 0) rejecting++;
    }
    // Both the few-point and the many-point selections ran, and strays were cut.
    expect(many).toBeGreaterThan(30);
    expect(many).toBeLessThan(75);
    expect(rejecting).toBeGreaterThan(15);
  });

  it("labelExtents: wrong element type, short image, stride under the width, zero-size and non-integer sizes, short id arrays", () => {
    const a = validArgs();
    const kn = k();
    expectRefused(() => kn.labelExtents(new Float32Array(a.width * a.height) as unknown as Uint8Array, a.width, a.width, a.height, a.ext), "Float32Array labels");
    expectRefused(() => kn.labelExtents(a.labels.subarray(0, 100), a.width, a.width, a.height, a.ext), "short labels");
    expectRefused(() => kn.labelExtents(a.labels, a.width - 1, a.width, a.height, a.ext), "stride < width");
    for (const [w, h] of [[0, 10], [10, 0], [NaN, 10], [10.5, 10], [1e9, 1], [-4, 10]] as const) {
      expectRefused(() => kn.labelExtents(a.labels, a.width, w, h, a.ext), `size ${w}x${h}`);
    }
    const short = { ...a.ext, count: new Int32Array(10) } as unknown as LabelExtents;
    expectRefused(() => kn.labelExtents(a.labels, a.width, a.width, a.height, short), "short count array");
  });

  it("labelExtents: the largest 16-bit ids are counted, not written out of bounds", () => {
    const kn = k();
    const img = new Uint16Array(16 * 4);
    img[3] = 65535; img[20] = 65534; img[63] = 65535;
    const ext = new LabelExtents();
    expect(kn.labelExtents(img, 16, 16, 4, ext)).toBe(2);
    expect(Array.from(ext.present.subarray(0, 2))).toEqual([65534, 65535]);
    expect(ext.count[65535]).toBe(2);
    expect(ext.u1[65535]).toBe(15);
    expect(ext.present.length).toBe(MAX_LABEL);
  });

  it("backgroundSamples: a region past the image, short output, wrong parameter block; NaN/Inf depth just gives no samples", () => {
    const a = validArgs();
    const kn = k();
    const sp = new Float64Array(SAMPLE_PARAMS.length);
    sp.set([a.width, 1, a.width, 0, a.width - 1, 0, a.height - 1, 2, 0.1, 10]);
    const out = new Float32Array(3 * 33 * 25), counts = new Int32Array(2);
    const ns = kn.backgroundSamples(a.depth, a.labels, a.rayX, a.rayY, sp, out, counts);
    expect(ns).toBeGreaterThan(0);
    const bad = (i: number, v: number) => { const q = sp.slice(); q[i] = v; return q; };
    expectRefused(() => kn.backgroundSamples(a.depth, a.labels, a.rayX, a.rayY, bad(SAMPLE_PARAMS.u1, a.width + 5), out, counts), "u1 past the row");
    expectRefused(() => kn.backgroundSamples(a.depth, a.labels, a.rayX, a.rayY, bad(SAMPLE_PARAMS.v1, 5000), out, counts), "v1 past the image");
    expectRefused(() => kn.backgroundSamples(a.depth, a.labels, a.rayX, a.rayY, bad(SAMPLE_PARAMS.stride, 0), out, counts), "stride 0");
    expectRefused(() => kn.backgroundSamples(a.depth, a.labels, a.rayX, a.rayY, bad(SAMPLE_PARAMS.u0, NaN), out, counts), "NaN u0");
    expectRefused(() => kn.backgroundSamples(a.depth, a.labels, a.rayX, a.rayY, sp, new Float32Array(12), counts), "short output");
    expectRefused(() => kn.backgroundSamples(a.depth, a.labels, a.rayX, a.rayY, sp.subarray(0, 5), out, counts), "short parameter block");
    const hostileDepth = a.depth.slice();
    for (let i = 0; i < hostileDepth.length; i++) hostileDepth[i] = [NaN, Infinity, -Infinity, -1, 0][i % 5];
    expect(kn.backgroundSamples(hostileDepth, a.labels, a.rayX, a.rayY, sp, out, counts)).toBe(0);
    expect(counts[1]).toBe(0);
  });

  it("plane kernels: n past the samples, negative or fractional n; a degenerate cloud gives no plane", () => {
    const kn = k();
    const pts = new Float32Array(30);
    const out = new Float64Array(4), seed = Uint32Array.of(1);
    expectRefused(() => kn.countPlaneInliers(pts, 11, 0, 0, 1, 1, 0.01), "n > samples");
    expectRefused(() => kn.refinePlane(pts, -1, 0, 0, 1, 1, 0.01, out), "negative n");
    expectRefused(() => kn.ransacPlane(pts, 2.5, seed, 0.01, 300, 0.999, out), "fractional n");
    expectRefused(() => kn.ransacPlane(pts, 10, seed, 0.01, 300, 0.999, new Float64Array(2)), "short out");
    // All samples at one point: no plane through them, and no crash.
    expect(kn.ransacPlane(pts, 10, seed, 0.01, 300, 0.999, out)).toBe(0);
    expect(kn.refinePlane(pts, 0, 0, 0, 1, 1, 0.01, out)).toBe(0);
  });

  it("depthNoiseAt1m and medianObjectHeight: short scratch, boxes short of their count; NaN boxes are skipped", () => {
    const a = validArgs();
    const kn = k();
    expectRefused(() => kn.depthNoiseAt1m(new Float32Array(30), 10, new Float64Array(9), 0, new Float64Array(3)), "short scratch");
    expectRefused(() => kn.depthNoiseAt1m(new Float32Array(30), 10, new Float64Array(4), 0, new Float64Array(10)), "short rotation");
    const hp = Float64Array.of(0, -0.7, -0.7, 1, a.width, 1, 0, 0, a.width - 1, 0, a.height - 1, 0.1, 10);
    const heights = new Float64Array(((a.width >> 1) + 1) * ((a.height >> 1) + 1)), mark = new Uint8Array(heights.length);
    expectRefused(() => kn.medianObjectHeight(hp, a.depth, a.labels, new Float64Array(4), 3, a.rayX, a.rayY, heights, mark), "boxes short of nBoxes");
    expectRefused(() => kn.medianObjectHeight(hp, a.depth, a.labels, new Float64Array(4), 1, a.rayX, a.rayY, heights.subarray(0, 3), mark), "short heights");
    const nanBoxes = Float64Array.of(NaN, 10, 5, 5, 1e300, -1e300, Infinity, 4, 30, 25, 20, 10);
    expect(Number.isFinite(kn.medianObjectHeight(hp, a.depth, a.labels, nanBoxes, 3, a.rayX, a.rayY, heights, mark))).toBe(true);
  });

  it("metricDepthAbove: short outputs, stride under the width; NaN and huge boxes write only inside the image", () => {
    const a = validArgs();
    const kn = k();
    const dp = Float64Array.of(a.width, a.height, a.width, 1, -Infinity, 0.1, 10, 0, -0.7, -0.7);
    const depthM = new Float32Array(a.width * a.height + 8).fill(-7), above = new Uint8Array(a.width * a.height + 8).fill(9);
    expectRefused(() => kn.metricDepthAbove(dp, a.depth, new Float64Array(4), 1, a.rayX, a.rayY, depthM.subarray(0, 10), above), "short depthM");
    const thin = dp.slice(); thin[2] = a.width - 1;
    expectRefused(() => kn.metricDepthAbove(thin, a.depth, new Float64Array(4), 1, a.rayX, a.rayY, depthM, above), "stride < width");
    const boxes = Float64Array.of(NaN, 0, 10, 10, 1e9, 1e9, 1e12, 1e12, -50, -50, 1e4, 1e4);
    kn.metricDepthAbove(dp, a.depth, boxes, 3, a.rayX, a.rayY, depthM, above);
    // Past the image's pixels nothing was written.
    for (let i = a.width * a.height; i < depthM.length; i++) { expect(depthM[i]).toBe(-7); expect(above[i]).toBe(9); }
  });

  it("measureObjects: bad ids, counts and sizes, non-finite parameters, short buffers: refused before any write", () => {
    const kn = k();
    const a = validArgs();
    kn.labelExtents(a.labels, a.width, a.width, a.height, a.ext);
    const run = (o: Partial<ReturnType<typeof validArgs>>, n = 1) => {
      const x = { ...a, ...o };
      kn.measureObjects(x.p, x.depth, x.labels, x.rgb, x.rayX, x.rayY, x.ids, n, x.ext, x.xs, x.ys, x.zs, x.out);
    };
    const withParam = (i: number, v: number) => { const q = a.p.slice(); q[i] = v; return { p: q }; };
    const P = MEASURE_PARAMS;
    expectRefused(() => run({ ids: Int32Array.of(70000) }), "id 70000");
    expectRefused(() => run({ ids: Int32Array.of(-1) }), "id -1");
    expectRefused(() => run({}, 2), "n past ids");
    expectRefused(() => run({ out: new Float64Array(4) }), "short out");
    expectRefused(() => run({ xs: new Float32Array(10) }), "short xs");
    expectRefused(() => run({ depth: a.depth.subarray(0, 100) }), "short depth");
    expectRefused(() => run({ labels: a.labels.subarray(0, 100) }), "short labels");
    expectRefused(() => run({ rgb: a.rgb.subarray(0, 100) }), "short rgb");
    expectRefused(() => run({ rayX: a.rayX.subarray(0, 3) }), "short rayX");
    expectRefused(() => run({ rayX: Float64Array.from(a.rayX, (x, i) => (i === 5 ? NaN : x)) }), "NaN ray");
    for (const [i, v, what] of [
      [P.width, 0, "zero width"], [P.height, -1, "negative height"], [P.width, 1e7, "huge width"], [P.width, 63.5, "fractional width"],
      [P.depthStride, a.width - 1, "stride < width"], [P.rgbStep, a.width * 3 - 1, "rgb step < row"], [P.repair, 9, "repair 9"],
      [P.bgr, 2, "bgr 2"], [P.noise1m, Infinity, "infinite noise"], [P.noise1m, NaN, "NaN noise"], [P.focalSum, 0, "zero focal sum"],
      [P.rotation + 4, NaN, "NaN rotation"], [P.supportZ, Infinity, "infinite support"], [P.minDepth, NaN, "NaN min depth"], [P.trim, NaN, "NaN trim"],
    ] as const) {
      const out = new Float64Array(MEASURE.stride).fill(-3);
      expectRefused(() => run({ ...withParam(i, v), out }), what);
      expect(Array.from(out), `${what}: nothing written`).toEqual(new Array(MEASURE.stride).fill(-3));
    }
  });

  it("measureObjects' threads argument (the addon's own, which the TypeScript side sets to 1 or 2): anything else refused before any write", () => {
    const a = validArgs();
    k().labelExtents(a.labels, a.width, a.width, a.height, a.ext);
    const raw = loadKernelsAddon()!.measureObjects as (...args: unknown[]) => void;
    const call = (out: Float64Array, ...threads: unknown[]) =>
      raw(a.p, a.depth, a.labels, a.rgb, a.rayX, a.rayY, a.ids, 1, a.ext.count, a.ext.u0, a.ext.u1, a.ext.v0, a.ext.v1, a.xs, a.ys, a.zs, out, ...threads);
    const serial = new Float64Array(MEASURE.stride);
    call(serial);
    expect(serial[MEASURE.points]).toBeGreaterThan(30);
    for (const t of [1, 2, undefined]) {
      const out = new Float64Array(MEASURE.stride);
      call(out, t);
      expect(Array.from(out), `threads ${t}`).toEqual(Array.from(serial));
    }
    for (const t of [0, 3, -1, 1.5, NaN, Infinity, 2 ** 53, "2", null, {}]) {
      const out = new Float64Array(MEASURE.stride).fill(-3);
      expect(() => call(out, t), `threads ${String(t)}`).toThrow(/measureObjects/);
      expect(Array.from(out), `threads ${String(t)}: nothing written`).toEqual(new Array(MEASURE.stride).fill(-3));
    }
  });

  it("measureObjects on NaN, infinite and negative depth, and minPoints 0: results, no crash, the same as TypeScript", () => {
    const kn = k(), kt = createTsPerceptionKernels();
    for (const fill of [NaN, Infinity, -Infinity, -1, 0]) {
      const a = validArgs(), b = validArgs();
      for (let i = 0; i < a.depth.length; i += 3) { a.depth[i] = fill; b.depth[i] = fill; }
      a.p[MEASURE_PARAMS.minPoints] = 0; b.p[MEASURE_PARAMS.minPoints] = 0;
      kn.labelExtents(a.labels, a.width, a.width, a.height, a.ext);
      kt.labelExtents(b.labels, b.width, b.width, b.height, b.ext);
      kn.measureObjects(a.p, a.depth, a.labels, a.rgb, a.rayX, a.rayY, a.ids, 1, a.ext, a.xs, a.ys, a.zs, a.out);
      kt.measureObjects(b.p, b.depth, b.labels, b.rgb, b.rayX, b.rayY, b.ids, 1, b.ext, b.xs, b.ys, b.zs, b.out);
      expect(Array.from(a.out), `depth ${fill}`).toEqual(Array.from(b.out));
    }
    // No valid pixel at all: zero points; too few at minPoints 1, a box of NaN at minPoints 0 (on both paths).
    for (const minPoints of [1, 0]) {
      const a = validArgs(), b = validArgs();
      a.depth.fill(NaN); b.depth.fill(NaN);
      a.p[MEASURE_PARAMS.minPoints] = minPoints; b.p[MEASURE_PARAMS.minPoints] = minPoints;
      kn.labelExtents(a.labels, a.width, a.width, a.height, a.ext);
      kt.labelExtents(b.labels, b.width, b.width, b.height, b.ext);
      kn.measureObjects(a.p, a.depth, a.labels, a.rgb, a.rayX, a.rayY, a.ids, 1, a.ext, a.xs, a.ys, a.zs, a.out);
      kt.measureObjects(b.p, b.depth, b.labels, b.rgb, b.rayX, b.rayY, b.ids, 1, b.ext, b.xs, b.ys, b.zs, b.out);
      expect(a.out[MEASURE.points]).toBe(0);
      expect(a.out[MEASURE.status]).toBe(minPoints === 1 ? 1 : 0);
      expect(Array.from(a.out), `no valid pixel, minPoints ${minPoints}`).toEqual(Array.from(b.out));
    }
  });

  it("non-array and missing arguments are TypeErrors turned into bad_argument", () => {
    const kn = k();
    const a = validArgs();
    expectRefused(() => kn.labelExtents(null as unknown as Uint8Array, 1, 1, 1, a.ext), "null labels");
    expectRefused(() => kn.countPlaneInliers([1, 2, 3] as unknown as Float32Array, 1, 0, 0, 1, 0, 0.1), "plain array");
    expectRefused(() => kn.depthNoiseAt1m(new Float32Array(3), "1" as unknown as number, new Float64Array(9), 0, new Float64Array(1)), "string n");
  });
});

import { describe, expect, it } from "vitest";
import { LabelExtents } from "../../src/perception/label_extents.js";
import { MEASURE, MEASURE_PARAMS } from "../../src/perception/object_measurements.js";
import { createTsPerceptionKernels, type PerceptionKernels } from "../../src/perception/perception_kernels.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { nativePerceptionKernels } from "../../nodes/perception/native_perception_kernels.js";
import { NATIVE_TESTS } from "./native_env.js";

/**
 * measureObjects' lift (native/src/kernels/perception_objects.cc) reads the instance's label as
 * bit masks over its box (which neighbours are the instance's, 64 pixels a word) and computes
 * the depth-only tests four columns at a time where AVX2 runs, the image's outer two columns
 * and a row's odd end one by one. Against the TypeScript reference on frames built to reach
 * every edge of that: instances touching each other and every image border, rows wider than a
 * word and of every length mod 4, repair reaches 0..8 (past the masks' 3-pixel margin), 8- and
 * 16-bit labels (ids past 255), float and 16-bit millimetre depth, invalid and flying pixels,
 * sampled (every 2nd / 3rd pixel) and whole objects, 0 measured as an id, a finite floor.
 */
const native = NATIVE_TESTS ? nativePerceptionKernels() : null;

interface Frame {
  width: number;
  height: number;
  p: Float64Array;
  depth: Float32Array | Uint16Array;
  labels: Uint8Array | Uint16Array;
  rgb: Uint8Array;
  rayX: Float64Array;
  rayY: Float64Array;
}

function randomFrame(rng: () => number, trial: number): { frame: Frame; ids: number[] } {
  const width = [64, 65, 130, 131, 150, 203][trial % 6], height = 40 + Math.floor(rng() * 50);
  const wide = trial % 4 === 3;
  const millimetres = trial % 5 === 2;
  const n = width * height;
  const z = new Float64Array(n).fill(1.3);
  const labels = wide ? new Uint16Array(n) : new Uint8Array(n);
  const ids: number[] = [];
  const instances = 1 + Math.floor(rng() * 5);
  for (let k = 0; k < instances; k++) {
    const id = wide ? 250 + k * 3 : 1 + k;
    ids.push(id);
    // Boxes that often reach a border (0 or the last row/column) and overlap their neighbours.
    const w = 3 + Math.floor(rng() * width * 0.7), h = 3 + Math.floor(rng() * height * 0.7);
    const u0 = rng() < 0.3 ? 0 : rng() < 0.4 ? width - w : Math.floor(rng() * (width - w));
    const v0 = rng() < 0.3 ? 0 : rng() < 0.4 ? height - h : Math.floor(rng() * (height - h));
    const base = 0.7 + rng() * 0.5, tilt = (rng() - 0.5) * 0.02;
    for (let v = v0; v < v0 + h; v++) {
      for (let u = u0; u < u0 + w; u++) {
        // Round-ish: the corners stay background (mask repair candidates on two sides).
        const du = (u - u0 - w / 2) / (w / 2), dv = (v - v0 - h / 2) / (h / 2);
        if (du * du + dv * dv > 1.3) continue;
        const i = v * width + u;
        labels[i] = id;
        z[i] = base + tilt * (u - u0) + (rng() - 0.5) * 0.003;
      }
    }
  }
  // Background pixels at an instance's depth next to it (repaired), invalid readings, flying pixels.
  for (let i = 0; i < n; i++) {
    const r = rng();
    if (r < 0.03) z[i] = 0;
    else if (r < 0.05) z[i] = 0.3 + rng() * 0.4;
    else if (r < 0.07 && labels[i] === 0 && i + 1 < n && labels[i + 1] !== 0) z[i] = z[i + 1] + (rng() - 0.5) * 0.01;
    else if (r < 0.075) z[i] = NaN;
  }
  let depth: Float32Array | Uint16Array;
  if (millimetres) depth = Uint16Array.from(z, (x) => (Number.isFinite(x) ? Math.round(x * 1000) : 0));
  else depth = Float32Array.from(z);
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = Math.floor(rng() * 256);
  const p = new Float64Array(MEASURE_PARAMS.length);
  const P = MEASURE_PARAMS;
  p[P.width] = width; p[P.height] = height; p[P.depthStride] = width; p[P.depthScale] = millimetres ? 0.001 : 1; p[P.labelStride] = width;
  p[P.rgbStep] = width * 3; p[P.bgr] = trial % 2; p[P.repair] = [0, 1, 2, 2, 3, 8][trial % 6]; p[P.noise1m] = trial % 3 === 0 ? 0.003 : 0;
  p[P.supportZ] = trial % 3 === 1 ? -0.9 : NaN;
  p[P.floorZ] = trial % 3 === 1 ? -0.894 : -Infinity; p[P.colorFloorZ] = trial % 3 === 1 ? -0.885 : -Infinity;
  p[P.focalSum] = 140; p[P.minDepth] = 0.1; p[P.maxDepth] = 10;
  // Small budgets sample large instances every 2nd or 3rd pixel.
  p[P.maxPointsPerObject] = [1500, 200, 60][trial % 3]; p[P.minPoints] = 10;
  p[P.trim] = 0.0015; p[P.restingTolerance] = 0.03; p[P.flatCurvature] = 8; p[P.topFaceSpan] = 0.6;
  const c = Math.SQRT1_2;
  p.set([0, -c, c, -1, 0, 0, 0, -c, -c], P.rotation);
  const rayX = Float64Array.from({ length: width }, (_, u) => (u - width / 2) / 70);
  const rayY = Float64Array.from({ length: height }, (_, v) => (v - height / 2) / 70);
  return { frame: { width, height, p, depth, labels, rgb, rayX, rayY }, ids };
}

function measure(k: PerceptionKernels, f: Frame, ids: number[], zeroBox: boolean): Float64Array {
  const ext = new LabelExtents();
  k.labelExtents(f.labels, f.width, f.width, f.height, ext);
  if (zeroBox) {
    // 0 measured as an instance: its pixels are the background (extents set by hand).
    ext.count[0] = Math.floor(f.width * f.height / 3);
    ext.u0[0] = 1; ext.u1[0] = f.width - 1; ext.v0[0] = 0; ext.v1[0] = Math.floor(f.height / 2);
  }
  const all = zeroBox ? [...ids, 0] : ids;
  const n = f.width * f.height;
  const out = new Float64Array(all.length * MEASURE.stride);
  k.measureObjects(f.p, f.depth, f.labels, f.rgb, f.rayX, f.rayY, Int32Array.from(all), all.length, ext,
    new Float32Array(n), new Float32Array(n), new Float32Array(n), out);
  return out;
}

describe.skipIf(!NATIVE_TESTS)("measureObjects' masked lift equals the TypeScript reference", () => {
  it("400 random frames: borders, touching instances, word-crossing rows, every repair reach, 8/16-bit labels, float/mm depth, 0 as an id", () => {
    expect(native).not.toBeNull();
    const rng = mulberry32(1207);
    const kn = native!(), kt = createTsPerceptionKernels();
    let islands = 0, sampled = 0, measured = 0;
    for (let trial = 0; trial < 400; trial++) {
      const { frame, ids } = randomFrame(rng, trial);
      const zeroBox = trial % 7 === 0;
      const a = measure(kn, frame, ids, zeroBox), b = measure(kt, frame, ids, zeroBox);
      expect(Array.from(a), `trial ${trial}`).toEqual(Array.from(b));
      for (let o = 0; o < b.length; o += MEASURE.stride) {
        if (b[o + MEASURE.islands] > 0) islands++;
        if (b[o + MEASURE.status] === 0) measured++;
      }
      if (frame.p[MEASURE_PARAMS.maxPointsPerObject] < 1500) sampled++;
    }
    // The cases the masks decide were reached: islands dropped, objects measured, sampled lifts.
    expect(islands).toBeGreaterThan(50);
    expect(measured).toBeGreaterThan(400);
    expect(sampled).toBeGreaterThan(200);
  });
});

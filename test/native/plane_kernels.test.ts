import { describe, expect, it } from "vitest";
import { TS_PLANE_KERNELS } from "../../src/perception/support_plane.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { nativePerceptionKernels } from "../../nodes/perception/native_perception_kernels.js";
import { NATIVE_TESTS } from "./native_env.js";

/**
 * The native plane kernels (perception_frame.cc: four samples at a time with AVX2 where the CPU
 * has it, refinePlane's sums as vectors of accumulators adding each lane's samples in order, an
 * outlier as +0) against the TypeScript ones: the same counts and the same planes bit for bit, on
 * clouds of every size modulo 4 with outliers, points on the threshold, coordinates of every
 * magnitude (sums that depend on their order), -0, NaN and infinities.
 */
const native = NATIVE_TESTS ? nativePerceptionKernels() : null;

/** A tilted plane's points with noise, objects above it and hostile values. */
function cloud(rand: () => number, n: number, hostile: boolean): { pts: Float32Array; plane: [number, number, number, number] } {
  const tilt = 0.3 + rand() * 0.9;
  const nx = rand() < 0.3 ? 0 : (rand() - 0.5) * 0.2, ny = -Math.cos(tilt), nz = -Math.sin(tilt);
  const len = Math.hypot(nx, ny, nz);
  const plane: [number, number, number, number] = [nx / len, ny / len, nz / len, 0.5 + rand()];
  const pts = new Float32Array(n * 3);
  const odd = [0, -0, NaN, Infinity, -Infinity, 1e30];
  for (let i = 0; i < n; i++) {
    // A point on the plane: p = ray * t with n·p + d = 0.
    const rx = (rand() - 0.5) * 1.2, ry = (rand() - 0.5) * 0.9, rz = 1;
    const t = -plane[3] / (plane[0] * rx + plane[1] * ry + plane[2] * rz);
    const k = rand();
    const off = k < 0.7 ? (rand() - 0.5) * 0.01 : k < 0.85 ? 0.02 + rand() * 0.2 : k < 0.9 ? (rand() < 0.5 ? 0.012 : -0.012) : (rand() - 0.5) * 0.03;
    pts[i * 3] = rx * t + plane[0] * off;
    // On a plane with nx = 0, x is free: values of every magnitude, whose sums depend on the order they are added in.
    if (plane[0] === 0) pts[i * 3] = (rand() < 0.5 ? -1 : 1) * 10 ** (-6 + rand() * 12);
    pts[i * 3 + 1] = ry * t + plane[1] * off;
    pts[i * 3 + 2] = rz * t + plane[2] * off;
    if (hostile && rand() < 0.05) pts[i * 3 + Math.floor(rand() * 3)] = odd[Math.floor(rand() * odd.length)];
  }
  return { pts, plane };
}

describe.skipIf(!NATIVE_TESTS)("native plane kernels", () => {
  it("count and refine over 0..5000 samples (every n mod 4), with outliers and hostile values: the TypeScript results", () => {
    const k = native!();
    const rand = mulberry32(31202);
    let refined = 0;
    for (let trial = 0; trial < 300; trial++) {
      const n = trial < 40 ? trial : trial < 250 ? 40 + Math.floor(rand() * 400) : 1000 + Math.floor(rand() * 4000);
      const { pts, plane } = cloud(rand, n, trial % 3 === 2);
      // The plane given slightly off the truth, as the last frame's plane is.
      const [nx, ny, nz, d] = [plane[0] === 0 ? 0 : plane[0] + (rand() - 0.5) * 0.01, plane[1], plane[2], plane[3] + (rand() - 0.5) * 0.004];
      const threshold = trial % 7 === 0 ? 0.0 : 0.012;
      // Extra samples past n hold values that must not be read.
      const padded = new Float32Array(pts.length + 9).fill(NaN);
      padded.set(pts);
      expect(k.countPlaneInliers(padded, n, nx, ny, nz, d, threshold), `trial ${trial} count`).toBe(TS_PLANE_KERNELS.countPlaneInliers(pts, n, nx, ny, nz, d, threshold));
      const a = new Float64Array(4).fill(7), b = new Float64Array(4).fill(7);
      const ca = k.refinePlane(padded, n, nx, ny, nz, d, threshold, a);
      const cb = TS_PLANE_KERNELS.refinePlane(pts, n, nx, ny, nz, d, threshold, b);
      expect(ca, `trial ${trial} (n ${n}) refine count`).toBe(cb);
      expect(Array.from(a), `trial ${trial} (n ${n}) refined plane`).toEqual(Array.from(b));
      if (cb > 0) refined++;
    }
    expect(refined).toBeGreaterThan(200);
  });

  it("RANSAC (whose every hypothesis is a count) on the same clouds: the same plane, count and random state", () => {
    const k = native!();
    const rand = mulberry32(41202);
    for (let trial = 0; trial < 60; trial++) {
      const n = 3 + Math.floor(rand() * 3000);
      const { pts } = cloud(rand, n, trial % 4 === 3);
      const seedA = new Uint32Array([0x9e3779b9 ^ trial]), seedB = new Uint32Array(seedA);
      const a = new Float64Array(4), b = new Float64Array(4);
      expect(k.ransacPlane(pts, n, seedA, 0.012, 300, 0.999, a), `trial ${trial}`).toBe(TS_PLANE_KERNELS.ransacPlane(pts, n, seedB, 0.012, 300, 0.999, b));
      expect(Array.from(a)).toEqual(Array.from(b));
      expect(seedA[0]).toBe(seedB[0]);
    }
  });
});

import { describe, expect, it } from "vitest";
import { depthNoiseAt1m } from "../../src/perception/depth_noise.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { kernelFamily } from "../../nodes/native/kernels_addon.js";
import { NATIVE_TESTS } from "./native_env.js";

/**
 * The native depthNoiseAt1m (perception_frame.cc) on both of its vector paths: four samples at a
 * time with AVX2 where the CPU has it (the default), and two at a time with SSE2 (a 6th argument
 * false), each with the scalar tail, against the TypeScript reference: the same value, bit for
 * bit, for every sample count modulo 4, near and far samples, ties for the largest coordinate,
 * and values no sensor gives (zeros, NaN, infinities).
 */
interface DepthNoiseRaw {
  depthNoiseAt1m(samples: Float32Array, n: number, rotation: Float64Array, supportZ: number, scratch: Float64Array, avx2?: boolean): number;
}
const raw = NATIVE_TESTS ? kernelFamily<DepthNoiseRaw>("perception", ["depthNoiseAt1m"]) : null;

describe.skipIf(!NATIVE_TESTS)("native depthNoiseAt1m, AVX2 and SSE2 paths", () => {
  it("random tilted supports, 50..4000 samples (every count mod 4), hostile values: both paths equal the reference", () => {
    const rng = mulberry32(1202);
    const odd = [0, -0, NaN, Infinity, -Infinity, 1e-300, 1e30];
    let nonzero = 0, trials = 0;
    for (let trial = 0; trial < 240; trial++) {
      // A camera pitched down 30..70 degrees over a plane 0.4..1.2 m below it.
      const pitch = ((30 + rng() * 40) * Math.PI) / 180, height = 0.4 + rng() * 0.8;
      const s = Math.sin(pitch), c = Math.cos(pitch);
      // Spatial frame rows (forward, left, up) in optical coordinates (x right, y down, z forward).
      const rotation = Float64Array.of(0, -s, c, -1, 0, 0, 0, -c, -s);
      const n = trial < 200 ? 50 + Math.floor(rng() * 200) : 1000 + Math.floor(rng() * 3000);
      const samples = new Float32Array(n * 3);
      const noise = trial % 3 === 0 ? 0 : 0.002 + rng() * 0.01;
      for (let i = 0; i < n; i++) {
        // A ray through pixel (u, v) meets the plane up·p = -height.
        const u = (rng() - 0.5) * 1.1, v = (rng() - 0.5) * 0.8;
        const upDotRay = c * v + s;
        let z = height / upDotRay;
        z *= 1 + (rng() - 0.5) * noise * z;
        if (rng() < 0.15) z *= 0.8 + rng() * 0.1; // an object's point, above the support
        samples.set([u * z, v * z, z], i * 3);
        if (rng() < 0.04) samples[i * 3] = samples[i * 3 + 2];
        if (rng() < 0.04) samples[i * 3 + 1] = -samples[i * 3 + 2];
        if (trial % 5 === 4 && rng() < 0.08) samples[i * 3 + Math.floor(rng() * 3)] = odd[Math.floor(rng() * odd.length)];
      }
      const supportZ = trial % 60 === 59 ? NaN : -height;
      const want = depthNoiseAt1m(samples, n, rotation, Number.isNaN(supportZ) ? null : supportZ, new Float64Array(n));
      const avx2 = raw!.depthNoiseAt1m(samples, n, rotation, supportZ, new Float64Array(n));
      const sse2 = raw!.depthNoiseAt1m(samples, n, rotation, supportZ, new Float64Array(n), false);
      expect(Object.is(avx2, want), `trial ${trial} (n ${n}) default path: ${avx2} vs ${want}`).toBe(true);
      expect(Object.is(sse2, want), `trial ${trial} (n ${n}) SSE2 path: ${sse2} vs ${want}`).toBe(true);
      if (want > 0) nonzero++;
      trials++;
    }
    expect(trials).toBe(240);
    expect(nonzero).toBeGreaterThan(120);
  });

  it("the median among ties, zeros and a wide spread of magnitudes (the AVX2 selection by bits' bins): both paths equal the reference", () => {
    // Up is the optical z axis and the support at z = 1: a sample (x, y, 1 + h) gives
    // |h| / sinA / range^2 with sinA = (1 + h) / range. Heights and x, y from small sets make
    // many exact ties and zeros (h = 0); a few heights far smaller or larger spread the values
    // over many exponents, so the rank's bin holds many values and the selection goes on in it.
    const rng = mulberry32(77);
    const rotation = Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1);
    const heights = [0, 0, 0, 1e-3, -1e-3, 2e-3, 0.0125, -0.02, 3e-7, 1e-9];
    const xy = [0, 0.1, -0.1, 0.25, 0.3];
    for (let trial = 0; trial < 120; trial++) {
      const n = 200 + Math.floor(rng() * 3800);
      const samples = new Float32Array(n * 3);
      const spread = 1 + (trial % 4);
      for (let i = 0; i < n; i++) {
        const h = heights[Math.floor(rng() * Math.min(heights.length, 3 + spread * 2))];
        samples.set([xy[Math.floor(rng() * xy.length)], xy[Math.floor(rng() * xy.length)], 1 + h], i * 3);
        if (trial % 6 === 5 && rng() < 0.3) samples[i * 3 + 2] = 1 + (rng() - 0.5) * 0.05;
      }
      const want = depthNoiseAt1m(samples, n, rotation, 1, new Float64Array(n));
      const avx2 = raw!.depthNoiseAt1m(samples, n, rotation, 1, new Float64Array(n));
      const sse2 = raw!.depthNoiseAt1m(samples, n, rotation, 1, new Float64Array(n), false);
      expect(Object.is(avx2, want), `trial ${trial} (n ${n}) default path: ${avx2} vs ${want}`).toBe(true);
      expect(Object.is(sse2, want), `trial ${trial} (n ${n}) SSE2 path: ${sse2} vs ${want}`).toBe(true);
    }
  });
});

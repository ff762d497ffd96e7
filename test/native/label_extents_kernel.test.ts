import { describe, expect, it } from "vitest";
import { LabelExtents, labelExtentsTs } from "../../src/perception/label_extents.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { nativePerceptionKernels } from "../../nodes/perception/native_perception_kernels.js";
import { NATIVE_TESTS } from "./native_env.js";

/**
 * The native labelExtents (perception_frame.cc: zero cache lines skipped at once, a run's first
 * and last pixel found inside a word by its lowest non-zero / differing bytes) against the
 * TypeScript reference, on label images built of runs that start and end at every offset
 * within a word and a 64-byte line: adjacent runs of different ids, single pixels, runs to the
 * row's end, ids up to 255 / 65535, rows with padding full of other ids.
 */
const native = NATIVE_TESTS ? nativePerceptionKernels() : null;

function runImage(rand: () => number, width: number, height: number, stride: number, wide: boolean): Uint8Array | Uint16Array {
  const img = wide ? new Uint16Array(stride * height) : new Uint8Array(stride * height);
  const maxId = wide ? 65535 : 255;
  for (let v = 0; v < height; v++) {
    // Padding past the width holds ids the scan must never read as pixels.
    for (let u = width; u < stride; u++) img[v * stride + u] = 1 + Math.floor(rand() * maxId);
    let u = Math.floor(rand() * 70);
    while (u < width) {
      const len = rand() < 0.3 ? 1 + Math.floor(rand() * 3) : 1 + Math.floor(rand() * 90);
      // Few ids mostly (runs of one object row after row), now and then the largest or a random one.
      const r = rand();
      const id = r < 0.05 ? maxId : r < 0.1 ? 1 + Math.floor(rand() * maxId) : 1 + Math.floor(rand() * 6);
      for (let k = u; k < Math.min(width, u + len); k++) img[v * stride + k] = id;
      // The next run right after this one (another id), or after a gap of any length.
      u += len + (rand() < 0.3 ? 0 : Math.floor(rand() * 80));
    }
  }
  return img;
}

function extentsOf(e: LabelExtents): unknown {
  const ids = Array.from(e.present.subarray(0, e.size));
  return { ids, per: ids.map((id) => [e.count[id], e.u0[id], e.u1[id], e.v0[id], e.v1[id]]) };
}

describe.skipIf(!NATIVE_TESTS)("native labelExtents", () => {
  it("runs at every offset in a word and a cache line, 8- and 16-bit ids, padded rows: the TypeScript counts, extents and ids", () => {
    const k = native!();
    const rand = mulberry32(20261202);
    let images = 0;
    for (const wide of [false, true]) {
      for (const width of [1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 127, 129, 200, 640]) {
        for (let rep = 0; rep < 4; rep++) {
          const height = 1 + Math.floor(rand() * 24);
          const stride = width + (rep % 2 === 0 ? 0 : 1 + Math.floor(rand() * 40));
          const img = runImage(rand, width, height, stride, wide);
          const a = new LabelExtents(), b = new LabelExtents();
          const n = k.labelExtents(img, stride, width, height, a);
          labelExtentsTs(img, stride, width, height, b);
          expect(n, `${wide ? 16 : 8}-bit ${width}x${height} stride ${stride}`).toBe(b.size);
          expect(extentsOf(a), `${wide ? 16 : 8}-bit ${width}x${height} stride ${stride}`).toEqual(extentsOf(b));
          images++;
        }
      }
    }
    expect(images).toBe(112);
  });

  it("a 640x480 mask of rectangles and blobs, on a row stride of 4 extra bytes and on an offset view: the same as TypeScript", () => {
    const k = native!();
    const rand = mulberry32(7);
    const width = 640, height = 480, stride = 644;
    const backing = new Uint8Array(stride * height + 3);
    const img = backing.subarray(3);
    for (let id = 1; id <= 12; id++) {
      const u0 = Math.floor(rand() * 600), v0 = Math.floor(rand() * 440), w = 1 + Math.floor(rand() * 120), h = 1 + Math.floor(rand() * 90);
      for (let v = v0; v < Math.min(height, v0 + h); v++) for (let u = u0; u < Math.min(width, u0 + w); u++) if (rand() < 0.97) img[v * stride + u] = id;
    }
    const a = new LabelExtents(), b = new LabelExtents();
    k.labelExtents(img, stride, width, height, a);
    labelExtentsTs(img, stride, width, height, b);
    expect(a.size).toBeGreaterThan(5);
    expect(extentsOf(a)).toEqual(extentsOf(b));
  });
});

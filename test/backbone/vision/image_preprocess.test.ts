import { describe, expect, it } from "vitest";
import { backboneSizes, TINY_CONFIG, type BackboneConfig } from "../../../src/backbone/config.js";
import { ImagePreprocessor, MAX_IMAGE_SIDE } from "../../../src/backbone/image_preprocess.js";
import { InvalidInputError } from "../../../src/errors.js";
import type { ImageLike } from "../../../src/scene/image.js";
import { mulberry32 } from "../../../src/random/mulberry32.js";
import { OraclePreprocessor } from "../../../bench/backbone/preprocess_oracle.js";
import { maxAbsDiff, SMALL_VISION_CONFIG as SMALL_CONFIG } from "../fixtures.js";

const config = SMALL_CONFIG; // 32×32, patch 8: G 4, P 16, coarse 2×2
const s = backboneSizes(config);
const p = config.patch_size;
const D = s.patchDim;
const norm = (v: number, c: number): number => (v / 255 - config.image_mean[c]) / config.image_std[c];

type Rgb = [number, number, number];

/** An rgb8 image from a colour function, with `pad` bytes of garbage after each row. */
function image(width: number, height: number, colour: (x: number, y: number) => Rgb, pad = 0, encoding = "rgb8"): ImageLike {
  const layouts: Record<string, number[]> = { rgb8: [0, 1, 2], bgr8: [2, 1, 0], rgba8: [0, 1, 2, -1], bgra8: [2, 1, 0, -1], mono8: [0] };
  const order = layouts[encoding];
  const bpp = order.length;
  const step = width * bpp + pad;
  const data = new Uint8Array(step * height).fill(0xa5);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = colour(x, y);
      for (let k = 0; k < bpp; k++) data[y * step + x * bpp + k] = order[k] < 0 ? 77 : c[order[k]];
    }
  }
  return { width, height, encoding, step, data };
}

/** Value of channel c at pixel (x, y) of the model-size image, read back from the patches. */
function at(patches: Float32Array, c: number, x: number, y: number): number {
  const g = s.gridSide;
  const patch = Math.floor(y / p) * g + Math.floor(x / p);
  return patches[patch * D + c * p * p + (y % p) * p + (x % p)];
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof InvalidInputError) return e.code;
    return `untyped: ${String(e)}`;
  }
  return "accepted";
}

describe("ImagePreprocessor", () => {
  it("a constant-colour frame of any size gives constant normalised patches (fine and coarse)", () => {
    const pre = new ImagePreprocessor(config);
    const rgb: Rgb = [200, 40, 90];
    for (const [w, h, pad] of [[640, 480, 0], [33, 17, 5], [32, 32, 0], [7, 100, 1]]) {
      pre.process(image(w, h, () => rgb, pad));
      for (const buf of [pre.patches, pre.coarsePatches]) {
        for (let i = 0; i < buf.length; i++) {
          const c = Math.floor((i % D) / (p * p));
          expect(Math.abs(buf[i] - norm(rgb[c], c))).toBeLessThan(1e-5);
        }
      }
    }
  });

  it("a 2×2 checkerboard lands in the right patches, channel-major (c, y, x) within each", () => {
    const colours: Rgb[] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]]; // TL, TR, BL, BR
    const quad = (x: number, y: number, side: number): Rgb => colours[(y < side / 2 ? 0 : 2) + (x < side / 2 ? 0 : 1)];
    const pre = new ImagePreprocessor(config);
    pre.process(image(32, 32, (x, y) => quad(x, y, 32)));
    // Fine grid 4×4: quadrant q holds patches (gy, gx) with gy, gx in its half.
    for (let patch = 0; patch < s.patches; patch++) {
      const gy = Math.floor(patch / 4), gx = patch % 4;
      const want = colours[(gy < 2 ? 0 : 2) + (gx < 2 ? 0 : 1)];
      for (let c = 0; c < 3; c++) {
        for (let k = 0; k < p * p; k++) expect(pre.patches[patch * D + c * p * p + k]).toBeCloseTo(norm(want[c], c), 5);
      }
    }
    // Coarse grid 2×2: one coarse patch per quadrant.
    for (let j = 0; j < 4; j++) {
      for (let c = 0; c < 3; c++) {
        for (let k = 0; k < p * p; k++) expect(pre.coarsePatches[j * D + c * p * p + k]).toBeCloseTo(norm(colours[j][c], c), 5);
      }
    }
    // Downscaled 4× from 128×128: quadrants stay put; only pixels at the seams blend.
    pre.process(image(128, 128, (x, y) => quad(x, y, 128)));
    for (const [x, y, q] of [[0, 0, 0], [14, 14, 0], [17, 0, 1], [31, 14, 1], [0, 17, 2], [31, 31, 3]]) {
      for (let c = 0; c < 3; c++) expect(at(pre.patches, c, x, y)).toBeCloseTo(norm(colours[q][c], c), 5);
    }
    const seam = at(pre.patches, 0, 15, 0); // red fades into green at the vertical seam
    expect(seam).toBeGreaterThan(norm(0, 0) + 0.1);
    expect(seam).toBeLessThan(norm(255, 0) - 0.1);
  });

  it("at the model size the resize is the identity", () => {
    const rand = mulberry32(3);
    const px = Array.from({ length: 32 * 32 }, () => [0, 0, 0].map(() => Math.floor(rand() * 256)) as Rgb);
    const pre = new ImagePreprocessor(config);
    pre.process(image(32, 32, (x, y) => px[y * 32 + x], 3));
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) for (let c = 0; c < 3; c++) {
      expect(at(pre.patches, c, x, y)).toBeCloseTo(norm(px[y * 32 + x][c], c), 5);
    }
  });

  it("downscaling averages the area: stripes one pixel in three give their mean (2-tap bilinear would give 0)", () => {
    const pre = new ImagePreprocessor(config);
    pre.process(image(96, 32, (x) => (x % 3 === 0 ? [255, 255, 255] : [0, 0, 0])));
    for (let x = 1; x < 31; x++) expect(at(pre.patches, 1, x, 9)).toBeCloseTo(norm(85, 1), 4);
  });

  it("bgr8, rgba8, bgra8 equal rgb8 with channels swapped; mono8 equals grey rgb8", () => {
    const rand = mulberry32(11);
    const px = Array.from({ length: 50 * 40 }, () => [0, 0, 0].map(() => Math.floor(rand() * 256)) as Rgb);
    const colour = (x: number, y: number): Rgb => px[y * 50 + x];
    const a = new ImagePreprocessor(config);
    const b = new ImagePreprocessor(config);
    a.process(image(50, 40, colour));
    for (const enc of ["bgr8", "rgba8", "bgra8"]) {
      b.process(image(50, 40, colour, 2, enc));
      expect(maxAbsDiff(a.patches, b.patches)).toBeLessThan(1e-6);
      expect(maxAbsDiff(a.coarsePatches, b.coarsePatches)).toBeLessThan(1e-6);
    }
    // The encoding is honoured, not ignored: the same bytes read as bgr8 swap red and blue.
    const bytes = image(50, 40, colour);
    b.process({ ...bytes, encoding: "bgr8" });
    expect(maxAbsDiff(a.patches, b.patches)).toBeGreaterThan(0.5);
    const grey = (x: number, y: number): Rgb => { const v = px[y * 50 + x][0]; return [v, v, v]; };
    a.process(image(50, 40, grey));
    b.process(image(50, 40, grey, 0, "mono8"));
    expect(maxAbsDiff(a.patches, b.patches)).toBeLessThan(1e-6);
  });

  it("row padding is never read, and a last row without its padding is accepted", () => {
    const colour = (x: number, y: number): Rgb => [x * 5, y * 7, (x + y) * 3];
    const a = new ImagePreprocessor(config);
    const b = new ImagePreprocessor(config);
    a.process(image(40, 30, colour));
    const padded = image(40, 30, colour, 13);
    b.process({ ...padded, data: padded.data.subarray(0, padded.step * 29 + 40 * 3) });
    expect(maxAbsDiff(a.patches, b.patches)).toBe(0);
  });

  it("bad sizes, steps and encodings are typed errors", () => {
    const pre = new ImagePreprocessor(config);
    const ok = image(20, 10, () => [1, 2, 3]);
    const cases: [Partial<ImageLike> | null, string][] = [
      [{ encoding: "yuv422" }, "bad_encoding"],
      [{ encoding: "16UC1" }, "bad_encoding"],
      [{ encoding: undefined as unknown as string }, "bad_encoding"],
      [{ is_bigendian: 2 }, "bad_encoding"],
      [{ width: 0 }, "bad_image_size"],
      [{ width: 20.5 }, "bad_image_size"],
      [{ height: -1 }, "bad_image_size"],
      [{ height: NaN }, "bad_image_size"],
      [{ width: MAX_IMAGE_SIDE + 1, step: (MAX_IMAGE_SIDE + 1) * 3 }, "bad_image_size"],
      [{ step: 59 }, "bad_image_step"],
      [{ step: 60.5 }, "bad_image_step"],
      [{ step: Infinity }, "bad_image_step"],
      [{ data: ok.data.subarray(0, 599) }, "bad_image_size"],
      [{ data: new Uint8Array(601) }, "bad_image_size"],
      [{ data: [1, 2, 3] as unknown as Uint8Array }, "bad_image_size"],
      [{ step: 1 << 30 }, "bad_image_size"],
      [null, "bad_image_size"],
    ];
    for (const [patch, want] of cases) {
      const img = patch === null ? (null as unknown as ImageLike) : { ...ok, ...patch };
      expect(code(() => pre.process(img)), JSON.stringify(patch)).toBe(want);
    }
    // Still usable afterwards.
    pre.process(ok);
    expect(pre.patches[0]).toBeCloseTo(norm(1, 0), 5);
  });

  it("a huge width is refused before anything is sized from it", () => {
    const pre = new ImagePreprocessor(config);
    // A row buffer for 2^30 pixels would be 12 GB: a RangeError, not a typed refusal, if sized first.
    const before = process.memoryUsage().arrayBuffers;
    expect(code(() => pre.process({ width: 2 ** 30, height: 1, encoding: "rgb8", step: 3 * 2 ** 30, data: new Uint8Array(16) }))).toBe("bad_image_size");
    expect(code(() => pre.process({ width: 1, height: 2 ** 40, encoding: "mono8", step: 1, data: new Uint8Array(16) }))).toBe("bad_image_size");
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
  });

  it("fuzz: random headers and buffers are processed to finite patches or refused with a typed error", () => {
    const rand = mulberry32(2024);
    const pre = new ImagePreprocessor(config);
    const encodings = ["rgb8", "bgr8", "rgba8", "bgra8", "mono8", "mono16", "", "RGB8"];
    const bpp: Record<string, number> = { rgb8: 3, bgr8: 3, rgba8: 4, bgra8: 4, mono8: 1 };
    let accepted = 0;
    for (let i = 0; i < 400; i++) {
      const encoding = encodings[Math.floor(rand() * encodings.length)];
      const width = rand() < 0.1 ? Math.floor(rand() * 3) - 1 : 1 + Math.floor(rand() * 90);
      const height = rand() < 0.1 ? Math.floor(rand() * 3) - 1 : 1 + Math.floor(rand() * 90);
      const b = bpp[encoding] ?? 3;
      const step = width * b + Math.floor(rand() * 8) - (rand() < 0.15 ? 5 : 0);
      const len = Math.max(0, step * height - Math.floor(rand() * (rand() < 0.3 ? 40 : 2)) + (rand() < 0.1 ? 3 : 0));
      const data = new Uint8Array(len);
      for (let k = 0; k < len; k++) data[k] = Math.floor(rand() * 256);
      const r = code(() => pre.process({ width, height, encoding, step, data }));
      expect(["accepted", "bad_image_size", "bad_image_step", "bad_encoding"]).toContain(r);
      if (r === "accepted") {
        accepted++;
        expect(pre.patches.every(Number.isFinite)).toBe(true);
        expect(pre.coarsePatches.every(Number.isFinite)).toBe(true);
      }
    }
    expect(accepted).toBeGreaterThan(50);
  });

  describe("equals the straightforward implementation (preprocess_oracle.ts)", () => {
    const bppOf: Record<string, number> = { rgb8: 3, bgr8: 3, rgba8: 4, bgra8: 4, mono8: 1 };
    /** Random bytes everywhere, padding included, so a misplaced read changes the output. */
    function noise(width: number, height: number, encoding: string, pad: number, seed: number): ImageLike {
      const rand = mulberry32(seed);
      const step = width * bppOf[encoding] + pad;
      const data = new Uint8Array(step * height - (seed % 2 === 0 ? pad : 0));
      for (let i = 0; i < data.length; i++) data[i] = Math.floor(rand() * 256);
      return { width, height, encoding, step, data };
    }
    const sizes: [number, number][] = [
      [1, 1], [1, 57], [61, 1], [2, 3], [7, 100], [31, 33], [32, 32], [33, 17], [64, 48], [96, 32],
      [100, 7], [160, 120], [333, 211], [640, 480], [848, 480],
      // Vertical windows of every tap count the fast path specialises (1–8) and past it (9–14, each remainder).
      [40, 72], [50, 90], [90, 80], [21, 140], [23, 150], [19, 160], [27, 175], [25, 190], [26, 200],
    ];
    const odd: BackboneConfig = { ...SMALL_CONFIG, image_size: 30, patch_size: 3 }; // odd patches: a coarse pixel's 2×2 spans fine patches
    const noCoarse: BackboneConfig = { ...SMALL_CONFIG, coarse_to_fine: null };

    for (const [name, cfg] of [["32/8", SMALL_CONFIG], ["30/3", odd], ["32/8 without coarse", noCoarse]] as const) {
      it(`${name}: every size and encoding, one preprocessor reused across sizes, to 1e-5`, () => {
        const fast = new ImagePreprocessor(cfg);
        const ref = new OraclePreprocessor(cfg);
        let seed = 1, worst = 0;
        for (const [w, h] of sizes) {
          for (const enc of Object.keys(bppOf)) {
            const img = noise(w, h, enc, seed % 4, seed++);
            fast.process(img);
            ref.process(img);
            const d = Math.max(maxAbsDiff(fast.patches, ref.patches), maxAbsDiff(fast.coarsePatches, ref.coarsePatches), maxAbsDiff(fast.modelImage(), ref.modelImage()));
            expect(d, `${w}x${h} ${enc}`).toBeLessThanOrEqual(1e-5);
            worst = Math.max(worst, d);
          }
        }
        expect(fast.coarsePatches.length).toBe(cfg.coarse_to_fine ? backboneSizes(cfg).coarsePatches * backboneSizes(cfg).patchDim : 0);
        // Not vacuous: the outputs are not all one value.
        expect(maxAbsDiff(fast.patches, new Float32Array(fast.patches.length).fill(fast.patches[0]))).toBeGreaterThan(0.1);
        expect(worst).toBeLessThanOrEqual(1e-5);
      });
    }

    it("224/16 (the tiny default) on camera sizes: 640x480, 1280x720, 224x224, 848x480, 100x80 upscaled", () => {
      const fast = new ImagePreprocessor(TINY_CONFIG);
      const ref = new OraclePreprocessor(TINY_CONFIG);
      let seed = 100;
      for (const [w, h, enc] of [[640, 480, "rgb8"], [1280, 720, "bgr8"], [224, 224, "rgb8"], [848, 480, "rgba8"], [100, 80, "mono8"], [640, 480, "bgra8"]] as const) {
        const img = noise(w, h, enc, 0, seed++);
        fast.process(img);
        ref.process(img);
        expect(maxAbsDiff(fast.patches, ref.patches), `${w}x${h} ${enc}`).toBeLessThanOrEqual(1e-5);
        expect(maxAbsDiff(fast.coarsePatches, ref.coarsePatches), `${w}x${h} ${enc} coarse`).toBeLessThanOrEqual(1e-5);
      }
    });
  });

  it("allocates no typed array per frame once the input size is known (and does when it changes)", () => {
    const names = ["Float32Array", "Float64Array", "Int32Array", "Uint32Array", "Uint8Array", "Uint16Array", "Int16Array", "Int8Array", "ArrayBuffer"] as const;
    const g = globalThis as unknown as Record<string, unknown>;
    const saved = names.map((n) => g[n]);
    let made = 0;
    const count = (): void => {
      names.forEach((n, i) => {
        g[n] = new Proxy(saved[i] as object, { construct(target, args, nt) { made++; return Reflect.construct(target as new (...a: unknown[]) => object, args, nt); } });
      });
    };
    const restore = (): void => names.forEach((n, i) => { g[n] = saved[i]; });
    const pre = new ImagePreprocessor(TINY_CONFIG);
    const a = image(640, 480, (x, y) => [x % 256, y % 256, (x + y) % 256], 4);
    const b = image(320, 240, (x, y) => [y % 256, x % 256, 7], 0, "bgr8");
    pre.process(a);
    try {
      count();
      for (let i = 0; i < 5; i++) pre.process(a);
      const steady = made;
      pre.process(b); // new size: tables and ring rebuilt
      const onResize = made - steady;
      made = 0;
      for (let i = 0; i < 5; i++) pre.process(b);
      restore();
      expect(steady).toBe(0);
      expect(made).toBe(0);
      expect(onResize).toBeGreaterThan(0); // the counter sees the preprocessor's allocations
    } finally {
      restore();
    }
  });
});

import { describe, expect, it } from "vitest";
import { TINY_CONFIG, type BackboneConfig } from "../../src/backbone/config.js";
import { ImagePreprocessor, type PreprocessKernel } from "../../src/backbone/image_preprocess.js";
import { InvalidInputError } from "../../src/errors.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import type { ImageLike } from "../../src/scene/image.js";
import { SimEnv } from "../../sim/index.js";
import { nativePreprocessKernel } from "../../nodes/backbone/native_preprocess.js";
import { kernelFamily } from "../../nodes/native/kernels_addon.js";
import { NATIVE_TESTS } from "./native_env.js";

/**
 * The native image preprocess kernel (native/src/kernels/image_preprocess.cc) against the
 * TypeScript resize it ports (src/backbone/image_preprocess.ts, the reference): fine and coarse
 * patches bit for bit on simulator frames, random frames of many sizes and every encoding, for
 * several model sizes (224/16 with the coarse scale as shipped, 336/16 without, small ones
 * whose tall or wide inputs reach every vertical tap count 1-40 and both vertical sum forms),
 * on the AVX2 path (where the CPU has it) and the SSE2 one (the kernel's optional last argument).
 */

const SMALL: BackboneConfig = { ...TINY_CONFIG, image_size: 32, patch_size: 8 };
const C336: BackboneConfig = { ...TINY_CONFIG, image_size: 336, patch_size: 16, coarse_to_fine: null };
const C64: BackboneConfig = { ...TINY_CONFIG, image_size: 64, patch_size: 16 };
/** Model sides that are not multiples of 4 (the vector passes' column tails): 30/3 with the coarse scale, 21/7 without. */
const C30: BackboneConfig = { ...TINY_CONFIG, image_size: 30, patch_size: 3 };
const C21: BackboneConfig = { ...TINY_CONFIG, image_size: 21, patch_size: 7, coarse_to_fine: null };
const BPP: Record<string, number> = { rgb8: 3, bgr8: 3, rgba8: 4, bgra8: 4, mono8: 1 };

function noise(width: number, height: number, encoding: string, seed: number, pad = 0): ImageLike {
  const rand = mulberry32(seed);
  const step = width * BPP[encoding] + pad;
  // The last row's padding may be absent (validateCameraImage accepts that length).
  const data = new Uint8Array(step * (height - 1) + width * BPP[encoding]);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(rand() * 256);
  return { width, height, encoding, step, data };
}

/** Elements that differ (bitwise: -0 vs 0 or any rounding counts) and the largest difference. */
function diff(a: Float32Array, b: Float32Array): { unequal: number; max: number } {
  expect(a.length).toBe(b.length);
  let unequal = 0, max = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) {
      unequal++;
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
  }
  return { unequal, max };
}

function pair(config: BackboneConfig, kernel: PreprocessKernel): { ts: ImagePreprocessor; nat: ImagePreprocessor } {
  return { ts: new ImagePreprocessor(config), nat: new ImagePreprocessor(config, kernel) };
}

function expectSame(ts: ImagePreprocessor, nat: ImagePreprocessor, img: ImageLike, what: string): void {
  nat.patches.fill(Number.NaN);
  nat.coarsePatches.fill(Number.NaN);
  ts.process(img);
  nat.process(img);
  expect(diff(nat.patches, ts.patches), `${what}: fine`).toEqual({ unequal: 0, max: 0 });
  expect(diff(nat.coarsePatches, ts.coarsePatches), `${what}: coarse`).toEqual({ unequal: 0, max: 0 });
}

/** The kernel held to its SSE2 path (allowAvx2 false). */
function sse2Kernel(): PreprocessKernel | null {
  type Raw = { resizeToPatches(...args: [...Parameters<PreprocessKernel["resizeToPatches"]>, boolean]): void };
  const raw = kernelFamily<Raw>("image_preprocess", ["resizeToPatches"]);
  return raw ? { resizeToPatches: (...args) => raw.resizeToPatches(...args, false) } : null;
}

describe.skipIf(!NATIVE_TESTS)("native image preprocess kernel", () => {
  it("is in the addon (SPATIAL_REWARD_NATIVE=0 aside)", () => {
    expect(nativePreprocessKernel()).not.toBeNull();
  });

  describe.each([["default (AVX2 where the CPU has it)", nativePreprocessKernel()], ["SSE2", sse2Kernel()]])("%s path", (_, kernel) => {
    it("equals the TypeScript resize bit for bit on simulator frames (224/16 with coarse, 336/16)", () => {
      const env = new SimEnv({ render: true });
      for (const config of [TINY_CONFIG, C336]) {
        const { ts, nat } = pair(config, kernel as PreprocessKernel);
        for (const seed of [7000001, 7000002, 7000003]) {
          const rgb = env.reset(seed).frame?.rgb;
          if (!rgb) throw new Error("SimEnv({ render: true }) gave no rgb frame");
          expectSame(ts, nat, { ...rgb, data: rgb.data.slice() }, `sim seed ${seed} at ${config.image_size}`);
        }
      }
    });

    it("equals it on random frames of odd, small, upscaled and very wide sizes in every encoding", () => {
      const shapes: [number, number][] = [[640, 480], [641, 479], [16, 16], [224, 224], [336, 336], [1, 1], [3, 700], [8192, 9], [1280, 720], [100, 37]];
      const encodings = ["rgb8", "bgr8", "rgba8", "bgra8", "mono8"];
      let seed = 1;
      for (const config of [TINY_CONFIG, C336, C64, C30, C21]) {
        const { ts, nat } = pair(config, kernel as PreprocessKernel);
        for (const [w, h] of shapes) {
          for (const enc of encodings) {
            if (w * h > 640 * 480 && enc !== "rgb8" && enc !== "bgra8") continue; // large ones in two encodings
            expectSame(ts, nat, noise(w, h, enc, seed++, seed % 3), `${w}x${h} ${enc} at ${config.image_size}`);
          }
        }
      }
    });

    it("equals it for every vertical tap count 1-40 (the register sum up to 8 taps, the accumulator beyond) and wide horizontal windows", () => {
      const { ts, nat } = pair(SMALL, kernel as PreprocessKernel);
      const taps = new Set<number>();
      for (let h = 1; h <= 640; h += h < 64 ? 1 : 7) {
        const pre = new ImagePreprocessor(SMALL);
        pre.process(noise(5, h, "rgb8", h));
        taps.add((pre as unknown as { yTable: { taps: number } }).yTable.taps);
        expectSame(ts, nat, noise(37 + (h % 5), h, h % 2 ? "rgb8" : "mono8", 1000 + h), `37x${h}`);
      }
      for (let t = 1; t <= 40; t++) expect(taps.has(t), `vertical taps ${t}`).toBe(true);
      expectSame(ts, nat, noise(8192, 40, "rgb8", 99), "8192x40");
    });

    it("a camera that changes size between frames, and a frame whose row padding is garbage", () => {
      const { ts, nat } = pair(TINY_CONFIG, kernel as PreprocessKernel);
      for (const [w, h] of [[640, 480], [320, 240], [640, 480], [1280, 720]]) expectSame(ts, nat, noise(w, h, "rgb8", w + h, 13), `${w}x${h}`);
    });

  });

  it("refuses arguments that would read or write outside the arrays, as a typed error", () => {
    const k = nativePreprocessKernel() as PreprocessKernel;
    const S = 32, p = 8;
    const xs = new Int32Array(S), xw = new Float32Array(S).fill(1), sc = new Float32Array(3), sh = new Float32Array(3);
    const out = new Float32Array(3 * S * S);
    const call = (data: Uint8Array, yStart: Int32Array, patches: Float32Array): string => {
      try {
        k.resizeToPatches(data, 32, 32, 96, 3, 0, 1, 2, xs, xw, 1, yStart, xw, 1, S, p, sc, sh, patches, new Float32Array(0));
      } catch (e) {
        return e instanceof InvalidInputError ? e.code : `untyped: ${String(e)}`;
      }
      return "accepted";
    };
    const ys = new Int32Array(S).map((_, i) => i);
    expect(call(new Uint8Array(96 * 32), ys, out)).toBe("accepted");
    expect(call(new Uint8Array(96 * 31), ys, out)).toBe("bad_argument");
    expect(call(new Uint8Array(96 * 32), new Int32Array(S).fill(32), out)).toBe("bad_argument");
    expect(call(new Uint8Array(96 * 32), ys, new Float32Array(10))).toBe("bad_argument");
  });
});

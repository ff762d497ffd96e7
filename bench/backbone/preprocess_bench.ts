import { pathToFileURL } from "node:url";
import { TINY_CONFIG, type BackboneConfig } from "../../src/backbone/config.js";
import { ImagePreprocessor } from "../../src/backbone/image_preprocess.js";
import { nativePreprocessKernel } from "../../nodes/backbone/native_preprocess.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import type { ImageLike } from "../../src/scene/image.js";
import { OraclePreprocessor } from "./preprocess_oracle.js";

/**
 * Camera frame → TINY_CONFIG model input (224², 16 px patches: fine [196, 768] and coarse
 * [49, 768]; --image-size 336 gives 336², 16 px patches, no coarse scale) on one core:
 * `ImagePreprocessor.process` on its TypeScript path (new) against the straightforward
 * implementation kept as the test oracle (old), and the native kernel (native/src/kernels/
 * image_preprocess.cc, when the addon is built), side by side in one process. Each frame times
 * all on the same noise image, rotating which goes first, after an untimed warm-up; the
 * figures are medians per frame. `max_abs_diff` is the largest output difference of the last
 * frame from the oracle (the tests hold it to 1e-5); `native_max_abs_diff` the native kernel's
 * from the TypeScript path (the tests hold it to 0).
 */

export interface PreprocessCase {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly encoding: string;
  readonly old_ms_p50: number;
  readonly new_ms_p50: number;
  /** old / new. */
  readonly speedup: number;
  readonly max_abs_diff: number;
  /** The native kernel (null: the addon is not built or SPATIAL_REWARD_NATIVE=0). */
  readonly native_ms_p50: number | null;
  /** new / native. */
  readonly native_speedup: number | null;
  readonly native_max_abs_diff: number | null;
}

export interface PreprocessBenchResult {
  readonly bench: "preprocess";
  readonly image_size: number;
  readonly patch_size: number;
  readonly coarse: boolean;
  readonly frames: number;
  readonly cases: readonly PreprocessCase[];
  readonly node: string;
}

export interface PreprocessBenchOptions {
  /** Timed frames per case (default 200). */
  readonly frames?: number;
  /** Untimed frames per case first (default 30). */
  readonly warmup?: number;
  /** Model image side (default TINY_CONFIG's 224; patch 16, the coarse scale only where the grid is even). */
  readonly imageSize?: number;
}

const BPP: Record<string, number> = { rgb8: 3, bgr8: 3, rgba8: 4, bgra8: 4, mono8: 1 };

function noiseImage(width: number, height: number, encoding: string, seed: number): ImageLike {
  const rand = mulberry32(seed);
  const step = width * BPP[encoding];
  const data = new Uint8Array(step * height);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(rand() * 256);
  return { width, height, encoding, step, data };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function measurePreprocess(opts: PreprocessBenchOptions = {}): PreprocessBenchResult {
  const frames = opts.frames ?? 200;
  const warmup = opts.warmup ?? 30;
  const S = opts.imageSize ?? TINY_CONFIG.image_size;
  const config: BackboneConfig = { ...TINY_CONFIG, image_size: S, coarse_to_fine: S % (2 * TINY_CONFIG.patch_size) === 0 ? TINY_CONFIG.coarse_to_fine : null };
  const kernel = nativePreprocessKernel();
  const shapes: [number, number, string][] = [[640, 480, "rgb8"], [1280, 720, "bgr8"], [224, 224, "rgb8"], [848, 480, "rgb8"]];
  const cases: PreprocessCase[] = [];
  for (const [width, height, encoding] of shapes) {
    const img = noiseImage(width, height, encoding, width * 31 + height);
    const fresh = new ImagePreprocessor(config);
    const old = new OraclePreprocessor(config);
    const nat = kernel ? new ImagePreprocessor(config, kernel) : null;
    for (let i = 0; i < warmup; i++) {
      fresh.process(img);
      old.process(img);
      nat?.process(img);
    }
    const tOld: number[] = [], tNew: number[] = [], tNat: number[] = [];
    const timeOld = (): void => { const t = process.hrtime.bigint(); old.process(img); tOld.push(Number(process.hrtime.bigint() - t) / 1e6); };
    const timeNew = (): void => { const t = process.hrtime.bigint(); fresh.process(img); tNew.push(Number(process.hrtime.bigint() - t) / 1e6); };
    const timeNat = (): void => { if (!nat) return; const t = process.hrtime.bigint(); nat.process(img); tNat.push(Number(process.hrtime.bigint() - t) / 1e6); };
    const order = [timeOld, timeNew, timeNat];
    for (let i = 0; i < frames; i++) {
      for (let k = 0; k < 3; k++) order[(i + k) % 3]();
    }
    const o = median(tOld), n = median(tNew), v = nat ? median(tNat) : null;
    cases.push({
      name: `${width}x${height} ${encoding}`,
      width, height, encoding,
      old_ms_p50: round(o), new_ms_p50: round(n), speedup: round(o / n, 2),
      max_abs_diff: Math.max(maxAbsDiff(fresh.patches, old.patches), maxAbsDiff(fresh.coarsePatches, old.coarsePatches)),
      native_ms_p50: v === null ? null : round(v),
      native_speedup: v === null ? null : round(n / v, 2),
      native_max_abs_diff: nat ? Math.max(maxAbsDiff(nat.patches, fresh.patches), maxAbsDiff(nat.coarsePatches, fresh.coarsePatches)) : null,
    });
  }
  return { bench: "preprocess", image_size: config.image_size, patch_size: config.patch_size, coarse: config.coarse_to_fine !== null, frames, cases, node: process.version };
}

function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string): number | undefined => {
    const i = process.argv.indexOf(`--${name}`);
    if (i < 0 || i + 1 >= process.argv.length) return undefined;
    const n = Number(process.argv[i + 1]);
    if (!Number.isFinite(n) || n < 1) throw new Error(`--${name} must be a positive number`);
    return n;
  };
  console.log(JSON.stringify(measurePreprocess({ frames: arg("frames"), warmup: arg("warmup"), imageSize: arg("image-size") })));
}

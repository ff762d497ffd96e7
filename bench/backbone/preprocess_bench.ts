import { pathToFileURL } from "node:url";
import { TINY_CONFIG } from "../../src/backbone/config.js";
import { ImagePreprocessor } from "../../src/backbone/image_preprocess.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import type { ImageLike } from "../../src/scene/image.js";
import { OraclePreprocessor } from "./preprocess_oracle.js";

/**
 * Camera frame → TINY_CONFIG model input (224², 16 px patches: fine [196, 768] and coarse
 * [49, 768]) on one core: `ImagePreprocessor.process` (new) against the straightforward
 * implementation kept as the test oracle (old), side by side in one process. Each frame times
 * both on the same noise image, alternating which goes first, after an untimed warm-up; the
 * figures are medians per frame. `max_abs_diff` is the largest output difference of the last
 * frame (the tests hold it to 1e-5).
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
  const config = TINY_CONFIG;
  const shapes: [number, number, string][] = [[640, 480, "rgb8"], [1280, 720, "bgr8"], [224, 224, "rgb8"], [848, 480, "rgb8"]];
  const cases: PreprocessCase[] = [];
  for (const [width, height, encoding] of shapes) {
    const img = noiseImage(width, height, encoding, width * 31 + height);
    const fresh = new ImagePreprocessor(config);
    const old = new OraclePreprocessor(config);
    for (let i = 0; i < warmup; i++) {
      fresh.process(img);
      old.process(img);
    }
    const tOld: number[] = [], tNew: number[] = [];
    const timeOld = (): void => { const t = process.hrtime.bigint(); old.process(img); tOld.push(Number(process.hrtime.bigint() - t) / 1e6); };
    const timeNew = (): void => { const t = process.hrtime.bigint(); fresh.process(img); tNew.push(Number(process.hrtime.bigint() - t) / 1e6); };
    for (let i = 0; i < frames; i++) {
      if (i % 2 === 0) { timeOld(); timeNew(); } else { timeNew(); timeOld(); }
    }
    const o = median(tOld), n = median(tNew);
    cases.push({
      name: `${width}x${height} ${encoding}`,
      width, height, encoding,
      old_ms_p50: round(o), new_ms_p50: round(n), speedup: round(o / n, 2),
      max_abs_diff: Math.max(maxAbsDiff(fresh.patches, old.patches), maxAbsDiff(fresh.coarsePatches, old.coarsePatches)),
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
  console.log(JSON.stringify(measurePreprocess({ frames: arg("frames"), warmup: arg("warmup") })));
}

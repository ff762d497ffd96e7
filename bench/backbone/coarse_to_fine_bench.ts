import { pathToFileURL } from "node:url";
import * as ort from "onnxruntime-node";
import { backboneSizes, TINY_CONFIG } from "../../src/backbone/config.js";
import { CoarseToFineSelector, fullImagePool } from "../../src/backbone/coarse_to_fine.js";
import { buildProjectorGraph, buildVisionGraph } from "../../src/backbone/graphs/vision_graphs.js";
import { ImagePreprocessor } from "../../src/backbone/image_preprocess.js";
import { randomWeights } from "../../src/backbone/random_init.js";
import type { ImageLike } from "../../src/scene/image.js";
import { SimEnv } from "../../sim/index.js";

/**
 * Encoder time with and without ScanFormer-style coarse-to-fine on TINY_CONFIG (224 px,
 * 16 px patches: P = 196, coarse 49) with seeded-random weights, one intra-op thread:
 *
 *   full: `vision` on all P patches + `projector` (full-image pool, 49 tokens)
 *   c2f:  `vision_coarse` on the 49 coarse patches + keep scores and selection (TS)
 *         + `vision` on the kept patches + `projector` on their pool (+ 1 merge token)
 *
 * The two paths run alternately on the same preprocessed frames (tabletop scenes rendered by
 * sim/, 640×480 rgb8), so the ratio is measured side by side. Preprocessing is timed apart
 * (it is the same for both paths but for the coarse 2×2 average). Random weights make the
 * selection arbitrary but its cost is that of a trained model: the same shapes and ops.
 */

export interface CoarseToFineBenchOptions {
  /** Timed frames per path (default 40). */
  readonly frames?: number;
  /** Untimed frames per path first (default 5). */
  readonly warmup?: number;
  /** Default: TINY_CONFIG's 0.65. */
  readonly keepRatio?: number;
  readonly seed?: number;
}

export interface CoarseToFineBenchResult {
  readonly kept_fraction: number;
  readonly encoder_ms_full: number;
  readonly encoder_ms_c2f: number;
  readonly visual_tokens_full: number;
  /** Median over frames: pooling cells with a kept patch, plus the merge token. */
  readonly visual_tokens_c2f: number;
  readonly c2f_over_full: number;
  /** Parts of the c2f path (medians): the coarse encoder alone, scoring + selection + gather, the fine encoder + projector on kept patches. */
  readonly c2f_coarse_ms: number;
  readonly c2f_select_ms: number;
  readonly c2f_fine_ms: number;
  /** Camera frame → fine and coarse patches (shared by both paths). */
  readonly preprocess_ms: number;
  readonly keep_ratio: number;
  readonly patches: number;
  readonly kept_patches: number;
  readonly frames: number;
  readonly intra_op_threads: 1;
  readonly weights: "seeded-random";
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;
const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

/** A few rendered tabletop frames (different seeds), copied out of the renderer's reused buffers. */
function renderFrames(seed: number, n: number): ImageLike[] {
  const env = new SimEnv({ render: true });
  const frames: ImageLike[] = [];
  for (let i = 0; i < n; i++) {
    const frame = env.reset(seed + i).frame;
    if (!frame) throw new Error("SimEnv rendered no frame");
    frames.push({ ...frame.rgb, data: frame.rgb.data.slice() });
  }
  return frames;
}

export async function measureCoarseToFine(opts: CoarseToFineBenchOptions = {}): Promise<CoarseToFineBenchResult> {
  const frames = opts.frames ?? 40;
  const warmup = opts.warmup ?? 5;
  const seed = opts.seed ?? 1;
  const keepRatio = opts.keepRatio ?? TINY_CONFIG.coarse_to_fine?.keep_ratio ?? 0.65;
  const config = TINY_CONFIG;
  const s = backboneSizes(config);
  const weights = randomWeights(config, seed);
  const sessionOptions: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential" };
  const vision = await ort.InferenceSession.create(buildVisionGraph(config, weights).toModelBytes(), sessionOptions);
  const coarse = await ort.InferenceSession.create(buildVisionGraph(config, weights, true).toModelBytes(), sessionOptions);
  const projector = await ort.InferenceSession.create(buildProjectorGraph(config, weights).toModelBytes(), sessionOptions);

  const images = renderFrames(seed, 4);
  const pre = new ImagePreprocessor(config);
  const sel = new CoarseToFineSelector(config, weights, keepRatio);
  const K = sel.keptCount;

  // Feeds whose buffers and shapes never change are wrapped once; ORT reads the buffers at run.
  const allPositions = new ort.Tensor("int64", BigInt64Array.from({ length: s.patches }, (_, i) => BigInt(i)), [s.patches]);
  const coarsePositions = new ort.Tensor("int64", BigInt64Array.from({ length: s.coarsePatches }, (_, i) => BigInt(i)), [s.coarsePatches]);
  const finePatches = new ort.Tensor("float32", pre.patches, [1, s.patches, s.patchDim]);
  const coarsePatches = new ort.Tensor("float32", pre.coarsePatches, [1, s.coarsePatches, s.patchDim]);
  const fullPool = new ort.Tensor("float32", fullImagePool(config), [1, s.visualTokens, s.patches]);
  const keptPositions = new ort.Tensor("int64", sel.positions.subarray(0, K), [K]);
  const keptPatches = new ort.Tensor("float32", sel.keptPatches, [1, K, s.patchDim]);

  const runFull = async (): Promise<number> => {
    const t0 = process.hrtime.bigint();
    const f = await vision.run({ patches: finePatches, positions: allPositions });
    await projector.run({ features: f.features, pool: fullPool });
    return ms(t0);
  };
  const parts = { coarse: [] as number[], select: [] as number[], fine: [] as number[], tokens: [] as number[] };
  const runC2f = async (record: boolean): Promise<number> => {
    const t0 = process.hrtime.bigint();
    const c = await coarse.run({ patches: coarsePatches, positions: coarsePositions });
    const t1 = process.hrtime.bigint();
    sel.select(c.features.data as Float32Array);
    sel.gatherPatches(pre.patches);
    const t2 = process.hrtime.bigint();
    const f = await vision.run({ patches: keptPatches, positions: keptPositions });
    const pool = new ort.Tensor("float32", sel.pool.subarray(0, sel.cells * K), [1, sel.cells, K]);
    await projector.run({ features: f.features, pool });
    const total = ms(t0);
    if (record) {
      parts.coarse.push(Number(t1 - t0) / 1e6);
      parts.select.push(Number(t2 - t1) / 1e6);
      parts.fine.push(ms(t2));
      parts.tokens.push(sel.cells + (sel.merged > 0 ? 1 : 0));
    }
    return total;
  };

  const full: number[] = [], c2f: number[] = [], prep: number[] = [];
  for (let i = 0; i < warmup + frames; i++) {
    const t0 = process.hrtime.bigint();
    pre.process(images[i % images.length]);
    const p = ms(t0);
    const timed = i >= warmup;
    // Alternate which path goes first so neither always runs on a warmer cache.
    const order = i % 2 === 0 ? [false, true] : [true, false];
    for (const isC2f of order) {
      const t = isC2f ? await runC2f(timed) : await runFull();
      if (timed) (isC2f ? c2f : full).push(t);
    }
    if (timed) prep.push(p);
  }
  await Promise.all([vision.release(), coarse.release(), projector.release()]);

  const fullMs = median(full), c2fMs = median(c2f);
  return {
    kept_fraction: round(K / s.patches, 4),
    encoder_ms_full: round(fullMs),
    encoder_ms_c2f: round(c2fMs),
    visual_tokens_full: s.visualTokens,
    visual_tokens_c2f: median(parts.tokens),
    c2f_over_full: round(c2fMs / fullMs, 3),
    c2f_coarse_ms: round(median(parts.coarse)),
    c2f_select_ms: round(median(parts.select)),
    c2f_fine_ms: round(median(parts.fine)),
    preprocess_ms: round(median(prep)),
    keep_ratio: keepRatio,
    patches: s.patches,
    kept_patches: K,
    frames,
    intra_op_threads: 1,
    weights: "seeded-random",
  };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const num = (name: string): number | undefined => {
    const v = arg(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${v}`);
    return n;
  };
  measureCoarseToFine({ frames: num("frames"), warmup: num("warmup"), keepRatio: num("keep-ratio"), seed: num("seed") })
    .then((r) => console.log(JSON.stringify(r)))
    .catch((e: unknown) => {
      console.error(e instanceof Error ? e.message : String(e));
      process.exitCode = 1;
    });
}

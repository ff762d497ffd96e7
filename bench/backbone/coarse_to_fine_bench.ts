import { pathToFileURL } from "node:url";
import * as ort from "onnxruntime-node";
import { backboneSizes, TINY_CONFIG } from "../../src/backbone/config.js";
import { coarseDepthOf, CoarseToFineSelector, fullImagePool, layoutC2fTokens } from "../../src/backbone/coarse_to_fine.js";
import { buildCoarseToFineGraph, buildProjectorGraph, buildVisionGraph, buildVisionProjectorGraph } from "../../src/backbone/graphs/vision_graphs.js";
import { ImagePreprocessor } from "../../src/backbone/image_preprocess.js";
import { randomWeights } from "../../src/backbone/random_init.js";
import type { ImageLike } from "../../src/scene/image.js";
import { SimEnv } from "../../sim/index.js";
import { arg, median } from "./bench_stats.js";

/**
 * Encoder time with and without ScanFormer-style coarse-to-fine on TINY_CONFIG (224 px,
 * 16 px patches: P = 196, coarse 49) with seeded-random weights, one intra-op thread. Every
 * variant runs on the same preprocessed frame in one loop, in a rotating order (none always
 * runs on the cache another left), and the figures are medians:
 *
 *   full (headline):  `vision_projector` on all P patches, full-image pool (one run)
 *   full, two runs:   `vision` + `projector` (what the worker's full path runs today)
 *   c2f (headline):   `vision_c2f` (coarse encoder, scores, top-K, kept patches encoded,
 *                     pooled, projected: one run) + laying out the non-empty cells and the
 *                     merge token (TS)
 *   c2f, three runs:  the path before `vision_c2f`: `vision_coarse`, scores and selection in
 *                     TS, `vision` on the kept patches, `projector` on their pool
 *   c2f by depth:     `vision_c2f` with coarse_depth 0, 1, ... (leading blocks per branch at
 *                     the coarse scale; DEFAULT_COARSE_DEPTH is 1, the deepest runs all)
 *   parts:            the c2f stages as separate runs (a fused run cannot be split):
 *                     coarse encoder + scores (`vision_coarse`, TS scores), selection + gather
 *                     (TS), `vision_projector` on the kept patches
 *
 * The full and c2f headlines are each one `run`, so the ratio compares like with like.
 * Preprocessing is timed apart (shared by both paths but for the coarse 2×2 average). Random
 * weights make the selection arbitrary but its cost is that of a trained model: the same
 * shapes and ops.
 */

export interface CoarseToFineBenchOptions {
  /** Timed frames per variant (default 40). */
  readonly frames?: number;
  /** Untimed frames per variant first (default 5). */
  readonly warmup?: number;
  /** Default: TINY_CONFIG's 0.65. */
  readonly keepRatio?: number;
  /** coarse_depth of the headline c2f figure (default: coarseDepthOf(TINY_CONFIG)). */
  readonly coarseDepth?: number;
  readonly seed?: number;
}

export interface CoarseToFineBenchResult {
  readonly kept_fraction: number;
  /** Full path, one run (`vision_projector`). */
  readonly encoder_ms_full: number;
  /** Coarse-to-fine, one run (`vision_c2f`) + token layout. */
  readonly encoder_ms_c2f: number;
  readonly c2f_over_full: number;
  readonly visual_tokens_full: number;
  /** Median over frames: pooling cells with a kept patch, plus the merge token. */
  readonly visual_tokens_c2f: number;
  /** Full path as two runs (`vision` + `projector`), as the worker's full path runs it. */
  readonly encoder_ms_full_two_runs: number;
  /** The three-run path (`vision_coarse`, TS selection, `vision`, `projector`). */
  readonly encoder_ms_c2f_three_runs: number;
  /** `vision_c2f` + layout per coarse_depth (0 … the deepest branch's depth). */
  readonly encoder_ms_c2f_by_coarse_depth: Record<string, number>;
  /** coarse_depth of the headline figure (the deepest branch's depth when all blocks run). */
  readonly coarse_depth: number;
  /** Stages as separate runs (medians): coarse encoder + TS scores, selection + gather, `vision_projector` on the kept patches. */
  readonly c2f_coarse_ms: number;
  readonly c2f_select_ms: number;
  readonly c2f_fine_ms: number;
  /** Laying out the `vision_c2f` tokens (non-empty cells + merge token), inside encoder_ms_c2f. */
  readonly c2f_layout_ms: number;
  /** Camera frame → fine and coarse patches (shared by both paths). */
  readonly preprocess_ms: number;
  readonly keep_ratio: number;
  readonly patches: number;
  readonly kept_patches: number;
  readonly frames: number;
  readonly intra_op_threads: 1;
  readonly weights: "seeded-random";
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
  const d = config.d_model;
  const maxDepth = Math.max(...config.encoders.map((e) => e.depth));
  const headDepth = Math.min(coarseDepthOf(config, opts.coarseDepth), maxDepth);
  const weights = randomWeights(config, seed);
  const sessionOptions: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential" };
  const load = (bytes: Uint8Array): Promise<ort.InferenceSession> => ort.InferenceSession.create(bytes, sessionOptions);
  const vision = await load(buildVisionGraph(config, weights).toModelBytes());
  const coarse = await load(buildVisionGraph(config, weights, true, { coarseDepth: headDepth }).toModelBytes());
  const projector = await load(buildProjectorGraph(config, weights).toModelBytes());
  const visionProjector = await load(buildVisionProjectorGraph(config, weights).toModelBytes());
  const depths = Array.from({ length: maxDepth + 1 }, (_, i) => i);
  const fused = await Promise.all(depths.map((k) => load(buildCoarseToFineGraph(config, weights, { keepRatio, coarseDepth: k }).toModelBytes())));

  const images = renderFrames(seed, 4);
  const pre = new ImagePreprocessor(config);
  const sel = new CoarseToFineSelector(config, weights, keepRatio);
  const K = sel.keptCount;

  // Feeds and fetches whose buffers and shapes never change are wrapped once; ORT reads and
  // writes the buffers at run.
  const f32 = (data: Float32Array, dims: number[]): ort.Tensor => new ort.Tensor("float32", data, dims);
  const allPositions = new ort.Tensor("int64", BigInt64Array.from({ length: s.patches }, (_, i) => BigInt(i)), [s.patches]);
  const coarsePositions = new ort.Tensor("int64", BigInt64Array.from({ length: s.coarsePatches }, (_, i) => BigInt(i)), [s.coarsePatches]);
  const finePatches = f32(pre.patches, [1, s.patches, s.patchDim]);
  const coarsePatches = f32(pre.coarsePatches, [1, s.coarsePatches, s.patchDim]);
  const fullPool = f32(fullImagePool(config), [1, s.visualTokens, s.patches]);
  const keptPositions = new ort.Tensor("int64", sel.positions.subarray(0, K), [K]);
  const keptPatches = f32(sel.keptPatches, [1, K, s.patchDim]);
  const fusedOut = {
    tokens: f32(new Float32Array(s.visualTokens * d), [1, s.visualTokens, d]),
    cell_counts: f32(new Float32Array(s.visualTokens), [1, s.visualTokens]),
    kept: new ort.Tensor("int64", new BigInt64Array(K), [1, K]),
    scores: f32(new Float32Array(s.patches), [1, s.patches]),
  };
  const frameTokens = new Float32Array((s.visualTokens + 1) * d);
  let lastTokens = 0;

  const samples = new Map<string, number[]>();
  const record = (key: string, v: number): void => {
    let a = samples.get(key);
    if (!a) samples.set(key, (a = []));
    a.push(v);
  };
  const variants: [string, (timed: boolean) => Promise<number>][] = [
    ["full", async () => {
      const t0 = process.hrtime.bigint();
      await visionProjector.run({ patches: finePatches, positions: allPositions, pool: fullPool });
      return ms(t0);
    }],
    ["full_two_runs", async () => {
      const t0 = process.hrtime.bigint();
      const f = await vision.run({ patches: finePatches, positions: allPositions });
      await projector.run({ features: f.features, pool: fullPool });
      return ms(t0);
    }],
    ["c2f_three_runs", async () => {
      const t0 = process.hrtime.bigint();
      const c = await coarse.run({ patches: coarsePatches, positions: coarsePositions });
      sel.select(c.features.data as Float32Array);
      sel.gatherPatches(pre.patches);
      const f = await vision.run({ patches: keptPatches, positions: keptPositions });
      const pool = f32(sel.pool.subarray(0, sel.cells * K), [1, sel.cells, K]);
      await projector.run({ features: f.features, pool });
      return ms(t0);
    }],
    ["parts", async (timed) => {
      // The same stages as separate runs, each timed: the breakdown of the fused run.
      const t0 = process.hrtime.bigint();
      const c = await coarse.run({ patches: coarsePatches, positions: coarsePositions });
      const t1 = process.hrtime.bigint();
      sel.select(c.features.data as Float32Array);
      sel.gatherPatches(pre.patches);
      const t2 = process.hrtime.bigint();
      const pool = f32(sel.pool.subarray(0, sel.cells * K), [1, sel.cells, K]);
      await visionProjector.run({ patches: keptPatches, positions: keptPositions, pool });
      if (timed) {
        record("coarse", Number(t1 - t0) / 1e6);
        record("select", Number(t2 - t1) / 1e6);
        record("fine", ms(t2));
      }
      return ms(t0);
    }],
    ...depths.map((k): [string, (timed: boolean) => Promise<number>] => [`c2f_depth_${k}`, async (timed) => {
      const t0 = process.hrtime.bigint();
      await fused[k].run({ patches: finePatches, coarse_patches: coarsePatches }, fusedOut);
      const t1 = process.hrtime.bigint();
      lastTokens = layoutC2fTokens(frameTokens, 0, fusedOut.tokens.data as Float32Array, fusedOut.cell_counts.data as Float32Array, sel.mergeToken, sel.merged);
      if (timed && k === headDepth) {
        record("layout", ms(t1));
        record("tokens", lastTokens);
      }
      return ms(t0);
    }]),
  ];

  const prep: number[] = [];
  for (let i = 0; i < warmup + frames; i++) {
    const t0 = process.hrtime.bigint();
    pre.process(images[i % images.length]);
    const p = ms(t0);
    const timed = i >= warmup;
    for (let j = 0; j < variants.length; j++) {
      const [key, run] = variants[(i + j) % variants.length];
      const t = await run(timed);
      if (timed) record(key, t);
    }
    if (timed) prep.push(p);
  }
  await Promise.all([vision, coarse, projector, visionProjector, ...fused].map((x) => x.release()));

  const med = (key: string): number => median(samples.get(key) ?? [NaN]);
  const fullMs = med("full"), c2fMs = med(`c2f_depth_${headDepth}`);
  return {
    kept_fraction: round(K / s.patches, 4),
    encoder_ms_full: round(fullMs),
    encoder_ms_c2f: round(c2fMs),
    c2f_over_full: round(c2fMs / fullMs, 3),
    visual_tokens_full: s.visualTokens,
    visual_tokens_c2f: med("tokens"),
    encoder_ms_full_two_runs: round(med("full_two_runs")),
    encoder_ms_c2f_three_runs: round(med("c2f_three_runs")),
    encoder_ms_c2f_by_coarse_depth: Object.fromEntries(depths.map((k) => [String(k), round(med(`c2f_depth_${k}`))])),
    coarse_depth: headDepth,
    c2f_coarse_ms: round(med("coarse")),
    c2f_select_ms: round(med("select")),
    c2f_fine_ms: round(med("fine")),
    c2f_layout_ms: round(med("layout"), 4),
    preprocess_ms: round(median(prep)),
    keep_ratio: keepRatio,
    patches: s.patches,
    kept_patches: K,
    frames,
    intra_op_threads: 1,
    weights: "seeded-random",
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const num = (name: string): number | undefined => {
    const v = arg(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${v}`);
    return n;
  };
  measureCoarseToFine({ frames: num("frames"), warmup: num("warmup"), keepRatio: num("keep-ratio"), coarseDepth: num("coarse-depth"), seed: num("seed") })
    .then((r) => console.log(JSON.stringify(r)))
    .catch((e: unknown) => {
      console.error(e instanceof Error ? e.message : String(e));
      process.exitCode = 1;
    });
}

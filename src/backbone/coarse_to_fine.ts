import { InvalidInputError, ModelError } from "../errors.js";
import { backboneSizes, type BackboneConfig, type BackboneSizes } from "./config.js";
import type { Weights } from "./tensor_names.js";
import { LITTLE_ENDIAN_HOST } from "./host_endianness.js";
import { requireWeight } from "./model_weights.js";

/**
 * ScanFormer-style coarse-to-fine selection (models/README.md, "Coarse-to-fine"), pure and
 * allocation-free per frame. From the coarse scale's features it scores every fine patch,
 * keeps the top round(keep_ratio · P), and lays out what the fine `vision` and the `projector`
 * graphs need for the kept patches: sorted grid `positions`, the `pool` matrix (each cell with
 * a kept patch averages its kept patches; empty cells are dropped) and the merge token that
 * stands for the patches not kept.
 *
 * When every patch is kept, positions are 0..P−1, the pool equals `fullImagePool` and no merge
 * token is produced: the tokens are the full path's, so switching coarse-to-fine on at
 * keep_ratio 1 cannot change an answer. (models/README.md says the merge token is appended;
 * with nothing merged there is nothing for it to stand for, so it is omitted.)
 */

/** Optional question term: the question's mean token embedding and the coarse patches' projected tokens. */
export interface QuestionGuide {
  /** [d_model] mean of the question's token embeddings. */
  readonly embedding: Float32Array;
  /** [(G/2)², d_model] the `projector` applied to each coarse patch alone (identity pool). */
  readonly coarseTokens: Float32Array;
}

/** Number of fine patches kept: round(keep_ratio · P), at least 1. */
export function keptPatchCount(patches: number, keepRatio: number): number {
  return Math.min(patches, Math.max(1, Math.round(keepRatio * patches)));
}

/** Fine grid index of child k (row-major 2×2) of coarse patch j on a fine grid of side g. */
export function childFineIndex(j: number, k: number, g: number): number {
  const half = g / 2;
  const cy = Math.floor(j / half), cx = j % half;
  return (2 * cy + (k >> 1)) * g + 2 * cx + (k & 1);
}

/** Pooling cell (row-major on the cell grid) of fine patch i. */
function cellOf(i: number, s: BackboneSizes, pool: number): number {
  const gy = Math.floor(i / s.gridSide), gx = i % s.gridSide;
  return Math.floor(gy / pool) * s.cellSide + Math.floor(gx / pool);
}

/** [P] the pooling cell of every fine patch (what `vision_c2f` pools by). */
export function patchCells(config: BackboneConfig): Int32Array {
  const s = backboneSizes(config);
  const tp = config.projector.token_pool;
  return Int32Array.from({ length: s.patches }, (_, i) => cellOf(i, s, tp));
}

/**
 * Leading blocks per branch the coarse scale runs when `coarse_to_fine.coarse_depth` is not
 * given: 1. At keep_ratio 0.65 the coarse scale (P/4 tokens) plus the kept patches are 0.9 P
 * tokens, so a coarse pass through every block saves nothing: on the tiny default (one
 * thread, interleaved medians) the coarse-to-fine encoder over the full one is ~1.02 at depth
 * 2 (all blocks), ~0.93 at depth 1 and ~0.83 at depth 0. Depth 1 keeps one block of attention
 * among the coarse patches (a keep score that sees the whole scene, not only its own patch)
 * and still saves time; depth 0 (patch embedding and the final LayerNorm only) saves most but
 * scores each patch alone. Which keeps answers unchanged is for the trained model to show.
 */
export const DEFAULT_COARSE_DEPTH = 1;

/**
 * The coarse pass's depth: `override` if given, else `coarse_to_fine.coarse_depth` from the
 * config (read defensively: the field is optional and may not be in the typed config yet),
 * else DEFAULT_COARSE_DEPTH. A non-integer or negative value is a ModelError naming the field.
 * Depths beyond a branch's own are clipped to it by the graph builder.
 */
export function coarseDepthOf(config: BackboneConfig, override?: number): number {
  const section = config.coarse_to_fine as (CoarseToFineConfigLike | null | undefined);
  const v: unknown = override ?? section?.coarse_depth;
  if (v === undefined || v === null) return DEFAULT_COARSE_DEPTH;
  if (typeof v !== "number" || !(v === Infinity || (Number.isInteger(v) && v >= 0))) {
    throw new ModelError("config.json", `coarse_to_fine.coarse_depth must be a whole number >= 0, got ${String(v).slice(0, 80)}`);
  }
  return v;
}

interface CoarseToFineConfigLike {
  readonly coarse_depth?: unknown;
}

/**
 * Lays out one frame's coarse-to-fine visual tokens from a `vision_c2f` output: the rows of
 * `tokens` [cells, d] whose `counts` [cells] are > 0, in cell order, then `mergeToken` when
 * patches were merged (`merged` > 0). Writes into `out` from `offset`; returns the token count.
 */
export function layoutC2fTokens(
  out: Float32Array,
  offset: number,
  tokens: Float32Array,
  counts: Float32Array,
  mergeToken: Float32Array,
  merged: number,
): number {
  const d = mergeToken.length, cells = counts.length;
  let t = 0;
  for (let c = 0; c < cells; c++) {
    if (counts[c] > 0) {
      // An element loop, not set(subarray): a view per cell per frame would be garbage.
      const src = c * d, dst = offset + t * d;
      for (let i = 0; i < d; i++) out[dst + i] = tokens[src + i];
      t++;
    }
  }
  if (merged > 0) out.set(mergeToken, offset + t++ * d);
  return t;
}

/** The full-image `pool` [cells, P]: each row the mean of one token_pool × token_pool cell. */
export function fullImagePool(config: BackboneConfig): Float32Array {
  const s = backboneSizes(config);
  const tp = config.projector.token_pool;
  const out = new Float32Array(s.visualTokens * s.patches);
  const w = 1 / (tp * tp);
  for (let i = 0; i < s.patches; i++) out[cellOf(i, s, tp) * s.patches + i] = w;
  return out;
}

export class CoarseToFineSelector {
  readonly keepRatio: number;
  /** Fine patches kept per frame: round(keep_ratio · P). */
  readonly keptCount: number;
  /** [P] keep score per fine patch, fine-grid order (NaN sanitised to −Infinity), of the last `select`. */
  readonly scores: Float32Array;
  /** Sorted kept grid positions; the first `keptCount` entries are valid (the `positions` feed). */
  readonly positions: BigInt64Array;
  readonly keptIndex: Int32Array;
  /** `pool` [cells, keptCount] row-major in its first cells·keptCount entries (the `pool` feed). */
  readonly pool: Float32Array;
  /** Cells with at least one kept patch after the last `select`. */
  cells = 0;
  /** [cells] which cell of the full grid each pool row is (ascending). */
  readonly cellIndex: Int32Array;
  /** [keptCount, 3p²] the kept fine patches in `positions` order, filled by `gatherPatches` (the `patches` feed). */
  readonly keptPatches: Float32Array;
  /** Patches not kept: P − keptCount. */
  readonly merged: number;
  /** merge_token + (merged / P) · count_embed; meaningful only when `merged` > 0. */
  readonly mergeToken: Float32Array;

  private readonly sizes: BackboneSizes;
  private readonly tokenPool: number;
  private readonly scoreW: Float32Array;
  private readonly scoreB: Float32Array;
  private readonly dModel: number;
  private readonly order: Int32Array;
  private readonly kept: Uint8Array;
  private readonly cellCount: Int32Array;
  private readonly cellRow: Int32Array;
  private readonly positionWords: Int32Array;
  private viewSource: Float32Array | null = null;
  private patchViews: Float32Array[] = [];

  constructor(config: BackboneConfig, weights: Weights, keepRatio = config.coarse_to_fine?.keep_ratio ?? NaN) {
    if (!config.coarse_to_fine) throw new ModelError("config.json", "coarse_to_fine is not configured for this model");
    if (!(keepRatio > 0 && keepRatio <= 1)) throw new InvalidInputError("bad_argument", `keep_ratio must be in (0, 1], got ${keepRatio}`);
    const s = backboneSizes(config);
    this.sizes = s;
    this.tokenPool = config.projector.token_pool;
    this.keepRatio = keepRatio;
    this.dModel = config.d_model;
    this.scoreW = requireWeight(weights, "c2f.score.weight", [4, s.featureWidth]);
    this.scoreB = requireWeight(weights, "c2f.score.bias", [4]);
    const mergeToken = requireWeight(weights, "c2f.merge_token", [config.d_model]);
    const countEmbed = requireWeight(weights, "c2f.count_embed", [config.d_model]);
    const P = s.patches;
    this.keptCount = keptPatchCount(P, keepRatio);
    this.merged = P - this.keptCount;
    // The merge token depends only on the kept count, which the ratio fixes: computed once.
    this.mergeToken = new Float32Array(config.d_model);
    for (let i = 0; i < config.d_model; i++) this.mergeToken[i] = mergeToken[i] + (this.merged / P) * countEmbed[i];
    this.keptPatches = new Float32Array(this.keptCount * s.patchDim);
    this.scores = new Float32Array(P);
    this.positions = new BigInt64Array(P);
    this.positionWords = new Int32Array(this.positions.buffer);
    this.keptIndex = new Int32Array(P);
    this.pool = new Float32Array(s.visualTokens * P);
    this.cellIndex = new Int32Array(s.visualTokens);
    this.order = new Int32Array(P);
    this.kept = new Uint8Array(P);
    this.cellCount = new Int32Array(s.visualTokens);
    this.cellRow = new Int32Array(s.visualTokens);
  }

  /**
   * Scores the fine patches from `coarseFeatures` [(G/2)², C] (one frame's `vision_coarse`
   * output) and an optional question, then selects and lays out the kept patches. Returns this.
   */
  select(coarseFeatures: Float32Array, question?: QuestionGuide): this {
    const s = this.sizes;
    const C = s.featureWidth, Tc = s.coarsePatches, d = this.dModel;
    if (coarseFeatures.length < Tc * C) {
      throw new InvalidInputError("bad_argument", `coarse features hold ${coarseFeatures.length} floats, need ${Tc}x${C}`);
    }
    if (question && (question.embedding.length !== d || question.coarseTokens.length < Tc * d)) {
      throw new InvalidInputError("bad_argument", `question guide must be an embedding [${d}] and coarse tokens [${Tc}, ${d}]`);
    }
    const W = this.scoreW, bias = this.scoreB, scores = this.scores;
    const qScale = 1 / Math.sqrt(d);
    // An all-zero embedding is no question, exactly (as `vision_c2f`'s `question` input).
    let guide: QuestionGuide | undefined;
    if (question) for (let i = 0; i < d && !guide; i++) if (question.embedding[i] !== 0) guide = question;
    for (let j = 0; j < Tc; j++) {
      let q = 0;
      if (guide) {
        const e = guide.embedding, tok = guide.coarseTokens;
        for (let i = 0; i < d; i++) q += e[i] * tok[j * d + i];
        q *= qScale;
      }
      for (let k = 0; k < 4; k++) {
        let v = bias[k] + q;
        for (let c = 0; c < C; c++) v += W[k * C + c] * coarseFeatures[j * C + c];
        scores[childFineIndex(j, k, s.gridSide)] = Number.isNaN(v) ? -Infinity : v;
      }
    }
    this.selectFromScores();
    return this;
  }

  /** Selects from `scores` as they stand (filled by `select`, or by a caller with its own scores). */
  selectFromScores(): this {
    const P = this.sizes.patches, K = this.keptCount;
    const order = this.order, kept = this.kept, scores = this.scores;
    for (let i = 0; i < P; i++) {
      order[i] = i;
      if (Number.isNaN(scores[i])) scores[i] = -Infinity;
    }
    heapSortBestFirst(order, scores);
    kept.fill(0);
    for (let r = 0; r < K; r++) kept[order[r]] = 1;
    // Ascending grid order keeps the kept tokens in raster order, as the full path has them.
    let t = 0;
    for (let i = 0; i < P; i++) {
      if (kept[i]) {
        this.keptIndex[t] = i;
        this.setPosition(t, i);
        t++;
      }
    }
    this.layoutPool();
    return this;
  }

  /** Copies the kept patches of `finePatches` [P, 3p²] (an ImagePreprocessor's `patches`) into `keptPatches`. */
  gatherPatches(finePatches: Float32Array): Float32Array {
    const D = this.sizes.patchDim;
    if (finePatches.length < this.sizes.patches * D) {
      throw new InvalidInputError("bad_argument", `fine patches hold ${finePatches.length} floats, need ${this.sizes.patches}x${D}`);
    }
    // One view per patch, made once per source buffer (the preprocessor's, reused every frame):
    // set() from a view is a memcpy, ~10x faster than an element loop, and allocates nothing.
    if (this.viewSource !== finePatches) {
      this.patchViews = Array.from({ length: this.sizes.patches }, (_, i) => finePatches.subarray(i * D, (i + 1) * D));
      this.viewSource = finePatches;
    }
    for (let t = 0; t < this.keptCount; t++) this.keptPatches.set(this.patchViews[this.keptIndex[t]], t * D);
    return this.keptPatches;
  }

  /** positions[t] = i without creating a BigInt per patch (each would be a heap object). */
  private setPosition(t: number, i: number): void {
    if (LITTLE_ENDIAN_HOST) {
      this.positionWords[2 * t] = i;
      this.positionWords[2 * t + 1] = 0;
    } else {
      this.positions[t] = BigInt(i);
    }
  }

  private layoutPool(): void {
    const s = this.sizes, tp = this.tokenPool, K = this.keptCount;
    const count = this.cellCount, row = this.cellRow;
    count.fill(0);
    for (let t = 0; t < K; t++) count[cellOf(this.keptIndex[t], s, tp)]++;
    let cells = 0;
    for (let c = 0; c < s.visualTokens; c++) {
      if (count[c] > 0) {
        this.cellIndex[cells] = c;
        row[c] = cells++;
      } else {
        row[c] = -1;
      }
    }
    this.cells = cells;
    const pool = this.pool;
    pool.fill(0, 0, cells * K);
    for (let t = 0; t < K; t++) {
      const c = cellOf(this.keptIndex[t], s, tp);
      pool[row[c] * K + t] = 1 / count[c];
    }
  }
}

/**
 * In-place heapsort of `order` so the best patch comes first: higher score, ties to the lower
 * index. The order is total (scores hold no NaN), so the result does not depend on the sort's
 * stability; heapsort is used because Array/TypedArray#sort with a comparator may allocate.
 */
function heapSortBestFirst(order: Int32Array, scores: Float32Array): void {
  const n = order.length;
  for (let i = (n >> 1) - 1; i >= 0; i--) siftDown(order, scores, i, n);
  for (let end = n - 1; end > 0; end--) {
    const tmp = order[0];
    order[0] = order[end];
    order[end] = tmp;
    siftDown(order, scores, 0, end);
  }
}

/** Whether patch a ranks after patch b (lower score, or equal score and higher index). */
function worse(scores: Float32Array, a: number, b: number): boolean {
  return scores[a] < scores[b] || (scores[a] === scores[b] && a > b);
}

/** Max-heap on `worse`: the worst patch of order[start..end) rises to the root. */
function siftDown(order: Int32Array, scores: Float32Array, start: number, end: number): void {
  let root = start;
  for (;;) {
    let child = 2 * root + 1;
    if (child >= end) return;
    if (child + 1 < end && worse(scores, order[child + 1], order[child])) child++;
    if (!worse(scores, order[child], order[root])) return;
    const tmp = order[root];
    order[root] = order[child];
    order[child] = tmp;
    root = child;
  }
}

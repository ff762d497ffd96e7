import { ModelError } from "../../errors.js";
import { backboneSizes, type BackboneConfig, type EncoderBranchConfig } from "../config.js";
import { expectedTensors, type TensorSpec, type Weights } from "../tensor_names.js";
import { float, GraphBuilder, transpose2d } from "../onnx/graph_builder.js";
import { coarseDepthOf, keptPatchCount, patchCells } from "../coarse_to_fine.js";
import { requireWeight } from "../model_weights.js";

/**
 * The vision graphs, built from a config and its weights. models/README.md's graph table:
 *
 *   vision / vision_coarse: `patches` [B, T, 3p²], `positions` int64 [T] → `features` [B, T, C]
 *   projector:              `features` [B, T, C], `pool` [B, cells, T]  → `tokens` [B, cells, d_model]
 *
 * and two fused graphs that spend fewer `run`s (a `vision` run of one token costs ~0.09 ms on
 * the tiny default; for one frame the fused c2f run measured about the same as its stages run
 * apart, but in the worker a whole batch is one run instead of three per member, and no
 * kept patch is copied in JavaScript):
 *
 *   vision_projector: `patches` [B, T, 3p²], `positions` int64 [T], `pool` [B, cells, T]
 *                     → `tokens` [B, cells, d_model]  (vision then projector, one run)
 *   vision_c2f:       `patches` [B, P, 3p²], `coarse_patches` [B, (G/2)², 3p²]
 *                     (+ `question` [B, d_model] when built with `{ question: true }`)
 *                     → `tokens` [B, cells, d_model], `cell_counts` [B, cells],
 *                       `kept` int64 [B, K], `scores` [B, P]
 *     the whole coarse-to-fine encoder in one run: coarse encoder (its first `coarse_depth`
 *     blocks per branch, then the branch's final LayerNorm), `c2f.score` (plus the question
 *     term: each coarse patch's projected token · question / √d_model), top-K kept patches
 *     (K = round(keep_ratio · P); ties to the lower index, NaN scores last, as
 *     CoarseToFineSelector), the kept fine patches gathered and encoded, each cell pooled
 *     over its kept patches, projector. Every cell of the grid gets a row; rows whose
 *     `cell_counts` is 0 are the projector of zero and are dropped by the caller, which also
 *     appends the merge token. `kept` is ascending (raster order), `scores` in fine-grid order.
 *
 * B, T and cells are symbolic, so one session serves the full image (T = P), the coarse scale
 * (T = (G/2)²) and any subset of kept patches: `positions` picks each token's position
 * embedding and attention runs among the tokens given, which is what coarse-to-fine needs.
 * Each branch is a pre-LN ViT (LayerNorm eps 1e-6, GELU in its erf form); branch outputs are
 * concatenated along channels in config order. Attention is onnxruntime's `Attention` contrib
 * kernel (domain com.microsoft): these graphs are built for onnxruntime, not for export.
 */

export const VISION_LN_EPS = 1e-6;
export type VisionGraphKind = "vision" | "vision_coarse" | "projector" | "vision_projector" | "vision_c2f";

const WEIGHTS_FILE = "model.safetensors";

/** The tensors a graph reads, with their shapes (a subset of `expectedTensors`). */
export function visionGraphTensors(config: BackboneConfig, kind: VisionGraphKind): TensorSpec[] {
  const all = expectedTensors(config);
  switch (kind) {
    case "projector":
      return all.filter((t) => t.name.startsWith("projector."));
    case "vision":
    case "vision_coarse": {
      const unused = kind === "vision" ? ".pos_embed_coarse" : ".pos_embed";
      return all.filter((t) => t.name.startsWith("vision.") && !t.name.endsWith(unused));
    }
    case "vision_projector":
      return all.filter((t) => (t.name.startsWith("vision.") && !t.name.endsWith(".pos_embed_coarse")) || t.name.startsWith("projector."));
    case "vision_c2f":
      return all.filter((t) => t.name.startsWith("vision.") || t.name.startsWith("projector.") || t.name.startsWith("c2f.score."));
  }
}

/**
 * Every tensor `kind` reads is present with the size its shape needs (Weights hold flat fp32
 * arrays; their shapes were checked against the file when read). Throws a ModelError naming
 * the tensor.
 */
export function checkVisionWeights(config: BackboneConfig, weights: Weights, kind: VisionGraphKind): void {
  if ((kind === "vision_coarse" || kind === "vision_c2f") && !config.coarse_to_fine) {
    throw new ModelError("config.json", `${kind} needs coarse_to_fine in config.json`);
  }
  for (const spec of visionGraphTensors(config, kind)) {
    const t = weights.get(spec.name);
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (!t) throw new ModelError(WEIGHTS_FILE, `missing; the ${kind} graph needs it with shape [${spec.shape.join(", ")}]`, spec.name);
    if (!(t instanceof Float32Array) || t.length !== n) {
      throw new ModelError(WEIGHTS_FILE, `has ${t.length} values, the ${kind} graph needs shape [${spec.shape.join(", ")}] = ${n}`, spec.name);
    }
  }
}

/**
 * Initializers made once per tensor name, so a graph that runs a layer twice (the coarse and
 * the fine pass of `vision_c2f`) holds one copy of its weights.
 */
class Params {
  private readonly made = new Map<string, string>();
  constructor(readonly g: GraphBuilder, private readonly weights: Weights) {}

  tensor(name: string, dims: readonly number[]): string {
    return this.once(name, () => this.g.initializer(name, requireWeight(this.weights, name, dims), dims));
  }

  /** `${name}.weight` [out, in] stored transposed, [in, out]. */
  weightT(name: string, outDim: number, inDim: number): string {
    return this.once(`${name}.weight_t`, () =>
      this.g.initializer(`${name}.weight_t`, transpose2d(requireWeight(this.weights, `${name}.weight`, [outDim, inDim]), outDim, inDim), [inDim, outDim]));
  }

  /** y = x Wᵀ + b for the PyTorch-layout `${name}.weight` [out, in] (stored transposed) and `${name}.bias`. */
  linear(x: string, name: string, outDim: number, inDim: number): string {
    return this.g.add(this.g.matmul(x, this.weightT(name, outDim, inDim)), this.tensor(`${name}.bias`, [outDim]));
  }

  private once(name: string, make: () => string): string {
    let v = this.made.get(name);
    if (v === undefined) {
      v = make();
      this.made.set(name, v);
    }
    return v;
  }
}

export interface VisionGraphOptions {
  /**
   * `vision_coarse` only: leading blocks per branch run at the coarse scale (clipped to each
   * branch's depth), then the branch's final LayerNorm. Default: `coarseDepthOf(config)`.
   */
  readonly coarseDepth?: number;
}

/** The `vision` graph (fine grid, `pos_embed`) or, with `coarse`, `vision_coarse` (`pos_embed_coarse`). */
export function buildVisionGraph(config: BackboneConfig, weights: Weights, coarse = false, opts: VisionGraphOptions = {}): GraphBuilder {
  const kind: VisionGraphKind = coarse ? "vision_coarse" : "vision";
  checkVisionWeights(config, weights, kind);
  const s = backboneSizes(config);
  const g = new GraphBuilder(kind);
  const p = new Params(g, weights);
  const patches = g.input("patches", "float", ["B", "T", s.patchDim]);
  const positions = g.input("positions", "int64", ["T"]);
  const depth = coarse ? coarseDepthOf(config, opts.coarseDepth) : Infinity;
  const outs = config.encoders.map((e) =>
    vitBranch(p, e, patches, s.patchDim, positionGather(p, e, coarse ? s.coarsePatches : s.patches, coarse, positions), depth));
  g.output("features", "float", ["B", "T", s.featureWidth], g.concat(outs, -1));
  return g;
}

/** The `projector` graph: pool the patch features into cells, then fc2(GELU(fc1(·))). */
export function buildProjectorGraph(config: BackboneConfig, weights: Weights): GraphBuilder {
  checkVisionWeights(config, weights, "projector");
  const s = backboneSizes(config);
  const g = new GraphBuilder("projector");
  const p = new Params(g, weights);
  const features = g.input("features", "float", ["B", "T", s.featureWidth]);
  const pool = g.input("pool", "float", ["B", "cells", "T"]);
  g.output("tokens", "float", ["B", "cells", config.d_model], projector(p, config, g.matmul(pool, features), s.featureWidth));
  return g;
}

/** `vision_projector`: `vision` then `projector` in one run (the full path's two graphs fused). */
export function buildVisionProjectorGraph(config: BackboneConfig, weights: Weights): GraphBuilder {
  checkVisionWeights(config, weights, "vision_projector");
  const s = backboneSizes(config);
  const g = new GraphBuilder("vision_projector");
  const p = new Params(g, weights);
  const patches = g.input("patches", "float", ["B", "T", s.patchDim]);
  const positions = g.input("positions", "int64", ["T"]);
  const pool = g.input("pool", "float", ["B", "cells", "T"]);
  const outs = config.encoders.map((e) => vitBranch(p, e, patches, s.patchDim, positionGather(p, e, s.patches, false, positions), Infinity));
  const features = g.concat(outs, -1);
  g.output("tokens", "float", ["B", "cells", config.d_model], projector(p, config, g.matmul(pool, features), s.featureWidth));
  return g;
}

export interface CoarseToFineGraphOptions {
  /** Default: the config's coarse_to_fine.keep_ratio. */
  readonly keepRatio?: number;
  /** Default: `coarseDepthOf(config)`. */
  readonly coarseDepth?: number;
  /**
   * Adds the input `question` float [B, d_model] (each member's mean question token embedding;
   * an all-zero row means no question). Off by default so a caller that feeds only `patches`
   * and `coarse_patches` keeps working: onnxruntime-node ignores a feed for an input that has
   * a default initializer, so the input cannot be optional inside the graph itself.
   */
  readonly question?: boolean;
}

/** `vision_c2f`: the whole coarse-to-fine encoder in one run (see the file comment). */
export function buildCoarseToFineGraph(config: BackboneConfig, weights: Weights, opts: CoarseToFineGraphOptions = {}): GraphBuilder {
  checkVisionWeights(config, weights, "vision_c2f");
  const keepRatio = opts.keepRatio ?? config.coarse_to_fine?.keep_ratio ?? NaN;
  if (!(keepRatio > 0 && keepRatio <= 1)) throw new ModelError("config.json", `coarse_to_fine.keep_ratio must be in (0, 1], got ${keepRatio}`);
  const depth = coarseDepthOf(config, opts.coarseDepth);
  const s = backboneSizes(config);
  const P = s.patches, Tc = s.coarsePatches, C = s.featureWidth, h = s.coarseGridSide;
  const K = keptPatchCount(P, keepRatio);
  const g = new GraphBuilder("vision_c2f");
  const p = new Params(g, weights);
  const fine = g.input("patches", "float", ["B", P, s.patchDim]);
  const coarse = g.input("coarse_patches", "float", ["B", Tc, s.patchDim]);

  // Coarse scale: every coarse patch at its own position, so the position embedding is added whole.
  const coarseOuts = config.encoders.map((e) =>
    vitBranch(p, e, coarse, s.patchDim, (x) => g.add(x, p.tensor(`vision.${e.name}.pos_embed_coarse`, [Tc, e.width])), depth));
  const coarseFeatures = g.concat(coarseOuts, -1); // [B, Tc, C]

  // Keep scores [B, Tc, 4] → fine-grid order: child k = (dy, dx) of coarse (cy, cx) is fine
  // (2cy + dy, 2cx + dx), i.e. [B, cy, cx, dy, dx] → [B, cy, dy, cx, dx].
  let childScores = p.linear(coarseFeatures, "c2f.score", 4, C);
  if (opts.question) childScores = addQuestionTerm(p, config, coarseFeatures, childScores, C);
  const grid = g.reshape(g.transpose(g.reshape(childScores, [0, h, h, 2, 2]), [0, 1, 3, 2, 4]), [0, P]);
  const scores = g.op("Where", [g.op("IsNaN", [grid]), g.floats(-Infinity), grid]);
  // ORT's TopK breaks ties to the lower index (as CoarseToFineSelector); a second TopK on the
  // indices puts the kept patches in raster order, as the full path has them.
  const [, best] = g.node("TopK", [scores, g.ints([K])], 2, { axis: -1, largest: 1, sorted: 1 });
  const [kept] = g.node("TopK", [best, g.ints([K])], 2, { axis: -1, largest: 0, sorted: 1 });

  const keptPatches = g.op("GatherND", [fine, g.unsqueeze(kept, [2])], { batch_dims: 1 }); // [B, K, 3p²]
  const fineOuts = config.encoders.map((e) =>
    vitBranch(p, e, keptPatches, s.patchDim, (x) => g.add(x, g.op("Gather", [p.tensor(`vision.${e.name}.pos_embed`, [P, e.width]), kept], { axis: 0 })), Infinity));
  const fineFeatures = g.concat(fineOuts, -1); // [B, K, C]

  // pool [B, cells, K]: 1/count where kept patch t lies in cell r; empty cells get a zero row.
  const cellOfPatch = g.constant(BigInt64Array.from(patchCells(config), (c) => BigInt(c)), [P], "cell_of_patch");
  const cellIds = g.unsqueeze(g.op("Gather", [cellOfPatch, kept], { axis: 0 }), [1]); // [B, 1, K]
  const cellRange = g.constant(BigInt64Array.from({ length: s.visualTokens }, (_, i) => BigInt(i)), [s.visualTokens, 1], "cell_range");
  const member = g.op("Cast", [g.op("Equal", [cellIds, cellRange])], { to: 1 }); // [B, cells, K] float
  const counts = g.reduceSum(member, [2], true); // [B, cells, 1]
  const pool = g.op("Div", [member, g.op("Max", [counts, g.floats(1)])]);
  const tokens = projector(p, config, g.matmul(pool, fineFeatures), C);

  g.output("tokens", "float", ["B", s.visualTokens, config.d_model], tokens);
  g.output("cell_counts", "float", ["B", s.visualTokens], g.squeeze(counts, [2]));
  g.output("kept", "int64", ["B", K], kept);
  g.output("scores", "float", ["B", P], scores);
  return g;
}

/**
 * The question term of the keep score (models/README.md, "Coarse-to-fine"): each coarse
 * patch's projected token (the projector on that patch alone) · question / √d_model, added to
 * all four of its children's scores. A member whose question row is all zero keeps its scores
 * bit for bit (a Where, not an add of 0: 0 · a non-finite token would be NaN). A non-finite
 * question makes that member's scores NaN, which rank last, as a non-finite frame's do.
 */
function addQuestionTerm(p: Params, config: BackboneConfig, coarseFeatures: string, childScores: string, C: number): string {
  const g = p.g, d = config.d_model;
  const question = g.input("question", "float", ["B", d]);
  const coarseTokens = projector(p, config, coarseFeatures, C); // [B, Tc, d]
  const dots = g.matmul(coarseTokens, g.unsqueeze(question, [2])); // [B, Tc, 1]
  const term = g.mul(dots, g.floats(1 / Math.sqrt(d)));
  const nonZero = g.op("Cast", [g.op("Not", [g.op("Equal", [question, g.floats(0)])])], { to: 1 });
  const asked = g.unsqueeze(g.op("Greater", [g.reduceSum(nonZero, [1], false), g.floats(0)]), [1, 2]); // [B, 1, 1]
  return g.op("Where", [asked, g.add(childScores, term), childScores]);
}

/** Adds each token's position embedding, picked by the `positions` input. */
function positionGather(p: Params, e: EncoderBranchConfig, gridPatches: number, coarse: boolean, positions: string): (x: string) => string {
  const name = coarse ? `vision.${e.name}.pos_embed_coarse` : `vision.${e.name}.pos_embed`;
  return (x) => p.g.add(x, p.g.op("Gather", [p.tensor(name, [gridPatches, e.width]), positions], { axis: 0 }));
}

function projector(p: Params, config: BackboneConfig, pooled: string, featureWidth: number): string {
  const h = config.projector.hidden;
  const y1 = p.linear(pooled, "projector.fc1", h, featureWidth);
  return p.linear(gelu(p.g, y1), "projector.fc2", config.d_model, h);
}

/** One branch: patch embedding, `addPosition`, the first `depth` blocks (all with Infinity), final LayerNorm. */
function vitBranch(p: Params, e: EncoderBranchConfig, patches: string, patchDim: number, addPosition: (x: string) => string, depth: number): string {
  const g = p.g;
  const v = `vision.${e.name}`;
  const w = e.width;
  // Conv2d [w, 3, p, p] with stride p on a (c, y, x)-flattened patch is the linear [w, 3p²].
  let x = addPosition(p.linear(patches, `${v}.patch_embed`, w, patchDim));
  // The residual stream runs as [B·T, w]: onnxruntime fuses a 2-D MatMul + bias Add into one
  // Gemm (a 3-D one stays two passes); only attention sees [B, T, w]. Measured on the tiny
  // default: −5..9% on both the full and the coarse-to-fine encoder.
  const shape3 = g.op("Shape", [x]);
  x = g.reshape(x, [-1, w]);
  const blocks = Math.min(e.depth, depth);
  for (let i = 0; i < blocks; i++) {
    const k = `${v}.blocks.${i}`;
    const h1 = layerNorm(p, x, `${k}.norm1`, w);
    x = g.add(x, attention(p, h1, shape3, k, w, e.heads));
    const h2 = layerNorm(p, x, `${k}.norm2`, w);
    const hidden = w * e.mlp_ratio;
    const m1 = p.linear(h2, `${k}.mlp.fc1`, hidden, w);
    x = g.add(x, p.linear(gelu(g, m1), `${k}.mlp.fc2`, w, hidden));
  }
  return g.op("Reshape", [layerNorm(p, x, `${v}.norm`, w), shape3]);
}

function layerNorm(p: Params, x: string, name: string, w: number): string {
  return p.g.op("LayerNormalization", [x, p.tensor(`${name}.weight`, [w]), p.tensor(`${name}.bias`, [w])], { axis: -1, epsilon: float(VISION_LN_EPS) });
}

/**
 * Multi-head self-attention over all tokens given (no mask), scale 1/√(w/heads), then the
 * output projection: x [B·T, w] (`shape3` holds [B, T, w]) → [B·T, w]. One onnxruntime
 * `Attention` kernel (com.microsoft; q, k, v packed as the columns of qkv.weightᵀ, which is
 * the stored layout) instead of ~13 reshape/transpose/split nodes per block: −9..12% per
 * encoder run on the tiny default (A/B in one process). The projection runs 2-D (a Gemm).
 */
function attention(p: Params, x: string, shape3: string, k: string, w: number, heads: number): string {
  const g = p.g;
  const wt = p.weightT(`${k}.attn.qkv`, 3 * w, w);
  const [o] = g.node("Attention", [g.op("Reshape", [x, shape3]), wt, p.tensor(`${k}.attn.qkv.bias`, [3 * w])], 1, { num_heads: heads }, "com.microsoft");
  return p.linear(g.reshape(o, [-1, w]), `${k}.attn.proj`, w, w);
}

/**
 * GELU, erf form (opset 17 has no Gelu op): x · 0.5 · (1 + erf(x / √2)), written in the
 * shape onnxruntime's GeluFusion matches (Div by √2, Mul by 0.5 last), so it runs as one
 * Gelu kernel instead of five element-wise passes.
 */
function gelu(g: GraphBuilder, x: string): string {
  const e = g.op("Erf", [g.op("Div", [x, g.floats(Math.SQRT2)])]);
  return g.mul(g.mul(x, g.add(e, g.floats(1))), g.floats(0.5));
}

import { ModelError } from "../../errors.js";
import { backboneSizes, type BackboneConfig, type EncoderBranchConfig } from "../config.js";
import { expectedTensors, type TensorSpec, type Weights } from "../tensor_names.js";
import { float, GraphBuilder } from "../onnx/graph_builder.js";

/**
 * The `vision`, `vision_coarse` and `projector` graphs of models/README.md's graph table,
 * built from a config and its weights:
 *
 *   vision / vision_coarse: `patches` [B, T, 3p²], `positions` int64 [T] → `features` [B, T, C]
 *   projector:              `features` [B, T, C], `pool` [B, cells, T]  → `tokens` [B, cells, d_model]
 *
 * B, T and cells are symbolic, so one session serves the full image (T = P), the coarse scale
 * (T = (G/2)²) and any subset of kept patches: `positions` picks each token's position
 * embedding and attention runs among the tokens given, which is what coarse-to-fine needs.
 * Each branch is a pre-LN ViT (LayerNorm eps 1e-6, GELU in its erf form); branch outputs are
 * concatenated along channels in config order.
 */

export const VISION_LN_EPS = 1e-6;
export type VisionGraphKind = "vision" | "vision_coarse" | "projector";

const WEIGHTS_FILE = "model.safetensors";

/** The tensors a graph reads, with their shapes (a subset of `expectedTensors`). */
export function visionGraphTensors(config: BackboneConfig, kind: VisionGraphKind): TensorSpec[] {
  const all = expectedTensors(config);
  if (kind === "projector") return all.filter((t) => t.name.startsWith("projector."));
  const unused = kind === "vision" ? ".pos_embed_coarse" : ".pos_embed";
  return all.filter((t) => t.name.startsWith("vision.") && !t.name.endsWith(unused));
}

/**
 * Every tensor `kind` reads is present with the size its shape needs (Weights hold flat fp32
 * arrays; their shapes were checked against the file when read). Throws a ModelError naming
 * the tensor.
 */
export function checkVisionWeights(config: BackboneConfig, weights: Weights, kind: VisionGraphKind): void {
  if (kind === "vision_coarse" && !config.coarse_to_fine) {
    throw new ModelError("config.json", "vision_coarse needs coarse_to_fine in config.json");
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

function tensor(weights: Weights, name: string): Float32Array {
  const t = weights.get(name);
  if (!t) throw new ModelError(WEIGHTS_FILE, "missing", name);
  return t;
}

/** The `vision` graph (fine grid, `pos_embed`) or, with `coarse`, `vision_coarse` (`pos_embed_coarse`). */
export function buildVisionGraph(config: BackboneConfig, weights: Weights, coarse = false): GraphBuilder {
  const kind: VisionGraphKind = coarse ? "vision_coarse" : "vision";
  checkVisionWeights(config, weights, kind);
  const s = backboneSizes(config);
  const g = new GraphBuilder(kind);
  const patches = g.input("patches", "float", ["B", "T", s.patchDim]);
  const positions = g.input("positions", "int64", ["T"]);
  const outs = config.encoders.map((e) => vitBranch(g, e, weights, patches, positions, s.patchDim, coarse ? s.coarsePatches : s.patches, coarse));
  g.output("features", "float", ["B", "T", s.featureWidth], g.concat(outs, -1));
  return g;
}

/** The `projector` graph: pool the patch features into cells, then fc2(GELU(fc1(·))). */
export function buildProjectorGraph(config: BackboneConfig, weights: Weights): GraphBuilder {
  checkVisionWeights(config, weights, "projector");
  const s = backboneSizes(config);
  const g = new GraphBuilder("projector");
  const features = g.input("features", "float", ["B", "T", s.featureWidth]);
  const pool = g.input("pool", "float", ["B", "cells", "T"]);
  const pooled = g.matmul(pool, features);
  const h = config.projector.hidden;
  const y1 = g.linear(pooled, "projector.fc1", tensor(weights, "projector.fc1.weight"), h, s.featureWidth, tensor(weights, "projector.fc1.bias"));
  const y2 = g.linear(gelu(g, y1), "projector.fc2", tensor(weights, "projector.fc2.weight"), config.d_model, h, tensor(weights, "projector.fc2.bias"));
  g.output("tokens", "float", ["B", "cells", config.d_model], y2);
  return g;
}

function vitBranch(
  g: GraphBuilder,
  e: EncoderBranchConfig,
  weights: Weights,
  patches: string,
  positions: string,
  patchDim: number,
  gridPatches: number,
  coarse: boolean,
): string {
  const v = `vision.${e.name}`;
  const w = e.width;
  // Conv2d [w, 3, p, p] with stride p on a (c, y, x)-flattened patch is the linear [w, 3p²].
  let x = g.linear(patches, `${v}.patch_embed`, tensor(weights, `${v}.patch_embed.weight`), w, patchDim, tensor(weights, `${v}.patch_embed.bias`));
  const peName = coarse ? `${v}.pos_embed_coarse` : `${v}.pos_embed`;
  const pe = g.initializer(peName, tensor(weights, peName), [gridPatches, w]);
  x = g.add(x, g.op("Gather", [pe, positions], { axis: 0 }));
  for (let i = 0; i < e.depth; i++) {
    const k = `${v}.blocks.${i}`;
    const h1 = layerNorm(g, x, `${k}.norm1`, weights, w);
    x = g.add(x, attention(g, h1, k, weights, w, e.heads));
    const h2 = layerNorm(g, x, `${k}.norm2`, weights, w);
    const hidden = w * e.mlp_ratio;
    const m1 = g.linear(h2, `${k}.mlp.fc1`, tensor(weights, `${k}.mlp.fc1.weight`), hidden, w, tensor(weights, `${k}.mlp.fc1.bias`));
    x = g.add(x, g.linear(gelu(g, m1), `${k}.mlp.fc2`, tensor(weights, `${k}.mlp.fc2.weight`), w, hidden, tensor(weights, `${k}.mlp.fc2.bias`)));
  }
  return layerNorm(g, x, `${v}.norm`, weights, w);
}

function layerNorm(g: GraphBuilder, x: string, name: string, weights: Weights, w: number): string {
  const scale = g.initializer(`${name}.weight`, tensor(weights, `${name}.weight`), [w]);
  const bias = g.initializer(`${name}.bias`, tensor(weights, `${name}.bias`), [w]);
  return g.op("LayerNormalization", [x, scale, bias], { axis: -1, epsilon: float(VISION_LN_EPS) });
}

/** Multi-head self-attention over all tokens given (no mask), then the output projection. */
function attention(g: GraphBuilder, x: string, k: string, weights: Weights, w: number, heads: number): string {
  const dh = w / heads;
  const qkv = g.linear(x, `${k}.attn.qkv`, tensor(weights, `${k}.attn.qkv.weight`), 3 * w, w, tensor(weights, `${k}.attn.qkv.bias`));
  // [B, T, 3w] → [B, T, 3, H, dh] → [3, B, H, T, dh]; 0 in Reshape keeps B and T symbolic.
  const split = g.transpose(g.reshape(qkv, [0, 0, 3, heads, dh]), [2, 0, 3, 1, 4]);
  const q = g.mul(g.pick(split, 0, 0), g.floats(1 / Math.sqrt(dh)));
  const kT = g.transpose(g.pick(split, 0, 1), [0, 1, 3, 2]);
  const val = g.pick(split, 0, 2);
  const att = g.op("Softmax", [g.matmul(q, kT)], { axis: -1 });
  const o = g.reshape(g.transpose(g.matmul(att, val), [0, 2, 1, 3]), [0, 0, w]);
  return g.linear(o, `${k}.attn.proj`, tensor(weights, `${k}.attn.proj.weight`), w, w, tensor(weights, `${k}.attn.proj.bias`));
}

/** GELU, erf form (opset 17 has no Gelu op): 0.5 · x · (1 + erf(x / √2)). */
function gelu(g: GraphBuilder, x: string): string {
  const e = g.op("Erf", [g.mul(x, g.floats(Math.SQRT1_2))]);
  return g.mul(g.mul(x, g.floats(0.5)), g.add(e, g.floats(1)));
}

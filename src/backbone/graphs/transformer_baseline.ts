import { backboneSizes, type BackboneConfig } from "../config.js";
import { ModelError } from "../../errors.js";
import { mulberry32 } from "../../random/mulberry32.js";
import { GraphBuilder, SLICE_END } from "../onnx/graph_builder.js";
import { requireWeight } from "../model_weights.js";

/**
 * The like-for-like baseline for the per-token benchmark: a pre-norm decoder with a KV cache,
 * the same d_model and n_layer as the Mamba model and (as near as integers allow) the same
 * parameters per layer, built by the same builder and run by the same ORT session options.
 * Layer: x += o(MHA(rms(x))), x += down(silu(gate(rms(x))) · up(rms(x))); heads = d_model / 64
 * (at least 1), no position encoding (for one token RoPE is O(d_model), nothing next to the
 * attention over the cache that the benchmark is about). Its weights are seeded here; they are
 * not part of a model folder.
 */

export interface TransformerDims {
  readonly dModel: number;
  readonly nLayer: number;
  readonly heads: number;
  readonly headDim: number;
  /** SiLU-gated MLP width, chosen so a layer has the Mamba layer's parameter count. */
  readonly mlpWidth: number;
  readonly normEps: number;
}

/** Parameters of one Mamba layer (mixer + its RMSNorm), as in tensor_names.ts. */
export function mambaLayerParams(c: BackboneConfig): number {
  const D = c.d_model;
  const E = backboneSizes(c).dInner;
  const { d_conv: K, d_state: N, dt_rank: R } = c;
  return 2 * E * D + E * K + E + (R + 2 * N) * E + E * R + E + E * N + E + D * E + D;
}

export function transformerLayerParams(d: TransformerDims): number {
  return 2 * d.dModel + 4 * d.dModel * d.dModel + 3 * d.dModel * d.mlpWidth;
}

export function transformerDims(c: BackboneConfig): TransformerDims {
  const D = c.d_model;
  const heads = Math.max(1, Math.floor(D / 64));
  if (D % heads !== 0) throw new ModelError("config.json", `d_model ${D} is not a multiple of the baseline's ${heads} heads`);
  const mlpWidth = Math.max(1, Math.round((mambaLayerParams(c) - 2 * D - 4 * D * D) / (3 * D)));
  return { dModel: D, nLayer: c.n_layer, heads, headDim: D / heads, mlpWidth, normEps: c.norm_eps };
}

/** Tensor names and shapes of the baseline ([out, in] linears like the Mamba model). */
export function transformerTensors(d: TransformerDims): { name: string; shape: number[] }[] {
  const out: { name: string; shape: number[] }[] = [];
  const D = d.dModel;
  for (let i = 0; i < d.nLayer; i++) {
    const p = `layers.${i}`;
    out.push({ name: `${p}.attn_norm.weight`, shape: [D] });
    for (const m of ["q", "k", "v", "o"]) out.push({ name: `${p}.attn.${m}.weight`, shape: [D, D] });
    out.push({ name: `${p}.mlp_norm.weight`, shape: [D] });
    out.push({ name: `${p}.mlp.gate.weight`, shape: [d.mlpWidth, D] });
    out.push({ name: `${p}.mlp.up.weight`, shape: [d.mlpWidth, D] });
    out.push({ name: `${p}.mlp.down.weight`, shape: [D, d.mlpWidth] });
  }
  out.push({ name: "norm_f.weight", shape: [D] });
  return out;
}

/** GPT-2-style seeded init: N(0, 0.02), residual projections divided by √(2L), norms 1. */
export function transformerWeights(d: TransformerDims, seed: number): Map<string, Float32Array> {
  const rand = mulberry32(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const w = new Map<string, Float32Array>();
  for (const t of transformerTensors(d)) {
    const a = new Float32Array(t.shape.reduce((x, y) => x * y, 1));
    if (t.name.endsWith("norm.weight") || t.name === "norm_f.weight") a.fill(1);
    else {
      const std = t.name.endsWith(".o.weight") || t.name.endsWith(".down.weight") ? 0.02 / Math.sqrt(2 * d.nLayer) : 0.02;
      for (let i = 0; i < a.length; i++) a[i] = gauss() * std;
    }
    w.set(t.name, a);
  }
  return w;
}

/** Where a missing baseline tensor is said to come from: its weights are seeded, not a file. */
export const BASELINE_WEIGHTS = "transformer baseline";

export interface TransformerStepOptions {
  /**
   * "stacked" (default, the documented form): past_keys / past_values [L, B, H, S, dh], one
   * input each, sliced per layer inside the graph (a copy of that layer's cache per run).
   * "per_layer": past_keys.<l> / past_values.<l> [B, H, S, dh], read in place: what a real
   * KV-cache runtime does, so the baseline pays no copy the SSM does not.
   */
  readonly cacheInputs?: "stacked" | "per_layer";
}

/**
 * `transformer_step`: embeds [B, D] + the cache → hidden [B, D] (after norm_f) and this token's
 * keys/values [L, B, H, 1, dh] for the caller to append. Attention covers past ∪ new without
 * concatenating the cache: scores for the past (q·Kᵀ) and the new token are concatenated
 * ([B, H, 1, S+1], small), softmaxed, and split again, so the cache is only read.
 */
export function buildTransformerStep(d: TransformerDims, w: ReadonlyMap<string, Float32Array>, opts: TransformerStepOptions = {}): Uint8Array {
  const { dModel: D, heads: H, headDim: dh, mlpWidth: F, nLayer: L } = d;
  const g = new GraphBuilder("transformer_step");
  let x = g.input("embeds", "float", ["B", D]);
  const stacked = (opts.cacheInputs ?? "stacked") === "stacked";
  const pastK = stacked ? g.input("past_keys", "float", [L, "B", H, "S", dh]) : "";
  const pastV = stacked ? g.input("past_values", "float", [L, "B", H, "S", dh]) : "";
  const newKs: string[] = [];
  const newVs: string[] = [];
  const scale = g.floats(1 / Math.sqrt(dh));
  for (let i = 0; i < L; i++) {
    const p = `layers.${i}`;
    const pk = stacked ? g.pick(pastK, 0, i) : g.input(`past_keys.${i}`, "float", ["B", H, "S", dh]);
    const pv = stacked ? g.pick(pastV, 0, i) : g.input(`past_values.${i}`, "float", ["B", H, "S", dh]);
    const h = g.rmsNorm(x, `${p}.attn_norm`, requireWeight(w, `${p}.attn_norm.weight`, [D], BASELINE_WEIGHTS), d.normEps);
    const heads = (name: string): string => g.reshape(g.linear(h, `${p}.attn.${name}`, requireWeight(w, `${p}.attn.${name}.weight`, [D, D], BASELINE_WEIGHTS), D, D), [0, H, 1, dh]);
    const q = g.mul(heads("q"), scale); // [B, H, 1, dh]
    const k = heads("k");
    const v = heads("v");
    // ORT fuses Transpose + MatMul (transB), so Kᵀ is never materialised.
    const sPast = g.matmul(q, g.transpose(pk, [0, 1, 3, 2])); // [B, H, 1, S]
    const sNew = g.reduceSum(g.mul(q, k), [3], true); // [B, H, 1, 1]
    const probs = g.op("Softmax", [g.concat([sPast, sNew], 3)], { axis: 3 });
    const attn = g.add(g.matmul(g.slice(probs, 3, 0, -1), pv), g.mul(g.slice(probs, 3, -1, SLICE_END), v)); // [B, H, 1, dh]
    x = g.add(x, g.linear(g.reshape(attn, [0, D]), `${p}.attn.o`, requireWeight(w, `${p}.attn.o.weight`, [D, D], BASELINE_WEIGHTS), D, D));
    const h2 = g.rmsNorm(x, `${p}.mlp_norm`, requireWeight(w, `${p}.mlp_norm.weight`, [D], BASELINE_WEIGHTS), d.normEps);
    const gate = g.silu(g.linear(h2, `${p}.mlp.gate`, requireWeight(w, `${p}.mlp.gate.weight`, [F, D], BASELINE_WEIGHTS), F, D));
    const up = g.linear(h2, `${p}.mlp.up`, requireWeight(w, `${p}.mlp.up.weight`, [F, D], BASELINE_WEIGHTS), F, D);
    x = g.add(x, g.linear(g.mul(gate, up), `${p}.mlp.down`, requireWeight(w, `${p}.mlp.down.weight`, [D, F], BASELINE_WEIGHTS), D, F));
    newKs.push(g.unsqueeze(k, [0]));
    newVs.push(g.unsqueeze(v, [0]));
  }
  g.output("hidden", "float", ["B", D], g.rmsNorm(x, "norm_f", requireWeight(w, "norm_f.weight", [D], BASELINE_WEIGHTS), d.normEps));
  g.output("new_keys", "float", [L, "B", H, 1, dh], g.concat(newKs, 0));
  g.output("new_values", "float", [L, "B", H, 1, dh], g.concat(newVs, 0));
  return g.toModelBytes();
}

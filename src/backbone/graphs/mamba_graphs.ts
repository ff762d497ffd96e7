import { backboneSizes, type BackboneConfig } from "../config.js";
import { requireWeight } from "../model_weights.js";
import type { Weights } from "../tensor_names.js";
import { GraphBuilder, SLICE_END, transpose2d } from "../onnx/graph_builder.js";

/**
 * The Mamba language-model graphs of models/README.md ("Graphs"): `mamba_step`,
 * `mamba_prefill`, `lm_head` and `decode`, built from a config and its weights. States are
 * batch-major, [B, L, E, d_conv] and [B, L, E, d_state], so a run of consecutive arena slots is
 * fed as is. B and T are symbolic: one session serves any batch and chunk length.
 */

/** One layer's weights, split the way the graphs use them (views, no copies). */
interface LayerWeights {
  readonly prefix: string;
  readonly norm: Float32Array;
  /** in_proj rows 0..E-1 (x) and E..2E-1 (z): two MatMuls instead of one plus a split. */
  readonly inX: Float32Array;
  readonly inZ: Float32Array;
  /** conv1d.weight [E, 1, K] read as [E, K]. */
  readonly convW: Float32Array;
  readonly convB: Float32Array;
  /** x_proj rows split as (δ, B, C) = [dt_rank, d_state, d_state]. */
  readonly xDelta: Float32Array;
  readonly xB: Float32Array;
  readonly xC: Float32Array;
  readonly dtW: Float32Array;
  readonly dtB: Float32Array;
  /** A = −exp(A_log), computed once at build time. */
  readonly A: Float32Array;
  readonly D: Float32Array;
  readonly outProj: Float32Array;
}

interface Dims {
  readonly D: number;
  readonly E: number;
  readonly K: number;
  readonly N: number;
  readonly R: number;
  readonly L: number;
  readonly V: number;
}

function dims(c: BackboneConfig): Dims {
  return { D: c.d_model, E: backboneSizes(c).dInner, K: c.d_conv, N: c.d_state, R: c.dt_rank, L: c.n_layer, V: c.vocab_size };
}

function layerWeights(c: BackboneConfig, w: Weights, i: number): LayerWeights {
  const { D, E, K, N, R } = dims(c);
  const m = `backbone.layers.${i}.mixer`;
  const inProj = requireWeight(w, `${m}.in_proj.weight`, [2 * E, D]);
  const xProj = requireWeight(w, `${m}.x_proj.weight`, [R + 2 * N, E]);
  const aLog = requireWeight(w, `${m}.A_log`, [E, N]);
  return {
    prefix: `layers.${i}`,
    norm: requireWeight(w, `backbone.layers.${i}.norm.weight`, [D]),
    inX: inProj.subarray(0, E * D),
    inZ: inProj.subarray(E * D),
    convW: requireWeight(w, `${m}.conv1d.weight`, [E, 1, K]),
    convB: requireWeight(w, `${m}.conv1d.bias`, [E]),
    xDelta: xProj.subarray(0, R * E),
    xB: xProj.subarray(R * E, (R + N) * E),
    xC: xProj.subarray((R + N) * E),
    dtW: requireWeight(w, `${m}.dt_proj.weight`, [E, R]),
    dtB: requireWeight(w, `${m}.dt_proj.bias`, [E]),
    A: Float32Array.from(aLog, (v) => -Math.exp(v)),
    D: requireWeight(w, `${m}.D`, [E]),
    outProj: requireWeight(w, `${m}.out_proj.weight`, [D, E]),
  };
}

function allLayers(c: BackboneConfig, w: Weights): LayerWeights[] {
  return Array.from({ length: c.n_layer }, (_, i) => layerWeights(c, w, i));
}

/** The head's matrix: lm_head.weight, or the embeddings when tied. */
function headWeight(c: BackboneConfig, w: Weights): { name: string; data: Float32Array } {
  const name = c.tie_embeddings ? "backbone.embeddings.weight" : "lm_head.weight";
  return { name, data: requireWeight(w, name, [c.vocab_size, c.d_model]) };
}

/**
 * The part of a layer after the depthwise conv, shared by step ([B, *]) and prefill
 * ([T, B, *]): x_proj, Δ, the discretised A and B·x. `rank` is the rank of x (2 or 3).
 */
function selectiveInputs(g: GraphBuilder, lw: LayerWeights, d: Dims, xc: string, rank: number): { dt: string; dA: string; dBx: string; Cm: string } {
  const p = lw.prefix;
  const delta = g.linear(xc, `${p}.x_proj_dt`, lw.xDelta, d.R, d.E);
  const dt = softplus(g, g.linear(delta, `${p}.dt_proj`, lw.dtW, d.E, d.R, lw.dtB));
  const Bm = g.linear(xc, `${p}.x_proj_B`, lw.xB, d.N, d.E);
  const Cm = g.linear(xc, `${p}.x_proj_C`, lw.xC, d.N, d.E);
  const A = g.initializer(`${p}.A`, lw.A, [d.E, d.N]);
  // Δ ⊗ A and (Δ·x) ⊗ B as broadcasts over a new last axis (state) and the E axis.
  const dA = g.op("Exp", [g.mul(g.unsqueeze(dt, [rank]), A)]);
  const dBx = g.mul(g.unsqueeze(g.mul(dt, xc), [rank]), g.unsqueeze(Bm, [rank - 1]));
  return { dt, dA, dBx, Cm };
}

/**
 * softplus(v) = max(v, 0) + log(1 + exp(−|v|)): stable for any v, and built from ops ORT's CPU
 * EP vectorises (its Softplus kernel is scalar: it was 8% of a 49-token prefill).
 */
function softplus(g: GraphBuilder, v: string): string {
  const e = g.op("Exp", [g.op("Neg", [g.op("Abs", [v])])]);
  return g.add(g.op("Relu", [v]), g.op("Log", [g.add(e, g.floats(1))]));
}

/** y = (ssm·C + D·x) · silu(z); residual + out_proj(y). */
function layerOutput(g: GraphBuilder, lw: LayerWeights, d: Dims, residual: string, states: string, Cm: string, xc: string, z: string, rank: number): string {
  const yC = g.reduceSum(g.mul(states, g.unsqueeze(Cm, [rank - 1])), [rank], false);
  return layerOutputFromRead(g, lw, d, residual, yC, xc, z);
}

/** layerOutput given the read-out yC = ssm·C already reduced over the state axis. */
function layerOutputFromRead(g: GraphBuilder, lw: LayerWeights, d: Dims, residual: string, yC: string, xc: string, z: string): string {
  const p = lw.prefix;
  const y = g.add(yC, g.mul(xc, g.initializer(`${p}.D`, lw.D, [d.E])));
  const gated = g.mul(y, g.silu(z));
  return g.add(residual, g.linear(gated, `${p}.out_proj`, lw.outProj, d.D, d.E));
}

interface StepOut {
  readonly residual: string;
  readonly convOut: string;
  readonly ssmOut: string;
}

/**
 * mamba_ssm's `Mamba.step` for every layer, from `embeds` [B, D] and the batch-major state
 * inputs; returns the final residual (before norm_f) and the stacked new states.
 */
function stepLayers(g: GraphBuilder, c: BackboneConfig, layers: LayerWeights[], embeds: string, convState: string, ssmState: string): StepOut {
  const d = dims(c);
  let residual = embeds;
  const convOuts: string[] = [];
  const ssmOuts: string[] = [];
  layers.forEach((lw, i) => {
    const p = lw.prefix;
    const h = g.rmsNorm(residual, `${p}.norm`, lw.norm, c.norm_eps);
    const x = g.linear(h, `${p}.in_proj_x`, lw.inX, d.E, d.D);
    const z = g.linear(h, `${p}.in_proj_z`, lw.inZ, d.E, d.D);
    // Roll the conv window left and append x: the window is the last d_conv inputs.
    const cs = g.pick(convState, 1, i);
    const window = g.concat([g.slice(cs, 2, 1, SLICE_END), g.unsqueeze(x, [2])], 2);
    const convW = g.initializer(`${p}.conv_w`, lw.convW, [d.E, d.K]);
    const conv = g.add(g.reduceSum(g.mul(window, convW), [2], false), g.initializer(`${p}.conv_b`, lw.convB, [d.E]));
    const xc = g.silu(conv);
    const { dA, dBx, Cm } = selectiveInputs(g, lw, d, xc, 2);
    const ssm = g.add(g.mul(dA, g.pick(ssmState, 1, i)), dBx);
    residual = layerOutput(g, lw, d, residual, ssm, Cm, xc, z, 2);
    convOuts.push(g.unsqueeze(window, [1]));
    ssmOuts.push(g.unsqueeze(ssm, [1]));
  });
  return { residual, convOut: g.concat(convOuts, 1), ssmOut: g.concat(ssmOuts, 1) };
}

function stateInputs(g: GraphBuilder, d: Dims): { conv: string; ssm: string } {
  return {
    conv: g.input("conv_state", "float", ["B", d.L, d.E, d.K]),
    ssm: g.input("ssm_state", "float", ["B", d.L, d.E, d.N]),
  };
}

function stateOutputs(g: GraphBuilder, d: Dims, conv: string, ssm: string): void {
  g.output("conv_state_out", "float", ["B", d.L, d.E, d.K], conv);
  g.output("ssm_state_out", "float", ["B", d.L, d.E, d.N], ssm);
}

function normF(g: GraphBuilder, c: BackboneConfig, w: Weights, x: string): string {
  return g.rmsNorm(x, "norm_f", requireWeight(w, "backbone.norm_f.weight", [c.d_model]), c.norm_eps);
}

/** `mamba_step`: embeds [B, D] + states → hidden [B, D] (after norm_f) + new states. */
export function buildMambaStep(c: BackboneConfig, w: Weights): Uint8Array {
  const d = dims(c);
  const layers = allLayers(c, w);
  const g = new GraphBuilder("mamba_step");
  const embeds = g.input("embeds", "float", ["B", d.D]);
  const s = stateInputs(g, d);
  const out = stepLayers(g, c, layers, embeds, s.conv, s.ssm);
  g.output("hidden", "float", ["B", d.D], normF(g, c, w, out.residual));
  stateOutputs(g, d, out.convOut, out.ssmOut);
  return g.toModelBytes();
}

export interface PrefillOptions {
  /**
   * How the causal depthwise conv is written: "slices" (d_conv shifted slices times a weight
   * column, summed; stays in [B, T, E]) or "conv" (ONNX Conv with group = E over [B, E, T],
   * two transposes). Default "slices": measured faster on ORT's CPU EP (see the bench note).
   */
  readonly convForm?: "slices" | "conv";
  /**
   * How h_t = dA_t·h_{t−1} + dBx_t runs over the chunk: "blocked" (default; blocks of
   * `blockSize` tokens, one Scan iteration per block, see blockedRecurrence) or
   * "scan_per_token" (one Scan iteration per token: the plain form, kept as the reference and
   * for the bench's A/B).
   */
  readonly recurrence?: "blocked" | "scan_per_token";
  /** Tokens per block of the blocked recurrence (integer ≥ 1). Default PREFILL_BLOCK_SIZE. */
  readonly blockSize?: number;
}

/**
 * Measured with `node dist/bench/backbone/token_latency.js --prefill-only` (BLOCK_SIZES=4,7,8,16),
 * TINY_CONFIG, one ORT thread: 7 was fastest at 49 tokens (batch 1 and 8) and 196 tokens
 * batch 1 — a frame's 49 visual tokens are 7 whole blocks (8 pads 7 identity steps onto every
 * frame); at 196 tokens batch 8, 16 was ~5% faster. Smaller blocks pay more Scan iterations,
 * larger ones more unrolled nodes and padding.
 */
export const PREFILL_BLOCK_SIZE = 7;

/**
 * `mamba_prefill`: embeds [B, T, D] + states → hidden [B, D] of the last token (after norm_f)
 * + new states (+ `progress` [B] when the config has a progress head). Projections, conv and gates run batched over T; only the recurrence is
 * sequential, one ONNX Scan per layer (over blocks of tokens by default, see PrefillOptions).
 */
export function buildMambaPrefill(c: BackboneConfig, w: Weights, opts: PrefillOptions = {}): Uint8Array {
  const d = dims(c);
  const recurrence = opts.recurrence ?? "blocked";
  const k = opts.blockSize ?? PREFILL_BLOCK_SIZE;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`mamba_prefill: blockSize must be an integer ≥ 1, got ${k}`);
  const layers = allLayers(c, w);
  const g = new GraphBuilder("mamba_prefill");
  const embeds = g.input("embeds", "float", ["B", "T", d.D]);
  const s = stateInputs(g, d);
  // Time-major inside ([T, B, ·]): Scan then slices its inputs and stacks its outputs along
  // axis 0 with no transposes of the [T, B, E, N] tensors, and the causal conv's shifts are
  // slices of the leading axis. Only the embeds (once) and the small conv windows are transposed.
  let residual = g.transpose(embeds, [1, 0, 2]);
  const blocks = recurrence === "blocked" ? blockPadding(g, residual, k) : null;
  const convOuts: string[] = [];
  const ssmOuts: string[] = [];
  layers.forEach((lw, i) => {
    const p = lw.prefix;
    const h = g.rmsNorm(residual, `${p}.norm`, lw.norm, c.norm_eps);
    const x = g.linear(h, `${p}.in_proj_x`, lw.inX, d.E, d.D);
    const z = g.linear(h, `${p}.in_proj_z`, lw.inZ, d.E, d.D);
    const { xc, convState } = causalConv(g, lw, d, x, g.pick(s.conv, 1, i), opts.convForm ?? "slices");
    let final: string;
    if (blocks === null) {
      const { dA, dBx, Cm } = selectiveInputs(g, lw, d, xc, 3);
      const scanned = scanRecurrence(g, p, g.pick(s.ssm, 1, i), dA, dBx);
      final = scanned.final;
      residual = layerOutput(g, lw, d, residual, scanned.states, Cm, xc, z, 3);
    } else {
      const blocked = blockedRecurrence(g, lw, d, blocks, xc, g.pick(s.ssm, 1, i));
      final = blocked.final;
      residual = layerOutputFromRead(g, lw, d, residual, blocked.yC, xc, z);
    }
    convOuts.push(g.unsqueeze(convState, [1]));
    ssmOuts.push(g.unsqueeze(final, [1]));
  });
  const last = g.pick(residual, 0, -1);
  const hidden = normF(g, c, w, last);
  g.output("hidden", "float", ["B", d.D], hidden);
  stateOutputs(g, d, g.concat(convOuts, 1), g.concat(ssmOuts, 1));
  // Last, and only with the head: a model without one gets exactly the graph it had before.
  if (c.progress_head === true) g.output("progress", "float", ["B"], progressHead(g, c, w, hidden));
  return g.toModelBytes();
}

/**
 * The task-progress head (models/README.md, config `progress_head`): sigmoid(hidden · wᵀ + b)
 * → [B], on the prefill's `hidden` (the last token's residual after norm_f), so a frame's
 * progress costs two small ops in the run that prefills it, no extra run.
 */
function progressHead(g: GraphBuilder, c: BackboneConfig, w: Weights, hidden: string): string {
  const weight = requireWeight(w, "progress_head.weight", [1, c.d_model]);
  const bias = requireWeight(w, "progress_head.bias", [1]);
  return g.op("Sigmoid", [g.squeeze(g.linear(hidden, "progress_head", weight, 1, c.d_model, bias), [1])]);
}

/** The chunk's block geometry, computed once per graph from T (symbolic). */
interface BlockPadding {
  readonly k: number;
  /** int64 [1]: T. */
  readonly T: string;
  /** int64 [6]: Pad's pads for a [T, B, ·] tensor, appending (−T mod k) rows on axis 0. */
  readonly pads: string;
  /** int64 [1]: B. */
  readonly B: string;
}

function blockPadding(g: GraphBuilder, timeMajor: string, k: number): BlockPadding {
  const T = g.op("Shape", [timeMajor], { start: 0, end: 1 });
  const kk = g.ints([k]);
  const extra = g.op("Mod", [g.op("Sub", [kk, g.op("Mod", [T, kk])]), kk]);
  const B = g.op("Shape", [timeMajor], { start: 1, end: 2 });
  return { k, T, B, pads: g.concat([g.ints([0, 0, 0]), extra, g.ints([0, 0])], 0) };
}

/**
 * The selective scan of one layer, h_t = dA_t·h_{t−1} + dBx_t, with a Scan over blocks of k
 * tokens instead of tokens (ORT's per-iteration cost, 15–25 µs, dwarfed the B·E·N-float body).
 * Within a block the recurrence is affine: h_{s+j} = P_j·h_s + Q_j with P_j = a_{s+j}⋯a_{s+1}
 * and Q_j = a_{s+j}·Q_{j−1} + b_{s+j}. All blocks at once:
 *   1. Δ, Δ·x, B, C are padded with zero rows to a multiple of k. A zero Δ gives a = exp(0) = 1
 *      and b = 0 exactly: padding steps leave the state bit-for-bit unchanged, so the Scan's
 *      final state is the state after token T−1. Padding the [T, B, E] inputs (not the
 *      [T, B, E, N] products) keeps the padding cheap.
 *   2. Q_k of every block by an unrolled loop of k steps over [T/k, 1, B, E, N]; P_k =
 *      exp(A · ΣΔ over the block), one small Exp.
 *   3. Scan over the T/k blocks: h ← P_k·h + Q_k, emitting each block's starting state.
 *   4. A second unrolled loop from those starting states gives every h_t, read out at once as
 *      yC_t = h_t·C_t, so the [T, B, E, N] states are never stacked (only yC [T, B, E] is).
 * Step 4 re-runs the recurrence rather than forming P_j·h_s + Q_j: the same two ops per token,
 * without stacking P_j and Q_j for every j.
 */
function blockedRecurrence(g: GraphBuilder, lw: LayerWeights, d: Dims, bp: BlockPadding, xc: string, h0: string): { final: string; yC: string } {
  const p = lw.prefix;
  const { k } = bp;
  const delta = g.linear(xc, `${p}.x_proj_dt`, lw.xDelta, d.R, d.E);
  const dt = softplus(g, g.linear(delta, `${p}.dt_proj`, lw.dtW, d.E, d.R, lw.dtB));
  const Bm = g.linear(xc, `${p}.x_proj_B`, lw.xB, d.N, d.E);
  const Cm = g.linear(xc, `${p}.x_proj_C`, lw.xC, d.N, d.E);
  // State-major inside, [·, N, E]: every broadcast below then runs over E-long (512) rows.
  // In the contract's [·, E, N] order ORT's broadcasting Mul walks N-long (16) spans, one
  // kernel call each: that, not the Scan, was most of the per-token form's elementwise time.
  const At = g.initializer(`${p}.A_t`, transpose2d(lw.A, d.E, d.N), [d.N, d.E]);
  // [T, B, ·] → zero-padded [T/k, k, B, 1, E] (Δ, Δ·x) or [T/k, k, B, N, 1] (B, C).
  const shapeE = g.concat([g.ints([-1, k]), bp.B, g.ints([1, d.E])], 0);
  const shapeN = g.concat([g.ints([-1, k]), bp.B, g.ints([d.N, 1])], 0);
  const blocked = (v: string, shape: string): string => g.op("Reshape", [g.op("Pad", [v, bp.pads]), shape]);
  const dtB = blocked(dt, shapeE);
  const uB = blocked(g.mul(dt, xc), shapeE);
  const bB = blocked(Bm, shapeN);
  const cB = blocked(Cm, shapeN);
  const split = (v: string): string[] => (k === 1 ? [v] : g.node("Split", [v], k, { axis: 1 }));
  const dts = split(dtB);
  const us = split(uB);
  const bs = split(bB);
  const cs = split(cB);
  // Per token j of every block: a_j = exp(Δ_j ⊗ A), b_j = (Δ_j·x_j) ⊗ B_j, each [T/k, 1, B, N, E].
  const a: string[] = [];
  const b: string[] = [];
  for (let j = 0; j < k; j++) {
    a.push(g.op("Exp", [g.mul(dts[j], At)]));
    b.push(g.mul(us[j], bs[j]));
  }
  let q = b[0];
  for (let j = 1; j < k; j++) q = g.add(g.mul(a[j], q), b[j]);
  const pk = g.op("Exp", [g.mul(g.reduceSum(dtB, [1], true), At)]);
  // Scan over axis 0 (blocks) of [T/k, B, N, E]; the squeezes are views.
  const scanned = scanBlocks(g, p, g.transpose(h0, [0, 2, 1]), g.squeeze(pk, [1]), g.squeeze(q, [1]));
  let h = g.unsqueeze(scanned.starts, [1]);
  const reads: string[] = [];
  for (let j = 0; j < k; j++) {
    h = g.add(g.mul(a[j], h), b[j]);
    reads.push(g.reduceSum(g.mul(h, cs[j]), [3], false));
  }
  const final = g.transpose(scanned.final, [0, 2, 1]);
  // [T/k, k, B, E] → [T + pad, B, E] → the T real tokens.
  const yPadded = g.op("Reshape", [g.concat(reads, 1), g.concat([g.ints([-1]), bp.B, g.ints([d.E])], 0)]);
  const yC = g.op("Slice", [yPadded, g.ints([0]), bp.T, g.ints([0])]);
  return { final, yC };
}

/** h ← P·h + Q over axis 0 of P, Q [n, B, E, N] from h0 [B, E, N]; emits the state before each step. */
function scanBlocks(g: GraphBuilder, p: string, h0: string, P: string, Q: string): { final: string; starts: string } {
  const body = g.subgraph(`${p}.block_scan_body`);
  const hPrev = body.input(`${p}.block_h_prev`, "float");
  const pk = body.input(`${p}.block_P`, "float");
  const qk = body.input(`${p}.block_Q`, "float");
  body.output(`${p}.block_h_next`, "float", undefined, body.add(body.mul(pk, hPrev), qk));
  body.output(`${p}.block_h_start`, "float", undefined, body.op("Identity", [hPrev]));
  const [final, starts] = g.node("Scan", [h0, P, Q], 2, { body, num_scan_inputs: 2 });
  return { final, starts };
}

/**
 * Causal depthwise conv of x [T, B, E] continuing from the conv window `cs` [B, E, K] (the last
 * K inputs). The window's last K−1 inputs are prepended, so token t sees exactly what
 * `Mamba.step` would; the new window is the last K inputs of the extended sequence.
 */
function causalConv(g: GraphBuilder, lw: LayerWeights, d: Dims, x: string, cs: string, form: "slices" | "conv"): { xc: string; convState: string } {
  const p = lw.prefix;
  const bias = g.initializer(`${p}.conv_b`, lw.convB, [d.E]);
  if (form === "conv") {
    const ext = g.concat([g.slice(cs, 2, 1, SLICE_END), g.transpose(x, [1, 2, 0])], 2); // [B, E, K−1+T]
    const weight = g.initializer(`${p}.conv_w`, lw.convW, [d.E, 1, d.K]);
    const y = g.op("Conv", [ext, weight, bias], { group: d.E, kernel_shape: [d.K] });
    return { xc: g.silu(g.transpose(y, [2, 0, 1])), convState: g.slice(ext, 2, -d.K, SLICE_END) };
  }
  const ext = g.concat([g.transpose(g.slice(cs, 2, 1, SLICE_END), [2, 0, 1]), x], 0); // [K−1+T, B, E]
  let acc = "";
  for (let k = 0; k < d.K; k++) {
    const col = new Float32Array(d.E);
    for (let e = 0; e < d.E; e++) col[e] = lw.convW[e * d.K + k];
    // Tap k reads inputs t + k of the extended sequence: slice [k, k + T) written relative to the end.
    const tap = g.mul(g.slice(ext, 0, k, k === d.K - 1 ? SLICE_END : k - (d.K - 1)), g.initializer(`${p}.conv_w${k}`, col, [d.E]));
    acc = acc === "" ? tap : g.add(acc, tap);
  }
  return { xc: g.silu(g.add(acc, bias)), convState: g.transpose(g.slice(ext, 0, -d.K, SLICE_END), [1, 2, 0]) };
}

/**
 * h_t = dA_t · h_{t−1} + dBx_t over the T axis of dA, dBx [T, B, E, N], from h0 [B, E, N].
 * The Scan body is two ops; y = h_t · C_t is done outside, batched over T, from the stacked
 * states (fewer ops per iteration is what makes Scan cheap in ORT).
 */
function scanRecurrence(g: GraphBuilder, p: string, h0: string, dA: string, dBx: string): { final: string; states: string } {
  const body = g.subgraph(`${p}.scan_body`);
  const hPrev = body.input(`${p}.h_prev`, "float");
  const a = body.input(`${p}.dA_t`, "float");
  const b = body.input(`${p}.dBx_t`, "float");
  const hNext = body.add(body.mul(a, hPrev), b);
  body.output(`${p}.h_next`, "float", undefined, hNext);
  body.output(`${p}.h_t`, "float", undefined, body.op("Identity", [hNext]));
  const [final, states] = g.node("Scan", [h0, dA, dBx], 2, {
    body,
    num_scan_inputs: 2,
  });
  return { final, states };
}

/** `lm_head`: hidden [B, D] (after norm_f) → logits [B, vocab]. */
export function buildLmHead(c: BackboneConfig, w: Weights): Uint8Array {
  const head = headWeight(c, w);
  const g = new GraphBuilder("lm_head");
  const hidden = g.input("hidden", "float", ["B", c.d_model]);
  g.output("logits", "float", ["B", c.vocab_size], g.linear(hidden, "lm_head", head.data, c.vocab_size, c.d_model));
  return g.toModelBytes();
}

/**
 * `decode`: one greedy token for each stream in one run, embedding → step → norm_f → head →
 * ArgMax, so an answer token costs one `run` whatever the context length.
 */
export function buildDecode(c: BackboneConfig, w: Weights): Uint8Array {
  const d = dims(c);
  const layers = allLayers(c, w);
  const emb = requireWeight(w, "backbone.embeddings.weight", [d.V, d.D]);
  const head = headWeight(c, w);
  const g = new GraphBuilder("decode");
  const ids = g.input("token_ids", "int64", ["B"]);
  const s = stateInputs(g, d);
  const embeds = g.op("Gather", [g.initializer("embeddings", emb, [d.V, d.D]), ids], { axis: 0 });
  const out = stepLayers(g, c, layers, embeds, s.conv, s.ssm);
  const logits = g.linear(normF(g, c, w, out.residual), "lm_head", head.data, d.V, d.D);
  g.output("next_token", "int64", ["B"], g.op("ArgMax", [logits], { axis: 1, keepdims: 0 }));
  g.output("logits", "float", ["B", d.V], logits);
  stateOutputs(g, d, out.convOut, out.ssmOut);
  return g.toModelBytes();
}

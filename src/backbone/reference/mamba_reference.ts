import { backboneSizes, type BackboneConfig } from "../config.js";
import type { Weights } from "../tensor_names.js";
import { requireWeight } from "../model_weights.js";
import { argmaxRows } from "../argmax.js";

/**
 * Plain TypeScript forward passes of the Mamba graphs (models/README.md, "The forward pass"),
 * written as directly from the math as possible: per stream, per token, per layer, loops over
 * arrays, float64 accumulators, fp32 state between tokens. Ground truth for the ONNX graphs;
 * far too slow for production.
 */

export interface MambaStepResult {
  /** [B, d_model], after norm_f. */
  readonly hidden: Float32Array;
  /** [B, L, E, d_conv] and [B, L, E, d_state]. */
  readonly convStateOut: Float32Array;
  readonly ssmStateOut: Float32Array;
}

export interface DecodeResult extends MambaStepResult {
  readonly nextToken: BigInt64Array;
  /** [B, vocab]. */
  readonly logits: Float32Array;
}

function rmsNorm(x: ArrayLike<number>, weight: Float32Array, eps: number): Float64Array {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i] * x[i];
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  return Float64Array.from(x, (v, i) => v * inv * weight[i]);
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
const silu = (v: number): number => v * sigmoid(v);
const softplus = (v: number): number => (v > 20 ? v : Math.log1p(Math.exp(v)));

/**
 * One token through every layer for one stream: `residual` [D] is updated in place, and so
 * are this stream's state views conv [L, E, K] and ssm [L, E, N].
 */
function stepStream(c: BackboneConfig, w: Weights, residual: Float64Array, conv: Float32Array, ssm: Float32Array): void {
  const D = c.d_model;
  const E = backboneSizes(c).dInner;
  const K = c.d_conv;
  const N = c.d_state;
  const R = c.dt_rank;
  for (let l = 0; l < c.n_layer; l++) {
    const m = `backbone.layers.${l}.mixer`;
    const inProj = requireWeight(w, `${m}.in_proj.weight`, [2 * E, D]);
    const convW = requireWeight(w, `${m}.conv1d.weight`, [E, 1, K]);
    const convB = requireWeight(w, `${m}.conv1d.bias`, [E]);
    const xProj = requireWeight(w, `${m}.x_proj.weight`, [R + 2 * N, E]);
    const dtW = requireWeight(w, `${m}.dt_proj.weight`, [E, R]);
    const dtB = requireWeight(w, `${m}.dt_proj.bias`, [E]);
    const aLog = requireWeight(w, `${m}.A_log`, [E, N]);
    const Dv = requireWeight(w, `${m}.D`, [E]);
    const outProj = requireWeight(w, `${m}.out_proj.weight`, [D, E]);
    const h = rmsNorm(residual, requireWeight(w, `backbone.layers.${l}.norm.weight`, [D]), c.norm_eps);

    const xz = new Float64Array(2 * E);
    for (let o = 0; o < 2 * E; o++) {
      let s = 0;
      for (let i = 0; i < D; i++) s += inProj[o * D + i] * h[i];
      xz[o] = s;
    }
    // Conv window: roll left, append x, then the depthwise dot product.
    const xc = new Float64Array(E);
    for (let e = 0; e < E; e++) {
      const base = (l * E + e) * K;
      for (let k = 0; k < K - 1; k++) conv[base + k] = conv[base + k + 1];
      conv[base + K - 1] = xz[e];
      let s = convB[e];
      for (let k = 0; k < K; k++) s += conv[base + k] * convW[e * K + k];
      xc[e] = silu(s);
    }
    const dbc = new Float64Array(R + 2 * N);
    for (let o = 0; o < R + 2 * N; o++) {
      let s = 0;
      for (let e = 0; e < E; e++) s += xProj[o * E + e] * xc[e];
      dbc[o] = s;
    }
    const y = new Float64Array(E);
    for (let e = 0; e < E; e++) {
      let s = dtB[e];
      for (let r = 0; r < R; r++) s += dtW[e * R + r] * dbc[r];
      const delta = softplus(s);
      let acc = 0;
      for (let n = 0; n < N; n++) {
        const A = -Math.exp(aLog[e * N + n]);
        const idx = (l * E + e) * N + n;
        ssm[idx] = Math.exp(delta * A) * ssm[idx] + delta * xc[e] * dbc[R + n];
        acc += ssm[idx] * dbc[R + N + n];
      }
      y[e] = (acc + Dv[e] * xc[e]) * silu(xz[E + e]);
    }
    for (let o = 0; o < D; o++) {
      let s = 0;
      for (let e = 0; e < E; e++) s += outProj[o * E + e] * y[e];
      residual[o] += s;
    }
  }
}

function checkState(c: BackboneConfig, B: number, conv: Float32Array, ssm: Float32Array): void {
  const s = backboneSizes(c);
  if (conv.length !== B * s.convStateFloats || ssm.length !== B * s.ssmStateFloats) {
    throw new RangeError(`state sizes ${conv.length}/${ssm.length} do not match batch ${B}`);
  }
}

/** Runs tokens [B, T, D] from the given states; `mamba_step` is T = 1. */
function run(c: BackboneConfig, w: Weights, embeds: Float32Array, B: number, T: number, convState: Float32Array, ssmState: Float32Array): MambaStepResult {
  checkState(c, B, convState, ssmState);
  const D = c.d_model;
  if (embeds.length !== B * T * D) throw new RangeError(`embeds has ${embeds.length} values, expected ${B}·${T}·${D}`);
  const s = backboneSizes(c);
  const conv = convState.slice();
  const ssm = ssmState.slice();
  const hidden = new Float32Array(B * D);
  const normF = requireWeight(w, "backbone.norm_f.weight", [D]);
  for (let b = 0; b < B; b++) {
    const cv = conv.subarray(b * s.convStateFloats, (b + 1) * s.convStateFloats);
    const sv = ssm.subarray(b * s.ssmStateFloats, (b + 1) * s.ssmStateFloats);
    let residual = new Float64Array(D);
    for (let t = 0; t < T; t++) {
      residual = Float64Array.from(embeds.subarray((b * T + t) * D, (b * T + t + 1) * D));
      stepStream(c, w, residual, cv, sv);
    }
    hidden.set(rmsNorm(residual, normF, c.norm_eps), b * D);
  }
  return { hidden, convStateOut: conv, ssmStateOut: ssm };
}

export function referenceMambaStep(c: BackboneConfig, w: Weights, embeds: Float32Array, B: number, convState: Float32Array, ssmState: Float32Array): MambaStepResult {
  return run(c, w, embeds, B, 1, convState, ssmState);
}

/** Token by token: the definition `mamba_prefill` must equal. `hidden` is the last token's. */
export function referenceMambaPrefill(c: BackboneConfig, w: Weights, embeds: Float32Array, B: number, T: number, convState: Float32Array, ssmState: Float32Array): MambaStepResult {
  return run(c, w, embeds, B, T, convState, ssmState);
}

/**
 * The progress head on prefill outputs: sigmoid(hidden · wᵀ + b) per stream, [B]; `hidden` is
 * [B, d_model] after norm_f (referenceMambaPrefill's). Needs `progress_head` weights.
 */
export function referenceProgress(c: BackboneConfig, w: Weights, hidden: Float32Array, B: number): Float32Array {
  const D = c.d_model;
  if (hidden.length !== B * D) throw new RangeError(`hidden has ${hidden.length} values, expected ${B}·${D}`);
  const weight = requireWeight(w, "progress_head.weight", [1, D]);
  const bias = requireWeight(w, "progress_head.bias", [1]);
  const out = new Float32Array(B);
  for (let b = 0; b < B; b++) {
    let s = bias[0];
    for (let i = 0; i < D; i++) s += weight[i] * hidden[b * D + i];
    out[b] = sigmoid(s);
  }
  return out;
}

export function referenceLmHead(c: BackboneConfig, w: Weights, hidden: Float32Array, B: number): Float32Array {
  const D = c.d_model;
  const V = c.vocab_size;
  const head = requireWeight(w, c.tie_embeddings ? "backbone.embeddings.weight" : "lm_head.weight", [V, D]);
  const logits = new Float32Array(B * V);
  for (let b = 0; b < B; b++) {
    for (let v = 0; v < V; v++) {
      let s = 0;
      for (let i = 0; i < D; i++) s += head[v * D + i] * hidden[b * D + i];
      logits[b * V + v] = s;
    }
  }
  return logits;
}

export function referenceDecode(c: BackboneConfig, w: Weights, tokenIds: BigInt64Array, convState: Float32Array, ssmState: Float32Array): DecodeResult {
  const B = tokenIds.length;
  const D = c.d_model;
  const emb = requireWeight(w, "backbone.embeddings.weight", [c.vocab_size, D]);
  const embeds = new Float32Array(B * D);
  tokenIds.forEach((id, b) => {
    const i = Number(id);
    if (!(i >= 0 && i < c.vocab_size)) throw new RangeError(`token id ${id} is outside the vocabulary (${c.vocab_size})`);
    embeds.set(emb.subarray(i * D, (i + 1) * D), b * D);
  });
  const step = run(c, w, embeds, B, 1, convState, ssmState);
  const logits = referenceLmHead(c, w, step.hidden, B);
  return { ...step, logits, nextToken: argmaxRows(logits, B, c.vocab_size) };
}

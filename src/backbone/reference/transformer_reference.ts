import { BASELINE_WEIGHTS, type TransformerDims } from "../graphs/transformer_baseline.js";
import { requireWeight } from "../model_weights.js";

/**
 * Plain TypeScript forward pass of `transformer_step` (transformer_baseline.ts): one token per
 * stream attending over its S cached keys/values and itself. Ground truth for the graph.
 */
export interface TransformerStepResult {
  /** [B, D], after norm_f. */
  readonly hidden: Float32Array;
  /** [L, B, H, 1, dh]. */
  readonly newKeys: Float32Array;
  readonly newValues: Float32Array;
}

function rmsNorm(x: Float64Array, w: Float32Array, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * inv * w[i]);
}

function linear(x: Float64Array, w: Float32Array, out: number): Float64Array {
  const n = x.length;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += w[o * n + i] * x[i];
    y[o] = s;
  }
  return y;
}

/** The baseline's tensor `name`, `shape` checked (its weights are seeded, not read from a file). */
function tensor(w: ReadonlyMap<string, Float32Array>, name: string, ...shape: number[]): Float32Array {
  return requireWeight(w, name, shape, BASELINE_WEIGHTS);
}

/** `pastKeys`/`pastValues` are [L, B, H, S, dh]. */
export function referenceTransformerStep(d: TransformerDims, w: ReadonlyMap<string, Float32Array>, embeds: Float32Array, B: number, pastKeys: Float32Array, pastValues: Float32Array, S: number): TransformerStepResult {
  const { dModel: D, heads: H, headDim: dh, mlpWidth: F, nLayer: L } = d;
  if (pastKeys.length !== L * B * H * S * dh || pastValues.length !== pastKeys.length) throw new RangeError("cache size does not match [L, B, H, S, dh]");
  const hidden = new Float32Array(B * D);
  const newKeys = new Float32Array(L * B * H * dh);
  const newValues = new Float32Array(L * B * H * dh);
  for (let b = 0; b < B; b++) {
    let x = Float64Array.from(embeds.subarray(b * D, (b + 1) * D));
    for (let l = 0; l < L; l++) {
      const p = `layers.${l}`;
      const h = rmsNorm(x, tensor(w, `${p}.attn_norm.weight`, D), d.normEps);
      const q = linear(h, tensor(w, `${p}.attn.q.weight`, D, D), D);
      const k = linear(h, tensor(w, `${p}.attn.k.weight`, D, D), D);
      const v = linear(h, tensor(w, `${p}.attn.v.weight`, D, D), D);
      const attn = new Float64Array(D);
      for (let hd = 0; hd < H; hd++) {
        const cache = (((l * B + b) * H + hd) * S) * dh;
        const scores = new Float64Array(S + 1);
        for (let s = 0; s <= S; s++) {
          let dot = 0;
          for (let j = 0; j < dh; j++) dot += q[hd * dh + j] * (s < S ? pastKeys[cache + s * dh + j] : k[hd * dh + j]);
          scores[s] = dot / Math.sqrt(dh);
        }
        const max = Math.max(...scores);
        let sum = 0;
        for (let s = 0; s <= S; s++) sum += scores[s] = Math.exp(scores[s] - max);
        for (let s = 0; s <= S; s++) {
          for (let j = 0; j < dh; j++) attn[hd * dh + j] += (scores[s] / sum) * (s < S ? pastValues[cache + s * dh + j] : v[hd * dh + j]);
        }
      }
      const o = linear(attn, tensor(w, `${p}.attn.o.weight`, D, D), D);
      x = x.map((xv, i) => xv + o[i]);
      const h2 = rmsNorm(x, tensor(w, `${p}.mlp_norm.weight`, D), d.normEps);
      const gate = linear(h2, tensor(w, `${p}.mlp.gate.weight`, F, D), F);
      const up = linear(h2, tensor(w, `${p}.mlp.up.weight`, F, D), F);
      const act = gate.map((gv, i) => (gv / (1 + Math.exp(-gv))) * up[i]);
      const down = linear(act, tensor(w, `${p}.mlp.down.weight`, D, F), D);
      x = x.map((xv, i) => xv + down[i]);
      newKeys.set(k, (l * B + b) * D);
      newValues.set(v, (l * B + b) * D);
    }
    hidden.set(rmsNorm(x, tensor(w, "norm_f.weight", D), d.normEps), b * D);
  }
  return { hidden, newKeys, newValues };
}

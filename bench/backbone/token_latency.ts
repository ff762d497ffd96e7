import { pathToFileURL } from "node:url";
import * as ort from "onnxruntime-node";
import { backboneSizes, TINY_CONFIG, type BackboneConfig } from "../../src/backbone/config.js";
import { randomWeights } from "../../src/backbone/random_init.js";
import { buildMambaPrefill, buildMambaStep, PREFILL_BLOCK_SIZE, type PrefillOptions } from "../../src/backbone/graphs/mamba_graphs.js";
import { buildTransformerStep, mambaLayerParams, transformerDims, transformerLayerParams, transformerWeights, type TransformerDims } from "../../src/backbone/graphs/transformer_baseline.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { median } from "./bench_stats.js";

/**
 * Per-token latency of the Mamba step against a KV-cache transformer step of the same width,
 * depth and per-layer parameter count, at growing context lengths, measured side by side
 * (iterations interleaved) in one process with one single-threaded ORT session per graph.
 *
 * SSM: one `mamba_step` run (embeds → hidden; the transformer step has no head either). Its
 * state is reached by really prefilling the context (random token embeddings, chunks of 512
 * through `mamba_prefill`) at batch 1, so the state holds what that history leaves (decayed
 * values, possible denormals), not synthetic noise; batch 8 tiles that state 8 times.
 * Transformer: one `transformer_step` run over a KV cache of the context length filled with
 * random values (attention cost does not depend on the values). Its cache is fed per layer
 * (`past_keys.<l>`), read in place; the stacked [L, B, H, S, dh] form, which slices a copy per
 * layer, is reported too.
 */

export interface TokenLatencyOptions {
  readonly contexts?: number[];
  readonly batches?: number[];
  readonly iters?: number;
  readonly config?: BackboneConfig;
}

export interface TokenLatencyResult {
  ssm_token_ms: Record<string, number>;
  transformer_token_ms: Record<string, number>;
  ssm_token_ms_batch8: Record<string, number>;
  transformer_token_ms_batch8: Record<string, number>;
  /** The transformer with the stacked cache input (a per-layer copy each run), batch 1. */
  transformer_stacked_cache_token_ms: Record<string, number>;
  state_bytes_per_stream: number;
  kv_bytes_per_stream: number;
  mamba_layer_params: number;
  transformer_layer_params: number;
  /** max/min of ssm_token_ms over the contexts (goal ≤ 1.2). */
  ssm_flatness_batch1: number;
  /** transformer/SSM at the longest context, batch 1 (goal ≥ 5). */
  transformer_over_ssm_longest_batch1: number;
  /** mamba_prefill of one frame's visual tokens (batch 1), conv written both ways. */
  prefill_frame_ms: { tokens: number; conv_as_slices: number; conv_as_grouped_conv: number };
  /** mamba_prefill's recurrence, per-token Scan vs blocked (default block size), side by side. */
  prefill_recurrence: PrefillAbResult;
  iters: number;
}

export interface PrefillAbOptions {
  readonly config?: BackboneConfig;
  /** Chunk lengths (default: one frame's visual tokens and four frames' worth). */
  readonly tokens?: number[];
  readonly batches?: number[];
  /** Block sizes of the blocked form to measure (default: the builder's default only). */
  readonly blockSizes?: number[];
  readonly iters?: number;
  /** One stream's starting state (default: random, scale 0.5); tiled over the batch. */
  readonly state?: { conv: Float32Array; ssm: Float32Array };
}

export interface PrefillAbCase {
  tokens: number;
  batch: number;
  /** Median ms of one run, old form (one Scan iteration per token). */
  scan_per_token_ms: number;
  /** Median ms per block size, blocked form. */
  blocked_ms: Record<string, number>;
  /** scan_per_token_ms / blocked_ms at the default block size. */
  speedup_default: number;
}

export interface PrefillAbResult {
  default_block_size: number;
  cases: PrefillAbCase[];
  iters: number;
}

const OPTS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: "sequential",
  graphOptimizationLevel: "all",
};

/** Cheap fill of a large array: a random block repeated (values do not change the cost). */
function randomFill(n: number, seed: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  const r = mulberry32(seed);
  const block = Math.min(n, 1 << 16);
  for (let i = 0; i < block; i++) a[i] = (2 * r() - 1) * scale;
  for (let i = block; i < n; i += block) a.copyWithin(i, 0, Math.min(block, n - i));
  return a;
}

async function timeRun(s: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await s.run(feeds);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const BURST = 5;

/** BURST runs back to back; all but the first are kept (nothing is kept in the warm-up round). */
async function burst(s: ort.InferenceSession, feeds: Record<string, ort.Tensor>, into: number[] | null): Promise<void> {
  for (let i = 0; i < BURST; i++) {
    const ms = await timeRun(s, feeds);
    if (i > 0 && into !== null) into.push(ms);
  }
}

/** Prefills the state from `from` to `to` tokens at batch 1 (random token embeddings). */
async function advanceState(pre: ort.InferenceSession, c: BackboneConfig, emb: Float32Array, conv: Float32Array, ssm: Float32Array, from: number, to: number, seed: number): Promise<{ conv: Float32Array; ssm: Float32Array }> {
  const D = c.d_model;
  const E = backboneSizes(c).dInner;
  const r = mulberry32(seed);
  for (let t = from; t < to; t += 512) {
    const T = Math.min(512, to - t);
    const embeds = new Float32Array(T * D);
    for (let i = 0; i < T; i++) {
      const id = Math.floor(r() * c.vocab_size);
      embeds.set(emb.subarray(id * D, (id + 1) * D), i * D);
    }
    const out = await pre.run({
      embeds: new ort.Tensor("float32", embeds, [1, T, D]),
      conv_state: new ort.Tensor("float32", conv, [1, c.n_layer, E, c.d_conv]),
      ssm_state: new ort.Tensor("float32", ssm, [1, c.n_layer, E, c.d_state]),
    });
    conv = out.conv_state_out.data as Float32Array;
    ssm = out.ssm_state_out.data as Float32Array;
  }
  return { conv, ssm };
}

function tile(a: Float32Array, times: number): Float32Array {
  const out = new Float32Array(a.length * times);
  for (let i = 0; i < times; i++) out.set(a, i * a.length);
  return out;
}

function cacheFeeds(d: TransformerDims, B: number, S: number, stacked: boolean, k: Float32Array, v: Float32Array): Record<string, ort.Tensor> {
  const dims = [d.nLayer, B, d.heads, S, d.headDim];
  if (stacked) return { past_keys: new ort.Tensor("float32", k, dims), past_values: new ort.Tensor("float32", v, dims) };
  const per = B * d.heads * S * d.headDim;
  const feeds: Record<string, ort.Tensor> = {};
  for (let l = 0; l < d.nLayer; l++) {
    feeds[`past_keys.${l}`] = new ort.Tensor("float32", k.subarray(l * per, (l + 1) * per), dims.slice(1));
    feeds[`past_values.${l}`] = new ort.Tensor("float32", v.subarray(l * per, (l + 1) * per), dims.slice(1));
  }
  return feeds;
}

export async function measureTokenLatency(opts: TokenLatencyOptions = {}): Promise<TokenLatencyResult> {
  const c = opts.config ?? TINY_CONFIG;
  const contexts = opts.contexts ?? [256, 1024, 4096, 16384];
  const batches = opts.batches ?? [1, 8];
  const iters = opts.iters ?? 30;
  const sizes = backboneSizes(c);
  const E = sizes.dInner;
  const D = c.d_model;
  const w = randomWeights(c, 1);
  const td = transformerDims(c);
  const tw = transformerWeights(td, 1);
  const step = await ort.InferenceSession.create(buildMambaStep(c, w), OPTS);
  const pre = await ort.InferenceSession.create(buildMambaPrefill(c, w), OPTS);
  const tfPer = await ort.InferenceSession.create(buildTransformerStep(td, tw, { cacheInputs: "per_layer" }), OPTS);
  const tfStacked = await ort.InferenceSession.create(buildTransformerStep(td, tw), OPTS);
  const emb = w.get("backbone.embeddings.weight")!;

  const res: TokenLatencyResult = {
    ssm_token_ms: {},
    transformer_token_ms: {},
    ssm_token_ms_batch8: {},
    transformer_token_ms_batch8: {},
    transformer_stacked_cache_token_ms: {},
    state_bytes_per_stream: sizes.stateBytes,
    kv_bytes_per_stream: 2 * td.nLayer * td.heads * Math.max(...contexts) * td.headDim * 4,
    mamba_layer_params: mambaLayerParams(c),
    transformer_layer_params: transformerLayerParams(td),
    ssm_flatness_batch1: 0,
    transformer_over_ssm_longest_batch1: 0,
    prefill_frame_ms: { tokens: 0, conv_as_slices: 0, conv_as_grouped_conv: 0 },
    prefill_recurrence: { default_block_size: PREFILL_BLOCK_SIZE, cases: [], iters },
    iters,
  };

  // Phase 1: one real history per context (batch 1), prefilled in increasing order.
  const sorted = [...contexts].sort((a, b) => a - b);
  const states = new Map<number, { conv: Float32Array; ssm: Float32Array }>();
  let state: { conv: Float32Array; ssm: Float32Array } = { conv: new Float32Array(sizes.convStateFloats), ssm: new Float32Array(sizes.ssmStateFloats) };
  let reached = 0;
  for (const S of sorted) {
    state = await advanceState(pre, c, emb, state.conv, state.ssm, reached, S, S);
    reached = S;
    states.set(S, state);
  }

  // Phase 2: per batch, every context's SSM and transformer runs interleaved in one loop, so
  // machine load (two shared cores) hits all contexts and both models alike.
  for (const B of batches) {
    const cases = sorted.map((S) => {
      const st = states.get(S)!;
      const n = td.nLayer * B * td.heads * S * td.headDim;
      const k = randomFill(n, 4, 1);
      const v = randomFill(n, 5, 1);
      const embeds = new ort.Tensor("float32", randomFill(B * D, 6, 0.05), [B, D]);
      return {
        S,
        ssm: {
          embeds: new ort.Tensor("float32", randomFill(B * D, 3, 0.05), [B, D]),
          conv_state: new ort.Tensor("float32", tile(st.conv, B), [B, c.n_layer, E, c.d_conv]),
          ssm_state: new ort.Tensor("float32", tile(st.ssm, B), [B, c.n_layer, E, c.d_state]),
        },
        tf: { embeds, ...cacheFeeds(td, B, S, false, k, v) },
        stacked: { embeds, ...cacheFeeds(td, B, S, true, k, v) },
        ssmMs: [] as number[],
        tfMs: [] as number[],
        stMs: [] as number[],
      };
    });
    const withStacked = B === 1;
    // Bursts: a decode loop runs one model back to back, so each model gets BURST consecutive
    // runs whose first is not kept (a 128 MB cache read just before would otherwise evict the
    // other model's weights and charge it a cold start it never has in a real loop). Bursts
    // rotate over contexts and models so load changes hit all of them alike.
    const rounds = Math.ceil(iters / (BURST - 1)) + 1;
    // The starting context rotates every round so that no context always follows the 16k
    // transformer run (position in the round showed up as a systematic 30-40% on the SSM).
    for (let r = 0; r < rounds; r++) {
      const order = cases.map((_, i) => cases[(i + r) % cases.length]);
      for (const cs of order) await burst(step, cs.ssm, r > 0 ? cs.ssmMs : null);
      for (const cs of order) {
        await burst(tfPer, cs.tf, r > 0 ? cs.tfMs : null);
        if (withStacked) await burst(tfStacked, cs.stacked, r > 0 ? cs.stMs : null);
      }
    }
    for (const cs of cases) {
      const key = String(cs.S);
      if (B === 1) {
        res.ssm_token_ms[key] = median(cs.ssmMs);
        res.transformer_token_ms[key] = median(cs.tfMs);
        res.transformer_stacked_cache_token_ms[key] = median(cs.stMs);
      } else if (B === 8) {
        res.ssm_token_ms_batch8[key] = median(cs.ssmMs);
        res.transformer_token_ms_batch8[key] = median(cs.tfMs);
      }
    }
  }

  // Prefill of one frame's visual tokens at batch 1, both ways of writing the causal conv.
  const T = sizes.visualTokens;
  const prefillFeeds = {
    embeds: new ort.Tensor("float32", randomFill(T * D, 7, 0.05), [1, T, D]),
    conv_state: new ort.Tensor("float32", states.get(sorted[0])?.conv ?? new Float32Array(sizes.convStateFloats), [1, c.n_layer, E, c.d_conv]),
    ssm_state: new ort.Tensor("float32", states.get(sorted[0])?.ssm ?? new Float32Array(sizes.ssmStateFloats), [1, c.n_layer, E, c.d_state]),
  };
  const preConv = await ort.InferenceSession.create(buildMambaPrefill(c, w, { convForm: "conv" }), OPTS);
  const slicesMs: number[] = [];
  const convMs: number[] = [];
  for (let r = 0; r < Math.ceil(iters / (BURST - 1)) + 1; r++) {
    await burst(pre, prefillFeeds, r > 0 ? slicesMs : null);
    await burst(preConv, prefillFeeds, r > 0 ? convMs : null);
  }
  res.prefill_frame_ms = { tokens: T, conv_as_slices: median(slicesMs), conv_as_grouped_conv: median(convMs) };
  res.prefill_recurrence = await measurePrefillAb({ config: c, iters, state: states.get(sorted[0]) });

  const ssm1 = Object.values(res.ssm_token_ms);
  if (ssm1.length > 0) {
    res.ssm_flatness_batch1 = Math.max(...ssm1) / Math.min(...ssm1);
    const longest = String(Math.max(...contexts));
    res.transformer_over_ssm_longest_batch1 = res.transformer_token_ms[longest] / res.ssm_token_ms[longest];
  }
  return res;
}

/**
 * mamba_prefill's recurrence written both ways (PrefillOptions.recurrence), every case's
 * sessions measured in one loop: bursts rotate over (tokens, batch) cases and, within a case,
 * the old form and each block size take turns, so machine load hits them alike. Medians.
 */
export async function measurePrefillAb(opts: PrefillAbOptions = {}): Promise<PrefillAbResult> {
  const c = opts.config ?? TINY_CONFIG;
  const sizes = backboneSizes(c);
  const E = sizes.dInner;
  const D = c.d_model;
  const tokens = opts.tokens ?? [sizes.visualTokens, 4 * sizes.visualTokens];
  const batches = opts.batches ?? [1, 8];
  const blockSizes = opts.blockSizes ?? [PREFILL_BLOCK_SIZE];
  const iters = opts.iters ?? 30;
  const w = randomWeights(c, 1);
  const state = opts.state ?? { conv: randomFill(sizes.convStateFloats, 8, 0.5), ssm: randomFill(sizes.ssmStateFloats, 9, 0.5) };
  const variants: { key: string; opts: PrefillOptions }[] = [
    { key: "scan_per_token", opts: { recurrence: "scan_per_token" } },
    ...blockSizes.map((k) => ({ key: String(k), opts: { recurrence: "blocked", blockSize: k } as const })),
  ];
  const sessions = await Promise.all(variants.map((v) => ort.InferenceSession.create(buildMambaPrefill(c, w, v.opts), OPTS)));
  const cases = tokens.flatMap((T) => batches.map((B) => ({
    T,
    B,
    feeds: {
      embeds: new ort.Tensor("float32", randomFill(B * T * D, 7, 0.05), [B, T, D]),
      conv_state: new ort.Tensor("float32", tile(state.conv, B), [B, c.n_layer, E, c.d_conv]),
      ssm_state: new ort.Tensor("float32", tile(state.ssm, B), [B, c.n_layer, E, c.d_state]),
    },
    ms: variants.map(() => [] as number[]),
  })));
  const rounds = Math.ceil(iters / (BURST - 1)) + 1;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < cases.length; i++) {
      const cs = cases[(i + r) % cases.length];
      // The variant order rotates too: no form always runs right after another's cache traffic.
      for (let v = 0; v < variants.length; v++) {
        const vi = (v + r) % variants.length;
        await burst(sessions[vi], cs.feeds, r > 0 ? cs.ms[vi] : null);
      }
    }
  }
  await Promise.all(sessions.map((s) => s.release()));
  const defaultIndex = variants.findIndex((v) => v.key === String(PREFILL_BLOCK_SIZE));
  return {
    default_block_size: PREFILL_BLOCK_SIZE,
    iters,
    cases: cases.map((cs) => {
      const old = median(cs.ms[0]);
      return {
        tokens: cs.T,
        batch: cs.B,
        scan_per_token_ms: old,
        blocked_ms: Object.fromEntries(variants.slice(1).map((v, i) => [v.key, median(cs.ms[i + 1])])),
        speedup_default: defaultIndex > 0 ? old / median(cs.ms[defaultIndex]) : Number.NaN,
      };
    }),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const iters = Number(process.env.ITERS ?? 30);
  // --prefill-only: just the recurrence A/B, with BLOCK_SIZES (comma list) swept.
  const blockSizes = process.env.BLOCK_SIZES?.split(",").map(Number);
  const job: Promise<unknown> = process.argv.includes("--prefill-only") ? measurePrefillAb({ iters, blockSizes }) : measureTokenLatency({ iters });
  job.then(
    (r) => console.log(JSON.stringify(r)),
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}

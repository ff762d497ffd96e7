import { afterAll, describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { backboneSizes, type BackboneConfig } from "../../../src/backbone/config.js";
import { randomWeights } from "../../../src/backbone/random_init.js";
import { buildDecode, buildLmHead, buildMambaPrefill, buildMambaStep, PREFILL_BLOCK_SIZE } from "../../../src/backbone/graphs/mamba_graphs.js";
import { argmaxRows } from "../../../src/backbone/argmax.js";
import { referenceDecode, referenceLmHead, referenceMambaPrefill, referenceMambaStep } from "../../../src/backbone/reference/mamba_reference.js";
import { ModelError } from "../../../src/errors.js";
import { maxAbsDiff, randomArray, session, SMALL_LM_CONFIG as SMALL } from "../fixtures.js";
import { errors, f32, record } from "./helpers.js";

const TOL = 1e-4;
const W = randomWeights(SMALL, 7);
const S = backboneSizes(SMALL);
const L = SMALL.n_layer;
const E = S.dInner;
const D = SMALL.d_model;

function states(B: number, seed: number): { conv: Float32Array; ssm: Float32Array } {
  return { conv: randomArray(B * S.convStateFloats, seed, 0.5), ssm: randomArray(B * S.ssmStateFloats, seed + 1, 0.5) };
}

function feeds(B: number, conv: Float32Array, ssm: Float32Array): Record<string, ort.Tensor> {
  return {
    conv_state: new ort.Tensor("float32", conv, [B, L, E, SMALL.d_conv]),
    ssm_state: new ort.Tensor("float32", ssm, [B, L, E, SMALL.d_state]),
  };
}

afterAll(() => {
  console.log(`mamba graphs max abs error vs reference: ${JSON.stringify(errors)}`);
});

describe("mamba graphs vs the TypeScript reference", () => {
  it("have the contract's input and output names", async () => {
    const names = async (bytes: Uint8Array): Promise<[readonly string[], readonly string[]]> => {
      const s = await session(bytes);
      return [s.inputNames, s.outputNames];
    };
    expect(await names(buildMambaStep(SMALL, W))).toEqual([["embeds", "conv_state", "ssm_state"], ["hidden", "conv_state_out", "ssm_state_out"]]);
    expect(await names(buildMambaPrefill(SMALL, W))).toEqual([["embeds", "conv_state", "ssm_state"], ["hidden", "conv_state_out", "ssm_state_out"]]);
    expect(await names(buildLmHead(SMALL, W))).toEqual([["hidden"], ["logits"]]);
    expect(await names(buildDecode(SMALL, W))).toEqual([["token_ids", "conv_state", "ssm_state"], ["next_token", "logits", "conv_state_out", "ssm_state_out"]]);
  });

  for (const B of [1, 3]) {
    it(`mamba_step equals the reference at batch ${B}`, async () => {
      const s = await session(buildMambaStep(SMALL, W));
      const { conv, ssm } = states(B, 10 + B);
      const embeds = randomArray(B * D, 20 + B);
      const out = await s.run({ embeds: new ort.Tensor("float32", embeds, [B, D]), ...feeds(B, conv, ssm) });
      const ref = referenceMambaStep(SMALL, W, embeds, B, conv, ssm);
      expect(out.hidden.dims).toEqual([B, D]);
      expect(out.conv_state_out.dims).toEqual([B, L, E, SMALL.d_conv]);
      expect(out.ssm_state_out.dims).toEqual([B, L, E, SMALL.d_state]);
      expect(record("step.hidden", maxAbsDiff(f32(out.hidden), ref.hidden))).toBeLessThanOrEqual(TOL);
      expect(record("step.conv_state", maxAbsDiff(f32(out.conv_state_out), ref.convStateOut))).toBeLessThanOrEqual(TOL);
      expect(record("step.ssm_state", maxAbsDiff(f32(out.ssm_state_out), ref.ssmStateOut))).toBeLessThanOrEqual(TOL);
      // The step must move the state (a graph that passed states through would fail here).
      expect(maxAbsDiff(ref.ssmStateOut, ssm)).toBeGreaterThan(1e-3);
    });

    for (const convForm of ["slices", "conv"] as const) {
      it(`mamba_prefill (${convForm} conv) equals the token-by-token reference at batch ${B}`, async () => {
        const T = 6;
        const s = await session(buildMambaPrefill(SMALL, W, { convForm }));
        const { conv, ssm } = states(B, 30 + B);
        const embeds = randomArray(B * T * D, 40 + B);
        const out = await s.run({ embeds: new ort.Tensor("float32", embeds, [B, T, D]), ...feeds(B, conv, ssm) });
        const ref = referenceMambaPrefill(SMALL, W, embeds, B, T, conv, ssm);
        expect(out.hidden.dims).toEqual([B, D]);
        expect(record("prefill.hidden", maxAbsDiff(f32(out.hidden), ref.hidden))).toBeLessThanOrEqual(TOL);
        expect(record("prefill.conv_state", maxAbsDiff(f32(out.conv_state_out), ref.convStateOut))).toBeLessThanOrEqual(TOL);
        expect(record("prefill.ssm_state", maxAbsDiff(f32(out.ssm_state_out), ref.ssmStateOut))).toBeLessThanOrEqual(TOL);
      });
    }

    it(`lm_head equals the reference at batch ${B}, tied and untied`, async () => {
      const untied: BackboneConfig = { ...SMALL, tie_embeddings: false };
      for (const [cfg, w] of [[SMALL, W], [untied, randomWeights(untied, 8)]] as const) {
        const s = await session(buildLmHead(cfg, w));
        const hidden = randomArray(B * D, 50 + B);
        const out = await s.run({ hidden: new ort.Tensor("float32", hidden, [B, D]) });
        expect(out.logits.dims).toEqual([B, SMALL.vocab_size]);
        expect(record("lm_head.logits", maxAbsDiff(f32(out.logits), referenceLmHead(cfg, w, hidden, B)))).toBeLessThanOrEqual(TOL);
      }
    });

    it(`decode equals the reference at batch ${B} and picks the argmax of the reference logits`, async () => {
      const s = await session(buildDecode(SMALL, W));
      const { conv, ssm } = states(B, 60 + B);
      const ids = BigInt64Array.from({ length: B }, (_, b) => BigInt((b * 17 + 3) % SMALL.vocab_size));
      const out = await s.run({ token_ids: new ort.Tensor("int64", ids, [B]), ...feeds(B, conv, ssm) });
      const ref = referenceDecode(SMALL, W, ids, conv, ssm);
      expect(record("decode.logits", maxAbsDiff(f32(out.logits), ref.logits))).toBeLessThanOrEqual(TOL);
      expect(record("decode.ssm_state", maxAbsDiff(f32(out.ssm_state_out), ref.ssmStateOut))).toBeLessThanOrEqual(TOL);
      expect(record("decode.conv_state", maxAbsDiff(f32(out.conv_state_out), ref.convStateOut))).toBeLessThanOrEqual(TOL);
      expect(Array.from(out.next_token.data as BigInt64Array)).toEqual(Array.from(argmaxRows(ref.logits, B, SMALL.vocab_size)));
    });
  }
});

describe("mamba graphs agree with themselves", () => {
  const B = 2;

  async function prefill(s: ort.InferenceSession, embeds: Float32Array, T: number, conv: Float32Array, ssm: Float32Array) {
    const out = await s.run({ embeds: new ort.Tensor("float32", embeds, [B, T, D]), ...feeds(B, conv, ssm) });
    return { hidden: f32(out.hidden), conv: f32(out.conv_state_out), ssm: f32(out.ssm_state_out) };
  }

  /** Tokens t0..t1 of a [B, T, D] batch as a [B, t1 - t0, D] array. */
  function tokens(all: Float32Array, T: number, t0: number, t1: number): Float32Array {
    const out = new Float32Array(B * (t1 - t0) * D);
    for (let b = 0; b < B; b++) out.set(all.subarray((b * T + t0) * D, (b * T + t1) * D), b * (t1 - t0) * D);
    return out;
  }

  it("T mamba_step runs equal one mamba_prefill of T", async () => {
    const T = 7;
    const step = await session(buildMambaStep(SMALL, W));
    const pre = await session(buildMambaPrefill(SMALL, W));
    const { conv, ssm } = states(B, 70);
    const embeds = randomArray(B * T * D, 71);
    let st: { hidden: Float32Array; conv: Float32Array; ssm: Float32Array } = { hidden: new Float32Array(0), conv, ssm };
    for (let t = 0; t < T; t++) {
      const out = await step.run({ embeds: new ort.Tensor("float32", tokens(embeds, T, t, t + 1), [B, D]), ...feeds(B, st.conv, st.ssm) });
      st = { hidden: f32(out.hidden), conv: f32(out.conv_state_out), ssm: f32(out.ssm_state_out) };
    }
    const one = await prefill(pre, embeds, T, conv, ssm);
    expect(record("steps_vs_prefill.hidden", maxAbsDiff(st.hidden, one.hidden))).toBeLessThanOrEqual(TOL);
    expect(record("steps_vs_prefill.ssm_state", maxAbsDiff(st.ssm, one.ssm))).toBeLessThanOrEqual(TOL);
    expect(record("steps_vs_prefill.conv_state", maxAbsDiff(st.conv, one.conv))).toBeLessThanOrEqual(TOL);
  });

  it("prefill in chunks of 5 + 7 + 4 (and 1-token chunks) equals one pass of 16", async () => {
    const T = 16;
    const pre = await session(buildMambaPrefill(SMALL, W));
    const { conv, ssm } = states(B, 80);
    const embeds = randomArray(B * T * D, 81);
    const one = await prefill(pre, embeds, T, conv, ssm);
    for (const chunks of [[5, 7, 4], [1, 1, 14], [3, 1, 12]]) {
      let st: { hidden: Float32Array; conv: Float32Array; ssm: Float32Array } = { hidden: new Float32Array(0), conv, ssm };
      let t0 = 0;
      for (const n of chunks) {
        st = await prefill(pre, tokens(embeds, T, t0, t0 + n), n, st.conv, st.ssm);
        t0 += n;
      }
      expect(record("chunks_vs_one.hidden", maxAbsDiff(st.hidden, one.hidden))).toBeLessThanOrEqual(TOL);
      expect(record("chunks_vs_one.ssm_state", maxAbsDiff(st.ssm, one.ssm))).toBeLessThanOrEqual(TOL);
      expect(record("chunks_vs_one.conv_state", maxAbsDiff(st.conv, one.conv))).toBeLessThanOrEqual(TOL);
    }
    // The state must depend on the chunk: prefilling only the first 12 tokens gives another state.
    const partial = await prefill(pre, tokens(embeds, T, 0, 12), 12, conv, ssm);
    expect(maxAbsDiff(partial.ssm, one.ssm)).toBeGreaterThan(1e-4);
  });
});

describe("mamba_prefill's blocked recurrence", () => {
  const B = 2;

  async function run(s: ort.InferenceSession, embeds: Float32Array, T: number, conv: Float32Array, ssm: Float32Array) {
    const out = await s.run({ embeds: new ort.Tensor("float32", embeds, [B, T, D]), ...feeds(B, conv, ssm) });
    return { hidden: f32(out.hidden), conv: f32(out.conv_state_out), ssm: f32(out.ssm_state_out) };
  }

  // T below, equal to, one past and between multiples of k, and 1: padding and the tail block.
  for (const k of [1, 3, 4, 7, 8]) {
    it(`block size ${k} equals the token-by-token reference at T = 1, k − 1, k, k + 1, 2k + 3`, async () => {
      const s = await session(buildMambaPrefill(SMALL, W, { recurrence: "blocked", blockSize: k }));
      const lengths = [...new Set([1, Math.max(1, k - 1), k, k + 1, 2 * k + 3])];
      for (const T of lengths) {
        const { conv, ssm } = states(B, 90 + T);
        const embeds = randomArray(B * T * D, 100 + T);
        const out = await run(s, embeds, T, conv, ssm);
        const ref = referenceMambaPrefill(SMALL, W, embeds, B, T, conv, ssm);
        expect(record(`blocked.hidden`, maxAbsDiff(out.hidden, ref.hidden))).toBeLessThanOrEqual(TOL);
        expect(record(`blocked.ssm_state`, maxAbsDiff(out.ssm, ref.ssmStateOut))).toBeLessThanOrEqual(TOL);
        expect(record(`blocked.conv_state`, maxAbsDiff(out.conv, ref.convStateOut))).toBeLessThanOrEqual(TOL);
        // The chunk must move the state, or a pass-through graph would pass.
        expect(maxAbsDiff(ref.ssmStateOut, ssm)).toBeGreaterThan(1e-3);
      }
    });
  }

  it("is the default, and agrees with the per-token Scan form on a long chunk (several blocks)", async () => {
    const T = 5 * PREFILL_BLOCK_SIZE + 3;
    const blocked = await session(buildMambaPrefill(SMALL, W));
    const perToken = await session(buildMambaPrefill(SMALL, W, { recurrence: "scan_per_token" }));
    const explicit = await session(buildMambaPrefill(SMALL, W, { recurrence: "blocked", blockSize: PREFILL_BLOCK_SIZE }));
    const { conv, ssm } = states(B, 110);
    const embeds = randomArray(B * T * D, 111);
    const a = await run(blocked, embeds, T, conv, ssm);
    const b = await run(perToken, embeds, T, conv, ssm);
    const e = await run(explicit, embeds, T, conv, ssm);
    expect(record("blocked_vs_per_token.hidden", maxAbsDiff(a.hidden, b.hidden))).toBeLessThanOrEqual(TOL);
    expect(record("blocked_vs_per_token.ssm_state", maxAbsDiff(a.ssm, b.ssm))).toBeLessThanOrEqual(TOL);
    expect(record("blocked_vs_per_token.conv_state", maxAbsDiff(a.conv, b.conv))).toBeLessThanOrEqual(TOL);
    // The default graph is the blocked one: the same bytes, the same outputs bit for bit.
    expect(buildMambaPrefill(SMALL, W)).toEqual(buildMambaPrefill(SMALL, W, { recurrence: "blocked", blockSize: PREFILL_BLOCK_SIZE }));
    expect(buildMambaPrefill(SMALL, W)).not.toEqual(buildMambaPrefill(SMALL, W, { recurrence: "scan_per_token" }));
    expect(maxAbsDiff(a.hidden, e.hidden)).toBe(0);
    expect(maxAbsDiff(a.ssm, e.ssm)).toBe(0);
    const ref = referenceMambaPrefill(SMALL, W, embeds, B, T, conv, ssm);
    expect(record("blocked.hidden", maxAbsDiff(a.hidden, ref.hidden))).toBeLessThanOrEqual(TOL);
    expect(record("blocked.ssm_state", maxAbsDiff(a.ssm, ref.ssmStateOut))).toBeLessThanOrEqual(TOL);
  });

  it("padding steps leave the state unchanged: 1 + 2k tokens in two chunks (the first padded by k − 1) equal one pass", async () => {
    const k = 4;
    const s = await session(buildMambaPrefill(SMALL, W, { recurrence: "blocked", blockSize: k }));
    const T = 2 * k + 1;
    const { conv, ssm } = states(B, 120);
    const embeds = randomArray(B * T * D, 121);
    const one = await run(s, embeds, T, conv, ssm);
    // 1 + (T − 1): the second chunk is a whole number of blocks, the first pads k − 1 steps.
    const firstTok = new Float32Array(B * D);
    const rest = new Float32Array(B * (T - 1) * D);
    for (let b = 0; b < B; b++) {
      firstTok.set(embeds.subarray(b * T * D, (b * T + 1) * D), b * D);
      rest.set(embeds.subarray((b * T + 1) * D, (b + 1) * T * D), b * (T - 1) * D);
    }
    const first = await run(s, firstTok, 1, conv, ssm);
    const two = await run(s, rest, T - 1, first.conv, first.ssm);
    expect(record("blocked_chunks.hidden", maxAbsDiff(two.hidden, one.hidden))).toBeLessThanOrEqual(TOL);
    expect(record("blocked_chunks.ssm_state", maxAbsDiff(two.ssm, one.ssm))).toBeLessThanOrEqual(TOL);
    // And one token through the blocked graph is exactly one mamba_step's state, up to rounding.
    const step = await session(buildMambaStep(SMALL, W));
    const st = await step.run({ embeds: new ort.Tensor("float32", firstTok, [B, D]), ...feeds(B, conv, ssm) });
    expect(record("blocked_T1_vs_step.ssm_state", maxAbsDiff(f32(st.ssm_state_out), first.ssm))).toBeLessThanOrEqual(TOL);
    expect(record("blocked_T1_vs_step.hidden", maxAbsDiff(f32(st.hidden), first.hidden))).toBeLessThanOrEqual(TOL);
  });

  it("refuses a block size that is not a positive integer", () => {
    for (const blockSize of [0, -2, 2.5, Number.NaN]) {
      expect(() => buildMambaPrefill(SMALL, W, { blockSize })).toThrow(RangeError);
    }
  });
});

describe("mamba graph builders refuse bad weights with a ModelError", () => {
  const name = "backbone.layers.1.mixer.x_proj.weight";
  it.each([
    ["missing", (w: Map<string, Float32Array>) => w.delete(name)],
    ["wrongly shaped", (w: Map<string, Float32Array>) => w.set(name, new Float32Array(7))],
  ])("%s tensor names the file and the tensor", (_label, mutate) => {
    for (const build of [buildMambaStep, buildMambaPrefill, buildDecode]) {
      const w = new Map(W);
      mutate(w);
      let err: unknown;
      try {
        build(SMALL, w);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ModelError);
      expect((err as ModelError).file).toBe("model.safetensors");
      expect((err as ModelError).tensor).toBe(name);
    }
    const w = new Map(W);
    w.delete("backbone.embeddings.weight");
    expect(() => buildLmHead(SMALL, w)).toThrow(ModelError);
  });
});

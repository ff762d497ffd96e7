import { describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { backboneSizes, type BackboneConfig } from "../../../src/backbone/config.js";
import { randomWeights } from "../../../src/backbone/random_init.js";
import { buildMambaPrefill } from "../../../src/backbone/graphs/mamba_graphs.js";
import { referenceMambaPrefill, referenceProgress } from "../../../src/backbone/reference/mamba_reference.js";
import { ModelError } from "../../../src/errors.js";
import { maxAbsDiff, randomArray, session, SMALL_LM_CONFIG } from "../fixtures.js";
import { f32, record } from "./helpers.js";

/**
 * The progress head in `mamba_prefill` (config `progress_head: true`): an extra output
 * `progress` [B] = sigmoid(hidden · wᵀ + b) equal to the reference; without the flag the graph
 * is byte-identical to the one built without any head.
 */
const TOL = 1e-4;
const HEAD: BackboneConfig = { ...SMALL_LM_CONFIG, progress_head: true };
const S = backboneSizes(HEAD);
const D = HEAD.d_model;

/** Weights with a head whose bias and scale make sigmoid's output spread, not sit at 0.5. */
function headWeights(seed: number): Map<string, Float32Array> {
  const w = new Map(randomWeights(HEAD, seed));
  w.set("progress_head.weight", randomArray(D, seed + 100, 2));
  w.set("progress_head.bias", Float32Array.of(0.3));
  return w;
}

describe("mamba_prefill's progress head", () => {
  it("without progress_head the graph is byte-identical (false, absent, and a head's weights present but unused)", () => {
    const plain = randomWeights(SMALL_LM_CONFIG, 7);
    const without = buildMambaPrefill(SMALL_LM_CONFIG, plain);
    const { progress_head: _omit, ...absent } = { ...SMALL_LM_CONFIG, progress_head: false };
    void _omit;
    expect(buildMambaPrefill(absent as BackboneConfig, plain)).toEqual(without);
    expect(buildMambaPrefill({ ...SMALL_LM_CONFIG, progress_head: false }, headWeights(7))).toEqual(without);
    // And the head changes the bytes (a builder that ignored the flag would fail here).
    expect(buildMambaPrefill(HEAD, headWeights(7))).not.toEqual(without);
  });

  for (const B of [1, 3]) {
    it(`progress equals the reference at batch ${B}, and is sigmoid of the hidden output`, async () => {
      const w = headWeights(11 + B);
      const s = await session(buildMambaPrefill(HEAD, w));
      expect(s.outputNames).toEqual(["hidden", "conv_state_out", "ssm_state_out", "progress"]);
      const T = 9;
      const conv = randomArray(B * S.convStateFloats, 20 + B, 0.5);
      const ssm = randomArray(B * S.ssmStateFloats, 21 + B, 0.5);
      const embeds = randomArray(B * T * D, 22 + B);
      const out = await s.run({
        embeds: new ort.Tensor("float32", embeds, [B, T, D]),
        conv_state: new ort.Tensor("float32", conv, [B, HEAD.n_layer, S.dInner, HEAD.d_conv]),
        ssm_state: new ort.Tensor("float32", ssm, [B, HEAD.n_layer, S.dInner, HEAD.d_state]),
      });
      expect(out.progress.dims).toEqual([B]);
      const ref = referenceMambaPrefill(HEAD, w, embeds, B, T, conv, ssm);
      const refProgress = referenceProgress(HEAD, w, ref.hidden, B);
      expect(record("prefill.progress", maxAbsDiff(f32(out.progress), refProgress))).toBeLessThanOrEqual(TOL);
      expect(record("prefill.hidden(head)", maxAbsDiff(f32(out.hidden), ref.hidden))).toBeLessThanOrEqual(TOL);
      // The head reads the graph's own hidden output (after norm_f).
      expect(maxAbsDiff(f32(out.progress), referenceProgress(HEAD, w, f32(out.hidden), B))).toBeLessThanOrEqual(1e-5);
      for (const p of f32(out.progress)) expect(p > 0 && p < 1).toBe(true);
      if (B > 1) expect(new Set(Array.from(f32(out.progress), (v) => v.toFixed(4))).size).toBeGreaterThan(1);
    });
  }

  it("a missing or wrongly shaped head tensor is a ModelError naming it", () => {
    for (const mutate of [
      (w: Map<string, Float32Array>) => w.delete("progress_head.weight"),
      (w: Map<string, Float32Array>) => w.set("progress_head.bias", new Float32Array(2)),
    ]) {
      const w = headWeights(3);
      mutate(w);
      let err: unknown;
      try {
        buildMambaPrefill(HEAD, w);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ModelError);
      expect((err as ModelError).tensor).toMatch(/^progress_head\./);
    }
  });
});

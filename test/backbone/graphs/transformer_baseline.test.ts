import { afterAll, describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { TINY_CONFIG } from "../../../src/backbone/config.js";
import { buildTransformerStep, mambaLayerParams, transformerDims, transformerLayerParams, transformerWeights } from "../../../src/backbone/graphs/transformer_baseline.js";
import { referenceTransformerStep } from "../../../src/backbone/reference/transformer_reference.js";
import { parameterCount } from "../../../src/backbone/tensor_names.js";
import { ModelError } from "../../../src/errors.js";
import { maxAbsDiff, randomArray, session, SMALL_LM_CONFIG as SMALL } from "../fixtures.js";
import { errors, f32, record } from "./helpers.js";

const TOL = 1e-4;
// d_model 128 gives two heads, so the per-head reshapes are exercised.
const CFG = { ...SMALL, d_model: 128 };
const d = transformerDims(CFG);
const W = transformerWeights(d, 5);

afterAll(() => {
  console.log(`transformer_step max abs error vs reference: ${JSON.stringify(errors)}`);
});

describe("transformer baseline", () => {
  it("has the Mamba layer's parameter count within one MLP column", () => {
    for (const c of [SMALL, CFG, TINY_CONFIG]) {
      const t = transformerDims(c);
      expect(Math.abs(transformerLayerParams(t) - mambaLayerParams(c))).toBeLessThanOrEqual(3 * c.d_model / 2);
    }
    // mambaLayerParams agrees with the tensor table: the model is embeddings + layers + norm_f.
    const c = TINY_CONFIG;
    const layers = parameterCount({ ...c, n_layer: 2 }) - parameterCount({ ...c, n_layer: 1 });
    expect(layers).toBe(mambaLayerParams(c));
    expect(d.heads).toBe(2);
  });

  for (const B of [1, 3]) {
    for (const S of [0, 9]) {
      it(`transformer_step equals the reference at batch ${B}, cache length ${S}`, async () => {
        const embeds = randomArray(B * d.dModel, 90 + B);
        const n = d.nLayer * B * d.heads * S * d.headDim;
        const pk = randomArray(n, 91 + S, 0.5);
        const pv = randomArray(n, 92 + S, 0.5);
        const ref = referenceTransformerStep(d, W, embeds, B, pk, pv, S);
        const dims = [d.nLayer, B, d.heads, S, d.headDim];
        const s = await session(buildTransformerStep(d, W));
        expect(s.inputNames).toEqual(["embeds", "past_keys", "past_values"]);
        expect(s.outputNames).toEqual(["hidden", "new_keys", "new_values"]);
        const out = await s.run({
          embeds: new ort.Tensor("float32", embeds, [B, d.dModel]),
          past_keys: new ort.Tensor("float32", pk, dims),
          past_values: new ort.Tensor("float32", pv, dims),
        });
        expect(out.new_keys.dims).toEqual([d.nLayer, B, d.heads, 1, d.headDim]);
        expect(record("transformer.hidden", maxAbsDiff(f32(out.hidden), ref.hidden))).toBeLessThanOrEqual(TOL);
        expect(record("transformer.new_keys", maxAbsDiff(f32(out.new_keys), ref.newKeys))).toBeLessThanOrEqual(TOL);
        expect(record("transformer.new_values", maxAbsDiff(f32(out.new_values), ref.newValues))).toBeLessThanOrEqual(TOL);

        // Per-layer cache inputs compute the same thing.
        const sp = await session(buildTransformerStep(d, W, { cacheInputs: "per_layer" }));
        const per: Record<string, ort.Tensor> = { embeds: new ort.Tensor("float32", embeds, [B, d.dModel]) };
        const layer = n / d.nLayer;
        for (let l = 0; l < d.nLayer; l++) {
          per[`past_keys.${l}`] = new ort.Tensor("float32", pk.slice(l * layer, (l + 1) * layer), dims.slice(1));
          per[`past_values.${l}`] = new ort.Tensor("float32", pv.slice(l * layer, (l + 1) * layer), dims.slice(1));
        }
        const outP = await sp.run(per);
        expect(record("transformer_per_layer.hidden", maxAbsDiff(f32(outP.hidden), ref.hidden))).toBeLessThanOrEqual(TOL);
      });
    }
  }

  it("attends to the cache (changing a past value changes the output)", async () => {
    const B = 1;
    const S = 4;
    const embeds = randomArray(d.dModel, 1);
    const n = d.nLayer * d.heads * S * d.headDim;
    const pk = randomArray(n, 2);
    const pv = randomArray(n, 3);
    const a = referenceTransformerStep(d, W, embeds, B, pk, pv, S);
    const pv2 = pv.map((v) => v + 1);
    const b = referenceTransformerStep(d, W, embeds, B, pk, pv2, S);
    expect(maxAbsDiff(a.hidden, b.hidden)).toBeGreaterThan(1e-3);
  });

  it("refuses a missing weight with a ModelError naming it", () => {
    const w = new Map(W);
    w.delete("layers.1.mlp.up.weight");
    expect(() => buildTransformerStep(d, w)).toThrow(ModelError);
    expect(() => buildTransformerStep(d, w)).toThrow(/layers\.1\.mlp\.up\.weight/);
  });
});

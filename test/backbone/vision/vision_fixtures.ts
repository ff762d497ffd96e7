import * as ort from "onnxruntime-node";
import type { BackboneConfig } from "../../../src/backbone/config.js";
import { expectedTensors } from "../../../src/backbone/tensor_names.js";
import { mulberry32 } from "../../../src/random/mulberry32.js";

/**
 * Seeded weights at a scale where every term matters (randomWeights' 0.02 ViT init would make
 * attention nearly uniform and a wrong head split could hide under the tolerance): linears
 * uniform ±1.5/√fan_in, biases ±0.2, LayerNorm gains 1 ± 0.3, position embeddings ±0.5.
 */
export function testWeights(config: BackboneConfig, seed: number): Map<string, Float32Array> {
  const rand = mulberry32(seed);
  const out = new Map<string, Float32Array>();
  for (const spec of expectedTensors(config)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    const fanIn = n / spec.shape[0];
    const name = spec.name;
    let lo = -1, hi = 1;
    if (name.endsWith("norm1.weight") || name.endsWith("norm2.weight") || name.endsWith(".norm.weight")) { lo = 0.7; hi = 1.3; }
    else if (name.endsWith(".bias")) { lo = -0.2; hi = 0.2; }
    else if (name.includes("pos_embed")) { lo = -0.5; hi = 0.5; }
    else { lo = -1.5 / Math.sqrt(fanIn); hi = -lo; }
    for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * rand();
    out.set(name, a);
  }
  return out;
}

export async function runVision(s: ort.InferenceSession, patches: Float32Array, batch: number, positions: readonly number[], patchDim: number): Promise<Float32Array> {
  const out = await s.run({
    patches: new ort.Tensor("float32", patches, [batch, positions.length, patchDim]),
    positions: new ort.Tensor("int64", BigInt64Array.from(positions, (p) => BigInt(p)), [positions.length]),
  });
  return out.features.data as Float32Array;
}

export async function runProjector(s: ort.InferenceSession, features: Float32Array, pool: Float32Array, batch: number, tokens: number, cells: number, width: number): Promise<Float32Array> {
  const out = await s.run({
    features: new ort.Tensor("float32", features, [batch, tokens, width]),
    pool: new ort.Tensor("float32", pool, [batch, cells, tokens]),
  });
  return out.tokens.data as Float32Array;
}

import { describe, expect, it, beforeAll } from "vitest";
import type * as ort from "onnxruntime-node";
import { backboneSizes } from "../../../src/backbone/config.js";
import { ModelError } from "../../../src/errors.js";
import { buildProjectorGraph, buildVisionGraph } from "../../../src/backbone/graphs/vision_graphs.js";
import { erf, projectorReference, visionReference } from "../../../src/backbone/reference/vision_reference.js";
import { fullImagePool } from "../../../src/backbone/coarse_to_fine.js";
import { maxAbsDiff, randomArray, session, SMALL_VISION_CONFIG as SMALL_CONFIG } from "../fixtures.js";
import { runProjector, runVision, testWeights } from "./vision_fixtures.js";

const config = SMALL_CONFIG;
const s = backboneSizes(config);
const weights = testWeights(config, 7);
const TOL = 1e-4;

let vision: ort.InferenceSession;
let coarse: ort.InferenceSession;
let projector: ort.InferenceSession;

beforeAll(async () => {
  vision = await session(buildVisionGraph(config, weights).toModelBytes());
  coarse = await session(buildVisionGraph(config, weights, true).toModelBytes());
  projector = await session(buildProjectorGraph(config, weights).toModelBytes());
});

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe("vision graphs equal the TypeScript reference", () => {
  const cases: { name: string; coarse: boolean; batch: number; positions: number[] }[] = [
    { name: "vision, all patches, B=1", coarse: false, batch: 1, positions: range(s.patches) },
    { name: "vision, all patches, B=2", coarse: false, batch: 2, positions: range(s.patches) },
    { name: "vision, a subset, B=1", coarse: false, batch: 1, positions: [0, 3, 5, 6, 10, 15] },
    { name: "vision, a subset, B=2", coarse: false, batch: 2, positions: [1, 2, 7, 8, 9, 12, 14] },
    { name: "vision, one patch, B=1", coarse: false, batch: 1, positions: [9] },
    { name: "vision_coarse, all, B=1", coarse: true, batch: 1, positions: range(s.coarsePatches) },
    { name: "vision_coarse, all, B=2", coarse: true, batch: 2, positions: range(s.coarsePatches) },
    { name: "vision_coarse, a subset, B=2", coarse: true, batch: 2, positions: [0, 3] },
  ];
  for (const [i, c] of cases.entries()) {
    it(c.name, async () => {
      const patches = randomArray(c.batch * c.positions.length * s.patchDim, 100 + i, 2);
      const got = await runVision(c.coarse ? coarse : vision, patches, c.batch, c.positions, s.patchDim);
      const want = visionReference(config, weights, patches, c.batch, c.positions, c.coarse);
      expect(got.length).toBe(c.batch * c.positions.length * s.featureWidth);
      const err = maxAbsDiff(got, want);
      console.log(`max abs error ${c.name}: ${err.toExponential(2)}`);
      expect(err).toBeLessThanOrEqual(TOL);
      // The features are not trivially small: LayerNorm output with gains ~1.
      expect(Math.max(...Array.from(want, Math.abs))).toBeGreaterThan(0.5);
    });
  }

  it("batch rows are independent and the position embedding follows `positions`", async () => {
    const one = randomArray(4 * s.patchDim, 200, 2);
    const two = new Float32Array(8 * s.patchDim);
    two.set(one);
    two.set(randomArray(4 * s.patchDim, 201, 2), one.length);
    const a = await runVision(vision, one, 1, [0, 1, 2, 3], s.patchDim);
    const b = await runVision(vision, two, 2, [0, 1, 2, 3], s.patchDim);
    expect(maxAbsDiff(a, b.subarray(0, a.length))).toBeLessThanOrEqual(1e-5);
    const moved = await runVision(vision, one, 1, [4, 5, 6, 7], s.patchDim);
    expect(maxAbsDiff(a, moved)).toBeGreaterThan(1e-2);
  });

  it("projector equals the reference: full-image pool at B=1 and 2, a ragged pool over a subset", async () => {
    const C = s.featureWidth;
    const full = fullImagePool(config);
    for (const batch of [1, 2]) {
      const features = randomArray(batch * s.patches * C, 300 + batch, 1.5);
      const pool = new Float32Array(batch * full.length);
      for (let b = 0; b < batch; b++) pool.set(full, b * full.length);
      const got = await runProjector(projector, features, pool, batch, s.patches, s.visualTokens, C);
      const want = projectorReference(config, weights, features, pool, batch, s.patches, s.visualTokens);
      const err = maxAbsDiff(got, want);
      console.log(`max abs error projector full B=${batch}: ${err.toExponential(2)}`);
      expect(err).toBeLessThanOrEqual(TOL);
    }
    // 5 tokens in 3 cells, unequal weights, batch 2.
    const T = 5, cells = 3, batch = 2;
    const features = randomArray(batch * T * C, 310, 1.5);
    const pool = randomArray(batch * cells * T, 311, 1);
    const got = await runProjector(projector, features, pool, batch, T, cells, C);
    const want = projectorReference(config, weights, features, pool, batch, T, cells);
    const err = maxAbsDiff(got, want);
    console.log(`max abs error projector subset B=2: ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(TOL);
    expect(got.length).toBe(batch * cells * config.d_model);
  });

  it("the reference's erf matches known values", () => {
    const known: [number, number][] = [[0, 0], [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149], [2, 0.9953222650189527], [2.5, 0.999593047982555], [3, 0.9999779095030014], [-1.5, -0.9661051464753108]];
    for (const [x, y] of known) expect(Math.abs(erf(x) - y)).toBeLessThan(1e-12);
  });
});

describe("vision graphs check their weights", () => {
  it("a missing tensor is a ModelError naming it", () => {
    const w = new Map(weights);
    w.delete("vision.siglip.blocks.0.attn.qkv.weight");
    const err = (() => { try { buildVisionGraph(config, w); } catch (e) { return e; } return null; })();
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).tensor).toBe("vision.siglip.blocks.0.attn.qkv.weight");
    expect((err as ModelError).file).toBe("model.safetensors");
  });

  it("a tensor of the wrong size is a ModelError naming it, for each graph", () => {
    const cases: [string, () => unknown][] = [
      ["vision.dino.pos_embed", () => buildVisionGraph(config, w1)],
      ["vision.dino.pos_embed_coarse", () => buildVisionGraph(config, w2, true)],
      ["projector.fc1.weight", () => buildProjectorGraph(config, w3)],
    ];
    const w1 = new Map(weights).set("vision.dino.pos_embed", new Float32Array(5));
    const w2 = new Map(weights).set("vision.dino.pos_embed_coarse", new Float32Array(s.patches * 16));
    const w3 = new Map(weights).set("projector.fc1.weight", new Float32Array(3));
    for (const [name, build] of cases) {
      expect(build).toThrow(ModelError);
      try { build(); } catch (e) { expect((e as ModelError).tensor).toBe(name); }
    }
  });

  it("vision_coarse without coarse_to_fine in the config is a ModelError", () => {
    expect(() => buildVisionGraph({ ...config, coarse_to_fine: null }, weights, true)).toThrow(ModelError);
  });
});

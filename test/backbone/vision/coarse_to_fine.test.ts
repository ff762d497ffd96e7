import { beforeAll, describe, expect, it } from "vitest";
import type * as ort from "onnxruntime-node";
import { backboneSizes, type BackboneConfig } from "../../../src/backbone/config.js";
import { childFineIndex, CoarseToFineSelector, fullImagePool, keptPatchCount } from "../../../src/backbone/coarse_to_fine.js";
import { buildProjectorGraph, buildVisionGraph } from "../../../src/backbone/graphs/vision_graphs.js";
import { ImagePreprocessor } from "../../../src/backbone/image_preprocess.js";
import { projectorReference, visionReference } from "../../../src/backbone/reference/vision_reference.js";
import { InvalidInputError, ModelError } from "../../../src/errors.js";
import { mulberry32 } from "../../../src/random/mulberry32.js";
import { maxAbsDiff, randomArray, session, SMALL_VISION_CONFIG as SMALL_CONFIG } from "../fixtures.js";
import { runProjector, runVision, testWeights } from "./vision_fixtures.js";

const config = SMALL_CONFIG; // G 4, P 16, coarse 2×2, cells 2×2
const s = backboneSizes(config);
const C = s.featureWidth;
const weights = testWeights(config, 5);

const kept = (sel: CoarseToFineSelector): number[] => Array.from(sel.positions.subarray(0, sel.keptCount), Number);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Weights whose keep score is coarse feature channel 0 plus a per-child bias. */
function scoringWeights(childBias: readonly number[]): Map<string, Float32Array> {
  const w = new Map(weights);
  const sw = new Float32Array(4 * C);
  for (let k = 0; k < 4; k++) sw[k * C] = 1;
  w.set("c2f.score.weight", sw);
  w.set("c2f.score.bias", Float32Array.from(childBias));
  return w;
}

describe("coarse-to-fine selection", () => {
  it("keeps round(keep_ratio · P) patches, at least one", () => {
    for (const [ratio, want] of [[0.5, 8], [0.65, 10], [0.01, 1], [1, 16], [0.3, 5]]) {
      const sel = new CoarseToFineSelector(config, weights, ratio);
      expect(sel.keptCount).toBe(want);
      expect(sel.merged).toBe(16 - want);
      sel.select(randomArray(s.coarsePatches * C, 1));
      expect(kept(sel)).toHaveLength(want);
    }
    expect(keptPatchCount(196, 0.65)).toBe(127);
  });

  it("children are row-major 2×2 within their coarse patch, mapped to the fine grid", () => {
    expect([0, 1, 2, 3].map((k) => childFineIndex(0, k, 4))).toEqual([0, 1, 4, 5]);
    expect([0, 1, 2, 3].map((k) => childFineIndex(3, k, 4))).toEqual([10, 11, 14, 15]);
    expect([0, 1, 2, 3].map((k) => childFineIndex(4, k, 6))).toEqual([14, 15, 20, 21]);
    const sel = new CoarseToFineSelector(config, scoringWeights([0, 0.1, 0.2, 0.3]), 0.5);
    const f = new Float32Array(s.coarsePatches * C);
    for (let j = 0; j < 4; j++) f[j * C] = j; // coarse patch j scores j + child bias
    sel.select(f);
    expect(sel.scores[childFineIndex(2, 3, 4)]).toBeCloseTo(2.3, 6);
    expect(sel.scores[5]).toBeCloseTo(0.3, 6); // coarse 0, child 3 = fine (1, 1)
    // The two best coarse patches (2 and 3: the bottom half) keep all their children.
    expect(kept(sel)).toEqual([8, 9, 10, 11, 12, 13, 14, 15]);
  });

  it("the higher score wins; equal scores go to the lower index", () => {
    const sel = new CoarseToFineSelector(config, weights, 0.25); // K = 4
    sel.scores.set([0, 5, 1, 9, 0, 0, 3, 0, 7, 0, 0, 0, 0, 0, 0, 2]);
    expect(kept(sel.selectFromScores())).toEqual([1, 3, 6, 8]);
    sel.scores.fill(1);
    expect(kept(sel.selectFromScores())).toEqual([0, 1, 2, 3]);
    sel.scores.fill(1);
    sel.scores[15] = 1.0001;
    sel.scores[7] = NaN; // a NaN score never wins
    expect(kept(sel.selectFromScores())).toEqual([0, 1, 2, 15]);
    sel.scores.fill(NaN);
    expect(kept(sel.selectFromScores())).toEqual([0, 1, 2, 3]);
  });

  it("each pool row averages its cell's kept patches; cells with none are dropped", () => {
    const sel = new CoarseToFineSelector(config, weights, 0.25);
    // Keep 0, 1 (cell 0), 2 (cell 1), 15 (cell 3); cell 2 has none.
    sel.scores.fill(0);
    for (const i of [0, 1, 2, 15]) sel.scores[i] = 1;
    sel.selectFromScores();
    expect(sel.cells).toBe(3);
    expect(Array.from(sel.cellIndex.subarray(0, 3))).toEqual([0, 1, 3]);
    expect(Array.from(sel.pool.subarray(0, 12))).toEqual([0.5, 0.5, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  });

  it("merge token is merge_token + (merged / P) · count_embed", () => {
    const sel = new CoarseToFineSelector(config, weights, 0.25);
    const m = weights.get("c2f.merge_token")!, c = weights.get("c2f.count_embed")!;
    expect(sel.merged).toBe(12);
    for (let i = 0; i < config.d_model; i++) expect(sel.mergeToken[i]).toBeCloseTo(m[i] + (12 / 16) * c[i], 6);
    expect(new CoarseToFineSelector(config, weights, 1).merged).toBe(0);
  });

  it("keep_ratio 1 reproduces the full pooling and positions", () => {
    const sel = new CoarseToFineSelector(config, weights, 1).select(randomArray(s.coarsePatches * C, 9, 3));
    expect(kept(sel)).toEqual(range(16));
    expect(sel.cells).toBe(s.visualTokens);
    expect(Array.from(sel.pool.subarray(0, sel.cells * 16))).toEqual(Array.from(fullImagePool(config)));
  });

  it("the question term changes the selection towards the patch it matches, and only then", () => {
    const w = new Map(weights).set("c2f.score.weight", new Float32Array(4 * C)).set("c2f.score.bias", new Float32Array(4));
    const sel = new CoarseToFineSelector(config, w, 0.25);
    const f = randomArray(s.coarsePatches * C, 4);
    expect(kept(sel.select(f))).toEqual([0, 1, 2, 3]); // all tied: lowest indices
    const d = config.d_model;
    const embedding = randomArray(d, 12);
    const coarseTokens = randomArray(s.coarsePatches * d, 13, 0.1);
    for (let i = 0; i < d; i++) coarseTokens[2 * d + i] = embedding[i]; // coarse patch 2 (bottom-left) matches
    expect(kept(sel.select(f, { embedding, coarseTokens }))).toEqual([8, 9, 12, 13]);
    // A question orthogonal to every coarse token leaves the selection alone.
    const zero = new Float32Array(d);
    expect(kept(sel.select(f, { embedding: zero, coarseTokens }))).toEqual([0, 1, 2, 3]);
  });

  it("refuses bad arguments with typed errors", () => {
    expect(() => new CoarseToFineSelector(config, weights, 0)).toThrow(InvalidInputError);
    expect(() => new CoarseToFineSelector(config, weights, 1.5)).toThrow(InvalidInputError);
    expect(() => new CoarseToFineSelector({ ...config, coarse_to_fine: null }, weights, 0.5)).toThrow(ModelError);
    const w = new Map(weights);
    w.delete("c2f.count_embed");
    try {
      new CoarseToFineSelector(config, w, 0.5);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ModelError);
      expect((e as ModelError).tensor).toBe("c2f.count_embed");
    }
    const sel = new CoarseToFineSelector(config, weights, 0.5);
    expect(() => sel.select(new Float32Array(3))).toThrow(InvalidInputError);
    expect(() => sel.select(randomArray(s.coarsePatches * C, 1), { embedding: new Float32Array(2), coarseTokens: new Float32Array(64) })).toThrow(InvalidInputError);
  });

  it("property: random scores on several grids give valid positions and pools, the top-K by score", () => {
    const rand = mulberry32(77);
    const configs: BackboneConfig[] = [
      config,
      { ...config, image_size: 48, patch_size: 4, projector: { hidden: 8, token_pool: 3 } }, // G 12, cells 4×4
      { ...config, image_size: 56, patch_size: 4, projector: { hidden: 8, token_pool: 7 } }, // G 14, cells 2×2
      { ...config, image_size: 24, patch_size: 4, projector: { hidden: 8, token_pool: 1 } }, // G 6, cells = patches
    ];
    for (let trial = 0; trial < 300; trial++) {
      const cfg = configs[trial % configs.length];
      const z = backboneSizes(cfg);
      const w = testWeights(cfg, 1);
      const sel = new CoarseToFineSelector(cfg, w, 0.01 + 0.99 * rand());
      const P = z.patches, K = sel.keptCount;
      for (let i = 0; i < P; i++) {
        const r = rand();
        sel.scores[i] = r < 0.05 ? NaN : r < 0.1 ? Infinity : r < 0.15 ? -Infinity : r < 0.4 ? 0.5 : Math.fround(rand() * 4 - 2);
      }
      const scores = Float32Array.from(sel.scores, (v) => (Number.isNaN(v) ? -Infinity : v));
      sel.selectFromScores();
      const pos = kept(sel);
      expect(pos).toHaveLength(K);
      for (let t = 0; t < K; t++) {
        expect(pos[t]).toBeGreaterThanOrEqual(0);
        expect(pos[t]).toBeLessThan(P);
        if (t > 0) expect(pos[t]).toBeGreaterThan(pos[t - 1]);
      }
      // Naive top-K (±Infinity scores rule out subtraction comparators).
      const best = range(P).sort((a, b) => (scores[a] === scores[b] ? a - b : scores[a] > scores[b] ? -1 : 1)).slice(0, K).sort((a, b) => a - b);
      expect(pos).toEqual(best);
      // Pool: rows sum to 1, every kept patch in exactly one row, of its own cell, cells ascending within the grid.
      const cells = sel.cells;
      expect(cells).toBeGreaterThan(0);
      expect(cells).toBeLessThanOrEqual(z.visualTokens);
      const colHits = new Array<number>(K).fill(0);
      for (let r = 0; r < cells; r++) {
        const cell = sel.cellIndex[r];
        expect(cell).toBeGreaterThanOrEqual(0);
        expect(cell).toBeLessThan(z.visualTokens);
        if (r > 0) expect(cell).toBeGreaterThan(sel.cellIndex[r - 1]);
        let sum = 0;
        for (let t = 0; t < K; t++) {
          const v = sel.pool[r * K + t];
          if (v === 0) continue;
          sum += v;
          colHits[t]++;
          const i = pos[t], tp = cfg.projector.token_pool;
          expect(Math.floor(Math.floor(i / z.gridSide) / tp) * z.cellSide + Math.floor((i % z.gridSide) / tp)).toBe(cell);
        }
        expect(sum).toBeCloseTo(1, 5);
      }
      expect(colHits.every((h) => h === 1)).toBe(true);
    }
  });
});

describe("coarse-to-fine through the ONNX graphs", () => {
  let vision: ort.InferenceSession;
  let coarse: ort.InferenceSession;
  let projector: ort.InferenceSession;
  beforeAll(async () => {
    vision = await session(buildVisionGraph(config, weights).toModelBytes());
    coarse = await session(buildVisionGraph(config, weights, true).toModelBytes());
    projector = await session(buildProjectorGraph(config, weights).toModelBytes());
  });

  /** A frame: quadrants of different texture so the coarse features differ. */
  function frame(): ImagePreprocessor {
    const pre = new ImagePreprocessor(config);
    const rand = mulberry32(21);
    const w = 64, h = 48;
    const data = new Uint8Array(w * h * 3);
    for (let i = 0; i < data.length; i++) data[i] = Math.floor(rand() * 256) * ((i / 3) % w < 32 ? 1 : 0.3);
    pre.process({ width: w, height: h, encoding: "rgb8", step: w * 3, data });
    return pre;
  }

  async function c2fTokens(pre: ImagePreprocessor, sel: CoarseToFineSelector): Promise<Float32Array> {
    const cf = await runVision(coarse, pre.coarsePatches, 1, range(s.coarsePatches), s.patchDim);
    sel.select(cf);
    const K = sel.keptCount;
    const feats = await runVision(vision, sel.gatherPatches(pre.patches), 1, kept(sel), s.patchDim);
    return runProjector(projector, feats, sel.pool.slice(0, sel.cells * K), 1, K, sel.cells, C);
  }

  it("keep_ratio 1 gives the full path's tokens (answers cannot change when everything is kept)", async () => {
    const pre = frame();
    const full = await runProjector(projector, await runVision(vision, pre.patches, 1, range(16), s.patchDim), fullImagePool(config), 1, 16, s.visualTokens, C);
    const sel = new CoarseToFineSelector(config, weights, 1);
    const got = await c2fTokens(pre, sel);
    expect(sel.merged).toBe(0);
    expect(got.length).toBe(full.length);
    expect(maxAbsDiff(got, full)).toBeLessThanOrEqual(1e-6);
  });

  it("a partial selection's tokens equal the reference on the kept patches", async () => {
    const pre = frame();
    const sel = new CoarseToFineSelector(config, weights, 0.5);
    const got = await c2fTokens(pre, sel);
    const refCoarse = visionReference(config, weights, pre.coarsePatches, 1, range(s.coarsePatches), true);
    const refSel = new CoarseToFineSelector(config, weights, 0.5).select(refCoarse);
    expect(kept(refSel)).toEqual(kept(sel));
    const feats = visionReference(config, weights, refSel.gatherPatches(pre.patches), 1, kept(refSel));
    const want = projectorReference(config, weights, feats, refSel.pool.slice(0, refSel.cells * 8), 1, 8, refSel.cells);
    const err = maxAbsDiff(got, want);
    console.log(`max abs error coarse-to-fine tokens (keep 0.5): ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(1e-4);
    expect(got.length).toBe(sel.cells * config.d_model);
  });
});

import { beforeAll, describe, expect, it } from "vitest";
import * as ort from "onnxruntime-node";
import { backboneSizes, type BackboneConfig } from "../../../src/backbone/config.js";
import { childFineIndex, coarseDepthOf, CoarseToFineSelector, DEFAULT_COARSE_DEPTH, fullImagePool, layoutC2fTokens } from "../../../src/backbone/coarse_to_fine.js";
import { buildCoarseToFineGraph, buildVisionGraph, buildVisionProjectorGraph, buildProjectorGraph } from "../../../src/backbone/graphs/vision_graphs.js";
import { coarseProjectedTokens, coarseToFineReference, projectorReference, visionReference } from "../../../src/backbone/reference/vision_reference.js";
import { ModelError } from "../../../src/errors.js";
import { maxAbsDiff, randomArray, session, SMALL_VISION_CONFIG as SMALL_CONFIG } from "../fixtures.js";
import { runProjector, runVision, testWeights } from "./vision_fixtures.js";

const config = SMALL_CONFIG; // G 4, P 16, coarse 2×2, cells 2×2; dino depth 2, siglip depth 1
const s = backboneSizes(config);
const D = s.patchDim, P = s.patches, Tc = s.coarsePatches, d = config.d_model;
const weights = testWeights(config, 11);
const TOL = 1e-4;
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

interface C2fOut {
  tokens: Float32Array;
  counts: Float32Array;
  kept: number[][];
  scores: Float32Array;
}

async function runC2f(sess: ort.InferenceSession, fine: Float32Array, coarse: Float32Array, batch: number, question?: Float32Array): Promise<C2fOut> {
  const feeds: Record<string, ort.Tensor> = {
    patches: new ort.Tensor("float32", fine, [batch, P, D]),
    coarse_patches: new ort.Tensor("float32", coarse, [batch, Tc, D]),
  };
  if (question) feeds.question = new ort.Tensor("float32", question, [batch, d]);
  const out = await sess.run(feeds);
  const K = out.kept.dims[1];
  const keptFlat = Array.from(out.kept.data as BigInt64Array, Number);
  return {
    tokens: out.tokens.data as Float32Array,
    counts: out.cell_counts.data as Float32Array,
    kept: range(batch).map((b) => keptFlat.slice(b * K, (b + 1) * K)),
    scores: out.scores.data as Float32Array,
  };
}

/** Member b's laid-out tokens (non-empty cells, then the merge token), as the worker builds them. */
function laidOut(out: C2fOut, b: number, sel: CoarseToFineSelector): Float32Array {
  const cells = s.visualTokens;
  const buf = new Float32Array((cells + 1) * d);
  const T = layoutC2fTokens(buf, 0, out.tokens.subarray(b * cells * d, (b + 1) * cells * d), out.counts.subarray(b * cells, (b + 1) * cells), sel.mergeToken, sel.merged);
  return buf.slice(0, T * d);
}

describe("vision_c2f (coarse-to-fine in one run) equals the reference", () => {
  const sessions = new Map<string, ort.InferenceSession>();
  const graph = async (keepRatio: number, coarseDepth?: number): Promise<ort.InferenceSession> => {
    const key = `${keepRatio}/${coarseDepth}`;
    let sess = sessions.get(key);
    if (!sess) {
      sess = await session(buildCoarseToFineGraph(config, weights, { keepRatio, coarseDepth }).toModelBytes());
      sessions.set(key, sess);
    }
    return sess;
  };

  for (const [keepRatio, coarseDepth] of [[0.5, undefined], [0.5, 0], [0.5, 1], [0.65, 0], [0.25, 2]] as [number, number | undefined][]) {
    it(`keep ${keepRatio}, coarse_depth ${coarseDepth ?? "default"}, batch 2: kept patches, scores, counts and tokens per member`, async () => {
      const fine = randomArray(2 * P * D, 40 + keepRatio * 100, 2);
      const coarse = randomArray(2 * Tc * D, 50 + keepRatio * 100, 2);
      const got = await runC2f(await graph(keepRatio, coarseDepth), fine, coarse, 2);
      const sel = new CoarseToFineSelector(config, weights, keepRatio);
      for (const b of [0, 1]) {
        const want = coarseToFineReference(config, weights, fine.slice(b * P * D, (b + 1) * P * D), coarse.slice(b * Tc * D, (b + 1) * Tc * D), keepRatio, coarseDepth);
        expect(got.kept[b]).toEqual(want.kept);
        expect(got.kept[b]).toHaveLength(sel.keptCount);
        expect(maxAbsDiff(got.scores.subarray(b * P, (b + 1) * P), want.scores)).toBeLessThanOrEqual(TOL);
        expect(Array.from(got.counts.subarray(b * s.visualTokens, (b + 1) * s.visualTokens))).toEqual(Array.from(want.counts));
        const tokens = laidOut(got, b, sel);
        expect(tokens.length).toBe(want.tokens.length);
        const err = maxAbsDiff(tokens, want.tokens);
        console.log(`max abs error vision_c2f keep ${keepRatio} depth ${coarseDepth ?? "default"} member ${b}: ${err.toExponential(2)}`);
        expect(err).toBeLessThanOrEqual(TOL);
      }
      // The two members' frames differ, so a graph mixing batch rows would fail above; check they did differ.
      expect(got.kept[0]).not.toEqual(got.kept[1]);
    });
  }

  it("the coarse depth changes the scores (the option reaches the graph)", async () => {
    const fine = randomArray(P * D, 60, 2);
    const coarse = randomArray(Tc * D, 61, 2);
    const a = await runC2f(await graph(0.5, 0), fine, coarse, 1);
    const b = await runC2f(await graph(0.5, 2), fine, coarse, 1);
    expect(maxAbsDiff(a.scores, b.scores)).toBeGreaterThan(1e-2);
  });

  it("keep_ratio 1 gives the full path's tokens (vision + projector on every patch)", async () => {
    const fine = randomArray(P * D, 70, 2);
    const coarse = randomArray(Tc * D, 71, 2);
    const got = await runC2f(await graph(1), fine, coarse, 1);
    expect(got.kept[0]).toEqual(range(P));
    const vision = await session(buildVisionGraph(config, weights).toModelBytes());
    const projector = await session(buildProjectorGraph(config, weights).toModelBytes());
    const full = await runProjector(projector, await runVision(vision, fine, 1, range(P), D), fullImagePool(config), 1, P, s.visualTokens, s.featureWidth);
    const sel = new CoarseToFineSelector(config, weights, 1);
    expect(sel.merged).toBe(0);
    const tokens = laidOut(got, 0, sel);
    expect(tokens.length).toBe(full.length); // no merge token, no dropped cell
    expect(maxAbsDiff(tokens, full)).toBeLessThanOrEqual(1e-6);
  });

  it("ties go to the lower index and NaN scores rank last, as CoarseToFineSelector", async () => {
    // Scores = the child's bias alone: children 1 and 2 of every coarse patch tie at the top (8
    // patches); keep 6 of them, so the tie straddles the cut.
    const w = new Map(weights).set("c2f.score.weight", new Float32Array(4 * s.featureWidth)).set("c2f.score.bias", Float32Array.of(0, 1, 1, 0));
    const sess = await session(buildCoarseToFineGraph(config, w, { keepRatio: 6 / 16 }).toModelBytes());
    const sel = new CoarseToFineSelector(config, w, 6 / 16);
    const fine = randomArray(P * D, 80, 2), coarse = randomArray(Tc * D, 81, 2);
    const got = await runC2f(sess, fine, coarse, 1);
    sel.scores.set(got.scores);
    const want = Array.from(sel.selectFromScores().keptIndex.subarray(0, 6));
    expect(want).toEqual([1, 3, 4, 6, 9, 11]); // the 8 tied: 1, 4 | 3, 6 | 9, 12 | 11, 14
    expect(got.kept[0]).toEqual(want);
    // A non-finite frame makes every score NaN: the lowest indices are kept, nothing crashes.
    const nan = fine.slice();
    const bad = coarse.slice().fill(NaN);
    const g2 = await runC2f(sess, nan, bad, 1);
    expect(g2.kept[0]).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(g2.scores).every((v) => v === -Infinity)).toBe(true);
  });
});

describe("vision_c2f with the question input (question [B, d_model]: the keep score's question term)", () => {
  const keepRatio = 0.5; // K = 8 of 16
  let plain: ort.InferenceSession;
  let asked: ort.InferenceSession;
  beforeAll(async () => {
    plain = await session(buildCoarseToFineGraph(config, weights, { keepRatio }).toModelBytes());
    asked = await session(buildCoarseToFineGraph(config, weights, { keepRatio, question: true }).toModelBytes());
  });
  const member = (a: Float32Array, b: number, n: number): Float32Array => a.slice(b * n, (b + 1) * n);

  it("declares the input question float [B, d_model] only when asked to", () => {
    const q = buildCoarseToFineGraph(config, weights, { keepRatio, question: true }).inputs.find((i) => i.name === "question");
    expect(q).toMatchObject({ type: "float", dims: ["B", d] });
    expect(buildCoarseToFineGraph(config, weights, { keepRatio }).inputs.map((i) => i.name)).toEqual(["patches", "coarse_patches"]);
    expect(asked.inputNames).toContain("question");
  });

  it("equals the reference with a question, batch 2 (each member its own question)", async () => {
    const fine = randomArray(2 * P * D, 140, 2);
    const coarse = randomArray(2 * Tc * D, 141, 2);
    const question = randomArray(2 * d, 142, 3);
    const got = await runC2f(asked, fine, coarse, 2, question);
    const without = await runC2f(plain, fine, coarse, 2);
    const sel = new CoarseToFineSelector(config, weights, keepRatio);
    for (const b of [0, 1]) {
      const want = coarseToFineReference(config, weights, member(fine, b, P * D), member(coarse, b, Tc * D), keepRatio, undefined, member(question, b, d));
      expect(got.kept[b]).toEqual(want.kept);
      const scoreErr = maxAbsDiff(member(got.scores, b, P), want.scores);
      const tokens = laidOut(got, b, sel);
      expect(tokens.length).toBe(want.tokens.length);
      const tokenErr = maxAbsDiff(tokens, want.tokens);
      console.log(`max abs error vision_c2f with a question, member ${b}: scores ${scoreErr.toExponential(2)}, tokens ${tokenErr.toExponential(2)}`);
      expect(scoreErr).toBeLessThanOrEqual(TOL);
      expect(tokenErr).toBeLessThanOrEqual(TOL);
      // The term is live: the scores moved well beyond the tolerance.
      const moved = maxAbsDiff(member(got.scores, b, P), member(without.scores, b, P));
      console.log(`question term moved member ${b}'s scores by up to ${moved.toFixed(3)}`);
      expect(moved).toBeGreaterThan(0.1);
    }
  });

  it("a zero question is no question, bit for bit (also beside a member that has one)", async () => {
    const fine = randomArray(2 * P * D, 150, 2);
    const coarse = randomArray(2 * Tc * D, 151, 2);
    const question = new Float32Array(2 * d);
    question.set(randomArray(d, 152, 3), 0); // member 0 asks, member 1 does not
    const got = await runC2f(asked, fine, coarse, 2, question);
    const without = await runC2f(plain, fine, coarse, 2);
    expect(Array.from(member(got.scores, 1, P))).toEqual(Array.from(member(without.scores, 1, P)));
    expect(got.kept[1]).toEqual(without.kept[1]);
    expect(maxAbsDiff(member(got.tokens, 1, s.visualTokens * d), member(without.tokens, 1, s.visualTokens * d))).toBe(0);
    expect(maxAbsDiff(member(got.scores, 0, P), member(without.scores, 0, P))).toBeGreaterThan(0.1);
    const allZero = await runC2f(asked, fine, coarse, 2, new Float32Array(2 * d));
    expect(Array.from(allZero.scores)).toEqual(Array.from(without.scores));
    // The reference agrees: a zero question keeps the no-question selection.
    const ref0 = coarseToFineReference(config, weights, member(fine, 1, P * D), member(coarse, 1, Tc * D), keepRatio, undefined, new Float32Array(d));
    expect(ref0.kept).toEqual(coarseToFineReference(config, weights, member(fine, 1, P * D), member(coarse, 1, Tc * D), keepRatio).kept);
  });

  it("a question aligned with one coarse patch's projected token keeps that patch's four children", async () => {
    const fine = randomArray(P * D, 160, 2);
    const coarse = randomArray(Tc * D, 161, 2);
    const without = await runC2f(plain, fine, coarse, 1);
    const childrenKept = (kept: number[], j: number): number => [0, 1, 2, 3].filter((k) => kept.includes(childFineIndex(j, k, s.gridSide))).length;
    // The coarse region the plain scores like least: the question has to pull it in.
    const target = range(Tc).reduce((best, j) => (childrenKept(without.kept[0], j) < childrenKept(without.kept[0], best) ? j : best), 0);
    expect(childrenKept(without.kept[0], target)).toBeLessThan(4);
    const tokens = coarseProjectedTokens(config, weights, visionReference(config, weights, coarse, 1, range(Tc), true));
    const dir = tokens.slice(target * d, (target + 1) * d);
    // Precondition: the target's own token is the one the question points at most.
    const dots = range(Tc).map((j) => dir.reduce((acc, v, i) => acc + v * tokens[j * d + i], 0));
    expect(Math.max(...dots.filter((_, j) => j !== target))).toBeLessThan(dots[target]);
    const question = dir.map((v) => v * 50);
    const got = await runC2f(asked, fine, coarse, 1, question);
    expect(childrenKept(got.kept[0], target)).toBe(4);
    expect(got.kept[0]).not.toEqual(without.kept[0]);
    const want = coarseToFineReference(config, weights, fine, coarse, keepRatio, undefined, question);
    expect(got.kept[0]).toEqual(want.kept);
  });
});

describe("vision_projector (vision + projector in one run) and a shallow vision_coarse equal the reference", () => {
  let fused: ort.InferenceSession;
  beforeAll(async () => {
    fused = await session(buildVisionProjectorGraph(config, weights).toModelBytes());
  });

  for (const [name, batch, positions] of [["all patches, B=2", 2, range(P)], ["a subset, B=1", 1, [0, 2, 5, 7, 8, 13]]] as [string, number, number[]][]) {
    it(name, async () => {
      const T = positions.length;
      const patches = randomArray(batch * T * D, 90 + batch, 2);
      const cells = 3;
      const pool = randomArray(batch * cells * T, 92 + batch, 1);
      const out = await fused.run({
        patches: new ort.Tensor("float32", patches, [batch, T, D]),
        positions: new ort.Tensor("int64", BigInt64Array.from(positions, (p) => BigInt(p)), [T]),
        pool: new ort.Tensor("float32", pool, [batch, cells, T]),
      });
      const want = projectorReference(config, weights, visionReference(config, weights, patches, batch, positions), pool, batch, T, cells);
      const err = maxAbsDiff(out.tokens.data as Float32Array, want);
      console.log(`max abs error vision_projector ${name}: ${err.toExponential(2)}`);
      expect(err).toBeLessThanOrEqual(TOL);
    });
  }

  for (const depth of [0, 1]) {
    it(`vision_coarse at coarse_depth ${depth}`, async () => {
      const sess = await session(buildVisionGraph(config, weights, true, { coarseDepth: depth }).toModelBytes());
      const patches = randomArray(2 * Tc * D, 95 + depth, 2);
      const got = await runVision(sess, patches, 2, range(Tc), D);
      const want = visionReference(config, weights, patches, 2, range(Tc), true, depth);
      expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(TOL);
      // Not the full-depth features: the option reaches the graph.
      expect(maxAbsDiff(want, visionReference(config, weights, patches, 2, range(Tc), true, 2))).toBeGreaterThan(1e-2);
    });
  }
});

describe("coarse depth option and token layout", () => {
  it("coarse_depth: override, then the config field, then the default; bad values are ModelErrors", () => {
    expect(coarseDepthOf(config)).toBe(DEFAULT_COARSE_DEPTH);
    const withDepth = (v: unknown): BackboneConfig => ({ ...config, coarse_to_fine: { keep_ratio: 0.5, coarse_depth: v } as BackboneConfig["coarse_to_fine"] });
    expect(coarseDepthOf(withDepth(1))).toBe(1);
    expect(coarseDepthOf(withDepth(1), 0)).toBe(0);
    expect(coarseDepthOf(withDepth(null))).toBe(DEFAULT_COARSE_DEPTH);
    for (const bad of [-1, 1.5, "2", NaN, {}, [1]]) {
      expect(() => coarseDepthOf(withDepth(bad))).toThrow(ModelError);
      expect(() => buildCoarseToFineGraph(withDepth(bad), weights)).toThrow(ModelError);
    }
    expect(() => coarseDepthOf(config, -2)).toThrow(ModelError);
  });

  it("vision_c2f refuses a model without coarse_to_fine, a bad keep ratio and a missing score head, naming them", () => {
    expect(() => buildCoarseToFineGraph({ ...config, coarse_to_fine: null }, weights)).toThrow(ModelError);
    expect(() => buildCoarseToFineGraph(config, weights, { keepRatio: 0 })).toThrow(ModelError);
    const w = new Map(weights);
    w.delete("c2f.score.weight");
    try {
      buildCoarseToFineGraph(config, w);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ModelError);
      expect((e as ModelError).tensor).toBe("c2f.score.weight");
    }
  });

  it("layoutC2fTokens keeps non-empty cells in order and appends the merge token only when something merged", () => {
    const dd = 2;
    const tokens = Float32Array.of(1, 1, 2, 2, 3, 3, 4, 4);
    const merge = Float32Array.of(9, 9);
    const out = new Float32Array(20).fill(-1);
    expect(layoutC2fTokens(out, 2, tokens, Float32Array.of(2, 0, 1, 3), merge, 5)).toBe(4);
    expect(Array.from(out.subarray(0, 2 + 4 * dd + 1))).toEqual([-1, -1, 1, 1, 3, 3, 4, 4, 9, 9, -1]);
    expect(layoutC2fTokens(out, 0, tokens, Float32Array.of(1, 1, 1, 1), merge, 0)).toBe(4);
    expect(Array.from(out.subarray(0, 8))).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
  });
});

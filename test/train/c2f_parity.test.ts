import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backboneSizes, type BackboneConfig } from "../../src/backbone/config.js";
import { defaultTokenizerJson } from "../../src/backbone/byte_tokenizer.js";
import { BackboneTokenizer } from "../../src/backbone/tokenizer.js";
import { CoarseToFineSelector, layoutC2fTokens } from "../../src/backbone/coarse_to_fine.js";
import { buildCoarseToFineGraph } from "../../src/backbone/graphs/vision_graphs.js";
import { ImagePreprocessor } from "../../src/backbone/image_preprocess.js";
import { writeModelFolder } from "../../nodes/backbone/model_folder.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { maxAbsDiff, RUNTIME_SMALL, session } from "../backbone/fixtures.js";
import { testWeights } from "../backbone/vision/vision_fixtures.js";
import { PYTHON, TORCH_REQUIRED, runPython, torchMissing } from "./torch_python.js";

/**
 * The PyTorch coarse-to-fine forward that training uses (models/train/cobra.py, `c2f_encode`)
 * against what the runtime serves: the ONNX `vision_c2f` graph (built with its `question` input)
 * on the TypeScript preprocessor's patches of one rgb8 frame, as a batch of two members, without
 * and with a question row. models/train/c2f_parity.py runs the same frame in PyTorch; kept
 * patches must be equal, cell counts equal, scores and tokens (every cell, and the laid-out
 * sequence with the merge token the runtime appends) within 1e-4. It also checks Python's
 * coarse patches (the model image averaged 2×2) and its question row (mean token embedding), and
 * what training relies on: the tokens' gradient reaches the kept patches, projector and merge
 * token but not the keep scores, and images of different token counts prefill exactly.
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
const REQUIRED = TORCH_REQUIRED;
const TOL = 1e-4;

const MISSING = torchMissing();
if (MISSING) console.warn(`coarse-to-fine torch parity: skipped, ${MISSING}`);

/**
 * G 8 (P 64), coarse 4×4, 16 cells of 2×2; keep 0.4 → K 26 of 64, so some cells lose every patch
 * (dropped) and the merge token is appended. Branches of different depth: coarse_depth 1 runs
 * part of the first and all of the second.
 */
const CONFIG: BackboneConfig = {
  ...RUNTIME_SMALL,
  image_size: 64,
  patch_size: 8,
  encoders: [
    { name: "dino", width: 16, depth: 2, heads: 2, mlp_ratio: 2 },
    { name: "siglip", width: 8, depth: 1, heads: 1, mlp_ratio: 3 },
  ],
  projector: { hidden: 24, token_pool: 2 },
  coarse_to_fine: { keep_ratio: 0.4, coarse_depth: 1 },
};

const QUESTION = "Is the red cube left of the mug?";

/** An rgb8 frame larger than the model input and 4:3 (the resize shrinks and stretches), with a few bright blocks. */
function testImage(width: number, height: number): Uint8Array {
  const r = mulberry32(17);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const block = (x > 20 && x < 38 && y > 10 && y < 30) || (x > 60 && x < 75 && y > 40 && y < 62);
      data[o] = block ? 230 : 110 + Math.floor(r() * 30);
      data[o + 1] = block ? 40 : (y * 255) / (height - 1);
      data[o + 2] = Math.floor(r() * 256);
    }
  }
  return data;
}

interface TorchC2f {
  kept: number[][];
  scores: number[][];
  counts: number[][];
  cell_tokens: number[][];
  tokens: number[][];
  question: number[];
  kept_count: number;
  coarse_from_ts_fine_max_abs: number;
  coarse_pil_max_abs: number;
  training: {
    grad_score: number; grad_pos_embed_coarse: number; grad_merge_token: number; grad_count_embed: number;
    grad_projector: number; grad_patch_embed: number; pos_embed_rows_with_grad_outside_kept: number;
    pos_embed_rows_with_grad: number; kept_union: number; token_counts: number[]; prefill_each_vs_alone: number;
  };
}

interface GraphC2f {
  kept: number[][];
  scores: Float32Array;
  counts: Float32Array;
  cellTokens: Float32Array;
}

describe.runIf(REQUIRED && MISSING !== "")("PyTorch for the coarse-to-fine parity (SPATIAL_REWARD_REQUIRE_TORCH=1)", () => {
  it("is installed for /usr/bin/python3 (required here)", () => {
    expect(MISSING).toBe("");
  });
});

describe.skipIf(MISSING !== "")(`PyTorch coarse-to-fine vs the runtime's vision_c2f${MISSING ? ` (skipped: ${MISSING})` : ""}`, () => {
  const s = backboneSizes(CONFIG);
  const P = s.patches, Tc = s.coarsePatches, D = s.patchDim, d = CONFIG.d_model, cells = s.visualTokens;
  const weights = testWeights(CONFIG, 5);
  // Larger token embeddings, so the question term moves patches across the top-K cut.
  const emb = weights.get("backbone.embeddings.weight")!;
  for (let i = 0; i < emb.length; i++) emb[i] *= 12;
  const tok = BackboneTokenizer.fromJson(defaultTokenizerJson());
  const questionIds = tok.encode(QUESTION);
  // The runtime's question row (InferenceEngine.setQuestion): the mean embedding, summed in float64.
  const question = new Float32Array(d);
  for (let i = 0; i < d; i++) {
    let a = 0;
    for (const id of questionIds) a += emb[id * d + i]!;
    question[i] = a / questionIds.length;
  }
  const W = 100, H = 75;
  const image = testImage(W, H);
  const pre = new ImagePreprocessor(CONFIG);
  pre.process({ width: W, height: H, encoding: "rgb8", step: W * 3, data: image });
  const fine = pre.patches.slice();
  const coarse = pre.coarsePatches.slice();
  const sel = new CoarseToFineSelector(CONFIG, weights);
  let dir = "";
  let py: TorchC2f;
  let graph: GraphC2f;

  /** Member b's laid-out tokens from the graph's cells (non-empty cells, then the merge token), as the worker builds them. */
  const laidOut = (b: number): Float32Array => {
    const buf = new Float32Array((cells + 1) * d);
    const T = layoutC2fTokens(buf, 0, graph.cellTokens.subarray(b * cells * d, (b + 1) * cells * d), graph.counts.subarray(b * cells, (b + 1) * cells), sel.mergeToken, sel.merged);
    return buf.slice(0, T * d);
  };

  beforeAll(async () => {
    const sess = await session(buildCoarseToFineGraph(CONFIG, weights, { question: true }).toModelBytes());
    const both = (a: Float32Array): Float32Array => {
      const out = new Float32Array(2 * a.length);
      out.set(a, 0);
      out.set(a, a.length);
      return out;
    };
    const rows = new Float32Array(2 * d);
    rows.set(question, d); // member 0: no question (zero row); member 1: the question
    const out = await sess.run({
      patches: new ort.Tensor("float32", both(fine), [2, P, D]),
      coarse_patches: new ort.Tensor("float32", both(coarse), [2, Tc, D]),
      question: new ort.Tensor("float32", rows, [2, d]),
    });
    const K = out.kept.dims[1]!;
    const keptFlat = Array.from(out.kept.data as BigInt64Array, Number);
    graph = {
      kept: [keptFlat.slice(0, K), keptFlat.slice(K, 2 * K)],
      scores: out.scores.data as Float32Array,
      counts: out.cell_counts.data as Float32Array,
      cellTokens: out.tokens.data as Float32Array,
    };

    dir = mkdtempSync(join(tmpdir(), "c2f-parity-"));
    await writeModelFolder(dir, { config: CONFIG, weights, tokenizerJson: defaultTokenizerJson() });
    writeFileSync(join(dir, "image.rgb"), image);
    writeFileSync(join(dir, "patches.f32"), new Uint8Array(fine.buffer, fine.byteOffset, fine.byteLength));
    writeFileSync(join(dir, "coarse.f32"), new Uint8Array(coarse.buffer, coarse.byteOffset, coarse.byteLength));
    writeFileSync(join(dir, "input.json"), JSON.stringify({ width: W, height: H, question_ids: questionIds }));
    const r = await runPython([join(root, "models/train/c2f_parity.py"), dir], 120_000);
    if (r.status !== 0) throw new Error(`c2f_parity.py failed (${r.status}): ${r.stderr}`);
    py = JSON.parse(readFileSync(join(dir, "torch_c2f.json"), "utf8")) as TorchC2f;
  }, 180_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the frame exercises selection: patches merged, some cells dropped, the question changes what is kept", () => {
    expect(py.kept_count).toBe(sel.keptCount);
    expect(sel.merged).toBeGreaterThan(0);
    for (const b of [0, 1]) expect(Array.from(graph.counts.subarray(b * cells, (b + 1) * cells))).toContain(0);
    expect(graph.kept[1]).not.toEqual(graph.kept[0]);
  });

  it("Python's question row and coarse patches are the runtime's", () => {
    const e = { question: maxAbsDiff(py.question, question), coarse_from_ts_fine: py.coarse_from_ts_fine_max_abs, coarse_pil: py.coarse_pil_max_abs };
    console.log("c2f parity, inputs:", JSON.stringify(e));
    expect(e.question).toBeLessThanOrEqual(1e-6);
    // From the same fine patches the 2×2 average is computed in the same order: bit-equal.
    expect(e.coarse_from_ts_fine).toBe(0);
    expect(e.coarse_pil).toBeLessThanOrEqual(TOL);
  });

  for (const [b, what] of [[0, "without a question"], [1, "with a question row"]] as const) {
    it(`${what}: kept patches, counts, scores and tokens match`, () => {
      expect(py.kept[b]).toEqual(graph.kept[b]);
      expect(py.counts[b]).toEqual(Array.from(graph.counts.subarray(b * cells, (b + 1) * cells)));
      const want = laidOut(b);
      expect(py.tokens[b]!.length).toBe(want.length);
      const e = {
        scores: maxAbsDiff(py.scores[b]!, graph.scores.subarray(b * P, (b + 1) * P)),
        cell_tokens: maxAbsDiff(py.cell_tokens[b]!, graph.cellTokens.subarray(b * cells * d, (b + 1) * cells * d)),
        tokens: maxAbsDiff(py.tokens[b]!, want),
      };
      console.log(`c2f parity, ${what}: kept ${graph.kept[b]!.length}/${P}, tokens ${want.length / d}:`, JSON.stringify(e));
      expect(e.scores).toBeLessThanOrEqual(TOL);
      expect(e.cell_tokens).toBeLessThanOrEqual(TOL);
      expect(e.tokens).toBeLessThanOrEqual(TOL);
    });
  }

  it("training: the tokens' gradient skips the selection; prefill by token count equals each image alone", () => {
    const t = py.training;
    console.log("c2f parity, training:", JSON.stringify(t));
    // The hard top-K has no gradient: nothing reaches the score head or the coarse positions from the tokens.
    expect(t.grad_score).toBe(0);
    expect(t.grad_pos_embed_coarse).toBe(0);
    for (const g of [t.grad_merge_token, t.grad_count_embed, t.grad_projector, t.grad_patch_embed]) expect(g).toBeGreaterThan(0);
    // Only kept patches are encoded: their position rows, and no other, get a gradient.
    expect(t.pos_embed_rows_with_grad_outside_kept).toBe(0);
    expect(t.pos_embed_rows_with_grad).toBe(t.kept_union);
    expect(new Set(t.token_counts).size).toBe(2); // two images share a count (one batch), one differs
    expect(t.prefill_each_vs_alone).toBeLessThanOrEqual(1e-5);
  });
});

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backboneSizes, type BackboneConfig } from "../../src/backbone/config.js";
import { randomWeights } from "../../src/backbone/random_init.js";
import { defaultTokenizerJson } from "../../src/backbone/byte_tokenizer.js";
import { BackboneTokenizer } from "../../src/backbone/tokenizer.js";
import { promptIds, questionPrompt } from "../../src/backbone/prompt.js";
import { ImagePreprocessor } from "../../src/backbone/image_preprocess.js";
import { fullImagePool } from "../../src/backbone/coarse_to_fine.js";
import { coarseToFineReference, projectorReference, visionReference } from "../../src/backbone/reference/vision_reference.js";
import { referenceAnswer } from "../../src/backbone/reference/answer_reference.js";
import { argmax } from "../../src/backbone/argmax.js";
import { BackboneRuntime } from "../../nodes/backbone/backbone_runtime.js";
import { referenceLmHead, referenceMambaPrefill } from "../../src/backbone/reference/mamba_reference.js";
import { writeModelFolder } from "../../nodes/backbone/model_folder.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { maxAbsDiff, RUNTIME_SMALL } from "./fixtures.js";
import { runPython } from "../train/torch_python.js";

/**
 * The PyTorch model of models/train/ (cobra.py) against the TypeScript reference on one fixed
 * input: TypeScript writes a seeded model folder and the preprocessed patches of an rgb8 image,
 * models/train/parity.py loads the folder into PyTorch, runs vision → projector → prefill of the
 * visual tokens → progress → prefill of BOS + question + "\n" → logits, and every stage is
 * compared here (≤ 1e-4). It also checks Python's PIL preprocessing of the same image, its
 * tokenizer's ids, and that its safetensors writer gives the TypeScript file's bytes.
 *
 * A reread_image model (the same weights, `reread_image: true`) is run by the runtime itself
 * (worker, ONNX graphs), full and coarse-to-fine, and its first answer token's logits must equal
 * PyTorch's `Cobra.reread_prompt` + `Cobra.mamba` from the frame's state (≤ 1e-4).
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
/** Debian's interpreter (python3-torch is installed for it, not for a pyenv python3 first in PATH); overridable to test the skip. */
const PYTHON = process.env.SPATIAL_REWARD_TORCH_PYTHON ?? "/usr/bin/python3";
const REQUIRED = process.env.SPATIAL_REWARD_REQUIRE_TORCH === "1";
const TOL = 1e-4;

function torchMissing(): string {
  const r = spawnSync(PYTHON, ["-c", "import torch, PIL, numpy"], { encoding: "utf8" });
  if (r.error) return `${PYTHON} not found (apt install python3-torch python3-pil python3-numpy)`;
  if (r.status !== 0) {
    const why = r.stderr.trim().split("\n").pop() ?? "";
    return `${PYTHON} cannot import torch, PIL and numpy (apt install python3-torch python3-pil python3-numpy)${why ? `: ${why}` : ""}`;
  }
  return "";
}

const MISSING = torchMissing();
if (MISSING) console.warn(`torch parity: skipped, ${MISSING}`);

/** RUNTIME_SMALL with the progress head, a deeper first branch and coarse-to-fine tensors (written, not run). */
const CONFIG: BackboneConfig = {
  ...RUNTIME_SMALL,
  encoders: [
    { name: "dino", width: 16, depth: 2, heads: 2, mlp_ratio: 2 },
    { name: "siglip", width: 8, depth: 1, heads: 1, mlp_ratio: 3 },
  ],
  progress_head: true,
};

const QUESTION = "  How far is the red cube from the mug, in metres? ";
/** Texts whose ids the Python tokenizer must give as the runtime's does (merges, digits, punctuation, spaces). */
const TOKENIZER_TEXTS = [
  "What is the distance between the green sphere and the table?\n",
  "the theme: 0.42 m (about 42 cm); them, then, thermometer",
  "Is the blue_box left of  the mug?\tYes.  ",
  "x=3.14e-2,  y = -7 ... 'quoted' it's I'm they'll we've you'd",
  "ÜBER café 12.5°C naïve — ok",
];

/**
 * Seeded weights with no constant tensors: randomWeights gives zero biases and unit norm
 * weights, which would hide a bias or norm weight loaded under the wrong name.
 */
function parityWeights(config: BackboneConfig): Map<string, Float32Array> {
  const w = randomWeights(config, 1234);
  const r = mulberry32(99);
  for (const [name, a] of w) {
    if (name.endsWith(".A_log") || name.endsWith(".D") || name.endsWith("dt_proj.bias")) continue;
    if (a.every((v) => v === a[0])) {
      const base = a[0]!;
      for (let i = 0; i < a.length; i++) a[i] = base + (2 * r() - 1) * 0.2;
    }
  }
  // A progress head large enough that its output is not just sigmoid(≈0) = 0.5.
  const ph = w.get("progress_head.weight")!;
  for (let i = 0; i < ph.length; i++) ph[i] = (2 * r() - 1) * 0.5;
  w.get("progress_head.bias")!.fill(0.3);
  return w;
}

/** An rgb8 frame larger than the model input and 4:3, so the resize shrinks (Pillow's widened filter) and stretches. */
function testImage(width: number, height: number): Uint8Array {
  const r = mulberry32(7);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      data[o] = (x * 255) / (width - 1);
      data[o + 1] = (y * 255) / (height - 1);
      data[o + 2] = (x + y) % 7 === 0 ? 255 : Math.floor(r() * 256);
    }
  }
  return data;
}

interface TorchOut {
  features: number[];
  tokens: number[];
  hidden_visual: number[];
  progress: number | null;
  conv_state: number[];
  ssm_state: number[];
  hidden_prompt: number[];
  logits: number[];
  split_vs_whole: number;
  prompt_ids_python: number[];
  tokenizer_ids: number[][];
  preprocess_max_abs: number;
  preprocess_uint8_pil_max_abs: number;
  default_tokenizer_json: unknown;
  reread_config: boolean;
  reread_head_ids: number[];
  reread_end_ids: number[];
  reread_full: TorchReread;
  reread_c2f: TorchReread;
}

interface TorchReread {
  tokens: number[];
  rows: number;
  hidden: number[];
  logits: number[];
  plain_logits: number[];
}

describe.runIf(REQUIRED && MISSING !== "")("PyTorch (SPATIAL_REWARD_REQUIRE_TORCH=1)", () => {
  it("is installed for /usr/bin/python3 (required here)", () => {
    expect(MISSING).toBe("");
  });
});

describe.skipIf(MISSING !== "")(`PyTorch model vs the TypeScript reference${MISSING ? ` (skipped: ${MISSING})` : ""}`, () => {
  let dir = "";
  let out: TorchOut;
  const weights = parityWeights(CONFIG);
  const s = backboneSizes(CONFIG);
  const tok = BackboneTokenizer.fromJson(defaultTokenizerJson());
  const ids = promptIds((t) => tok.encode(t), tok.bosId, QUESTION);
  const W = 100, H = 75;
  const image = testImage(W, H);
  const pre = new ImagePreprocessor(CONFIG);
  pre.process({ width: W, height: H, encoding: "rgb8", step: W * 3, data: image });
  const patches = pre.patches.slice();

  // The TypeScript reference on the same input, stage by stage.
  const positions = Array.from({ length: s.patches }, (_, i) => i);
  const features = visionReference(CONFIG, weights, patches, 1, positions);
  const tokens = projectorReference(CONFIG, weights, features, fullImagePool(CONFIG), 1, s.patches, s.visualTokens);
  const zeroConv = new Float32Array(s.convStateFloats);
  const zeroSsm = new Float32Array(s.ssmStateFloats);
  const visual = referenceMambaPrefill(CONFIG, weights, tokens, 1, s.visualTokens, zeroConv, zeroSsm);
  const D = CONFIG.d_model;
  const emb = weights.get("backbone.embeddings.weight")!;
  const promptEmbeds = new Float32Array(ids.length * D);
  ids.forEach((id, t) => promptEmbeds.set(emb.subarray(id * D, (id + 1) * D), t * D));
  const prompt = referenceMambaPrefill(CONFIG, weights, promptEmbeds, 1, ids.length, visual.convStateOut, visual.ssmStateOut);
  const logits = referenceLmHead(CONFIG, weights, prompt.hidden, 1);
  const pw = weights.get("progress_head.weight")!;
  let z = weights.get("progress_head.bias")![0]!;
  for (let i = 0; i < D; i++) z += pw[i]! * visual.hidden[i]!;
  const progress = 1 / (1 + Math.exp(-z));
  const coarse = pre.coarsePatches.slice();
  const c2fTokens = coarseToFineReference(CONFIG, weights, patches, coarse).tokens;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "torch-parity-"));
    await writeModelFolder(dir, { config: CONFIG, weights, tokenizerJson: defaultTokenizerJson() });
    writeFileSync(join(dir, "image.rgb"), image);
    writeFileSync(join(dir, "patches.f32"), new Uint8Array(patches.buffer, patches.byteOffset, patches.byteLength));
    writeFileSync(join(dir, "coarse.f32"), new Uint8Array(coarse.buffer, coarse.byteOffset, coarse.byteLength));
    await writeModelFolder(join(dir, "reread"), { config: { ...CONFIG, reread_image: true }, weights, tokenizerJson: defaultTokenizerJson() });
    writeFileSync(join(dir, "input.json"), JSON.stringify({ question: QUESTION, width: W, height: H, prompt_ids: ids, tokenizer_texts: TOKENIZER_TEXTS, reread_dir: "reread" }));
    const r = await runPython([join(root, "models/train/parity.py"), dir], 120_000);
    if (r.status !== 0) throw new Error(`parity.py failed (${r.status}): ${r.stderr}`);
    out = JSON.parse(readFileSync(join(dir, "torch_out.json"), "utf8")) as TorchOut;
  }, 180_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("vision features and projected visual tokens match", () => {
    const e = { features: maxAbsDiff(out.features, features), tokens: maxAbsDiff(out.tokens, tokens) };
    console.log("torch parity, vision:", JSON.stringify(e));
    expect(e.features).toBeLessThanOrEqual(TOL);
    expect(e.tokens).toBeLessThanOrEqual(TOL);
  });

  it("prefill of the visual tokens: hidden, state and progress match", () => {
    const e = {
      hidden: maxAbsDiff(out.hidden_visual, visual.hidden),
      conv_state: maxAbsDiff(out.conv_state, visual.convStateOut),
      ssm_state: maxAbsDiff(out.ssm_state, visual.ssmStateOut),
      progress: Math.abs((out.progress ?? NaN) - progress),
    };
    console.log("torch parity, visual prefill:", JSON.stringify(e), "progress", progress);
    expect(e.hidden).toBeLessThanOrEqual(TOL);
    expect(e.conv_state).toBeLessThanOrEqual(TOL);
    expect(e.ssm_state).toBeLessThanOrEqual(TOL);
    expect(e.progress).toBeLessThanOrEqual(TOL);
  });

  it("prompt prefill from that state gives the same next-token logits", () => {
    const e = { hidden: maxAbsDiff(out.hidden_prompt, prompt.hidden), logits: maxAbsDiff(out.logits, logits) };
    console.log("torch parity, prompt:", JSON.stringify(e), "one sequence vs two prefills", out.split_vs_whole);
    expect(e.hidden).toBeLessThanOrEqual(TOL);
    expect(e.logits).toBeLessThanOrEqual(TOL);
    // Training runs visual tokens and text as one sequence: the same as the two prefills.
    expect(out.split_vs_whole).toBeLessThanOrEqual(1e-5);
  });

  it.each(["full", "c2f"] as const)("reread_image (%s): the runtime's first answer token and logits equal PyTorch's reread_prompt + mamba (≤ 1e-4)", async (variant) => {
    const o = variant === "full" ? out.reread_full : out.reread_c2f;
    const ts = variant === "full" ? tokens : c2fTokens;
    expect(out.reread_config).toBe(true);
    const p = questionPrompt((t) => tok.encode(t), tok.bosId, QUESTION, true);
    // train.py's ids (BOS + question, "\n" encoded apart) are the runtime's.
    expect(out.reread_head_ids).toEqual(p.head);
    expect(out.reread_end_ids).toEqual(p.end);
    // The TypeScript reference of the same prompt, from its own visual tokens and state.
    const state = referenceMambaPrefill(CONFIG, weights, ts, 1, ts.length / D, zeroConv, zeroSsm);
    const want = referenceAnswer(CONFIG, weights, { conv: state.convStateOut, ssm: state.ssmStateOut }, p, ts, { eosId: tok.eosId, maxTokens: 1 });
    expect(o.rows).toBe(want.rows);
    const rt = await BackboneRuntime.open({ model: { dir: join(dir, "reread") }, maxStreams: 1, coarseToFine: variant === "c2f" });
    try {
      rt.addStream("cam");
      await rt.pushFrame("cam", { width: W, height: H, encoding: "rgb8", step: W * 3, data: image });
      const kept = (await rt.readState("cam")).visual!;
      const a = await rt.ask("cam", QUESTION, { maxTokens: 1, firstLogits: true });
      const e = {
        tokens: maxAbsDiff(o.tokens, ts),
        runtime_tokens: maxAbsDiff(o.tokens, kept),
        hidden_reference: maxAbsDiff(o.hidden, want.firstHidden),
        logits_reference: maxAbsDiff(o.logits, want.firstLogits),
        logits_runtime: maxAbsDiff(o.logits, a.firstLogits!),
        reread_vs_plain: maxAbsDiff(o.logits, o.plain_logits),
      };
      console.log(`torch parity, reread_image ${variant} (${o.rows} rows):`, JSON.stringify(e));
      expect(e.tokens).toBeLessThanOrEqual(TOL);
      expect(e.runtime_tokens).toBeLessThanOrEqual(TOL);
      expect(e.hidden_reference).toBeLessThanOrEqual(TOL);
      expect(e.logits_reference).toBeLessThanOrEqual(TOL);
      expect(e.logits_runtime).toBeLessThanOrEqual(TOL);
      // The reread moves the answer's logits (the comparison is of a prompt that matters).
      expect(e.reread_vs_plain).toBeGreaterThan(1e-3);
      const first = argmax(o.logits, CONFIG.vocab_size);
      expect(a.tokenIds).toEqual(first === tok.eosId ? [] : [first]);
    } finally {
      await rt.close();
    }
  }, 60_000);

  it("Python's tokenizer gives the runtime's ids (BOS + question + newline, and merges)", () => {
    expect(out.prompt_ids_python).toEqual(ids);
    expect(ids.length).toBeLessThan(QUESTION.trim().length + 2); // merges applied, not plain bytes
    expect(out.tokenizer_ids).toEqual(TOKENIZER_TEXTS.map((t) => tok.encode(t)));
    // train.py writes Python's default tokenizer.json into the models it saves: it must be the runtime's default.
    expect(out.default_tokenizer_json).toEqual(JSON.parse(JSON.stringify(defaultTokenizerJson())));
  });

  it("Python's PIL preprocessing of the same rgb8 frame matches the TypeScript preprocessor", () => {
    console.log("torch parity, preprocessing max abs: float PIL", out.preprocess_max_abs, "8-bit PIL", out.preprocess_uint8_pil_max_abs);
    expect(out.preprocess_max_abs).toBeLessThanOrEqual(TOL);
  });

  it("Python's safetensors writer gives the TypeScript file's bytes", () => {
    const ts = readFileSync(join(dir, "model.safetensors"));
    const py = readFileSync(join(dir, "roundtrip", "model.safetensors"));
    expect(py.length).toBe(ts.length);
    expect(Buffer.compare(py, ts)).toBe(0);
  });
});

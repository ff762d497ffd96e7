import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { PYTHON, TORCH_REQUIRED, runPython, torchMissing } from "./torch_python.js";

/**
 * The fast training paths of models/train/ compute the reference math
 * (models/train/check_train_math.py): the per-token fused selective scan against the plain loop
 * (outputs, final state, every gradient ≤ 1e-5), and the image-grouped loss (each image encoded
 * once, its state shared by its questions, text padded) against one full sequence per question
 * (loss and every parameter gradient), with padding leaving a short question's loss unchanged.
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
const REQUIRED = TORCH_REQUIRED;
const TOL = 1e-5;

const MISSING = torchMissing();
if (MISSING) console.warn(`train math check: skipped, ${MISSING}`);

interface ScanDiff { y: number; h: number; grad: number }
interface Out {
  scan_text: ScanDiff;
  scan_visual: ScanDiff;
  scan_one_token: ScanDiff;
  grouped: {
    loss: number; loss_value: number; grad: number; grad_names_equal: boolean; answer_tokens_equal: boolean;
    vision_params_with_grad: number; items: number; images: number; lengths: number[]; alone_vs_padded: number;
  };
  reread: {
    loss: number; loss_value: number; grad: number; grad_names_equal: boolean; answer_tokens_equal: boolean;
    items: number; zeroed_tokens_logit_change: number;
  };
}

describe.runIf(REQUIRED && MISSING !== "")("PyTorch for check_train_math.py (SPATIAL_REWARD_REQUIRE_TORCH=1)", () => {
  it("is installed (required here)", () => {
    expect(MISSING).toBe("");
  });
});

describe.skipIf(MISSING !== "")(`training fast paths vs the reference${MISSING ? ` (skipped: ${MISSING})` : ""}`, () => {
  let out: Out | undefined;
  // Run once before the tests, as an async child (a sync one blocks the worker past vitest's RPC timeout on a slow host).
  beforeAll(async () => {
    const r = await runPython([join(root, "models/train/check_train_math.py")], 120_000);
    if (r.status !== 0) throw new Error(`check_train_math.py failed (${r.status}): ${r.stderr}`);
    out = JSON.parse(r.stdout) as Out;
  }, 180_000);
  const get = (): Out => {
    if (!out) throw new Error("check_train_math.py did not run");
    return out;
  };

  it("the fused selective scan equals the loop (outputs, final state, gradients)", () => {
    const o = get();
    for (const d of [o.scan_text, o.scan_visual, o.scan_one_token]) {
      expect(d.y).toBeLessThanOrEqual(TOL);
      expect(d.h).toBeLessThanOrEqual(TOL);
      expect(d.grad).toBeLessThanOrEqual(TOL);
    }
  }, 120_000);

  it("the image-grouped loss equals one sequence per question, gradients included", () => {
    const g = get().grouped;
    // The fixture really shares images and pads: several questions per image, several lengths.
    expect(g.items).toBeGreaterThan(g.images);
    expect(g.lengths.length).toBeGreaterThan(1);
    expect(Number.isFinite(g.loss_value) && g.loss_value > 0).toBe(true);
    expect(g.loss).toBeLessThanOrEqual(TOL);
    expect(g.grad_names_equal).toBe(true);
    expect(g.grad).toBeLessThanOrEqual(TOL);
    expect(g.answer_tokens_equal).toBe(true);
    expect(g.vision_params_with_grad).toBeGreaterThan(0);
  }, 120_000);

  it("padding a batch leaves a short question's loss unchanged", () => {
    expect(get().grouped.alone_vs_padded).toBeLessThanOrEqual(TOL);
  }, 120_000);

  it("reread_image: the batched loss (frame tokens again after the question) equals one sequence per question", () => {
    const r = get().reread;
    expect(Number.isFinite(r.loss_value) && r.loss_value > 0).toBe(true);
    expect(r.loss).toBeLessThanOrEqual(TOL);
    expect(r.grad_names_equal).toBe(true);
    expect(r.grad).toBeLessThanOrEqual(TOL);
    expect(r.answer_tokens_equal).toBe(true);
    // The reread tokens reach the answer's logits (a prompt without them would leave these equal).
    expect(r.zeroed_tokens_logit_change).toBeGreaterThan(1e-3);
  }, 120_000);
});

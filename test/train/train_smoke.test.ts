import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readModelFolder } from "../../nodes/backbone/model_folder.js";
import { RUNTIME_SMALL } from "../backbone/fixtures.js";
import { PYTHON, TORCH_REQUIRED, runPython, torchMissing } from "./torch_python.js";

/**
 * models/train/train.py end to end on a tiny synthetic export (models/train/synthetic_vqa.py,
 * the exporter's layout) with a small config: the loss falls over 40 steps, and the model
 * folder it writes is read and validated by the runtime's own reader, marked trained. Then the
 * coarse-to-fine stage (--c2f-prob): every step encoding its images as the runtime's vision_c2f
 * does, the keep-score loss, and val_exact_c2f beside val_exact; and its second-stage form,
 * --init from a model folder with --c2f-prob 0.5.
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
const REQUIRED = TORCH_REQUIRED;

const MISSING = torchMissing();
if (MISSING) console.warn(`train.py smoke test: skipped, ${MISSING}`);

describe.runIf(REQUIRED && MISSING !== "")("PyTorch for train.py (SPATIAL_REWARD_REQUIRE_TORCH=1)", () => {
  it("is installed (required here)", () => {
    expect(MISSING).toBe("");
  });
});

interface Metric {
  step: number;
  loss?: number;
  score_loss?: number;
  c2f_steps?: number;
  eval?: { val_exact?: number; val_exact_other_frame?: number; val_progress_mae?: number; val_exact_c2f?: number; val_loss_c2f?: number; c2f_kept_fraction?: number; c2f_tokens_mean?: number };
}

function readMetrics(out: string): Metric[] {
  return readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Metric);
}

describe.skipIf(MISSING !== "")(`train.py on a tiny export${MISSING ? ` (skipped: ${MISSING})` : ""}`, () => {
  let dir = "";
  let metrics: Metric[] = [];
  let stderr = "";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "train-smoke-"));
    const data = join(dir, "data");
    const gen = await runPython([join(root, "models/train/synthetic_vqa.py"), "--out", data, "--scenes", "5", "--episodes", "2"], 60_000);
    if (gen.status !== 0) throw new Error(`synthetic_vqa.py failed: ${gen.stderr}`);
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...RUNTIME_SMALL, progress_head: true }));
    const out = join(dir, "out");
    const r = await runPython([
      join(root, "models/train/train.py"), "--data", data, "--out", out, "--config", join(dir, "config.json"),
      "--steps", "40", "--batch", "4", "--progress-batch", "4", "--progress-every", "1", "--warmup", "5", "--lr", "3e-3",
      "--log-every", "5", "--eval-every", "20", "--eval-size", "4", "--ckpt-every", "20", "--threads", "1",
    ], 240_000);
    stderr = r.stderr;
    if (r.status !== 0) throw new Error(`train.py failed (${r.status}): ${r.stderr}`);
    metrics = readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Metric);
  }, 300_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("prints a progress line with loss, throughput and ETA", () => {
    expect(stderr).toMatch(/step 5 loss \d+\.\d+ .* tok\/s .* samples\/s .* ETA/);
  });

  it("the training loss falls", () => {
    const losses = metrics.filter((m) => m.loss !== undefined).map((m) => m.loss!);
    expect(losses.length).toBe(8);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]!).toBeLessThan(0.8 * losses[0]!);
  });

  it("evaluates greedy answers and progress on the val split", () => {
    const evals = metrics.filter((m) => m.eval);
    expect(evals.length).toBeGreaterThanOrEqual(3); // steps 20, 40, final
    for (const e of evals) {
      expect(e.eval!.val_exact).toBeGreaterThanOrEqual(0);
      // Beside it, the same questions asked of other frames (a blind model scores the same there).
      expect(e.eval!.val_exact_other_frame).toBeGreaterThanOrEqual(0);
      expect(e.eval!.val_exact_other_frame).toBeLessThanOrEqual(1);
      expect(e.eval!.val_progress_mae).toBeLessThanOrEqual(1);
      // Without --c2f-prob the run is as before: no coarse-to-fine evaluation or loss.
      expect(e.eval!.val_exact_c2f).toBeUndefined();
    }
    expect(metrics.some((m) => m.score_loss !== undefined || m.c2f_steps !== undefined)).toBe(false);
  });

  it("writes a model folder the runtime reads, marked trained, and a PNG curve", async () => {
    const m = await readModelFolder(join(dir, "out", "model"));
    expect(m.config.trained).toBe(true);
    expect(m.config.progress_head).toBe(true);
    expect(m.weights.get("progress_head.weight")!.length).toBe(RUNTIME_SMALL.d_model);
    const ckpt = await readModelFolder(join(dir, "out", "checkpoint"));
    expect(ckpt.config.trained).toBe(true);
    const png = readFileSync(join(dir, "out", "curve.png"));
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  });
});

describe.skipIf(MISSING !== "")(`train.py --c2f-prob on a tiny export${MISSING ? ` (skipped: ${MISSING})` : ""}`, () => {
  /** G 8 (P 64), 16 cells; keep 0.3 → 19 of 64 patches, so cells get dropped and token counts differ per image. */
  const config = { ...RUNTIME_SMALL, patch_size: 8, coarse_to_fine: { keep_ratio: 0.3, coarse_depth: 1 }, progress_head: true };
  let dir = "";
  let metrics: Metric[] = [];
  let stage2: Metric[] = [];
  let stderr = "";
  const run = async (args: string[]): Promise<string> => {
    const r = await runPython([join(root, "models/train/train.py"), ...args,
      "--batch", "4", "--progress-batch", "4", "--progress-every", "1", "--warmup", "5", "--lr", "3e-3",
      "--log-every", "5", "--eval-size", "4", "--ckpt-every", "100", "--threads", "1"], 240_000);
    if (r.status !== 0) throw new Error(`train.py failed (${r.status}): ${r.stderr}`);
    return r.stderr;
  };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "train-c2f-smoke-"));
    const data = join(dir, "data");
    const gen = await runPython([join(root, "models/train/synthetic_vqa.py"), "--out", data, "--scenes", "5", "--episodes", "2"], 60_000);
    if (gen.status !== 0) throw new Error(`synthetic_vqa.py failed: ${gen.stderr}`);
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    stderr = await run(["--data", data, "--out", join(dir, "out"), "--config", join(dir, "config.json"), "--steps", "20", "--eval-every", "10", "--c2f-prob", "1"]);
    metrics = readMetrics(join(dir, "out"));
    await run(["--data", data, "--out", join(dir, "stage2"), "--init", join(dir, "out", "model"), "--steps", "10", "--eval-every", "10", "--c2f-prob", "0.5"]);
    stage2 = readMetrics(join(dir, "stage2"));
  }, 300_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("every step runs coarse-to-fine; the answer loss and the keep-score loss are finite and fall", () => {
    expect(stderr).toMatch(/step 5 loss \d+\.\d+ .* c2f steps 5\/5 score loss \d+\.\d+ /);
    const logged = metrics.filter((m) => m.loss !== undefined);
    expect(logged.length).toBe(4);
    for (const m of logged) {
      expect(m.c2f_steps).toBe(5);
      expect(Number.isFinite(m.loss)).toBe(true);
      expect(Number.isFinite(m.score_loss)).toBe(true);
    }
    console.log("c2f smoke, loss:", logged.map((m) => m.loss!.toFixed(3)).join(" "), "score loss:", logged.map((m) => m.score_loss!.toFixed(3)).join(" "));
    expect(logged[3]!.loss!).toBeLessThan(0.9 * logged[0]!.loss!);
    expect(logged[3]!.score_loss!).toBeLessThan(0.9 * logged[0]!.score_loss!);
  });

  it("evaluates val_exact_c2f beside val_exact on the same questions, with the kept fraction", () => {
    const evals = metrics.filter((m) => m.eval);
    expect(evals.length).toBeGreaterThanOrEqual(3); // steps 10, 20, final
    for (const { eval: e } of evals) {
      console.log("c2f smoke, eval:", JSON.stringify({ val_exact: e!.val_exact, val_exact_c2f: e!.val_exact_c2f, val_loss_c2f: e!.val_loss_c2f, kept: e!.c2f_kept_fraction, tokens: e!.c2f_tokens_mean }));
      expect(e!.val_exact_c2f).toBeGreaterThanOrEqual(0);
      expect(e!.val_exact_c2f).toBeLessThanOrEqual(1);
      expect(Number.isFinite(e!.val_loss_c2f)).toBe(true);
      expect(e!.c2f_kept_fraction).toBe(19 / 64);
      // At most every cell (16) plus the merge token; at least one cell and the merge token.
      expect(e!.c2f_tokens_mean).toBeGreaterThanOrEqual(2);
      expect(e!.c2f_tokens_mean).toBeLessThanOrEqual(17);
    }
  });

  it("the second stage (--init a model folder, --c2f-prob 0.5) mixes full and coarse-to-fine steps and writes a model the runtime reads", async () => {
    const c2fSteps = stage2.filter((m) => m.loss !== undefined).reduce((a, m) => a + m.c2f_steps!, 0);
    expect(c2fSteps).toBeGreaterThan(0);
    expect(c2fSteps).toBeLessThan(10);
    expect(stage2.some((m) => m.eval?.val_exact_c2f !== undefined)).toBe(true);
    const m = await readModelFolder(join(dir, "stage2", "model"));
    expect(m.config.trained).toBe(true);
    expect(m.config.coarse_to_fine?.keep_ratio).toBe(0.3);
  });
});

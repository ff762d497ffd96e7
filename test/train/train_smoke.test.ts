import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readModelFolder } from "../../nodes/backbone/model_folder.js";
import { RUNTIME_SMALL } from "../backbone/fixtures.js";

/**
 * models/train/train.py end to end on a tiny synthetic export (models/train/synthetic_vqa.py,
 * the exporter's layout) with a small config: the loss falls over 40 steps, and the model
 * folder it writes is read and validated by the runtime's own reader, marked trained.
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
const PYTHON = process.env.SPATIAL_REWARD_TORCH_PYTHON ?? "/usr/bin/python3";
const REQUIRED = process.env.SPATIAL_REWARD_REQUIRE_TORCH === "1";

function torchMissing(): string {
  const r = spawnSync(PYTHON, ["-c", "import torch, PIL, numpy"], { encoding: "utf8" });
  if (r.error) return `${PYTHON} not found (apt install python3-torch python3-pil python3-numpy)`;
  if (r.status !== 0) return `${PYTHON} cannot import torch, PIL and numpy (apt install python3-torch python3-pil python3-numpy)`;
  return "";
}
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
  eval?: { val_exact?: number; val_progress_mae?: number };
}

describe.skipIf(MISSING !== "")(`train.py on a tiny export${MISSING ? ` (skipped: ${MISSING})` : ""}`, () => {
  let dir = "";
  let metrics: Metric[] = [];
  let stderr = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "train-smoke-"));
    const data = join(dir, "data");
    const gen = spawnSync(PYTHON, [join(root, "models/train/synthetic_vqa.py"), "--out", data, "--scenes", "5", "--episodes", "2"], { encoding: "utf8", timeout: 60_000 });
    if (gen.status !== 0) throw new Error(`synthetic_vqa.py failed: ${gen.stderr}`);
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...RUNTIME_SMALL, progress_head: true }));
    const out = join(dir, "out");
    const r = spawnSync(PYTHON, [
      join(root, "models/train/train.py"), "--data", data, "--out", out, "--config", join(dir, "config.json"),
      "--steps", "40", "--batch", "4", "--progress-batch", "4", "--progress-every", "1", "--warmup", "5", "--lr", "3e-3",
      "--log-every", "5", "--eval-every", "20", "--eval-size", "4", "--ckpt-every", "20", "--threads", "1",
    ], { encoding: "utf8", timeout: 240_000 });
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
      expect(e.eval!.val_progress_mae).toBeLessThanOrEqual(1);
    }
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

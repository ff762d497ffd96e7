import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PYTHON, torchMissing } from "./torch_python.js";

/**
 * Dense supervision of the tiny Cobra's visual tokens (models/train/dense_labels.py) on a real
 * `export vqa --sim --masks`: every cell target equals a plain per-pixel count of the masks
 * (check_dense_labels.py), and train.py's dense-only stage learns them (its loss falls).
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
const cli = join(root, "dist", "nodes", "cli", "main.js");
const MISSING = torchMissing();

describe.skipIf(MISSING !== "")(`dense labels${MISSING ? ` (skipped: ${MISSING})` : ""}`, () => {
  let dir = "";
  beforeAll(() => {
    expect(existsSync(cli), `${cli} is missing: run npm run build`).toBe(true);
    dir = mkdtempSync(join(tmpdir(), "dense-"));
    const r = spawnSync(process.execPath, [cli, "export", "vqa", "--sim", "--scenes", "12", "--seed", "5", "--episodes", "0", "--masks",
      "--width", "320", "--height", "240", "--per-type", "1", "--out", join(dir, "data"), "--json"], { encoding: "utf8", timeout: 120_000 });
    if (r.status !== 0) throw new Error(`export failed: ${r.stderr}`);
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("cell targets equal a per-pixel count of the exported masks", () => {
    const r = spawnSync(PYTHON, [join(root, "models/train/check_dense_labels.py"), join(dir, "data")], { encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as { ok: boolean; images: number; cells: number; cells_with_objects: number };
    expect(out.ok).toBe(true);
    expect(out.images).toBe(12);
    expect(out.cells).toBe(12 * 49);
    expect(out.cells_with_objects).toBeGreaterThan(40);
  });

  it("train.py --dense-minutes learns them: the dense loss falls", () => {
    const out = join(dir, "out");
    const r = spawnSync(PYTHON, [join(root, "models/train/train.py"), "--data", join(dir, "data"), "--out", out, "--dense-minutes", "0.4",
      "--dense-batch", "8", "--minutes", "0.45", "--steps", "1", "--batch", "4", "--eval-size", "4", "--merges", "20", "--threads", "1"],
    { encoding: "utf8", timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/dense targets for 12 images/);
    const steps = readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { dense_step?: number; dense_loss?: number })
      .filter((m) => m.dense_step !== undefined);
    expect(steps.length).toBeGreaterThan(2);
    expect(steps[steps.length - 1].dense_loss).toBeLessThan(0.5 * (steps[0].dense_loss ?? 0));
    expect(existsSync(join(out, "model", "model.safetensors"))).toBe(true);
  }, 300_000);
});

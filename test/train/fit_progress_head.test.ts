import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readModelFolder } from "../../nodes/backbone/model_folder.js";
import { RUNTIME_SMALL } from "../backbone/fixtures.js";
import { runPython } from "./torch_python.js";

/**
 * models/train/fit_progress_head.py, the last training stage: with the model frozen it fits the
 * progress head on whole-episode stream states (as the runtime serves them). On the synthetic
 * export (a box sliding right over 8 frames) the fitted head ranks val frames by progress where
 * the barely-trained head does not, and no tensor but the head's two changes.
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
const PYTHON = process.env.SPATIAL_REWARD_TORCH_PYTHON ?? "/usr/bin/python3";
const missing = spawnSync(PYTHON, ["-c", "import torch, PIL, numpy"], { encoding: "utf8" }).status !== 0;
if (missing) console.warn(`fit_progress_head test: skipped, ${PYTHON} cannot import torch, PIL and numpy`);

interface Figures { episodes: number; frames: number; spearman: number; spearman_per_episode_mean: number; mae: number }
interface Report { train_episodes: number; train_frames: number; val_before: Figures; val_after: Figures }

describe.skipIf(missing)("fit_progress_head.py", () => {
  let dir = "";
  let report: Report;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "fit-progress-"));
    const data = join(dir, "data");
    const gen = await runPython([join(root, "models/train/synthetic_vqa.py"), "--out", data, "--scenes", "3", "--episodes", "8"], 60_000);
    if (gen.status !== 0) throw new Error(`synthetic_vqa.py failed: ${gen.stderr}`);
    writeFileSync(join(dir, "config.json"), JSON.stringify({ ...RUNTIME_SMALL, progress_head: true }));
    const train = await runPython([join(root, "models/train/train.py"), "--data", data, "--out", join(dir, "out"), "--config", join(dir, "config.json"),
      "--steps", "2", "--batch", "4", "--progress-every", "1000", "--eval-every", "1000", "--threads", "1"], 120_000);
    if (train.status !== 0) throw new Error(`train.py failed: ${train.stderr}`);
    const fit = await runPython([join(root, "models/train/fit_progress_head.py"), "--model", join(dir, "out", "model"), "--data", data,
      "--out", join(dir, "fitted"), "--iterations", "400", "--lr", "0.05", "--threads", "1"], 120_000);
    if (fit.status !== 0) throw new Error(`fit_progress_head.py failed: ${fit.stderr}`);
    report = JSON.parse(fit.stdout.trim().split("\n").pop()!) as Report;
  }, 300_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("fits on the train episodes and ranks the val episodes' frames by progress", () => {
    expect(report.train_episodes).toBe(6);
    expect(report.train_frames).toBe(48);
    expect(report.val_after.episodes).toBe(2);
    expect(report.val_after.frames).toBe(16);
    expect(report.val_after.spearman_per_episode_mean).toBeGreaterThan(0.8);
    expect(report.val_after.mae).toBeLessThan(report.val_before.mae);
  });

  it("changes the progress head and nothing else", async () => {
    const before = await readModelFolder(join(dir, "out", "model"));
    const after = await readModelFolder(join(dir, "fitted"));
    const changed = [...after.weights.keys()].filter((k) => {
      const a = after.weights.get(k)!;
      const b = before.weights.get(k)!;
      return a.length !== b.length || a.some((v, i) => v !== b[i]);
    });
    expect(changed.sort()).toEqual(["progress_head.bias", "progress_head.weight"]);
    expect(after.config.trained).toBe(true);
  });
});

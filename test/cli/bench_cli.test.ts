import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runChild } from "../run_child.js";

/** `spatial-reward bench` through the built CLI (`npm run build` first): the schedule reaches the pipeline bench. */
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(root, "dist", "nodes", "cli", "main.js");

interface BenchJson {
  pipeline_schedule: string;
  scenes_identical: number;
  scenes_compared: number;
  pipeline: { schedule: string; block_frames: number | null; frames_measured: number };
}

async function bench(schedule: string): Promise<BenchJson> {
  const r = await runChild(process.execPath, [cli, "bench", "--frames", "20", "--queries", "2", "--schedule", schedule, "--json"], { cwd: root, timeoutMs: 240_000 });
  expect(r.code, r.stderr.slice(-2000)).toBe(0);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as BenchJson;
}

describe("bench --schedule", () => {
  for (const schedule of ["blocks", "interleaved"]) {
    it(`${schedule}: the run reports it and both paths give identical scenes`, async () => {
      const out = await bench(schedule);
      expect(out.pipeline_schedule).toBe(schedule);
      expect(out.pipeline.schedule).toBe(schedule);
      expect(out.pipeline.block_frames === null).toBe(schedule === "interleaved");
      expect(out.scenes_compared).toBeGreaterThan(0);
      expect(out.scenes_identical).toBe(out.scenes_compared);
    }, 300_000);
  }
});

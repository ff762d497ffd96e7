import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SpatialAnswerStatus } from "../../src/msgs/generated.js";
import { RUNTIME_SMALL } from "../backbone/fixtures.js";

/**
 * `demo --backbone` as users run it (the built CLI, `npm run build` first), on a small
 * seeded-random model folder with a progress head: the demo's questions are answered by both
 * sources, labelled, the model's (untrained) reply is the refusal and never its text, and the
 * progress head's median over the episode is reported; without a head there is no progress figure.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(root, "dist", "nodes", "cli", "main.js");
const work = mkdtempSync(join(tmpdir(), "sr-demo-answers-"));
const withHead = join(work, "head");
const noHead = join(work, "nohead");
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 150_000, cwd: work, env: { ...process.env, SPATIAL_REWARD_DEBUG: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split("\n").pop()!) as Record<string, unknown>;
const UNTRAINED = /^the backbone model is untrained \(seeded random weights\); it produced \d+ tokens in [\d.]+ ms\/token, not an answer$/;

interface Summary {
  answers: number;
  sample_answers: { question: string; answer: string }[];
  backbone: {
    state: string; frames_done: number;
    answers: { question: string; engine: string; backbone: string; status: number }[];
    progress_p50?: number; progress_n?: number; progress_last?: number;
  };
}

beforeAll(() => {
  expect(existsSync(cli), `${cli} is missing: run npm run build`).toBe(true);
  for (const [dir, head] of [[withHead, true], [noHead, false]] as const) {
    const config = join(work, `${head}.json`);
    writeFileSync(config, JSON.stringify({ ...RUNTIME_SMALL, progress_head: head }));
    const r = run(["backbone", "init", "--config", config, "--out", dir, "--seed", "5"]);
    expect(r.code, r.stderr).toBe(0);
  }
});

describe("demo --backbone --model with a progress head", () => {
  it("answers every demo question from both sources (engine text, backbone refusal) and reports the head's median progress", () => {
    const r = run(["demo", "--frames", "75", "--backbone", "--model", withHead, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const s = lastJson(r.stdout) as unknown as Summary;
    const b = s.backbone;
    expect(b.state).toBe("ready");
    // Questions at frames 15 and 45: each asked of the engine and of the backbone.
    expect(s.answers).toBe(2);
    expect(b.answers.map((x) => x.question)).toEqual(s.sample_answers.map((x) => x.question));
    expect(b.answers.map((x) => x.engine)).toEqual(s.sample_answers.map((x) => x.answer));
    for (const x of b.answers) {
      expect(x.engine).not.toMatch(/untrained/);
      expect(x.backbone).toMatch(UNTRAINED);
      expect(x.status).toBe(SpatialAnswerStatus.STATUS_UNANSWERABLE);
    }
    // One progress message per finished frame of the camera stream, each a sigmoid value.
    expect(b.progress_n).toBe(b.frames_done);
    expect(b.progress_p50).toBeGreaterThan(0);
    expect(b.progress_p50).toBeLessThan(1);
    expect(b.progress_last).toBeGreaterThan(0);
    expect(b.progress_last).toBeLessThan(1);

    const text = run(["demo", "--frames", "45", "--backbone", "--model", withHead]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/progress head p50 0\.\d+ over \d+ frames/);
    expect(text.stdout).toMatch(/ {2}Q: How far is the .+\?\n {4}engine: {3}.+\n {4}backbone: the backbone model is untrained .*not an answer\n/);
  }, 240_000);

  it("a model without a head: the answers side by side, no progress figure", () => {
    const r = run(["demo", "--frames", "45", "--backbone", "--model", noHead, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const b = (lastJson(r.stdout) as unknown as Summary).backbone;
    expect(b.answers).toHaveLength(1);
    expect(b.answers[0].backbone).toMatch(UNTRAINED);
    expect(Object.keys(b)).not.toContain("progress_p50");
    expect(r.stderr).toMatch(/has no progress head: nothing is published on backbone\/progress/);
  }, 180_000);
});

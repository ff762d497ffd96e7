import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spearman } from "../../src/eval/rank_correlation.js";
import { progressEpisode } from "../../sim/progress_episode.js";
import { DEFAULT_VARIATION_RANGES } from "../../sim/scene_variation.js";
import { VqaFrameRenderer } from "../../sim/vqa_frame.js";
import { RUNTIME_SMALL } from "../backbone/fixtures.js";
import { runChild } from "../run_child.js";

/**
 * `spatial-reward eval --source backbone` as users run it (the built CLI, `npm run build` first),
 * on a small seeded-random model folder written by `backbone init --config`: it runs end to end
 * on 2 scenes, asks the engine's questions of the same scenes, and its JSON has exactly the
 * engine's keys plus the backbone's section; the JSONL log has the engine's record keys; an
 * untrained model is said to be untrained; wrong command lines exit 2 in one line. With a
 * progress head, scripted episodes follow the scenes and the head is scored against their
 * ground-truth progress (random weights: the structure is tested, not the figures).
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(root, "dist", "nodes", "cli", "main.js");
const work = mkdtempSync(join(tmpdir(), "sr-eval-backbone-"));
const model = join(work, "model");
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run { code: number | null; stdout: string; stderr: string }
/** Async (runChild): a test runs the CLI many times, and a worker blocked for 60 s fails the whole run. */
async function run(args: string[]): Promise<Run> {
  return runChild(process.execPath, [cli, ...args], { timeoutMs: 120_000, cwd: work, env: { ...process.env, SPATIAL_REWARD_DEBUG: "" } });
}
function lastJson(r: Run): Record<string, unknown> {
  const lines = r.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}
const SCENE = ["--scenes", "2", "--seed", "100000", "--width", "160", "--height", "120", "--json"];

beforeAll(async () => {
  expect(existsSync(cli), `${cli} is missing: run npm run build`).toBe(true);
  writeFileSync(join(work, "small.json"), JSON.stringify({ ...RUNTIME_SMALL, progress_head: true }));
  const r = await run(["backbone", "init", "--config", join(work, "small.json"), "--out", model, "--seed", "3"]);
  expect(r.code, r.stderr).toBe(0);
});

describe("spatial-reward eval --source backbone", () => {
  it("runs end to end on 2 scenes: the engine's keys and questions, plus the backbone's latency section", async () => {
    const engineLog = join(work, "engine.jsonl");
    const backboneLog = join(work, "backbone.jsonl");
    const engine = await run(["eval", ...SCENE, "--log", engineLog]);
    const backbone = await run(["eval", "--source", "backbone", "--model", model, ...SCENE, "--log", backboneLog, "--progress-episodes", "0"]);
    expect(engine.code, engine.stderr).toBe(0);
    expect(backbone.code, backbone.stderr).toBe(0);
    const e = lastJson(engine);
    const b = lastJson(backbone);
    // box_accuracy is the engine's only (the backbone perceives no boxes: SpatialEvalResult says so).
    expect(e).toHaveProperty("box_accuracy");
    expect(Object.keys(b)).toEqual([...Object.keys(e).filter((k) => k !== "box_accuracy"), "backbone"]);
    expect(Object.keys(b.by_category as object)).toEqual(Object.keys(e.by_category as object));
    // The same scenes and the same questions: counts per type agree, skipped ambiguities too.
    expect(b.n_questions).toBe(e.n_questions);
    expect(b.skipped).toEqual(e.skipped);
    const byType = (x: Record<string, unknown>) => Object.fromEntries(Object.entries(x.by_type as Record<string, { n: number }>).map(([k, v]) => [k, v.n]));
    expect(byType(b)).toEqual(byType(e));
    expect(e).not.toHaveProperty("backbone");
    const bb = b.backbone as Record<string, unknown> & { frame_ms: Record<string, number>; answer_ms: Record<string, number>; encode_ms: Record<string, number>; prefill_ms: Record<string, number> };
    expect(bb.trained).toBe(false);
    expect(bb.coarse_to_fine).toBe(false);
    expect(bb.kept_fraction).toBe(1);
    expect(bb.frame_ms.n).toBe(2);
    expect(bb.answer_ms.n).toBe(b.n_questions);
    for (const l of [bb.frame_ms, bb.answer_ms, bb.encode_ms, bb.prefill_ms]) {
      expect(l.p50).toBeGreaterThan(0);
      expect(l.mean).toBeGreaterThan(0);
    }
    expect(bb.chance_qualitative_accuracy).toBeGreaterThan(0.3);
    expect(bb.chance_qualitative_accuracy).toBeLessThanOrEqual(0.5);
    expect(bb.unparsed_answers).toBeGreaterThanOrEqual(0);
    expect(bb.progress).toBeNull();
    // Untrained: said plainly (stderr with --json, so the last stdout line stays the JSON).
    expect(backbone.stderr).toMatch(/UNTRAINED/);
    expect(engine.stderr).not.toMatch(/UNTRAINED/);
    // The JSONL logs: one record per question, the same record keys and questions.
    const records = (f: string) => readFileSync(f, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const er = records(engineLog);
    const br = records(backboneLog);
    expect(br).toHaveLength(b.n_questions as number);
    expect(Object.keys(br[0])).toEqual(Object.keys(er[0]));
    expect(br.map((r) => r.question)).toEqual(er.map((r) => r.question));
    expect(br.every((r) => r.status === "ok" || r.status === "unparsed")).toBe(true);
  }, 180_000);

  it("--coarse-to-fine reports the kept fraction (the model's keep_ratio)", async () => {
    const r = await run(["eval", "--source", "backbone", "--model", model, "--coarse-to-fine", "--scenes", "1", "--width", "160", "--height", "120", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const bb = lastJson(r).backbone as { coarse_to_fine: boolean; kept_fraction: number };
    expect(bb.coarse_to_fine).toBe(true);
    // 16 patches at 64 px / 16: round(0.65 · 16) = 10 kept.
    expect(bb.kept_fraction).toBeCloseTo(10 / 16, 3);
  }, 120_000);

  it("text output says the model is untrained and gives the latency lines and the progress line (8 episodes by default)", async () => {
    const r = await run(["eval", "--source", "backbone", "--model", model, "--scenes", "1", "--width", "160", "--height", "120"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split("\n")[0]).toMatch(/UNTRAINED \(seeded random weights\)/);
    expect(r.stdout).toMatch(/per frame \(encode \+ prefill\) p50 [\d.]+ ms; per answer p50 [\d.]+ ms/);
    expect(r.stdout).toMatch(/qualitative accuracy/);
    expect(r.stdout).toMatch(/progress head on 8 scripted episodes \(240 frames; seeds from 100000, export's train split\): Spearman -?[\d.]+ pooled, -?[\d.]+ per-episode mean; MAE [\d.]+/);
  }, 120_000);

  it("--progress-episodes scores the progress head on scripted episodes, one stream each, and logs every frame", async () => {
    const log = join(work, "progress.jsonl");
    const r = await run(["eval", "--source", "backbone", "--model", model, "--progress-episodes", "2", "--scenes", "1", "--seed", "2000000000", "--width", "160", "--height", "120", "--json", "--log", log]);
    expect(r.code, r.stderr).toBe(0);
    const out = lastJson(r);
    const p = (out.backbone as { progress: Record<string, number> }).progress;
    expect(Object.keys(p)).toEqual(["episodes", "frames", "spearman", "spearman_per_episode_mean", "mae"]);
    // 60 frames at stride 2: 30 pushed per episode.
    expect(p.episodes).toBe(2);
    expect(p.frames).toBe(60);
    for (const k of ["spearman", "spearman_per_episode_mean"]) {
      expect(Number.isFinite(p[k]), k).toBe(true);
      expect(Math.abs(p[k]), k).toBeLessThanOrEqual(1);
    }
    expect(p.mae).toBeGreaterThanOrEqual(0);
    expect(p.mae).toBeLessThanOrEqual(1);

    type Line = { kind?: string; episode: number; seed: number; task: string; frame: number; truth: number; predicted: number };
    const lines = readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Line);
    const progress = lines.filter((l) => l.kind === "progress");
    // The questions' lines first, as without episodes; then one line per pushed episode frame.
    expect(lines.length - progress.length).toBe(out.n_questions);
    expect(lines.slice(lines.length - progress.length)).toEqual(progress);
    expect(progress).toHaveLength(60);
    for (const l of progress) {
      expect(Number.isFinite(l.truth) && Number.isFinite(l.predicted), JSON.stringify(l)).toBe(true);
      // A sigmoid's value; the truth is the reward tracker's progress.
      expect(l.predicted).toBeGreaterThan(0);
      expect(l.predicted).toBeLessThan(1);
      expect(l.truth).toBeGreaterThanOrEqual(0);
      expect(l.truth).toBeLessThanOrEqual(1);
    }
    // The episodes are export's, from seeds --seed + i, at the eval's resolution: the same tasks,
    // frames and ground truth as progressEpisode gives here.
    const renderer = new VqaFrameRenderer(160, 120, DEFAULT_VARIATION_RANGES);
    for (let i = 0; i < 2; i++) {
      const ep = progressEpisode(renderer, 2_000_000_000 + i, 60, 2);
      const mine = progress.filter((l) => l.episode === i);
      const views = [...ep.views()];
      expect(mine.map((l) => l.frame)).toEqual(views.map((v) => v.frame));
      expect(mine.map((l) => l.truth)).toEqual(views.map((v) => v.progress));
      expect(new Set(mine.map((l) => `${l.seed} ${l.task}`))).toEqual(new Set([`${ep.seed} ${ep.task}`]));
    }
    // The reported figures are those of the logged values.
    const r3 = (x: number) => Math.round(x * 1000) / 1000;
    expect(p.spearman).toBe(r3(spearman(progress.map((l) => l.predicted), progress.map((l) => l.truth))));
    const perEpisode = [0, 1].map((i) => progress.filter((l) => l.episode === i)).map((e) => spearman(e.map((l) => l.predicted), e.map((l) => l.truth)));
    expect(p.spearman_per_episode_mean).toBe(r3((perEpisode[0] + perEpisode[1]) / 2));
    expect(p.mae).toBe(r3(progress.reduce((a, l) => a + Math.abs(l.predicted - l.truth), 0) / progress.length));
  }, 120_000);

  it("a model without a progress head is scored on its answers alone: progress null, no error", async () => {
    const noHead = join(work, "nohead");
    writeFileSync(join(work, "nohead.json"), JSON.stringify({ ...RUNTIME_SMALL, progress_head: false }));
    const init = await run(["backbone", "init", "--config", join(work, "nohead.json"), "--out", noHead, "--seed", "3"]);
    expect(init.code, init.stderr).toBe(0);
    const log = join(work, "nohead.jsonl");
    const r = await run(["eval", "--source", "backbone", "--model", noHead, "--progress-episodes", "2", "--scenes", "1", "--width", "160", "--height", "120", "--json", "--log", log]);
    expect(r.code, r.stderr).toBe(0);
    const out = lastJson(r);
    expect((out.backbone as { progress: unknown }).progress).toBeNull();
    const lines = readFileSync(log, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { kind?: string });
    expect(lines).toHaveLength(out.n_questions as number);
    expect(lines.some((l) => l.kind === "progress")).toBe(false);
    const text = await run(["eval", "--source", "backbone", "--model", noHead, "--progress-episodes", "1", "--scenes", "1", "--width", "160", "--height", "120"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/progress head: none in this model/);
  }, 120_000);

  it("hostile flags exit 2 in one line; a folder that is not a model exits 1", async () => {
    const bad: string[][] = [
      ["eval", "--source", "oracle", "--model", model],
      ["eval", "--source", "backbone"],
      ["eval", "--model", model],
      ["eval", "--source", "engine", "--model", model],
      ["eval", "--coarse-to-fine"],
      ["eval", "--source", "backbone", "--model", ""],
      ["eval", "--source", "backbone", "--model", model, "--scenes", "0"],
      ["eval", "--source", "back\u202ebone", "--model", model],
      ["eval", "--source", "x".repeat(100_000)],
      ["eval", "--source", "backbone", "--model", model, "--progress-episodes", "-1"],
      ["eval", "--source", "backbone", "--model", model, "--progress-episodes", "abc"],
      ["eval", "--source", "backbone", "--model", model, "--progress-episodes", "1001"],
      ["eval", "--source", "backbone", "--model", model, "--progress-episodes", "1.5"],
      ["eval", "--source", "backbone", "--model", model, "--progress-episodes", "NaN"],
      ["eval", "--source", "backbone", "--model", model, "--progress-episodes", ""],
      ["eval", "--progress-episodes", "3", "--source", "engine"],
      ["eval", "--progress-episodes", "0"],
      // Episode i uses seed + i: 10 episodes from 2^32 − 5 run past the last seed.
      ["eval", "--source", "backbone", "--model", model, "--seed", "4294967290", "--scenes", "1", "--progress-episodes", "10"],
    ];
    for (const args of bad) {
      const r = await run(args);
      expect({ code: r.code, stdout: r.stdout }, args.join(" ").slice(0, 80)).toEqual({ code: 2, stdout: "" });
      expect(r.stderr.trim().split("\n"), r.stderr).toHaveLength(1);
      expect(r.stderr.length).toBeLessThan(600);
    }
    const r = await run(["eval", "--source", "backbone", "--model", work, "--scenes", "1", "--json"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/config\.json/);
  }, 120_000);
});

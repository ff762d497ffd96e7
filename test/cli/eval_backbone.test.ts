import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUNTIME_SMALL } from "../backbone/fixtures.js";

/**
 * `spatial-reward eval --source backbone` as users run it (the built CLI, `npm run build` first),
 * on a small seeded-random model folder written by `backbone init --config`: it runs end to end
 * on 2 scenes, asks the engine's questions of the same scenes, and its JSON has exactly the
 * engine's keys plus the backbone's section; the JSONL log has the engine's record keys; an
 * untrained model is said to be untrained; wrong command lines exit 2 in one line.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(root, "dist", "nodes", "cli", "main.js");
const work = mkdtempSync(join(tmpdir(), "sr-eval-backbone-"));
const model = join(work, "model");
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run { code: number | null; stdout: string; stderr: string }
function run(args: string[]): Run {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 120_000, cwd: work, env: { ...process.env, SPATIAL_REWARD_DEBUG: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function lastJson(r: Run): Record<string, unknown> {
  const lines = r.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}
const SCENE = ["--scenes", "2", "--seed", "100000", "--width", "160", "--height", "120", "--json"];

beforeAll(() => {
  expect(existsSync(cli), `${cli} is missing: run npm run build`).toBe(true);
  writeFileSync(join(work, "small.json"), JSON.stringify({ ...RUNTIME_SMALL, progress_head: true }));
  const r = run(["backbone", "init", "--config", join(work, "small.json"), "--out", model, "--seed", "3"]);
  expect(r.code, r.stderr).toBe(0);
});

describe("spatial-reward eval --source backbone", () => {
  it("runs end to end on 2 scenes: the engine's keys and questions, plus the backbone's latency section", () => {
    const engineLog = join(work, "engine.jsonl");
    const backboneLog = join(work, "backbone.jsonl");
    const engine = run(["eval", ...SCENE, "--log", engineLog]);
    const backbone = run(["eval", "--source", "backbone", "--model", model, ...SCENE, "--log", backboneLog]);
    expect(engine.code, engine.stderr).toBe(0);
    expect(backbone.code, backbone.stderr).toBe(0);
    const e = lastJson(engine);
    const b = lastJson(backbone);
    expect(Object.keys(b)).toEqual([...Object.keys(e), "backbone"]);
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

  it("--coarse-to-fine reports the kept fraction (the model's keep_ratio)", () => {
    const r = run(["eval", "--source", "backbone", "--model", model, "--coarse-to-fine", "--scenes", "1", "--width", "160", "--height", "120", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const bb = lastJson(r).backbone as { coarse_to_fine: boolean; kept_fraction: number };
    expect(bb.coarse_to_fine).toBe(true);
    // 16 patches at 64 px / 16: round(0.65 · 16) = 10 kept.
    expect(bb.kept_fraction).toBeCloseTo(10 / 16, 3);
  }, 120_000);

  it("text output says the model is untrained and gives the latency lines", () => {
    const r = run(["eval", "--source", "backbone", "--model", model, "--scenes", "1", "--width", "160", "--height", "120"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split("\n")[0]).toMatch(/UNTRAINED \(seeded random weights\)/);
    expect(r.stdout).toMatch(/per frame \(encode \+ prefill\) p50 [\d.]+ ms; per answer p50 [\d.]+ ms/);
    expect(r.stdout).toMatch(/qualitative accuracy/);
  }, 120_000);

  it("hostile flags exit 2 in one line; a folder that is not a model exits 1", () => {
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
    ];
    for (const args of bad) {
      const r = run(args);
      expect({ code: r.code, stdout: r.stdout }, args.join(" ").slice(0, 80)).toEqual({ code: 2, stdout: "" });
      expect(r.stderr.trim().split("\n"), r.stderr).toHaveLength(1);
      expect(r.stderr.length).toBeLessThan(600);
    }
    const r = run(["eval", "--source", "backbone", "--model", work, "--scenes", "1", "--json"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/config\.json/);
  }, 120_000);
});

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUNTIME_SMALL } from "../backbone/fixtures.js";

/**
 * `spatial-reward ask --source backbone` (built CLI): an untrained model's text is never shown
 * as an answer (exit 0, a line saying so, with the latency); the engine's ask is unchanged;
 * wrong command lines exit 2 in one line.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(root, "dist", "nodes", "cli", "main.js");
const work = mkdtempSync(join(tmpdir(), "sr-ask-backbone-"));
const model = join(work, "model");
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run { code: number | null; stdout: string; stderr: string }
function run(args: string[]): Run {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 120_000, cwd: work, env: { ...process.env, SPATIAL_REWARD_DEBUG: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  expect(existsSync(cli), `${cli} is missing: run npm run build`).toBe(true);
  writeFileSync(join(work, "small.json"), JSON.stringify(RUNTIME_SMALL));
  const r = run(["backbone", "init", "--config", join(work, "small.json"), "--out", model]);
  expect(r.code, r.stderr).toBe(0);
});

describe("spatial-reward ask --source backbone", () => {
  const Q = "How far is the mug from the bowl?";

  it("an untrained model: exit 0, says untrained, gives the latency, never prints the model's text", () => {
    const r = run(["ask", "--source", "backbone", "--model", model, "--seed", "3", Q]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/untrained \(seeded random weights\): its text is not an answer/);
    expect(lines[0]).toMatch(/frame \(encode \+ prefill\) [\d.]+ ms, answer [\d.]+ ms \(\d+ tokens\)/);
    // The model's bytes are noise, often not even UTF-8: none of it reaches stdout.
    expect(r.stdout).not.toMatch(/\uFFFD/);
    const j = run(["ask", "--source", "backbone", "--model", model, "--seed", "3", "--json", Q]);
    expect(j.code, j.stderr).toBe(0);
    const o = JSON.parse(j.stdout.trim()) as Record<string, unknown>;
    expect(o).toMatchObject({ source: "backbone", trained: false, status: "untrained" });
    expect(o.frame_ms).toBeGreaterThan(0);
    expect(o.answer_ms).toBeGreaterThan(0);
    expect(o).not.toHaveProperty("value");
  }, 120_000);

  it("the engine stays the default", () => {
    const r = run(["ask", "--seed", "3", "--json", Q]);
    const o = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
    expect(o).not.toHaveProperty("source");
    expect(typeof o.text).toBe("string");
  }, 60_000);

  it("hostile flags exit 2 in one line", () => {
    for (const args of [
      ["ask", "--source", "backbone", Q],
      ["ask", "--model", model, Q],
      ["ask", "--source", "gpt", "--model", model, Q],
      ["ask", "--source", "backbone", "--model", "", Q],
      ["ask", "--source", "backbone", "--model", model, "x".repeat(5000)],
      ["ask", "--source", "backbone", "--model", model, "   "],
      ["ask", "--source", "backbone", "--model", model, "--coarse-to-fine", Q],
    ]) {
      const r = run(args);
      expect({ code: r.code, stdout: r.stdout }, args.join(" ").slice(0, 80)).toEqual({ code: 2, stdout: "" });
      expect(r.stderr.trim().split("\n"), r.stderr).toHaveLength(1);
    }
  }, 120_000);
});

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The eval's scene options as users type them (`npm run build` first): hostile values refused
 * in one stderr line with exit 2 before any scene is drawn; a good value adds its figures.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(root, "dist", "nodes", "cli", "main.js");

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 120_000, env: { ...process.env, SPATIAL_REWARD_DEBUG: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectUsage(args: string[], mention: string): void {
  const r = run(args);
  expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: "" });
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toContain(mention);
}

describe("eval scene options", () => {
  it("is built", () => {
    expect(existsSync(cli), `${cli} is missing: run npm run build`).toBe(true);
  });

  it.each([["-0.1"], ["1.01"], ["NaN"], ["Infinity"], ["1e999"], [""], ["0x1"], ["half"], ["9".repeat(400)]])("--stacking %s is refused", (value) => {
    expectUsage(["eval", "--scenes", "1", "--stacking", value], "--stacking must be a number in [0, 1]");
  });

  it("--stacking and --clutter need the engine; --clutter takes no value", () => {
    expectUsage(["eval", "--stacking", "0.5", "--source", "backbone", "--model", "/nonexistent"], "--stacking needs --source engine");
    expectUsage(["eval", "--clutter", "--source", "backbone", "--model", "/nonexistent"], "--clutter needs --source engine");
    expectUsage(["eval", "--clutter", "yes"], "too many arguments");
  });

  it("--clutter adds the clutter figures", () => {
    const r = run(["eval", "--scenes", "1", "--seed", "7000000", "--width", "320", "--height", "240", "--clutter", "--stacking", "0.5", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { clutter?: { scenes: number; objects_per_scene: number }; stacked?: { scenes: number } };
    expect(out.clutter!.scenes).toBe(1);
    expect(out.clutter!.objects_per_scene).toBeGreaterThanOrEqual(12);
    expect(out.stacked!.scenes).toBe(1);
  });

  it("--stacking adds the stacked figures; without it the output has none", () => {
    const withStacks = run(["eval", "--scenes", "2", "--seed", "7000000", "--width", "320", "--height", "240", "--stacking", "1", "--json"]);
    expect(withStacks.code, withStacks.stderr).toBe(0);
    const out = JSON.parse(withStacks.stdout.trim().split("\n").pop()!) as { stacked?: { stacked_pairs: number; elevation: { n: number } } };
    expect(out.stacked!.stacked_pairs).toBeGreaterThan(0);
    expect(out.stacked!.elevation.n).toBeGreaterThan(0);
    const plain = run(["eval", "--scenes", "1", "--seed", "7000000", "--width", "320", "--height", "240", "--json"]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(JSON.parse(plain.stdout.trim().split("\n").pop()!)).not.toHaveProperty("stacked");
  });
});

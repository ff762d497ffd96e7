import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PARAPHRASES } from "../../src/eval/paraphrase_set.js";

const MAIN = join(import.meta.dirname, "../../dist/nodes/cli/main.js");

function run(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The built CLI (npm run build), as an installed package runs it: the set ships inside dist/. */
describe.runIf(existsSync(MAIN))("spatial-reward eval --paraphrases", () => {
  it("adds the paraphrase figures to the JSON next to the per-type table of the new types", () => {
    const r = run(["eval", "--scenes", "2", "--seed", "7100000", "--width", "320", "--height", "240", "--paraphrases", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
    const p = out.paraphrases;
    expect(Object.keys(p).sort()).toEqual(
      ["asked", "by_type", "failing_entries", "failures", "same_answer", "same_answer_pct", "scenes", "set_size", "unbound", "understood", "understood_pct"],
    );
    expect([p.scenes, p.set_size]).toEqual([2, PARAPHRASES.length]);
    expect(p.asked + p.unbound).toBe(2 * PARAPHRASES.length);
    expect(p.understood_pct).toBeGreaterThanOrEqual(95);
    expect(p.same_answer_pct).toBeLessThanOrEqual(p.understood_pct);
    expect(p.failures.length).toBe(Math.min(10, p.failing_entries));
    for (const t of ["count", "color", "tallest", "closest_to"]) expect(out.by_type[t]?.n, t).toBeGreaterThan(0);
    expect(Object.keys(out.by_category)).toEqual(expect.arrayContaining(["count", "color", "superlative"]));
  }, 150_000);

  it("prints a summary line in text mode, and is refused with the backbone as the source", () => {
    const text = run(["eval", "--scenes", "1", "--seed", "7100010", "--width", "320", "--height", "240", "--paraphrases"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^paraphrases: \d+ asked \(\d+ in the set\), understood [\d.]+%, same answer as the canonical question [\d.]+%$/m);
    expect(text.stdout).toMatch(/^ {2}tallest +n= +\d+ +accuracy/m);
    const refused = run(["eval", "--source", "backbone", "--model", join(import.meta.dirname, "../../models/tiny-cobra"), "--paraphrases"]);
    expect({ code: refused.code, stderr: refused.stderr }).toEqual({ code: 2, stderr: "spatial-reward eval: --paraphrases needs --source engine\n" });
  }, 150_000);
});

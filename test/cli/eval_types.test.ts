import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { questionTypesArg } from "../../nodes/cli/question_type_list.js";
import { UsageError } from "../../nodes/cli/cli_args.js";
import { QUESTION_TYPES } from "../../src/spatial/question_types.js";

/** `eval --types LIST`: only the listed types and categories are asked (the built CLI; `npm run build` first). */
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(root, "dist", "nodes", "cli", "main.js");

function evalJson(args: string[]): { code: number | null; json: Record<string, unknown> | null; stderr: string } {
  const r = spawnSync(process.execPath, [cli, "eval", "--scenes", "2", "--seed", "4100", "--json", ...args], { encoding: "utf8", timeout: 120_000 });
  const last = r.stdout.trim().split("\n").pop() ?? "";
  return { code: r.status, json: r.status === 0 ? (JSON.parse(last) as Record<string, unknown>) : null, stderr: r.stderr };
}

describe("eval --types", () => {
  it("expands categories, keeps the generator's order and refuses unknown names", () => {
    const parse = questionTypesArg("--types");
    expect(parse("count,left_of")).toEqual(["left_of", "count"]);
    expect(parse("clock")).toEqual(QUESTION_TYPES.filter((t) => t.category === "clock").map((t) => t.id));
    expect(parse(" choice , choice ")).toEqual(QUESTION_TYPES.filter((t) => t.category === "choice").map((t) => t.id));
    for (const bad of ["", ",", "left_off", "qualitative,nope", "x".repeat(100_000), "left_of\u0000"]) {
      expect(() => parse(bad), bad.slice(0, 20)).toThrow(UsageError);
    }
  });

  it("asks only those types, and the same questions of them as a run without the option", () => {
    const all = evalJson([]);
    const some = evalJson(["--types", "left_of,quantitative"]);
    expect([all.code, some.code], all.stderr + some.stderr).toEqual([0, 0]);
    const byType = (j: Record<string, unknown> | null) => j!.by_type as Record<string, { n: number }>;
    const wanted = new Set(["left_of", ...QUESTION_TYPES.filter((t) => t.category === "quantitative").map((t) => t.id)]);
    expect(Object.keys(byType(some.json)).every((t) => wanted.has(t))).toBe(true);
    expect(Object.keys(byType(all.json)).some((t) => !wanted.has(t))).toBe(true);
    expect(some.json!.question_types).toEqual(QUESTION_TYPES.filter((t) => wanted.has(t.id)).map((t) => t.id));
    expect(all.json!.question_types).toBeNull();
    // Every type is still drawn, so these types' questions (and the engine's answers) are the full run's.
    for (const t of Object.keys(byType(some.json))) expect(byType(some.json)[t], t).toEqual(byType(all.json)[t]);
  }, 240_000);

  it("a bad list is a usage error (exit 2, one line)", () => {
    const r = evalJson(["--types", "flying"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("--types");
  });
});

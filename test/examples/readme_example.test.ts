import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));

describe("README simulator-loop example", () => {
  it("is in the README verbatim", () => {
    const example = readFileSync(join(here, "sim_loop.example.ts"), "utf8").trim();
    const readme = readFileSync(join(here, "../../README.md"), "utf8");
    expect(readme).toContain(example);
  });

  it("runs: the scripted teleop reaches the goal and the perceived reward says so", async () => {
    const { result } = await import("./sim_loop.example.js");
    expect(result.task).toMatch(/^put the .+ (next to|on) the .+$/);
    expect(result.reward.success).toBe(true);
    expect(result.reward.progress).toBe(1);
  }, 120_000);
});

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

describe("README backbone example", () => {
  it("is in the README verbatim", () => {
    const example = readFileSync(join(here, "backbone_stream.example.ts"), "utf8").trim();
    const readme = readFileSync(join(here, "../../README.md"), "utf8");
    expect(readme).toContain(example);
  });

  it("runs: ten rendered frames streamed and timed, a question answered by an untrained model that says so", async () => {
    const { result } = await import("./backbone_stream.example.js");
    expect(result.frameMs).toHaveLength(10);
    for (const ms of result.frameMs) expect(ms).toBeGreaterThan(0);
    expect(result.reply.trained).toBe(false);
    expect(result.reply.tokenIds.length).toBeGreaterThan(0);
    expect(result.reply.tokenIds.length).toBeLessThanOrEqual(8);
  }, 120_000);
});

import { RUNTIME_SMALL } from "../backbone/fixtures.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { SpatialAnswerStatus } from "../../src/msgs/generated.js";
import { backboneSizes, TINY_CONFIG, type BackboneConfig } from "../../src/backbone/config.js";
import { runChild } from "../run_child.js";

/**
 * `demo --backbone` and `backbone bench --quick --json` as users run them (the built CLI):
 * the demo reports the backbone's per-frame latency and never an untrained model's text, the
 * demo without the flag is unchanged, and the bench's JSON line carries every key issue 8 asks
 * for with values that are measurements (finite, positive, consistent), not placeholders — on a
 * small model and short contexts, so the test takes seconds on two cores.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(root, "dist", "nodes", "cli", "main.js");
const work = mkdtempSync(join(tmpdir(), "sr-backbone-demo-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Async (runChild): a test runs the CLI many times, and a worker blocked for 60 s fails the whole run. */
async function run(args: string[], timeout = 120_000) {
  return runChild(process.execPath, [cli, ...args], { timeoutMs: timeout, cwd: work, env: { ...process.env, SPATIAL_REWARD_DEBUG: "" } });
}
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split("\n").pop()!) as Record<string, unknown>;

interface BackboneSummary {
  state: string; trained: boolean; frames_in: number; frames_done: number; frames_dropped: number;
  frame_ms: { p50: number; p99: number }; encode_ms_p50: number; prefill_ms_p50: number; answer: { status: number; text: string };
}

describe("demo --backbone", () => {
  it("runs the seeded-random backbone on the demo's frames: latency reported, its text never an answer, the episode as without it", async () => {
    const r = await run(["demo", "--frames", "45", "--backbone", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const s = lastJson(r.stdout);
    const b = s.backbone as BackboneSummary;
    expect(b.state).toBe("ready");
    expect(b.trained).toBe(false);
    expect(b.frames_in).toBe(45);
    expect(b.frames_done + b.frames_dropped).toBe(45);
    expect(b.frames_done).toBeGreaterThan(0);
    expect(b.frame_ms.p50).toBeGreaterThan(0);
    expect(b.frame_ms.p99).toBeGreaterThanOrEqual(b.frame_ms.p50);
    expect(b.encode_ms_p50).toBeGreaterThan(0);
    expect(b.prefill_ms_p50).toBeGreaterThan(0);
    expect(b.answer.status).toBe(SpatialAnswerStatus.STATUS_UNANSWERABLE);
    expect(b.answer.text).toMatch(/^the backbone model is untrained \(seeded random weights\); it produced \d+ tokens in [\d.]+ ms\/token, not an answer$/);
    // The engine's side of the demo is untouched by the backbone.
    expect(s.success).toBe(true);
    expect(s.answers_ok).toBe(s.answers);

    const text = await run(["demo", "--frames", "45", "--backbone"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain("untrained seeded-random model: latency only, no answers");
    expect(text.stdout).toMatch(/backbone \(untrained seeded-random model: latency only, no answers\): \d+\/45 frames processed.*per frame p50 [\d.]+ ms/);
  }, 180_000);

  it("without --backbone the demo's JSON has no backbone part; --model alone is a usage error", async () => {
    const r = await run(["demo", "--frames", "45", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(Object.keys(lastJson(r.stdout))).not.toContain("backbone");
    const bad = await run(["demo", "--model", work]);
    expect({ code: bad.code, stdout: bad.stdout, stderr: bad.stderr }).toEqual({ code: 2, stdout: "", stderr: "spatial-reward demo: --model needs --backbone\n" });
  }, 120_000);

  it("a model folder that does not load: said once, the engine's episode goes on (exit 0)", async () => {
    const r = await run(["demo", "--frames", "45", "--backbone", "--model", join(work, "missing"), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\[ERROR\].*model .*missing failed to load/);
    const b = lastJson(r.stdout).backbone as BackboneSummary;
    expect(b.state).toBe("failed");
    expect(b.frames_in).toBe(0);
    expect(b.answer.status).toBe(SpatialAnswerStatus.STATUS_ERROR);
    expect(b.answer.text).toContain("failed to load");
  }, 120_000);
});

/** A small model (64 px, d_model 32, 2 layers): the bench's machinery end to end in seconds, not minutes. */
const SMALL: BackboneConfig = RUNTIME_SMALL;

/**
 * The bench's await run() from the built CLI module with a config file and short contexts. Through
 * the module, not `spatial-reward backbone bench --config F --contexts 64,256`, until
 * nodes/cli/program.ts declares those two options (it is not this change's file); the full
 * bench (TINY_CONFIG, contexts 256..16384) is `npm run bench:backbone`, not a test.
 */
async function runBench(config: string, contexts: number[]) {
  const script = `const { run } = await import(${JSON.stringify(pathToFileURL(join(root, "dist", "nodes", "cli", "backbone_bench.js")).href)});
process.exitCode = await run({ json: true, quick: true, config: ${JSON.stringify(config)}, contexts: ${JSON.stringify(contexts)} });`;
  // A file, not `-e`: worker threads inherit the process's execArgv, and --input-type breaks them.
  const file = join(work, "bench.mjs");
  writeFileSync(file, script);
  return runChild(process.execPath, [file], { timeoutMs: 120_000, cwd: work });
}

describe("backbone bench --quick --json with a small config and short contexts", () => {
  it("prints progress on stderr and, as the last stdout line, one JSON object with every key of issue 8, finite positive figures", async () => {
    const config = join(work, "small.json");
    writeFileSync(config, JSON.stringify(SMALL));
    const r = await runBench(config, [64, 256]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("[backbone bench");
    const j = lastJson(r.stdout) as Record<string, never>;
    const contexts = ["64", "256"];
    const positive = (x: unknown, what: string) => {
      expect(typeof x, what).toBe("number");
      expect(Number.isFinite(x as number), what).toBe(true);
      expect(x as number, what).toBeGreaterThan(0);
    };
    for (const key of ["ssm_token_ms", "transformer_token_ms", "ssm_token_ms_batch8", "transformer_token_ms_batch8"]) {
      const m = j[key] as Record<string, number>;
      expect(Object.keys(m).sort(), key).toEqual([...contexts].sort());
      for (const c of contexts) positive(m[c], `${key}.${c}`);
    }
    const ssm = j.ssm_token_ms as Record<string, number>;
    const tr = j.transformer_token_ms as Record<string, number>;
    // The ratios are computed from the figures printed beside them, named for the longest context.
    expect(j.ssm_flatness).toBeCloseTo(Math.max(...Object.values(ssm)) / Math.min(...Object.values(ssm)), 2);
    expect(j.transformer_over_ssm_256).toBeCloseTo(tr["256"] / ssm["256"], 1);
    positive(j.transformer_over_ssm_256_batch8, "transformer_over_ssm_256_batch8");
    expect(j.state_bytes_per_stream).toBe(backboneSizes(SMALL).stateBytes);
    positive(j.kv_bytes_per_stream, "kv_bytes_per_stream");
    expect(j.kv_over_state_256).toBeCloseTo((j.kv_bytes_per_stream as number) / (j.state_bytes_per_stream as number), 2);
    const frame = j.frame_ms as { p50: number; p99: number };
    positive(frame.p50, "frame_ms.p50");
    expect(frame.p99).toBeGreaterThanOrEqual(frame.p50);
    const streams = j.streams as { n: number; fps: number; rss_mb: number }[];
    expect(streams.map((s) => s.n)).toEqual([1, 4, 16]);
    for (const s of streams) {
      positive(s.fps, `streams ${s.n} fps`);
      positive(s.rss_mb, `streams ${s.n} rss_mb`);
    }
    const c2f = j.coarse_to_fine as { kept_fraction: number; encoder_ms_full: number; encoder_ms_c2f: number };
    positive(c2f.kept_fraction, "kept_fraction");
    expect(c2f.kept_fraction).toBeLessThan(1);
    positive(c2f.encoder_ms_full, "encoder_ms_full");
    positive(c2f.encoder_ms_c2f, "encoder_ms_c2f");
    positive(j.answer_token_ms, "answer_token_ms");
    expect(j.contexts).toEqual([64, 256]);
    expect(j.model).toContain("small.json");
  }, 120_000);

  it("contexts that cannot be measured and a config that is not one are refused in one line", async () => {
    const bad = await runBench(join(work, "small.json"), [256]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("--contexts must list at least two distinct integers");
    writeFileSync(join(work, "bad.json"), JSON.stringify({ ...SMALL, d_model: -1 }));
    const badConfig = await runBench(join(work, "bad.json"), [64, 256]);
    expect(badConfig.code).not.toBe(0);
    expect(badConfig.stderr).toContain("bad.json");
  });
});

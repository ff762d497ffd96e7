import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { SpatialAnswerStatus } from "../../src/msgs/generated.js";

/**
 * `demo --backbone` and `backbone bench --quick --json` as users run them (the built CLI):
 * the demo reports the backbone's per-frame latency and never an untrained model's text, the
 * demo without the flag is unchanged, and the bench's JSON line carries every key issue 8 asks
 * for with values that are measurements (positive, consistent), not placeholders.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const cli = join(root, "dist", "nodes", "cli", "main.js");
const work = mkdtempSync(join(tmpdir(), "sr-backbone-demo-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(args: string[], timeout = 120_000) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout, cwd: work, env: { ...process.env, SPATIAL_REWARD_DEBUG: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split("\n").pop()!) as Record<string, unknown>;

interface BackboneSummary {
  state: string; trained: boolean; frames_in: number; frames_done: number; frames_dropped: number;
  frame_ms: { p50: number; p99: number }; encode_ms_p50: number; prefill_ms_p50: number; answer: { status: number; text: string };
}

describe("demo --backbone", () => {
  it("runs the seeded-random backbone on the demo's frames: latency reported, its text never an answer, the episode as without it", () => {
    const r = run(["demo", "--frames", "45", "--backbone", "--json"]);
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

    const text = run(["demo", "--frames", "45", "--backbone"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain("untrained seeded-random model: latency only, no answers");
    expect(text.stdout).toMatch(/backbone \(untrained seeded-random model: latency only, no answers\): \d+\/45 frames processed.*per frame p50 [\d.]+ ms/);
  }, 180_000);

  it("without --backbone the demo's JSON has no backbone part; --model alone is a usage error", () => {
    const r = run(["demo", "--frames", "45", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(Object.keys(lastJson(r.stdout))).not.toContain("backbone");
    const bad = run(["demo", "--model", work]);
    expect({ code: bad.code, stdout: bad.stdout, stderr: bad.stderr }).toEqual({ code: 2, stdout: "", stderr: "spatial-reward demo: --model needs --backbone\n" });
  }, 120_000);

  it("a model folder that does not load: said once, the engine's episode goes on (exit 0)", () => {
    const r = run(["demo", "--frames", "45", "--backbone", "--model", join(work, "missing"), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\[ERROR\].*model .*missing failed to load/);
    const b = lastJson(r.stdout).backbone as BackboneSummary;
    expect(b.state).toBe("failed");
    expect(b.frames_in).toBe(0);
    expect(b.answer.status).toBe(SpatialAnswerStatus.STATUS_ERROR);
    expect(b.answer.text).toContain("failed to load");
  }, 120_000);
});

describe("backbone bench --quick --json", () => {
  it("prints progress on stderr and, as the last stdout line, one JSON object with every key of issue 8", () => {
    const r = run(["backbone", "bench", "--quick", "--json"], 600_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("[backbone bench");
    const j = lastJson(r.stdout) as Record<string, never>;
    const contexts = ["256", "1024", "4096", "16384"];
    for (const key of ["ssm_token_ms", "transformer_token_ms", "ssm_token_ms_batch8", "transformer_token_ms_batch8"]) {
      const m = j[key] as Record<string, number>;
      expect(Object.keys(m).sort(), key).toEqual([...contexts].sort());
      for (const c of contexts) expect(m[c], `${key}.${c}`).toBeGreaterThan(0);
    }
    const ssm = j.ssm_token_ms as Record<string, number>;
    const tr = j.transformer_token_ms as Record<string, number>;
    // The ratios are computed from the figures printed beside them.
    expect(j.ssm_flatness).toBeCloseTo(Math.max(...Object.values(ssm)) / Math.min(...Object.values(ssm)), 2);
    expect(j.transformer_over_ssm_16384).toBeCloseTo(tr["16384"] / ssm["16384"], 1);
    expect(j.state_bytes_per_stream).toBe(163_840);
    expect(j.kv_bytes_per_stream as number).toBeGreaterThan(j.state_bytes_per_stream as number);
    const frame = j.frame_ms as { p50: number; p99: number };
    expect(frame.p50).toBeGreaterThan(0);
    expect(frame.p99).toBeGreaterThanOrEqual(frame.p50);
    const streams = j.streams as { n: number; fps: number; rss_mb: number }[];
    expect(streams.map((s) => s.n)).toEqual([1, 4, 16]);
    for (const s of streams) {
      expect(s.fps).toBeGreaterThan(0);
      expect(s.rss_mb).toBeGreaterThan(0);
    }
    const c2f = j.coarse_to_fine as { kept_fraction: number; encoder_ms_full: number; encoder_ms_c2f: number };
    expect(c2f.kept_fraction).toBeGreaterThan(0);
    expect(c2f.kept_fraction).toBeLessThan(1);
    expect(c2f.encoder_ms_full).toBeGreaterThan(0);
    expect(c2f.encoder_ms_c2f).toBeGreaterThan(0);
    expect(j.answer_token_ms as number).toBeGreaterThan(0);
  }, 600_000);
});

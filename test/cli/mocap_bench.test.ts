import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { run, type MocapBenchOptions } from "../../nodes/cli/mocap_bench.js";
import { runCli } from "../../nodes/cli/run_cli.js";
import { MOSQUITTO_MISSING } from "../mqtt/mosquitto.js";

/**
 * `spatial-reward mocap bench`: a short run through each broker gives the JSON the issue asks
 * for (frames sent = received, latency percentiles, CPU), from a real publisher child process
 * (nodes/mqtt/mocap_publisher_process.ts, bundled once with esbuild so it starts as plain node);
 * wrong flags are refused with exit 2 before anything starts.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const buildDir = join(root, "build", "test-mqtt", String(process.pid));
const entry = join(buildDir, "mocap_publisher_process.mjs");

beforeAll(async () => {
  mkdirSync(buildDir, { recursive: true });
  await build({ entryPoints: [join(root, "nodes/mqtt/mocap_publisher_process.ts")], bundle: true, platform: "node", format: "esm", target: "node20", packages: "external", outfile: entry, logLevel: "silent" });
}, 60_000);
afterAll(() => rmSync(buildDir, { recursive: true, force: true }));

async function bench(o: Partial<MocapBenchOptions>): Promise<{ code: number; json: Record<string, unknown> }> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((s: unknown) => void lines.push(String(s)));
  try {
    const code = await run({ broker: "embedded", rate: 240, bodies: 10, joints: 20, seconds: 1.5, json: true, ...o }, { publisherEntry: entry, progress: false });
    return { code, json: JSON.parse(lines[lines.length - 1]) as Record<string, unknown> };
  } finally {
    spy.mockRestore();
  }
}

function checkReport(code: number, j: Record<string, unknown>, broker: string): void {
  expect(code).toBe(0);
  expect(j.broker).toBe(broker);
  expect(j.frames_sent).toBe(360);
  expect(j.frames_received).toBe(360);
  expect(j.frames_lost).toBe(0);
  const lat = j.latency_ms as { p50: number; p99: number; n: number };
  // 1.5 s: the first 10% (36 frames) are warm-up, left out of latency_ms but not of latency_ms_all.
  expect(lat.n).toBe(360 - 36);
  expect((j.latency_ms_all as { n: number }).n).toBe(360);
  expect(lat.p50).toBeGreaterThan(0);
  expect(lat.p99).toBeGreaterThanOrEqual(lat.p50);
  expect(lat.p99).toBeLessThan(1000);
  expect(j.cpu_pct as number).toBeGreaterThan(0);
  expect(j.publisher_cpu_pct as number).toBeGreaterThan(0);
  expect(j.payload_bytes_mean as number).toBeGreaterThan(10 * 40 + 20 * 50);
  expect(j.rejects).toEqual({});
  expect(j.publisher).toBe("child process");
  expect(j.mqtt).toEqual({ disconnects: 0, outages: 0, outage_ms_total: 0 });
}

describe("mocap bench", () => {
  it("embedded broker: every frame received, latency and CPU reported", async () => {
    const { code, json } = await bench({ broker: "embedded" });
    checkReport(code, json, "embedded");
    expect(json.cpu_includes_broker).toBe(true);
    expect(json.broker_cpu_pct).toBeNull();
  });

  it.skipIf(MOSQUITTO_MISSING !== "")(`mosquitto broker${MOSQUITTO_MISSING ? ` (skipped: ${MOSQUITTO_MISSING})` : ""}: every frame received, broker CPU too`, async () => {
    const { code, json } = await bench({ broker: "mosquitto" });
    checkReport(code, json, "mosquitto");
    expect(json.cpu_includes_broker).toBe(false);
    expect(typeof json.broker_cpu_pct).toBe("number");
  });

  it("refuses wrong flags with exit 2 and one line naming the flag", async () => {
    const cases: [string[], string][] = [
      [["--rate", "0"], "--rate"],
      [["--rate", "abc"], "--rate"],
      [["--rate", "3000"], "--rate"],
      [["--bodies", "2000"], "--bodies"],
      [["--bodies", "1.5"], "--bodies"],
      [["--joints", "-1"], "--joints"],
      [["--seconds", "0"], "--seconds"],
      [["--broker", "rabbitmq"], "--broker"],
      [["--rate", "0.1", "--seconds", "1"], "no frame"],
    ];
    for (const [args, flag] of cases) {
      const err: string[] = [];
      const spy = vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => {
        err.push(String(s));
        return true;
      });
      let code: number;
      try {
        code = await runCli(["mocap", "bench", ...args]);
      } finally {
        spy.mockRestore();
      }
      expect(code, args.join(" ")).toBe(2);
      const lines = err.join("").split("\n").filter((l) => l !== "");
      expect(lines, args.join(" ")).toHaveLength(1);
      expect(lines[0]).toContain(flag);
    }
  });
});

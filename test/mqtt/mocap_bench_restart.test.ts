import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { run, type MocapBenchOptions } from "../../nodes/cli/mocap_bench.js";
import { MOSQUITTO_MISSING } from "./mosquitto.js";

/**
 * `mocap bench --broker mosquitto --restart-broker-at S`: the broker restart as a reported
 * figure. Mosquitto is stopped mid-stream and started again with its persistence; the JSON's
 * broker_restart says how long it was down, the ingest's outage, and proves by frame number
 * that every frame came through. The publisher runs as the real child process (bundled once).
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const buildDir = join(root, "build", "test-mqtt-restart", String(process.pid));
const entry = join(buildDir, "mocap_publisher_process.mjs");

beforeAll(async () => {
  mkdirSync(buildDir, { recursive: true });
  await build({ entryPoints: [join(root, "nodes/mqtt/mocap_publisher_process.ts")], bundle: true, platform: "node", format: "esm", target: "node20", packages: "external", outfile: entry, logLevel: "silent" });
}, 60_000);
afterAll(() => rmSync(buildDir, { recursive: true, force: true }));

async function bench(o: Partial<MocapBenchOptions>): Promise<{ code: number; json: Record<string, unknown> | null; stderr: string }> {
  const lines: string[] = [];
  const errs: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((s: unknown) => void lines.push(String(s)));
  const spyErr = vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => (errs.push(String(s)), true));
  try {
    const code = await run({ broker: "mosquitto", rate: 240, bodies: 10, joints: 20, seconds: 3, json: true, ...o }, { publisherEntry: entry, progress: false });
    return { code, json: lines.length > 0 ? (JSON.parse(lines[lines.length - 1]) as Record<string, unknown>) : null, stderr: errs.join("") };
  } finally {
    spy.mockRestore();
    spyErr.mockRestore();
  }
}

describe.skipIf(MOSQUITTO_MISSING !== "")(`mocap bench --restart-broker-at${MOSQUITTO_MISSING ? ` (skipped: ${MOSQUITTO_MISSING})` : ""}`, () => {
  it("reports the outage and proves by frame number that no frame was lost", async () => {
    const { code, json } = await bench({ restartBrokerAt: 1, brokerDownMs: 600 });
    expect(json).not.toBeNull();
    const j = json!;
    const r = j.broker_restart as Record<string, unknown>;
    expect(r).toBeDefined();
    expect(r.error).toBeNull();
    expect(r.at_s).toBe(1);
    expect(r.halted_at_s as number).toBeGreaterThanOrEqual(0.99);
    // Down at least as long as asked, and the ingest saw it: one outage, its session kept.
    expect(r.broker_down_ms as number).toBeGreaterThanOrEqual(600);
    expect(r.ingest_outages).toBe(1);
    expect(r.ingest_outage_ms as number).toBeGreaterThanOrEqual(500);
    expect(r.ingest_sessions_lost).toBe(0);
    expect(r.publisher_disconnects as number).toBeGreaterThanOrEqual(1);
    expect(r.publisher_dropped_backlog).toBe(0);
    // Zero lost, by frame number.
    expect(r.frame_numbers_expected).toBe(720);
    expect(r.frame_numbers_received).toBe(720);
    expect(r.frame_numbers_missing).toBe(0);
    expect(r.first_missing).toEqual([]);
    expect(j.frames_sent).toBe(720);
    expect(j.frames_received).toBe(720);
    expect(j.frames_lost).toBe(0);
    expect((j.mqtt as { outages: number }).outages).toBe(1);
    expect(code).toBe(0);
  }, 60_000);

  it("is refused without Mosquitto or outside the run, before anything starts", async () => {
    for (const o of [{ broker: "embedded" as const, restartBrokerAt: 1 }, { restartBrokerAt: 3 }, { restartBrokerAt: 0 }, { restartBrokerAt: 1, brokerDownMs: -1 }]) {
      const { code, json, stderr } = await bench(o);
      expect(code).toBe(2);
      expect(json).toBeNull();
      expect(stderr).toMatch(/--restart-broker-at|--broker-down-ms/);
    }
  });
});

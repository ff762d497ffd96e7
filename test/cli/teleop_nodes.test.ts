import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { EmbeddedBroker } from "../../nodes/mqtt/embedded_broker.js";
import { encodeMocapFrame, encodeRecorderControl } from "../../src/mocap/mocap_codec.js";
import { RecorderControl_Command } from "../../src/msgs/mocap_proto.js";
import { makeFrame, publishQos1, rawClient, waitFor } from "../mqtt/mqtt_fixtures.js";
import { readIndexed } from "../record/mcap_test_helpers.js";

/**
 * `spatial-reward node mocap_ingest` and `node recorder` (what the ament executables run):
 * each starts, does its job and stops cleanly on SIGTERM, exit 0 — the ingest releases its
 * embedded broker and MQTT client (the process would not exit otherwise), the recorder
 * finishes the episode it is recording into a complete, indexed file.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const cli = join(root, "dist", "nodes", "cli", "main.js");
const work = mkdtempSync(join(tmpdir(), "sr-teleop-nodes-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Node {
  child: ReturnType<typeof spawn>;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startNode(name: string, rosArgs: string[]): Node {
  const child = spawn(process.execPath, [cli, "node", name, "--ros-args", ...rosArgs], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return { child, stderr: () => err, exit };
}

async function stop(n: Node): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const t = Date.now();
  n.child.kill("SIGTERM");
  const r = await Promise.race([n.exit, new Promise<null>((resolve) => setTimeout(() => resolve(null), 10_000))]);
  if (r === null) {
    n.child.kill("SIGKILL");
    throw new Error(`${n.child.pid} did not exit within 10 s of SIGTERM:\n${n.stderr()}`);
  }
  return { ...r, ms: Date.now() - t };
}

describe("teleop nodes as processes", () => {
  it("node mocap_ingest: embedded broker up, frames in, SIGTERM → exit 0 with the broker closed", async () => {
    const n = startNode("mocap_ingest", ["-p", "embedded_port:=0", "-p", "diagnostics_period_ms:=0"]);
    expect(await waitFor(() => /listening on mqtt:\/\/127\.0\.0\.1:\d+/.test(n.stderr()), 20_000), n.stderr()).toBe(true);
    const url = /listening on (mqtt:\/\/127\.0\.0\.1:\d+)/.exec(n.stderr())![1];
    expect(await waitFor(() => n.stderr().includes("connected to MQTT broker"), 10_000), n.stderr()).toBe(true);
    const raw = await rawClient(url, "teleop-nodes-test");
    await publishQos1(raw, "mocap/s1/frame", encodeMocapFrame(makeFrame("s1", 0n, 1_000_000_000n)));
    expect(await waitFor(() => n.stderr().includes("mocap stream \"s1\""), 10_000), n.stderr()).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    const r = await stop(n);
    expect({ code: r.code, signal: r.signal }, n.stderr()).toEqual({ code: 0, signal: null });
    // The broker went with the node: the client sees the connection close.
    expect(await waitFor(() => !raw.connected, 5000)).toBe(true);
    raw.end(true);
  }, 60_000);

  it("node recorder: an episode started over MQTT control is finished into an indexed file on SIGTERM", async () => {
    const broker = await EmbeddedBroker.start({ port: 0 });
    const out = join(work, "episodes");
    const n = startNode("recorder", ["-p", `output_dir:=${out}`, "-p", `mqtt_control_broker:=${broker.url}`, "-p", "diagnostics_period_ms:=0"]);
    try {
      expect(await waitFor(() => n.stderr().includes("episode control on MQTT mocap/control"), 20_000), n.stderr()).toBe(true);
      const raw = await rawClient(broker.url, "teleop-nodes-control");
      await publishQos1(raw, "mocap/control", encodeRecorderControl({ command: RecorderControl_Command.START, task: "wave", operator: "ana", seed: 3n }));
      expect(await waitFor(() => existsSync(out) && readdirSync(out).some((f) => f.endsWith(".mcap")), 10_000), n.stderr()).toBe(true);
      raw.end(true);
      await new Promise((r) => setTimeout(r, 200));
      const r = await stop(n);
      expect({ code: r.code, signal: r.signal }, n.stderr()).toEqual({ code: 0, signal: null });
      const file = join(out, readdirSync(out).find((f) => f.endsWith(".mcap"))!);
      // Complete and indexed: the official reader reads its summary (the latched-topic-free episode holds no messages).
      const { reader, messages } = await readIndexed(file);
      expect(reader.footer).toBeDefined();
      expect(reader.statistics?.messageCount).toBe(BigInt(messages.length));
      // The episode's metadata at its start, and how it ended (written when SIGTERM finished the file).
      expect(reader.metadataIndexes.map((m) => m.name)).toEqual(["episode", "episode_end"]);
      expect(n.stderr()).toMatch(/episode .*\.mcap finished/);
    } finally {
      n.child.kill("SIGKILL");
      await broker.stop();
    }
  }, 60_000);
});

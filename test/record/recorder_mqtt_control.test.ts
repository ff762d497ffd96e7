import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MqttClient } from "mqtt";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RecorderNode } from "../../nodes/recorder_node.js";
import { EmbeddedBroker } from "../../nodes/mqtt/embedded_broker.js";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { QOS_DEFAULT } from "../../src/transport/qos.js";
import type { ParameterValue } from "../../src/transport/parameters.js";
import type * as M from "../../src/msgs/generated.js";
import { InvalidInputError } from "../../src/errors.js";
import { encodeMocapFrame, encodeRecorderControl } from "../../src/mocap/mocap_codec.js";
import { RecorderControl_Command } from "../../src/msgs/mocap_proto.js";
import { EPISODE_METADATA_NAME, parseEpisodeMetadata } from "../../src/record/episode_metadata.js";
import { makeFrame, publishQos1, rawClient, seeded, waitFor } from "../mqtt/mqtt_fixtures.js";
import { MOSQUITTO_MISSING, startMosquitto } from "../mqtt/mosquitto.js";
import { readIndexed } from "./mcap_test_helpers.js";

/**
 * Episode control over MQTT (nodes/mqtt/recorder_control.ts through RecorderNode's
 * mqtt_control_* parameters): RecorderControl protobuf on mocap/control starts and stops
 * episodes; hostile payloads (garbage, truncated, oversized, another message's bytes, unknown
 * commands, a fuzzed stream) are counted and skipped while the control keeps working.
 */

const dir = mkdtempSync(join(tmpdir(), "recorder-mqtt-"));
let broker: EmbeddedBroker;
const cleanups: (() => Promise<void>)[] = [];
beforeAll(async () => {
  broker = await EmbeddedBroker.start({ port: 0 });
});
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});
afterAll(async () => {
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
});

let clients = 0;
async function setup(params: Record<string, ParameterValue> = {}) {
  const transport = new InprocTransport();
  transport.logSinks = [];
  const out = mkdtempSync(join(dir, "episodes-"));
  const recorder = new RecorderNode(transport.createNode("recorder", {
    parameterOverrides: { diagnostics_period_ms: 0, output_dir: out, mqtt_control_broker: broker.url, mqtt_client_id: `recorder-test-${++clients}`, ...params },
  }));
  const raw: MqttClient = await rawClient(broker.url, `control-sender-${clients}`);
  cleanups.push(async () => {
    await new Promise<void>((resolve) => raw.end(true, {}, () => resolve()));
    await recorder.shutdown();
    await transport.shutdown();
  });
  expect(recorder.mqttControl).not.toBeNull();
  await recorder.mqttControl!.subscribed();
  const rewards = transport.createNode("probe").createPublisher<M.spatial_reward_msgs__msg__Reward>("spatial_reward_msgs/msg/Reward", "reward", QOS_DEFAULT);
  return { transport, recorder, raw, out, rewards };
}

const control = (command: number, task = "", operator = "", seed = 0n) => encodeRecorderControl({ command: command as RecorderControl_Command, task, operator, seed });
const reward = (i: number): M.spatial_reward_msgs__msg__Reward => ({
  header: { stamp: { sec: 2000 + i, nanosec: 0 }, frame_id: "table" }, spec: "near(a, b, 0.05)", reward: -i, progress: 0, success: false, residual: i,
});

describe("recorder MQTT control", () => {
  it("starts and stops episodes from RecorderControl on mocap/control; hostile payloads are counted and skipped", async () => {
    const g = await setup();
    const c = g.recorder.counters;
    await publishQos1(g.raw, "mocap/control", control(RecorderControl_Command.START, "stack the cups", "ana", 42n));
    expect(await waitFor(() => g.recorder.recording, 5000)).toBe(true);
    const path = g.recorder.episodePath!;
    for (let i = 0; i < 5; i++) g.rewards.publish(reward(i));

    // Hostile payloads while recording: none of them stops, restarts or crashes anything.
    const hostile: Uint8Array[] = [
      new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]), // a varint key running past the end
      Uint8Array.from({ length: 200 }, (_, k) => (k * 37) & 0xff), // garbage
      new Uint8Array(100 * 1024), // oversized: refused before parsing
      encodeMocapFrame(makeFrame("s1", 1n, 1000n)), // another message's bytes (wrong schema)
      control(7, "x"), // an unknown command
      control(RecorderControl_Command.COMMAND_UNSPECIFIED),
      control(RecorderControl_Command.START, "x".repeat(2000)), // a string over the codec's limit
      new Uint8Array(0), // empty: command 0
    ];
    for (const h of hostile) await publishQos1(g.raw, "mocap/control", h);
    // START while recording: refused by the recorder (bad_state), the episode goes on.
    await publishQos1(g.raw, "mocap/control", control(RecorderControl_Command.START, "again"));
    expect(await waitFor(() => c.get("mqtt_control.messages") === 1 + hostile.length + 1, 5000)).toBe(true);
    expect(await waitFor(() => c.get("errors.bad_state") === 1, 5000)).toBe(true);
    expect(g.recorder.recording).toBe(true);
    expect(g.recorder.episodePath).toBe(path);
    expect(c.get("mqtt_control.rejected")).toBe(hostile.length);
    expect(c.get("mqtt_control.starts")).toBe(2);
    const rejectedByCode = c.get("errors.bad_message") + c.get("errors.payload_too_large") + c.get("errors.wrong_schema");
    expect(rejectedByCode).toBe(hostile.length);
    // The 100 kB payload and the 2000-byte task string are over the codec's limits; the rest is malformed.
    expect(c.get("errors.payload_too_large")).toBe(2);

    await publishQos1(g.raw, "mocap/control", control(RecorderControl_Command.STOP));
    expect(await waitFor(() => !g.recorder.recording && c.get("episodes_finished") === 1, 5000)).toBe(true);
    const { reader, messages } = await readIndexed(path);
    expect(messages.filter((m) => reader.channelsById.get(m.channelId)!.topic === "/reward")).toHaveLength(5);
    const records = [];
    for await (const m of reader.readMetadata({ name: EPISODE_METADATA_NAME })) records.push(m);
    expect(records).toHaveLength(1);
    const meta = parseEpisodeMetadata(records[0].metadata);
    expect(meta.task).toBe("stack the cups");
    expect(meta.operator).toBe("ana");
    expect(meta.seed).toBe(42n);

    // STOP when idle changes nothing; a second START opens a new file.
    await publishQos1(g.raw, "mocap/control", control(RecorderControl_Command.STOP));
    await publishQos1(g.raw, "mocap/control", control(RecorderControl_Command.START, "second", "ben"));
    expect(await waitFor(() => g.recorder.recording, 5000)).toBe(true);
    expect(g.recorder.episodePath).not.toBe(path);
    await publishQos1(g.raw, "mocap/control", control(RecorderControl_Command.STOP));
    expect(await waitFor(() => c.get("episodes_finished") === 2, 5000)).toBe(true);
    expect(readdirSync(g.out).filter((f) => f.endsWith(".mcap"))).toHaveLength(2);
    expect(c.get("mqtt_control.stops")).toBe(3);
  });

  it("fuzz: 600 seeded random and mutated payloads never start an episode by accident or crash; counters balance", async () => {
    const g = await setup();
    const c = g.recorder.counters;
    const rng = seeded(20260601);
    const valid = control(RecorderControl_Command.STOP);
    let sent = 0;
    for (let i = 0; i < 600; i++) {
      let bytes: Uint8Array;
      if (i % 2 === 0) {
        bytes = Uint8Array.from({ length: Math.floor(rng() * 64) }, () => Math.floor(rng() * 256));
      } else {
        bytes = Uint8Array.from(control(RecorderControl_Command.START, "fuzz", "f", BigInt(i)));
        for (let k = 0; k < 1 + Math.floor(rng() * 3); k++) bytes[Math.floor(rng() * bytes.length)] = Math.floor(rng() * 256);
      }
      await publishQos1(g.raw, "mocap/control", bytes);
      sent++;
      // A mutated START that still decodes as START is a real start: stop it so the next one is not refused.
      if (g.recorder.recording) {
        await publishQos1(g.raw, "mocap/control", valid);
        sent++;
        await waitFor(() => !g.recorder.recording, 5000);
      }
    }
    expect(await waitFor(() => c.get("mqtt_control.messages") === sent, 10_000)).toBe(true);
    // Every message is exactly one of: a start, a stop, a rejection, a stale command (a mutation
    // can write a stamp, sequence or sender).
    expect(c.get("mqtt_control.starts") + c.get("mqtt_control.stops") + c.get("mqtt_control.rejected") + c.get("mqtt_control.stale")).toBe(sent);
    expect(c.get("errors.internal")).toBe(0);
    expect(c.get("episodes_started")).toBe(c.get("episodes_finished") + (g.recorder.recording ? 1 : 0));
  }, 60_000);

  it("bad MQTT control parameters stop the recorder from starting, naming the parameter", () => {
    const transport = new InprocTransport();
    transport.logSinks = [];
    cleanups.push(() => transport.shutdown());
    const make = (params: Record<string, ParameterValue>) => () =>
      new RecorderNode(transport.createNode("recorder", { parameterOverrides: { diagnostics_period_ms: 0, output_dir: dir, ...params } }));
    const cases: [Record<string, ParameterValue>, RegExp][] = [
      [{ mqtt_control_broker: "http://127.0.0.1:1883" }, /mqtt:\/\/ or mqtts:\/\//],
      [{ mqtt_control_broker: "mqtt://user:pw@127.0.0.1:1883" }, /username and password in their own parameters/],
      [{ mqtt_control_broker: broker.url, mqtt_control_topic: "mocap/#" }, /mqtt_control_topic/],
      [{ mqtt_control_broker: broker.url, mqtt_client_id: "bad id with spaces" }, /client id/],
      [{ mqtt_control_broker: broker.url, mqtt_tls_ca_file: "/nonexistent.pem" }, /TLS files are given but the broker URL is mqtt:\/\//],
      [{ mqtt_control_broker: broker.url, mqtt_control_max_age_ms: 0 }, /mqtt_control_max_age_ms/],
      [{ mqtt_control_broker: broker.url, mqtt_control_max_age_ms: 1.5 }, /mqtt_control_max_age_ms/],
      [{ mqtt_control_broker: broker.url, mqtt_control_require_stamp: "yes" }, /mqtt_control_require_stamp/],
    ];
    for (const [params, message] of cases) {
      expect(make(params), JSON.stringify(params)).toThrow(InvalidInputError);
      expect(make(params), JSON.stringify(params)).toThrow(message);
    }
    // Without mqtt_control_broker there is no MQTT client at all.
    const r = make({})();
    expect(r.mqttControl).toBeNull();
  });
});

/** Unix time now in ns, as a control sender stamps its commands. */
const nowNs = () => BigInt(Date.now()) * 1_000_000n;
const stamped = (command: number, issuedAtNs: bigint, sequence = 0n, sender = "", task = "") =>
  encodeRecorderControl({ command: command as RecorderControl_Command, task, issued_at_ns: issuedAtNs, sequence, sender });
const publishRetained = (c: MqttClient, topic: string, payload: Uint8Array) => new Promise<void>((resolve, reject) => {
  c.publish(topic, Buffer.from(payload), { qos: 1, retain: true }, (err) => (err ? reject(err) : resolve()));
});

const CONTROL_BROKERS = MOSQUITTO_MISSING === "" ? (["embedded", "mosquitto"] as const) : (["embedded"] as const);

describe.each(CONTROL_BROKERS)("stale MQTT control commands through %s", (kind) => {
  let url = "";
  let stopBroker: () => Promise<void> = async () => {};
  beforeAll(async () => {
    if (kind === "embedded") {
      const b = await EmbeddedBroker.start({ port: 0 });
      url = b.url;
      stopBroker = () => b.stop();
    } else {
      const m = await startMosquitto();
      url = m.url;
      stopBroker = () => m.stop();
    }
  });
  afterAll(() => stopBroker());

  let n = 0;
  /** A recorder with MQTT control on this broker, as client `clientId` (a fixed id: a persistent session). */
  async function recorderAt(clientId: string, params: Record<string, ParameterValue> = {}) {
    const transport = new InprocTransport();
    transport.logSinks = [];
    const out = mkdtempSync(join(dir, "stale-"));
    const recorder = new RecorderNode(transport.createNode("recorder", {
      parameterOverrides: { diagnostics_period_ms: 0, output_dir: out, mqtt_control_broker: url, mqtt_client_id: clientId, ...params },
    }));
    let down = false;
    const shutdown = async () => {
      if (down) return;
      down = true;
      await recorder.shutdown();
      await transport.shutdown();
    };
    cleanups.push(shutdown);
    await recorder.mqttControl!.subscribed();
    return { recorder, shutdown };
  }
  async function sender(): Promise<MqttClient> {
    const raw = await rawClient(url, `stale-sender-${kind}-${++n}`);
    cleanups.push(() => new Promise<void>((resolve) => raw.end(true, {}, () => resolve())));
    return raw;
  }
  /** Leaves a session on the broker for `clientId` (subscribed, then away), so commands queue for it. */
  async function awaySession(clientId: string): Promise<void> {
    const r = await recorderAt(clientId);
    await r.shutdown();
  }

  it("a retained START is ignored on subscription, counted; a live stamped one still starts", async () => {
    const raw = await sender();
    const topic = `stale/${kind}/retained`;
    await publishRetained(raw, topic, stamped(RecorderControl_Command.START, nowNs(), 0n, "", "retained"));
    const { recorder } = await recorderAt(`rec-retained-${kind}`, { mqtt_control_topic: topic });
    const c = recorder.counters;
    expect(await waitFor(() => c.get("mqtt_control.messages") === 1, 5000)).toBe(true);
    expect(recorder.recording).toBe(false);
    expect(c.get("mqtt_control.stale.retained")).toBe(1);
    expect(c.get("errors.out_of_order_stamp")).toBe(1);
    await publishQos1(raw, topic, stamped(RecorderControl_Command.START, nowNs(), 0n, "", "live"));
    expect(await waitFor(() => recorder.recording, 5000)).toBe(true);
    await publishRetained(raw, topic, new Uint8Array(0)); // clears the retained message
  });

  it("commands queued while the recorder was away: an old stamped START and an unstamped one are ignored, a fresh one is taken", async () => {
    const id = `rec-queued-${kind}`;
    await awaySession(id);
    const raw = await sender();
    await publishQos1(raw, "mocap/control", stamped(RecorderControl_Command.START, nowNs() - 3_600_000_000_000n, 0n, "", "an hour ago"));
    await publishQos1(raw, "mocap/control", stamped(RecorderControl_Command.START, 0n, 0n, "", "unstamped"));
    const { recorder } = await recorderAt(id);
    const c = recorder.counters;
    expect(await waitFor(() => c.get("mqtt_control.messages") === 2, 5000)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(recorder.recording).toBe(false);
    expect(c.get("episodes_started")).toBe(0);
    expect(c.get("mqtt_control.stale.too_old")).toBe(1);
    expect(c.get("mqtt_control.stale.queued_unstamped")).toBe(1);
    expect(c.get("mqtt_control.stale")).toBe(2);

    // Queued a moment ago (inside mqtt_control_max_age_ms): a command the operator still means.
    const { shutdown } = { shutdown: () => recorder.shutdown() };
    await shutdown();
    await publishQos1(raw, "mocap/control", stamped(RecorderControl_Command.START, nowNs(), 0n, "", "just now"));
    const again = await recorderAt(id);
    expect(await waitFor(() => again.recorder.recording, 5000)).toBe(true);
    expect(again.recorder.counters.get("mqtt_control.stale")).toBe(0);
  });

  it("sequences: a redelivered or replayed command is ignored; a STOP from the future too; require_stamp refuses unstamped live commands", async () => {
    const raw = await sender();
    const { recorder } = await recorderAt(`rec-seq-${kind}`);
    const c = recorder.counters;
    await publishQos1(raw, "mocap/control", stamped(RecorderControl_Command.START, nowNs(), 5n, "tablet"));
    expect(await waitFor(() => recorder.recording, 5000)).toBe(true);
    await publishQos1(raw, "mocap/control", stamped(RecorderControl_Command.STOP, nowNs() + 3_600_000_000_000n, 6n, "tablet"));
    await publishQos1(raw, "mocap/control", stamped(RecorderControl_Command.STOP, nowNs(), 5n, "tablet"));
    expect(await waitFor(() => c.get("mqtt_control.messages") === 3, 5000)).toBe(true);
    expect(recorder.recording).toBe(true);
    expect(c.get("mqtt_control.stale.from_future")).toBe(1);
    expect(c.get("mqtt_control.stale.old_sequence")).toBe(1);
    await publishQos1(raw, "mocap/control", stamped(RecorderControl_Command.STOP, nowNs(), 7n, "tablet"));
    expect(await waitFor(() => !recorder.recording && c.get("episodes_finished") === 1, 5000)).toBe(true);
    // Unstamped live commands are taken (counted) by default...
    await publishQos1(raw, "mocap/control", stamped(RecorderControl_Command.START, 0n));
    expect(await waitFor(() => recorder.recording, 5000)).toBe(true);
    expect(c.get("mqtt_control.unstamped")).toBe(1);

    // ...and refused with mqtt_control_require_stamp.
    const strict = await recorderAt(`rec-strict-${kind}`, { mqtt_control_require_stamp: true, mqtt_control_topic: `stale/${kind}/strict` });
    await publishQos1(raw, `stale/${kind}/strict`, stamped(RecorderControl_Command.START, 0n));
    expect(await waitFor(() => strict.recorder.counters.get("mqtt_control.stale.unstamped") === 1, 5000)).toBe(true);
    expect(strict.recorder.recording).toBe(false);
    await publishQos1(raw, `stale/${kind}/strict`, stamped(RecorderControl_Command.START, nowNs()));
    expect(await waitFor(() => strict.recorder.recording, 5000)).toBe(true);
  });
});

import { connect } from "mqtt";
import { afterEach, describe, expect, it } from "vitest";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import type { LogRecord } from "../../src/transport/logger.js";
import { InvalidInputError } from "../../src/errors.js";
import { encodeMocapFrame } from "../../src/mocap/mocap_codec.js";
import { MocapIngestNode } from "../../nodes/mocap_ingest_node.js";
import { makeFrame, publishQos1, rawClient, waitFor } from "./mqtt_fixtures.js";

/**
 * mocap_ingest's embedded broker bounds every persistent session's stored queue
 * (embedded_max_queued_messages / embedded_max_queued_mb): a client that subscribed with a
 * persistent session and went away does not grow the ingest's memory without limit; the drops
 * are counted (embedded_broker.queue_dropped), logged once per power of ten, and the ingest's
 * own stream is not touched.
 */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

describe("mocap_ingest embedded broker queue bound", () => {
  it("a persistent subscriber that went away costs at most embedded_max_queued_messages; the rest is counted", async () => {
    const transport = new InprocTransport();
    const logs: LogRecord[] = [];
    transport.logSinks = [(r) => logs.push(r)];
    const ingest = new MocapIngestNode(transport.createNode("mocap_ingest", {
      parameterOverrides: { diagnostics_period_ms: 0, embedded_port: 0, embedded_max_queued_messages: 30 },
    }));
    cleanups.push(async () => {
      await ingest.close();
      await transport.shutdown();
    });
    await ingest.start();
    await ingest.subscribed();
    // Another tool subscribed to the mocap stream with a persistent session, then went away.
    const away = connect(ingest.brokerUrl, { clientId: "dashboard", clean: false, reconnectPeriod: 0, protocolVersion: 4 });
    await new Promise<void>((resolve) => away.once("connect", () => resolve()));
    await new Promise<void>((resolve, reject) => away.subscribe("mocap/#", { qos: 1 }, (e) => (e ? reject(e) : resolve())));
    await new Promise<void>((resolve) => away.end(false, {}, () => resolve()));

    const pub = await rawClient(ingest.brokerUrl, "pub-bound");
    cleanups.push(() => new Promise<void>((resolve) => pub.end(true, {}, () => resolve())));
    for (let n = 0; n < 130; n++) await publishQos1(pub, "mocap/s1/frame", encodeMocapFrame(makeFrame("s1", BigInt(n), 1_000_000_000n + BigInt(n) * 4_166_667n)));
    expect(await waitFor(() => ingest.counters.get("frames_out") === 130, 5000)).toBe(true);
    // The ingest is connected and acknowledges: only the absent client's queue fills, to 30.
    expect(ingest.counters.get("embedded_broker.queue_dropped")).toBe(100);
    expect(ingest.streamCounters().s1.frames_lost).toBe(0);
    const warnings = logs.filter((l) => /session queue of client "dashboard" is full/.test(l.message));
    // Drops 1, 10 and 100: one line each.
    expect(warnings.map((w) => w.message.match(/(\d+) message\(s\) dropped so far/)?.[1])).toEqual(["1", "10", "100"]);
  });

  it("refuses bad bounds at construction, naming the parameter", () => {
    const transport = new InprocTransport();
    transport.logSinks = [];
    cleanups.push(() => transport.shutdown());
    for (const [k, v] of [["embedded_max_queued_messages", 0], ["embedded_max_queued_messages", 1.5], ["embedded_max_queued_mb", 0], ["embedded_max_queued_mb", -3]] as const) {
      const make = () => new MocapIngestNode(transport.createNode(`i_${k}_${String(v).replace(/\W/g, "_")}`, { parameterOverrides: { [k]: v } }));
      expect(make).toThrow(InvalidInputError);
      expect(make).toThrow(new RegExp(k));
    }
  });
});

import { createConnection } from "node:net";
import { connect, type MqttClient } from "mqtt";
import { describe, expect, it } from "vitest";
import { SpatialRewardError, InvalidInputError } from "../../src/errors.js";
import { EmbeddedBroker } from "../../nodes/mqtt/embedded_broker.js";
import { MOSQUITTO_MISSING, MOSQUITTO_REQUIRED, startMosquitto } from "./mosquitto.js";
import { publishQos1, rawClient, waitFor } from "./mqtt_fixtures.js";

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: "127.0.0.1", port });
    c.once("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.once("error", () => resolve(false));
  });
}

/** A persistent-session subscriber: connects with clean=false and `id`, subscribes QoS 1 to t/#. */
async function persistentSubscriber(url: string, id: string, got: string[]): Promise<MqttClient> {
  const c = connect(url, { clientId: id, clean: false, reconnectPeriod: 0, protocolVersion: 4 });
  c.on("message", (_t, payload) => got.push(payload.toString()));
  await new Promise<void>((resolve, reject) => {
    c.once("connect", () => resolve());
    c.once("error", reject);
  });
  await new Promise<void>((resolve, reject) => c.subscribe("t/#", { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  return c;
}

async function end(c: MqttClient): Promise<void> {
  await new Promise<void>((resolve) => c.end(false, {}, () => resolve()));
}

/** What both brokers must do for the ingest: QoS 1 messages published while a persistent session is away reach it on return. */
async function checkPersistentSession(url: string, between?: () => Promise<void>): Promise<string[]> {
  const got: string[] = [];
  const sub = await persistentSubscriber(url, "sub-persistent", got);
  await end(sub);
  const pub = await rawClient(url, "pub-raw");
  for (let i = 0; i < 20; i++) await publishQos1(pub, `t/${i}`, Buffer.from(`m${i}`));
  await end(pub);
  await between?.();
  const back = await persistentSubscriber(url, "sub-persistent", got);
  await waitFor(() => got.length >= 20, 5000);
  await end(back);
  return got;
}

describe("EmbeddedBroker (aedes)", () => {
  it("listens on 127.0.0.1 with an ephemeral port and stops cleanly, disconnecting clients", async () => {
    const b = await EmbeddedBroker.start({ port: 0 });
    expect(b.url).toBe(`mqtt://127.0.0.1:${b.port}`);
    expect(b.port).toBeGreaterThan(0);
    const c = await rawClient(b.url, "c1");
    expect(b.connectedClients).toBe(1);
    const closed = new Promise<void>((resolve) => c.once("close", () => resolve()));
    // A socket that never sends CONNECT must not keep the broker (or the process) alive either.
    const idle = createConnection({ host: "127.0.0.1", port: b.port });
    await new Promise<void>((resolve) => idle.once("connect", () => resolve()));
    idle.on("error", () => {});
    const idleClosed = new Promise<void>((resolve) => idle.once("close", () => resolve()));
    await b.stop();
    await closed;
    await idleClosed;
    c.end(true);
    expect(await portOpen(b.port)).toBe(false);
    await b.stop(); // idempotent
  });

  it("keeps a persistent session's QoS 1 messages while the client is away", async () => {
    const b = await EmbeddedBroker.start();
    try {
      const got = await checkPersistentSession(b.url);
      expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    } finally {
      await b.stop();
    }
  });

  it("reports a port in use as backend_unavailable and a bad port as bad_argument", async () => {
    const b = await EmbeddedBroker.start();
    try {
      const e = await EmbeddedBroker.start({ port: b.port }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(SpatialRewardError);
      expect((e as SpatialRewardError).code).toBe("backend_unavailable");
      expect((e as Error).message).toMatch(/in use/);
    } finally {
      await b.stop();
    }
    for (const port of [-1, 65536, 1.5, NaN]) await expect(EmbeddedBroker.start({ port })).rejects.toThrow(InvalidInputError);
  });
});

describe.runIf(MOSQUITTO_REQUIRED && MOSQUITTO_MISSING !== "")("mosquitto (SPATIAL_REWARD_REQUIRE_MOSQUITTO=1)", () => {
  it("is installed (required here)", () => {
    expect(MOSQUITTO_MISSING).toBe("");
  });
});

describe.skipIf(MOSQUITTO_MISSING !== "")(`Mosquitto${MOSQUITTO_MISSING ? ` (skipped: ${MOSQUITTO_MISSING})` : ""}`, () => {
  it("keeps a persistent session's QoS 1 messages across a broker restart (persistence)", async () => {
    const m = await startMosquitto();
    try {
      let restarts = 0;
      const got = await checkPersistentSession(m.url, async () => {
        await m.restart();
        restarts++;
      });
      expect(restarts).toBe(1);
      expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
      expect(m.log()).toMatch(/mosquitto version .* (terminating|running)/);
    } finally {
      await m.stop();
    }
    expect(await portOpen(m.port)).toBe(false);
  });
});

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

  it("bounds a persistent session's stored queue: past maxQueuedMessages new messages are dropped and counted, the oldest kept", async () => {
    const drops: { clientId: string; clientDrops: number }[] = [];
    const b = await EmbeddedBroker.start({ maxQueuedMessages: 50, onQueueDrop: (d) => drops.push(d) });
    try {
      const got: string[] = [];
      const sub = await persistentSubscriber(b.url, "stalled", got);
      await end(sub);
      // The subscriber stays away while 200 messages are published for it.
      const pub = await rawClient(b.url, "pub-bound");
      for (let i = 0; i < 200; i++) await publishQos1(pub, `t/${i}`, Buffer.from(`m${i}`));
      expect(b.queueDrops).toBe(150);
      // Bytes are topic + payload of the 50 kept: "t/0".."t/49" and "m0".."m49".
      const keptBytes = Array.from({ length: 50 }, (_, i) => `t/${i}`.length + `m${i}`.length).reduce((a, n) => a + n, 0);
      expect(b.queueStats().stalled).toEqual({ messages: 50, bytes: keptBytes, drops: 150 });
      expect(drops.length).toBe(150);
      expect(drops.every((d) => d.clientId === "stalled")).toBe(true);
      expect(drops[drops.length - 1].clientDrops).toBe(150);
      // Back: the 50 stored, then the stream goes on live.
      const back = await persistentSubscriber(b.url, "stalled", got);
      expect(await waitFor(() => got.length >= 50, 5000)).toBe(true);
      for (let i = 200; i < 210; i++) await publishQos1(pub, `t/${i}`, Buffer.from(`m${i}`));
      expect(await waitFor(() => got.length >= 60, 5000)).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
      expect(got).toEqual([...Array.from({ length: 50 }, (_, i) => `m${i}`), ...Array.from({ length: 10 }, (_, i) => `m${200 + i}`)]);
      // Acknowledged messages leave the queue: it is empty again, the drops stay counted.
      expect(await waitFor(() => b.queueStats().stalled?.messages === 0, 5000)).toBe(true);
      expect(b.queueStats().stalled).toEqual({ messages: 0, bytes: 0, drops: 150 });
      expect(b.queueDrops).toBe(150);
      await end(back);
      await end(pub);
    } finally {
      await b.stop();
    }
  });

  it("bounds the stored queue in bytes too: a 64 kB budget holds six 10 kB messages", async () => {
    const b = await EmbeddedBroker.start({ maxQueuedBytes: 64 * 1024 });
    try {
      const got: string[] = [];
      await end(await persistentSubscriber(b.url, "big", got));
      const pub = await rawClient(b.url, "pub-bytes");
      for (let i = 0; i < 20; i++) await publishQos1(pub, "t/x", Buffer.alloc(10_000, 48 + (i % 10)));
      expect(b.queueDrops).toBe(14);
      expect(b.queueStats().big.messages).toBe(6);
      expect(b.queueStats().big.bytes).toBe(6 * (10_000 + 3));
      await end(pub);
    } finally {
      await b.stop();
    }
  });

  it("a connected subscriber that stops reading is not disconnected by the bound: refused messages are still delivered live", async () => {
    const b = await EmbeddedBroker.start({ maxQueuedMessages: 20 });
    try {
      const got: string[] = [];
      const sub = await persistentSubscriber(b.url, "slow", got);
      let closed = false;
      sub.on("close", () => (closed = true));
      // Not reading: PUBACKs stop, so every message stays stored until the subscriber reads again.
      (sub.stream as unknown as { pause(): void }).pause();
      const pub = await rawClient(b.url, "pub-live");
      for (let i = 0; i < 100; i++) await publishQos1(pub, `t/${i}`, Buffer.from(`m${i}`));
      expect(b.queueDrops).toBeGreaterThan(0);
      (sub.stream as unknown as { resume(): void }).resume();
      expect(await waitFor(() => got.length >= 100, 5000)).toBe(true);
      expect(got).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`));
      expect(closed).toBe(false);
      expect(await waitFor(() => b.queueStats().slow?.messages === 0, 5000)).toBe(true);
      await end(sub);
      await end(pub);
    } finally {
      await b.stop();
    }
  });

  it("keeps at most maxRetainedMessages retained topics: a client retaining on ever new topics is counted, not kept", async () => {
    const b = await EmbeddedBroker.start({ maxRetainedMessages: 20, maxRetainedBytes: 1 << 20 });
    try {
      const pub = await rawClient(b.url, "pub-retain");
      const retain = (topic: string, payload: string) => new Promise<void>((resolve, reject) =>
        pub.publish(topic, payload, { qos: 1, retain: true }, (e) => (e ? reject(e) : resolve())));
      for (let i = 0; i < 500; i++) await retain(`spam/${i}`, `x${i}`);
      expect(b.retainedStats).toMatchObject({ kept: 20, dropped: 480 });
      // A kept topic may be updated, and cleared (which frees its place).
      await retain("spam/0", "new");
      await retain("spam/1", "");
      await retain("spam/999", "takes the freed place");
      expect(b.retainedStats).toMatchObject({ kept: 20, dropped: 480 });
      const got: string[] = [];
      const sub = connect(b.url, { clientId: "retain-reader", clean: true, reconnectPeriod: 0, protocolVersion: 4 });
      sub.on("message", (t, p) => got.push(`${t}=${p.toString()}`));
      await new Promise<void>((resolve) => sub.once("connect", () => resolve()));
      await new Promise<void>((resolve, reject) => sub.subscribe("spam/#", { qos: 1 }, (e) => (e ? reject(e) : resolve())));
      expect(await waitFor(() => got.length >= 20, 5000)).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
      expect(got.length).toBe(20);
      expect(got).toContain("spam/0=new");
      expect(got).toContain("spam/999=takes the freed place");
      expect(got.some((g) => g.startsWith("spam/1="))).toBe(false);
      await end(sub);
      await end(pub);
    } finally {
      await b.stop();
    }
  });

  it("refuses non-positive queue bounds before listening", async () => {
    for (const o of [{ maxQueuedMessages: 0 }, { maxQueuedMessages: 1.5 }, { maxQueuedBytes: -1 }, { maxQueuedBytes: NaN }, { maxRetainedMessages: 0 }, { maxRetainedBytes: -5 }]) {
      await expect(EmbeddedBroker.start(o)).rejects.toThrow(InvalidInputError);
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

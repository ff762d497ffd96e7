import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_MAX_BUFFERED_BYTES, FoxgloveBridge } from "../../nodes/foxglove/foxglove_bridge.js";
import { T } from "../../nodes/messages.js";
import { CdrCodec } from "../../src/msgs/cdr_codec.js";
import type * as M from "../../src/msgs/generated.js";
import { mulberry32 } from "../../src/random/mulberry32.js";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import type { Publisher } from "../../src/transport/port.js";
import { QOS_SENSOR_DATA } from "../../src/transport/qos.js";
import { TestClient, waitUntil } from "./foxglove_test_client.js";
import { clientFrame, closedWithin, rawWebSocket, serverCloseCode, textFrame } from "./raw_websocket.js";

/**
 * The bridge under hostile and slow clients, over real sockets on 127.0.0.1: malformed and
 * unsupported messages, random frames, protocol violations, non-HTTP bytes, oversized messages,
 * a client that stops reading. Each is counted and answered or cut; none stops the server, delays
 * the publisher or the other clients, or makes the bridge buffer without bound.
 */
const IMAGE = "/camera/color/image_raw";
let transport: InprocTransport;
let bridge: FoxgloveBridge;
let images: Publisher<M.sensor_msgs__msg__Image>;
let published = 0;
const pixels = new Uint8Array(640 * 480 * 3);

/** Publishes `n` 640x480 rgb8 frames, letting the event loop turn between them (as a camera's timer would). */
async function publishFrames(n: number, onFrame: () => void = () => {}): Promise<void> {
  for (let i = 0; i < n; i++) {
    pixels[0] = published & 0xff;
    const stamp = { sec: 1_700_000_000 + Math.floor(published / 30), nanosec: (published % 30) * 33_333_333 };
    images.publish({ header: { stamp, frame_id: "camera_color_optical_frame" }, height: 480, width: 640, encoding: "rgb8", is_bigendian: 0, step: 1920, data: pixels });
    published++;
    onFrame();
    await new Promise((r) => setImmediate(r));
  }
}

beforeAll(async () => {
  transport = new InprocTransport();
  transport.logSinks = [];
  images = transport.createNode("camera").createPublisher(T.Image, "camera/color/image_raw", QOS_SENSOR_DATA);
  bridge = await FoxgloveBridge.start(transport, { port: 0, maxClients: 8 });
});

afterAll(async () => {
  await bridge?.close();
  await transport?.shutdown();
});

function channelId(topic: string): number {
  return bridge.channels.find((c) => c.topic === topic)!.id;
}

/** A fresh well-behaved client still gets frames: the server survived what came before. */
async function stillServes(): Promise<void> {
  const client = await TestClient.connect(bridge.url);
  try {
    client.subscribe(IMAGE);
    await waitUntil(() => bridge.subscribedTopics().includes(IMAGE), 5000);
    await publishFrames(3);
    expect(await waitUntil(() => client.messages(IMAGE).length >= 3, 10_000)).toBe(true);
    const img = new CdrCodec(T.Image).decode(client.messages(IMAGE)[2].data);
    expect([img.width, img.height, img.data.length]).toEqual([640, 480, 640 * 480 * 3]);
  } finally {
    await client.close();
  }
}

describe("Foxglove bridge under hostile clients", () => {
  it("malformed and unsupported client messages are counted and answered with a status; the connection lives on", async () => {
    const client = await TestClient.connect(bridge.url);
    const refused0 = bridge.counters.get("client_messages.refused");
    const unsupported0 = bridge.counters.get("client_messages.unsupported");
    const bad = [
      "not json", "{", "[]", "null", "{}", '{"op":7}', '{"op":"publish"}', '{"op":"subscribe"}',
      '{"op":"subscribe","subscriptions":[{"id":-1,"channelId":1}]}', '{"op":"subscribe","subscriptions":[{"id":"a","channelId":1}]}',
      '{"op":"unsubscribe","subscriptionIds":[1.5]}', `{"op":"unsubscribe","subscriptionIds":[${Array(300).fill(1).join(",")}]}`,
      `${"[".repeat(20_000)}${"]".repeat(20_000)}`,
    ];
    for (const text of bad) client.ws.send(text);
    client.ws.send(new Uint8Array([0xee, 1, 2]));
    client.ws.send(new Uint8Array(0));
    // The protocol's client publish, service call, advertise and parameters: this server offers none.
    for (const text of ['{"op":"advertise","channels":[{"id":1,"topic":"/cmd_vel","encoding":"cdr","schemaName":"geometry_msgs/msg/Twist"}]}', '{"op":"getParameters","parameterNames":[]}', '{"op":"fetchAsset","uri":"file:///etc/passwd","requestId":1}']) client.ws.send(text);
    client.ws.send(new Uint8Array([1, 1, 0, 0, 0, 42]));
    client.ws.send(new Uint8Array([2, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]));
    const nBad = bad.length + 2;
    expect(await waitUntil(() => client.statuses.length >= nBad + 5, 10_000), JSON.stringify(client.statuses.slice(-3))).toBe(true);
    expect(bridge.counters.get("client_messages.refused") - refused0).toBe(nBad);
    expect(bridge.counters.get("client_messages.unsupported") - unsupported0).toBe(5);
    expect(client.statuses.filter((s) => s.level === 2)).toHaveLength(nBad);
    expect(client.statuses.filter((s) => s.level === 1 && /not supported/.test(s.message))).toHaveLength(5);
    // The same connection still subscribes and receives.
    client.subscribe(IMAGE);
    await waitUntil(() => bridge.subscribedTopics().includes(IMAGE), 5000);
    await publishFrames(2);
    expect(await waitUntil(() => client.messages(IMAGE).length >= 2, 10_000)).toBe(true);
    expect(client.closed).toBe(false);
    expect(bridge.counters.get("errors.internal")).toBe(0);
    await client.close();
  }, 30_000);

  it("fuzz: 600 random frames over real WebSockets (garbage text, invalid UTF-8, random binary, reserved opcodes, stray continuations, bad control frames, mutated requests)", async () => {
    const rand = mulberry32(2024);
    const byte = () => Math.floor(rand() * 256);
    const bytes = (n: number) => Uint8Array.from({ length: n }, byte);
    const valid = [`{"op":"subscribe","subscriptions":[{"id":1,"channelId":${channelId(IMAGE)}}]}`, '{"op":"unsubscribe","subscriptionIds":[1]}'];
    const accepted0 = bridge.counters.get("clients.accepted");
    let raw = await rawWebSocket(bridge.port);
    let connections = 1;
    for (let i = 0; i < 600; i++) {
      if (raw.closed()) {
        raw = await rawWebSocket(bridge.port);
        connections++;
      }
      const kind = i % 8;
      let frame: Buffer;
      if (kind === 0) frame = clientFrame(1, bytes(Math.floor(rand() * 200))); // random text (mostly invalid UTF-8: close 1007)
      else if (kind === 1) frame = clientFrame(2, bytes(1 + Math.floor(rand() * 300)));
      else if (kind === 2) frame = clientFrame([3, 4, 5, 6, 7, 11, 12, 13, 14, 15][Math.floor(rand() * 10)], bytes(8)); // reserved opcode: close 1002
      else if (kind === 3) frame = clientFrame(0, bytes(10)); // continuation without a start
      else if (kind === 4) frame = clientFrame(9, bytes(200)); // a ping over 125 bytes
      else if (kind === 5) {
        const f = clientFrame(1, Buffer.from('{"op":"subscribe"}'));
        f[0] |= 0x40; // RSV1 without an extension
        frame = f;
      } else {
        const chars = [...valid[i % 2]];
        for (let k = 0; k < 3; k++) chars[Math.floor(rand() * chars.length)] = String.fromCharCode(32 + Math.floor(rand() * 95));
        frame = textFrame(chars.join(""));
      }
      raw.socket.write(frame);
      // Let the server read it before the next one (and close the socket when it must).
      await new Promise((r) => setTimeout(r, 1));
    }
    raw.socket.destroy();
    expect(connections).toBeGreaterThan(20);
    expect(await waitUntil(() => bridge.counters.get("clients.accepted") - accepted0 === connections && bridge.clientCount === 0, 10_000),
      `accepted ${bridge.counters.get("clients.accepted") - accepted0} of ${connections}, ${bridge.clientCount} still connected`).toBe(true);
    // Protocol violations are counted as refused messages (ws names them), not as bugs.
    expect(bridge.counters.get("errors.internal")).toBe(0);
    expect(bridge.counters.get("errors.bad_message")).toBeGreaterThan(100);
    await stillServes();
  }, 60_000);

  it("an oversized message closes that client with 1009, counted as payload_too_large", async () => {
    const raw = await rawWebSocket(bridge.port);
    const before = bridge.counters.get("errors.payload_too_large");
    raw.socket.write(textFrame(`{"op":"subscribe","pad":"${"x".repeat(70 * 1024)}"}`));
    expect(await closedWithin(raw, 5000)).toBe(true);
    expect(serverCloseCode(raw.received())).toBe(1009);
    expect(bridge.counters.get("errors.payload_too_large")).toBe(before + 1);
    await stillServes();
  }, 30_000);

  it("bytes that are not HTTP, plain HTTP, bad handshakes, a missing subprotocol and one client too many are refused and counted", async () => {
    const rejected0 = bridge.counters.get("http.rejected");
    const rand = mulberry32(99);
    const sockets = await Promise.all(Array.from({ length: 40 }, () => new Promise<boolean>((resolve) => {
      const s = connect(bridge.port, "127.0.0.1", () => {
        // A control byte first: no HTTP method starts so, the parser refuses at once.
        s.write(Buffer.from([Math.floor(rand() * 32), ...Array.from({ length: 200 }, () => Math.floor(rand() * 256))]));
      });
      s.on("error", () => {});
      const t = setTimeout(() => resolve(false), 5000);
      s.on("close", () => {
        clearTimeout(t);
        resolve(true);
      });
    })));
    expect(sockets.every(Boolean)).toBe(true);
    expect(bridge.counters.get("http.rejected") - rejected0).toBe(40);

    // A browser opening the URL is told what this is.
    const res = await fetch(`http://127.0.0.1:${bridge.port}/`);
    expect(res.status).toBe(426);
    expect(await res.text()).toContain("Foxglove WebSocket server");
    // A WebSocket handshake with a wrong version.
    const bad = await new Promise<string>((resolve) => {
      const s = connect(bridge.port, "127.0.0.1", () => s.write("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\nSec-WebSocket-Version: 99\r\n\r\n"));
      let got = "";
      s.on("data", (c: Buffer) => (got += c.toString("latin1")));
      s.on("close", () => resolve(got));
      s.on("error", () => {});
    });
    expect(bad).toMatch(/^HTTP\/1\.1 400/);
    expect(bridge.counters.get("http.rejected") - rejected0).toBe(42);

    // Not the Foxglove subprotocol: closed with 1002, counted.
    const other = await rawWebSocket(bridge.port, "");
    expect(await closedWithin(other, 5000)).toBe(true);
    expect(serverCloseCode(other.received())).toBe(1002);
    expect(bridge.counters.get("clients.refused_protocol")).toBe(1);

    // At most maxClients (8) at once: the ninth is told to try again later (1013).
    const clients = await Promise.all(Array.from({ length: 8 }, () => TestClient.connect(bridge.url)));
    const ninth = await rawWebSocket(bridge.port);
    expect(await closedWithin(ninth, 5000)).toBe(true);
    expect(serverCloseCode(ninth.received())).toBe(1013);
    expect(bridge.counters.get("clients.refused_limit")).toBe(1);
    await Promise.all(clients.map((c) => c.close()));
    await stillServes();
  }, 60_000);

  it("a topic the graph uses with another type: the subscribing client is told, counted, the rest goes on", async () => {
    const clash = transport.createNode("clash").createPublisher<M.std_msgs__msg__String>(T.String, "reward", QOS_SENSOR_DATA);
    const client = await TestClient.connect(bridge.url);
    try {
      const before = bridge.counters.get("errors.type_mismatch");
      client.subscribe("/reward");
      expect(await waitUntil(() => client.statuses.some((s) => s.level === 2 && /cannot subscribe to \/reward/.test(s.message)), 5000)).toBe(true);
      expect(bridge.counters.get("errors.type_mismatch")).toBe(before + 1);
      expect(bridge.subscribedTopics()).not.toContain("/reward");
    } finally {
      clash.destroy();
      await client.close();
    }
    await stillServes();
  }, 30_000);

  it("a client that stops reading loses frames (counted) while the publisher and a reading client go on; its buffer stays bounded", async () => {
    const fast = await TestClient.connect(bridge.url);
    fast.subscribe(IMAGE);
    const slow = await rawWebSocket(bridge.port);
    slow.socket.write(textFrame(JSON.stringify({ op: "subscribe", subscriptions: [{ id: 1, channelId: channelId(IMAGE) }] })));
    expect(await waitUntil(() => bridge.clientStats().length === 2 && bridge.subscribedTopics().includes(IMAGE), 5000)).toBe(true);
    // Stop reading: the kernel buffers fill, then the bridge's.
    slow.socket.pause();
    const slowName = `127.0.0.1:${slow.socket.localPort}`;
    const sent0 = bridge.counters.get(`sent.${IMAGE}`);
    let maxBuffered = 0;
    const frames = 150;
    await publishFrames(frames, () => {
      const s = bridge.clientStats().find((c) => c.name === slowName);
      if (s) maxBuffered = Math.max(maxBuffered, s.bufferedAmount);
    });
    expect(bridge.counters.get(`sent.${IMAGE}`) - sent0).toBe(frames);
    const stats = (name: string) => bridge.clientStats().find((c) => c.name === name)!;
    const fastName = bridge.clientStats().find((c) => c.name !== slowName)!.name;
    expect(stats(slowName).dropped).toBeGreaterThan(0);
    // Bounded: frames stop being queued once 8 MiB wait (one frame may be on its way past it).
    expect(maxBuffered).toBeLessThanOrEqual(DEFAULT_MAX_BUFFERED_BYTES + 640 * 480 * 3 + 1024);
    expect(bridge.poolBytes()).toBeLessThanOrEqual(16 * 1.25 * (640 * 480 * 3 + 1024));
    expect(bridge.counters.get("clients.overflow")).toBe(0);
    // The reading client got every frame it was not counted as having dropped, and dropped fewer.
    const fastDropped = stats(fastName).dropped;
    expect(await waitUntil(() => fast.messages(IMAGE).length === frames - fastDropped, 20_000), `${fast.messages(IMAGE).length} + ${fastDropped} of ${frames}`).toBe(true);
    expect(fastDropped).toBeLessThan(stats(slowName).dropped);
    // The drops add up per topic.
    expect(bridge.counters.get(`dropped.${IMAGE}.slow_client`)).toBeGreaterThanOrEqual(stats(slowName).dropped + fastDropped);
    slow.socket.destroy();
    await fast.close();
  }, 60_000);

  it("a client that stops reading while its requests pile up answers is disconnected at the hard limit", async () => {
    const tight = await FoxgloveBridge.start(transport, { port: 0, maxBufferedBytes: 16 * 1024, maxClientBytes: 64 * 1024 });
    try {
      const raw = await rawWebSocket(tight.port);
      raw.socket.pause();
      // 100000 bad requests, each answered with a status the client never reads.
      const one = textFrame("x");
      raw.socket.write(Buffer.concat(Array.from({ length: 100_000 }, () => one)));
      expect(await waitUntil(() => tight.counters.get("clients.overflow") === 1, 30_000), JSON.stringify(tight.counters.snapshot())).toBe(true);
      expect(await waitUntil(() => tight.clientCount === 0, 5000)).toBe(true);
      raw.socket.destroy();
    } finally {
      await tight.close();
    }
  }, 60_000);
});

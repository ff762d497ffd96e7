import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { firstValueFrom } from "rxjs";
import { SpatialRewardError } from "../../src/errors.js";
import type * as M from "../../src/msgs/generated.js";
import { CdrCodec } from "../../src/msgs/cdr_codec.js";
import { DdsTransport } from "../../src/transport/dds/dds_transport.js";
import { loadDdsBinding } from "../../src/transport/dds/native_binding.js";
import { QOS_DEFAULT, QOS_LATCHED, type QoS } from "../../src/transport/qos.js";
import { DDS_AVAILABLE, DDS_REQUIRED, until, useLoopbackDds } from "./dds_env.js";

// A domain of its own, so parallel test files never see each other's traffic.
const DOMAIN = 41;
const RELIABLE_KEEP_ALL: QoS = { reliability: "reliable", durability: "volatile", history: "keep_all", depth: 1 };

function image(width: number, height: number, seed: number): M.sensor_msgs__msg__Image {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed) & 0xff;
  return { header: { stamp: { sec: seed, nanosec: 7 }, frame_id: "cam" }, height, width, encoding: "rgb8", is_bigendian: 0, step: width * 3, data };
}

describe.runIf(DDS_REQUIRED && !DDS_AVAILABLE)("dds addon", () => {
  it("is built (required here)", () => {
    expect(DDS_AVAILABLE, "native/build/Release/spatial_reward_dds.node missing: install cyclonedds-dev and run npm run build:native").toBe(true);
  });
});

describe.runIf(DDS_AVAILABLE)("DdsTransport over Cyclone DDS (loopback)", () => {
  const open: DdsTransport[] = [];
  const make = () => {
    const t = new DdsTransport({ domainId: DOMAIN });
    open.push(t);
    return t;
  };
  beforeAll(() => useLoopbackDds());
  afterEach(async () => {
    for (const t of open.splice(0)) await t.shutdown();
  });

  it("carries a 640x480 image and a string between two participants, bytes intact", async () => {
    const a = make().createNode("talker");
    const b = make().createNode("listener");
    const images: M.sensor_msgs__msg__Image[] = [];
    const texts: string[] = [];
    b.createSubscription<M.sensor_msgs__msg__Image>("sensor_msgs/msg/Image", "camera/image", QOS_DEFAULT, (m) => images.push(m));
    b.createSubscription<M.std_msgs__msg__String>("std_msgs/msg/String", "chatter", QOS_DEFAULT, (m) => texts.push(m.data));
    const pubImage = a.createPublisher<M.sensor_msgs__msg__Image>("sensor_msgs/msg/Image", "camera/image", QOS_DEFAULT);
    const pubText = a.createPublisher<M.std_msgs__msg__String>("std_msgs/msg/String", "chatter", QOS_DEFAULT);
    await until("subscriber match", () => pubImage.subscriptionCount() === 1 && pubText.subscriptionCount() === 1);
    const sent = image(640, 480, 3);
    pubImage.publish(sent);
    pubText.publish({ data: "héllo dds" });
    await until("delivery", () => images.length === 1 && texts.length === 1);
    expect(texts).toEqual(["héllo dds"]);
    expect(images[0].width).toBe(640);
    expect(images[0].header).toEqual({ stamp: { sec: 3, nanosec: 7 }, frame_id: "cam" });
    expect(Buffer.compare(Buffer.from(images[0].data), Buffer.from(sent.data))).toBe(0);
    expect(a.counters().get("published./camera/image")).toBe(1);
    expect(b.counters().get("received./camera/image")).toBe(1);
  });

  it("delivers a 6 MB image (1920x1080 rgb8) over reliable QoS", async () => {
    const a = make().createNode("big_talker");
    const b = make().createNode("big_listener");
    const got: M.sensor_msgs__msg__Image[] = [];
    b.createSubscription<M.sensor_msgs__msg__Image>("sensor_msgs/msg/Image", "big", QOS_DEFAULT, (m) => got.push(m));
    const pub = a.createPublisher<M.sensor_msgs__msg__Image>("sensor_msgs/msg/Image", "big", QOS_DEFAULT);
    await until("match", () => pub.subscriptionCount() === 1);
    const sent = image(1920, 1080, 9);
    expect(sent.data.length).toBeGreaterThan(6_000_000);
    pub.publish(sent);
    await until("6 MB delivery", () => got.length === 1, 15_000);
    expect(Buffer.compare(Buffer.from(got[0].data), Buffer.from(sent.data))).toBe(0);
  });

  it("replays a transient_local (latched) message to a late transient_local subscriber only", async () => {
    const a = make().createNode("latcher");
    const pub = a.createPublisher<M.spatial_reward_msgs__msg__RewardSpec>("spatial_reward_msgs/msg/RewardSpec", "reward/spec", QOS_LATCHED);
    pub.publish({ header: { stamp: { sec: 1, nanosec: 0 }, frame_id: "" }, text: "near(red mug, blue bowl, 0.05)" });
    const b = make().createNode("late");
    const latched: string[] = [];
    const volatile: string[] = [];
    b.createSubscription<M.spatial_reward_msgs__msg__RewardSpec>("spatial_reward_msgs/msg/RewardSpec", "reward/spec", QOS_LATCHED, (m) => latched.push(m.text));
    b.createSubscription<M.spatial_reward_msgs__msg__RewardSpec>("spatial_reward_msgs/msg/RewardSpec", "reward/spec", { ...QOS_LATCHED, durability: "volatile" }, (m) => volatile.push(m.text));
    await until("latched replay", () => latched.length === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(latched).toEqual(["near(red mug, blue bowl, 0.05)"]);
    expect(volatile).toEqual([]);
  });

  it("a burst of 1000 messages: keep-all receives all; keep-last 5 counts every one it could not keep", async () => {
    const a = make().createNode("burst");
    const b = make().createNode("sink");
    const all: number[] = [];
    const few: number[] = [];
    b.createSubscription<M.std_msgs__msg__String>("std_msgs/msg/String", "burst", RELIABLE_KEEP_ALL, (m) => all.push(Number(m.data)));
    b.createSubscription<M.std_msgs__msg__String>("std_msgs/msg/String", "burst", { ...QOS_DEFAULT, depth: 5 }, (m) => few.push(Number(m.data)));
    const pub = a.createPublisher<M.std_msgs__msg__String>("std_msgs/msg/String", "burst", { ...QOS_DEFAULT, depth: 1000 });
    await until("match", () => pub.subscriptionCount() === 2);
    // One synchronous loop: the JS thread cannot deliver until it ends, so the keep-last queue overflows.
    for (let i = 0; i < 1000; i++) pub.publish({ data: String(i) });
    await until("burst received", () => all.length === 1000, 10_000);
    expect(all).toEqual([...Array(1000).keys()]);
    const dropped = b.counters().get("dropped./burst");
    await until("keep-last accounted", () => few.length + b.counters().get("dropped./burst") === 1000, 5000);
    expect(dropped).toBeGreaterThan(0);
    expect(few[few.length - 1]).toBe(999);
    // What was kept is in order and is the newest of what arrived.
    expect([...few].sort((x, y) => x - y)).toEqual(few);
  });

  it("counts a peer using our topic with another type, and undecodable samples, without stopping", async () => {
    const ta = make();
    const tb = make();
    const errors: unknown[] = [];
    tb.onError = (e) => errors.push(e);
    const a = ta.createNode("wrong_type_peer");
    const b = tb.createNode("victim");
    const got: string[] = [];
    b.createSubscription<M.std_msgs__msg__String>("std_msgs/msg/String", "mixed", QOS_DEFAULT, (m) => got.push(m.data));
    a.createPublisher<M.sensor_msgs__msg__Image>("sensor_msgs/msg/Image", "mixed", QOS_DEFAULT);
    await until("type mismatch noticed", () => tb.counters.get("errors.type_mismatch") === 1);
    expect(errors.some((e) => e instanceof SpatialRewardError && e.code === "type_mismatch")).toBe(true);

    // Same type name, bytes that do not decode: a raw writer on the binding.
    const binding = loadDdsBinding();
    const topic = binding.createTopic(ta.participant, "rt/mixed2", "std_msgs::msg::dds_::String_");
    const raw = binding.createWriter(ta.participant, topic, QOS_DEFAULT);
    b.createSubscription<M.std_msgs__msg__String>("std_msgs/msg/String", "mixed2", QOS_DEFAULT, (m) => got.push(m.data));
    await until("raw match", () => binding.publicationMatched(raw) === 1);
    binding.write(raw, new Uint8Array([0, 1, 0, 0, 0xff, 0xff, 0xff, 0x7f])); // string length 2^31-1
    binding.write(raw, new CdrCodec("std_msgs/msg/String").encode({ data: "still alive" }));
    await until("valid message after the bad one", () => got.includes("still alive"));
    expect(b.counters().get("errors.decode")).toBe(1);
    expect(tb.counters.get("errors.decode")).toBe(1);
    expect(errors.some((e) => e instanceof SpatialRewardError && e.code === "bad_message")).toBe(true);
    binding.deleteEntity(raw);
  });

  it("a publisher vanishing mid-stream: everything it sent arrives, the loss of the peer is counted", async () => {
    const ta = make();
    const tb = make();
    const a = ta.createNode("vanisher");
    const b = tb.createNode("survivor");
    const got: number[] = [];
    b.createSubscription<M.std_msgs__msg__String>("std_msgs/msg/String", "stream", RELIABLE_KEEP_ALL, (m) => got.push(Number(m.data)));
    const pub = a.createPublisher<M.std_msgs__msg__String>("std_msgs/msg/String", "stream", { ...QOS_DEFAULT, depth: 100 });
    await until("match", () => pub.subscriptionCount() === 1);
    for (let i = 0; i < 50; i++) {
      pub.publish({ data: String(i) });
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await until("stream received", () => got.length === 50);
    await ta.shutdown();
    await until("peer loss counted", () => tb.counters.get("peers.endpoints_lost") >= 1);
    expect(got).toEqual([...Array(50).keys()]);
    // The survivor still works.
    const again = tb.createNode("again");
    const p2 = again.createPublisher<M.std_msgs__msg__String>("std_msgs/msg/String", "stream", QOS_DEFAULT);
    p2.publish({ data: "50" });
    await until("local delivery after loss", () => got.length === 51);
  });

  it("services: round trip, unavailable service, handler error leading to a timeout", async () => {
    const server = make().createNode("server");
    const client = make().createNode("client");
    server.createService("spatial_reward_msgs/srv/SetRewardSpec", "set_spec", (req) => ({ ok: req.text.length > 0, message: `got ${req.text}` }));
    const c = client.createClient("spatial_reward_msgs/srv/SetRewardSpec", "set_spec");
    expect(await c.waitForService(5000)).toBe(true);
    const res = await c.call({ text: "above(a, b)" }, 5000);
    expect(res).toEqual({ ok: true, message: "got above(a, b)" });
    const res2 = await c.call({ text: "" }, 5000);
    expect(res2.ok).toBe(false);

    const missing = client.createClient("spatial_reward_msgs/srv/SetRewardSpec", "nobody");
    await expect(missing.call({ text: "x" }, 200)).rejects.toMatchObject({ code: "service_unavailable" });

    server.createService("spatial_reward_msgs/srv/SetRewardSpec", "broken", () => {
      throw new Error("handler failed");
    });
    const b = client.createClient("spatial_reward_msgs/srv/SetRewardSpec", "broken");
    await expect(b.call({ text: "x" }, 1500)).rejects.toMatchObject({ code: "timeout" });
    expect(server.counters().get("callback_errors")).toBe(1);
  });

  it("a volatile publisher with no reader matched encodes and writes nothing (counted); a latched one still writes", async () => {
    const a = make().createNode("lonely");
    const pub = a.createPublisher<M.sensor_msgs__msg__Image>("sensor_msgs/msg/Image", "nobody", QOS_DEFAULT);
    const latched = a.createPublisher<M.spatial_reward_msgs__msg__RewardSpec>("spatial_reward_msgs/msg/RewardSpec", "nobody/spec", QOS_LATCHED);
    pub.publish(image(640, 480, 1));
    pub.publish(image(640, 480, 2));
    expect(a.counters().get("published./nobody")).toBe(2);
    expect(a.counters().get("published_unmatched./nobody")).toBe(2);
    latched.publish({ header: { stamp: { sec: 1, nanosec: 0 }, frame_id: "" }, text: "near(a, b, 0.05)" });
    expect(a.counters().get("published_unmatched./nobody/spec")).toBe(0);
    // Once a reader is matched, messages are encoded and delivered again.
    const b = make().createNode("late_listener");
    const got: M.sensor_msgs__msg__Image[] = [];
    const specs: string[] = [];
    b.createSubscription<M.sensor_msgs__msg__Image>("sensor_msgs/msg/Image", "nobody", QOS_DEFAULT, (m) => got.push(m));
    b.createSubscription<M.spatial_reward_msgs__msg__RewardSpec>("spatial_reward_msgs/msg/RewardSpec", "nobody/spec", QOS_LATCHED, (m) => specs.push(m.text));
    await until("match", () => pub.subscriptionCount() === 1);
    pub.publish(image(640, 480, 3));
    await until("delivery", () => got.length === 1 && specs.length === 1);
    expect(got[0].header.stamp.sec).toBe(3);
    expect(specs).toEqual(["near(a, b, 0.05)"]);
    expect(a.counters().get("published_unmatched./nobody")).toBe(2);
  });

  it("observe() creates the reader on subscribe and deletes it on unsubscribe", async () => {
    const a = make().createNode("obs_pub");
    const b = make().createNode("obs_sub");
    const pub = a.createPublisher<M.std_msgs__msg__String>("std_msgs/msg/String", "obs", QOS_DEFAULT);
    expect(pub.subscriptionCount()).toBe(0);
    const first = firstValueFrom(b.observe<M.std_msgs__msg__String>("std_msgs/msg/String", "obs"));
    await until("match", () => pub.subscriptionCount() === 1);
    pub.publish({ data: "one" });
    expect((await first).data).toBe("one");
    await until("unmatched after unsubscribe", () => pub.subscriptionCount() === 0);
  });

  it("create/destroy cycles leave no entities behind", async () => {
    const binding = loadDdsBinding();
    for (let i = 0; i < 20; i++) {
      const t = new DdsTransport({ domainId: DOMAIN });
      const n = t.createNode(`cycle_${i}`);
      const pub = n.createPublisher<M.std_msgs__msg__String>("std_msgs/msg/String", "cycle", QOS_DEFAULT);
      n.createSubscription<M.std_msgs__msg__String>("std_msgs/msg/String", "cycle", QOS_DEFAULT, () => {});
      n.createService("spatial_reward_msgs/srv/SetRewardSpec", "cycle_srv", () => ({ ok: true, message: "" }));
      pub.publish({ data: "x" });
      await t.shutdown();
    }
    for (const t of open.splice(0)) await t.shutdown();
    expect(binding.liveHandles()).toEqual({ writers: 0, topics: 0, readers: 0, watchers: 0, domains: 0, leases: 0 });
  });
});

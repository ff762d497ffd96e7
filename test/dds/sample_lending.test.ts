import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type * as M from "../../src/msgs/generated.js";
import { CdrCodec } from "../../src/msgs/cdr_codec.js";
import { DdsTransport } from "../../src/transport/dds/dds_transport.js";
import { loadDdsBinding } from "../../src/transport/dds/native_binding.js";
import { sampleLending } from "../../src/transport/dds/sample_lending.js";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import type { QoS } from "../../src/transport/qos.js";
import { DDS_AVAILABLE, until, useLoopbackDds } from "./dds_env.js";

// A domain of its own, so parallel test files never see each other's traffic.
const DOMAIN = 61;
const RELIABLE: QoS = { reliability: "reliable", durability: "volatile", history: "keep_all", depth: 1 };
const IMAGE = "sensor_msgs/msg/Image";

function depthImage(seed: number, width = 640, height = 480): M.sensor_msgs__msg__Image {
  const px = new Uint16Array(width * height);
  for (let i = 0; i < px.length; i++) px[i] = (i * 7 + seed * 13) & 0xffff;
  return {
    header: { stamp: { sec: seed, nanosec: 0 }, frame_id: "cam" }, height, width, encoding: "16UC1", is_bigendian: 0, step: width * 2,
    data: new Uint8Array(px.buffer),
  };
}

/** A sample's pixels as the consumer reads them (a copy, to compare later). */
function pixelsOf(m: M.sensor_msgs__msg__Image): Uint8Array {
  return Uint8Array.from(m.data);
}

function forceGc(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

describe.runIf(DDS_AVAILABLE)("lent samples over Cyclone DDS (loopback)", () => {
  const open: DdsTransport[] = [];
  const binding = DDS_AVAILABLE ? loadDdsBinding() : undefined;
  const make = () => {
    const t = new DdsTransport({ domainId: DOMAIN, rosout: false });
    open.push(t);
    return t;
  };
  beforeAll(() => useLoopbackDds());
  afterEach(async () => {
    for (const t of open.splice(0)) await t.shutdown();
  });

  it("lends 640x480 depth images: intact bytes, views of pooled slots reused once released, none per frame", async () => {
    const pubNode = make().createNode("lend_talker");
    const subNode = make().createNode("lend_listener");
    const lending = sampleLending(subNode);
    expect(lending).not.toBeNull();
    const got: { msg: M.sensor_msgs__msg__Image; lease: number }[] = [];
    lending!.createLentSubscription<M.sensor_msgs__msg__Image>(IMAGE, "lend/depth", RELIABLE, (msg, lease) => got.push({ msg, lease }));
    const pub = pubNode.createPublisher<M.sensor_msgs__msg__Image>(IMAGE, "lend/depth", RELIABLE);
    await until("match", () => pub.subscriptionCount() === 1);
    const before = binding!.poolStats();
    const buffers = new Set<ArrayBufferLike>();
    for (let k = 0; k < 30; k++) {
      const sent = depthImage(k);
      pub.publish(sent);
      await until(`image ${k}`, () => got.length === k + 1);
      const { msg, lease } = got[k];
      expect(lease).toBeGreaterThan(0);
      expect(Buffer.compare(Buffer.from(msg.data), Buffer.from(sent.data))).toBe(0);
      // The pixels are a view of the received sample, 2-aligned: perception reads them as uint16 in place.
      expect(msg.data.byteOffset % 2).toBe(0);
      buffers.add(msg.data.buffer);
      lending!.releaseSample(lease);
    }
    const after = binding!.poolStats();
    // Each image lands in a slot the reader had seen before: a handful of ArrayBuffers for 30 frames.
    expect(buffers.size).toBeLessThanOrEqual(4);
    expect(after.reused - before.reused).toBeGreaterThanOrEqual(25);
    expect(after.leases).toBe(0);
  });

  it("never reuses a slot while its sample is lent, and a release returns it once", async () => {
    const pubNode = make().createNode("hold_talker");
    const subNode = make().createNode("hold_listener");
    const lending = sampleLending(subNode)!;
    const got: { msg: M.sensor_msgs__msg__Image; lease: number }[] = [];
    lending.createLentSubscription<M.sensor_msgs__msg__Image>(IMAGE, "lend/hold", RELIABLE, (msg, lease) => got.push({ msg, lease }));
    const pub = pubNode.createPublisher<M.sensor_msgs__msg__Image>(IMAGE, "lend/hold", RELIABLE);
    await until("match", () => pub.subscriptionCount() === 1);
    pub.publish(depthImage(100));
    await until("first", () => got.length === 1);
    const held = got[0];
    const snapshot = pixelsOf(held.msg);
    // Later frames come and go (released at once) while the first stays lent.
    for (let k = 1; k <= 10; k++) {
      pub.publish(depthImage(100 + k));
      await until(`frame ${k}`, () => got.length === k + 1);
      expect(got[k].msg.data.buffer).not.toBe(held.msg.data.buffer);
      lending.releaseSample(got[k].lease);
    }
    expect(Buffer.compare(Buffer.from(held.msg.data), Buffer.from(snapshot))).toBe(0);
    expect(binding!.poolStats().leases).toBe(1);
    expect(binding!.releaseSample(held.lease)).toBe(true);
    expect(binding!.releaseSample(held.lease)).toBe(false);
    expect(binding!.poolStats().leases).toBe(0);
  });

  it("refuses hostile leases without effect", () => {
    for (const bad of [0, -1, 1.5, NaN, Infinity, -Infinity, 65535, 2 ** 53, 2 ** 60, Number.MAX_VALUE, 123456789]) {
      expect(binding!.releaseSample(bad)).toBe(false);
    }
    for (const bad of [undefined, "1", {}, null]) {
      expect(() => (binding!.releaseSample as (x: unknown) => boolean)(bad)).toThrow(TypeError);
    }
  });

  it("gives small samples (lease 0) on a lent subscription; the other backends have no lending", async () => {
    const pubNode = make().createNode("small_talker");
    const subNode = make().createNode("small_listener");
    const got: { msg: M.std_msgs__msg__String; lease: number }[] = [];
    sampleLending(subNode)!.createLentSubscription<M.std_msgs__msg__String>("std_msgs/msg/String", "lend/small", RELIABLE, (msg, lease) => got.push({ msg, lease }));
    const pub = pubNode.createPublisher<M.std_msgs__msg__String>("std_msgs/msg/String", "lend/small", RELIABLE);
    await until("match", () => pub.subscriptionCount() === 1);
    pub.publish({ data: "tiny" });
    await until("delivery", () => got.length === 1);
    expect(got[0]).toEqual({ msg: { data: "tiny" }, lease: 0 });
    const inproc = new InprocTransport();
    expect(sampleLending(inproc.createNode("x"))).toBeNull();
    await inproc.shutdown();
  });

  it("returns a lent sample the consumer dropped unreleased when it is collected, and counts it", async () => {
    const gc = forceGc();
    const pubNode = make().createNode("gc_talker");
    const t = make();
    const subNode = t.createNode("gc_listener");
    let received = 0;
    let lastLease = 0;
    sampleLending(subNode)!.createLentSubscription<M.sensor_msgs__msg__Image>(IMAGE, "lend/gc", RELIABLE, (_msg, lease) => {
      received++;
      lastLease = lease;
    });
    const pub = pubNode.createPublisher<M.sensor_msgs__msg__Image>(IMAGE, "lend/gc", RELIABLE);
    await until("match", () => pub.subscriptionCount() === 1);
    pub.publish(depthImage(7));
    await until("delivery", () => received === 1);
    expect(lastLease).toBeGreaterThan(0);
    expect(binding!.poolStats().leases).toBe(1);
    await until("collected and returned", () => {
      gc();
      return binding!.poolStats().leases === 0;
    });
    await until("counted", () => t.counters.get("lent.reclaimed_by_gc") === 1);
  });

  it("two lent subscriptions in one process share a sample; it goes back when both released", async () => {
    const pubNode = make().createNode("share_talker");
    const t = make();
    const a = t.createNode("share_a");
    const b = t.createNode("share_b");
    const got: { msg: M.sensor_msgs__msg__Image; lease: number }[][] = [[], []];
    [a, b].forEach((n, i) => sampleLending(n)!.createLentSubscription<M.sensor_msgs__msg__Image>(IMAGE, "lend/share", RELIABLE, (msg, lease) => got[i].push({ msg, lease })));
    const pub = pubNode.createPublisher<M.sensor_msgs__msg__Image>(IMAGE, "lend/share", RELIABLE);
    await until("match", () => pub.subscriptionCount() === 2);
    const sent = depthImage(21);
    pub.publish(sent);
    await until("both", () => got[0].length === 1 && got[1].length === 1);
    expect(got[0][0].lease).not.toBe(got[1][0].lease);
    binding!.releaseSample(got[0][0].lease);
    // The other reader's view still shows the sample.
    expect(Buffer.compare(Buffer.from(got[1][0].msg.data), Buffer.from(sent.data))).toBe(0);
    binding!.releaseSample(got[1][0].lease);
    expect(binding!.poolStats().leases).toBe(0);
  });

  it("an undecodable lent sample is counted, reported and returned at once", async () => {
    const t = make();
    const subNode = t.createNode("bad_listener");
    const errors: unknown[] = [];
    t.onError = (e) => errors.push(e);
    let delivered = 0;
    sampleLending(subNode)!.createLentSubscription<M.sensor_msgs__msg__Image>(IMAGE, "lend/bad", RELIABLE, () => delivered++);
    // A raw writer on the same topic and type: 200 KB (pooled) that claim a 4 GB string.
    const raw = make();
    const topic = binding!.createTopic(raw.participant, "rt/lend/bad", "sensor_msgs::msg::dds_::Image_");
    const writer = binding!.createWriter(raw.participant, topic, RELIABLE);
    await until("match", () => binding!.publicationMatched(writer) === 1);
    const bytes = new Uint8Array(200_000).fill(0xff);
    bytes.set([0, 1, 0, 0]);
    binding!.write(writer, bytes);
    await until("decode error counted", () => subNode.counters().get("errors.decode") === 1);
    expect(delivered).toBe(0);
    expect(errors.length).toBe(1);
    expect(binding!.poolStats().leases).toBe(0);
  });

  it("a given (not lent) sample's CDR body is 8-aligned: CameraInfo's float64 arrays are views, not copies", async () => {
    const pubNode = make().createNode("info_talker");
    const subNode = make().createNode("info_listener");
    const got: M.sensor_msgs__msg__CameraInfo[] = [];
    subNode.createSubscription<M.sensor_msgs__msg__CameraInfo>("sensor_msgs/msg/CameraInfo", "lend/info", RELIABLE, (m) => got.push(m));
    const pub = pubNode.createPublisher<M.sensor_msgs__msg__CameraInfo>("sensor_msgs/msg/CameraInfo", "lend/info", RELIABLE);
    await until("match", () => pub.subscriptionCount() === 1);
    const info = new CdrCodec("sensor_msgs/msg/CameraInfo").decode(new CdrCodec("sensor_msgs/msg/CameraInfo").encode({
      header: { stamp: { sec: 1, nanosec: 2 }, frame_id: "camera_color_optical_frame" }, height: 480, width: 640, distortion_model: "plumb_bob",
      d: [0, 0, 0, 0, 0], k: [600, 0, 320, 0, 600, 240, 0, 0, 1], r: [1, 0, 0, 0, 1, 0, 0, 0, 1], p: [600, 0, 320, 0, 0, 600, 240, 0, 0, 0, 1, 0],
      binning_x: 0, binning_y: 0, roi: { x_offset: 0, y_offset: 0, height: 0, width: 0, do_rectify: false },
    }));
    pub.publish(info);
    await until("delivery", () => got.length === 1);
    const k = got[0].k as unknown as Float64Array;
    expect(Array.from(k)).toEqual([600, 0, 320, 0, 600, 240, 0, 0, 1]);
    expect(k.byteOffset % 8).toBe(0);
    // A view of the received sample: its buffer also holds the header's frame id.
    expect(k.buffer.byteLength).toBeGreaterThan(k.byteLength + 26);
  });
});

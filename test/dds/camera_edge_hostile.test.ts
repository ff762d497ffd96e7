import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type * as M from "../../src/msgs/generated.js";
import { CdrCodec } from "../../src/msgs/cdr_codec.js";
import { DdsTransport } from "../../src/transport/dds/dds_transport.js";
import { loadDdsBinding } from "../../src/transport/dds/native_binding.js";
import { QOS_DEFAULT, QOS_SENSOR_DATA, type QoS } from "../../src/transport/qos.js";
import { fromNanoseconds } from "../../src/time/ros_time.js";
import { Rng, RgbdSensor, teleopScenario, worldAt } from "../../sim/index.js";
import { PerceptionNode } from "../../nodes/perception_node.js";
import { cameraMessages, type CameraMessages } from "../../nodes/sim_camera_node.js";
import { T } from "../../nodes/messages.js";
import { DDS_AVAILABLE, until, useLoopbackDds } from "./dds_env.js";

/**
 * Hostile camera input on the lent path (the perception node's images decoded in place in
 * pooled memory): truncated and mutated CDR, wrong encodings, step x height that does not fit
 * the data, huge dimensions, rows that cannot be viewed as 16-bit samples. Every case is a
 * typed error with a counter (the transport's errors.decode, or perception's errors.<code>),
 * never a crash; the next clean frame is processed; every lent image goes back to the pool.
 */
const DOMAIN = 63;
const LOSSLESS: QoS = { ...QOS_SENSOR_DATA, reliability: "reliable", history: "keep_all" };
const IMAGE_DDS_TYPE = "sensor_msgs::msg::dds_::Image_";

describe.runIf(DDS_AVAILABLE)("hostile camera input on the lent path over DDS", () => {
  const binding = DDS_AVAILABLE ? loadDdsBinding() : undefined;
  let graph: DdsTransport;
  let peer: DdsTransport;
  let perception: PerceptionNode;
  const scenes: bigint[] = [];
  let base: CameraMessages;
  let stamp = 1_700_000_000_000_000_000n;
  let pubs: {
    info: ReturnType<typeof makePubs>["info"];
    rgb: ReturnType<typeof makePubs>["rgb"];
    depth: ReturnType<typeof makePubs>["depth"];
    masks: ReturnType<typeof makePubs>["masks"];
  };
  let rawRgb = 0;
  const imageCodec = new CdrCodec("sensor_msgs/msg/Image");

  function makePubs(t: DdsTransport) {
    const n = t.createNode("hostile_camera");
    return {
      info: n.createPublisher<M.sensor_msgs__msg__CameraInfo>(T.CameraInfo, "camera/color/camera_info", QOS_DEFAULT),
      rgb: n.createPublisher<M.sensor_msgs__msg__Image>(T.Image, "camera/color/image_raw", LOSSLESS),
      depth: n.createPublisher<M.sensor_msgs__msg__Image>(T.Image, "camera/aligned_depth_to_color/image_raw", LOSSLESS),
      masks: n.createPublisher<M.spatial_reward_msgs__msg__InstanceMasks>(T.InstanceMasks, "camera/instances", LOSSLESS),
    };
  }
  const frame = (s: bigint): CameraMessages => {
    const header = { stamp: fromNanoseconds(s), frame_id: "camera_color_optical_frame" };
    return { info: { ...base.info, header }, rgb: { ...base.rgb, header }, depth: { ...base.depth, header }, masks: { ...base.masks!, header, mask: { ...base.masks!.mask, header } } };
  };
  const send = (m: Partial<CameraMessages>) => {
    if (m.info) pubs.info.publish(m.info);
    if (m.rgb) pubs.rgb.publish(m.rgb);
    if (m.depth) pubs.depth.publish(m.depth);
    if (m.masks) pubs.masks.publish(m.masks);
  };
  const counter = (k: string) => perception.perception.counters.get(k);
  const cleanFrame = async (after: string) => {
    stamp += 33_333_333n;
    const s = stamp;
    send(frame(s));
    await until(`the clean frame after ${after}`, () => scenes.includes(s), 20_000);
  };
  /** A frame whose colour image is `rgb` (the other topics clean, same stamp). */
  const withRgb = (edit: (img: M.sensor_msgs__msg__Image) => M.sensor_msgs__msg__Image) => {
    stamp += 33_333_333n;
    const f = frame(stamp);
    send({ ...f, rgb: edit(f.rgb) });
  };
  const withDepth = (edit: (img: M.sensor_msgs__msg__Image) => M.sensor_msgs__msg__Image) => {
    stamp += 33_333_333n;
    const f = frame(stamp);
    send({ ...f, depth: edit(f.depth) });
  };

  beforeAll(async () => {
    useLoopbackDds();
    graph = new DdsTransport({ domainId: DOMAIN, rosout: false });
    graph.logSinks = [];
    peer = new DdsTransport({ domainId: DOMAIN, rosout: false });
    perception = new PerceptionNode(graph.createNode("perception", { parameterOverrides: { input_reliability: "reliable", warmup_frames: 0 } }));
    graph.createNode("probe").createSubscription<M.spatial_reward_msgs__msg__SceneObjects>(T.SceneObjects, "scene/objects", { ...QOS_DEFAULT, history: "keep_all" }, (m) =>
      scenes.push(BigInt(m.header.stamp.sec) * 1_000_000_000n + BigInt(m.header.stamp.nanosec)));
    const scenario = teleopScenario(44, 30);
    const cap = new RgbdSensor({ noise: "none", seed: 44 }).capture(worldAt(scenario.world, scenario.episode.poses[0]), scenario.camera, 0n);
    // The wire forms of a RealSense driver: 16UC1 millimetre depth and 16UC1 instance ids.
    const m = cameraMessages(cap.frame, "camera_color_optical_frame");
    const w = m.rgb.width, h = m.rgb.height;
    const metres = new Float32Array(m.depth.data.buffer, m.depth.data.byteOffset, w * h);
    const mm = Uint16Array.from(metres, (x) => (Number.isFinite(x) && x > 0 ? Math.round(x * 1000) : 0));
    const ids = Uint16Array.from(m.masks!.mask.data.subarray(0, w * h));
    base = {
      ...m,
      depth: { ...m.depth, encoding: "16UC1", step: w * 2, data: new Uint8Array(mm.buffer) },
      masks: { ...m.masks!, mask: { ...m.masks!.mask, encoding: "16UC1", step: w * 2, data: new Uint8Array(ids.buffer) } },
    };
    pubs = makePubs(peer);
    const topic = binding!.createTopic(peer.participant, "rt/camera/color/image_raw", IMAGE_DDS_TYPE);
    rawRgb = binding!.createWriter(peer.participant, topic, LOSSLESS);
    await until("matched", () => pubs.rgb.subscriptionCount() === 1 && pubs.masks.subscriptionCount() === 1 && binding!.publicationMatched(rawRgb) === 1);
    await cleanFrame("start-up");
  }, 60_000);

  afterAll(async () => {
    await peer?.shutdown();
    await graph?.shutdown();
  });

  it("counts wrong encodings, sizes that do not fit, huge dimensions and odd rows, and processes the next frame", async () => {
    const w = base.rgb.width, h = base.rgb.height;
    withRgb((img) => ({ ...img, encoding: "bgra8" }));
    withRgb((img) => ({ ...img, encoding: "x".repeat(300) }));
    withDepth((img) => ({ ...img, is_bigendian: 7 }));
    await cleanFrame("wrong encodings");
    expect(counter("errors.bad_encoding")).toBe(3);

    // step x height against the data: short by a row, a step below width x bpp, data longer than step x height.
    withRgb((img) => ({ ...img, data: img.data.subarray(0, img.step * (h - 1)) }));
    withDepth((img) => ({ ...img, step: w * 2 - 2 }));
    withDepth((img) => ({ ...img, data: new Uint8Array(0) }));
    withRgb((img) => {
      const data = new Uint8Array(img.data.length + img.step);
      data.set(img.data);
      return { ...img, data };
    });
    await cleanFrame("sizes that do not fit");
    expect(counter("errors.bad_image_size")).toBe(3);
    expect(counter("errors.bad_image_step")).toBe(1);

    // Huge dimensions with little data (height x step overflows 32 bits).
    withRgb((img) => ({ ...img, width: 2 ** 31, height: 2 ** 31, step: 3 * 2 ** 31 }));
    withDepth((img) => ({ ...img, width: 4294967295, height: 1 }));
    await cleanFrame("huge dimensions");
    expect(counter("errors.bad_image_size")).toBe(5);

    // Rows of an odd number of bytes: 16-bit samples cannot be viewed in place, so they are
    // copied once (a valid image: processed, not refused).
    const before = counter("frames_out");
    stamp += 33_333_333n;
    const s = stamp;
    const f = frame(s);
    const step = w * 2 + 1;
    const odd = new Uint8Array(step * h);
    for (let v = 0; v < h; v++) odd.set(f.depth.data.subarray(v * w * 2, (v + 1) * w * 2), v * step);
    send({ ...f, depth: { ...f.depth, step, data: odd } });
    await until("the odd-row frame", () => scenes.includes(s), 20_000);
    expect(counter("frames_out")).toBe(before + 1);
    expect(counter("errors.internal")).toBe(0);
  }, 90_000);

  it("truncated and mutated CDR is counted as undecodable or refused, never a crash; every lent image goes back", async () => {
    const decodeErrors = () => graph.counters.get("errors.decode");
    const start = decodeErrors();
    stamp += 33_333_333n;
    const clean = imageCodec.encode(frame(stamp).rgb);
    // Truncated at the header, inside the strings, inside the data length, inside the data (the
    // last ones land in a reused pool slot, whose older bytes must not complete them).
    const cuts = [4, 9, 20, 40, 52, 60, 100, 70_000, clean.length - 1];
    for (const cut of cuts) binding!.write(rawRgb, clean.slice(0, cut));
    await until("every truncation counted", () => decodeErrors() - start === cuts.length, 20_000);
    // Mutations of the fixed fields and lengths: a decoded image is refused or processed, an
    // undecodable one counted; nothing throws out of the transport.
    const rng = new Rng(99);
    const framesBefore = counter("frames_in");
    for (let k = 0; k < 60; k++) {
      stamp += 33_333_333n;
      const f = frame(stamp);
      const bytes = imageCodec.encode(f.rgb).slice();
      const at = 4 + rng.int(0, 120);
      bytes[at] = rng.int(0, 255);
      if (k % 3 === 0) bytes[at + 1] = 0xff;
      binding!.write(rawRgb, bytes);
      pubs.depth.publish(f.depth);
      pubs.masks.publish(f.masks!);
    }
    await cleanFrame("60 mutated colour images");
    // Each mutated image was counted one way or another: undecodable, or through perception
    // (processed or refused with a code), or left unmatched by a stamp it no longer carries.
    expect(counter("frames_in") - framesBefore + (decodeErrors() - start) + counter("dropped.unmatched.rgb")).toBeGreaterThan(0);
    expect(counter("errors.internal")).toBe(0);
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    await until("every lent image returned", () => {
      gc();
      return binding!.poolStats().leases === 0;
    }, 20_000);
  }, 90_000);
});

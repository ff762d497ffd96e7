import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type * as M from "../../src/msgs/generated.js";
import { DdsTransport } from "../../src/transport/dds/dds_transport.js";
import { loadDdsBinding } from "../../src/transport/dds/native_binding.js";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { QOS_DEFAULT, QOS_SENSOR_DATA, type QoS } from "../../src/transport/qos.js";
import type { Transport } from "../../src/transport/port.js";
import { RgbdSensor, teleopScenario, worldAt } from "../../sim/index.js";
import { PerceptionNode } from "../../nodes/perception_node.js";
import { cameraMessages } from "../../nodes/sim_camera_node.js";
import { T } from "../../nodes/messages.js";
import { DDS_AVAILABLE, until, useLoopbackDds } from "./dds_env.js";

// A domain of its own, so parallel test files never see each other's traffic.
const DOMAIN = 62;
const LOSSLESS: QoS = { ...QOS_SENSOR_DATA, reliability: "reliable", history: "keep_all" };

/** A camera driver's publishers and a 640x480 teleop scene to feed them from. */
function camera(transport: Transport, seed: number) {
  const node = transport.createNode("camera");
  const pubs = {
    info: node.createPublisher<M.sensor_msgs__msg__CameraInfo>(T.CameraInfo, "camera/color/camera_info", QOS_DEFAULT),
    rgb: node.createPublisher<M.sensor_msgs__msg__Image>(T.Image, "camera/color/image_raw", LOSSLESS),
    depth: node.createPublisher<M.sensor_msgs__msg__Image>(T.Image, "camera/aligned_depth_to_color/image_raw", LOSSLESS),
    masks: node.createPublisher<M.spatial_reward_msgs__msg__InstanceMasks>(T.InstanceMasks, "camera/instances", LOSSLESS),
  };
  const scenario = teleopScenario(seed, 40);
  const sensor = new RgbdSensor({ noise: "realsense", seed });
  /** Frame f's messages; `skip` leaves some topics out (a camera that lost them). */
  const publish = (f: number, skip: readonly ("rgb" | "depth" | "masks")[] = []) => {
    const cap = sensor.capture(worldAt(scenario.world, scenario.episode.poses[f]), scenario.camera, 1_000_000_000n + BigInt(f) * 33_333_333n);
    const m = cameraMessages(cap.frame, "camera_color_optical_frame");
    pubs.info.publish(m.info);
    if (!skip.includes("rgb")) pubs.rgb.publish(m.rgb);
    if (!skip.includes("depth")) pubs.depth.publish(m.depth);
    if (!skip.includes("masks")) pubs.masks.publish(m.masks!);
  };
  return { pubs, publish };
}

function perceptionOf(transport: Transport, params: Record<string, number | string | boolean>) {
  const node = new PerceptionNode(transport.createNode("perception", { parameterOverrides: { input_reliability: "reliable", ...params } }));
  const probe = transport.createNode("probe");
  const scenes: M.spatial_reward_msgs__msg__SceneObjects[] = [];
  probe.createSubscription<M.spatial_reward_msgs__msg__SceneObjects>(T.SceneObjects, "scene/objects", { ...QOS_DEFAULT, history: "keep_all" }, (m) => scenes.push(m));
  return { node, scenes };
}

describe.runIf(DDS_AVAILABLE)("the perception node's camera edge over DDS: lent images", () => {
  const open: DdsTransport[] = [];
  const binding = DDS_AVAILABLE ? loadDdsBinding() : undefined;
  beforeAll(() => useLoopbackDds());
  afterEach(async () => {
    for (const t of open.splice(0)) await t.shutdown();
  });

  it("processes lent 640x480 frames and returns every image to the pool, none left for the GC", async () => {
    const t = new DdsTransport({ domainId: DOMAIN, rosout: false });
    open.push(t);
    const before = binding!.poolStats();
    const p = perceptionOf(t, { warmup_frames: 0 });
    const cam = camera(t, 41);
    await until("camera matched", () => cam.pubs.rgb.subscriptionCount() === 1 && cam.pubs.masks.subscriptionCount() === 1);
    for (let f = 0; f < 6; f++) {
      cam.publish(f);
      await until(`scene ${f}`, () => p.scenes.length === f + 1, 15_000);
    }
    const c = p.node.perception.counters;
    expect(c.get("frames_out")).toBe(6);
    // Images went through pooled slots (3 topics x 6 frames at least; camera_info is small).
    expect(binding!.poolStats().acquired - before.acquired).toBeGreaterThanOrEqual(18);
    expect(binding!.poolStats().leases).toBe(0);
    expect(t.counters.get("lent.reclaimed_by_gc")).toBe(0);
    expect(c.get("cpu_ms.perception")).toBeGreaterThan(0);
  }, 60_000);

  it("images the synchroniser drops unmatched go back to the pool at once, not when collected", async () => {
    const t = new DdsTransport({ domainId: DOMAIN, rosout: false });
    open.push(t);
    const p = perceptionOf(t, { warmup_frames: 0 });
    const cam = camera(t, 42);
    await until("camera matched", () => cam.pubs.rgb.subscriptionCount() === 1 && cam.pubs.masks.subscriptionCount() === 1);
    cam.publish(0);
    await until("scene 0", () => p.scenes.length === 1, 15_000);
    // Frame 1 loses its depth image: its colour image and masks can never be matched.
    cam.publish(1, ["depth"]);
    await until("frame 1's images queued", () => binding!.poolStats().leases >= 2, 15_000);
    cam.publish(2);
    await until("scene 2", () => p.scenes.length === 2, 15_000);
    const c = p.node.perception.counters;
    expect(c.get("dropped.unmatched.rgb")).toBe(1);
    expect(c.get("dropped.unmatched.segmentation")).toBe(1);
    // The drop hook released them: a GC that got there first would have counted lent.reclaimed_by_gc.
    expect(binding!.poolStats().leases).toBe(0);
    expect(t.counters.get("lent.reclaimed_by_gc")).toBe(0);
  }, 60_000);
});

describe("the perception node's warm-up", () => {
  it("leaves the node's results unchanged: the same frames give the same scenes with and without it", async () => {
    const run = async (params: Record<string, number>) => {
      const t = new InprocTransport();
      const p = perceptionOf(t, params);
      const cam = camera(t, 43);
      for (let f = 0; f < 4; f++) cam.publish(f);
      await t.shutdown();
      return { scenes: p.scenes, framesIn: p.node.perception.counters.get("frames_in") };
    };
    const cold = await run({ warmup_frames: 0 });
    // A size of its own: the warm-up runs once per process and size.
    const warm = await run({ warmup_frames: 6, warmup_width: 320, warmup_height: 240 });
    expect(cold.scenes).toHaveLength(4);
    // The node's own Perception saw only the 4 real frames; the warm-up used instances of its own.
    expect(warm.framesIn).toBe(4);
    expect(warm.scenes).toEqual(cold.scenes);
  }, 60_000);

  it("refuses bad warm-up parameters", () => {
    const t = new InprocTransport();
    const cases: Record<string, number>[] = [{ warmup_frames: -1 }, { warmup_frames: 1001 }, { warmup_frames: 1.5 }, { warmup_width: 8 }, { warmup_height: 9000 }, { warmup_width: 100.5 }];
    for (const bad of cases) {
      expect(() => new PerceptionNode(t.createNode(`p${Object.values(bad).join("_")}`.replace(/[^a-z0-9_]/g, "_"), { parameterOverrides: bad }))).toThrow(/warmup_/);
    }
  });
});

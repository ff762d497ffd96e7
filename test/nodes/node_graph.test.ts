import { describe, expect, it } from "vitest";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { QOS_DEFAULT } from "../../src/transport/qos.js";
import { Counters } from "../../src/diagnostics/counters.js";
import { LatencyStats } from "../../src/diagnostics/latency_stats.js";
import { DiagnosticsPublisher } from "../../nodes/diagnostics_publisher.js";
import { toNanoseconds } from "../../src/time/ros_time.js";
import type * as M from "../../src/msgs/generated.js";
import { RgbdSensor, teleopScenario, worldAt, uniqueName } from "../../sim/index.js";
import { PerceptionNode } from "../../nodes/perception_node.js";
import { SpatialNode } from "../../nodes/spatial_node.js";
import { RewardNode } from "../../nodes/reward_node.js";
import { SimCameraNode } from "../../nodes/sim_camera_node.js";
import { T } from "../../nodes/messages.js";

function graph(seed: number, frames: number) {
  const scenario = teleopScenario(seed, frames);
  const transport = new InprocTransport();
  const perception = new PerceptionNode(transport.createNode("perception"));
  const spatial = new SpatialNode(transport.createNode("spatial"));
  const reward = new RewardNode(transport.createNode("reward", { parameterOverrides: { reward_spec: scenario.episode.instruction } }));
  const sim = new SimCameraNode(transport.createNode("sim_camera"));
  const probe = transport.createNode("probe");
  const rewards: M.spatial_reward_msgs__msg__Reward[] = [];
  const scenes: M.spatial_reward_msgs__msg__SceneObjects[] = [];
  const det3d: M.vision_msgs__msg__Detection3DArray[] = [];
  probe.createSubscription<M.spatial_reward_msgs__msg__Reward>(T.Reward, "reward", QOS_DEFAULT, (m) => rewards.push(m));
  probe.createSubscription<M.spatial_reward_msgs__msg__SceneObjects>(T.SceneObjects, "scene/objects", QOS_DEFAULT, (m) => scenes.push(m));
  probe.createSubscription<M.vision_msgs__msg__Detection3DArray>(T.Detection3DArray, "scene/detections3d", QOS_DEFAULT, (m) => det3d.push(m));
  const sensor = new RgbdSensor({ noise: "none", seed });
  const publishFrame = (f: number) => {
    const cap = sensor.capture(worldAt(scenario.world, scenario.episode.poses[f]), scenario.camera, 1_000_000_000n + BigInt(f) * 33_333_333n);
    sim.publish(cap.frame, cap.truth);
    return cap;
  };
  return { scenario, transport, perception, spatial, reward, sim, probe, rewards, scenes, det3d, publishFrame };
}

describe("node graph over the in-process transport", () => {
  it("turns camera topics into scenes, stamped rewards and answers", async () => {
    const g = graph(31, 60);
    const stamps: bigint[] = [];
    let lastTruth = null as ReturnType<typeof g.publishFrame>["truth"] | null;
    for (let f = 0; f < 60; f++) {
      const cap = g.publishFrame(f);
      stamps.push(cap.frame.stamp);
      lastTruth = cap.truth;
    }
    // One scene, one Detection3DArray and one reward per frame, each stamped with its frame.
    expect(g.scenes.map((m) => toNanoseconds(m.header.stamp))).toEqual(stamps);
    expect(g.rewards.map((m) => toNanoseconds(m.header.stamp))).toEqual(stamps);
    expect(g.det3d).toHaveLength(60);
    expect(g.det3d[0].detections.length).toBe(g.scenario.world.objects.length);
    expect(g.rewards[59].spec).toMatch(/^(near|relation)\(/);
    expect(g.rewards[59].progress).toBeGreaterThanOrEqual(g.rewards[0].progress);

    // The spatial_query service answers from the latest scene, in metres, close to the truth.
    const { world, episode } = g.scenario;
    const a = world.objects[episode.aIndex];
    const b = world.objects.find((o) => o.id === episode.task.b)!;
    const client = g.probe.createClient<M.spatial_reward_msgs__srv__SpatialQuery_Request, M.spatial_reward_msgs__srv__SpatialQuery_Response>(T.SpatialQuery, "spatial_query");
    const res = await client.call({ question: `How far is the ${uniqueName(world, a)} from the ${uniqueName(world, b)}?`, source: "", stream: "" });
    expect(res.answer.status).toBe(0);
    expect(res.answer.unit).toBe("m");
    const ta = lastTruth!.objects.find((o) => o.id === a.id)!, tb = lastTruth!.objects.find((o) => o.id === b.id)!;
    const truth = Math.hypot(ta.center.x - tb.center.x, ta.center.y - tb.center.y, ta.center.z - tb.center.z);
    expect(Math.abs(res.answer.value - truth)).toBeLessThan(0.1 * truth);
    expect(res.answer.text).toMatch(/\d/);

    // The same question as a topic.
    const answers: M.spatial_reward_msgs__msg__SpatialAnswer[] = [];
    g.probe.createSubscription<M.spatial_reward_msgs__msg__SpatialAnswer>(T.SpatialAnswer, "spatial/answer", QOS_DEFAULT, (m) => answers.push(m));
    g.probe.createPublisher<M.std_msgs__msg__String>(T.String, "spatial/question").publish({ data: "Is the green teapot left of the table?" });
    expect(answers).toHaveLength(1);
    expect(answers[0].status).toBe(1); // unknown object: says so, never guesses
    expect(answers[0].text).toMatch(/teapot/);
    expect(g.spatial.counters.get("answers.unknown_object")).toBe(1);
    await g.transport.shutdown();
  }, 60_000);

  it("counts bad input, keeps running, and its counters add up", async () => {
    const g = graph(32, 20);
    g.publishFrame(0);
    const img = (over: Partial<M.sensor_msgs__msg__Image>, stamp: bigint): M.sensor_msgs__msg__Image => ({
      header: { stamp: { sec: Number(stamp / 1_000_000_000n), nanosec: Number(stamp % 1_000_000_000n) }, frame_id: "cam" },
      height: 480, width: 640, encoding: "rgb8", is_bigendian: 0, step: 640 * 3, data: new Uint8Array(640 * 480 * 3), ...over,
    });
    const rgbPub = g.probe.createPublisher<M.sensor_msgs__msg__Image>(T.Image, "camera/color/image_raw");
    const depthPub = g.probe.createPublisher<M.sensor_msgs__msg__Image>(T.Image, "camera/aligned_depth_to_color/image_raw");
    const maskPub = g.probe.createPublisher<M.spatial_reward_msgs__msg__InstanceMasks>(T.InstanceMasks, "camera/instances");
    // A frame whose depth has the wrong size, then one with an unsupported encoding.
    for (const [k, depth] of [
      [1n, img({ encoding: "32FC1", width: 320, step: 320 * 4, data: new Uint8Array(320 * 480 * 4) }, 5_000_000_000n)],
      [2n, img({ encoding: "8UC3" }, 6_000_000_000n)],
    ] as const) {
      const stamp = 4_000_000_000n + k * 1_000_000_000n;
      rgbPub.publish(img({}, stamp));
      depthPub.publish({ ...depth, header: img({}, stamp).header });
      maskPub.publish({ header: img({}, stamp).header, mask: img({ encoding: "mono8", step: 640, data: new Uint8Array(640 * 480) }, stamp), ids: [], labels: [] });
    }
    // A mask message whose ids and labels disagree.
    const stamp = 7_000_000_000n;
    rgbPub.publish(img({}, stamp));
    depthPub.publish(img({ encoding: "32FC1", step: 640 * 4, data: new Uint8Array(640 * 480 * 4) }, stamp));
    maskPub.publish({ header: img({}, stamp).header, mask: img({ encoding: "mono8", step: 640, data: new Uint8Array(640 * 480) }, stamp), ids: [1, 2], labels: ["mug"] });
    // Good frames keep flowing afterwards.
    for (let f = 1; f < 10; f++) g.publishFrame(f);
    // And a late frame from the past.
    g.publishFrame(3);

    const c = g.perception.perception.counters.snapshot();
    expect(c["errors.bad_image_size"]).toBe(1);
    expect(c["errors.bad_encoding"]).toBe(1);
    expect(c["errors.bad_message"]).toBe(1);
    expect(c["errors.out_of_order_stamp"]).toBe(1);
    expect(c.frames_out).toBe(10);
    const errors = Object.entries(c).filter(([k]) => k.startsWith("errors.")).reduce((n, [, v]) => n + v, 0);
    expect(c.frames_in).toBe(c.frames_out + errors - c["errors.bad_message"]);
    expect(c["sync.sets"]).toBe(14);

    // A reward spec naming an object that is not there: rejected frames are counted, not guessed.
    const set = g.probe.createClient<M.spatial_reward_msgs__srv__SetRewardSpec_Request, M.spatial_reward_msgs__srv__SetRewardSpec_Response>(T.SetRewardSpec, "set_reward_spec");
    expect((await set.call({ text: "near(red mug, blue" })).ok).toBe(false);
    expect(g.reward.counters.get("errors.bad_reward_spec")).toBe(1);
    expect((await set.call({ text: "put the golden teapot next to the table" })).ok).toBe(true);
    const before = g.reward.counters.get("rewards_out");
    g.perception.perception.reset();
    g.publishFrame(10);
    expect(g.reward.counters.get("errors.unknown_object")).toBe(1);
    expect(g.reward.counters.get("rewards_out")).toBe(before);
    await g.transport.shutdown();
  }, 60_000);
});

describe("diagnostics", () => {
  it("report the transport's per-topic counts and rates between two snapshots", async () => {
    const t = new InprocTransport();
    const node = t.createNode("diag_probe");
    const pub = t.createNode("talker").createPublisher<{ data: string }>("std_msgs/msg/String", "/chatter");
    node.createSubscription("std_msgs/msg/String", "/chatter", QOS_DEFAULT, () => {});
    const d = new DiagnosticsPublisher(node, "probe", new Counters());
    const value = (msg: ReturnType<typeof d.snapshot>, key: string) => msg.status[0].values.find((v) => v.key === key)?.value;
    d.snapshot(1_000_000_000n);
    for (let i = 0; i < 15; i++) pub.publish({ data: "x" });
    const second = d.snapshot(1_500_000_000n);
    expect(value(second, "transport.received./chatter")).toBe("15");
    expect(value(second, "rate_hz./chatter")).toBe("30.00");
    await t.shutdown();
  });

  it("keep the latency window to two significant digits (within 1%): a ring of a fifth of the three-digit one's memory", async () => {
    const t = new InprocTransport();
    const d = new DiagnosticsPublisher(t.createNode("diag_digits"), "probe", new Counters());
    expect(d.latency.footprintBytes).toBeLessThan(new LatencyStats({ windowMs: 10_000, significantDigits: 3 }).footprintBytes / 5);
    for (const ms of [0.7, 1.3, 2.9, 40]) d.latency.add(ms);
    const p50 = d.latency.percentile(50);
    expect(Math.abs(p50 - 1.3)).toBeLessThanOrEqual(1.3 * 1e-2);
    await t.shutdown();
  });
});

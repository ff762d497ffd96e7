import { describe, expect, it } from "vitest";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { QOS_DEFAULT, QOS_LATCHED } from "../../src/transport/qos.js";
import type { LogRecord } from "../../src/transport/logger.js";
import { rotateByQuaternion } from "../../src/geometry/quaternion.js";
import { toNanoseconds } from "../../src/time/ros_time.js";
import type * as M from "../../src/msgs/generated.js";
import { RgbdSensor, teleopScenario, worldAt } from "../../sim/index.js";
import { PerceptionNode } from "../../nodes/perception_node.js";
import { SpatialNode } from "../../nodes/spatial_node.js";
import { RewardNode } from "../../nodes/reward_node.js";
import { SimCameraNode } from "../../nodes/sim_camera_node.js";
import { SimDriver } from "../../nodes/sim_driver.js";
import { T } from "../../nodes/messages.js";

type Query = M.spatial_reward_msgs__srv__SpatialQuery_Request;
type Answer = M.spatial_reward_msgs__srv__SpatialQuery_Response;

/** The graph of `spatial-reward launch`, with every log record captured. */
function graph(options: { namespace?: string; rewardSpec?: string } = {}) {
  const scenario = teleopScenario(41, 40);
  const transport = new InprocTransport();
  const logs: LogRecord[] = [];
  transport.logSinks = [(r) => logs.push(r)];
  const ns = options.namespace ?? "/";
  const perception = new PerceptionNode(transport.createNode("perception", { namespace: ns }));
  const spatial = new SpatialNode(transport.createNode("spatial", { namespace: ns }));
  const reward = new RewardNode(transport.createNode("reward", {
    namespace: ns, parameterOverrides: { reward_spec: options.rewardSpec ?? scenario.episode.instruction },
  }));
  const sim = new SimCameraNode(transport.createNode("sim_camera", { namespace: ns }));
  const probe = transport.createNode("probe", { namespace: ns });
  const rewards: M.spatial_reward_msgs__msg__Reward[] = [];
  probe.createSubscription<M.spatial_reward_msgs__msg__Reward>(T.Reward, "reward", QOS_DEFAULT, (m) => rewards.push(m));
  const sensor = new RgbdSensor({ noise: "none", seed: 41 });
  let next = 0;
  let epochNs = 1_000_000_000n;
  const publishFrame = () => {
    const f = next++;
    const cap = sensor.capture(worldAt(scenario.world, scenario.episode.poses[f % 40]), scenario.camera, epochNs + BigInt(f) * 33_333_333n);
    sim.publish(cap.frame, cap.truth);
    return cap;
  };
  /** A rosbag loop: stamps start over from `ns`. */
  const restartStamps = (ns: bigint) => {
    epochNs = ns - BigInt(next) * 33_333_333n;
  };
  const query = probe.createClient<Query, Answer>(T.SpatialQuery, "spatial_query");
  return { scenario, transport, logs, perception, spatial, reward, probe, rewards, publishFrame, restartStamps, query };
}

const diagValue = (d: M.diagnostic_msgs__msg__DiagnosticArray, key: string) => d.status[0].values.find((v) => v.key === key)?.value;

describe("one bad message never stops the graph (in-process transport)", () => {
  it("an exception that is not a SpatialRewardError inside a subscription is counted as errors.internal, logged, and the next frame is rewarded", async () => {
    const g = graph();
    g.publishFrame();
    expect(g.rewards).toHaveLength(1);
    // Malformed message objects: what a buggy in-process publisher can hand over.
    const rgb = g.probe.createPublisher<unknown>(T.Image, "camera/color/image_raw");
    rgb.publish({ header: null });
    const scenes = g.probe.createPublisher<unknown>(T.SceneObjects, "scene/objects");
    scenes.publish({ header: { stamp: { sec: 1, nanosec: 0 }, frame_id: "x" }, objects: null, has_support: false, support_z: 0 });
    const question = g.probe.createPublisher<unknown>(T.String, "spatial/question");
    question.publish({});
    expect(g.perception.perception.counters.get("errors.internal")).toBe(1);
    expect(g.reward.counters.get("errors.internal")).toBe(1);
    expect(g.spatial.counters.get("errors.internal")).toBe(1);
    // A question message without text is not a bug but bad input: typed.
    expect(g.spatial.counters.get("errors.bad_argument")).toBe(1);
    // Counted, not rethrown: the transport saw no failing callback.
    expect(g.transport.counters.get("callback_errors")).toBe(0);
    // The graph goes on.
    g.publishFrame();
    expect(g.rewards).toHaveLength(2);
    // Logged at ERROR with the node's name; visible in /diagnostics at level ERROR.
    expect(g.logs.some((r) => r.level === "error" && r.name === "perception" && /unexpected TypeError/.test(r.message))).toBe(true);
    const d = g.perception.diagnostics.snapshot(5_000_000_000n);
    expect(d.status[0].level).toBe(2);
    expect(diagValue(d, "errors.internal")).toBe("1");
    expect(d.status[0].message).toMatch(/unexpected TypeError/);
    // The next snapshot with nothing new is back to OK.
    expect(g.perception.diagnostics.snapshot(6_000_000_000n).status[0].level).toBe(0);
    await g.transport.shutdown();
  });

  it("a scene graph with a non-finite centre is refused as bad_scene by spatial and reward, which keep their last good scene", async () => {
    const g = graph();
    g.publishFrame();
    const pub = g.probe.createPublisher<M.spatial_reward_msgs__msg__SceneObjects>(T.SceneObjects, "scene/objects");
    const nan = (x: number) => ({ x, y: 0, z: 0 });
    pub.publish({
      header: { stamp: { sec: 9, nanosec: 0 }, frame_id: "spatial" }, has_support: true, support_z: 0,
      objects: [{ id: "mug#1", kind: "mug", color: "red", center: nan(NaN), size: nan(0.1), confidence: 1, num_points: 10 }],
    });
    expect(g.spatial.counters.get("errors.bad_scene")).toBe(1);
    expect(g.reward.counters.get("errors.bad_scene")).toBe(1);
    expect(g.rewards).toHaveLength(1);
    // Questions are still answered from the last good scene, not from the NaN one.
    const a = (await g.query.call({ question: `How tall is the ${g.scenario.world.objects[0].color} ${g.scenario.world.objects[0].kind}?`, source: "", stream: "" })).answer;
    expect(toNanoseconds(a.header.stamp)).toBe(1_000_000_000n);
    expect(diagValue(g.reward.diagnostics.snapshot(), "errors.bad_scene")).toBe("1");
    expect(g.logs.some((r) => r.level === "warn" && r.name === "reward" && /bad_scene/.test(r.message))).toBe(true);
    await g.transport.shutdown();
  });

  it("the spatial_query service always answers: a megabyte question gets status error, bounded echo, and is counted", async () => {
    const g = graph();
    g.publishFrame();
    const huge = "how far is the red mug from ".repeat(40_000);
    const a = (await g.query.call({ question: huge, source: "", stream: "" })).answer;
    expect(a.status).toBe(5);
    expect(a.question.length).toBeLessThan(1100);
    expect(a.text.length).toBeLessThan(400);
    expect(g.spatial.counters.get("answers.error")).toBe(1);
    expect(g.spatial.counters.get("errors.input_too_long")).toBe(1);
    await g.transport.shutdown();
  });

  it("specs nested 5000 and 100 deep are refused over the service (input_too_long, bad_reward_spec); the old spec keeps scoring", async () => {
    const g = graph();
    g.publishFrame();
    const set = g.probe.createClient<M.spatial_reward_msgs__srv__SetRewardSpec_Request, M.spatial_reward_msgs__srv__SetRewardSpec_Response>(T.SetRewardSpec, "set_reward_spec");
    const nested = (depth: number) => `${"all(".repeat(depth)}near(a, b)${")".repeat(depth)}`;
    for (const depth of [5000, 100]) {
      const r = await set.call({ text: nested(depth) });
      expect(r.ok).toBe(false);
      expect(r.message.length).toBeLessThan(400);
    }
    expect(g.reward.counters.get("errors.input_too_long")).toBe(1);
    expect(g.reward.counters.get("errors.bad_reward_spec")).toBe(1);
    expect(g.reward.counters.get("errors.internal")).toBe(0);
    g.publishFrame();
    expect(g.rewards).toHaveLength(2);
    await g.transport.shutdown();
  });

  it("a bad reward_spec at start-up: typed, counted, logged at ERROR, ERROR on /diagnostics until a good spec arrives", async () => {
    const g = graph({ rewardSpec: "near(red mug, blue" });
    expect(g.reward.counters.get("errors.bad_reward_spec")).toBe(1);
    expect(g.logs.some((r) => r.level === "error" && r.name === "reward" && /reward_spec parameter was refused/.test(r.message))).toBe(true);
    g.publishFrame();
    expect(g.rewards).toHaveLength(0);
    expect(g.reward.counters.get("dropped.no_reward_spec")).toBe(1);
    const d = g.reward.diagnostics.snapshot();
    expect(d.status[0].level).toBe(2);
    expect(d.status[0].message).toMatch(/reward_spec parameter refused/);
    // `ros2 param set` with another bad spec is refused with the reason; a good one is taken.
    expect(() => g.reward.node.setParameter("reward_spec", "lift(")).toThrow(/lift/);
    expect(g.reward.counters.get("errors.bad_reward_spec")).toBe(2);
    expect(g.reward.node.getParameter("reward_spec")).toBe("near(red mug, blue");
    expect(g.reward.diagnostics.snapshot().status[0].level).toBe(2);
    g.reward.node.setParameter("reward_spec", g.scenario.episode.instruction);
    g.publishFrame();
    expect(g.rewards).toHaveLength(1);
    expect(g.reward.diagnostics.snapshot().status[0].level).toBe(0);
    // "" clears the task: the parameter and what the node scores never disagree.
    g.reward.node.setParameter("reward_spec", "");
    g.publishFrame();
    expect(g.rewards).toHaveLength(1);
    expect(g.reward.counters.get("dropped.no_reward_spec")).toBe(2);
    await g.transport.shutdown();
  });

  it("a rosbag loop (stamps start over) costs a couple of frames, is logged, and rewards resume", async () => {
    const g = graph();
    // A 99 s recording played twice.
    g.restartStamps(100_000_000_000n);
    for (let f = 0; f < 5; f++) g.publishFrame();
    expect(g.rewards).toHaveLength(5);
    g.restartStamps(1_000_000_000n);
    for (let f = 0; f < 6; f++) g.publishFrame();
    const lost = 11 - g.rewards.length;
    expect(lost).toBeGreaterThan(0);
    expect(lost).toBeLessThanOrEqual(2);
    expect(g.perception.perception.counters.get("stamp_jump.adopted.rgb")).toBe(1);
    expect(g.logs.some((r) => r.level === "warn" && r.name === "perception" && /stamps jumped back/.test(r.message))).toBe(true);
    await g.transport.shutdown();
  });

  it("a clock step forward costs 2 frames, not the synchroniser's and perception's confirmations one after the other", async () => {
    const g = graph();
    for (let f = 0; f < 5; f++) g.publishFrame();
    g.restartStamps(3_600_000_000_000n);
    for (let f = 0; f < 6; f++) g.publishFrame();
    expect(11 - g.rewards.length).toBe(2);
    expect(g.logs.filter((r) => /stamps jumped ahead/.test(r.message))).toHaveLength(1);
    await g.transport.shutdown();
  });

  it("bad camera_info is counted once per message, and frames keep the last good intrinsics", async () => {
    const g = graph();
    g.publishFrame();
    const info = g.probe.createPublisher<M.sensor_msgs__msg__CameraInfo>(T.CameraInfo, "camera/color/camera_info");
    const k = [0, 0, 320, 0, 0, 240, 0, 0, 1];
    info.publish({
      header: { stamp: { sec: 1, nanosec: 0 }, frame_id: "cam" }, height: 480, width: 640, distortion_model: "plumb_bob",
      d: [], k, r: [], p: [], binning_x: 0, binning_y: 0, roi: { x_offset: 0, y_offset: 0, height: 0, width: 0, do_rectify: false },
    });
    expect(g.perception.perception.counters.get("errors.bad_intrinsics")).toBe(1);
    // The simulator's next frame re-sends good camera_info first; the frame is processed.
    g.publishFrame();
    expect(g.rewards).toHaveLength(2);
    expect(g.perception.perception.counters.get("errors.bad_intrinsics")).toBe(1);
    await g.transport.shutdown();
  });
});

describe("ROS conventions of the nodes", () => {
  it("perception publishes camera → spatial on /tf with a namespaced child frame; the transform maps scene boxes back onto the image", async () => {
    const g = graph({ namespace: "/cam0" });
    const tfs: M.tf2_msgs__msg__TFMessage[] = [];
    g.probe.createSubscription<M.tf2_msgs__msg__TFMessage>(T.TFMessage, "/tf", QOS_DEFAULT, (m) => tfs.push(m));
    const scenes: M.spatial_reward_msgs__msg__SceneObjects[] = [];
    g.probe.createSubscription<M.spatial_reward_msgs__msg__SceneObjects>(T.SceneObjects, "scene/objects", QOS_DEFAULT, (m) => scenes.push(m));
    const cap = g.publishFrame();
    expect(tfs).toHaveLength(1);
    const tf = tfs[0].transforms[0];
    expect(tf.header.frame_id).toBe("camera_color_optical_frame");
    expect(tf.child_frame_id).toBe("cam0/spatial");
    expect(scenes[0].header.frame_id).toBe("cam0/spatial");
    expect(g.rewards[0].header.frame_id).toBe("cam0/spatial");
    expect(toNanoseconds(tf.header.stamp)).toBe(cap.frame.stamp);
    // Each object's centre, taken into the camera frame by the published transform, projects
    // inside that object's instance mask extent.
    const k = cap.frame.intrinsics;
    const mask = cap.frame.instances!;
    for (const o of scenes[0].objects) {
      const p = rotateByQuaternion(tf.transform.rotation, o.center);
      const u = Math.round(k.fx * (p.x / p.z) + k.cx), v = Math.round(k.fy * (p.y / p.z) + k.cy);
      const ids = [...mask.labels.entries()].filter(([, kind]) => kind === o.kind).map(([id]) => id);
      let near = false;
      for (let dv = -6; dv <= 6 && !near; dv++) {
        for (let du = -6; du <= 6 && !near; du++) {
          const uu = u + du, vv = v + dv;
          if (uu >= 0 && vv >= 0 && uu < k.width && vv < k.height && ids.includes(mask.image.data[vv * mask.image.step + uu])) near = true;
        }
      }
      expect(near, `${o.id} projects to (${u}, ${v})`).toBe(true);
    }
    await g.transport.shutdown();
  });

  it("use_sim_time: the simulator publishes /clock from its simulated time and nodes stamp diagnostics with it", async () => {
    const t = new InprocTransport();
    t.logSinks = [];
    const sim = new SimDriver(t.createNode("sim_camera", { parameterOverrides: { use_sim_time: true, rate_hz: 10, frames: 30, noise: "none" } }));
    const reward = new RewardNode(t.createNode("reward", { parameterOverrides: { use_sim_time: true } }));
    const clocks: bigint[] = [];
    t.createNode("probe").createSubscription<M.rosgraph_msgs__msg__Clock>(T.Clock, "/clock", QOS_LATCHED, (m) => clocks.push(toNanoseconds(m.clock)));
    expect(toNanoseconds(reward.diagnostics.snapshot().header.stamp)).toBe(0n);
    sim.step();
    sim.step();
    sim.step();
    expect(clocks).toEqual([0n, 100_000_000n, 200_000_000n]);
    expect(toNanoseconds(reward.diagnostics.snapshot().header.stamp)).toBe(200_000_000n);
    // Without use_sim_time the node's clock is the system clock.
    const wall = new RewardNode(t.createNode("reward", { namespace: "/wall" }));
    const now = BigInt(Date.now()) * 1_000_000n;
    expect(Number(toNanoseconds(wall.diagnostics.snapshot().header.stamp) - now) / 1e9).toBeLessThan(5);
    await t.shutdown();
  });

  it("log lines say what changed: camera_info received, the spec set, the task satisfied", async () => {
    const g = graph();
    for (let f = 0; f < 40; f++) g.publishFrame();
    const lines = g.logs.map((r) => `[${r.level}] [${r.name}]: ${r.message}`);
    expect(lines.some((l) => /^\[info\] \[perception\]: camera_info received: 640x480/.test(l))).toBe(true);
    expect(lines.some((l) => /^\[info\] \[reward\]: reward spec set from reward_spec parameter: /.test(l))).toBe(true);
    expect(lines.some((l) => /^\[info\] \[spatial\]: first scene graph received/.test(l))).toBe(true);
    if (g.rewards.some((r) => r.success)) expect(lines.some((l) => /^\[info\] \[reward\]: task satisfied/.test(l))).toBe(true);
    await g.transport.shutdown();
  });
});

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DdsTransport } from "../../src/transport/dds/dds_transport.js";
import { QOS_DEFAULT, QOS_LATCHED, QOS_SENSOR_DATA, type QoS } from "../../src/transport/qos.js";
import type { Publisher, TransportNode } from "../../src/transport/port.js";
import { fromNanoseconds, toNanoseconds } from "../../src/time/ros_time.js";
import type * as M from "../../src/msgs/generated.js";
import { RgbdSensor, teleopScenario, worldAt } from "../../sim/index.js";
import { cameraMessages, type CameraMessages } from "../../nodes/sim_camera_node.js";
import { T } from "../../nodes/messages.js";
import { DDS_AVAILABLE, LOOPBACK_CONFIG, until } from "../dds/dds_env.js";

/**
 * Every hostile case of issue 7 sent over DDS, as a hostile peer would, to the node graph
 * running as its own process (`spatial-reward launch … --backend dds`, masks in /m, detections
 * in /d): the process must survive all of it, count every rejection, raise no unexpected
 * exception, and reward the next valid frame each time.
 */
const root = fileURLToPath(new URL("../..", import.meta.url));
const cli = join(root, "dist", "nodes", "cli", "main.js");
const DOMAIN = 57;
const RELIABLE: QoS = { ...QOS_SENSOR_DATA, reliability: "reliable", history: "keep_all" };
const PERIOD_NS = 33_333_333n;

type Query = M.spatial_reward_msgs__srv__SpatialQuery_Request;
type Answer = M.spatial_reward_msgs__srv__SpatialQuery_Response;
type SetSpec = M.spatial_reward_msgs__srv__SetRewardSpec_Request;
type SetSpecAnswer = M.spatial_reward_msgs__srv__SetRewardSpec_Response;

interface Camera {
  ns: "/m" | "/d";
  node: TransportNode;
  info: Publisher<M.sensor_msgs__msg__CameraInfo>;
  rgb: Publisher<M.sensor_msgs__msg__Image>;
  depth: Publisher<M.sensor_msgs__msg__Image>;
  masks: Publisher<M.spatial_reward_msgs__msg__InstanceMasks>;
  detections: Publisher<M.vision_msgs__msg__Detection2DArray>;
  rewards: bigint[];
}

function restamp(m: CameraMessages, stampNs: bigint): CameraMessages {
  const header = { stamp: fromNanoseconds(stampNs), frame_id: "camera_color_optical_frame" };
  return {
    info: { ...m.info, header }, rgb: { ...m.rgb, header }, depth: { ...m.depth, header },
    masks: m.masks && { ...m.masks, header, mask: { ...m.masks.mask, header } },
    detections: m.detections && { ...m.detections, header },
  };
}

describe.runIf(DDS_AVAILABLE && existsSync(cli))("hostile input over DDS to the node graph process", () => {
  const env = { ...process.env, CYCLONEDDS_URI: `file://${LOOPBACK_CONFIG}`, ROS_DOMAIN_ID: String(DOMAIN) };
  let graph: ChildProcess;
  let graphOut = "";
  let graphErr = "";
  let transport: DdsTransport;
  const cams: Record<"/m" | "/d", Camera> = {} as Record<"/m" | "/d", Camera>;
  const diagnostics = new Map<string, M.diagnostic_msgs__msg__DiagnosticStatus>();
  let base: CameraMessages;
  let stamp = 1_800_000_000_000_000_000n;

  const send = (cam: Camera, m: Partial<CameraMessages>) => {
    if (m.info) cam.info.publish(m.info);
    if (m.rgb) cam.rgb.publish(m.rgb);
    if (m.depth) cam.depth.publish(m.depth);
    if (cam.ns === "/m" && m.masks) cam.masks.publish(m.masks);
    if (cam.ns === "/d" && m.detections) cam.detections.publish(m.detections);
  };
  /** A valid frame on the clean timeline; resolves when its reward comes back. */
  const cleanFrame = async (cam: Camera, what: string) => {
    stamp += PERIOD_NS;
    const s = stamp;
    send(cam, restamp(base, s));
    await until(`${cam.ns} reward for the clean frame after ${what}`, () => cam.rewards.includes(s), what === "start-up" ? 60_000 : 15_000);
  };
  const hostileFrame = (cam: Camera, edit: (m: CameraMessages) => Partial<CameraMessages>) => {
    stamp += PERIOD_NS;
    send(cam, edit(restamp(base, stamp)));
  };

  beforeAll(async () => {
    const work = mkdtempSync(join(tmpdir(), "sr-hostile-"));
    const params = join(work, "graph.yaml");
    writeFileSync(params, [
      "/**:", "  ros__parameters:", "    diagnostics_period_ms: 300",
      "perception:", "  ros__parameters:", "    segmentation: masks", "    input_reliability: reliable",
      "/d/perception:", "  ros__parameters:", "    segmentation: detections",
      "spatial:", "  ros__parameters: {}",
      "reward:", "  ros__parameters:", "    reward_spec: \"\"",
    ].join("\n"));
    graph = spawn(process.execPath, [cli, "launch", params, "--backend", "dds", "--namespaces", "/m,/d", "--duration", "0", "--json"], { env, cwd: root });
    graph.stdout!.on("data", (c: Buffer) => (graphOut += c.toString()));
    graph.stderr!.on("data", (c: Buffer) => (graphErr += c.toString()));

    const scenario = teleopScenario(43, 30);
    const cap = new RgbdSensor({ noise: "none", seed: 43 }).capture(worldAt(scenario.world, scenario.episode.poses[0]), scenario.camera, 0n);
    base = cameraMessages(cap.frame, "camera_color_optical_frame");

    process.env.CYCLONEDDS_URI = env.CYCLONEDDS_URI;
    transport = new DdsTransport({ domainId: DOMAIN });
    transport.logSinks = [];
    for (const ns of ["/m", "/d"] as const) {
      const node = transport.createNode("hostile_peer", { namespace: ns });
      const cam: Camera = {
        ns, node,
        info: node.createPublisher(T.CameraInfo, "camera/color/camera_info", QOS_DEFAULT),
        rgb: node.createPublisher(T.Image, "camera/color/image_raw", RELIABLE),
        depth: node.createPublisher(T.Image, "camera/aligned_depth_to_color/image_raw", RELIABLE),
        masks: node.createPublisher(T.InstanceMasks, "camera/instances", RELIABLE),
        detections: node.createPublisher(T.Detection2DArray, "camera/detections", RELIABLE),
        rewards: [],
      };
      node.createSubscription<M.spatial_reward_msgs__msg__Reward>(T.Reward, "reward", QOS_DEFAULT, (r) => cam.rewards.push(toNanoseconds(r.header.stamp)));
      node.createPublisher<M.spatial_reward_msgs__msg__RewardSpec>(T.RewardSpec, "reward/spec", QOS_LATCHED)
        .publish({ header: { stamp: { sec: 0, nanosec: 0 }, frame_id: "" }, text: scenario.episode.instruction });
      cams[ns] = cam;
    }
    cams["/m"].node.createSubscription<M.diagnostic_msgs__msg__DiagnosticArray>(T.DiagnosticArray, "/diagnostics", QOS_DEFAULT, (d) => {
      for (const s of d.status) diagnostics.set(s.name.split(":")[0], s);
    });
    await until("the graph's subscriptions", () => ["/m", "/d"].every((ns) => {
      const c = cams[ns as "/m" | "/d"];
      return c.rgb.subscriptionCount() === 1 && c.depth.subscriptionCount() === 1 && (ns === "/m" ? c.masks : c.detections).subscriptionCount() === 1;
    }), 30_000);
    for (const cam of Object.values(cams)) await cleanFrame(cam, "start-up");
  }, 180_000);

  afterAll(async () => {
    await transport?.shutdown();
    if (graph && graph.exitCode === null) graph.kill("SIGKILL");
  });

  it("survives every hostile case, counts each, and rewards the next valid frame", async () => {
    const m = cams["/m"], d = cams["/d"];
    const w = base.rgb.width, h = base.rgb.height;

    // 1. Padded rows whose last row's padding is missing (rgb and depth).
    hostileFrame(m, (f) => {
      const step = f.depth.step + 8;
      const data = new Uint8Array(step * (h - 1) + w * 4);
      for (let v = 0; v < h; v++) data.set(f.depth.data.subarray(v * f.depth.step, v * f.depth.step + w * 4), v * step);
      return { ...f, depth: { ...f.depth, step, data } };
    });
    await cleanFrame(m, "a padded depth image");
    // 2. Constant depth: a wall seen head-on.
    hostileFrame(m, (f) => ({ ...f, depth: { ...f.depth, data: new Uint8Array(new Float32Array(w * h).fill(1.2).buffer) } }));
    await cleanFrame(m, "a constant-depth frame");
    await cleanFrame(m, "a constant-depth frame (second)");
    // 3. One frame an hour in the future; then nanosec = 1e9.
    hostileFrame(m, (f) => restamp(f, stamp + 3_600_000_000_000n));
    await cleanFrame(m, "a frame stamped an hour ahead");
    hostileFrame(m, (f) => {
      const header = { stamp: { sec: Number(stamp / 1_000_000_000n), nanosec: 1_000_000_000 }, frame_id: "cam" };
      return { ...f, rgb: { ...f.rgb, header }, depth: { ...f.depth, header } };
    });
    await cleanFrame(m, "nanosec = 1e9");
    // 4. 200 full-frame boxes; then a NaN box among good ones (that frame itself is rewarded).
    hostileFrame(d, (f) => ({ ...f, detections: { ...f.detections!, detections: Array.from({ length: 200 }, () => ({ ...f.detections!.detections[0], bbox: { center: { position: { x: w / 2, y: h / 2 }, theta: 0 }, size_x: w, size_y: h } })) } }));
    await cleanFrame(d, "200 full-frame boxes");
    hostileFrame(d, (f) => ({ ...f, detections: { ...f.detections!, detections: [...f.detections!.detections, { ...f.detections!.detections[0], bbox: { center: { position: { x: NaN, y: 10 }, theta: 0 }, size_x: NaN, size_y: 5 } }] } }));
    const nanBoxStamp = stamp;
    await until("reward for the frame with a NaN box", () => d.rewards.includes(nanBoxStamp), 15_000);
    // 5. Camera info of zeros: counted once per message (not per frame after it), frames keep the
    // last good intrinsics. The perception node reads camera_info best-effort (as drivers publish
    // it), so under load one sample can be lost on the way: sent again until /diagnostics counts it.
    const badIntrinsics = () => Number(diagnostics.get("/m/perception")?.values.find((v) => v.key.endsWith("errors.bad_intrinsics"))?.value ?? 0);
    let badInfosSent = 0;
    for (let t0 = Date.now(); badIntrinsics() === 0;) {
      if (Date.now() - t0 > 15_000) throw new Error(`bad camera_info not counted on /diagnostics after ${badInfosSent} sent`);
      m.info.publish({ ...base.info, k: new Array<number>(9).fill(0) });
      badInfosSent++;
      await until("bad_intrinsics on /diagnostics", () => badIntrinsics() > 0, 1500).catch(() => undefined);
    }
    hostileFrame(m, (f) => ({ rgb: f.rgb, depth: f.depth, masks: f.masks }));
    await cleanFrame(m, "zero intrinsics");
    // 6. Scene graphs with NaN centres straight onto scene/objects.
    const scenePub = m.node.createPublisher<M.spatial_reward_msgs__msg__SceneObjects>(T.SceneObjects, "scene/objects", QOS_DEFAULT);
    await until("scene/objects match", () => scenePub.subscriptionCount() === 2);
    scenePub.publish({
      header: { stamp: fromNanoseconds(stamp), frame_id: "m/spatial" }, has_support: true, support_z: 0,
      objects: [{ id: "mug#1", kind: "mug", color: "red", center: { x: NaN, y: 0, z: 0 }, size: { x: 0.1, y: 0.1, z: 0.1 }, confidence: 1, num_points: 10 }],
    });
    await cleanFrame(m, "a NaN scene graph");
    // 7. Distinct 16 MB questions over the service and the topic: each answered, memory bounded.
    const query = m.node.createClient<Query, Answer>(T.SpatialQuery, "spatial_query");
    for (let i = 0; i < 4; i++) {
      const a = (await query.call({ question: `${i} how far is the mug from the bowl? `.repeat(450_000), source: "", stream: "" }, 30_000)).answer;
      expect(a.status).toBe(5);
      expect(a.question.length).toBeLessThan(1100);
    }
    const questionPub = m.node.createPublisher<M.std_msgs__msg__String>(T.String, "spatial/question", QOS_DEFAULT);
    const answers: M.spatial_reward_msgs__msg__SpatialAnswer[] = [];
    m.node.createSubscription<M.spatial_reward_msgs__msg__SpatialAnswer>(T.SpatialAnswer, "spatial/answer", QOS_DEFAULT, (a) => answers.push(a));
    await until("question topic match", () => questionPub.subscriptionCount() === 1);
    questionPub.publish({ data: "x".repeat(16_000_000) });
    await until("an answer to the 16 MB question", () => answers.length === 1, 30_000);
    expect(answers[0].status).toBe(5);
    // 8. A spec nested 5000 deep: the service answers, ok = false.
    const setSpec = m.node.createClient<SetSpec, SetSpecAnswer>(T.SetRewardSpec, "set_reward_spec");
    const refused = await setSpec.call({ text: `${"all(".repeat(5000)}near(a, b)${")".repeat(5000)}` }, 15_000);
    expect(refused.ok).toBe(false);
    await cleanFrame(m, "a 5000-deep spec");
    // 9. A peer publishing another type on a camera topic.
    const other = new DdsTransport({ domainId: DOMAIN });
    other.logSinks = [];
    const wrong = other.createNode("wrong_type_peer", { namespace: "/m" }).createPublisher<M.std_msgs__msg__String>(T.String, "camera/color/image_raw", QOS_DEFAULT);
    wrong.publish({ data: "not an image" });
    const mismatches = () => Number(diagnostics.get("/m/perception")?.values.find((v) => v.key.endsWith("errors.type_mismatch"))?.value ?? 0);
    await until("type mismatch on /diagnostics", () => mismatches() > 0, 10_000);
    await other.shutdown();
    await cleanFrame(m, "a wrong-type peer");

    // The process lived through all of it.
    expect(graph.exitCode, graphErr.slice(-2000)).toBeNull();
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${graph.pid}/status`, "utf8"))?.[1]);
    expect(rssKb / 1024, "graph RSS (MB) after 80 MB of questions").toBeLessThan(1024);
    // /diagnostics shows what was refused, per node.
    const perceptionDiag = diagnostics.get("/m/perception")!;
    expect(perceptionDiag.values.find((v) => v.key === "errors.bad_stamp")?.value).toBeDefined();

    graph.kill("SIGTERM");
    await until("graph exit", () => graph.exitCode !== null, 15_000);
    expect(graph.exitCode, graphErr.slice(-2000)).toBe(0);
    const summary = JSON.parse(graphOut.trim().split("\n").pop()!) as {
      counters: Record<string, { perception: Record<string, number>; spatial: Record<string, number>; reward: Record<string, number> }>;
    };
    const cm = summary.counters["/m"], cd = summary.counters["/d"];
    for (const c of [cm.perception, cm.spatial, cm.reward, cd.perception, cd.spatial, cd.reward]) expect(c["errors.internal"] ?? 0).toBe(0);
    expect(cm.perception["errors.no_support_plane"]).toBeGreaterThanOrEqual(1);
    expect(cm.perception["errors.bad_stamp"]).toBeGreaterThanOrEqual(1);
    // At most once per bad camera_info sent (the frames after it do not count again).
    expect(cm.perception["errors.bad_intrinsics"]).toBeGreaterThanOrEqual(1);
    expect(cm.perception["errors.bad_intrinsics"]).toBeLessThanOrEqual(badInfosSent);
    expect(cd.perception["errors.detection_budget"]).toBe(1);
    expect(cd.perception["dropped.bad_detection"]).toBe(1);
    expect(cm.spatial["errors.bad_scene"]).toBe(1);
    expect(cm.reward["errors.bad_scene"]).toBe(1);
    expect(cm.spatial["errors.input_too_long"]).toBe(5);
    expect(cm.reward["errors.input_too_long"]).toBe(1);
    // No log line reported an unexpected exception.
    expect(graphErr).not.toMatch(/\[ERROR\].*unexpected/);
  }, 240_000);
});

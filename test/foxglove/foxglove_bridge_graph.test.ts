import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SceneUpdate } from "@foxglove/schemas";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { closeGraph, launchGraph, type LaunchedGraph } from "../../nodes/graph_launcher.js";
import { FoxgloveBridge } from "../../nodes/foxglove/foxglove_bridge.js";
import { objectLabel } from "../../nodes/foxglove/scene_update.js";
import { T } from "../../nodes/messages.js";
import { CdrCodec } from "../../src/msgs/cdr_codec.js";
import type * as M from "../../src/msgs/generated.js";
import { ros2Schema } from "../../src/record/ros2msg_schema.js";
import { toNanoseconds } from "../../src/time/ros_time.js";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { QOS_DEFAULT, QOS_SENSOR_DATA } from "../../src/transport/qos.js";
import { TestClient, waitUntil } from "./foxglove_test_client.js";

/**
 * The tabletop graph of `spatial-reward launch` (simulator at 30 Hz, perception, spatial,
 * reward) with the Foxglove bridge, watched by the protocol's own client library over a real
 * WebSocket on 127.0.0.1: what a client receives on the image, depth, scene-box, truth-box,
 * reward and task channels is decoded and compared with what the graph published in-process
 * at the same stamp (bytes for images, values for scenes and rewards) and with the simulator's
 * ground truth (box count and centres within tolerance).
 */
const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const sha = (b: Uint8Array) => createHash("sha1").update(b).digest("hex");
const stampKey = (t: M.builtin_interfaces__msg__Time) => toNanoseconds(t);

let transport: InprocTransport;
let graph: LaunchedGraph;
let bridge: FoxgloveBridge;
// What the graph published, seen by an in-process subscriber, by stamp.
const images = new Map<bigint, string>();
const depths = new Map<bigint, string>();
const scenes = new Map<bigint, M.spatial_reward_msgs__msg__SceneObjects>();
const truths = new Map<bigint, M.spatial_reward_msgs__msg__SceneObjects>();
const rewards = new Map<bigint, M.spatial_reward_msgs__msg__Reward>();

beforeAll(async () => {
  transport = new InprocTransport();
  transport.logSinks = [];
  const doc = parse(readFileSync(join(root, "launch/params/tabletop.yaml"), "utf8")) as Record<string, { ros__parameters: Record<string, unknown> }>;
  const witness = transport.createNode("witness");
  witness.createSubscription<M.sensor_msgs__msg__Image>(T.Image, "camera/color/image_raw", QOS_SENSOR_DATA, (m) => images.set(stampKey(m.header.stamp), sha(m.data)));
  witness.createSubscription<M.sensor_msgs__msg__Image>(T.Image, "camera/aligned_depth_to_color/image_raw", QOS_SENSOR_DATA, (m) => depths.set(stampKey(m.header.stamp), sha(m.data)));
  witness.createSubscription<M.spatial_reward_msgs__msg__SceneObjects>(T.SceneObjects, "scene/objects", QOS_DEFAULT, (m) => scenes.set(stampKey(m.header.stamp), structuredClone(m)));
  witness.createSubscription<M.spatial_reward_msgs__msg__SceneObjects>(T.SceneObjects, "sim/truth", QOS_DEFAULT, (m) => truths.set(stampKey(m.header.stamp), structuredClone(m)));
  witness.createSubscription<M.spatial_reward_msgs__msg__Reward>(T.Reward, "reward", QOS_DEFAULT, (m) => rewards.set(stampKey(m.header.stamp), structuredClone(m)));
  bridge = await FoxgloveBridge.start(transport, { port: 0 });
  graph = launchGraph(transport, doc);
});

afterAll(async () => {
  await bridge?.close();
  if (graph) await closeGraph(graph);
  await transport?.shutdown();
});

describe("Foxglove bridge on the tabletop graph", () => {
  it("listens on 127.0.0.1 and subscribes to nothing until a client asks", () => {
    expect(bridge.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(bridge.port).toBeGreaterThan(0);
    expect(bridge.subscribedTopics()).toEqual([]);
  });

  it("advertises the live topics with their schemas", async () => {
    const client = await TestClient.connect(bridge.url);
    try {
      const image = client.channel("/camera/color/image_raw");
      expect(image).toMatchObject({ encoding: "cdr", schemaName: "sensor_msgs/msg/Image", schemaEncoding: "ros2msg" });
      expect(image.schema).toBe(new TextDecoder().decode(ros2Schema(T.Image).data));
      for (const [topic, type] of [
        ["/camera/aligned_depth_to_color/image_raw", T.Image], ["/camera/color/camera_info", T.CameraInfo], ["/scene/objects", T.SceneObjects],
        ["/spatial/answer", T.SpatialAnswer], ["/spatial/question", T.String], ["/reward", T.Reward], ["/reward/spec", T.RewardSpec],
        ["/backbone/progress", T.Reward], ["/tf", T.TFMessage], ["/diagnostics", T.DiagnosticArray], ["/sim/truth", T.SceneObjects],
      ] as const) {
        expect(client.channel(topic), topic).toMatchObject({ encoding: "cdr", schemaName: type, schemaEncoding: "ros2msg" });
      }
      for (const topic of ["/scene/objects/boxes", "/sim/truth/boxes"]) {
        const c = client.channel(topic);
        expect(c).toMatchObject({ encoding: "json", schemaName: "foxglove.SceneUpdate", schemaEncoding: "jsonschema" });
        expect((JSON.parse(c.schema) as { title: string }).title).toBe("foxglove.SceneUpdate");
      }
      expect(client.channels.size).toBe(14);
    } finally {
      await client.close();
    }
  });

  it("streams images, scene boxes, rewards and the task that decode to what the graph published", async () => {
    const client = await TestClient.connect(bridge.url);
    try {
      const topics = ["/camera/color/image_raw", "/camera/aligned_depth_to_color/image_raw", "/scene/objects/boxes", "/sim/truth/boxes", "/reward"];
      const subs = topics.map((t) => client.subscribe(t));
      expect(await waitUntil(() => topics.every((t) => client.messages(t).length >= 6), 30_000), JSON.stringify(bridge.counters.snapshot())).toBe(true);
      // The task is latched: a client subscribing long after it was published still gets it.
      client.subscribe("/reward/spec");
      expect(await waitUntil(() => client.messages("/reward/spec").length >= 1, 5000)).toBe(true);
      const instruction = graph.sim!.scenario.episode.instruction;
      const spec = new CdrCodec(T.RewardSpec).decode(client.messages("/reward/spec")[0].data);
      expect(spec.text).toBe(instruction);

      const imageCodec = new CdrCodec(T.Image);
      for (const [topic, seen, encoding, bpp] of [
        ["/camera/color/image_raw", images, "rgb8", 3], ["/camera/aligned_depth_to_color/image_raw", depths, "32FC1", 4],
      ] as const) {
        let compared = 0;
        for (const r of client.messages(topic)) {
          const img = imageCodec.decode(r.data);
          expect({ w: img.width, h: img.height, encoding: img.encoding, step: img.step, n: img.data.length }).toEqual({ w: 640, h: 480, encoding, step: 640 * bpp, n: 640 * 480 * bpp });
          const want = seen.get(stampKey(img.header.stamp));
          expect(want, `${topic}: stamp ${stampKey(img.header.stamp)} never published`).toBeDefined();
          expect(sha(img.data), topic).toBe(want);
          compared++;
        }
        expect(compared).toBeGreaterThanOrEqual(6);
      }

      const rewardCodec = new CdrCodec(T.Reward);
      for (const r of client.messages("/reward")) {
        const m = rewardCodec.decode(r.data);
        const want = rewards.get(stampKey(m.header.stamp));
        expect(want).toBeDefined();
        expect({ reward: m.reward, progress: m.progress, success: m.success, spec: m.spec }).toEqual({ reward: want!.reward, progress: want!.progress, success: want!.success, spec: want!.spec });
        expect(m.progress).toBeGreaterThanOrEqual(0);
        expect(m.progress).toBeLessThanOrEqual(1);
      }

      // Perceived boxes: exactly the scene graph perception published at that stamp, and within
      // tolerance of the simulator's ground truth (every object seen, centres within 6 cm).
      let checked = 0;
      for (const r of client.messages("/scene/objects/boxes")) {
        const update = JSON.parse(new TextDecoder().decode(r.data)) as SceneUpdate;
        expect(update.deletions).toHaveLength(1);
        const stamp = BigInt(update.deletions[0].timestamp.sec) * 1_000_000_000n + BigInt(update.deletions[0].timestamp.nsec);
        const scene = scenes.get(stamp);
        const truth = truths.get(stamp);
        expect(scene, `scene at ${stamp}`).toBeDefined();
        expect(truth, `truth at ${stamp}`).toBeDefined();
        expect(update.entities.map((e) => e.id)).toEqual(scene!.objects.map((o) => o.id));
        for (const [i, e] of update.entities.entries()) {
          const o = scene!.objects[i];
          expect(e.frame_id).toBe(scene!.header.frame_id);
          expect(e.cubes).toHaveLength(1);
          expect(e.cubes[0].pose.position).toEqual(o.center);
          expect(e.cubes[0].size).toEqual(o.size);
          expect(e.texts[0].text).toBe(objectLabel(o));
        }
        expect(update.entities.length).toBe(truth!.objects.length);
        for (const t of truth!.objects) {
          const near = update.entities.map((e) => e.cubes[0].pose.position)
            .map((p) => Math.hypot(p.x - t.center.x, p.y - t.center.y, p.z - t.center.z))
            .reduce((a, b) => Math.min(a, b), Infinity);
          expect(near, `${t.id} at ${stamp}`).toBeLessThan(0.06);
        }
        checked++;
      }
      expect(checked).toBeGreaterThanOrEqual(6);

      // The truth boxes are the simulator's own scene, exactly.
      for (const r of client.messages("/sim/truth/boxes")) {
        const update = JSON.parse(new TextDecoder().decode(r.data)) as SceneUpdate;
        const stamp = BigInt(update.deletions[0].timestamp.sec) * 1_000_000_000n + BigInt(update.deletions[0].timestamp.nsec);
        const truth = truths.get(stamp)!;
        expect(update.entities.map((e) => [e.id, e.cubes[0].pose.position, e.cubes[0].size])).toEqual(truth.objects.map((o) => [o.id, o.center, o.size]));
      }

      // Unsubscribed: the bridge leaves the transport topics and sends nothing more.
      for (const s of subs) client.unsubscribe(s);
      expect(await waitUntil(() => bridge.subscribedTopics().filter((t) => t !== "/reward/spec").length === 0, 5000), bridge.subscribedTopics().join()).toBe(true);
      const sent = bridge.counters.get("sent./camera/color/image_raw");
      await new Promise((r) => setTimeout(r, 300));
      expect(bridge.counters.get("sent./camera/color/image_raw")).toBe(sent);
      // Nothing lost silently: with this one client subscribed, every frame the bridge sent
      // either arrives or was counted as dropped for it (it shares the event loop with the graph
      // here, so it may fall behind now and then).
      const accounted = (t: string) => client.messages(t).length + bridge.counters.get(`dropped.${t}.slow_client`) + bridge.counters.get(`dropped.${t}.closed`);
      await waitUntil(() => topics.every((t) => accounted(t) >= bridge.counters.get(`sent.${t}`)), 10_000);
      for (const t of topics) expect(accounted(t), t).toBe(bridge.counters.get(`sent.${t}`));
    } finally {
      await client.close();
    }
    // The last client gone, the bridge holds no subscription at all.
    expect(await waitUntil(() => bridge.subscribedTopics().length === 0, 5000)).toBe(true);
  }, 60_000);
});

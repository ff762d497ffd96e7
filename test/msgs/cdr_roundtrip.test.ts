import { describe, expect, it } from "vitest";
import { CdrCodec } from "../../src/msgs/cdr_codec.js";
import type { MessageTypeName, MessageTypes } from "../../src/msgs/generated.js";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { QOS_DEFAULT } from "../../src/transport/qos.js";
import { RgbdSensor, teleopScenario, worldAt } from "../../sim/index.js";
import { Perception } from "../../src/perception/perception.js";
import { answerQuestion } from "../../src/spatial/answer_question.js";
import { answerToMsg, rewardToMsg, sceneToDetection3D, sceneToMsg, T } from "../../nodes/messages.js";
import { SimCameraNode } from "../../nodes/sim_camera_node.js";
import { DiagnosticsPublisher } from "../../nodes/diagnostics_publisher.js";
import { Counters } from "../../src/diagnostics/counters.js";

/**
 * Typed arrays and plain arrays compare by content; numbers at float32 precision (float32
 * fields such as confidence lose the rest on the wire, by design); everything else structurally.
 */
function normalize(v: unknown): unknown {
  if (typeof v === "number") return Math.fround(v);
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>, (x) => (typeof x === "number" ? Math.fround(x) : x));
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  return v;
}

function roundTrip<K extends MessageTypeName>(type: K, msg: MessageTypes[K]): void {
  const codec = new CdrCodec(type);
  const bytes = codec.encode(msg);
  expect(bytes.byteLength).toBe(codec.byteSize(msg));
  expect(normalize(codec.decode(bytes))).toEqual(normalize(msg));
}

describe("CDR round trip of every message the nodes send (generated types = wire format)", () => {
  it("camera topics, scenes, answers, rewards and diagnostics survive CDR encoding unchanged", () => {
    const sc = teleopScenario(21, 30);
    const cap = new RgbdSensor({ noise: "realsense", seed: 21 }).capture(worldAt(sc.world, sc.episode.poses[0]), sc.camera, 1_234_567_890_123n);
    // What the simulator camera node publishes, captured off the in-process bus.
    const transport = new InprocTransport();
    const sim = new SimCameraNode(transport.createNode("sim_camera"));
    const probe = transport.createNode("probe");
    const seen: Partial<Record<MessageTypeName, unknown[]>> = {};
    for (const [type, topic] of [
      [T.Image, "camera/color/image_raw"], [T.CameraInfo, "camera/color/camera_info"], [T.InstanceMasks, "camera/instances"],
      [T.Detection2DArray, "camera/detections"], [T.SceneObjects, "sim/truth"],
    ] as const) {
      probe.createSubscription(type, topic, QOS_DEFAULT, (m) => (seen[type] ??= []).push(m));
    }
    sim.publish(cap.frame, cap.truth);
    for (const [type, msgs] of Object.entries(seen) as [MessageTypeName, unknown[]][]) {
      expect(msgs.length).toBeGreaterThan(0);
      for (const m of msgs) roundTrip(type, m as never);
    }

    const scene = new Perception().process({ ...cap.frame, detections: undefined });
    roundTrip(T.SceneObjects, sceneToMsg(scene, "spatial"));
    roundTrip(T.Detection3DArray, sceneToDetection3D(scene, "spatial"));
    const a = answerQuestion(scene, `How tall is the ${scene.objects[0].color} ${scene.objects[0].kind}?`);
    roundTrip(T.SpatialAnswer, answerToMsg(a, scene.stamp, "spatial"));
    roundTrip(T.Reward, rewardToMsg({ stamp: scene.stamp, reward: -0.25, progress: 0.4, success: false, residual: 0.25 }, "near(a, b, 0.05)", "spatial"));
    roundTrip("spatial_reward_msgs/srv/SpatialQuery_Request", { question: "How far is the mug from the bowl?", source: "backbone", stream: "cam1/camera" });
    const counters = new Counters();
    counters.inc("frames_in", 3);
    roundTrip(T.DiagnosticArray, new DiagnosticsPublisher(transport.createNode("diag"), "test", counters).snapshot(5n));
    void transport.shutdown();
  }, 60_000);

  it("keeps non-ASCII text byte-exact (the CDR library alone truncates it)", () => {
    const codec = new CdrCodec(T.String);
    for (const data of ["héllo", "rotate 90°", "把杯子放在碗旁边", "emoji 🍵 mug", ""]) {
      const bytes = codec.encode({ data });
      expect(codec.decode(bytes).data).toBe(data);
      // uint32 length counts UTF-8 bytes plus the terminating NUL.
      expect(new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true)).toBe(new TextEncoder().encode(data).length + 1);
      expect(codec.decode(codec.encode({ data }, new ArrayBuffer(codec.byteSize({ data })))).data).toBe(data);
    }
  });

  it("detects a payload of the wrong type instead of decoding garbage silently", () => {
    const bytes = new CdrCodec(T.String).encode({ data: "hello" });
    expect(() => new CdrCodec(T.Image).decode(bytes)).toThrow();
  });
});

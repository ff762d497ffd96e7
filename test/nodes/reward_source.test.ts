import { afterEach, describe, expect, it } from "vitest";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { QOS_DEFAULT, QOS_SENSOR_DATA } from "../../src/transport/qos.js";
import type { LogRecord } from "../../src/transport/logger.js";
import type { SpatialRewardError } from "../../src/errors.js";
import { TINY_CONFIG } from "../../src/backbone/config.js";
import type * as M from "../../src/msgs/generated.js";
import type { ParameterValue } from "../../src/transport/parameters.js";
import { toNanoseconds } from "../../src/time/ros_time.js";
import { RewardNode } from "../../nodes/reward_node.js";
import { BackboneNode, type BackboneFrameTiming, type BackboneRuntimePort } from "../../nodes/backbone_node.js";
import { BACKBONE_PROGRESS_TOPIC, T, sceneToMsg } from "../../nodes/messages.js";
import { DIAGNOSTIC_LEVEL } from "../../nodes/diagnostics_publisher.js";

/**
 * The reward node's `reward_source`: engine (default, unchanged) or backbone (the model's
 * progress from backbone/progress republished on `reward`). Hostile progress (non-finite, out
 * of range, wrong types, bad, repeated, older and far-jumping stamps) is refused by code and
 * never published; a backbone that never publishes is WARN on /diagnostics; an invalid source
 * is refused at start and by a parameter set.
 */

type Reward = M.spatial_reward_msgs__msg__Reward;
const SPEC = "near(red mug, blue bowl, 0.05)";

let transports: InprocTransport[] = [];
afterEach(async () => {
  for (const t of transports) await t.shutdown();
  transports = [];
});

function graph(params: Record<string, ParameterValue> = {}) {
  const transport = new InprocTransport();
  transports.push(transport);
  const logs: LogRecord[] = [];
  transport.logSinks = [(r) => logs.push(r)];
  const reward = new RewardNode(transport.createNode("reward", { parameterOverrides: { diagnostics_period_ms: 0, reward_spec: SPEC, ...params } }));
  const probe = transport.createNode("probe");
  const rewards: Reward[] = [];
  probe.createSubscription<Reward>(T.Reward, "reward", QOS_DEFAULT, (m) => rewards.push(m));
  const progressPub = probe.createPublisher<Reward>(T.Reward, BACKBONE_PROGRESS_TOPIC, QOS_DEFAULT);
  const progress = (p: unknown, sec: number, patch: Record<string, unknown> = {}) => progressPub.publish({
    header: { stamp: { sec, nanosec: 0 }, frame_id: "cam_optical" }, spec: "", reward: Number(p) - 1, progress: p, success: Number(p) >= 0.9, residual: NaN, ...patch,
  } as Reward);
  const scenes = probe.createPublisher<M.spatial_reward_msgs__msg__SceneObjects>(T.SceneObjects, "scene/objects");
  const scene = (sec: number, mugX = 1) => scenes.publish(sceneToMsg({
    stamp: BigInt(sec) * 1_000_000_000n,
    supportZ: 0,
    objects: [
      { id: "mug#1", kind: "mug", color: "red", center: { x: mugX, y: 0.2, z: 0.05 }, size: { x: 0.08, y: 0.08, z: 0.1 }, confidence: 1, numPoints: 100 },
      { id: "bowl#1", kind: "bowl", color: "blue", center: { x: 1, y: -0.1, z: 0.04 }, size: { x: 0.15, y: 0.15, z: 0.08 }, confidence: 1, numPoints: 100 },
    ],
  }, "spatial"));
  const status = () => reward.diagnostics.snapshot().status[0];
  const value = (key: string) => status().values.find((v) => v.key === key)?.value;
  return { transport, logs, reward, rewards, progress, scene, status, value };
}

describe("reward_source engine (the default)", () => {
  it("computes rewards from scenes as before, never subscribes to backbone/progress, says engine on /diagnostics", () => {
    const g = graph();
    expect(g.reward.rewardSource).toBe("engine");
    g.scene(1);
    g.progress(0.5, 1);
    expect(g.rewards).toHaveLength(1);
    expect(g.rewards[0].residual).toBeGreaterThan(0);
    expect(g.rewards[0].spec).toBe(SPEC);
    expect(g.reward.node.counters().get(`received./${BACKBONE_PROGRESS_TOPIC}`)).toBe(0);
    expect(g.value("reward_source")).toBe("engine");
    expect(g.status().level).toBe(DIAGNOSTIC_LEVEL.OK);
  });
});

describe("reward_source backbone", () => {
  it("publishes the model's progress under its own spec, in the backbone's header; scenes are counted, not used; said once", () => {
    const g = graph({ reward_source: "backbone" });
    expect(g.reward.rewardSource).toBe("backbone");
    g.scene(1);
    g.progress(0.25, 2, { spec: "whatever the backbone thought", reward: 123, residual: 7 });
    g.progress(0.95, 3);
    expect(g.rewards).toHaveLength(2);
    const [a, b] = g.rewards;
    expect([a.progress, a.reward, a.success, a.spec]).toEqual([0.25, 0.25 - 1, false, SPEC]);
    expect(Number.isNaN(a.residual)).toBe(true);
    expect([b.progress, b.success]).toEqual([0.95, true]);
    expect(toNanoseconds(a.header.stamp)).toBe(2_000_000_000n);
    expect(a.header.frame_id).toBe("cam_optical");
    expect(g.reward.counters.get("dropped.reward_source_backbone")).toBe(1);
    expect(g.reward.counters.get("progress_in")).toBe(2);
    expect(g.reward.counters.get("rewards_out")).toBe(2);
    expect(g.logs.filter((l) => l.message.startsWith("reward_source backbone:"))).toHaveLength(1);
    expect(g.logs.some((l) => l.message.startsWith("task satisfied"))).toBe(true);
    expect(g.value("reward_source")).toBe("backbone");
    expect(g.status().level).toBe(DIAGNOSTIC_LEVEL.OK);
    expect(g.status().message).toContain("reward_source backbone: the reward is the backbone model's progress");
  });

  it("hostile progress is refused by code and never published; each clean message after it is", () => {
    const g = graph({ reward_source: "backbone" });
    let sec = 10;
    const clean = () => g.progress(0.5, ++sec);
    clean();
    const hostile: [string, () => void][] = [
      ["bad_message", () => g.progress(Number.NaN, sec + 1)],
      ["bad_message", () => g.progress(Number.POSITIVE_INFINITY, sec + 1)],
      ["bad_message", () => g.progress(Number.NEGATIVE_INFINITY, sec + 1)],
      ["bad_message", () => g.progress(-0.001, sec + 1)],
      ["bad_message", () => g.progress(1.0001, sec + 1)],
      ["bad_message", () => g.progress(1e308, sec + 1)],
      ["bad_message", () => g.progress("0.5", sec + 1)],
      ["bad_message", () => g.progress(0.5, sec + 1, { success: "yes" })],
      ["bad_message", () => g.progress(0.5, sec + 1, { header: null })],
      ["bad_stamp", () => g.progress(0.5, sec + 1, { header: { stamp: { sec: 1, nanosec: 2e9 }, frame_id: "" } })],
      ["bad_stamp", () => g.progress(0.5, sec + 1, { header: { stamp: { sec: -1, nanosec: 0 }, frame_id: "" } })],
      ["bad_stamp", () => g.progress(0.5, sec + 1, { header: { stamp: null, frame_id: "" } })],
      // Stale: the same stamp again, then one older than the last published.
      ["out_of_order_stamp", () => g.progress(0.5, sec)],
      ["out_of_order_stamp", () => g.progress(0.5, sec - 1)],
      // One stray stamp an hour ahead costs only itself.
      ["out_of_order_stamp", () => g.progress(0.5, sec + 3600)],
    ];
    const published: number[] = [];
    for (const [code, send] of hostile) {
      const before = g.reward.counters.get(`errors.${code}`);
      const n = g.rewards.length;
      send();
      expect(g.rewards.length, code).toBe(n);
      expect(g.reward.counters.get(`errors.${code}`), code).toBe(before + 1);
      clean();
      expect(g.rewards.length, `clean after ${code}`).toBe(n + 1);
      published.push(Number(toNanoseconds(g.rewards[n].header.stamp) / 1_000_000_000n));
    }
    // Every reward out is a finite progress in [0, 1], in increasing stamp order.
    expect(g.rewards.every((r) => r.progress === 0.5 && r.reward === -0.5)).toBe(true);
    expect(published).toEqual([...published].sort((x, y) => x - y));
    expect(g.reward.counters.get("stamp_jump.ahead")).toBe(1);
    expect(g.reward.counters.get("errors.internal")).toBe(0);
    expect(g.status().level).toBe(DIAGNOSTIC_LEVEL.WARN);
  });

  it("a new timeline (a bag loop) is adopted after 3 agreeing messages, as perception does", () => {
    const g = graph({ reward_source: "backbone" });
    g.progress(0.1, 1000);
    for (const s of [10, 11]) g.progress(0.2, s);
    expect(g.rewards).toHaveLength(1);
    expect(g.reward.counters.get("stamp_jump.back")).toBe(2);
    g.progress(0.3, 12);
    expect(g.rewards.map((r) => r.progress)).toEqual([0.1, 0.3]);
    expect(g.reward.counters.get("stamp_jump.adopted")).toBe(1);
  });

  it("without a task the progress is dropped as no_reward_spec, as scenes are", () => {
    const g = graph({ reward_source: "backbone", reward_spec: "" });
    g.progress(0.5, 1);
    expect(g.rewards).toHaveLength(0);
    expect(g.reward.counters.get("dropped.no_reward_spec")).toBe(1);
  });

  it("a backbone that never publishes is WARN 'no backbone progress received'; progress clears it; silence past the timeout raises it again", async () => {
    const g = graph({ reward_source: "backbone", backbone_progress_timeout_ms: 40 });
    expect(g.status().level).toBe(DIAGNOSTIC_LEVEL.WARN);
    expect(g.status().message).toMatch(/^no backbone progress received on backbone\/progress since reward_source became backbone/);
    g.progress(0.5, 1);
    expect(g.status().level).toBe(DIAGNOSTIC_LEVEL.OK);
    await new Promise((r) => setTimeout(r, 80));
    expect(g.status().level).toBe(DIAGNOSTIC_LEVEL.WARN);
    expect(g.status().message).toMatch(/^no backbone progress received on backbone\/progress for 0\.\d s/);
    expect(Number(g.value("backbone_progress_age_ms"))).toBeGreaterThanOrEqual(40);
  });
});

describe("reward_source as a parameter", () => {
  it("an invalid value at start does not start the node", () => {
    const t = new InprocTransport();
    transports.push(t);
    expect(() => new RewardNode(t.createNode("reward", { parameterOverrides: { reward_source: "model" } })))
      .toThrow('reward: reward_source must be "engine" or "backbone", got "model"');
    expect(() => new RewardNode(t.createNode("reward", { namespace: "/b", parameterOverrides: { backbone_progress_timeout_ms: 0 } })))
      .toThrow(/backbone_progress_timeout_ms must be an integer in 1\.\.3600000/);
  });

  it("`ros2 param set` of an invalid value fails with the reason and changes nothing; valid values switch both ways", () => {
    const g = graph();
    expect(() => g.reward.node.setParameter("reward_source", "Backbone")).toThrow(/reward_source must be "engine" or "backbone", got "Backbone"/);
    expect(g.reward.rewardSource).toBe("engine");
    expect(g.reward.node.getParameter("reward_source")).toBe("engine");
    expect(g.reward.counters.get("errors.bad_argument")).toBe(1);
    expect(() => g.reward.node.setParameter("backbone_progress_timeout_ms", -5)).toThrow(/backbone_progress_timeout_ms/);

    g.reward.node.setParameter("reward_source", "backbone");
    expect(g.reward.rewardSource).toBe("backbone");
    expect(g.value("reward_source")).toBe("backbone");
    g.progress(0.4, 1);
    g.scene(2);
    expect(g.rewards.map((r) => r.progress)).toEqual([0.4]);

    g.reward.node.setParameter("reward_source", "engine");
    expect(g.reward.rewardSource).toBe("engine");
    g.progress(0.6, 3);
    g.scene(4);
    expect(g.rewards).toHaveLength(2);
    expect(Number.isNaN(g.rewards[1].residual)).toBe(false);
    // Unsubscribed again: the backbone's later messages are not even received.
    expect(g.reward.node.counters().get(`received./${BACKBONE_PROGRESS_TOPIC}`)).toBe(1);
    const switches = g.logs.filter((l) => l.message.startsWith("reward_source "));
    expect(switches.map((l) => l.message.split(":")[0])).toEqual(["reward_source backbone", "reward_source engine"]);
  });
});

describe("backbone node → reward node", () => {
  it("a frame through a progress-head model becomes the reward of that frame", async () => {
    const transport = new InprocTransport();
    transports.push(transport);
    const runtime: BackboneRuntimePort = {
      config: { ...TINY_CONFIG, progress_head: true },
      addStream: () => undefined,
      pushFrame: async (): Promise<BackboneFrameTiming> => ({
        encodeMs: 1, preprocessMs: 0, projectMs: 0, prefillMs: 1, totalMs: 2, visualTokens: 4, keptFraction: 1, queueMs: 0, batch: 1, superseded: false, progress: 0.625,
      }),
      ask: async () => ({ text: "", tokenIds: [], prefillMs: 0, tokenMs: 0, trained: false }),
      close: async () => undefined,
      onFailure: (_cb: (e: SpatialRewardError) => void) => undefined,
      setQuestion: () => undefined,
    };
    const backbone = new BackboneNode(transport.createNode("backbone", { parameterOverrides: { model_path: "/m" } }), { openRuntime: async () => runtime });
    await backbone.ready;
    const reward = new RewardNode(transport.createNode("reward", { parameterOverrides: { reward_source: "backbone", reward_spec: SPEC } }));
    const probe = transport.createNode("probe");
    const rewards: Reward[] = [];
    probe.createSubscription<Reward>(T.Reward, "reward", QOS_DEFAULT, (m) => rewards.push(m));
    probe.createPublisher<M.sensor_msgs__msg__Image>(T.Image, "camera/color/image_raw", QOS_SENSOR_DATA).publish({
      header: { stamp: { sec: 42, nanosec: 7 }, frame_id: "cam_optical" },
      height: 4, width: 6, encoding: "rgb8", is_bigendian: 0, step: 18, data: new Uint8Array(72),
    });
    await new Promise((r) => setTimeout(r, 0));
    expect(rewards).toHaveLength(1);
    expect([rewards[0].progress, rewards[0].reward, rewards[0].spec]).toEqual([0.625, 0.625 - 1, SPEC]);
    expect(toNanoseconds(rewards[0].header.stamp)).toBe(42_000_000_007n);
    expect(reward.counters.get("rewards_out")).toBe(1);
  });
});

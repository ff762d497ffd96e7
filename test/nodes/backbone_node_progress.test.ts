import { afterEach, describe, expect, it } from "vitest";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { QOS_DEFAULT, QOS_LATCHED, QOS_SENSOR_DATA } from "../../src/transport/qos.js";
import type { LogRecord } from "../../src/transport/logger.js";
import type { SpatialRewardError } from "../../src/errors.js";
import { TINY_CONFIG, type BackboneConfig } from "../../src/backbone/config.js";
import type * as M from "../../src/msgs/generated.js";
import {
  BackboneNode, type BackboneAnswerResult, type BackboneFrameTiming, type BackboneRuntimePort,
} from "../../nodes/backbone_node.js";
import { BACKBONE_PROGRESS_TOPIC, T } from "../../nodes/messages.js";
import { toNanoseconds } from "../../src/time/ros_time.js";
import type { ParameterValue } from "../../src/transport/parameters.js";
import type { Publisher } from "../../src/transport/port.js";

/**
 * The backbone node's progress topic against a runtime double whose frames carry scripted
 * progress-head values: what is published on backbone/progress (header, mapping, threshold,
 * spec from reward/spec), for which stream, and what a model without a head or a broken head
 * gives (nothing published, said and counted once / refused and counted per frame).
 */

type Reward = M.spatial_reward_msgs__msg__Reward;

/** A runtime double: each pushed frame settles with the next scripted progress value (undefined = the field absent). */
class ProgressRuntime implements BackboneRuntimePort {
  readonly frames: string[] = [];
  constructor(readonly config: BackboneConfig, readonly progress: (number | undefined)[]) {}
  addStream(): void {}
  pushFrame(stream: string): Promise<BackboneFrameTiming> {
    const i = this.frames.length;
    this.frames.push(stream);
    const t: BackboneFrameTiming = {
      encodeMs: 1, preprocessMs: 0.1, projectMs: 0, prefillMs: 1, totalMs: 2, visualTokens: 4, keptFraction: 1, queueMs: 0, batch: 1, superseded: false,
    };
    const p = this.progress[i % this.progress.length];
    return Promise.resolve(p === undefined ? t : { ...t, progress: p });
  }
  async ask(): Promise<BackboneAnswerResult> {
    return { text: "", tokenIds: [], prefillMs: 0, tokenMs: 0, trained: false };
  }
  async close(): Promise<void> {}
  onFailure(_cb: (e: SpatialRewardError) => void): void {}
  setQuestion(): void {}
}

const HEAD: BackboneConfig = { ...TINY_CONFIG, progress_head: true };

let transports: InprocTransport[] = [];
afterEach(async () => {
  for (const t of transports) await t.shutdown();
  transports = [];
});

async function graph(runtime: ProgressRuntime, params: Record<string, ParameterValue> = {}) {
  const transport = new InprocTransport();
  transports.push(transport);
  const logs: LogRecord[] = [];
  transport.logSinks = [(r) => logs.push(r)];
  const backbone = new BackboneNode(
    transport.createNode("backbone", { parameterOverrides: { diagnostics_period_ms: 0, model_path: "/models/m", ...params } }),
    { openRuntime: async () => runtime },
  );
  await backbone.ready;
  const probe = transport.createNode("probe");
  const progress: Reward[] = [];
  probe.createSubscription<Reward>(T.Reward, BACKBONE_PROGRESS_TOPIC, QOS_DEFAULT, (m) => progress.push(m));
  const pubs = new Map<string, Publisher<M.sensor_msgs__msg__Image>>();
  const frame = async (sec: number, topic = "camera/color/image_raw", frameId = "cam_optical") => {
    let pub = pubs.get(topic);
    if (!pub) pubs.set(topic, (pub = probe.createPublisher<M.sensor_msgs__msg__Image>(T.Image, topic, QOS_SENSOR_DATA)));
    pub.publish({
      header: { stamp: { sec, nanosec: 500 }, frame_id: frameId },
      height: 4, width: 6, encoding: "rgb8", is_bigendian: 0, step: 18, data: new Uint8Array(72),
    });
    await new Promise((r) => setTimeout(r, 0));
  };
  const spec = probe.createPublisher<M.spatial_reward_msgs__msg__RewardSpec>(T.RewardSpec, "reward/spec", QOS_LATCHED);
  return { transport, logs, backbone, progress, frame, spec };
}

describe("backbone/progress", () => {
  it("publishes each finished frame's head value as a Reward: the frame's header, reward = progress − 1, success at the threshold, residual NaN", async () => {
    const g = await graph(new ProgressRuntime(HEAD, [0.2, 0.89, 0.9, 0.97]));
    for (let s = 1; s <= 4; s++) await g.frame(s);
    expect(g.progress.map((m) => m.progress)).toEqual([0.2, 0.89, 0.9, 0.97]);
    expect(g.progress.map((m) => m.reward)).toEqual([0.2 - 1, 0.89 - 1, 0.9 - 1, 0.97 - 1]);
    // The default threshold is 0.9, inclusive.
    expect(g.progress.map((m) => m.success)).toEqual([false, false, true, true]);
    expect(g.progress.every((m) => Number.isNaN(m.residual))).toBe(true);
    expect(g.progress.map((m) => toNanoseconds(m.header.stamp))).toEqual([1, 2, 3, 4].map((s) => BigInt(s) * 1_000_000_000n + 500n));
    expect(g.progress.every((m) => m.header.frame_id === "cam_optical")).toBe(true);
    // No task latched yet: the spec is "".
    expect(g.progress.every((m) => m.spec === "")).toBe(true);
    expect(g.backbone.counters.get("progress_out")).toBe(4);
    expect(g.backbone.counters.get("progress.none")).toBe(0);
    const values = g.backbone.diagnostics.snapshot().status[0].values;
    expect(values.find((v) => v.key === "progress.last")?.value).toBe("0.9700");
    expect(g.logs.filter((l) => l.message.includes(`published on ${BACKBONE_PROGRESS_TOPIC}`))).toHaveLength(1);
  });

  it("names the task latched on reward/spec; a task text over 4096 characters is refused and the last good one stays", async () => {
    const g = await graph(new ProgressRuntime(HEAD, [0.5]));
    g.spec.publish({ header: { stamp: { sec: 0, nanosec: 0 }, frame_id: "" }, text: "put the red mug next to the blue bowl" });
    await g.frame(1);
    g.spec.publish({ header: { stamp: { sec: 0, nanosec: 0 }, frame_id: "" }, text: "x".repeat(5000) });
    await g.frame(2);
    expect(g.progress.map((m) => m.spec)).toEqual(["put the red mug next to the blue bowl", "put the red mug next to the blue bowl"]);
    expect(g.backbone.counters.get("errors.input_too_long")).toBe(1);
  });

  it("follows the first stream only; the other streams' frames are processed but publish no progress", async () => {
    const rt = new ProgressRuntime(HEAD, [0.3]);
    const g = await graph(rt, { streams: ["camera", "/cam1/camera"] });
    await g.frame(1, "/cam1/camera/color/image_raw", "cam1_optical");
    await g.frame(1, "camera/color/image_raw", "cam0_optical");
    await g.frame(2, "/cam1/camera/color/image_raw", "cam1_optical");
    expect(rt.frames).toEqual(["/cam1/camera", "camera", "/cam1/camera"]);
    expect(g.progress.map((m) => m.header.frame_id)).toEqual(["cam0_optical"]);
  });

  it("progress_success_threshold moves success; a value outside (0, 1] does not start the node", async () => {
    const g = await graph(new ProgressRuntime(HEAD, [0.5, 0.6]), { progress_success_threshold: 0.55 });
    await g.frame(1);
    await g.frame(2);
    expect(g.progress.map((m) => m.success)).toEqual([false, true]);
    const t = new InprocTransport();
    transports.push(t);
    for (const [i, bad] of [0, -0.1, 1.01].entries()) {
      expect(() => new BackboneNode(t.createNode("backbone", { namespace: `/bad${i}`, parameterOverrides: { progress_success_threshold: bad } })))
        .toThrow(/progress_success_threshold must be a number in \(0, 1\], got/);
    }
    // NaN is refused by the parameter layer itself, before the node sees it.
    expect(() => new BackboneNode(t.createNode("backbone", { namespace: "/nan", parameterOverrides: { progress_success_threshold: Number.NaN } })))
      .toThrow(/progress_success_threshold/);
  });

  it("a model without a progress head publishes nothing there: said once in the log, counted once, however many frames", async () => {
    const g = await graph(new ProgressRuntime(TINY_CONFIG, [undefined]));
    for (let s = 1; s <= 5; s++) await g.frame(s);
    expect(g.backbone.counters.get("frames_done")).toBe(5);
    expect(g.progress).toHaveLength(0);
    expect(g.backbone.counters.get("progress.none")).toBe(1);
    const said = g.logs.filter((l) => l.message.includes(`nothing is published on ${BACKBONE_PROGRESS_TOPIC}`));
    expect(said).toHaveLength(1);
    expect(said[0].message).toContain("has no progress head");
    // Not an error: the node is healthy.
    expect(g.backbone.diagnostics.snapshot().status[0].level).toBe(0);
    expect(g.transport.createNode("probe2").counters().get(`published./${BACKBONE_PROGRESS_TOPIC}`)).toBe(0);
  });

  it("a head that gives NaN publishes nothing (counted and logged once); non-finite or out-of-range values are refused per frame, the next good one goes out", async () => {
    const g = await graph(new ProgressRuntime(HEAD, [Number.NaN, Number.NaN, Number.POSITIVE_INFINITY, -0.01, 1.5, Number.NEGATIVE_INFINITY, 0.4]));
    for (let s = 1; s <= 7; s++) await g.frame(s);
    expect(g.backbone.counters.get("frames_done")).toBe(7);
    expect(g.progress.map((m) => m.progress)).toEqual([0.4]);
    expect(toNanoseconds(g.progress[0].header.stamp)).toBe(7_000_000_500n);
    expect(g.backbone.counters.get("progress.none")).toBe(1);
    expect(g.logs.filter((l) => l.message.includes("gave no progress for a frame (NaN)"))).toHaveLength(1);
    expect(g.backbone.counters.get("dropped.bad_progress")).toBe(4);
    expect(g.backbone.counters.get("errors.bad_model")).toBe(4);
    expect(g.backbone.diagnostics.snapshot().status[0].level).toBe(1);
  });

  it("without a model nothing is subscribed or published for progress", async () => {
    const t = new InprocTransport();
    transports.push(t);
    const b = new BackboneNode(t.createNode("backbone", { parameterOverrides: { model_path: "" } }));
    await b.ready;
    expect(b.state).toBe("idle");
    expect(b.counters.get("progress.none")).toBe(0);
    const spec = t.createNode("probe").createPublisher<M.spatial_reward_msgs__msg__RewardSpec>(T.RewardSpec, "reward/spec", QOS_LATCHED);
    spec.publish({ header: { stamp: { sec: 0, nanosec: 0 }, frame_id: "" }, text: "x" });
    expect(b.node.counters().get("received./reward/spec")).toBe(0);
  });
});

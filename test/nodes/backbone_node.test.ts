import { afterEach, describe, expect, it } from "vitest";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { QOS_DEFAULT, QOS_SENSOR_DATA } from "../../src/transport/qos.js";
import type { LogRecord } from "../../src/transport/logger.js";
import { InvalidInputError, ModelError, SpatialRewardError } from "../../src/errors.js";
import { TINY_CONFIG, type BackboneConfig } from "../../src/backbone/config.js";
import { SpatialAnswerStatus } from "../../src/msgs/generated.js";
import type * as M from "../../src/msgs/generated.js";
import {
  BackboneNode, MAX_PENDING_QUESTIONS, type BackboneAnswerResult, type BackboneFrameTiming, type BackboneImage,
  type BackboneOpenOptions, type BackboneRuntimePort,
} from "../../nodes/backbone_node.js";
import { SpatialNode } from "../../nodes/spatial_node.js";
import { T, sceneToMsg } from "../../nodes/messages.js";
import { DIAGNOSTIC_LEVEL } from "../../nodes/diagnostics_publisher.js";
import type { ParameterValue } from "../../src/transport/parameters.js";
import type { Publisher } from "../../src/transport/port.js";

/**
 * The backbone node against a test double of the runtime (FakeBackboneRuntime below): what is
 * under test here is the node — parameters, states, refusals, counters, diagnostics, the answer
 * it builds, forwarding through the spatial node — not inference, which
 * backbone_node_runtime.test.ts runs end to end with the real worker.
 */

type Query = M.spatial_reward_msgs__srv__SpatialQuery_Request;
type Reply = M.spatial_reward_msgs__srv__SpatialQuery_Response;
type Answer = M.spatial_reward_msgs__msg__SpatialAnswer;

/** A stand-in for BackboneRuntime: records what the node asks of it, answers with scripted text and timings. */
class FakeBackboneRuntime implements BackboneRuntimePort {
  readonly streams: string[] = [];
  readonly frames: { stream: string; width: number }[] = [];
  readonly asks: { stream: string; question: string; maxTokens?: number }[] = [];
  closed = false;
  /** When set, ask() waits for release() (to hold questions in flight). */
  hold = false;
  /** Frames per batch the fake reports (the real runtime batches waiting frames of several streams). */
  batch = 1;
  private held: (() => void)[] = [];
  private frameNo = 0;
  private failureListeners: ((e: SpatialRewardError) => void)[] = [];
  private pendingFrames: ((e: Error) => void)[] = [];
  /** When set, pushFrame() never settles until the fake dies (a frame in flight). */
  holdFrames = false;

  constructor(readonly config: BackboneConfig, readonly reply: string, readonly tokens = 5, readonly tokenMs = 0.5) {}

  addStream(name: string): void {
    this.streams.push(name);
  }

  pushFrame(stream: string, image: BackboneImage): Promise<BackboneFrameTiming> {
    // What the real runtime does with an image it cannot use: a typed rejection.
    if (image.encoding === "yuv422") return Promise.reject(new InvalidInputError("bad_encoding", "encoding \"yuv422\" not supported"));
    this.frames.push({ stream, width: image.width });
    if (this.holdFrames) return new Promise((_, reject) => this.pendingFrames.push(reject));
    const i = this.frameNo++;
    return Promise.resolve({
      encodeMs: 2 + i, preprocessMs: 0.2, projectMs: 0.5, prefillMs: 1 + i, totalMs: 4 + 2 * i, visualTokens: 49, keptFraction: 0.65, queueMs: 0.1,
      batch: this.batch, superseded: false,
    });
  }

  onFailure(cb: (e: SpatialRewardError) => void): void {
    this.failureListeners.push(cb);
  }

  readonly questionsSet: { stream: string; question: string | null }[] = [];
  setQuestion(stream: string, question: string | null): void {
    this.questionsSet.push({ stream, question });
  }

  /** What the real runtime does when its worker exits: rejects what is in flight, then tells its listeners. */
  die(e: SpatialRewardError): void {
    for (const r of this.pendingFrames.splice(0)) r(e);
    for (const cb of this.failureListeners) cb(e);
  }

  async ask(stream: string, question: string, opts?: { maxTokens?: number }): Promise<BackboneAnswerResult> {
    this.asks.push({ stream, question, maxTokens: opts?.maxTokens });
    if (this.hold) await new Promise<void>((r) => this.held.push(r));
    return { text: this.reply, tokenIds: Array.from({ length: this.tokens }, (_, k) => k + 3), prefillMs: 3, tokenMs: this.tokenMs, trained: this.config.trained };
  }

  release(): void {
    for (const r of this.held.splice(0)) r();
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

const TRAINED: BackboneConfig = { ...TINY_CONFIG, trained: true };

let transports: InprocTransport[] = [];
afterEach(async () => {
  for (const t of transports) await t.shutdown();
  transports = [];
});

interface GraphOptions {
  params?: Record<string, ParameterValue>;
  runtime?: FakeBackboneRuntime;
  open?: (o: BackboneOpenOptions) => Promise<BackboneRuntimePort>;
  noBackbone?: boolean;
  spatialParams?: Record<string, ParameterValue>;
}

function graph(o: GraphOptions = {}) {
  const transport = new InprocTransport();
  transports.push(transport);
  const logs: LogRecord[] = [];
  transport.logSinks = [(r) => logs.push(r)];
  const opened: BackboneOpenOptions[] = [];
  const open = o.open ?? (async () => o.runtime ?? new FakeBackboneRuntime(TINY_CONFIG, "noise"));
  const backbone = o.noBackbone ? null : new BackboneNode(
    transport.createNode("backbone", { parameterOverrides: { diagnostics_period_ms: 0, model_path: "/models/tiny", ...o.params } }),
    { openRuntime: async (opts) => { opened.push(opts); return open(opts); } },
  );
  const spatial = new SpatialNode(transport.createNode("spatial", { parameterOverrides: { diagnostics_period_ms: 0, ...o.spatialParams } }));
  const probe = transport.createNode("probe");
  const answers: Answer[] = [];
  probe.createSubscription<Answer>(T.SpatialAnswer, "spatial/answer", QOS_DEFAULT, (a) => answers.push(a));
  const question = probe.createPublisher<M.std_msgs__msg__String>(T.String, "spatial/question");
  const query = probe.createClient<Query, Reply>(T.SpatialQuery, "spatial_query");
  const direct = probe.createClient<Query, Reply>(T.SpatialQuery, "backbone/spatial_query");
  const images = new Map<string, Publisher<M.sensor_msgs__msg__Image>>();
  const publishImage = (topic = "camera/color/image_raw", patch: Partial<M.sensor_msgs__msg__Image> = {}, sec = 100) => {
    let pub = images.get(topic);
    if (!pub) images.set(topic, (pub = probe.createPublisher<M.sensor_msgs__msg__Image>(T.Image, topic, QOS_SENSOR_DATA)));
    pub.publish({
      header: { stamp: { sec, nanosec: 0 }, frame_id: "camera_color_optical_frame" },
      height: 4, width: 6, encoding: "rgb8", is_bigendian: 0, step: 18, data: new Uint8Array(72), ...patch,
    });
  };
  const scenes = probe.createPublisher<M.spatial_reward_msgs__msg__SceneObjects>(T.SceneObjects, "scene/objects");
  const publishScene = () => scenes.publish(sceneToMsg({
    stamp: 5_000_000_000n,
    supportZ: 0,
    objects: [
      { id: "mug#1", kind: "mug", color: "red", center: { x: 1, y: 0.2, z: 0.05 }, size: { x: 0.08, y: 0.08, z: 0.1 }, confidence: 1, numPoints: 100 },
      { id: "bowl#1", kind: "bowl", color: "blue", center: { x: 1, y: -0.1, z: 0.04 }, size: { x: 0.15, y: 0.15, z: 0.08 }, confidence: 1, numPoints: 100 },
    ],
  }, "spatial"));
  const ask = async (question: unknown, source = "backbone", stream: unknown = "") =>
    (await query.call({ question, source, stream } as Query, 5000)).answer;
  const flush = () => new Promise((r) => setTimeout(r, 0));
  return { transport, logs, opened, backbone, spatial, probe, answers, question, query, direct, publishImage, publishScene, ask, flush };
}

/**
 * Runs `fn` and counts the scans of any string of `length` characters while it runs: charCodeAt
 * (a strip loop) and RegExp exec (every regex test/match/replace goes through it once it is replaced).
 */
async function scansOf(length: number, fn: () => Promise<void>): Promise<number> {
  const realCharCodeAt = String.prototype.charCodeAt;
  const realExec = RegExp.prototype.exec;
  let n = 0;
  String.prototype.charCodeAt = function (this: string, i: number): number {
    if (this.length === length) n++;
    return realCharCodeAt.call(this, i);
  };
  RegExp.prototype.exec = function (this: RegExp, str: string): RegExpExecArray | null {
    if (typeof str === "string" && str.length === length) n++;
    return realExec.call(this, str);
  };
  try {
    await fn();
  } finally {
    String.prototype.charCodeAt = realCharCodeAt;
    RegExp.prototype.exec = realExec;
  }
  return n;
}

const diag = (n: BackboneNode) => n.diagnostics.snapshot();
const diagValue = (d: M.diagnostic_msgs__msg__DiagnosticArray, key: string) => d.status[0].values.find((v) => v.key === key)?.value;

describe("backbone node without a model (model_path empty)", () => {
  it("idles: never opens a runtime, says so once at OK level, refuses backbone questions, and the engine keeps answering", async () => {
    const g = graph({ params: { model_path: "" } });
    await g.backbone!.ready;
    expect(g.backbone!.state).toBe("idle");
    expect(g.opened).toHaveLength(0);
    const idleLines = g.logs.filter((l) => l.message.includes("no model configured"));
    expect(idleLines).toHaveLength(1);
    expect(idleLines[0].level).toBe("info");
    const d = diag(g.backbone!);
    expect(d.status[0].level).toBe(DIAGNOSTIC_LEVEL.OK);
    expect(d.status[0].message).toContain("no model configured");
    // Idle means no image subscription at all: a frame is not even received.
    g.publishImage();
    expect(g.backbone!.node.counters().get("received./camera/color/image_raw")).toBe(0);
    expect(g.backbone!.counters.get("frames_in")).toBe(0);

    const b = await g.ask("how far is the red mug from the blue bowl?");
    expect(b.source).toBe("backbone");
    expect(b.status).toBe(SpatialAnswerStatus.STATUS_ERROR);
    expect(b.text).toContain("model_path is empty");

    g.publishScene();
    const e = await g.ask("how far is the red mug from the blue bowl?", "");
    expect(e.source).toBe("engine");
    expect(e.status).toBe(SpatialAnswerStatus.STATUS_OK);
    expect(e.value).toBeCloseTo(Math.hypot(0.3, 0.01), 6);
    // The topic is the engine's alone while the backbone has no model.
    g.question.publish({ data: "how far is the red mug from the blue bowl?" });
    await g.flush();
    expect(g.answers.map((a) => a.source)).toEqual(["engine"]);
  });
});

describe("backbone node with a model that does not load", () => {
  it("logs ERROR naming file and tensor, shows ERROR on /diagnostics, refuses backbone questions, and the engine keeps answering", async () => {
    const g = graph({
      open: async () => {
        throw new ModelError("/models/tiny/model.safetensors", "truncated: 1048576 bytes, the header promises 2359296", "backbone.layers.3.mixer.A_log");
      },
    });
    await g.backbone!.ready;
    expect(g.backbone!.state).toBe("failed");
    const errs = g.logs.filter((l) => l.level === "error");
    expect(errs).toHaveLength(1);
    expect(errs[0].message).toContain("file /models/tiny/model.safetensors");
    expect(errs[0].message).toContain("tensor backbone.layers.3.mixer.A_log");
    const d = diag(g.backbone!);
    expect(d.status[0].level).toBe(DIAGNOSTIC_LEVEL.ERROR);
    expect(d.status[0].message).toContain("model failed to load");
    expect(d.status[0].message).toContain("truncated");
    expect(g.backbone!.counters.get("errors.bad_model")).toBe(1);

    const b = await g.ask("how far is the red mug from the blue bowl?");
    expect([b.source, b.status]).toEqual(["backbone", SpatialAnswerStatus.STATUS_ERROR]);
    expect(b.text).toMatch(/failed to load.*model\.safetensors \(backbone\.layers\.3\.mixer\.A_log\)/);
    g.publishScene();
    const e = await g.ask("how far is the red mug from the blue bowl?", "engine");
    expect([e.source, e.status]).toEqual(["engine", SpatialAnswerStatus.STATUS_OK]);
    // Still running: a later diagnostics report is still ERROR (a standing condition), not a crash.
    expect(diag(g.backbone!).status[0].level).toBe(DIAGNOSTIC_LEVEL.ERROR);
  });

  it("an unexpected failure while loading is errors.internal with the reason; questions say the model failed", async () => {
    const g = graph({ open: async () => { throw new TypeError("worker bootstrap exploded"); } });
    await g.backbone!.ready;
    expect(g.backbone!.state).toBe("failed");
    expect(g.backbone!.counters.get("errors.internal")).toBe(1);
    const b = await g.ask("what is on the table?");
    expect(b.status).toBe(SpatialAnswerStatus.STATUS_ERROR);
    expect(b.text).toContain("worker bootstrap exploded");
  });

  it("a runtime that opens but refuses a stream is closed again (no worker left running) and the node reports the failure", async () => {
    const rt = new FakeBackboneRuntime(TINY_CONFIG, "noise");
    rt.addStream = () => {
      throw new InvalidInputError("bad_argument", "stream name must be at most 256 characters");
    };
    const g = graph({ runtime: rt });
    await g.backbone!.ready;
    expect(g.backbone!.state).toBe("failed");
    expect(rt.closed).toBe(true);
    expect((await g.ask("what is here?")).text).toContain("at most 256 characters");
  });

  it("while the model is still loading, questions say so", async () => {
    let finish: (r: BackboneRuntimePort) => void = () => {};
    const g = graph({ open: () => new Promise((r) => (finish = r)) });
    expect(g.backbone!.state).toBe("loading");
    const b = await g.ask("what is on the table?");
    expect(b.status).toBe(SpatialAnswerStatus.STATUS_ERROR);
    expect(b.text).toContain("still loading");
    finish(new FakeBackboneRuntime(TINY_CONFIG, "noise"));
    await g.backbone!.ready;
    expect(g.backbone!.state).toBe("ready");
  });
});

describe("backbone node with an untrained (seeded-random) model", () => {
  it("opens the runtime with the node's parameters and one stream per camera namespace", async () => {
    const rt = new FakeBackboneRuntime(TINY_CONFIG, "noise");
    const g = graph({ runtime: rt, params: { streams: ["cam0/camera", "/cam1/camera"], coarse_to_fine: true, intra_op_threads: 2, max_answer_tokens: 7 } });
    await g.backbone!.ready;
    expect(g.opened).toEqual([{ model: { dir: "/models/tiny" }, maxStreams: 2, intraOpThreads: 2, coarseToFine: true }]);
    expect(rt.streams).toEqual(["cam0/camera", "/cam1/camera"]);
    g.publishImage("cam0/camera/color/image_raw", { width: 6 });
    g.publishImage("/cam1/camera/color/image_raw", { width: 2, step: 6, data: new Uint8Array(24) });
    await g.flush();
    expect(rt.frames).toEqual([{ stream: "cam0/camera", width: 6 }, { stream: "/cam1/camera", width: 2 }]);
    await g.ask("what is here?", "backbone", "/cam1/camera");
    await g.ask("what is here?", "backbone", "");
    expect(rt.asks.map((a) => [a.stream, a.maxTokens])).toEqual([["/cam1/camera", 7], ["cam0/camera", 7]]);
  });

  it("counts frames and publishes per-stage timing on /diagnostics", async () => {
    const rt = new FakeBackboneRuntime(TINY_CONFIG, "noise");
    const g = graph({ runtime: rt });
    await g.backbone!.ready;
    for (let i = 0; i < 5; i++) g.publishImage("camera/color/image_raw", {}, 100 + i);
    await g.flush();
    const c = g.backbone!.counters;
    expect([c.get("frames_in"), c.get("frames_done"), c.get("frames_dropped")]).toEqual([5, 5, 0]);
    const d = diag(g.backbone!);
    // The fake's frame i takes encode 2+i, project 0.5, prefill 1+i, total 4+2i ms: medians 4, 3, 8
    // (batches of 1). encode_frame_ms is encoder + projector (one graph in the real runtime).
    expect(Number(diagValue(d, "encode_frame_ms.p50"))).toBeCloseTo(4.5, 2);
    expect(diagValue(d, "project_frame_ms.p50")).toBeUndefined();
    expect(Number(diagValue(d, "prefill_frame_ms.p50"))).toBeCloseTo(3, 2);
    expect(Number(diagValue(d, "frame_ms.p50"))).toBeCloseTo(8, 2);
    expect(Number(diagValue(d, "batch_ms.p50"))).toBeCloseTo(8, 2);
    expect(Number(diagValue(d, "latency_ms.p50"))).toBeCloseTo(8, 2);
    expect(Number(diagValue(d, "latency_ms.p99"))).toBeCloseTo(12, 2);
    expect(diagValue(d, "kept_fraction")).toBe("0.650");
    expect(diagValue(d, "frames_done")).toBe("5");
    expect(d.status[0].message).toContain("untrained");
  });

  it("frames timed in batches: /diagnostics shows per-frame times (the batch's / its size) beside the batch's own", async () => {
    const rt = new FakeBackboneRuntime(TINY_CONFIG, "noise");
    rt.batch = 2;
    const g = graph({ runtime: rt });
    await g.backbone!.ready;
    for (let i = 0; i < 5; i++) g.publishImage("camera/color/image_raw", {}, 100 + i);
    await g.flush();
    const d = diag(g.backbone!);
    // Batch times as the runtime reports them: encode 2+i, prefill 1+i, total 4+2i (medians 4, 3, 8).
    expect(Number(diagValue(d, "batch_ms.p50"))).toBeCloseTo(8, 2);
    expect(Number(diagValue(d, "batch_size.p50"))).toBe(2);
    expect(diagValue(d, "batch_size.last")).toBe("2");
    // Each frame's share: half of it.
    expect(Number(diagValue(d, "frame_ms.p50"))).toBeCloseTo(4, 2);
    expect(Number(diagValue(d, "latency_ms.p50"))).toBeCloseTo(4, 2);
    expect(Number(diagValue(d, "encode_frame_ms.p50"))).toBeCloseTo(2.25, 2);
    expect(Number(diagValue(d, "prefill_frame_ms.p50"))).toBeCloseTo(1.5, 2);
    expect(g.backbone!.diagnostics.frameMsAll.summary().p50).toBeCloseTo(4, 2);
  });

  it("never presents the model's text as an answer: STATUS_UNANSWERABLE with its token latency, through the spatial node and on the topic", async () => {
    const rt = new FakeBackboneRuntime(TINY_CONFIG, "qx7 zz 12 cm", 9, 0.75);
    const g = graph({ runtime: rt });
    await g.backbone!.ready;
    const before = await g.ask("how far is the red mug from the blue bowl?");
    expect(before.status).toBe(SpatialAnswerStatus.STATUS_NO_SCENE);
    expect(before.source).toBe("backbone");
    g.publishImage("camera/color/image_raw", {}, 321);
    await g.flush();
    const a = await g.ask("how far is the red mug from the blue bowl?");
    expect(a.source).toBe("backbone");
    expect(a.status).toBe(SpatialAnswerStatus.STATUS_UNANSWERABLE);
    expect(a.text).toBe("the backbone model is untrained (seeded random weights); it produced 9 tokens in 0.750 ms/token, not an answer");
    expect(a.text).not.toContain("qx7");
    expect(a.value).toBeNaN();
    expect(a.header.stamp).toEqual({ sec: 321, nanosec: 0 });
    expect(a.header.frame_id).toBe("camera_color_optical_frame");
    expect(g.backbone!.counters.get("answers.untrained")).toBe(1);

    // The question topic: the backbone answers too (source backbone), beside the engine.
    g.publishScene();
    g.question.publish({ data: "how far is the red mug from the blue bowl?" });
    await new Promise((r) => setTimeout(r, 20));
    expect(g.answers.map((x) => x.source).sort()).toEqual(["backbone", "engine"]);
    const fromBackbone = g.answers.find((x) => x.source === "backbone")!;
    expect(fromBackbone.status).toBe(SpatialAnswerStatus.STATUS_UNANSWERABLE);
  });

  it("answer_topic_questions false keeps the backbone off the question topic (the service still answers)", async () => {
    const g = graph({ params: { answer_topic_questions: false } });
    await g.backbone!.ready;
    g.publishImage();
    await g.flush();
    g.question.publish({ data: "how far is the red mug from the blue bowl?" });
    await new Promise((r) => setTimeout(r, 20));
    expect(g.answers.map((x) => x.source)).toEqual(["engine"]);
    expect((await g.ask("what is here?")).status).toBe(SpatialAnswerStatus.STATUS_UNANSWERABLE);
  });

  it("closes the runtime when the transport shuts down", async () => {
    const rt = new FakeBackboneRuntime(TINY_CONFIG, "noise");
    const g = graph({ runtime: rt });
    await g.backbone!.ready;
    await g.transport.shutdown();
    await new Promise((r) => setTimeout(r, 0));
    expect(rt.closed).toBe(true);
    expect(g.backbone!.state).toBe("closed");
  });
});

describe("backbone node with a trained model", () => {
  it("returns the model's text; a leading length becomes value in metres", async () => {
    const g = graph({ runtime: new FakeBackboneRuntime(TRAINED, "23 cm, about a hand's width") });
    await g.backbone!.ready;
    g.publishImage();
    await g.flush();
    const a = await g.ask("how far is the red mug from the blue bowl?");
    expect([a.source, a.status, a.unit, a.text]).toEqual(["backbone", SpatialAnswerStatus.STATUS_OK, "m", "23 cm, about a hand's width"]);
    expect(a.value).toBeCloseTo(0.23, 12);
    expect(g.backbone!.counters.get("answers.ok")).toBe(1);
  });

  it("with coarse_to_fine, a question guides the stream's following frames (setQuestion before the ask); without it, never", async () => {
    for (const c2f of [true, false]) {
      const fake = new FakeBackboneRuntime(TRAINED, "23 cm");
      const g = graph({ runtime: fake, params: { coarse_to_fine: c2f } });
      await g.backbone!.ready;
      g.publishImage();
      await g.flush();
      await g.ask("how far is the red mug from the blue bowl?");
      expect(fake.questionsSet).toEqual(c2f ? [{ stream: "camera", question: "how far is the red mug from the blue bowl?" }] : []);
      expect(fake.asks).toHaveLength(1);
    }
  });

  it("a direct call of backbone/spatial_query answers the same way", async () => {
    const g = graph({ runtime: new FakeBackboneRuntime(TRAINED, "yes, it is") });
    await g.backbone!.ready;
    g.publishImage();
    await g.flush();
    const a = (await g.direct.call({ question: "is the mug left of the bowl?", source: "backbone", stream: "" })).answer;
    expect([a.status, a.unit, a.value, a.boolean_value, a.source]).toEqual([SpatialAnswerStatus.STATUS_OK, "bool", 1, true, "backbone"]);
  });
});

describe("hostile input to the backbone node", () => {
  async function ready(rt = new FakeBackboneRuntime(TRAINED, "12 cm")) {
    const g = graph({ runtime: rt });
    await g.backbone!.ready;
    g.publishImage();
    await g.flush();
    return { g, rt };
  }

  it("a question that is not a string, too long, or for an unknown stream is STATUS_ERROR with the reason, counted, never asked", async () => {
    const { g, rt } = await ready();
    const notString = await g.ask(42);
    expect(notString.status).toBe(SpatialAnswerStatus.STATUS_ERROR);
    expect(notString.source).toBe("backbone");
    const tooLong = await g.ask("how far? ".repeat(200));
    expect(tooLong.status).toBe(SpatialAnswerStatus.STATUS_ERROR);
    expect(tooLong.text).toMatch(/1000/);
    expect(tooLong.question.length).toBeLessThanOrEqual(1000 + 40);
    const unknown = await g.ask("what is here?", "backbone", "cam9/camera");
    expect(unknown.status).toBe(SpatialAnswerStatus.STATUS_ERROR);
    expect(unknown.text).toContain('unknown stream "cam9/camera"');
    expect(unknown.text).toContain('"camera"');
    const streamNotString = await g.ask("what is here?", "backbone", { evil: true });
    expect(streamNotString.status).toBe(SpatialAnswerStatus.STATUS_ERROR);
    expect(streamNotString.text).toContain("stream must be a string");
    const c = g.backbone!.counters;
    expect(c.get("errors.input_too_long")).toBe(1);
    // The non-string stream is now refused by the spatial node before it is forwarded (it was
    // counted on the backbone node when forwarded as is): 2 here, 1 there.
    expect(c.get("errors.bad_argument")).toBe(2);
    expect(c.get("answers.error")).toBe(3);
    expect(g.spatial.counters.get("errors.bad_argument")).toBe(1);
    expect(g.spatial.counters.get("answers.backbone.error")).toBe(1);
    const viaDirect = (await g.direct.call({ question: "what is here?", source: "backbone", stream: { evil: true } as unknown as string })).answer;
    expect(viaDirect.status).toBe(SpatialAnswerStatus.STATUS_ERROR);
    expect(c.get("errors.bad_argument")).toBe(3);
    expect(c.get("answers.error")).toBe(4);
    expect(rt.asks).toHaveLength(0);
  });

  it("an image the runtime refuses and a frame with a bad stamp or no header are dropped and counted (typed, WARN); the next frame is processed", async () => {
    const { g, rt } = await ready();
    // sec 101: the frame at sec 100 (ready()) was processed, and a stamp must be newer than the last.
    g.publishImage("camera/color/image_raw", { encoding: "yuv422" }, 101);
    g.publishImage("camera/color/image_raw", { header: { stamp: { sec: 1, nanosec: 2_000_000_000 }, frame_id: "" } });
    g.publishImage("camera/color/image_raw", { data: undefined as unknown as Uint8Array, header: null as unknown as M.std_msgs__msg__Header });
    // Within 5 s of sec 101 (a jump further ahead is an outlier, tested below).
    g.publishImage("camera/color/image_raw", {}, 102);
    await g.flush();
    const c = g.backbone!.counters;
    expect([c.get("frames_in"), c.get("frames_done"), c.get("frames_dropped")]).toEqual([5, 2, 3]);
    expect(c.get("errors.bad_encoding")).toBe(1);
    expect(c.get("errors.bad_stamp")).toBe(1);
    // Was errors.internal at ERROR level: a null header is hostile input, not a bug.
    expect(c.get("errors.bad_message")).toBe(1);
    expect(c.get("errors.internal")).toBe(0);
    expect(rt.frames).toHaveLength(2);
    const d = diag(g.backbone!);
    expect(d.status[0].level).toBe(DIAGNOSTIC_LEVEL.WARN);
    expect(g.logs.filter((l) => l.level === "error")).toHaveLength(0);
    expect(g.logs.some((l) => l.level === "warn" && l.message.includes("[bad_message]"))).toBe(true);
    expect((await g.ask("how far?")).header.stamp).toEqual({ sec: 102, nanosec: 0 });
  });

  it("a frame that is null altogether is bad_message too, not internal", async () => {
    const { g } = await ready();
    const pub = g.probe.createPublisher<M.sensor_msgs__msg__Image>(T.Image, "camera/color/image_raw", QOS_SENSOR_DATA);
    pub.publish(null as unknown as M.sensor_msgs__msg__Image);
    await g.flush();
    const c = g.backbone!.counters;
    expect([c.get("errors.bad_message"), c.get("errors.internal"), c.get("frames_dropped")]).toEqual([1, 0, 1]);
  });

  it("an older frame after a newer one (sec 200 then sec 100) is refused as out_of_order_stamp, counted dropped, never prefilled; the stamp never moves back", async () => {
    const rt = new FakeBackboneRuntime(TRAINED, "12 cm");
    const g = graph({ runtime: rt });
    await g.backbone!.ready;
    g.publishImage("camera/color/image_raw", {}, 200);
    g.publishImage("camera/color/image_raw", {}, 100);
    g.publishImage("camera/color/image_raw", {}, 200); // a repeat is not newer either
    g.publishImage("camera/color/image_raw", { header: { stamp: { sec: 199, nanosec: 500_000_000 }, frame_id: "cam" } }); // late by 0.5 s
    await g.flush();
    const c = g.backbone!.counters;
    expect([c.get("frames_in"), c.get("frames_done"), c.get("frames_dropped")]).toEqual([4, 1, 3]);
    expect(c.get("errors.out_of_order_stamp")).toBe(3);
    expect(rt.frames).toHaveLength(1);
    expect((await g.ask("how far?")).header.stamp).toEqual({ sec: 200, nanosec: 0 });
    g.publishImage("camera/color/image_raw", {}, 201);
    await g.flush();
    expect(rt.frames).toHaveLength(2);
    expect((await g.ask("how far?")).header.stamp).toEqual({ sec: 201, nanosec: 0 });
  });

  it("a timeline that really went back (a bag loop) is adopted after 3 consecutive frames; streams keep their own stamps", async () => {
    const rt = new FakeBackboneRuntime(TRAINED, "12 cm");
    const g = graph({ runtime: rt, params: { streams: ["cam0", "cam1"] } });
    await g.backbone!.ready;
    g.publishImage("cam0/color/image_raw", {}, 500);
    g.publishImage("cam1/color/image_raw", {}, 100); // another stream: its own order
    for (const sec of [10, 11, 12, 13]) g.publishImage("cam0/color/image_raw", {}, sec);
    await g.flush();
    const c = g.backbone!.counters;
    expect(rt.frames.map((f) => f.stream)).toEqual(["cam0", "cam1", "cam0", "cam0"]);
    expect(c.get("errors.out_of_order_stamp")).toBe(2);
    expect(c.get("stamp_jump.adopted")).toBe(1);
    expect((await g.ask("how far?", "backbone", "cam0")).header.stamp).toEqual({ sec: 13, nanosec: 0 });
  });

  it("a stamp jump ahead (sec 10, 11, 4000, 12, 13) is an outlier as in perception: 4000 refused, 12 and 13 accepted, the answer's stamp 13; 3 agreeing frames adopt it", async () => {
    const rt = new FakeBackboneRuntime(TRAINED, "12 cm");
    const g = graph({ runtime: rt });
    await g.backbone!.ready;
    for (const sec of [10, 11, 4000, 12, 13]) g.publishImage("camera/color/image_raw", {}, sec);
    await g.flush();
    const c = g.backbone!.counters;
    expect(rt.frames).toHaveLength(4);
    expect([c.get("frames_in"), c.get("frames_done"), c.get("frames_dropped")]).toEqual([5, 4, 1]);
    expect(c.get("errors.out_of_order_stamp")).toBe(1);
    expect(c.get("stamp_jump.ahead")).toBe(1);
    expect(c.get("stamp_jump.adopted")).toBe(0);
    expect(g.logs.some((l) => l.level === "warn" && l.message.includes("ahead of"))).toBe(true);
    expect((await g.ask("how far?")).header.stamp).toEqual({ sec: 13, nanosec: 0 });
    // A clock that really stepped ahead: the third agreeing frame is adopted, and the stream goes on from it.
    for (const sec of [5000, 5001, 5002, 5003]) g.publishImage("camera/color/image_raw", {}, sec);
    await g.flush();
    expect(rt.frames).toHaveLength(6);
    expect(c.get("stamp_jump.ahead")).toBe(3);
    expect(c.get("stamp_jump.adopted")).toBe(1);
    expect((await g.ask("how far?")).header.stamp).toEqual({ sec: 5003, nanosec: 0 });
  });

  it("a stream of 200k slashes (a ReDoS shape for /\\/+$/) is refused as input_too_long before anything scans it, directly and through spatial_query", async () => {
    const { g, rt } = await ready();
    const hostile = "/".repeat(200_000) + "x";
    // The refusal must come before any stripping: the quadratic regex took ~1.2 s at 60k slashes,
    // ~13 s at 200k, and even a linear strip is work the caller chose. Asserted structurally (no
    // scan of the string at all), not by timing.
    let direct!: Answer;
    const t0 = performance.now();
    expect(await scansOf(hostile.length, async () => {
      direct = (await g.direct.call({ question: "what is here?", source: "backbone", stream: hostile }, 5000)).answer;
    })).toBe(0);
    expect([direct.status, direct.source]).toEqual([SpatialAnswerStatus.STATUS_ERROR, "backbone"]);
    expect(direct.text).toContain("at most 256");
    expect(g.backbone!.counters.get("errors.input_too_long")).toBe(1);
    expect(rt.asks).toHaveLength(0);
    const forwarded = await g.ask("what is here?", "backbone", hostile);
    // A sanity bound only, far above anything that could flake (the refusal takes microseconds).
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect([forwarded.status, forwarded.source]).toEqual([SpatialAnswerStatus.STATUS_ERROR, "backbone"]);
    expect(forwarded.text).toContain("at most 256");
    // Refused by the spatial node before forwarding: counted there, never sent on.
    expect(g.spatial.counters.get("errors.input_too_long")).toBe(1);
    expect(g.spatial.counters.get("answers.backbone.error")).toBe(1);
    expect(g.backbone!.counters.get("errors.input_too_long")).toBe(1);
    // A null stream is bad_argument on both paths; trailing slashes still name a stream.
    expect((await g.direct.call({ question: "q", source: "backbone", stream: null as unknown as string }, 5000)).answer.status).toBe(SpatialAnswerStatus.STATUS_ERROR);
    expect((await g.ask("q", "backbone", null)).status).toBe(SpatialAnswerStatus.STATUS_ERROR);
    expect((await g.ask("q", "backbone", "camera///")).status).toBe(SpatialAnswerStatus.STATUS_OK);
    expect(rt.asks.map((a) => a.stream)).toEqual(["camera"]);
  });

  it(`more than ${MAX_PENDING_QUESTIONS} questions in flight: the rest are refused as busy, none is lost`, async () => {
    const rt = new FakeBackboneRuntime(TRAINED, "12 cm");
    rt.hold = true;
    const { g } = await ready(rt);
    const pending = Array.from({ length: MAX_PENDING_QUESTIONS + 3 }, () => g.ask("how far?"));
    await new Promise((r) => setTimeout(r, 10));
    rt.release();
    const all = await Promise.all(pending);
    const busy = all.filter((a) => a.status === SpatialAnswerStatus.STATUS_ERROR);
    expect(busy).toHaveLength(3);
    expect(busy[0].text).toContain("busy");
    expect(all.filter((a) => a.status === SpatialAnswerStatus.STATUS_OK)).toHaveLength(MAX_PENDING_QUESTIONS);
    expect(g.backbone!.counters.get("dropped.questions_busy")).toBe(3);
  });

  it("a runtime that fails a question gives STATUS_ERROR with the reason, and the next question is answered", async () => {
    const rt = new FakeBackboneRuntime(TRAINED, "12 cm");
    const { g } = await ready(rt);
    const ask = rt.ask.bind(rt);
    let failNext = true;
    rt.ask = async (s, q, o) => {
      if (failNext) {
        failNext = false;
        throw new InvalidInputError("input_too_long", "question is 5000 tokens, at most 4096");
      }
      return ask(s, q, o);
    };
    const bad = await g.ask("how far?");
    expect([bad.status, bad.text]).toEqual([SpatialAnswerStatus.STATUS_ERROR, "question is 5000 tokens, at most 4096"]);
    expect((await g.ask("how far?")).status).toBe(SpatialAnswerStatus.STATUS_OK);
  });

  it("parameters out of range are refused when the node starts", () => {
    const t = new InprocTransport();
    transports.push(t);
    t.logSinks = [];
    const make = (p: Record<string, ParameterValue>, name: string) => () => new BackboneNode(t.createNode(name, { parameterOverrides: p }), { openRuntime: async () => new FakeBackboneRuntime(TINY_CONFIG, "") });
    expect(make({ streams: [] as string[] }, "b1")).toThrow(/streams must list/);
    expect(make({ streams: ["camera", "camera"] }, "b2")).toThrow(/distinct camera namespaces/);
    expect(make({ streams: ["bad name!"] }, "b3")).toThrow(/distinct camera namespaces/);
    expect(make({ max_answer_tokens: 0 }, "b4")).toThrow(/max_answer_tokens/);
    expect(make({ intra_op_threads: 1.5 }, "b5")).toThrow(/intra_op_threads/);
  });
});

describe("backbone worker failure after loading", () => {
  it("the node turns failed: /diagnostics ERROR with the reason, one ERROR log, questions STATUS_ERROR 'backbone worker failed: …', frames counted as dropped", async () => {
    const rt = new FakeBackboneRuntime(TRAINED, "12 cm");
    const g = graph({ runtime: rt });
    await g.backbone!.ready;
    g.publishImage("camera/color/image_raw", {}, 100);
    await g.flush();
    expect((await g.ask("how far?")).status).toBe(SpatialAnswerStatus.STATUS_OK);
    rt.holdFrames = true;
    g.publishImage("camera/color/image_raw", {}, 101); // in flight when the worker dies
    await g.flush();
    rt.die(new SpatialRewardError("internal", "backbone worker exited (code 1)"));
    await g.flush();
    expect(g.backbone!.state).toBe("failed");
    expect(rt.closed).toBe(true);
    const d = diag(g.backbone!).status[0];
    expect(d.level).toBe(DIAGNOSTIC_LEVEL.ERROR);
    expect(d.message).toContain("backbone worker failed: backbone worker exited (code 1)");
    expect(diag(g.backbone!).status[0].level).toBe(DIAGNOSTIC_LEVEL.ERROR); // standing, not one report
    const a = await g.ask("how far?");
    expect([a.status, a.source]).toEqual([SpatialAnswerStatus.STATUS_ERROR, "backbone"]);
    expect(a.text).toBe("backbone worker failed: backbone worker exited (code 1)");
    g.publishImage("camera/color/image_raw", {}, 102); // after: counted, not processed
    await g.flush();
    const c = g.backbone!.counters;
    expect([c.get("frames_in"), c.get("frames_done"), c.get("frames_dropped")]).toEqual([3, 1, 2]);
    expect(c.get("dropped.worker_failed")).toBe(2);
    expect(c.get("errors.worker_failed")).toBe(1);
    const errs = g.logs.filter((l) => l.level === "error");
    expect(errs).toHaveLength(1);
    expect(errs[0].message).toContain("backbone worker failed");
    expect(rt.asks).toHaveLength(1);
    // The engine is untouched.
    g.publishScene();
    expect((await g.ask("how far is the red mug from the blue bowl?", "")).status).toBe(SpatialAnswerStatus.STATUS_OK);
  });

  it("a question in flight when the worker dies is answered STATUS_ERROR with the worker's failure", async () => {
    const rt = new FakeBackboneRuntime(TRAINED, "12 cm");
    const g = graph({ runtime: rt });
    await g.backbone!.ready;
    g.publishImage();
    await g.flush();
    const err = new SpatialRewardError("internal", "backbone worker crashed: out of memory");
    rt.ask = () => new Promise((_, reject) => setTimeout(() => { reject(err); rt.die(err); }, 5));
    const a = await g.ask("how far?");
    expect(a.status).toBe(SpatialAnswerStatus.STATUS_ERROR);
    expect(a.text).toContain("out of memory");
    await g.flush();
    expect(g.backbone!.state).toBe("failed");
    expect(g.logs.filter((l) => l.level === "error")).toHaveLength(1);
  });

  it("a failure after the node closed changes nothing", async () => {
    const rt = new FakeBackboneRuntime(TRAINED, "12 cm");
    const g = graph({ runtime: rt });
    await g.backbone!.ready;
    await g.backbone!.close();
    rt.die(new SpatialRewardError("bad_state", "backbone runtime is closed"));
    expect(g.backbone!.state).toBe("closed");
    expect(g.logs.filter((l) => l.level === "error")).toHaveLength(0);
  });
});

describe("backbone answers: what they are about, and empty ones", () => {
  it("the answer's stamp is the last frame prefilled before the fork, not the last frame when the question arrived", async () => {
    const rt = new FakeBackboneRuntime(TRAINED, "12 cm");
    rt.hold = true; // the question waits in the runtime's queue behind frames
    const g = graph({ runtime: rt });
    await g.backbone!.ready;
    g.publishImage("camera/color/image_raw", { header: { stamp: { sec: 100, nanosec: 0 }, frame_id: "cam_a" } });
    await g.flush();
    const pending = g.ask("how far?");
    await new Promise((r) => setTimeout(r, 5));
    expect(rt.asks).toHaveLength(1);
    // A frame finishes before the runtime gets to the question: the fork includes it.
    g.publishImage("camera/color/image_raw", { header: { stamp: { sec: 101, nanosec: 5 }, frame_id: "cam_b" } });
    await g.flush();
    rt.release();
    const a = await pending;
    expect(a.status).toBe(SpatialAnswerStatus.STATUS_OK);
    expect(a.header.stamp).toEqual({ sec: 101, nanosec: 5 });
    expect(a.header.frame_id).toBe("cam_b");
  });

  it("a trained model that produces no text (EOS first) is STATUS_UNANSWERABLE saying so, not an empty OK", async () => {
    for (const [reply, tokens] of [["", 0], ["  \n", 2]] as const) {
      const g = graph({ runtime: new FakeBackboneRuntime(TRAINED, reply, tokens) });
      await g.backbone!.ready;
      g.publishImage();
      await g.flush();
      const a = await g.ask("how far?");
      expect([a.status, a.source]).toEqual([SpatialAnswerStatus.STATUS_UNANSWERABLE, "backbone"]);
      expect(a.text).toContain("the backbone model produced no answer");
      expect(a.value).toBeNaN();
      expect(g.backbone!.counters.get("answers.ok")).toBe(0);
      expect(g.backbone!.counters.get("answers.empty")).toBe(1);
    }
  });
});

describe("spatial node: the source of a spatial_query request", () => {
  it("a null request is STATUS_ERROR, counted, never a throw", async () => {
    const g = graph({ noBackbone: true });
    const direct = g.spatial.query(null as unknown as Query);
    expect(direct).not.toBeInstanceOf(Promise);
    const a = (direct as Reply).answer;
    expect(a.status).toBe(SpatialAnswerStatus.STATUS_ERROR);
    expect(a.text).toContain("null");
    expect(g.spatial.counters.get("errors.bad_message")).toBe(1);
    expect(g.spatial.counters.get("answers.error")).toBe(1);
    expect((g.spatial.query(7 as unknown as Query) as Reply).answer.status).toBe(SpatialAnswerStatus.STATUS_ERROR);
    expect(g.spatial.counters.get("errors.bad_message")).toBe(2);
  });

  it("an unknown source is STATUS_ERROR naming the valid ones; a non-string source too", async () => {
    const g = graph({ noBackbone: true });
    const a = await g.ask("how far?", "oracle");
    expect(a.status).toBe(SpatialAnswerStatus.STATUS_ERROR);
    expect(a.text).toContain('"engine"');
    expect(a.text).toContain('"backbone"');
    expect(a.text).toContain('"oracle"');
    const b = await g.ask("how far?", 7 as unknown as string);
    expect(b.status).toBe(SpatialAnswerStatus.STATUS_ERROR);
    expect(b.text).toContain("number");
    expect(g.spatial.counters.get("errors.bad_argument")).toBe(2);
  });

  it("source backbone with no backbone node at all: STATUS_ERROR saying no backbone is serving, within the discovery wait", async () => {
    const g = graph({ noBackbone: true, spatialParams: { backbone_timeout_ms: 300 } });
    const t0 = performance.now();
    const a = await g.ask("how far is the red mug from the blue bowl?");
    expect(performance.now() - t0).toBeLessThan(2000);
    expect([a.status, a.source]).toEqual([SpatialAnswerStatus.STATUS_ERROR, "backbone"]);
    expect(a.text).toContain("no backbone node is serving /backbone/spatial_query");
    expect(g.spatial.counters.get("backbone.unavailable")).toBe(1);
  });

  it("a backbone that does not answer in backbone_timeout_ms: STATUS_ERROR saying so", async () => {
    const rt = new FakeBackboneRuntime(TRAINED, "12 cm");
    rt.hold = true;
    const g = graph({ runtime: rt, spatialParams: { backbone_timeout_ms: 200 } });
    await g.backbone!.ready;
    g.publishImage();
    await g.flush();
    const a = await g.ask("how far?");
    expect([a.status, a.source]).toEqual([SpatialAnswerStatus.STATUS_ERROR, "backbone"]);
    expect(a.text).toContain("did not answer within 200 ms");
    rt.release();
  });

  it("a bad backbone_timeout_ms is refused when the node starts", () => {
    const t = new InprocTransport();
    transports.push(t);
    expect(() => new SpatialNode(t.createNode("spatial", { parameterOverrides: { backbone_timeout_ms: 0 } }))).toThrow(/backbone_timeout_ms/);
  });
});

import { afterEach, describe, expect, it } from "vitest";
import { InprocTransport } from "../../src/transport/inproc_transport.js";
import { QOS_DEFAULT, QOS_SENSOR_DATA } from "../../src/transport/qos.js";
import type { LogRecord } from "../../src/transport/logger.js";
import { InvalidInputError, ModelError } from "../../src/errors.js";
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
  private held: (() => void)[] = [];
  private frameNo = 0;

  constructor(readonly config: BackboneConfig, readonly reply: string, readonly tokens = 5, readonly tokenMs = 0.5) {}

  addStream(name: string): void {
    this.streams.push(name);
  }

  pushFrame(stream: string, image: BackboneImage): Promise<BackboneFrameTiming> {
    // What the real runtime does with an image it cannot use: a typed rejection.
    if (image.encoding === "yuv422") return Promise.reject(new InvalidInputError("bad_encoding", "encoding \"yuv422\" not supported"));
    this.frames.push({ stream, width: image.width });
    const i = this.frameNo++;
    return Promise.resolve({
      encodeMs: 2 + i, projectMs: 0.5, prefillMs: 1 + i, totalMs: 4 + 2 * i, visualTokens: 49, keptFraction: 0.65, queueMs: 0.1, superseded: false,
    });
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
    // The fake's frame i takes encode 2+i, prefill 1+i, total 4+2i ms: medians 4, 3, 8.
    expect(Number(diagValue(d, "encode_ms.p50"))).toBeCloseTo(4, 2);
    expect(Number(diagValue(d, "prefill_ms.p50"))).toBeCloseTo(3, 2);
    expect(Number(diagValue(d, "latency_ms.p50"))).toBeCloseTo(8, 2);
    expect(Number(diagValue(d, "latency_ms.p99"))).toBeCloseTo(12, 2);
    expect(diagValue(d, "kept_fraction")).toBe("0.650");
    expect(diagValue(d, "frames_done")).toBe("5");
    expect(d.status[0].message).toContain("untrained");
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
    const c = g.backbone!.counters;
    expect(c.get("errors.input_too_long")).toBe(1);
    expect(c.get("errors.bad_argument")).toBe(3);
    expect(c.get("answers.error")).toBe(4);
    expect(rt.asks).toHaveLength(0);
  });

  it("an image the runtime refuses and a frame with a bad stamp are dropped and counted; the next frame is processed", async () => {
    const { g, rt } = await ready();
    g.publishImage("camera/color/image_raw", { encoding: "yuv422" });
    g.publishImage("camera/color/image_raw", { header: { stamp: { sec: 1, nanosec: 2_000_000_000 }, frame_id: "" } });
    g.publishImage("camera/color/image_raw", { data: undefined as unknown as Uint8Array, header: null as unknown as M.std_msgs__msg__Header });
    g.publishImage("camera/color/image_raw", {}, 200);
    await g.flush();
    const c = g.backbone!.counters;
    expect([c.get("frames_in"), c.get("frames_done"), c.get("frames_dropped")]).toEqual([5, 2, 3]);
    expect(c.get("errors.bad_encoding")).toBe(1);
    expect(c.get("errors.bad_stamp")).toBe(1);
    expect(rt.frames).toHaveLength(2);
    const d = diag(g.backbone!);
    expect(d.status[0].level).toBe(DIAGNOSTIC_LEVEL.ERROR); // the null header is a bug-shaped input: errors.internal
    expect((await g.ask("how far?")).header.stamp).toEqual({ sec: 200, nanosec: 0 });
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

describe("spatial node: the source of a spatial_query request", () => {
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

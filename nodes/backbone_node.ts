import type { TransportNode } from "../src/transport/port.js";
import { QOS_DEFAULT, QOS_SENSOR_DATA } from "../src/transport/qos.js";
import { Counters } from "../src/diagnostics/counters.js";
import { LatencyStats } from "../src/diagnostics/latency_stats.js";
import { InvalidInputError, ModelError } from "../src/errors.js";
import type { BackboneConfig } from "../src/backbone/config.js";
import { checkQuestionLength } from "../src/spatial/question_parser.js";
import { SpatialAnswerStatus } from "../src/msgs/generated.js";
import type * as M from "../src/msgs/generated.js";
import { ANSWER_SOURCE, T, backboneAnswerToMsg, errorAnswer, refusalMsg, stampOf } from "./messages.js";
import { DiagnosticsPublisher, DIAGNOSTIC_LEVEL } from "./diagnostics_publisher.js";
import { RosClock, WALL_CLOCK, type NodeClock } from "./ros_clock.js";

/**
 * Backbone node: runs the Cobra-style backbone (vision encoders → projector → Mamba) on each
 * camera stream's colour frames and answers questions with it, marked source "backbone".
 *
 * A node of its own beside perception, not a mode of perception: the backbone needs only RGB
 * (perception needs depth, camera_info and masks, synchronised), it runs at its own pace in a
 * worker thread (a slow model must never hold back the engine's scenes and rewards), it owns
 * one state slot per stream for several cameras at once (perception is one camera per node),
 * and with no model configured it costs nothing: it does not even subscribe to the images.
 *
 * Parameters: model_path ("" = no model: the node idles, says so once in the log and on
 * /diagnostics at OK level), streams (camera namespaces, default ["camera"]: subscribes
 * `<ns>/color/image_raw` with sensor-data QoS, as perception does), coarse_to_fine,
 * max_answer_tokens, intra_op_threads, answer_topic_questions (answer `spatial/question` on
 * `spatial/answer` too, default true; only while a model is loaded).
 *
 * Serves `backbone/spatial_query` (SpatialQuery.srv; the spatial node forwards requests with
 * source "backbone" to it). Every answer has source "backbone". A model that failed to load
 * (ModelError naming file and tensor: logged at ERROR, /diagnostics ERROR) leaves the node
 * running; its answers are STATUS_ERROR saying so, and the engine keeps answering through the
 * spatial node. An untrained model's text is never an answer (see backboneAnswerToMsg).
 * Per-frame timing (encode, project, prefill, total ms; kept fraction) is on /diagnostics.
 */

/** Per-frame timing as the runtime reports it (nodes/backbone/backbone_runtime.ts). */
export interface BackboneFrameTiming {
  encodeMs: number;
  projectMs: number;
  prefillMs: number;
  totalMs: number;
  visualTokens: number;
  keptFraction: number;
  queueMs: number;
  /** A newer frame of the same stream replaced this one before it ran (nothing else is set). */
  superseded: boolean;
}

export interface BackboneAnswerResult {
  text: string;
  tokenIds: number[];
  prefillMs: number;
  tokenMs: number;
  trained: boolean;
}

/** An image as the runtime takes it (sensor_msgs/Image's fields). */
export interface BackboneImage {
  width: number;
  height: number;
  encoding: string;
  step: number;
  data: Uint8Array;
}

/** Where a model comes from: a folder, or seeded-random weights (tests, benchmarks, the demo). */
export type BackboneModelSource = { dir: string } | { seed: number; config?: BackboneConfig };

export interface BackboneOpenOptions {
  model: BackboneModelSource;
  maxStreams: number;
  intraOpThreads?: number;
  coarseToFine?: boolean;
}

/** What this node needs of the runtime: BackboneRuntime satisfies it. */
export interface BackboneRuntimePort {
  readonly config: BackboneConfig;
  addStream(name: string): void;
  pushFrame(stream: string, image: BackboneImage): Promise<BackboneFrameTiming>;
  ask(stream: string, question: string, opts?: { maxTokens?: number }): Promise<BackboneAnswerResult>;
  close(): Promise<void>;
}

export type OpenBackboneRuntime = (opts: BackboneOpenOptions) => Promise<BackboneRuntimePort>;

export interface BackboneNodeOptions {
  /** Opens the runtime; default: BackboneRuntime.open (loaded only when a model is configured). */
  openRuntime?: OpenBackboneRuntime;
  /** A model given in code (the demo's seeded-random model); wins over the model_path parameter. */
  model?: BackboneModelSource;
}

export type BackboneState = "idle" | "loading" | "ready" | "failed" | "closed";

/** Questions waiting for the runtime at once; more are refused (a question flood must not queue without bound). */
export const MAX_PENDING_QUESTIONS = 8;

const PARAM_LIMITS = { maxAnswerTokens: { min: 1, max: 4096 }, intraOpThreads: { min: 1, max: 64 }, streams: 64 } as const;
const STREAM_NAME = /^[A-Za-z_~/][A-Za-z0-9_/]*$/;

interface StreamState {
  /** The runtime's stream name (the namespace as given in `streams`). */
  name: string;
  topic: string;
  /** Stamp and frame id of the last frame the runtime finished: what an answer is about. */
  lastStampNs: bigint;
  lastFrameId: string;
  framesDone: number;
}

export class BackboneNode {
  readonly counters = new Counters();
  readonly diagnostics: BackboneDiagnostics;
  /** Settles once the model is loaded, failed to load, or none is configured. Never rejects. */
  readonly ready: Promise<void>;
  /** The loaded model's config (null until loaded). */
  config: BackboneConfig | null = null;
  private stateValue: BackboneState = "idle";
  private runtime: BackboneRuntimePort | null = null;
  private failure = "";
  private pendingQuestions = 0;
  private readonly streams: StreamState[];
  private readonly maxAnswerTokens: number;
  private readonly modelLabel: string;

  constructor(readonly node: TransportNode, options: BackboneNodeOptions = {}) {
    const modelPath = String(node.declareParameter("model_path", ""));
    const streamNames = node.declareParameter("streams", ["camera"]);
    const coarseToFine = Boolean(node.declareParameter("coarse_to_fine", false));
    this.maxAnswerTokens = intParameter(node, "max_answer_tokens", 32, PARAM_LIMITS.maxAnswerTokens);
    const intraOpThreads = intParameter(node, "intra_op_threads", 1, PARAM_LIMITS.intraOpThreads);
    const answerTopic = Boolean(node.declareParameter("answer_topic_questions", true));
    if (!Array.isArray(streamNames) || streamNames.length < 1 || streamNames.length > PARAM_LIMITS.streams) {
      throw new Error(`backbone: streams must list 1 to ${PARAM_LIMITS.streams} camera namespaces, got ${JSON.stringify(streamNames)}`);
    }
    const seen = new Set<string>();
    this.streams = streamNames.map((raw) => {
      const name = String(raw).replace(/\/+$/, "");
      if (!STREAM_NAME.test(name) || name.includes("//") || seen.has(name)) {
        throw new Error(`backbone: streams must be distinct camera namespaces such as "camera" or "/cam1/camera", got ${JSON.stringify(raw)}`);
      }
      seen.add(name);
      return { name, topic: `${name}/color/image_raw`, lastStampNs: 0n, lastFrameId: "", framesDone: 0 };
    });

    const clock = new RosClock(node, (e) => this.diagnostics.errors.report(e, "/clock"));
    this.diagnostics = new BackboneDiagnostics(node, this.counters, clock);
    const errors = this.diagnostics.errors;
    const answerPub = node.createPublisher<M.spatial_reward_msgs__msg__SpatialAnswer>(T.SpatialAnswer, "spatial/answer", QOS_DEFAULT);
    node.createService<M.spatial_reward_msgs__srv__SpatialQuery_Request, M.spatial_reward_msgs__srv__SpatialQuery_Response>(
      T.SpatialQuery, "backbone/spatial_query", async (req) => ({ answer: await this.answer(req?.question, req?.stream) }),
    );
    // Subscribed always: its completion is how the node learns it was destroyed (transport
    // shutdown), which must close the runtime's worker thread.
    node.observe<M.std_msgs__msg__String>(T.String, "spatial/question", QOS_DEFAULT).subscribe({
      next: (msg) => {
        if (!answerTopic || this.stateValue !== "ready") return;
        this.answer(msg?.data, "").then((a) => answerPub.publish(a), (e: unknown) => errors.report(e, "spatial/question"));
      },
      complete: () => void this.close(),
    });

    const model: BackboneModelSource | null = options.model ?? (modelPath === "" ? null : { dir: modelPath });
    this.modelLabel = model === null ? "" : "dir" in model ? model.dir : `seeded-random (seed ${model.seed})`;
    if (model === null) {
      this.diagnostics.condition = { level: DIAGNOSTIC_LEVEL.OK, message: "no model configured (model_path is empty): the backbone idles" };
      node.logger.info("no model configured (model_path is empty): the backbone idles; the engine answers through the spatial node");
      this.ready = Promise.resolve();
      return;
    }
    this.stateValue = "loading";
    this.diagnostics.condition = { level: DIAGNOSTIC_LEVEL.OK, message: `loading model ${this.modelLabel}` };
    const open = options.openRuntime ?? openBackboneRuntime;
    this.ready = this.load(open, { model, maxStreams: this.streams.length, intraOpThreads, coarseToFine });
  }

  get state(): BackboneState {
    return this.stateValue;
  }

  /** The stream names, in `streams` order (the first answers for stream ""). */
  get streamNames(): string[] {
    return this.streams.map((s) => s.name);
  }

  private async load(open: OpenBackboneRuntime, opts: BackboneOpenOptions): Promise<void> {
    const log = this.node.logger;
    let runtime: BackboneRuntimePort | null = null;
    try {
      runtime = await open(opts);
      for (const s of this.streams) runtime.addStream(s.name);
    } catch (e) {
      // A runtime that opened but refused a stream must not leave its worker thread running.
      if (runtime) await runtime.close().catch(() => undefined);
      this.stateValue = this.stateValue === "closed" ? "closed" : "failed";
      if (e instanceof ModelError) {
        this.counters.inc("errors.bad_model");
        this.failure = e.message;
        log.error(`model ${this.modelLabel} failed to load: ${e.message} (file ${e.file}${e.tensor ? `, tensor ${e.tensor}` : ""}); ` +
          "the node keeps running and answers backbone questions with STATUS_ERROR");
      } else {
        const typed = this.diagnostics.errors.report(e, `loading model ${this.modelLabel}`);
        this.failure = typed.message;
      }
      this.diagnostics.condition = { level: DIAGNOSTIC_LEVEL.ERROR, message: `model failed to load: ${this.failure}` };
      return;
    }
    if (this.stateValue === "closed") {
      await runtime.close();
      return;
    }
    this.runtime = runtime;
    this.config = runtime.config;
    this.stateValue = "ready";
    const trained = runtime.config.trained;
    const what = trained ? "trained" : "untrained (seeded random weights: latency only, its text is never an answer)";
    log.info(`model ${this.modelLabel} loaded, ${what}; streams ${this.streams.map((s) => s.name).join(", ")}`);
    this.diagnostics.condition = { level: DIAGNOSTIC_LEVEL.OK, message: `model ${this.modelLabel} loaded, ${what}` };
    for (const s of this.streams) {
      this.node.createSubscription<M.sensor_msgs__msg__Image>(
        T.Image, s.topic, QOS_SENSOR_DATA, this.diagnostics.errors.guard(s.topic, (img) => this.onFrame(s, img)),
      );
    }
  }

  private onFrame(s: StreamState, img: M.sensor_msgs__msg__Image): void {
    const runtime = this.runtime;
    if (!runtime) return;
    this.counters.inc("frames_in");
    const errors = this.diagnostics.errors;
    // The stamp is checked here (a bad one is refused before the runtime sees the frame); the
    // image itself is checked by the runtime, which refuses it with a typed error.
    let stamp: bigint;
    let frameId: string;
    let pending: Promise<BackboneFrameTiming>;
    try {
      stamp = stampOf(img);
      frameId = typeof img.header.frame_id === "string" ? img.header.frame_id : "";
      pending = runtime.pushFrame(s.name, img);
    } catch (e) {
      this.counters.inc("frames_dropped");
      errors.report(e, s.topic);
      return;
    }
    pending.then((t) => {
      if (t.superseded) {
        this.counters.inc("frames_dropped");
        this.counters.inc("dropped.superseded");
        return;
      }
      this.counters.inc("frames_done");
      s.framesDone++;
      s.lastStampNs = stamp;
      s.lastFrameId = frameId;
      this.diagnostics.addFrame(t);
    }, (e: unknown) => {
      this.counters.inc("frames_dropped");
      errors.report(e, s.topic);
    });
  }

  /**
   * The backbone's answer to `question` about `stream` ("" = the first). Never rejects: every
   * refusal is a SpatialAnswer with source "backbone" and the reason in its text.
   */
  async answer(question: unknown, stream: unknown): Promise<M.spatial_reward_msgs__msg__SpatialAnswer> {
    const t0 = performance.now();
    this.counters.inc("questions");
    const q = typeof question === "string" ? question : "";
    const refuse = (status: number, key: string, text: string, stampNs = 0n, frameId = "") => {
      this.counters.inc(`answers.${key}`);
      return refusalMsg(status, q, text, stampNs, frameId, ANSWER_SOURCE.backbone);
    };
    let s: StreamState;
    try {
      checkQuestionLength(question as string);
      s = this.stream(stream);
    } catch (e) {
      const typed = this.diagnostics.errors.report(e, "question");
      this.counters.inc("answers.error");
      return errorAnswer(q, typed, 0n, "", ANSWER_SOURCE.backbone);
    }
    switch (this.stateValue) {
      case "idle":
        return refuse(SpatialAnswerStatus.STATUS_ERROR, "no_model", "no backbone model is configured (parameter model_path is empty); ask the engine (source \"\")");
      case "loading":
        return refuse(SpatialAnswerStatus.STATUS_ERROR, "loading", `the backbone model ${this.modelLabel} is still loading`);
      case "failed":
        return refuse(SpatialAnswerStatus.STATUS_ERROR, "model_failed", `the backbone model failed to load: ${this.failure}`);
      case "closed":
        return refuse(SpatialAnswerStatus.STATUS_ERROR, "closed", "the backbone node is shutting down");
      case "ready":
        break;
    }
    if (s.framesDone === 0) {
      return refuse(SpatialAnswerStatus.STATUS_NO_SCENE, "no_scene", `no frame of stream ${s.name} (${s.topic}) has been processed yet`);
    }
    if (this.pendingQuestions >= MAX_PENDING_QUESTIONS) {
      this.counters.inc("dropped.questions_busy");
      return refuse(SpatialAnswerStatus.STATUS_ERROR, "busy", `the backbone is busy with ${this.pendingQuestions} questions; ask again later`, s.lastStampNs, s.lastFrameId);
    }
    const stampNs = s.lastStampNs, frameId = s.lastFrameId;
    this.pendingQuestions++;
    try {
      const r = await this.runtime!.ask(s.name, q, { maxTokens: this.maxAnswerTokens });
      const msg = backboneAnswerToMsg(q, { text: r.text, tokens: r.tokenIds.length, tokenMs: r.tokenMs, trained: r.trained }, stampNs, frameId);
      this.counters.inc(r.trained ? "answers.ok" : "answers.untrained");
      this.diagnostics.answerLatency.add(performance.now() - t0);
      return msg;
    } catch (e) {
      const typed = this.diagnostics.errors.report(e, "backbone ask");
      this.counters.inc("answers.error");
      return errorAnswer(q, typed, stampNs, frameId, ANSWER_SOURCE.backbone);
    } finally {
      this.pendingQuestions--;
    }
  }

  private stream(name: unknown): StreamState {
    if (name === undefined || name === "") return this.streams[0];
    if (typeof name !== "string") throw new InvalidInputError("bad_argument", `stream must be a string, got ${typeof name}`);
    const s = this.streams.find((x) => x.name === name || x.name === name.replace(/\/+$/, ""));
    if (!s) {
      const shown = name.length > 60 ? `${name.slice(0, 60)}…` : name;
      throw new InvalidInputError("bad_argument", `unknown stream ${JSON.stringify(shown)}; this backbone serves ${this.streams.map((x) => JSON.stringify(x.name)).join(", ")}`);
    }
    return s;
  }

  /** Closes the runtime (its worker thread); the node answers "shutting down" from then on. */
  async close(): Promise<void> {
    if (this.stateValue === "closed") return;
    this.stateValue = "closed";
    const r = this.runtime;
    this.runtime = null;
    if (r) {
      try {
        await r.close();
      } catch (e) {
        this.diagnostics.errors.report(e, "closing the backbone runtime");
      }
    }
  }
}

/**
 * BackboneRuntime.open, imported only when a model is configured: a node without a model never
 * loads the worker code (nor, through it, onnxruntime-node).
 */
export const openBackboneRuntime: OpenBackboneRuntime = async (opts) => {
  const { BackboneRuntime } = await import("./backbone/backbone_runtime.js");
  // Typed: the real runtime must satisfy the port this node is written (and tested) against.
  const runtime: BackboneRuntimePort = await BackboneRuntime.open(opts);
  return runtime;
};

function intParameter(node: TransportNode, name: string, fallback: number, range: { min: number; max: number }): number {
  const v = Number(node.declareParameter(name, fallback));
  if (!Number.isInteger(v) || v < range.min || v > range.max) {
    throw new Error(`backbone: ${name} must be an integer in ${range.min}..${range.max}, got ${v}`);
  }
  return v;
}

const STAGES = ["encode", "project", "prefill", "total", "queue"] as const;

/**
 * The node's /diagnostics: the standard counters and latency (total ms per frame), plus each
 * stage's windowed p50/p99, the kept fraction of coarse-to-fine and the answer latency.
 */
export class BackboneDiagnostics extends DiagnosticsPublisher {
  readonly stages: Record<(typeof STAGES)[number], LatencyStats> = {
    encode: new LatencyStats({ windowMs: 10_000 }),
    project: new LatencyStats({ windowMs: 10_000 }),
    prefill: new LatencyStats({ windowMs: 10_000 }),
    total: this.latency,
    queue: new LatencyStats({ windowMs: 10_000 }),
  };
  readonly answerLatency = new LatencyStats({ windowMs: 10_000 });
  /** Every frame's total worker time since start (not windowed): a run's summary (the demo's). */
  readonly frameMsAll = new LatencyStats();
  /** Kept fraction of the last frame (1 without coarse-to-fine). */
  keptFraction = NaN;
  visualTokens = 0;

  constructor(node: TransportNode, counters: Counters, clock: NodeClock = WALL_CLOCK) {
    super(node, "backbone", counters, clock);
  }

  addFrame(t: BackboneFrameTiming): void {
    this.stages.encode.add(t.encodeMs);
    this.stages.project.add(t.projectMs);
    this.stages.prefill.add(t.prefillMs);
    this.stages.total.add(t.totalMs);
    this.frameMsAll.add(t.totalMs);
    this.stages.queue.add(t.queueMs);
    this.keptFraction = t.keptFraction;
    this.visualTokens = t.visualTokens;
  }

  override snapshot(nowNs?: bigint): M.diagnostic_msgs__msg__DiagnosticArray {
    const msg = super.snapshot(nowNs);
    const values = msg.status[0].values;
    for (const stage of STAGES) {
      if (stage === "total") continue; // latency_ms.* above
      const s = this.stages[stage].summary();
      values.push({ key: `${stage}_ms.p50`, value: String(s.p50) }, { key: `${stage}_ms.p99`, value: String(s.p99) });
    }
    const a = this.answerLatency.summary();
    values.push(
      { key: "kept_fraction", value: Number.isFinite(this.keptFraction) ? this.keptFraction.toFixed(3) : "" },
      { key: "visual_tokens", value: String(this.visualTokens) },
      { key: "answer_ms.p50", value: String(a.p50) },
      { key: "answer_ms.p99", value: String(a.p99) },
      { key: "answer_ms.n", value: String(a.n) },
    );
    return msg;
  }
}

import type { TransportNode } from "../src/transport/port.js";
import { QOS_DEFAULT, QOS_LATCHED, QOS_SENSOR_DATA } from "../src/transport/qos.js";
import type { Publisher } from "../src/transport/port.js";
import { Counters } from "../src/diagnostics/counters.js";
import { LatencyStats } from "../src/diagnostics/latency_stats.js";
import { InvalidInputError, ModelError, SpatialRewardError } from "../src/errors.js";
import { StampGate } from "../src/time/stamp_gate.js";
import type { BackboneConfig } from "../src/backbone/config.js";
import { checkQuestionLength } from "../src/spatial/question_parser.js";
import { SpatialAnswerStatus } from "../src/msgs/generated.js";
import type * as M from "../src/msgs/generated.js";
import {
  ANSWER_SOURCE, BACKBONE_PROGRESS_TOPIC, T, backboneAnswerToMsg, errorAnswer, progressToRewardMsg, refusalMsg, stampOf,
} from "./messages.js";
import { DiagnosticsPublisher, DIAGNOSTIC_LEVEL } from "./diagnostics_publisher.js";
import { RosClock, WALL_CLOCK, type NodeClock } from "./ros_clock.js";
// The runtime's own types, type-only: erased at run time, so a node without a model still never
// loads the runtime module (nor onnxruntime-node through it); the value is imported on demand below.
import type {
  BackboneAnswerResult, CameraImage, FrameTiming, ModelSource, OpenOptions,
} from "./backbone/backbone_runtime.js";

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
 * `spatial/answer` too, default true; only while a model is loaded), progress_success_threshold
 * (0.9, in (0, 1]: a progress message says success at or above it; see Progress below).
 *
 * Serves `backbone/spatial_query` (SpatialQuery.srv; the spatial node forwards requests with
 * source "backbone" to it). Every answer has source "backbone". A model that failed to load
 * (ModelError naming file and tensor: logged at ERROR, /diagnostics ERROR) leaves the node
 * running; its answers are STATUS_ERROR saying so, and the engine keeps answering through the
 * spatial node. An untrained model's text is never an answer (see backboneAnswerToMsg).
 * A worker that dies after loading (runtime onFailure) puts the node in the same failed state:
 * logged once at ERROR, /diagnostics ERROR with the reason, backbone questions STATUS_ERROR
 * "backbone worker failed: …".
 *
 * Frames: per stream, stamps must increase (StampGate, as perception): a repeated or older
 * stamp is `out_of_order_stamp`, dropped and counted; a jump of more than 5 s, back or ahead
 * (`stamp_jump.back` / `stamp_jump.ahead`), is an outlier, also `out_of_order_stamp`, unless 3
 * consecutive frames confirm the new timeline (a bag loop, a clock step: `stamp_jump.adopted`). A frame without a
 * usable header is `bad_message` / `bad_stamp` (hostile input, WARN), never `internal`.
 *
 * /diagnostics timing: the runtime times batches (several streams' frames in one run), so
 * `batch_ms.*` is a batch's worker time, `batch_size.*` its frames, and every `*frame_ms*` key
 * and `latency_ms.*` is a frame's share: the batch's time divided by its size.
 *
 * An answer's header stamp is the stamp of the last frame of its stream whose prefill finished
 * before the runtime forked the stream for the question, i.e. what the answer has seen (see
 * answer()).
 *
 * Progress: with a model that has a progress head (config `progress_head`), every finished
 * frame of the first stream in `streams` (the one that answers for stream "") is published on
 * `backbone/progress` as spatial_reward_msgs/Reward (reliable, keep-last 10): header = the
 * frame's stamp and frame id, progress = the head's value, reward = progress − 1, success =
 * progress ≥ `progress_success_threshold` (0.9), residual NaN (no geometry), spec = the text
 * latched on `reward/spec` if any, else "" (see progressToRewardMsg). One stream, because one
 * reward node follows one task and one camera; several cameras are several namespaces, as for
 * perception. A model without a head publishes nothing there: said once in the log, counted
 * once (`progress.none`). A head value that is not a number in [0, 1] (a broken model) is not
 * published: `dropped.bad_progress`, `errors.bad_model`.
 */

/** Longest `stream` a request may name (the runtime's own limit on stream names). */
export const MAX_STREAM_NAME_CHARS = 256;

export type {
  BackboneAnswerResult, CameraImage as BackboneImage, FrameTiming as BackboneFrameTiming,
  ModelSource as BackboneModelSource, OpenOptions as BackboneOpenOptions,
};

/** What this node needs of the runtime: BackboneRuntime satisfies it. */
export interface BackboneRuntimePort {
  readonly config: BackboneConfig;
  addStream(name: string): void;
  pushFrame(stream: string, image: CameraImage): Promise<FrameTiming>;
  ask(stream: string, question: string, opts?: { maxTokens?: number }): Promise<BackboneAnswerResult>;
  close(): Promise<void>;
  /** Called once if the worker dies (or the runtime fails for good) after open. */
  onFailure(cb: (error: SpatialRewardError) => void): void;
  /** The question that guides a stream's coarse-to-fine keep scores from its next frame on (null: none). */
  setQuestion(stream: string, question: string | null): void;
}

export type OpenBackboneRuntime = (opts: OpenOptions) => Promise<BackboneRuntimePort>;

export interface BackboneNodeOptions {
  /** Opens the runtime; default: BackboneRuntime.open (loaded only when a model is configured). */
  openRuntime?: OpenBackboneRuntime;
  /** A model given in code (the demo's seeded-random model); wins over the model_path parameter. */
  model?: ModelSource;
}

export type BackboneState = "idle" | "loading" | "ready" | "failed" | "closed";

/** Questions waiting for the runtime at once; more are refused (a question flood must not queue without bound). */
export const MAX_PENDING_QUESTIONS = 8;

/** Longest task text taken from `reward/spec` into the progress messages (the reward node's own spec limit). */
const MAX_TASK_TEXT_CHARS = 4096;

const PARAM_LIMITS = { maxAnswerTokens: { min: 1, max: 4096 }, intraOpThreads: { min: 1, max: 64 }, streams: 64 } as const;
const STREAM_NAME = /^[A-Za-z_~/][A-Za-z0-9_/]*$/;

interface StreamState {
  /** The runtime's stream name (the namespace as given in `streams`). */
  name: string;
  topic: string;
  /** Stamp and frame id of the last frame the runtime finished (prefilled, not superseded): what an answer is about. */
  lastStampNs: bigint;
  lastFrameId: string;
  framesDone: number;
  /** Stamps of the frames handed to the runtime: each must be newer than the last (see onFrame). */
  stamps: StampGate;
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
  /** Why the node is "failed": the text backbone questions are refused with. */
  private failure = "";
  private pendingQuestions = 0;
  private readonly streams: StreamState[];
  private readonly maxAnswerTokens: number;
  private readonly coarseToFine: boolean;
  private readonly modelLabel: string;
  private readonly successThreshold: number;
  /** backbone/progress, created once a model with a progress head is loaded. */
  private progressPub: Publisher<M.spatial_reward_msgs__msg__Reward> | null = null;
  /** The task text latched on reward/spec ("" until one arrives): the progress messages' spec. */
  private taskText = "";
  /** The no-progress condition has been said (logged and counted) once. */
  private noProgressSaid = false;

  constructor(readonly node: TransportNode, options: BackboneNodeOptions = {}) {
    const modelPath = String(node.declareParameter("model_path", ""));
    const streamNames = node.declareParameter("streams", ["camera"]);
    const coarseToFine = Boolean(node.declareParameter("coarse_to_fine", false));
    this.coarseToFine = coarseToFine;
    this.maxAnswerTokens = intParameter(node, "max_answer_tokens", 32, PARAM_LIMITS.maxAnswerTokens);
    const intraOpThreads = intParameter(node, "intra_op_threads", 1, PARAM_LIMITS.intraOpThreads);
    const answerTopic = Boolean(node.declareParameter("answer_topic_questions", true));
    const threshold = Number(node.declareParameter("progress_success_threshold", 0.9));
    // (0, 1]: the head is a sigmoid, so 0 would call every frame a success and > 1 none.
    if (!(threshold > 0 && threshold <= 1)) {
      throw new Error(`backbone: progress_success_threshold must be a number in (0, 1], got ${threshold}`);
    }
    this.successThreshold = threshold;
    if (!Array.isArray(streamNames) || streamNames.length < 1 || streamNames.length > PARAM_LIMITS.streams) {
      throw new Error(`backbone: streams must list 1 to ${PARAM_LIMITS.streams} camera namespaces, got ${JSON.stringify(streamNames)}`);
    }
    const seen = new Set<string>();
    this.streams = streamNames.map((raw) => {
      const text = String(raw);
      if (text.length > MAX_STREAM_NAME_CHARS) {
        throw new Error(`backbone: a stream namespace is at most ${MAX_STREAM_NAME_CHARS} characters, got ${text.length}`);
      }
      const name = stripTrailingSlashes(text);
      if (!STREAM_NAME.test(name) || name.includes("//") || seen.has(name)) {
        throw new Error(`backbone: streams must be distinct camera namespaces such as "camera" or "/cam1/camera", got ${JSON.stringify(raw)}`);
      }
      seen.add(name);
      return { name, topic: `${name}/color/image_raw`, lastStampNs: 0n, lastFrameId: "", framesDone: 0, stamps: new StampGate() };
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

    const model: ModelSource | null = options.model ?? (modelPath === "" ? null : { dir: modelPath });
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

  private async load(open: OpenBackboneRuntime, opts: OpenOptions): Promise<void> {
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
        this.failure = `the backbone model failed to load: ${e.message}`;
        log.error(`model ${this.modelLabel} failed to load: ${e.message} (file ${e.file}${e.tensor ? `, tensor ${e.tensor}` : ""}); ` +
          "the node keeps running and answers backbone questions with STATUS_ERROR");
      } else {
        const typed = this.diagnostics.errors.report(e, `loading model ${this.modelLabel}`);
        this.failure = `the backbone model failed to load: ${typed.message}`;
      }
      this.diagnostics.condition = { level: DIAGNOSTIC_LEVEL.ERROR, message: this.failure.replace(/^the backbone /, "") };
      return;
    }
    if (this.stateValue === "closed") {
      await runtime.close();
      return;
    }
    this.runtime = runtime;
    this.config = runtime.config;
    this.stateValue = "ready";
    runtime.onFailure((e) => this.onRuntimeFailure(runtime, e));
    const trained = runtime.config.trained;
    const what = trained ? "trained" : "untrained (seeded random weights: latency only, its text is never an answer)";
    log.info(`model ${this.modelLabel} loaded, ${what}; streams ${this.streams.map((s) => s.name).join(", ")}`);
    this.diagnostics.condition = { level: DIAGNOSTIC_LEVEL.OK, message: `model ${this.modelLabel} loaded, ${what}` };
    if (runtime.config.progress_head === true) {
      this.progressPub = this.node.createPublisher<M.spatial_reward_msgs__msg__Reward>(T.Reward, BACKBONE_PROGRESS_TOPIC, QOS_DEFAULT);
      this.node.createSubscription<M.spatial_reward_msgs__msg__RewardSpec>(
        T.RewardSpec, "reward/spec", QOS_LATCHED, this.diagnostics.errors.guard("reward/spec", (m) => this.onTaskText(m)),
      );
      log.info(`progress head: the progress of stream ${this.streams[0].name} is published on ${BACKBONE_PROGRESS_TOPIC} ` +
        `(success at progress ≥ ${this.successThreshold})`);
    } else {
      this.saidNoProgress(`model ${this.modelLabel} has no progress head`);
    }
    for (const s of this.streams) {
      this.node.createSubscription<M.sensor_msgs__msg__Image>(
        T.Image, s.topic, QOS_SENSOR_DATA, this.diagnostics.errors.guard(s.topic, (img) => this.onFrame(s, img)),
      );
    }
  }

  /**
   * The worker died (or the runtime failed for good) after loading: the node is failed from now
   * on, like a model that did not load. Said once (log ERROR, /diagnostics ERROR); the runtime is
   * closed so that no worker thread is left behind; frames and questions in flight were rejected
   * by the runtime with the same error and are counted as dropped without logging each.
   */
  private onRuntimeFailure(runtime: BackboneRuntimePort, e: SpatialRewardError): void {
    if (this.stateValue !== "ready" || this.runtime !== runtime) return;
    const reason = e instanceof Error && typeof e.message === "string" ? e.message : String(e);
    const code = e instanceof SpatialRewardError ? e.code : "internal";
    this.stateValue = "failed";
    this.runtime = null;
    this.failure = `backbone worker failed: ${reason}`;
    this.counters.inc("errors.worker_failed");
    this.counters.inc(`errors.${code}`);
    this.node.logger.error(`model ${this.modelLabel}: ${this.failure}; the node keeps running and answers backbone questions with STATUS_ERROR`);
    this.diagnostics.condition = { level: DIAGNOSTIC_LEVEL.ERROR, message: this.failure };
    runtime.close().catch(() => undefined);
  }

  private onFrame(s: StreamState, img: M.sensor_msgs__msg__Image): void {
    const runtime = this.runtime;
    if (!runtime) {
      // After the worker died the subscriptions stay; their frames are counted, not processed.
      if (this.stateValue === "failed") {
        this.counters.inc("frames_in");
        this.counters.inc("frames_dropped");
        this.counters.inc("dropped.worker_failed");
      }
      return;
    }
    this.counters.inc("frames_in");
    const errors = this.diagnostics.errors;
    // The header is checked here (a bad one is refused before the runtime sees the frame); the
    // image itself is checked by the runtime, which refuses it with a typed error.
    let stamp: bigint;
    let frameId: string;
    let pending: Promise<FrameTiming>;
    try {
      const header: unknown = img === null || typeof img !== "object" ? null : img.header;
      if (header === null || typeof header !== "object") throw new InvalidInputError("bad_message", "image has no header (std_msgs/Header)");
      stamp = stampOf(img);
      frameId = typeof img.header.frame_id === "string" ? img.header.frame_id : "";
      const verdict = this.checkStamp(s, stamp);
      pending = runtime.pushFrame(s.name, img);
      // Committed once handed over: a frame the runtime then refuses still holds its place in
      // time (the camera sent it), and an older one after it is still out of order.
      s.stamps.commit(stamp, verdict);
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
      if (s === this.streams[0]) this.publishProgress(t.progress, stamp, frameId);
    }, (e: unknown) => {
      this.counters.inc("frames_dropped");
      // The worker's failure is reported once, by onRuntimeFailure, not once per frame it took down.
      if (this.stateValue === "failed" && this.runtime !== runtime) {
        this.counters.inc("dropped.worker_failed");
        return;
      }
      errors.report(e, s.topic);
    });
  }

  /** The task text for the progress messages: the latched reward/spec, if it is a usable text. */
  private onTaskText(m: M.spatial_reward_msgs__msg__RewardSpec): void {
    const text: unknown = m === null || typeof m !== "object" ? undefined : m.text;
    if (typeof text !== "string") throw new InvalidInputError("bad_message", "reward/spec has no text");
    if (text.length > MAX_TASK_TEXT_CHARS) throw new InvalidInputError("input_too_long", `reward/spec text is ${text.length} characters, at most ${MAX_TASK_TEXT_CHARS}`);
    this.taskText = text;
  }

  /**
   * The head's progress for a finished frame of the first stream, on backbone/progress. NaN (or
   * absent) means no head: nothing is published, said once. A value outside [0, 1] (the head is
   * a sigmoid, so only a broken model gives one) is refused, counted and reported.
   */
  private publishProgress(progress: number | undefined, stampNs: bigint, frameId: string): void {
    if (progress === undefined || Number.isNaN(progress)) {
      this.saidNoProgress(`model ${this.modelLabel} gave no progress for a frame (NaN)`);
      return;
    }
    const pub = this.progressPub;
    if (!pub) return;
    if (!(progress >= 0 && progress <= 1)) {
      this.counters.inc("dropped.bad_progress");
      this.diagnostics.errors.report(new SpatialRewardError("bad_model", `the progress head gave ${progress}, not a number in [0, 1]; not published`), BACKBONE_PROGRESS_TOPIC);
      return;
    }
    pub.publish(progressToRewardMsg(progress, this.successThreshold, stampNs, frameId, this.taskText));
    this.counters.inc("progress_out");
    this.diagnostics.lastProgress = progress;
  }

  private saidNoProgress(why: string): void {
    if (this.noProgressSaid) return;
    this.noProgressSaid = true;
    this.counters.inc("progress.none");
    this.node.logger.info(`${why}: nothing is published on ${BACKBONE_PROGRESS_TOPIC} (a reward node with reward_source backbone gets no progress)`);
  }

  /**
   * A frame must be newer than the stream's last: an older one would be prefilled after newer
   * ones (the state's order is time's order) and a repeated one twice. As perception does
   * (StampGate): late by up to 5 s is out of order; further back is an outlier that costs only
   * itself unless 3 consecutive frames confirm a new timeline (a bag loop, a clock step), which
   * is then adopted. A jump ahead is the same: one stray stamp an hour ahead would otherwise
   * become the stream's last stamp and refuse every real frame after it (and stamp answers with it).
   */
  private checkStamp(s: StreamState, stamp: bigint): "accept" | "adopt" {
    const last = s.stamps.lastStamp;
    if (last !== null && stamp === last) {
      throw new InvalidInputError("out_of_order_stamp", `frame stamp ${stamp} ns repeats the previous frame's`);
    }
    const verdict = s.stamps.check(stamp);
    if (verdict === "accept" || verdict === "adopt") {
      if (verdict === "adopt") this.counters.inc("stamp_jump.adopted");
      return verdict;
    }
    if (verdict === "jump_back" || verdict === "jump_ahead") {
      const ahead = verdict === "jump_ahead";
      this.counters.inc(ahead ? "stamp_jump.ahead" : "stamp_jump.back");
      const gap = Number(ahead ? stamp - last! : last! - stamp) / 1e9;
      throw new InvalidInputError("out_of_order_stamp",
        `frame stamp ${stamp} ns is ${gap.toFixed(3)} s ${ahead ? "ahead of" : "behind"} the previous frame (${last} ns): ` +
        `an outlier, unless ${s.stamps.options.confirm} consecutive frames confirm the new timeline`);
    }
    throw new InvalidInputError("out_of_order_stamp", `frame stamp ${stamp} ns is older than the previous frame's ${last} ns`);
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
        return refuse(SpatialAnswerStatus.STATUS_ERROR, "model_failed", this.failure);
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
    const runtime = this.runtime!;
    this.pendingQuestions++;
    try {
      // ScanFormer's question-guided keep score: the latest question about a stream steers which
      // patches its following frames encode (with coarse_to_fine; without it this changes nothing).
      if (this.coarseToFine) runtime.setQuestion(s.name, q);
      const r = await runtime.ask(s.name, q, { maxTokens: this.maxAnswerTokens });
      // The stamp is read when the answer arrives, not when the question did: the runtime's one
      // worker runs frame batches and questions one at a time, and a frame's promise settles
      // (updating lastStampNs) before the runtime dispatches the next job, so the last frame
      // finished now is the last one prefilled before the question forked the stream state.
      // Frames that arrived while the question waited are in the answer; later ones are not.
      const msg = backboneAnswerToMsg(q, { text: r.text, tokens: r.tokenIds.length, tokenMs: r.tokenMs, trained: r.trained }, s.lastStampNs, s.lastFrameId);
      this.counters.inc(!r.trained ? "answers.untrained" : msg.status === SpatialAnswerStatus.STATUS_OK ? "answers.ok" : "answers.empty");
      this.diagnostics.answerLatency.add(performance.now() - t0);
      return msg;
    } catch (e) {
      this.counters.inc("answers.error");
      if (this.state === "failed" && this.runtime !== runtime) {
        // The worker died under this question: the node's failure says why (reported once).
        this.counters.inc(`answers.model_failed`);
        return refusalMsg(SpatialAnswerStatus.STATUS_ERROR, q, this.failure, s.lastStampNs, s.lastFrameId, ANSWER_SOURCE.backbone);
      }
      const typed = this.diagnostics.errors.report(e, "backbone ask");
      return errorAnswer(q, typed, s.lastStampNs, s.lastFrameId, ANSWER_SOURCE.backbone);
    } finally {
      this.pendingQuestions--;
    }
  }

  private stream(name: unknown): StreamState {
    if (name === undefined || name === "") return this.streams[0];
    if (typeof name !== "string") throw new InvalidInputError("bad_argument", `stream must be a string, got ${name === null ? "null" : typeof name}`);
    // Bounded before anything looks at it: the request's text is the caller's, of any length.
    if (name.length > MAX_STREAM_NAME_CHARS) throw new InvalidInputError("input_too_long", `stream is ${name.length} characters, at most ${MAX_STREAM_NAME_CHARS}`);
    const trimmed = stripTrailingSlashes(name);
    const s = this.streams.find((x) => x.name === name || x.name === trimmed);
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

/**
 * `name` without its trailing slashes. A loop, not /\/+$/: that regex retries from every
 * slash of a run that is not at the end, quadratic in the run (60k slashes blocked the event
 * loop for over a second).
 */
export function stripTrailingSlashes(name: string): string {
  let end = name.length;
  while (end > 0 && name.charCodeAt(end - 1) === 0x2f) end--;
  return end === name.length ? name : name.slice(0, end);
}

function intParameter(node: TransportNode, name: string, fallback: number, range: { min: number; max: number }): number {
  const v = Number(node.declareParameter(name, fallback));
  if (!Number.isInteger(v) || v < range.min || v > range.max) {
    throw new Error(`backbone: ${name} must be an integer in ${range.min}..${range.max}, got ${v}`);
  }
  return v;
}

/** encode = vision encoder + projector (one graph run: vision_projector or vision_c2f). */
const STAGES = ["encode", "prefill"] as const;

/**
 * The node's /diagnostics: the standard counters and latency, plus timing per stage, the kept
 * fraction of coarse-to-fine and the answer latency, all windowed (p50/p99 of the last ~10 s).
 *
 * The runtime runs the waiting frames of all streams as one batch and reports each frame's
 * stages as the batch's times. Published here, per frame (the batch's time / its size):
 * `latency_ms.*` and `frame_ms.*` (worker time), `encode_frame_ms.*` (vision encoder + projector, one graph),
 * `prefill_frame_ms.*`; per batch: `batch_ms.*` (a batch's worker time) and `batch_size.*`;
 * `queue_ms.*` is the frame's own wait from push to dispatch.
 */
export class BackboneDiagnostics extends DiagnosticsPublisher {
  /**
   * To three digits, as its stages: a model's frame is tens of ms and the per-stage figures are
   * compared with each other (the camera nodes' cheaper two-digit window is about their bursts).
   */
  override latency = new LatencyStats({ windowMs: 10_000 });
  /** Each stage's time per frame (the batch's stage time / batch size). */
  readonly stages: Record<(typeof STAGES)[number], LatencyStats> = {
    encode: new LatencyStats({ windowMs: 10_000 }),
    prefill: new LatencyStats({ windowMs: 10_000 }),
  };
  /** A batch's whole worker time (one sample per frame of it: every frame waited that long). */
  readonly batchMs = new LatencyStats({ windowMs: 10_000 });
  /** Frames per batch, one sample per frame (the batch each frame was in). */
  readonly batchSize = new LatencyStats({ windowMs: 10_000 });
  readonly queueMs = new LatencyStats({ windowMs: 10_000 });
  readonly answerLatency = new LatencyStats({ windowMs: 10_000 });
  /** Every frame's worker time per frame since start (not windowed): a run's summary (the demo's). */
  readonly frameMsAll = new LatencyStats();
  /** Kept fraction of the last frame (1 without coarse-to-fine). */
  keptFraction = NaN;
  visualTokens = 0;
  /** Frames in the last frame's batch. */
  lastBatch = 0;
  /** The last progress published on backbone/progress (NaN: none yet, or no head). */
  lastProgress = NaN;

  constructor(node: TransportNode, counters: Counters, clock: NodeClock = WALL_CLOCK) {
    super(node, "backbone", counters, clock);
  }

  addFrame(t: FrameTiming): void {
    // A runtime that does not say (or says nonsense) ran the frame alone.
    const batch = Number.isInteger(t.batch) && t.batch >= 1 ? t.batch : 1;
    this.stages.encode.add((t.encodeMs + t.projectMs) / batch);
    this.stages.prefill.add(t.prefillMs / batch);
    this.latency.add(t.totalMs / batch);
    this.frameMsAll.add(t.totalMs / batch);
    this.batchMs.add(t.totalMs);
    this.batchSize.add(batch);
    this.queueMs.add(t.queueMs);
    this.keptFraction = t.keptFraction;
    this.visualTokens = t.visualTokens;
    this.lastBatch = batch;
  }

  override snapshot(nowNs?: bigint): M.diagnostic_msgs__msg__DiagnosticArray {
    const msg = super.snapshot(nowNs);
    const values = msg.status[0].values;
    const push = (key: string, stats: LatencyStats) => {
      const x = stats.summary();
      values.push({ key: `${key}.p50`, value: String(x.p50) }, { key: `${key}.p99`, value: String(x.p99) });
    };
    push("frame_ms", this.latency);
    for (const stage of STAGES) push(`${stage}_frame_ms`, this.stages[stage]);
    push("batch_ms", this.batchMs);
    push("batch_size", this.batchSize);
    push("queue_ms", this.queueMs);
    const a = this.answerLatency.summary();
    values.push(
      { key: "batch_size.last", value: String(this.lastBatch) },
      { key: "kept_fraction", value: Number.isFinite(this.keptFraction) ? this.keptFraction.toFixed(3) : "" },
      { key: "visual_tokens", value: String(this.visualTokens) },
      { key: "progress.last", value: Number.isFinite(this.lastProgress) ? this.lastProgress.toFixed(4) : "" },
      { key: "answer_ms.p50", value: String(a.p50) },
      { key: "answer_ms.p99", value: String(a.p99) },
      { key: "answer_ms.n", value: String(a.n) },
    );
    return msg;
  }
}

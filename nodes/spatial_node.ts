import type { TransportNode } from "../src/transport/port.js";
import { QOS_DEFAULT } from "../src/transport/qos.js";
import { Counters } from "../src/diagnostics/counters.js";
import type { Scene } from "../src/scene/scene_object.js";
import { validateScene } from "../src/scene/scene_validation.js";
import { answerQuestion } from "../src/spatial/answer_question.js";
import { checkQuestionLength } from "../src/spatial/question_parser.js";
import type * as M from "../src/msgs/generated.js";
import { SpatialRewardError } from "../src/errors.js";
import { SpatialAnswerStatus } from "../src/msgs/generated.js";
import { ANSWER_SOURCE, T, answerToMsg, errorAnswer, noSceneAnswer, refusalMsg, sceneFromMsg } from "./messages.js";
import { DiagnosticsPublisher, DIAGNOSTIC_LEVEL } from "./diagnostics_publisher.js";
import { RosClock } from "./ros_clock.js";
import { MAX_STREAM_NAME_CHARS } from "./backbone_node.js";

/**
 * Spatial node: answers questions about the latest scene graph, as a service
 * (`spatial_query`, SpatialQuery.srv) and as a topic pair (`spatial/question` std_msgs/String
 * in, `spatial/answer` SpatialAnswer out). Every question gets an answer — a refusal with the
 * reason when it cannot be answered (status unparsed/unknown/ambiguous/no_scene/error) — and
 * is counted by status. Answers are in the scene's frame (its header.frame_id).
 *
 * A service request with source "backbone" is forwarded to the backbone node's
 * `backbone/spatial_query` (same namespace) and its answer returned as it came (source
 * "backbone"); when no backbone node serves, or it does not answer within
 * `backbone_timeout_ms`, the answer is STATUS_ERROR saying so. "" and "engine" are the engine.
 * The topic pair is the engine's; the backbone node answers `spatial/question` on its own.
 */
export class SpatialNode {
  readonly counters = new Counters();
  readonly diagnostics: DiagnosticsPublisher;
  private scene: Scene | null = null;
  private sceneFrameId = "";
  private readonly backbone;
  private readonly backboneTimeoutMs: number;

  constructor(readonly node: TransportNode) {
    const timeoutMs = Number(node.declareParameter("backbone_timeout_ms", 5000));
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0 && timeoutMs <= 600_000)) {
      throw new Error(`spatial: backbone_timeout_ms must be in (0, 600000], got ${timeoutMs}`);
    }
    this.backboneTimeoutMs = timeoutMs;
    const clock = new RosClock(node, (e) => this.diagnostics.errors.report(e, "/clock"));
    this.diagnostics = new DiagnosticsPublisher(node, "spatial", this.counters, clock);
    this.diagnostics.condition = { level: DIAGNOSTIC_LEVEL.WARN, message: "no scene graph received yet" };
    const errors = this.diagnostics.errors;
    node.createSubscription<M.spatial_reward_msgs__msg__SceneObjects>(
      T.SceneObjects, "scene/objects", QOS_DEFAULT,
      errors.guard("scene/objects", (msg) => {
        this.counters.inc("scenes_in");
        // A malformed scene is refused (counted); questions keep using the last good one.
        const scene = validateScene(sceneFromMsg(msg));
        if (!this.scene) node.logger.info(`first scene graph received (${scene.objects.length} objects)`);
        this.scene = scene;
        this.sceneFrameId = msg.header.frame_id;
        this.diagnostics.condition = null;
      }),
    );
    const answerPub = node.createPublisher<M.spatial_reward_msgs__msg__SpatialAnswer>(T.SpatialAnswer, "spatial/answer", QOS_DEFAULT);
    node.createSubscription<M.std_msgs__msg__String>(
      T.String, "spatial/question", QOS_DEFAULT,
      errors.guard("spatial/question", (msg) => answerPub.publish(this.answer(msg.data))),
    );
    this.backbone = node.createClient<M.spatial_reward_msgs__srv__SpatialQuery_Request, M.spatial_reward_msgs__srv__SpatialQuery_Response>(
      T.SpatialQuery, BACKBONE_SERVICE,
    );
    node.createService<M.spatial_reward_msgs__srv__SpatialQuery_Request, M.spatial_reward_msgs__srv__SpatialQuery_Response>(
      T.SpatialQuery, "spatial_query", (req) => this.query(req),
    );
  }

  /** A spatial_query request: the engine's answer, or the backbone's. Never throws or rejects. */
  query(req: M.spatial_reward_msgs__srv__SpatialQuery_Request): M.spatial_reward_msgs__srv__SpatialQuery_Response | Promise<M.spatial_reward_msgs__srv__SpatialQuery_Response> {
    // A request that is not an object at all (null off a hostile peer) has no question to echo.
    if (req === null || typeof req !== "object") {
      return { answer: this.refuseRequest(new SpatialRewardError("bad_message", `a spatial_query request must be a SpatialQuery request, got ${req === null ? "null" : typeof req}`), "") };
    }
    const source: unknown = req.source;
    if (source === undefined || source === "" || source === ANSWER_SOURCE.engine) return { answer: this.answer(req.question) };
    if (source === ANSWER_SOURCE.backbone) return this.askBackbone(req).then((answer) => ({ answer }));
    return {
      answer: this.refuseRequest(
        new SpatialRewardError("bad_argument", `source must be "", "${ANSWER_SOURCE.engine}" or "${ANSWER_SOURCE.backbone}", got ${describeSource(source)}`),
        typeof req.question === "string" ? req.question : "",
      ),
    };
  }

  /** A request refused before any source saw it: STATUS_ERROR with the reason, counted. */
  private refuseRequest(e: SpatialRewardError, question: string): M.spatial_reward_msgs__msg__SpatialAnswer {
    this.counters.inc("questions");
    this.counters.inc("answers.error");
    const typed = this.diagnostics.errors.report(e, "service spatial_query");
    return errorAnswer(question, typed, this.scene?.stamp ?? 0n, this.sceneFrameId);
  }

  /** Forwards to the backbone node; a missing or silent backbone is STATUS_ERROR saying so. */
  private async askBackbone(req: M.spatial_reward_msgs__srv__SpatialQuery_Request): Promise<M.spatial_reward_msgs__msg__SpatialAnswer> {
    this.counters.inc("questions.backbone");
    const question = typeof req.question === "string" ? req.question : "";
    const refuse = (text: string) => {
      this.counters.inc("answers.backbone.error");
      return refusalMsg(SpatialAnswerStatus.STATUS_ERROR, question, text, 0n, "", ANSWER_SOURCE.backbone);
    };
    // The stream is forwarded as given: bounded here first, so a huge one never crosses the transport.
    const stream: unknown = req.stream;
    if (stream !== undefined && typeof stream !== "string") {
      this.diagnostics.errors.report(new SpatialRewardError("bad_argument", `stream must be a string, got ${stream === null ? "null" : typeof stream}`), "service spatial_query");
      return refuse(`stream must be a string, got ${stream === null ? "null" : typeof stream}`);
    }
    if (typeof stream === "string" && stream.length > MAX_STREAM_CHARS) {
      const typed = this.diagnostics.errors.report(new SpatialRewardError("input_too_long", `stream is ${stream.length} characters, at most ${MAX_STREAM_CHARS}`), "service spatial_query");
      return refuse(typed.message);
    }
    try {
      // A short wait first: with no backbone node at all, say so at once rather than after the whole timeout.
      if (!(await this.backbone.waitForService(Math.min(this.backboneTimeoutMs, BACKBONE_DISCOVERY_MS)))) {
        this.counters.inc("backbone.unavailable");
        return refuse(`no backbone node is serving ${this.backbone.service}: start the backbone node (parameter model_path) or ask the engine (source "")`);
      }
      const res = await this.backbone.call({ question: req.question, source: ANSWER_SOURCE.backbone, stream: req.stream ?? "" }, this.backboneTimeoutMs);
      const answer = res?.answer;
      if (!answer || typeof answer.text !== "string") throw new SpatialRewardError("bad_message", `${this.backbone.service} returned no answer`);
      this.counters.inc(`answers.backbone.${answer.status}`);
      return { ...answer, source: ANSWER_SOURCE.backbone };
    } catch (e) {
      const typed = this.diagnostics.errors.report(e, `service ${this.backbone.service}`);
      if (typed.code === "service_unavailable") return refuse(`no backbone node is serving ${this.backbone.service}`);
      if (typed.code === "timeout") return refuse(`the backbone node did not answer within ${this.backboneTimeoutMs} ms`);
      return refuse(`the backbone node failed to answer: ${typed.code === "internal" ? "unexpected error (logged)" : typed.message}`);
    }
  }

  /** Never throws: whatever goes wrong becomes a refusal saying why, counted and logged. */
  answer(question: string): M.spatial_reward_msgs__msg__SpatialAnswer {
    const t0 = performance.now();
    this.counters.inc("questions");
    try {
      // Not a string (bad_argument) or too long is refused as such even before the first scene arrives.
      checkQuestionLength(question);
      if (!this.scene) {
        this.counters.inc("answers.no_scene");
        return noSceneAnswer(question);
      }
      const a = answerQuestion(this.scene, question);
      this.counters.inc(`answers.${a.status}`);
      const msg = answerToMsg(a, this.scene.stamp, this.sceneFrameId);
      this.diagnostics.latency.add(performance.now() - t0);
      return msg;
    } catch (e) {
      const typed = this.diagnostics.errors.report(e, "question");
      this.counters.inc("answers.error");
      return errorAnswer(typeof question === "string" ? question : "", typed, this.scene?.stamp ?? 0n, this.sceneFrameId);
    }
  }
}

/** The backbone node's service, relative: resolved in this node's namespace, as the backbone node serves it. */
export const BACKBONE_SERVICE = "backbone/spatial_query";
/** How long a backbone service may take to be discovered before "no backbone is serving". */
const BACKBONE_DISCOVERY_MS = 1000;
/** Longest stream name forwarded to the backbone: the backbone node's own limit. */
const MAX_STREAM_CHARS = MAX_STREAM_NAME_CHARS;

function describeSource(source: unknown): string {
  return typeof source === "string" ? JSON.stringify(source.length > 40 ? `${source.slice(0, 40)}…` : source) : typeof source;
}

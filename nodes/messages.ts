import { tryParseQuestion } from "../src/spatial/question_parser.js";
import { parseAnswerText } from "../src/spatial/answer_text_parser.js";
import type { Detection2D, InstanceMask } from "../src/perception/rgbd_frame.js";
import type { PinholeIntrinsics } from "../src/geometry/intrinsics.js";
import { InvalidInputError, type SpatialRewardError } from "../src/errors.js";
import { clip } from "./error_reporter.js";
import type { Scene, SceneObject } from "../src/scene/scene_object.js";
import type { SpatialAnswer } from "../src/spatial/spatial_answer.js";
import type { RewardResult } from "../src/reward/reward_spec.js";
import { fromNanoseconds, toNanoseconds, type RosTime } from "../src/time/ros_time.js";
import type * as M from "../src/msgs/generated.js";
import { SpatialAnswerStatus } from "../src/msgs/generated.js";

/**
 * Conversions between ROS 2 message objects (shapes generated from msgs/) and core types.
 * Nothing here computes; it only renames and reshapes.
 */

export const T = {
  Image: "sensor_msgs/msg/Image",
  CameraInfo: "sensor_msgs/msg/CameraInfo",
  String: "std_msgs/msg/String",
  InstanceMasks: "spatial_reward_msgs/msg/InstanceMasks",
  Detection2DArray: "vision_msgs/msg/Detection2DArray",
  Detection3DArray: "vision_msgs/msg/Detection3DArray",
  SceneObjects: "spatial_reward_msgs/msg/SceneObjects",
  SpatialAnswer: "spatial_reward_msgs/msg/SpatialAnswer",
  SpatialQuery: "spatial_reward_msgs/srv/SpatialQuery",
  Reward: "spatial_reward_msgs/msg/Reward",
  RewardSpec: "spatial_reward_msgs/msg/RewardSpec",
  SetRewardSpec: "spatial_reward_msgs/srv/SetRewardSpec",
  DiagnosticArray: "diagnostic_msgs/msg/DiagnosticArray",
  TFMessage: "tf2_msgs/msg/TFMessage",
  Clock: "rosgraph_msgs/msg/Clock",
  PoseStamped: "geometry_msgs/msg/PoseStamped",
  MocapFrame: "spatial_reward_msgs/msg/MocapFrame",
  RecorderControl: "spatial_reward_msgs/msg/RecorderControl",
  RecordEpisode: "spatial_reward_msgs/srv/RecordEpisode",
} as const;

export function header(stampNs: bigint, frameId: string): M.std_msgs__msg__Header {
  return { stamp: fromNanoseconds(stampNs), frame_id: frameId };
}

export function stampOf(msg: { header: { stamp: RosTime } }): bigint {
  return toNanoseconds(msg.header.stamp);
}

/** CameraInfo K (row-major 3x3) → pinhole intrinsics. Distortion is assumed rectified away. */
export function intrinsicsFromCameraInfo(info: M.sensor_msgs__msg__CameraInfo): PinholeIntrinsics {
  const k = info.k;
  if (!k || k.length !== 9) throw new InvalidInputError("bad_intrinsics", `CameraInfo.k must have 9 entries (got ${k?.length ?? 0})`);
  return { width: info.width, height: info.height, fx: k[0], fy: k[4], cx: k[2], cy: k[5] };
}

export function instanceMaskFromMsg(msg: M.spatial_reward_msgs__msg__InstanceMasks): InstanceMask {
  if (msg.ids.length !== msg.labels.length) {
    throw new InvalidInputError("bad_message", `InstanceMasks has ${msg.ids.length} ids but ${msg.labels.length} labels`);
  }
  const labels = new Map<number, string>();
  for (let i = 0; i < msg.ids.length; i++) labels.set(msg.ids[i], msg.labels[i]);
  return { image: msg.mask, labels };
}

export function detectionsFromMsg(msg: M.vision_msgs__msg__Detection2DArray): Detection2D[] {
  return msg.detections.map((d) => {
    const best = d.results.reduce<M.vision_msgs__msg__ObjectHypothesisWithPose | null>(
      (a, r) => (a === null || r.hypothesis.score > a.hypothesis.score ? r : a), null);
    if (!best) throw new InvalidInputError("bad_message", "Detection2D without any class hypothesis");
    return {
      kind: best.hypothesis.class_id,
      score: best.hypothesis.score,
      cx: d.bbox.center.position.x,
      cy: d.bbox.center.position.y,
      width: d.bbox.size_x,
      height: d.bbox.size_y,
    };
  });
}

export function sceneToMsg(scene: Scene, frameId: string): M.spatial_reward_msgs__msg__SceneObjects {
  return {
    header: header(scene.stamp, frameId),
    has_support: scene.supportZ !== null,
    support_z: scene.supportZ ?? 0,
    objects: scene.objects.map((o) => ({
      id: o.id,
      kind: o.kind,
      color: o.color,
      center: { ...o.center },
      size: { ...o.size },
      confidence: o.confidence,
      num_points: o.numPoints,
    })),
  };
}

export function sceneFromMsg(msg: M.spatial_reward_msgs__msg__SceneObjects): Scene {
  const objects: SceneObject[] = msg.objects.map((o) => ({
    id: o.id,
    kind: o.kind,
    color: o.color,
    center: o.center,
    size: o.size,
    confidence: o.confidence,
    numPoints: o.num_points,
  }));
  return { stamp: stampOf(msg), objects, supportZ: msg.has_support ? msg.support_z : null };
}

/** vision_msgs/Detection3DArray of the scene's boxes (axis-aligned in the spatial frame). */
export function sceneToDetection3D(scene: Scene, frameId: string): M.vision_msgs__msg__Detection3DArray {
  const h = header(scene.stamp, frameId);
  return {
    header: h,
    detections: scene.objects.map((o) => ({
      header: h,
      results: [{
        hypothesis: { class_id: o.kind, score: o.confidence },
        pose: { pose: { position: { ...o.center }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, covariance: new Array<number>(36).fill(0) },
      }],
      bbox: { center: { position: { ...o.center }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, size: { ...o.size } },
      id: o.id,
    })),
  };
}

const STATUS_CODE = {
  ok: SpatialAnswerStatus.STATUS_OK,
  unknown_object: SpatialAnswerStatus.STATUS_UNKNOWN_OBJECT,
  ambiguous_object: SpatialAnswerStatus.STATUS_AMBIGUOUS_OBJECT,
  unparsed: SpatialAnswerStatus.STATUS_UNPARSED,
  no_scene: SpatialAnswerStatus.STATUS_NO_SCENE,
  error: SpatialAnswerStatus.STATUS_ERROR,
  same_object: SpatialAnswerStatus.STATUS_SAME_OBJECT,
  unanswerable: SpatialAnswerStatus.STATUS_UNANSWERABLE,
} as const;

/** Longest question echoed back in an answer (the question is the caller's own text). */
const MAX_ECHOED_QUESTION_CHARS = 1000;

export function answerToMsg(a: SpatialAnswer, stampNs: bigint, frameId: string): M.spatial_reward_msgs__msg__SpatialAnswer {
  return {
    header: header(stampNs, frameId),
    status: STATUS_CODE[a.status],
    question: clip(a.question, MAX_ECHOED_QUESTION_CHARS),
    type: a.type ?? "",
    subject: a.subject,
    object: a.object,
    reference: a.reference,
    value: a.value,
    unit: a.unit,
    boolean_value: a.unit === "bool" && a.value === 1,
    choice: a.choice ?? "",
    text: a.text,
    confidence: a.confidence,
    source: ANSWER_SOURCE.engine,
  };
}

/** Who computed an answer (SpatialAnswer.source) and whom a SpatialQuery asks (its request's source). */
export const ANSWER_SOURCE = { engine: "engine", backbone: "backbone" } as const;
export type AnswerSource = (typeof ANSWER_SOURCE)[keyof typeof ANSWER_SOURCE];

/** An answer that carries no value: a refusal or an error, the reason in `text`. */
export function refusalMsg(
  status: number, question: string, text: string, stampNs: bigint, frameId: string, source: AnswerSource = ANSWER_SOURCE.engine,
): M.spatial_reward_msgs__msg__SpatialAnswer {
  return {
    header: header(stampNs, frameId), status, question: clip(question, MAX_ECHOED_QUESTION_CHARS), type: "", subject: "", object: "",
    reference: "", value: NaN, unit: "", boolean_value: false, choice: "", text, confidence: 0, source,
  };
}

export function noSceneAnswer(question: string): M.spatial_reward_msgs__msg__SpatialAnswer {
  return refusalMsg(STATUS_CODE.no_scene, question, "I have not seen a scene yet: no camera frame has been processed.", 0n, "");
}

/** The answer to a question that could not be processed: status error, the reason as text. */
export function errorAnswer(
  question: string, e: SpatialRewardError, stampNs: bigint, frameId: string, source: AnswerSource = ANSWER_SOURCE.engine,
): M.spatial_reward_msgs__msg__SpatialAnswer {
  const text = e.code === "internal" ? "Sorry, something went wrong answering that question; it has been logged." : clip(e.message);
  return refusalMsg(STATUS_CODE.error, question, text, stampNs, frameId, source);
}

/** What the backbone produced for a question (the runtime's answer, reduced to what the message needs). */
export interface BackboneAnswer {
  /** The decoded text. */
  text: string;
  /** Tokens generated. */
  tokens: number;
  /** Mean time per generated token, ms. */
  tokenMs: number;
  /** False for seeded-random weights: the text is noise and is never presented as an answer. */
  trained: boolean;
}

/**
 * A backbone answer as a SpatialAnswer (source "backbone"). An untrained model's text is never
 * an answer: it becomes STATUS_UNANSWERABLE with its latency in words (the question is
 * well-formed and the node works; what is missing is a model that can answer, which is what
 * UNANSWERABLE means — "the answer needs something this source lacks"). A trained model's text
 * is the answer; a leading number with a unit ("23 cm", "0.4 m", "3 o'clock") fills value/unit
 * (lengths in metres, as everywhere on the wire). A trained model that produced no text (its
 * first token was end-of-sequence) did not answer: STATUS_UNANSWERABLE saying so, never an
 * OK answer with nothing in it.
 */
export function backboneAnswerToMsg(question: string, a: BackboneAnswer, stampNs: bigint, frameId: string): M.spatial_reward_msgs__msg__SpatialAnswer {
  if (!a.trained) {
    const text = `the backbone model is untrained (seeded random weights); it produced ${a.tokens} tokens in ${a.tokenMs.toFixed(3)} ms/token, not an answer`;
    return refusalMsg(STATUS_CODE.unanswerable, question, text, stampNs, frameId, ANSWER_SOURCE.backbone);
  }
  if (a.text.trim() === "") {
    const text = `the backbone model produced no answer (${a.tokens === 0 ? "it ended at once" : `${a.tokens} tokens of no text`})`;
    return refusalMsg(STATUS_CODE.unanswerable, question, text, stampNs, frameId, ANSWER_SOURCE.backbone);
  }
  const base = refusalMsg(STATUS_CODE.ok, question, clip(a.text, MAX_ECHOED_QUESTION_CHARS), stampNs, frameId, ANSWER_SOURCE.backbone);
  // A question the engine's grammar knows is read back the way the evaluator reads it (the
  // model learned the engine's phrasing); a free-form one keeps only a leading quantity.
  const parsed = tryParseQuestion(question);
  if (parsed) {
    const r = parseAnswerText(a.text, parsed.type, parsed.slots);
    if (r.status === "ok") {
      return { ...base, type: parsed.type, value: r.value, unit: r.unit, boolean_value: r.boolean === true, choice: r.choice ?? "" };
    }
    return { ...base, type: parsed.type };
  }
  const q = leadingQuantity(a.text);
  return { ...base, value: q.value, unit: q.unit, boolean_value: q.unit === "bool" && q.value === 1 };
}

const METRES_PER_UNIT: ReadonlyMap<string, number> = new Map([
  ...["m", "meter", "meters", "metre", "metres"].map((w) => [w, 1] as const),
  ...["cm", "cms", "centimeter", "centimeters", "centimetre", "centimetres"].map((w) => [w, 0.01] as const),
  ...["mm", "millimeter", "millimeters", "millimetre", "millimetres"].map((w) => [w, 0.001] as const),
  ...["in", "inch", "inches"].map((w) => [w, 0.0254] as const),
  ...["ft", "foot", "feet"].map((w) => [w, 0.3048] as const),
]);
const LEADING_QUANTITY = /^\s*(?:(?:about|around|roughly|approximately|it is|it's)\s+)?([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(o'clock|oclock|[a-z]+)?/i;
/** What may follow "in" for it to be inches: the end of the text or punctuation ("12 in", "12 in.", "12 in, about"). */
const AFTER_INCH_ABBREVIATION = /^\s*(?:$|[.,;:!?)])/;
const YES_NO = /^\s*(yes|no)\b/i;

/**
 * The quantity a model's text starts with: a length in metres (unit "m"), a clock hour
 * ("hour"), yes/no (1/0, "bool"), a bare number (unit ""), or NaN and "" when it starts with none.
 * "inch"/"inches" are always inches; "in" only when the text ends or punctuation follows it
 * ("12 in", "12 in.", "12 in, roughly"), since "3 in a row" is a preposition, not a unit.
 */
export function leadingQuantity(text: string): { value: number; unit: string } {
  const yn = YES_NO.exec(text);
  if (yn) return { value: yn[1].toLowerCase() === "yes" ? 1 : 0, unit: "bool" };
  const m = LEADING_QUANTITY.exec(text);
  if (!m) return { value: NaN, unit: "" };
  const n = Number(m[1]);
  if (!Number.isFinite(n)) return { value: NaN, unit: "" };
  const word = m[2]?.toLowerCase();
  if (word === undefined) return { value: n, unit: "" };
  // "in" is a unit only where a preposition cannot be: "3 in a row" is a count, "12 in." a length.
  if (word === "in" && !AFTER_INCH_ABBREVIATION.test(text.slice(m.index + m[0].length, m.index + m[0].length + 64))) return { value: n, unit: "" };
  if (word === "o'clock" || word === "oclock") return { value: n, unit: "hour" };
  const perUnit = METRES_PER_UNIT.get(word);
  return perUnit === undefined ? { value: n, unit: "" } : { value: n * perUnit, unit: "m" };
}

export function rewardToMsg(r: RewardResult, spec: string, frameId: string): M.spatial_reward_msgs__msg__Reward {
  return {
    header: header(r.stamp, frameId),
    spec,
    reward: r.reward,
    progress: r.progress,
    success: r.success,
    residual: r.residual,
  };
}

/**
 * The backbone's progress topic: `spatial_reward_msgs/Reward` per frame of the backbone's
 * first stream, from the model's progress head. Reliable (QOS_DEFAULT): a reliable writer
 * matches reliable and best-effort readers alike, and the reward node republishes every
 * message as a reward (training data), as it does every scene.
 */
export const BACKBONE_PROGRESS_TOPIC = "backbone/progress";

/**
 * The model's progress as a Reward: `reward = progress − 1` (in [−1, 0], 0 when done: the
 * engine's sign convention, in units of task progress rather than metres), `success` when
 * progress ≥ the threshold, `residual` NaN (the model estimates no geometric error), `spec` the
 * task text as far as the publisher knows it.
 */
export function progressToRewardMsg(progress: number, successThreshold: number, stampNs: bigint, frameId: string, spec: string): M.spatial_reward_msgs__msg__Reward {
  return {
    header: header(stampNs, frameId),
    spec,
    reward: progress - 1,
    progress,
    success: progress >= successThreshold,
    residual: NaN,
  };
}

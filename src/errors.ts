/**
 * Every rejection of bad input is one of these, with a stable machine-readable `code` that
 * diagnostics count by, and a message a person can act on.
 */
export type ErrorCode =
  | "bad_image_size"
  | "bad_image_step"
  | "bad_encoding"
  | "bad_depth"
  | "bad_intrinsics"
  | "empty_mask"
  | "no_support_plane"
  | "unsynced_frame"
  | "out_of_order_stamp"
  | "unknown_object"
  | "ambiguous_object"
  | "unparsed_question"
  | "bad_reward_spec"
  | "bad_message"
  | "type_mismatch"
  | "bad_argument"
  | "backend_unavailable"
  | "dds_error"
  | "service_unavailable"
  | "timeout"
  /** A ROS time that cannot be a stamp (nanosec outside 0..999999999, negative, non-integer). */
  | "bad_stamp"
  /** A frame whose 2D detections exceed the per-frame budget (count or total box area). */
  | "detection_budget"
  /** A question or spec text longer than the node accepts. */
  | "input_too_long"
  /** A scene graph that cannot be reasoned about (non-finite centre or size, duplicate ids...). */
  | "bad_scene"
  /** An operation called in a state that does not allow it (step() before reset()...). */
  | "bad_state"
  /** A model folder that cannot be used: config, weights or tokenizer missing, truncated or not matching (the message names the file and tensor). */
  | "bad_model"
  /** A recording (MCAP file) that is not one, or is damaged where it is read (the message names the byte offset). */
  | "bad_recording"
  /** Writing a recording failed (full disk, I/O error, closed file): what was not written is counted, never dropped silently. */
  | "write_failed"
  /** A payload (or a count or string inside it) over the receiver's configured limit, rejected before it is parsed. */
  | "payload_too_large"
  /** Well-formed protobuf that is not the expected message (a known field with the wrong wire type, an unknown enum value, nothing the schema knows). */
  | "wrong_schema"
  /** A mocap stream whose axis convention or length unit is unspecified or unknown: positions cannot be converted to REP-103 metres. */
  | "bad_axes"
  /** An unexpected exception (a bug): counted as errors.internal, reported, never rethrown by a node. */
  | "internal";

export class SpatialRewardError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Input that can never be processed as given (wrong size, encoding, NaN, zero intrinsics...). */
export class InvalidInputError extends SpatialRewardError {}

/** A question or reward spec names an object that is missing or not unique in the scene. */
export class ObjectReferenceError extends SpatialRewardError {
  readonly candidates: readonly string[];
  constructor(code: "unknown_object" | "ambiguous_object", message: string, candidates: readonly string[]) {
    super(code, message);
    this.candidates = candidates;
  }
}

/** A model folder that cannot be loaded; `file` (and `tensor` where one is at fault) say where. */
export class ModelError extends SpatialRewardError {
  readonly file: string;
  readonly tensor: string | undefined;
  constructor(file: string, message: string, tensor?: string) {
    super("bad_model", `${file}${tensor ? ` (${tensor})` : ""}: ${message}`);
    this.file = file;
    this.tensor = tensor;
  }
}

export function isSpatialRewardError(e: unknown): e is SpatialRewardError {
  return e instanceof SpatialRewardError;
}

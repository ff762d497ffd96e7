import { axisMapping, convertOrientation, convertPosition } from "../mocap/axis_convention.js";
import { InvalidInputError } from "../errors.js";
import type { MocapFrame } from "../msgs/mocap_proto.js";
import type { spatial_reward_msgs__msg__MocapFrame } from "../msgs/generated.js";

/**
 * The state a LeRobot export gives each frame: the pose of one mocap rigid body (by default
 * "hand": the operator's tracked hand or controller, i.e. the end effector in teleop), in
 * REP-103 axes and metres (x forward, y left, z up), position then orientation quaternion.
 * No gripper: neither mocap.proto nor the recorded topics carry a gripper opening.
 */
export const STATE_NAMES = ["x", "y", "z", "qx", "qy", "qz", "qw"] as const;
export const STATE_DIM = STATE_NAMES.length;
export const DEFAULT_STATE_BODY = "hand";

/** A quaternion whose norm is further than this from 1 is not a rotation the solver meant (0,0,0,0 is "not sent"). */
const MAX_NORM_ERROR = 0.1;

export type BodyPoseStatus = "ok" | "absent" | "untracked" | "non_finite" | "bad_quaternion";

/**
 * Writes the pose of rigid body `name` in `frame` into out[0..6] (REP-103 metres, unit
 * quaternion) and returns "ok", or why it could not: the body is not in the frame, the solver
 * lost it (tracked = false: the pose is stale), a non-finite number, or a quaternion that is
 * not one. The frame's declared axes and unit are converted (src/mocap/axis_convention.ts);
 * an undeclared convention throws InvalidInputError("bad_axes"), as the ingest does.
 */
export function bodyPose(frame: MocapFrame, name: string, out: Float64Array): BodyPoseStatus {
  const body = frame.rigid_bodies.find((b) => b.name === name);
  if (!body) return "absent";
  if (!body.tracked) return "untracked";
  const p = body.position, q = body.orientation;
  if (![p.x, p.y, p.z, q.x, q.y, q.z, q.w].every(Number.isFinite)) return "non_finite";
  const n = Math.hypot(q.x, q.y, q.z, q.w);
  if (!(Math.abs(n - 1) <= MAX_NORM_ERROR)) return "bad_quaternion";
  const m = axisMapping(frame.axes);
  const pos = convertPosition(m, p, { x: 0, y: 0, z: 0 });
  const rot = convertOrientation(m, q, { x: 0, y: 0, z: 0, w: 0 });
  out[0] = pos.x;
  out[1] = pos.y;
  out[2] = pos.z;
  out[3] = rot.x / n;
  out[4] = rot.y / n;
  out[5] = rot.z / n;
  out[6] = rot.w / n;
  return "ok";
}

/**
 * As bodyPose, from the ROS spatial_reward_msgs/MocapFrame the ingest publishes on
 * mocap/<stream>/frame (what a recorder in another process records): its poses are already
 * REP-103 metres, so nothing is converted. Body arrays of unequal lengths throw
 * InvalidInputError("bad_message").
 */
export function rosBodyPose(frame: spatial_reward_msgs__msg__MocapFrame, name: string, out: Float64Array): BodyPoseStatus {
  const n = frame.body_names.length;
  if (frame.body_poses.length !== n || frame.body_tracked.length !== n) {
    throw new InvalidInputError("bad_message", `MocapFrame ${frame.frame_number}: ${n} body_names but ${frame.body_poses.length} body_poses and ${frame.body_tracked.length} body_tracked`);
  }
  const i = frame.body_names.indexOf(name);
  if (i < 0) return "absent";
  if (!frame.body_tracked[i]) return "untracked";
  const p = frame.body_poses[i].position, q = frame.body_poses[i].orientation;
  if (![p.x, p.y, p.z, q.x, q.y, q.z, q.w].every(Number.isFinite)) return "non_finite";
  const norm = Math.hypot(q.x, q.y, q.z, q.w);
  if (!(Math.abs(norm - 1) <= MAX_NORM_ERROR)) return "bad_quaternion";
  out[0] = p.x;
  out[1] = p.y;
  out[2] = p.z;
  out[3] = q.x / norm;
  out[4] = q.y / norm;
  out[5] = q.z / norm;
  out[6] = q.w / norm;
  return "ok";
}

/**
 * q and −q are one rotation; a learner sees a jump where the sign flips. Makes the sign of the
 * quaternion at out[3..6] continuous with `previous` (its own quaternion at 3..6), or, for the
 * first sample, puts w ≥ 0.
 */
export function continueQuaternionSign(out: Float64Array, previous: Float64Array | null): void {
  const dot = previous ? out[3] * previous[3] + out[4] * previous[4] + out[5] * previous[5] + out[6] * previous[6] : out[6];
  if (dot < 0) for (let i = 3; i < 7; i++) out[i] = -out[i];
}

import { InvalidInputError } from "../errors.js";
import type {
  geometry_msgs__msg__Pose,
  geometry_msgs__msg__PoseStamped,
  geometry_msgs__msg__TransformStamped,
  spatial_reward_msgs__msg__MocapFrame,
  std_msgs__msg__Header,
  tf2_msgs__msg__TFMessage,
} from "../msgs/generated.js";
import type { MocapFrame, Quaternion, Vector3 } from "../msgs/mocap_proto.js";
import { fromNanoseconds, validateStampNs } from "../time/ros_time.js";
import { REP103_AXES } from "./axis_convention.js";
import { usableName, type ValidatedMocapFrame } from "./mocap_validator.js";

/** The TF frame mocap poses are given in (parent of every rigid body's frame). */
export const MOCAP_FRAME_ID = "mocap";

/** One tracked rigid body's pose, named for its topic and TF child frame. */
export interface RigidBodyPose {
  id: number;
  /** Body name: its TF child frame id (the validator made it usable and unique). */
  name: string;
  pose: geometry_msgs__msg__PoseStamped;
}

export interface MocapPoses {
  /** One per tracked rigid body, in frame order. */
  poses: RigidBodyPose[];
  /** frameId → body name for every tracked rigid body, stamped like the poses. */
  tf: tf2_msgs__msg__TFMessage;
}

function assertConverted(frame: MocapFrame): void {
  const a = frame.axes;
  if (a.up_axis !== REP103_AXES.up_axis || a.handedness !== REP103_AXES.handedness || a.unit !== REP103_AXES.unit) {
    throw new InvalidInputError("bad_axes", `frame ${frame.frame_number} is not in REP-103 metres: pass frames MocapValidator released`);
  }
}

function checkFrameId(frameId: string): void {
  if (!usableName(frameId)) throw new InvalidInputError("bad_argument", `frame id ${JSON.stringify(frameId)} is not a usable TF frame id`);
}

function header(stampNs: bigint, frameId: string): std_msgs__msg__Header {
  return { stamp: fromNanoseconds(stampNs), frame_id: frameId };
}

function pose(p: Vector3, q: Quaternion): geometry_msgs__msg__Pose {
  return { position: { x: p.x, y: p.y, z: p.z }, orientation: { x: q.x, y: q.y, z: q.z, w: q.w } };
}

/**
 * PoseStamped per tracked rigid body and their TF transforms, stamped `stampNs` (the frame's
 * mid-exposure on the host clock: ClockSync.toHost(device_timestamp_ns)). Untracked bodies
 * give neither. Messages are fresh objects: publishing one does not alias the frame.
 * Throws InvalidInputError ("bad_axes" for an unconverted frame, "bad_stamp", "bad_argument").
 */
export function mocapPoses(v: ValidatedMocapFrame, stampNs: bigint, frameId: string = MOCAP_FRAME_ID): MocapPoses {
  assertConverted(v.frame);
  validateStampNs(stampNs);
  checkFrameId(frameId);
  const poses: RigidBodyPose[] = [];
  const transforms: geometry_msgs__msg__TransformStamped[] = [];
  for (const b of v.frame.rigid_bodies) {
    if (!b.tracked) continue;
    poses.push({ id: b.id, name: b.name, pose: { header: header(stampNs, frameId), pose: pose(b.position, b.orientation) } });
    transforms.push({
      header: header(stampNs, frameId),
      child_frame_id: b.name,
      transform: {
        translation: { x: b.position.x, y: b.position.y, z: b.position.z },
        rotation: { x: b.orientation.x, y: b.orientation.y, z: b.orientation.z, w: b.orientation.w },
      },
    });
  }
  return { poses, tf: { transforms } };
}

/**
 * The spatial_reward_msgs/MocapFrame of a released frame: header stamped `stampNs` (host clock,
 * mid-exposure), receive_stamp from the validator, latency = receive − stamp in seconds.
 */
export function mocapFrameMessage(v: ValidatedMocapFrame, stampNs: bigint, frameId: string = MOCAP_FRAME_ID): spatial_reward_msgs__msg__MocapFrame {
  const f = v.frame;
  assertConverted(f);
  validateStampNs(stampNs);
  checkFrameId(frameId);
  const receive = fromNanoseconds(validateStampNs(v.receiveNs));
  const nb = f.rigid_bodies.length;
  const body_ids = new Uint32Array(nb);
  const body_names: string[] = new Array<string>(nb);
  const body_poses: geometry_msgs__msg__Pose[] = new Array<geometry_msgs__msg__Pose>(nb);
  const body_mean_errors = new Float32Array(nb);
  const body_tracked: boolean[] = new Array<boolean>(nb);
  for (let i = 0; i < nb; i++) {
    const b = f.rigid_bodies[i];
    body_ids[i] = b.id;
    body_names[i] = b.name;
    body_poses[i] = pose(b.position, b.orientation);
    body_mean_errors[i] = b.mean_marker_error;
    body_tracked[i] = b.tracked;
  }
  const nm = f.markers.length;
  const marker_ids = new Uint32Array(nm);
  const marker_positions = new Array<{ x: number; y: number; z: number }>(nm);
  const marker_residuals = new Float32Array(nm);
  const marker_occluded: boolean[] = new Array<boolean>(nm);
  for (let i = 0; i < nm; i++) {
    const m = f.markers[i];
    marker_ids[i] = m.id;
    marker_positions[i] = { x: m.position.x, y: m.position.y, z: m.position.z };
    marker_residuals[i] = m.residual;
    marker_occluded[i] = m.occluded;
  }
  const ns = f.skeletons.length;
  let nj = 0;
  for (const s of f.skeletons) nj += s.joints.length;
  const skeleton_ids = new Uint32Array(ns);
  const skeleton_names: string[] = new Array<string>(ns);
  const skeleton_joint_counts = new Uint32Array(ns);
  const joint_names: string[] = new Array<string>(nj);
  const joint_parents = new Int32Array(nj);
  const joint_poses: geometry_msgs__msg__Pose[] = new Array<geometry_msgs__msg__Pose>(nj);
  const joint_tracked: boolean[] = new Array<boolean>(nj);
  let j = 0;
  for (let i = 0; i < ns; i++) {
    const s = f.skeletons[i];
    skeleton_ids[i] = s.id;
    skeleton_names[i] = s.name;
    skeleton_joint_counts[i] = s.joints.length;
    for (const jt of s.joints) {
      joint_names[j] = jt.name;
      joint_parents[j] = jt.parent;
      joint_poses[j] = pose(jt.position, jt.orientation);
      joint_tracked[j] = jt.tracked;
      j++;
    }
  }
  return {
    header: header(stampNs, frameId),
    stream_id: f.stream_id,
    frame_number: f.frame_number,
    device_stamp_ns: f.device_timestamp_ns,
    receive_stamp: receive,
    latency: Number(v.receiveNs - stampNs) / 1e9,
    source_latency: f.system_latency_ms / 1e3,
    body_ids,
    body_names,
    body_poses,
    body_mean_errors,
    body_tracked,
    marker_ids,
    marker_positions,
    marker_residuals,
    marker_occluded,
    skeleton_ids,
    skeleton_names,
    skeleton_joint_counts,
    joint_names,
    joint_parents,
    joint_poses,
    joint_tracked,
  };
}

/** The mocap core: protobuf codec, validation, REP-103 conversion, clock sync, poses. Pure: no MQTT, files or sockets. */
export * from "./axis_convention.js";
export * from "./bvh.js";
export * from "./clock_sync.js";
export * from "./mocap_codec.js";
export * from "./mocap_poses.js";
export * from "./mocap_validator.js";
// Names that src/index.ts already exports for other things (geometry's Quaternion, spatial's
// LengthUnit) get a Mocap prefix, so the library can re-export this module whole.
export {
  Handedness,
  LengthUnit as MocapLengthUnit,
  RecorderControl_Command,
  UpAxis,
  type AxisConvention,
  type Joint,
  type Marker,
  type MocapFrame,
  type Quaternion as MocapQuaternion,
  type RecorderControl,
  type RigidBody,
  type Skeleton,
  type Vector3 as MocapVector3,
} from "../msgs/mocap_proto.js";

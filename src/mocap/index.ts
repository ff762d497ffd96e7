/** The mocap core: protobuf codec, validation, REP-103 conversion, clock sync, poses. Pure: no MQTT, files or sockets. */
export * from "./axis_convention.js";
export * from "./clock_sync.js";
export * from "./mocap_codec.js";
export * from "./mocap_poses.js";
export * from "./mocap_validator.js";
// The proto's Vector3 and Quaternion under mocap names: src/geometry has its own Quaternion.
export {
  Handedness,
  LengthUnit,
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

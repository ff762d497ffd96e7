/**
 * spatial-reward's library API: everything a simulator loop, a test or a node needs from the
 * core, with no ROS, no network and no files.
 */
export * from "./errors.js";
export * from "./geometry/vec3.js";
export * from "./geometry/intrinsics.js";
export * from "./geometry/spatial_frame.js";
export * from "./scene/scene_object.js";
export * from "./scene/image.js";
export * from "./scene/colors.js";
export * from "./scene/kinds.js";
export * from "./diagnostics/counters.js";
export * from "./diagnostics/latency_stats.js";
export * from "./time/ros_time.js";
export * from "./sync/stamp_synchronizer.js";
export type { RgbdFrame, InstanceMask, Detection2D } from "./perception/rgbd_frame.js";
export { Perception, DEFAULT_PERCEPTION_OPTIONS, type PerceptionOptions } from "./perception/perception.js";
export * from "./spatial/index.js";
export * from "./eval/spatial_scoring.js";
export * from "./reward/index.js";
export * from "./random/mulberry32.js";
export { CdrCodec } from "./msgs/cdr_codec.js";
export * from "./mocap/index.js";

import type { QoS } from "../../src/transport/qos.js";
import { QOS_CAMERA_INFO, QOS_DEFAULT, QOS_LATCHED, QOS_SENSOR_DATA, QOS_TF } from "../../src/transport/qos.js";
import { BACKBONE_PROGRESS_TOPIC, T } from "../messages.js";

/**
 * The topics the Foxglove bridge offers: what a person wants to see of the node graph. Each is
 * a ROS topic forwarded as CDR with its ros2msg schema (what foxglove_bridge does on a ROS 2
 * host, so Foxglove's panels know the types), and the scene graphs also as a
 * foxglove.SceneUpdate of 3D boxes with labels on a derived channel `<topic>/boxes`.
 */

export interface BridgeTopic {
  /** The ROS topic, relative to the graph's namespace unless it starts with "/". */
  topic: string;
  /** Full ROS 2 type name ("sensor_msgs/msg/Image"). */
  type: string;
  /**
   * The subscription's QoS. Sensor topics subscribe best effort (which matches best-effort and
   * reliable publishers alike); a latched topic subscribes transient-local to get the last value.
   */
  qos: QoS;
  /** Also offer the scene graph as 3D boxes (type SceneObjects only). */
  boxes?: boolean;
}

/** Relative topics are repeated per namespace (one graph per camera); absolute ones once. */
export const BRIDGE_TOPICS: readonly BridgeTopic[] = [
  { topic: "camera/color/image_raw", type: T.Image, qos: QOS_SENSOR_DATA },
  { topic: "camera/aligned_depth_to_color/image_raw", type: T.Image, qos: QOS_SENSOR_DATA },
  { topic: "camera/color/camera_info", type: T.CameraInfo, qos: QOS_CAMERA_INFO },
  { topic: "scene/objects", type: T.SceneObjects, qos: QOS_DEFAULT, boxes: true },
  { topic: "sim/truth", type: T.SceneObjects, qos: QOS_DEFAULT, boxes: true },
  { topic: "spatial/question", type: T.String, qos: QOS_DEFAULT },
  { topic: "spatial/answer", type: T.SpatialAnswer, qos: QOS_DEFAULT },
  { topic: "reward", type: T.Reward, qos: QOS_DEFAULT },
  { topic: "reward/spec", type: T.RewardSpec, qos: QOS_LATCHED },
  { topic: BACKBONE_PROGRESS_TOPIC, type: T.Reward, qos: QOS_DEFAULT },
  { topic: "/tf", type: T.TFMessage, qos: QOS_TF },
  { topic: "/diagnostics", type: T.DiagnosticArray, qos: QOS_DEFAULT },
];

/** The derived SceneUpdate channel of a scene topic. */
export function boxesTopic(topic: string): string {
  return `${topic}/boxes`;
}

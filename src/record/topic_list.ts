import { InvalidInputError } from "../errors.js";
import { fullTypeName } from "./ros2msg_schema.js";

/**
 * A topic the recorder subscribes to, as its `topics` parameter lists it:
 * "topic:pkg/msg/Type" or "topic:pkg/msg/Type:qos" with qos one of
 * reliable (the default: reliable, keep all), best_effort (matches best-effort publishers such
 * as camera drivers, which a reliable reader would not), latched (transient local: the last
 * value a latched publisher holds, e.g. reward/spec). Types must be given: the transport has
 * no graph query to discover them, as `ros2 bag record` does.
 */
export const TOPIC_QOS = ["reliable", "best_effort", "latched"] as const;
export type TopicQos = (typeof TOPIC_QOS)[number];

export interface TopicEntry {
  topic: string;
  /** Full type name "pkg/msg/Type". */
  type: string;
  qos: TopicQos;
}

/** The project's topics (tabletop graph and simulator), recorded when `topics` is not set. */
export const DEFAULT_RECORDED_TOPICS: readonly string[] = [
  "camera/color/image_raw:sensor_msgs/msg/Image:best_effort",
  "camera/aligned_depth_to_color/image_raw:sensor_msgs/msg/Image:best_effort",
  "camera/color/camera_info:sensor_msgs/msg/CameraInfo:best_effort",
  "scene/objects:spatial_reward_msgs/msg/SceneObjects",
  "spatial/answer:spatial_reward_msgs/msg/SpatialAnswer",
  "reward:spatial_reward_msgs/msg/Reward",
  "reward/spec:spatial_reward_msgs/msg/RewardSpec:latched",
  "/tf:tf2_msgs/msg/TFMessage",
];

export function parseTopicEntry(text: string): TopicEntry {
  const parts = typeof text === "string" ? text.split(":") : [];
  const shown = JSON.stringify(String(text).slice(0, 120));
  if (parts.length < 2 || parts.length > 3) throw new InvalidInputError("bad_argument", `topic entry ${shown} must be "topic:pkg/msg/Type" or "topic:pkg/msg/Type:qos"`);
  const [topic, typeText, qosText = "reliable"] = parts.map((p) => p.trim());
  if (!/^\/?[A-Za-z~{][A-Za-z0-9_/{}~]*$/.test(topic) || topic.includes("//") || (topic.length > 1 && topic.endsWith("/"))) {
    throw new InvalidInputError("bad_argument", `topic entry ${shown}: ${JSON.stringify(topic)} is not a ROS 2 topic name`);
  }
  const type = fullTypeName(typeText);
  if (type === undefined) throw new InvalidInputError("bad_argument", `topic entry ${shown}: ${JSON.stringify(typeText)} is not a message type name (pkg/msg/Type)`);
  if (!(TOPIC_QOS as readonly string[]).includes(qosText)) throw new InvalidInputError("bad_argument", `topic entry ${shown}: qos must be one of ${TOPIC_QOS.join(", ")}, got ${JSON.stringify(qosText)}`);
  return { topic, type, qos: qosText as TopicQos };
}

/** Every entry parsed; a topic listed twice is an error (it would be recorded twice). */
export function parseTopicList(entries: readonly string[]): TopicEntry[] {
  const out = entries.map(parseTopicEntry);
  const seen = new Set<string>();
  for (const e of out) {
    if (seen.has(e.topic)) throw new InvalidInputError("bad_argument", `topic ${e.topic} is listed twice`);
    seen.add(e.topic);
  }
  return out;
}

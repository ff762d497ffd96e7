import { InvalidInputError } from "../../errors.js";

/**
 * ROS 2 names as rmw_cyclonedds puts them on DDS, so ROS 2 nodes and we see the same topics:
 * topics get the `rt` prefix, service requests/replies `rq`/`rr` with a Request/Reply suffix,
 * and types live in a `dds_` module with a trailing underscore.
 */

/** "/camera/color/image_raw" → "rt/camera/color/image_raw". */
export function ddsTopicName(rosTopic: string): string {
  if (!rosTopic.startsWith("/")) throw new InvalidInputError("bad_argument", `expected a fully resolved topic name, got ${rosTopic}`);
  return `rt${rosTopic}`;
}

export function ddsRequestTopicName(rosService: string): string {
  return `rq${rosService}Request`;
}

export function ddsReplyTopicName(rosService: string): string {
  return `rr${rosService}Reply`;
}

/** "sensor_msgs/msg/Image" → "sensor_msgs::msg::dds_::Image_" (also for "pkg/srv/Name_Request"). */
export function ddsTypeName(rosType: string): string {
  const parts = rosType.split("/");
  if (parts.length !== 3 || parts.some((p) => p.length === 0)) {
    throw new InvalidInputError("bad_argument", `expected a type name like pkg/msg/Name, got ${rosType}`);
  }
  const [pkg, kind, name] = parts;
  return `${pkg}::${kind}::dds_::${name}_`;
}

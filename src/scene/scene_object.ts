import type { Vec3 } from "../geometry/vec3.js";

/**
 * One object of the scene graph, expressed in the spatial frame (see spatial_frame.ts):
 * x forward (the camera's viewing direction projected on the support plane), y left, z up.
 *
 * The box is the object's axis-aligned bounding box in that frame, amodal: it covers the
 * whole object, not only the surface the camera sees. Ground truth from the simulator and
 * estimates from perception share this shape, so every question type and reward is one
 * function applied to either.
 */
export interface SceneObject {
  /** Stable across frames while the object is tracked, e.g. "mug#2". */
  id: string;
  /** Category noun, singular, lower case: "mug", "bowl", "apple". */
  kind: string;
  /** Colour name from colors.ts ("red"), or "" when unknown. */
  color: string;
  /** Box centre in metres. */
  center: Vec3;
  /** Box extents in metres: x = depth (front to back), y = width (side to side), z = height. */
  size: Vec3;
  /** 0..1: how much the estimate can be trusted (1 for ground truth). */
  confidence: number;
  /** Points the estimate rests on (0 for ground truth or pose-only objects). */
  numPoints: number;
}

/** The scene graph of one frame. */
export interface Scene {
  /** Frame stamp, nanoseconds since the epoch (ROS time). */
  stamp: bigint;
  objects: readonly SceneObject[];
  /** Height (z) of the support surface in the spatial frame, or null when there is none. */
  supportZ: number | null;
}

/** "red mug", or "mug" when the colour is unknown. */
export function displayName(o: Pick<SceneObject, "kind" | "color">): string {
  return o.color ? `${o.color} ${o.kind}` : o.kind;
}

import type { PinholeIntrinsics } from "../geometry/intrinsics.js";
import type { Vec3 } from "../geometry/vec3.js";
import type { ImageLike } from "../scene/image.js";

/** Instance segmentation: a label image of instance ids (0 = background) and each id's kind. */
export interface InstanceMask {
  /** mono8, mono16 or 16UC1, same size as the depth image. */
  image: ImageLike;
  /** Instance id → category noun ("mug"). Ids missing here are counted and ignored. */
  labels: ReadonlyMap<number, string>;
}

/** A 2D detection (vision_msgs/Detection2D reduced to what lifting needs), in pixels. */
export interface Detection2D {
  kind: string;
  score: number;
  /** Box centre and size in pixels of the depth image. */
  cx: number;
  cy: number;
  width: number;
  height: number;
}

/** One synchronised RGB-D frame with its segmentation, as the perception core consumes it. */
export interface RgbdFrame {
  /** Nanoseconds since the epoch. */
  stamp: bigint;
  intrinsics: PinholeIntrinsics;
  /** rgb8 or bgr8, registered to depth (same size). */
  rgb: ImageLike;
  /** 32FC1 metres or 16UC1 millimetres; 0 or NaN = no reading. */
  depth: ImageLike;
  /** Either instance masks or detections must be given. */
  instances?: InstanceMask;
  detections?: readonly Detection2D[];
  /** Gravity "up" in the camera optical frame, e.g. from TF; otherwise the support plane is fitted. */
  upInCamera?: Vec3;
}

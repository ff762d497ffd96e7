/**
 * An image as sensor_msgs/Image carries it (same field names), so ROS messages, simulator
 * renders and test fixtures pass straight through. Encodings follow
 * sensor_msgs/image_encodings: rgb8, bgr8, mono8, mono16, 16UC1 (depth in mm), 32FC1 (depth in m).
 */
export interface ImageLike {
  width: number;
  height: number;
  encoding: string;
  /** Bytes per row, padding included; the last row's padding may be absent from `data`. */
  step: number;
  /** 0 little-endian (default), 1 big-endian; perception refuses anything else. */
  is_bigendian?: number;
  data: Uint8Array;
}

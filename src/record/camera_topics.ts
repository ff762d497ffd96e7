/**
 * The topics of one camera as RealSense drivers (and the simulator's camera node) publish them,
 * under the camera's namespace ("camera" by default): what the exports look for in a recording.
 */
export interface CameraTopics {
  rgb: string;
  depth: string;
  info: string;
  /** spatial_reward_msgs/InstanceMasks, when a segmenter's masks were recorded. */
  masks: string;
  /** vision_msgs/Detection2DArray, when a detector's boxes were recorded. */
  detections: string;
}

export function cameraTopics(camera: string): CameraTopics {
  return {
    rgb: `${camera}/color/image_raw`,
    depth: `${camera}/aligned_depth_to_color/image_raw`,
    info: `${camera}/color/camera_info`,
    masks: `${camera}/instances`,
    detections: `${camera}/detections`,
  };
}

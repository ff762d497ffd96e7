import type { TransportNode, Publisher } from "../src/transport/port.js";
import { QOS_DEFAULT, QOS_SENSOR_DATA } from "../src/transport/qos.js";
import type { RgbdFrame } from "../src/perception/rgbd_frame.js";
import type { Scene } from "../src/scene/scene_object.js";
import type * as M from "../src/msgs/generated.js";
import { T, header, sceneToMsg } from "./messages.js";

/**
 * Publishes simulator frames on the topics a RealSense driver uses (rgb, aligned depth,
 * camera_info) plus instance masks, 2D detections and the ground-truth scene on
 * `sim/truth`, so the rest of the graph cannot tell the simulator from a camera.
 * Messages reference the simulator's buffers (zero copy); over the in-process transport they
 * are consumed before `publish` returns.
 */
export class SimCameraNode {
  private readonly rgb: Publisher<M.sensor_msgs__msg__Image>;
  private readonly depth: Publisher<M.sensor_msgs__msg__Image>;
  private readonly info: Publisher<M.sensor_msgs__msg__CameraInfo>;
  private readonly masks: Publisher<M.spatial_reward_msgs__msg__InstanceMasks>;
  private readonly detections: Publisher<M.vision_msgs__msg__Detection2DArray>;
  private readonly truth: Publisher<M.spatial_reward_msgs__msg__SceneObjects>;
  readonly frameId: string;

  constructor(readonly node: TransportNode) {
    this.frameId = String(node.declareParameter("camera_frame_id", "camera_color_optical_frame"));
    this.rgb = node.createPublisher(T.Image, "camera/color/image_raw", QOS_SENSOR_DATA);
    this.depth = node.createPublisher(T.Image, "camera/aligned_depth_to_color/image_raw", QOS_SENSOR_DATA);
    this.info = node.createPublisher(T.CameraInfo, "camera/color/camera_info", QOS_DEFAULT);
    this.masks = node.createPublisher(T.InstanceMasks, "camera/instances", QOS_SENSOR_DATA);
    this.detections = node.createPublisher(T.Detection2DArray, "camera/detections", QOS_SENSOR_DATA);
    this.truth = node.createPublisher(T.SceneObjects, "sim/truth", QOS_DEFAULT);
  }

  publish(frame: RgbdFrame, truth: Scene | null): void {
    const h = header(frame.stamp, this.frameId);
    const k = frame.intrinsics;
    this.info.publish({
      header: h,
      height: k.height,
      width: k.width,
      distortion_model: "plumb_bob",
      d: [0, 0, 0, 0, 0],
      k: [k.fx, 0, k.cx, 0, k.fy, k.cy, 0, 0, 1],
      r: [1, 0, 0, 0, 1, 0, 0, 0, 1],
      p: [k.fx, 0, k.cx, 0, 0, k.fy, k.cy, 0, 0, 0, 1, 0],
      binning_x: 0,
      binning_y: 0,
      roi: { x_offset: 0, y_offset: 0, height: 0, width: 0, do_rectify: false },
    });
    this.rgb.publish(imageMsg(h, frame.rgb));
    this.depth.publish(imageMsg(h, frame.depth));
    if (frame.instances) {
      const ids = [...frame.instances.labels.keys()];
      this.masks.publish({
        header: h,
        mask: imageMsg(h, frame.instances.image),
        ids,
        labels: ids.map((i) => frame.instances!.labels.get(i) ?? ""),
      });
    }
    if (frame.detections) {
      this.detections.publish({
        header: h,
        detections: frame.detections.map((d, i) => ({
          header: h,
          results: [{
            hypothesis: { class_id: d.kind, score: d.score },
            pose: { pose: { position: { x: 0, y: 0, z: 0 }, orientation: { x: 0, y: 0, z: 0, w: 1 } }, covariance: new Float64Array(36) },
          }],
          bbox: { center: { position: { x: d.cx, y: d.cy }, theta: 0 }, size_x: d.width, size_y: d.height },
          id: String(i + 1),
        })),
      });
    }
    if (truth) this.truth.publish(sceneToMsg(truth, "spatial"));
  }
}

function imageMsg(h: M.std_msgs__msg__Header, img: RgbdFrame["rgb"]): M.sensor_msgs__msg__Image {
  return { header: h, height: img.height, width: img.width, encoding: img.encoding, is_bigendian: img.is_bigendian ?? 0, step: img.step, data: img.data };
}

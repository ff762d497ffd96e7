import type { TransportNode, Publisher } from "../src/transport/port.js";
import { QOS_DEFAULT, QOS_SENSOR_DATA, type QoS } from "../src/transport/qos.js";
import { InvalidInputError } from "../src/errors.js";
import { ErrorReporter } from "./error_reporter.js";
import type { RgbdFrame } from "../src/perception/rgbd_frame.js";
import type { Scene } from "../src/scene/scene_object.js";
import type * as M from "../src/msgs/generated.js";
import { T, header, sceneToMsg } from "./messages.js";

/** One simulator frame as the messages a camera driver (plus segmenter) would publish. */
export interface CameraMessages {
  info: M.sensor_msgs__msg__CameraInfo;
  rgb: M.sensor_msgs__msg__Image;
  depth: M.sensor_msgs__msg__Image;
  masks?: M.spatial_reward_msgs__msg__InstanceMasks;
  detections?: M.vision_msgs__msg__Detection2DArray;
}

/**
 * Publishes simulator frames on the topics a RealSense driver uses (rgb, aligned depth,
 * camera_info) plus instance masks, 2D detections and the ground-truth scene on
 * `sim/truth`, so the rest of the graph cannot tell the simulator from a camera.
 * Messages reference the simulator's buffers (zero copy); over the in-process transport they
 * are consumed before `publish` returns.
 * Parameters: camera_frame_id, output_reliability ("best_effort" as camera drivers publish,
 * or "reliable" keep-all for lossless graphs such as camera_graph_lossless.yaml).
 */
export class SimCameraNode {
  private readonly rgb: Publisher<M.sensor_msgs__msg__Image>;
  private readonly depth: Publisher<M.sensor_msgs__msg__Image>;
  private readonly info: Publisher<M.sensor_msgs__msg__CameraInfo>;
  private readonly masks: Publisher<M.spatial_reward_msgs__msg__InstanceMasks>;
  private readonly detections: Publisher<M.vision_msgs__msg__Detection2DArray>;
  private readonly truth: Publisher<M.spatial_reward_msgs__msg__SceneObjects>;
  readonly frameId: string;
  /**
   * Where a driver reports a frame that failed (rendering or publishing): counted
   * (errors.<code>) and logged at most once per 5 s per code, as a frame failing every time (an
   * image too large for RouDi's shared-memory pools) logged 30 lines a second.
   */
  readonly errors: ErrorReporter;

  constructor(readonly node: TransportNode) {
    this.errors = new ErrorReporter(node.counters(), node.logger);
    this.frameId = String(node.declareParameter("camera_frame_id", "camera_color_optical_frame"));
    const reliability = String(node.declareParameter("output_reliability", "best_effort"));
    if (reliability !== "best_effort" && reliability !== "reliable") {
      throw new InvalidInputError("bad_argument", `sim_camera: output_reliability must be best_effort or reliable, got ${reliability}`);
    }
    const qos: QoS = reliability === "reliable" ? { ...QOS_SENSOR_DATA, reliability: "reliable", history: "keep_all" } : QOS_SENSOR_DATA;
    this.rgb = node.createPublisher(T.Image, "camera/color/image_raw", qos);
    this.depth = node.createPublisher(T.Image, "camera/aligned_depth_to_color/image_raw", qos);
    this.info = node.createPublisher(T.CameraInfo, "camera/color/camera_info", QOS_DEFAULT);
    this.masks = node.createPublisher(T.InstanceMasks, "camera/instances", qos);
    this.detections = node.createPublisher(T.Detection2DArray, "camera/detections", qos);
    this.truth = node.createPublisher(T.SceneObjects, "sim/truth", QOS_DEFAULT);
  }

  publish(frame: RgbdFrame, truth: Scene | null): void {
    const m = cameraMessages(frame, this.frameId);
    this.info.publish(m.info);
    this.rgb.publish(m.rgb);
    this.depth.publish(m.depth);
    if (m.masks) this.masks.publish(m.masks);
    if (m.detections) this.detections.publish(m.detections);
    if (truth) this.truth.publish(sceneToMsg(truth, "spatial"));
  }
}

/** The messages of one frame, stamped with the frame's stamp in `frameId`. */
export function cameraMessages(frame: RgbdFrame, frameId: string): CameraMessages {
  const h = header(frame.stamp, frameId);
  const k = frame.intrinsics;
  const out: CameraMessages = {
    info: {
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
    },
    rgb: imageMsg(h, frame.rgb),
    depth: imageMsg(h, frame.depth),
  };
  if (frame.instances) {
    const ids = [...frame.instances.labels.keys()];
    out.masks = { header: h, mask: imageMsg(h, frame.instances.image), ids, labels: ids.map((i) => frame.instances!.labels.get(i) ?? "") };
  }
  if (frame.detections) {
    out.detections = {
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
    };
  }
  return out;
}

function imageMsg(h: M.std_msgs__msg__Header, img: RgbdFrame["rgb"]): M.sensor_msgs__msg__Image {
  return { header: h, height: img.height, width: img.width, encoding: img.encoding, is_bigendian: img.is_bigendian ?? 0, step: img.step, data: img.data };
}

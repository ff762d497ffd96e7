import { merge, map, type Observable } from "rxjs";
import type { TransportNode } from "../src/transport/port.js";
import { QOS_DEFAULT, QOS_SENSOR_DATA, type QoS } from "../src/transport/qos.js";
import { Perception } from "../src/perception/perception.js";
import type { RgbdFrame } from "../src/perception/rgbd_frame.js";
import type { PinholeIntrinsics } from "../src/geometry/intrinsics.js";
import { StampSynchronizer } from "../src/sync/stamp_synchronizer.js";
import { isSpatialRewardError } from "../src/errors.js";
import type * as M from "../src/msgs/generated.js";
import {
  T, detectionsFromMsg, instanceMaskFromMsg, intrinsicsFromCameraInfo, sceneToDetection3D, sceneToMsg, stampOf,
} from "./messages.js";
import { DiagnosticsPublisher } from "./diagnostics_publisher.js";

type Segmentation = M.spatial_reward_msgs__msg__InstanceMasks | M.vision_msgs__msg__Detection2DArray;

/**
 * Perception node: camera topics (as RealSense-style drivers publish them) plus instance
 * masks or 2D detections → scene graph (SceneObjects), Detection3DArray, diagnostics.
 * Parameters: segmentation ("masks" | "detections"), sync_slop_ms (0 = exact stamps),
 * sync_queue_size (default 10, 60 with reliable inputs), frame_id (name of the spatial frame in outgoing headers), input_reliability
 * ("best_effort" | "reliable", QoS of the camera subscriptions).
 */
export class PerceptionNode {
  readonly perception = new Perception();
  private intrinsics: PinholeIntrinsics | null = null;
  private readonly sync: StampSynchronizer<[M.sensor_msgs__msg__Image, M.sensor_msgs__msg__Image, Segmentation]>;
  private readonly diagnostics: DiagnosticsPublisher;

  constructor(readonly node: TransportNode) {
    const segmentation = String(node.declareParameter("segmentation", "masks"));
    const slopMs = Number(node.declareParameter("sync_slop_ms", 0));
    const frameId = String(node.declareParameter("frame_id", "spatial"));
    // Sensor-data QoS (best effort, newest 5) by default, as camera drivers publish; "reliable"
    // is lossless capture: reliable and keep-all, so a slow moment delays frames instead of dropping them.
    const inputReliability = String(node.declareParameter("input_reliability", "best_effort"));
    if (inputReliability !== "best_effort" && inputReliability !== "reliable") {
      throw new Error(`perception: input_reliability must be best_effort or reliable, got ${inputReliability}`);
    }
    const inputQos: QoS = inputReliability === "reliable" ? { ...QOS_SENSOR_DATA, reliability: "reliable", history: "keep_all" } : QOS_SENSOR_DATA;
    // Lossless input delivers a stall's backlog one topic after another; the synchroniser must
    // hold that many frames per topic, so its default grows to 2 s at 30 Hz.
    const queueSize = Number(node.declareParameter("sync_queue_size", inputReliability === "reliable" ? 60 : 10));
    const counters = this.perception.counters;

    const scenePub = node.createPublisher<M.spatial_reward_msgs__msg__SceneObjects>(T.SceneObjects, "scene/objects", QOS_DEFAULT);
    const det3dPub = node.createPublisher<M.vision_msgs__msg__Detection3DArray>(T.Detection3DArray, "scene/detections3d", QOS_DEFAULT);
    this.diagnostics = new DiagnosticsPublisher(node, "perception", counters);

    this.sync = new StampSynchronizer(
      ["rgb", "depth", "segmentation"],
      { slopNs: BigInt(Math.round(slopMs * 1e6)), queueSize },
      (stamp, [rgb, depth, seg]) => {
        if (!this.intrinsics) {
          counters.inc("dropped.no_camera_info");
          return;
        }
        const t0 = performance.now();
        try {
          const frame: RgbdFrame = { stamp, intrinsics: this.intrinsics, rgb, depth };
          if ("mask" in seg) frame.instances = instanceMaskFromMsg(seg);
          else frame.detections = detectionsFromMsg(seg);
          const scene = this.perception.process(frame);
          scenePub.publish(sceneToMsg(scene, frameId));
          det3dPub.publish(sceneToDetection3D(scene, frameId));
          this.diagnostics.latency.add(performance.now() - t0);
        } catch (e) {
          if (!isSpatialRewardError(e)) throw e;
          // Perception counted it (errors.<code>); a message-level error is counted here.
          if (e.code === "bad_message" || e.code === "bad_intrinsics") counters.inc(`errors.${e.code}`);
          this.diagnostics.lastError = e.message;
        }
      },
      counters,
    );

    node.createSubscription<M.sensor_msgs__msg__CameraInfo>(T.CameraInfo, "camera/color/camera_info", QOS_DEFAULT, (info) => {
      try {
        this.intrinsics = intrinsicsFromCameraInfo(info);
      } catch (e) {
        if (!isSpatialRewardError(e)) throw e;
        counters.inc(`errors.${e.code}`);
        this.diagnostics.lastError = e.message;
      }
    });
    // The three camera streams, tagged by slot, merged into one stream for the synchroniser.
    const segmentationStream: Observable<Segmentation> = segmentation === "detections"
      ? node.observe<M.vision_msgs__msg__Detection2DArray>(T.Detection2DArray, "camera/detections", inputQos)
      : node.observe<M.spatial_reward_msgs__msg__InstanceMasks>(T.InstanceMasks, "camera/instances", inputQos);
    merge(
      node.observe<M.sensor_msgs__msg__Image>(T.Image, "camera/color/image_raw", inputQos).pipe(map((m) => [0, m] as const)),
      node.observe<M.sensor_msgs__msg__Image>(T.Image, "camera/aligned_depth_to_color/image_raw", inputQos).pipe(map((m) => [1, m] as const)),
      segmentationStream.pipe(map((m) => [2, m] as const)),
    ).subscribe(([slot, m]) => this.sync.add(slot, stampOf(m), m));
  }
}

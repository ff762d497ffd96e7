import { merge, map, type Observable } from "rxjs";
import type { Publisher, TransportNode } from "../src/transport/port.js";
import { QOS_CAMERA_INFO, QOS_DEFAULT, QOS_SENSOR_DATA, QOS_TF, type QoS } from "../src/transport/qos.js";
import { Perception } from "../src/perception/perception.js";
import type { RgbdFrame } from "../src/perception/rgbd_frame.js";
import { validateIntrinsics, type PinholeIntrinsics } from "../src/geometry/intrinsics.js";
import { quaternionFromRotation } from "../src/geometry/quaternion.js";
import type { SpatialFrame } from "../src/geometry/spatial_frame.js";
import { namespacedFrameId } from "../src/ros/frame_ids.js";
import { StampSynchronizer } from "../src/sync/stamp_synchronizer.js";
import type { TimelineJump } from "../src/time/stamp_gate.js";
import type * as M from "../src/msgs/generated.js";
import {
  T, detectionsFromMsg, header, instanceMaskFromMsg, intrinsicsFromCameraInfo, sceneToDetection3D, sceneToMsg, stampOf,
} from "./messages.js";
import { DiagnosticsPublisher, DIAGNOSTIC_LEVEL } from "./diagnostics_publisher.js";
import { RosClock } from "./ros_clock.js";

type Segmentation = M.spatial_reward_msgs__msg__InstanceMasks | M.vision_msgs__msg__Detection2DArray;

/**
 * Perception node: camera topics (as RealSense-style drivers publish them) plus instance
 * masks or 2D detections → scene graph (SceneObjects), Detection3DArray, the camera → spatial
 * transform on /tf, diagnostics.
 * Parameters: segmentation ("masks" | "detections"), sync_slop_ms (0 = exact stamps),
 * sync_queue_size (default 10, 60 with reliable inputs), frame_id (the spatial frame; relative
 * ids are prefixed with the node's namespace, see src/ros/frame_ids.ts), camera_frame_id (parent
 * frame when the images' header has none), input_reliability ("best_effort" | "reliable", QoS of
 * the image subscriptions), publish_tf, max_stamp_jump_ms (a stamp further than this from the
 * last is an outlier until 3 frames agree on the new timeline: raise it for cameras slower than
 * one frame per 5 s), use_sim_time.
 *
 * Every callback is guarded: a bad message is counted (errors.<code>, or errors.internal for a
 * bug), logged (throttled) and shown on /diagnostics, and the next frame is processed as usual.
 */
export class PerceptionNode {
  readonly perception: Perception;
  readonly diagnostics: DiagnosticsPublisher;
  /** The spatial frame's TF id (namespaced). */
  readonly frameId: string;
  private intrinsics: PinholeIntrinsics | null = null;
  /** The synchroniser's last timeline change Perception was told about. */
  private followedJump: TimelineJump | null = null;
  private readonly sync: StampSynchronizer<[M.sensor_msgs__msg__Image, M.sensor_msgs__msg__Image, Segmentation]>;

  constructor(readonly node: TransportNode) {
    const segmentation = String(node.declareParameter("segmentation", "masks"));
    if (segmentation !== "masks" && segmentation !== "detections") {
      throw new Error(`perception: segmentation must be masks or detections, got ${segmentation}`);
    }
    const slopMs = Number(node.declareParameter("sync_slop_ms", 0));
    if (!(slopMs >= 0 && slopMs <= 10_000)) throw new Error(`perception: sync_slop_ms must be in 0..10000, got ${slopMs}`);
    this.frameId = namespacedFrameId(String(node.declareParameter("frame_id", "spatial")), node.namespace);
    const cameraFrameDefault = String(node.declareParameter("camera_frame_id", "camera_color_optical_frame"));
    const publishTf = Boolean(node.declareParameter("publish_tf", true));
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
    if (!(Number.isInteger(queueSize) && queueSize >= 1 && queueSize <= 10_000)) {
      throw new Error(`perception: sync_queue_size must be an integer in 1..10000, got ${queueSize}`);
    }
    const maxJumpMs = Number(node.declareParameter("max_stamp_jump_ms", 5000));
    this.perception = new Perception({ maxStampJumpMs: maxJumpMs });
    const counters = this.perception.counters;
    const clock = new RosClock(node, (e) => this.diagnostics.errors.report(e, "/clock"));

    const scenePub = node.createPublisher<M.spatial_reward_msgs__msg__SceneObjects>(T.SceneObjects, "scene/objects", QOS_DEFAULT);
    const det3dPub = node.createPublisher<M.vision_msgs__msg__Detection3DArray>(T.Detection3DArray, "scene/detections3d", QOS_DEFAULT);
    const tfPub = publishTf ? node.createPublisher<M.tf2_msgs__msg__TFMessage>(T.TFMessage, "/tf", QOS_TF) : null;
    this.diagnostics = new DiagnosticsPublisher(node, "perception", counters, clock);
    this.diagnostics.condition = { level: DIAGNOSTIC_LEVEL.WARN, message: "waiting for camera_info" };
    const errors = this.diagnostics.errors;

    this.sync = new StampSynchronizer(
      ["rgb", "depth", "segmentation"],
      { slopNs: BigInt(Math.round(slopMs * 1e6)), queueSize, maxJumpNs: BigInt(Math.round(maxJumpMs * 1e6)) },
      errors.guard("synchronised frame", (stamp, [rgb, depth, seg]) => {
        if (!this.intrinsics) {
          counters.inc("dropped.no_camera_info");
          return;
        }
        const t0 = performance.now();
        let frame: RgbdFrame;
        try {
          frame = { stamp, intrinsics: this.intrinsics, rgb, depth };
          if ("mask" in seg) frame.instances = instanceMaskFromMsg(seg);
          else frame.detections = detectionsFromMsg(seg);
        } catch (e) {
          errors.report(e, "segmentation message");
          return;
        }
        // The synchroniser confirmed a new timeline (it gates every topic's stamps): Perception
        // follows at once instead of confirming it again over more frames.
        const syncJump = this.sync.lastTimelineJump;
        if (syncJump !== this.followedJump) {
          this.followedJump = syncJump;
          this.perception.followTimeline();
          if (syncJump) node.logger.warn(`camera stamps jumped ${syncJump.direction} (${syncJump.from} ns → ${syncJump.to} ns): new timeline adopted, object tracks restarted`);
        }
        let scene;
        const jumps = this.perception.timelineJumps;
        try {
          scene = this.perception.process(frame);
        } catch (e) {
          // Perception counted it (errors.<code>, errors.internal for a bug); report it once here.
          errors.report(e, "perception", true);
          return;
        }
        const jump = this.perception.lastTimelineJump;
        if (this.perception.timelineJumps !== jumps && jump) {
          node.logger.warn(`frame stamps jumped ${jump.direction} (${jump.from} ns → ${jump.to} ns): new timeline adopted, object tracks restarted`);
        }
        scenePub.publish(sceneToMsg(scene, this.frameId));
        det3dPub.publish(sceneToDetection3D(scene, this.frameId));
        if (tfPub && this.perception.lastFrame) {
          tfPub.publish(spatialTransform(this.perception.lastFrame, stamp, rgb.header.frame_id || cameraFrameDefault, this.frameId));
        }
        this.diagnostics.latency.add(performance.now() - t0);
      }),
      counters,
    );

    node.createSubscription<M.sensor_msgs__msg__CameraInfo>(
      T.CameraInfo, "camera/color/camera_info", QOS_CAMERA_INFO,
      errors.guard("camera/color/camera_info", (info) => this.setCameraInfo(info)),
    );
    // The three camera streams, tagged by slot, merged into one stream for the synchroniser.
    const segmentationStream: Observable<Segmentation> = segmentation === "detections"
      ? node.observe<M.vision_msgs__msg__Detection2DArray>(T.Detection2DArray, "camera/detections", inputQos)
      : node.observe<M.spatial_reward_msgs__msg__InstanceMasks>(T.InstanceMasks, "camera/instances", inputQos);
    const slotNames = ["camera/color/image_raw", "camera/aligned_depth_to_color/image_raw", segmentation === "detections" ? "camera/detections" : "camera/instances"];
    merge(
      node.observe<M.sensor_msgs__msg__Image>(T.Image, "camera/color/image_raw", inputQos).pipe(map((m) => [0, m] as const)),
      node.observe<M.sensor_msgs__msg__Image>(T.Image, "camera/aligned_depth_to_color/image_raw", inputQos).pipe(map((m) => [1, m] as const)),
      segmentationStream.pipe(map((m) => [2, m] as const)),
    ).subscribe(([slot, m]) => {
      // Guarded here, inside the subscriber: an exception escaping an rxjs subscriber is rethrown
      // asynchronously and would end the process.
      try {
        this.sync.add(slot, stampOf(m), m);
      } catch (e) {
        errors.report(e, slotNames[slot]);
      }
    });
  }

  private setCameraInfo(info: M.sensor_msgs__msg__CameraInfo): void {
    let k: PinholeIntrinsics;
    try {
      k = intrinsicsFromCameraInfo(info);
      validateIntrinsics(k);
    } catch (e) {
      // Counted once per bad message here; frames keep using the last good intrinsics.
      this.diagnostics.errors.report(e, "camera/color/camera_info");
      return;
    }
    const old = this.intrinsics;
    // Every frame brings its camera_info: only a change is worth anything (and a log line).
    if (old && old.width === k.width && old.height === k.height && old.fx === k.fx && old.fy === k.fy && old.cx === k.cx && old.cy === k.cy) return;
    this.node.logger.info(`${old ? "camera intrinsics changed" : "camera_info received"}: ${k.width}x${k.height} fx=${k.fx} fy=${k.fy} cx=${k.cx} cy=${k.cy}`);
    this.intrinsics = k;
    this.diagnostics.condition = null;
  }
}

/**
 * TF of the spatial frame in the camera's optical frame. The spatial frame shares the camera's
 * origin and is rotated by R (camera → spatial), so the transform parent ← child rotates by Rᵀ.
 */
export function spatialTransform(frame: SpatialFrame, stamp: bigint, cameraFrameId: string, spatialFrameId: string): M.tf2_msgs__msg__TFMessage {
  // q(Rᵀ) is the conjugate of q(R).
  const q = quaternionFromRotation(frame.rotation);
  return {
    transforms: [{
      header: header(stamp, cameraFrameId),
      child_frame_id: spatialFrameId,
      transform: { translation: { x: 0, y: 0, z: 0 }, rotation: { x: -q.x, y: -q.y, z: -q.z, w: q.w } },
    }],
  };
}

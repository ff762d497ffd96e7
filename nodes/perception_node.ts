import type { Publisher, TransportNode } from "../src/transport/port.js";
import { QOS_CAMERA_INFO, QOS_DEFAULT, QOS_SENSOR_DATA, QOS_TF, type QoS } from "../src/transport/qos.js";
import { Perception } from "../src/perception/perception.js";
import type { RgbdFrame } from "../src/perception/rgbd_frame.js";
import { validateIntrinsics, type PinholeIntrinsics } from "../src/geometry/intrinsics.js";
import { quaternionFromRotation } from "../src/geometry/quaternion.js";
import type { SpatialFrame } from "../src/geometry/spatial_frame.js";
import { namespacedFrameId } from "../src/ros/frame_ids.js";
import { StampSynchronizer, type SyncOptions } from "../src/sync/stamp_synchronizer.js";
import { sampleLending, type SampleLending } from "../src/transport/dds/sample_lending.js";
import { codecFor } from "../src/transport/dds/codec_cache.js";
import type { TimelineJump } from "../src/time/stamp_gate.js";
import type * as M from "../src/msgs/generated.js";
import {
  T, detectionsFromMsg, header, instanceMaskFromMsg, intrinsicsFromCameraInfo, sceneToDetection3D, sceneToMsg, stampOf,
} from "./messages.js";
import { DiagnosticsPublisher, DIAGNOSTIC_LEVEL } from "./diagnostics_publisher.js";
import { RosClock } from "./ros_clock.js";
import { warmUpCameraPath, type WarmupFrame } from "./camera_warmup.js";
import { threadCpuMs } from "./thread_cpu_clock.js";
import { perceptionKernels } from "./perception/native_perception_kernels.js";

type Segmentation = M.spatial_reward_msgs__msg__InstanceMasks | M.vision_msgs__msg__Detection2DArray;
type Image = M.sensor_msgs__msg__Image;
/** A camera message and its lease: nonzero when the transport lent it (released once processed). */
interface Leased<T> {
  msg: T;
  lease: number;
}
type CameraSet = [Leased<Image>, Leased<Image>, Leased<Segmentation>];

/** Camera paths this process already warmed up (size and segmentation): compiled code is shared. */
const warmedUp = new Set<string>();

/**
 * Perception node: camera topics (as RealSense-style drivers publish them) plus instance
 * masks or 2D detections → scene graph (SceneObjects), Detection3DArray, the camera → spatial
 * transform on /tf, diagnostics.
 * Parameters: segmentation ("masks" | "detections"), sync_slop_ms (0 = exact stamps),
 * sync_queue_size (default 10, 60 with reliable inputs), frame_id (the spatial frame; relative
 * ids are prefixed with the node's namespace, see src/ros/frame_ids.ts), camera_frame_id (parent
 * frame when the images' header has none), input_reliability ("best_effort" | "reliable", QoS of
 * the image subscriptions), input_depth (frames kept per image topic: keep-last N; 0 = keep all,
 * reliable's default), publish_tf, max_stamp_jump_ms (a stamp further than this from the
 * last is an outlier until 3 frames agree on the new timeline: raise it for cameras slower than
 * one frame per 5 s), use_sim_time, warmup_frames / warmup_width / warmup_height (before it
 * subscribes, the node runs its per-frame path on that many simulated frames of that size, once
 * per process and size, so the first real frames meet compiled code: 0 turns it off).
 *
 * Over the dds backend the camera images are lent (see sample_lending.ts): decoded in place in
 * reused memory, returned once the frame is processed, and memory for the configured size is
 * readied before the first frame. Counter cpu_ms.perception estimates the JS thread's CPU time
 * inside Perception.process (thread_cpu_clock.ts), so a camera's cost apart from the perception
 * stage can be told from the process's CPU time: one frame in CPU_SAMPLE_EVERY is clocked (the
 * first among them) and counts for all of them, because a reading of the thread clock cost
 * 30-34 us here (a 640x480 frame's whole perception stage is ~500 us).
 *
 * Every callback is guarded: a bad message is counted (errors.<code>, or errors.internal for a
 * bug), logged (throttled) and shown on /diagnostics, and the next frame is processed as usual.
 */
/** Perception's thread CPU is clocked on one frame in this many (see PerceptionNode). */
export const CPU_SAMPLE_EVERY = 16;

export class PerceptionNode {
  readonly perception: Perception;
  readonly diagnostics: DiagnosticsPublisher;
  /** The spatial frame's TF id (namespaced). */
  readonly frameId: string;
  private intrinsics: PinholeIntrinsics | null = null;
  /** The synchroniser's last timeline change Perception was told about. */
  private followedJump: TimelineJump | null = null;
  private framesProcessed = 0;
  private readonly sync: StampSynchronizer<CameraSet>;
  private readonly lending: SampleLending | null;
  private readonly cameraFrameDefault: string;
  private readonly publishers: {
    scene: Publisher<M.spatial_reward_msgs__msg__SceneObjects>;
    det3d: Publisher<M.vision_msgs__msg__Detection3DArray>;
    tf: Publisher<M.tf2_msgs__msg__TFMessage> | null;
  };

  constructor(readonly node: TransportNode) {
    const segmentation = String(node.declareParameter("segmentation", "masks"));
    if (segmentation !== "masks" && segmentation !== "detections") {
      throw new Error(`perception: segmentation must be masks or detections, got ${segmentation}`);
    }
    const slopMs = Number(node.declareParameter("sync_slop_ms", 0));
    if (!(slopMs >= 0 && slopMs <= 10_000)) throw new Error(`perception: sync_slop_ms must be in 0..10000, got ${slopMs}`);
    this.frameId = namespacedFrameId(String(node.declareParameter("frame_id", "spatial")), node.namespace);
    const cameraFrameDefault = String(node.declareParameter("camera_frame_id", "camera_color_optical_frame"));
    this.cameraFrameDefault = cameraFrameDefault;
    const publishTf = Boolean(node.declareParameter("publish_tf", true));
    // Sensor-data QoS (best effort, newest 5) by default, as camera drivers publish; "reliable"
    // is lossless capture: reliable and keep-all, so a slow moment delays frames instead of dropping them.
    const inputReliability = String(node.declareParameter("input_reliability", "best_effort"));
    if (inputReliability !== "best_effort" && inputReliability !== "reliable") {
      throw new Error(`perception: input_reliability must be best_effort or reliable, got ${inputReliability}`);
    }
    // input_depth N keeps the newest N frames per topic instead (keep-last), which Cyclone's shared
    // memory requires; 0 (reliable's default) is keep-all.
    const inputDepth = Number(node.declareParameter("input_depth", inputReliability === "reliable" ? 0 : QOS_SENSOR_DATA.depth));
    if (!(Number.isInteger(inputDepth) && inputDepth >= (inputReliability === "reliable" ? 0 : 1) && inputDepth <= 1000)) {
      throw new Error(`perception: input_depth must be an integer in ${inputReliability === "reliable" ? 0 : 1}..1000 (0: keep all, reliable only), got ${inputDepth}`);
    }
    const inputQos: QoS = inputDepth === 0 ? { ...QOS_SENSOR_DATA, reliability: "reliable", history: "keep_all" } : { ...QOS_SENSOR_DATA, reliability: inputReliability, depth: inputDepth };
    // Lossless input delivers a stall's backlog one topic after another; the synchroniser must
    // hold that many frames per topic, so its default grows to 2 s at 30 Hz.
    const queueSize = Number(node.declareParameter("sync_queue_size", inputReliability === "reliable" ? 60 : 10));
    if (!(Number.isInteger(queueSize) && queueSize >= 1 && queueSize <= 10_000)) {
      throw new Error(`perception: sync_queue_size must be an integer in 1..10000, got ${queueSize}`);
    }
    const maxJumpMs = Number(node.declareParameter("max_stamp_jump_ms", 5000));
    const warmupFrames = Number(node.declareParameter("warmup_frames", 32));
    const warmupWidth = Number(node.declareParameter("warmup_width", 640));
    const warmupHeight = Number(node.declareParameter("warmup_height", 480));
    if (!(Number.isInteger(warmupFrames) && warmupFrames >= 0 && warmupFrames <= 1000)) {
      throw new Error(`perception: warmup_frames must be an integer in 0..1000, got ${warmupFrames}`);
    }
    for (const [name, v] of [["warmup_width", warmupWidth], ["warmup_height", warmupHeight]] as const) {
      if (!(Number.isInteger(v) && v >= 16 && v <= 8192)) throw new Error(`perception: ${name} must be an integer in 16..8192, got ${v}`);
    }
    const syncOptions: SyncOptions = { slopNs: BigInt(Math.round(slopMs * 1e6)), queueSize, maxJumpNs: BigInt(Math.round(maxJumpMs * 1e6)) };
    this.lending = sampleLending(node);
    // Before any subscription exists: no frame can queue up behind the warm-up (a publisher
    // waiting for subscribers, as the C peer does, starts once it is over). And before this
    // node's Perception exists: objects made after the warm-up get the shapes (hidden classes)
    // the compiled code expects; one made before would deoptimise it at its first frame.
    this.warmUp({ width: warmupWidth, height: warmupHeight, frames: warmupFrames, segmentation, frameId: cameraFrameDefault }, syncOptions, maxJumpMs);
    this.perception = new Perception({ maxStampJumpMs: maxJumpMs, kernels: perceptionKernels() });
    // Its camera-sized memory too (every camera in a process has its own), paid for now.
    if (warmupFrames > 0) this.perception.reserve(warmupWidth, warmupHeight);
    const counters = this.perception.counters;
    const clock = new RosClock(node, (e) => this.diagnostics.errors.report(e, "/clock"));

    this.publishers = {
      scene: node.createPublisher<M.spatial_reward_msgs__msg__SceneObjects>(T.SceneObjects, "scene/objects", QOS_DEFAULT),
      det3d: node.createPublisher<M.vision_msgs__msg__Detection3DArray>(T.Detection3DArray, "scene/detections3d", QOS_DEFAULT),
      tf: publishTf ? node.createPublisher<M.tf2_msgs__msg__TFMessage>(T.TFMessage, "/tf", QOS_TF) : null,
    };
    this.diagnostics = new DiagnosticsPublisher(node, "perception", counters, clock);
    this.diagnostics.condition = { level: DIAGNOSTIC_LEVEL.WARN, message: "waiting for camera_info" };
    const errors = this.diagnostics.errors;

    const inputs = ["camera/color/image_raw", "camera/aligned_depth_to_color/image_raw", segmentation === "detections" ? "camera/detections" : "camera/instances"] as const;

    this.sync = new StampSynchronizer(
      ["rgb", "depth", "segmentation"],
      syncOptions,
      errors.guard("synchronised frame", (stamp: bigint, set: CameraSet) => {
        try {
          this.onFrame(stamp, set[0].msg, set[1].msg, set[2].msg);
        } finally {
          // Perception keeps no view of a frame's images past process(): they go back now.
          this.release(set[0].lease);
          this.release(set[1].lease);
          this.release(set[2].lease);
        }
      }),
      counters,
      // An image that can never be matched goes back now: over shared memory it holds an iceoryx
      // chunk, of which a reader may hold only so many, until the GC would have collected it.
      (_stream, dropped) => this.release(dropped.lease),
    );

    node.createSubscription<M.sensor_msgs__msg__CameraInfo>(
      T.CameraInfo, "camera/color/camera_info", QOS_CAMERA_INFO,
      errors.guard("camera/color/camera_info", (info) => this.setCameraInfo(info)),
    );
    // The three camera streams, each into its synchroniser slot (lent images where the backend lends).
    for (let slot = 0; slot < 3; slot++) {
      const topic = inputs[slot];
      const type = slot < 2 ? T.Image : segmentation === "detections" ? T.Detection2DArray : T.InstanceMasks;
      const onMessage = (m: Image | Segmentation, lease: number): void => {
        let stamp: bigint;
        try {
          stamp = stampOf(m);
        } catch (e) {
          this.release(lease);
          errors.report(e, topic);
          return;
        }
        try {
          // The slot says which stream the message is (the subscription's type is the slot's).
          this.sync.add(slot, stamp, { msg: m, lease } as CameraSet[number]);
        } catch (e) {
          errors.report(e, topic);
        }
      };
      if (this.lending) this.lending.createLentSubscription<Image | Segmentation>(type, topic, inputQos, onMessage);
      else node.createSubscription<Image | Segmentation>(type, topic, inputQos, (m) => onMessage(m, 0));
    }
  }

  private release(lease: number): void {
    if (lease !== 0) this.lending?.releaseSample(lease);
  }

  /** One synchronised frame: perception, then the scene, its 3D detections and the camera → spatial TF. */
  private onFrame(stamp: bigint, rgb: Image, depth: Image, seg: Segmentation): void {
    const counters = this.perception.counters;
    if (!this.intrinsics) {
      counters.inc("dropped.no_camera_info");
      return;
    }
    const errors = this.diagnostics.errors;
    const t0 = performance.now();
    let frame: RgbdFrame;
    try {
      frame = frameOf(stamp, this.intrinsics, rgb, depth, seg);
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
      if (syncJump) this.node.logger.warn(`camera stamps jumped ${syncJump.direction} (${syncJump.from} ns → ${syncJump.to} ns): new timeline adopted, object tracks restarted`);
    }
    let scene;
    const jumps = this.perception.timelineJumps;
    const clocked = this.framesProcessed++ % CPU_SAMPLE_EVERY === 0;
    const cpu1 = clocked ? threadCpuMs() : 0;
    try {
      scene = this.perception.process(frame);
    } catch (e) {
      // Perception counted it (errors.<code>, errors.internal for a bug); report it once here.
      errors.report(e, "perception", true);
      return;
    } finally {
      if (clocked) counters.inc("cpu_ms.perception", CPU_SAMPLE_EVERY * (threadCpuMs() - cpu1));
    }
    const jump = this.perception.lastTimelineJump;
    if (this.perception.timelineJumps !== jumps && jump) {
      this.node.logger.warn(`frame stamps jumped ${jump.direction} (${jump.from} ns → ${jump.to} ns): new timeline adopted, object tracks restarted`);
    }
    const p = this.publishers;
    p.scene.publish(sceneToMsg(scene, this.frameId));
    // Messages no one subscribes to are not even built (a ROS graph often has no /tf listener
    // or 3D detection consumer); a subscriber that comes later gets the next frame's.
    if (p.det3d.subscriptionCount() > 0) p.det3d.publish(sceneToDetection3D(scene, this.frameId));
    if (p.tf && this.perception.lastFrame && p.tf.subscriptionCount() > 0) {
      p.tf.publish(spatialTransform(this.perception.lastFrame, stamp, rgb.header.frame_id || this.cameraFrameDefault, this.frameId));
    }
    this.diagnostics.latency.add(performance.now() - t0);
  }

  /**
   * Readies the camera path before the first frame: memory for the configured image size (lent
   * samples), and, once per process and size, the compiled per-frame code: simulated frames go
   * through a synchroniser, a perception instance of their own and the output encoders (see
   * camera_warmup.ts). Never keeps the node from starting: a failure is logged.
   */
  private warmUp(o: Parameters<typeof warmUpCameraPath>[0], syncOptions: SyncOptions, maxJumpMs: number): void {
    const { width, height } = o;
    if (this.lending && o.frames > 0) {
      const header = 4096;
      this.lending.reserveSamples(width * height * 3 + header, 3);
      this.lending.reserveSamples(width * height * 2 + header, o.segmentation === "masks" ? 6 : 3);
    }
    const key = `${width}x${height}:${o.segmentation}`;
    if (o.frames === 0 || warmedUp.has(key)) return;
    warmedUp.add(key);
    try {
      // Two instances one after the other: what the code assumed of the first one's objects (a
      // field written once, say) is found wrong here and not at the node's own first frame.
      const perceptions = [new Perception({ maxStampJumpMs: maxJumpMs, kernels: perceptionKernels() }), new Perception({ maxStampJumpMs: maxJumpMs, kernels: perceptionKernels() })];
      let perception = perceptions[0];
      let done = 0;
      const encode = (type: string, msg: unknown) => codecFor(type).encode(msg);
      let intrinsics: PinholeIntrinsics | null = null;
      const sync = new StampSynchronizer<CameraSet>(["rgb", "depth", "segmentation"], syncOptions, (stamp, set) => {
        if (done++ === Math.floor(o.frames / 2)) perception = perceptions[1];
        const scene = perception.process(frameOf(stamp, intrinsics!, set[0].msg, set[1].msg, set[2].msg));
        encode(T.SceneObjects, sceneToMsg(scene, this.frameId));
        encode(T.Detection3DArray, sceneToDetection3D(scene, this.frameId));
        if (perception.lastFrame) encode(T.TFMessage, spatialTransform(perception.lastFrame, stamp, set[0].msg.header.frame_id, this.frameId));
      });
      const r = warmUpCameraPath(o, (f: WarmupFrame) => {
        intrinsics = f.intrinsics;
        sync.add(0, stampOf(f.rgb), { msg: f.rgb, lease: 0 });
        sync.add(1, stampOf(f.depth), { msg: f.depth, lease: 0 });
        sync.add(2, stampOf(f.segmentation), { msg: f.segmentation, lease: 0 });
      });
      this.node.logger.info(`camera path warmed up on ${r.frames} simulated ${width}x${height} frames in ${r.ms.toFixed(0)} ms`);
    } catch (e) {
      this.node.logger.warn(`camera path warm-up failed (the first frames will be slower): ${e instanceof Error ? e.message : String(e)}`);
    }
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

/** The perception input of one synchronised set. */
function frameOf(stamp: bigint, intrinsics: PinholeIntrinsics, rgb: Image, depth: Image, seg: Segmentation): RgbdFrame {
  const frame: RgbdFrame = { stamp, intrinsics, rgb, depth };
  if ("mask" in seg) frame.instances = instanceMaskFromMsg(seg);
  else frame.detections = detectionsFromMsg(seg);
  return frame;
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

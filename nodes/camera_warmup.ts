import { cameraWireFrame, RgbdSensor, teleopScenario, worldAt } from "../sim/index.js";
import type { PinholeIntrinsics } from "../src/geometry/intrinsics.js";
import type * as M from "../src/msgs/generated.js";
import { codecFor } from "../src/transport/dds/codec_cache.js";
import { T } from "./messages.js";
import { cameraMessages } from "./sim_camera_node.js";

export interface CameraWarmupOptions {
  width: number;
  height: number;
  /** Frames run through the path; 0 runs nothing. */
  frames: number;
  segmentation: "masks" | "detections";
  /** The images' header frame id. */
  frameId: string;
}

/** One synthetic frame as the camera topics deliver it: decoded from CDR bytes, as received. */
export interface WarmupFrame {
  stamp: bigint;
  intrinsics: PinholeIntrinsics;
  rgb: M.sensor_msgs__msg__Image;
  depth: M.sensor_msgs__msg__Image;
  segmentation: M.spatial_reward_msgs__msg__InstanceMasks | M.vision_msgs__msg__Detection2DArray;
}

/**
 * Simulated views the frames cycle through (rendering is the slow part, not the path): 2 points
 * of each of 2 scripted teleop episodes, so objects move, get carried and change from frame to
 * frame, and the tracker's branches run too (a static scene left them to the first real frames).
 */
const EPISODES = 2;
const VIEWS_PER_EPISODE = 2;
const EPISODE_FRAMES = 120;
const SEED = 9_120_001;
/** 30 Hz stamps from an arbitrary epoch: the path's stamp gates see a steady stream. */
const PERIOD_NS = 33_333_333n;
const EPOCH_NS = 1_000_000_000_000_000_000n;

/**
 * Runs a camera's per-frame path on simulated frames of the configured size before the node
 * subscribes, so V8 has compiled it (and the first real frames meet optimised code, not the
 * interpreter: without this the first seconds of a 4-camera run pushed p99 to 0.2-0.4 s).
 * Frames are what a RealSense driver sends (rgb8, 16UC1 millimetre depth, 16UC1 instance masks
 * or 2D detections), encoded to CDR and decoded again with the transport's codecs, so decoding
 * warms up too; `step` runs the node's own path on each (on a perception instance of its own:
 * the node's state must not see them).
 */
export function warmUpCameraPath(o: CameraWarmupOptions, step: (f: WarmupFrame) => void): { frames: number; ms: number } {
  const t0 = performance.now();
  if (o.frames <= 0) return { frames: 0, ms: 0 };
  const sensor = new RgbdSensor({ noise: "realsense", seed: SEED });
  const scenes: { intrinsics: PinholeIntrinsics; bytes: Uint8Array[] }[] = [];
  for (let s = 0; s < Math.min(EPISODES * VIEWS_PER_EPISODE, o.frames); s++) {
    const { world, camera, episode } = teleopScenario(SEED + Math.floor(s / VIEWS_PER_EPISODE), EPISODE_FRAMES, { width: o.width, height: o.height });
    const at = Math.floor((((s % VIEWS_PER_EPISODE) + 0.5) / VIEWS_PER_EPISODE) * episode.poses.length);
    const frame = cameraWireFrame(sensor.capture(worldAt(world, episode.poses[at]), camera, EPOCH_NS).frame);
    const m = cameraMessages(frame, o.frameId);
    const seg = o.segmentation === "masks" ? codecFor(T.InstanceMasks).encode(m.masks!) : codecFor(T.Detection2DArray).encode(m.detections!);
    scenes.push({ intrinsics: camera.intrinsics, bytes: [asReceived(codecFor(T.Image).encode(m.rgb)), asReceived(codecFor(T.Image).encode(m.depth)), asReceived(seg)] });
  }
  const segType = o.segmentation === "masks" ? T.InstanceMasks : T.Detection2DArray;
  for (let i = 0; i < o.frames; i++) {
    const scene = scenes[i % scenes.length];
    const stamp = EPOCH_NS + BigInt(i + 1) * PERIOD_NS;
    for (const b of scene.bytes) setStamp(b, stamp);
    step({
      stamp,
      intrinsics: scene.intrinsics,
      rgb: codecFor(T.Image).decode(scene.bytes[0]) as M.sensor_msgs__msg__Image,
      depth: codecFor(T.Image).decode(scene.bytes[1]) as M.sensor_msgs__msg__Image,
      segmentation: codecFor(segType).decode(scene.bytes[2]) as WarmupFrame["segmentation"],
    });
  }
  return { frames: o.frames, ms: performance.now() - t0 };
}

/** The bytes placed as the dds backend delivers a sample: 4 bytes into an 8-aligned buffer. */
function asReceived(cdr: Uint8Array): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(cdr.byteLength + 4), 4, cdr.byteLength);
  out.set(cdr);
  return out;
}

/** A header's stamp sits first in every camera message: after the 4-byte encapsulation, sec then nanosec (little-endian CDR). */
function setStamp(cdr: Uint8Array, stampNs: bigint): void {
  const view = new DataView(cdr.buffer, cdr.byteOffset, cdr.byteLength);
  view.setInt32(4, Number(stampNs / 1_000_000_000n), true);
  view.setUint32(8, Number(stampNs % 1_000_000_000n), true);
}


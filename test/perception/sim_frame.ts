import type { RgbdFrame } from "../../src/perception/rgbd_frame.js";
import type { ImageLike } from "../../src/scene/image.js";
import { generateWorld, placeCamera, RgbdSensor, type NoiseModel } from "../../sim/index.js";

export interface SimFrameOptions {
  width: number;
  height: number;
  noise: NoiseModel;
  /** Keep the instance masks, the detector boxes, or both (perception prefers masks). */
  segmentation: "masks" | "detections" | "both";
}

/**
 * A simulator frame whose buffers the caller owns (the sensor reuses its own): a seeded
 * tabletop scene seen by a seeded camera, with instance masks and/or detector boxes.
 */
export function simFrame(seed: number, options: Partial<SimFrameOptions> = {}): RgbdFrame {
  const o: SimFrameOptions = { width: 160, height: 120, noise: "none", segmentation: "masks", ...options };
  const world = generateWorld(seed);
  const { camera } = placeCamera(world, seed, { width: o.width, height: o.height });
  const cap = new RgbdSensor({ noise: o.noise, seed }).capture(world, camera, BigInt(seed) * 1_000_000_000n);
  const frame = copyFrame(cap.frame);
  if (o.segmentation === "masks") delete frame.detections;
  if (o.segmentation === "detections") delete frame.instances;
  return frame;
}

/** A deep copy: fresh buffers, detections and label map, so mutating it leaves the source intact. */
export function copyFrame(f: RgbdFrame): RgbdFrame {
  const out: RgbdFrame = { stamp: f.stamp, intrinsics: { ...f.intrinsics }, rgb: copyImage(f.rgb), depth: copyImage(f.depth) };
  if (f.instances) out.instances = { image: copyImage(f.instances.image), labels: new Map(f.instances.labels) };
  if (f.detections) out.detections = f.detections.map((d) => ({ ...d }));
  if (f.upInCamera) out.upInCamera = { ...f.upInCamera };
  return out;
}

export function copyImage(img: ImageLike): ImageLike {
  return { ...img, data: new Uint8Array(img.data) };
}

/** The frame with its 32FC1 metre depth as 16UC1 millimetres (0 = no reading), as RealSense drivers publish it. */
export function withMillimetreDepth(f: RgbdFrame): RgbdFrame {
  const { width, height } = f.depth;
  const src = new DataView(f.depth.data.buffer, f.depth.data.byteOffset, f.depth.data.byteLength);
  const mm = new Uint16Array(width * height);
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      const m = src.getFloat32(v * f.depth.step + u * 4, f.depth.is_bigendian !== 1);
      mm[v * width + u] = m > 0 && m < 65 ? Math.round(m * 1000) : 0;
    }
  }
  return { ...f, depth: { width, height, encoding: "16UC1", step: width * 2, is_bigendian: 0, data: new Uint8Array(mm.buffer) } };
}

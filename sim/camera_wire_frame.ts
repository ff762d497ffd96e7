import type { RgbdFrame } from "../src/perception/rgbd_frame.js";
import type { ImageLike } from "../src/scene/image.js";

/**
 * The simulator's frame as a RealSense-class driver publishes it: depth in millimetres (16UC1,
 * 0 = no reading, clamped at 65535) and instance ids as 16UC1. The simulator renders 32FC1 metres
 * and mono8 ids; nodes fed by real cameras get this, and its kernels paths differ (uint16 loads,
 * a scale per depth), so warm-ups and benches of the camera path use it.
 */
export function cameraWireFrame(frame: RgbdFrame): RgbdFrame {
  const { width, height } = frame.rgb;
  const out: RgbdFrame = { ...frame, depth: image16(width, height, depthMillimetres(frame.depth)) };
  if (frame.instances) {
    const src = frame.instances.image;
    const ids = new Uint16Array(width * height);
    for (let v = 0; v < height; v++) for (let u = 0; u < width; u++) ids[v * width + u] = src.data[v * src.step + u];
    out.instances = { image: image16(width, height, ids), labels: frame.instances.labels };
  }
  return out;
}

/** A 32FC1 depth image (packed, host order) as millimetres: rounded, 0 where not finite or not positive. */
export function depthMillimetres(depth: ImageLike): Uint16Array<ArrayBuffer> {
  if (depth.encoding !== "32FC1" || depth.step !== depth.width * 4) throw new Error(`expected packed 32FC1 depth, got ${depth.encoding} step ${depth.step}`);
  const n = depth.width * depth.height;
  const metres = new Float32Array(depth.data.buffer, depth.data.byteOffset, n);
  const mm = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const m = metres[i];
    mm[i] = Number.isFinite(m) && m > 0 ? Math.min(65535, Math.round(m * 1000)) : 0;
  }
  return mm;
}

function image16(width: number, height: number, px: Uint16Array): ImageLike {
  return { width, height, encoding: "16UC1", is_bigendian: 0, step: width * 2, data: new Uint8Array(px.buffer) };
}

import type { PinholeIntrinsics } from "../../src/geometry/intrinsics.js";
import type { Detection2D, InstanceMask, RgbdFrame } from "../../src/perception/rgbd_frame.js";
import type { ImageLike } from "../../src/scene/image.js";
import type { RosTime } from "../../src/time/ros_time.js";
import { PIXEL_LAYOUT, relayoutImage } from "./image_layout.js";
import { copyFrame } from "./sim_frame.js";

/**
 * Hostile-input generators for fuzzing anything that consumes RGB-D frames or the messages
 * they come from. Every function takes a uniform [0, 1) source (e.g. mulberry32(seed)) so a
 * failing case replays from its seed, and never modifies its input: buffers are copied before
 * they are changed. Images use sensor_msgs/Image field names, so the image, stamp and
 * detection mutators apply to ROS messages as they are.
 */
export type Rand = () => number;

/** The values a careless or hostile producer puts in numeric fields. */
export const HOSTILE_NUMBERS: readonly number[] = [
  0, -1, 1, 0.5, -0.5, 1.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 60, 1e300, -1e300, Number.MIN_VALUE, 65535, 65536, 16384, 16385,
];
const ENCODINGS = ["rgb8", "bgr8", "mono8", "mono16", "16UC1", "32FC1", "8UC3", "32FC3", "", "RGB8", "16uc1"];
const KINDS = ["mug", "bowl", "box", "", " ", "a".repeat(300), "\u0000", "mug#1"];

const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const int = (rand: Rand, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
/** A hostile number, or one near `typical`. */
function number(rand: Rand, typical: number): number {
  const r = rand();
  if (r < 0.5) return pick(rand, HOSTILE_NUMBERS);
  if (r < 0.75) return typical + int(rand, -3, 3);
  return typical * pick(rand, [0, -1, 0.5, 2, 3, 1000]);
}

/** One image, one mutation: fields, byte order, layout, length or contents. Returns its name too. */
export function mutateImage(img: ImageLike, rand: Rand): { image: ImageLike; mutation: string } {
  const px = PIXEL_LAYOUT[img.encoding] ?? { bpp: 1, element: 1 };
  let which = int(rand, 0, 11);
  // Re-laying out needs an image whose fields still describe its bytes (not one mutated before).
  if ((which === 7 || which === 8) && !wellFormed(img)) which = 0;
  switch (which) {
    case 0:
      return { image: { ...img, encoding: pick(rand, ENCODINGS) }, mutation: "encoding" };
    case 1:
      return { image: { ...img, width: number(rand, img.width) }, mutation: "width" };
    case 2:
      return { image: { ...img, height: number(rand, img.height) }, mutation: "height" };
    case 3:
      return { image: { ...img, step: number(rand, img.step) }, mutation: "step" };
    case 4:
      return { image: { ...img, is_bigendian: pick(rand, [2, -1, 255, NaN, 0.5, 1]) }, mutation: "is_bigendian" };
    case 5: {
      const n = img.data.length;
      const len = pick(rand, [0, 1, n - 1, n - img.step, int(rand, 0, n), n >> 1]);
      return { image: { ...img, data: new Uint8Array(img.data.subarray(0, Math.max(0, len))) }, mutation: "truncated" };
    }
    case 6: {
      const extra = pick(rand, [1, 3, img.step, img.step * 2 + 1]);
      const data = new Uint8Array(img.data.length + extra);
      data.set(img.data);
      return { image: { ...img, data }, mutation: "extended" };
    }
    case 7:
      // A valid layout the reader must handle: padded rows, last row trimmed, odd offset, either byte order.
      return {
        image: relayoutImage(img, { padBytes: px.bpp * int(rand, 0, 5), trimLastRowPadding: rand() < 0.7, byteOffset: int(rand, 0, 7), bigEndian: rand() < 0.5 }),
        mutation: "relayout",
      };
    case 8: {
      // Padded rows whose padding is missing on more than the last row: must be refused.
      const l = relayoutImage(img, { padBytes: px.bpp * int(rand, 1, 4), trimLastRowPadding: true, byteOffset: int(rand, 0, 3) });
      return { image: { ...l, data: l.data.subarray(0, l.data.length - int(rand, 1, l.step)) }, mutation: "relayout_short" };
    }
    case 9: {
      // Contents: random bytes over a random fraction (garbage depth, random instance ids).
      const data = new Uint8Array(img.data);
      const p = rand();
      for (let i = 0; i < data.length; i++) if (rand() < p) data[i] = int(rand, 0, 255);
      return { image: { ...img, data }, mutation: "random_bytes" };
    }
    case 10: {
      // The bytes inside a larger buffer (as a decoder's slice of a whole message) at an odd offset, garbage around.
      const offset = int(rand, 0, 7);
      const buffer = new Uint8Array(offset + img.data.length + 64).fill(0xee);
      buffer.set(img.data, offset);
      return { image: { ...img, data: buffer.subarray(offset, offset + img.data.length) }, mutation: "embedded" };
    }
    default:
      return { image: { ...img, width: number(rand, img.width), height: number(rand, img.height), step: number(rand, img.step) }, mutation: "geometry" };
  }
}

/**
 * Depth readings a sensor should never give (NaN, ±Infinity, negative, huge, zero) over part of
 * the image. Images whose fields were already mutated into nonsense are returned unchanged.
 */
export function mutateDepthValues(img: ImageLike, rand: Rand): ImageLike {
  if (!writableDepth(img)) return img;
  const data = new Uint8Array(img.data);
  const dv = new DataView(data.buffer);
  const le = img.is_bigendian !== 1;
  const p = rand() < 0.3 ? 1 : rand();
  const value = pick(rand, [NaN, Infinity, -Infinity, -1, 1e30, 0, 1e-30, 65535, 0.5]);
  for (let v = 0; v < img.height; v++) {
    for (let u = 0; u < img.width; u++) {
      if (rand() >= p) continue;
      const at = v * img.step + u * (img.encoding === "32FC1" ? 4 : 2);
      if (img.encoding === "32FC1") dv.setFloat32(at, value, le);
      else dv.setUint16(at, Number.isFinite(value) ? Math.max(0, Math.min(65535, Math.round(value))) : 0, le);
    }
  }
  return { ...img, data };
}

/** Whether the image's fields describe its bytes (known encoding, sane size, long enough data). */
export function wellFormed(img: ImageLike): boolean {
  const px = PIXEL_LAYOUT[img.encoding];
  if (!px || img.is_bigendian !== undefined && img.is_bigendian !== 0 && img.is_bigendian !== 1) return false;
  if (!Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width < 1 || img.height < 1) return false;
  if (img.width > 4096 || img.height > 4096 || !Number.isSafeInteger(img.step) || img.step < img.width * px.bpp) return false;
  return img.data instanceof Uint8Array && img.data.length >= img.step * (img.height - 1) + img.width * px.bpp;
}

/** Whether mutateDepthValues can write every pixel of this image (fields not yet mutated into nonsense). */
function writableDepth(img: ImageLike): boolean {
  return (img.encoding === "32FC1" || img.encoding === "16UC1") && wellFormed(img);
}

export function mutateIntrinsics(k: PinholeIntrinsics, rand: Rand): PinholeIntrinsics {
  const key = pick(rand, ["width", "height", "fx", "fy", "cx", "cy"] as const);
  return { ...k, [key]: number(rand, k[key]) };
}

/** A random detection list: malformed boxes (NaN, huge, negative, off-image), many boxes, odd classes. */
export function hostileDetections(k: Pick<PinholeIntrinsics, "width" | "height">, rand: Rand, valid: readonly Detection2D[] = []): Detection2D[] {
  const n = pick(rand, [0, 1, 2, 5, 20, 100, 255, 256, 257, 1000]);
  const out: Detection2D[] = valid.filter(() => rand() < 0.7).map((d) => ({ ...d }));
  for (let i = 0; i < n; i++) {
    const sane = rand() < 0.5;
    out.push({
      kind: pick(rand, KINDS),
      score: sane ? rand() : number(rand, 0.5),
      cx: sane ? rand() * k.width : number(rand, k.width / 2),
      cy: sane ? rand() * k.height : number(rand, k.height / 2),
      width: sane ? rand() * k.width * 1.5 : number(rand, k.width / 4),
      height: sane ? rand() * k.height * 1.5 : number(rand, k.height / 4),
    });
  }
  if (rand() < 0.5) out.reverse();
  return out;
}

/** A random id → class map for an instance mask (ids that exist, ids that do not, odd classes). */
export function hostileLabels(rand: Rand, mask?: InstanceMask): Map<number, string> {
  const labels = new Map<number, string>();
  if (mask && rand() < 0.5) for (const [id, kind] of mask.labels) if (rand() < 0.6) labels.set(id, kind);
  const n = pick(rand, [0, 1, 3, 10, 300]);
  for (let i = 0; i < n; i++) labels.set(int(rand, 0, 70000), rand() < 0.1 ? (int(rand, 0, 9) as unknown as string) : pick(rand, KINDS));
  return labels;
}

/** A core stamp that is invalid, far from `around`, or not after it. */
export function hostileStamp(rand: Rand, around: bigint): bigint {
  const hour = 3_600_000_000_000n;
  switch (int(rand, 0, 7)) {
    case 0: return -BigInt(int(rand, 1, 1e9));
    case 1: return 2n ** BigInt(int(rand, 63, 80));
    case 2: return pick(rand, [NaN, 5, "1", undefined, null] as unknown[]) as bigint;
    case 3: return around + BigInt(int(rand, 1, 24 * 365)) * hour;
    case 4: return around > hour ? around - BigInt(int(rand, 1, 100)) * hour / 100n - hour : 0n;
    case 5: return around;
    case 6: return around > 0n ? around - 1n : 0n;
    default: return 0n;
  }
}

/** builtin_interfaces/Time values a hostile publisher can send. */
export function hostileRosTime(rand: Rand): RosTime {
  const sec = rand() < 0.5 ? int(rand, 0, 2_000_000_000) : pick(rand, HOSTILE_NUMBERS);
  const nanosec = rand() < 0.5 ? int(rand, 0, 999_999_999) : pick(rand, [1e9, 4294967295, -1, NaN, 0.5, 999_999_999.5]);
  return { sec, nanosec };
}

export interface MutatedFrame {
  frame: RgbdFrame;
  /** What was changed, for the failure message of a fuzz case. */
  mutations: string[];
}

/**
 * One to three random mutations of a valid frame: image fields and layouts, depth values,
 * intrinsics, detections, instance labels and masks, stamps, the up vector, or removing the
 * segmentation. The frame's stamp stays `stamp` unless the stamp itself is mutated (then it is
 * invalid, far from `stamp`, or not later than it); `base` is not modified.
 */
export function mutateFrame(base: RgbdFrame, rand: Rand, stamp: bigint = base.stamp): MutatedFrame {
  const f = copyFrame(base);
  f.stamp = stamp;
  const mutations: string[] = [];
  const count = int(rand, 1, 3);
  for (let m = 0; m < count; m++) {
    switch (int(rand, 0, 11)) {
      case 0: case 1: {
        const { image, mutation } = mutateImage(f.depth, rand);
        f.depth = image;
        mutations.push(`depth.${mutation}`);
        break;
      }
      case 2: {
        const { image, mutation } = mutateImage(f.rgb, rand);
        f.rgb = image;
        mutations.push(`rgb.${mutation}`);
        break;
      }
      case 3: {
        if (!f.instances) break;
        const { image, mutation } = mutateImage(f.instances.image, rand);
        f.instances = { image, labels: f.instances.labels };
        mutations.push(`mask.${mutation}`);
        break;
      }
      case 4:
        if (!writableDepth(f.depth)) break;
        f.depth = mutateDepthValues(f.depth, rand);
        mutations.push("depth.values");
        break;
      case 5:
        f.intrinsics = mutateIntrinsics(f.intrinsics, rand);
        mutations.push("intrinsics");
        break;
      case 6:
        f.detections = hostileDetections(f.intrinsics, rand, f.detections ?? []);
        if (rand() < 0.7) delete f.instances;
        mutations.push("detections");
        break;
      case 7:
        if (!f.instances) break;
        f.instances = { image: f.instances.image, labels: hostileLabels(rand, f.instances) };
        mutations.push("labels");
        break;
      case 8:
        f.stamp = hostileStamp(rand, stamp);
        mutations.push("stamp");
        break;
      case 9:
        f.upInCamera = { x: number(rand, 0), y: number(rand, -1), z: number(rand, 0) };
        mutations.push("up");
        break;
      case 10:
        delete f.instances;
        if (rand() < 0.5) delete f.detections;
        mutations.push("segmentation_removed");
        break;
      default: {
        // The whole camera changes size in one field and the images do not follow.
        const s = pick(rand, [0, 1, 2, 16384, 16385, 100000]);
        f.intrinsics = { ...f.intrinsics, width: s, height: rand() < 0.5 ? s : f.intrinsics.height };
        mutations.push("camera_size");
      }
    }
  }
  return { frame: f, mutations };
}

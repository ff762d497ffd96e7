import { InvalidInputError } from "../errors.js";
import type { ImageLike } from "../scene/image.js";

/**
 * Typed, validated views over sensor_msgs/Image-shaped buffers. Views alias the message
 * bytes whenever alignment and endianness allow; otherwise the pixels are copied once
 * into a scratch buffer owned by the caller's reader, which is reused across frames.
 *
 * The contract between validation and the readers: a valid image has at least
 * `step * (height − 1) + width * bpp` bytes (the last row's padding may be missing, as
 * producers that trim their buffers send it) and at most `step * height`. Readers and their
 * consumers never touch a byte past the last pixel of the last row.
 */

const BYTES_PER_PIXEL: Readonly<Record<string, number>> = {
  rgb8: 3,
  bgr8: 3,
  mono8: 1,
  mono16: 2,
  "16UC1": 2,
  "32FC1": 4,
};

/** Bytes a reader of this image may touch: every row's pixels, the padding of all rows but the last. */
export function imageExtentBytes(step: number, width: number, height: number, bpp: number): number {
  return step * (height - 1) + width * bpp;
}

/** Checks encoding, byte order, size, step and buffer length against what the frame should be. */
export function validateImage(img: ImageLike, what: string, width: number, height: number, encodings: readonly string[]): void {
  if (img === null || typeof img !== "object") {
    throw new InvalidInputError("bad_image_size", `${what}: image is missing`);
  }
  const encoding = img.encoding;
  if (typeof encoding !== "string" || !encodings.includes(encoding)) {
    const shown = typeof encoding === "string" ? JSON.stringify(encoding.slice(0, 40)) : typeof encoding;
    throw new InvalidInputError("bad_encoding", `${what}: encoding ${shown} not supported; expected one of ${encodings.join(", ")}`);
  }
  const be = img.is_bigendian;
  if (be !== undefined && be !== 0 && be !== 1) {
    throw new InvalidInputError("bad_encoding", `${what}: is_bigendian must be 0 or 1 (got ${typeof be === "number" ? be : typeof be})`);
  }
  if (img.width !== width || img.height !== height) {
    throw new InvalidInputError("bad_image_size", `${what}: image is ${img.width}x${img.height} but the camera is ${width}x${height}`);
  }
  const bpp = BYTES_PER_PIXEL[encoding];
  const step = img.step;
  if (!Number.isSafeInteger(step) || step < width * bpp) {
    throw new InvalidInputError("bad_image_step", `${what}: step ${step} is not an integer of at least width x ${bpp} bytes = ${width * bpp}`);
  }
  const data = img.data;
  if (!(data instanceof Uint8Array)) {
    throw new InvalidInputError("bad_image_size", `${what}: data must be a byte array (Uint8Array), got ${data === null ? "null" : typeof data}`);
  }
  const needed = imageExtentBytes(step, width, height, bpp);
  if (data.byteLength < needed) {
    throw new InvalidInputError(
      "bad_image_size",
      `${what}: data has ${data.byteLength} bytes, needs ${needed} (step ${step} x ${height - 1} rows + ${width} x ${bpp} bytes of the last row)`,
    );
  }
  if (data.byteLength > step * height) {
    throw new InvalidInputError(
      "bad_image_size",
      `${what}: data has ${data.byteLength} bytes, more than step ${step} x height ${height} = ${step * height}: width, height or step is wrong`,
    );
  }
}

const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Whether the image can be aliased as a typed array of `element`-byte samples in host byte order. */
function aliasable(img: ImageLike, element: number): boolean {
  return img.data.byteOffset % element === 0 && img.step % element === 0 && (img.is_bigendian !== 1) === hostLittleEndian;
}

/** A depth image's samples: value × scale is metres; `stride` is in elements per row. */
export interface DepthView {
  data: Float32Array | Uint16Array;
  stride: number;
  scale: number;
}

/**
 * A depth image as metres: 32FC1 directly, 16UC1 millimetres scaled by 0.001 (the same samples
 * whether aliased or copied, so byte order and alignment never change a result). Invalid
 * readings (0, NaN, negative) stay as they are; consumers test the metric range.
 */
export class DepthReader {
  private f32 = new Float32Array(0);
  private u16 = new Uint16Array(0);
  private readonly view: DepthView = { data: this.f32, stride: 0, scale: 1 };

  /** Reads a validated depth image; the view is valid until the next call. */
  read(img: ImageLike): DepthView {
    const { width, height, step, data } = img;
    const le = img.is_bigendian !== 1;
    const view = this.view;
    if (img.encoding === "32FC1") {
      view.scale = 1;
      if (aliasable(img, 4)) {
        view.stride = step / 4;
        view.data = new Float32Array(data.buffer, data.byteOffset, view.stride * (height - 1) + width);
        return view;
      }
      if (this.f32.length < width * height) this.f32 = new Float32Array(width * height);
      const out = this.f32;
      const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
      for (let v = 0; v < height; v++) {
        const row = v * step, o = v * width;
        for (let u = 0; u < width; u++) out[o + u] = dv.getFloat32(row + u * 4, le);
      }
      view.data = out;
      view.stride = width;
      return view;
    }
    view.scale = 0.001;
    if (aliasable(img, 2)) {
      view.stride = step / 2;
      view.data = new Uint16Array(data.buffer, data.byteOffset, view.stride * (height - 1) + width);
      return view;
    }
    if (this.u16.length < width * height) this.u16 = new Uint16Array(width * height);
    copyUint16(img, this.u16, le);
    view.data = this.u16;
    view.stride = width;
    return view;
  }
}

/** A label image's per-pixel instance ids; `stride` is in elements per row. */
export interface LabelView {
  data: Uint8Array | Uint16Array;
  stride: number;
}

/** A label image (mono8, mono16, 16UC1) as per-pixel instance ids. */
export class LabelReader {
  private u16 = new Uint16Array(0);
  private readonly view: LabelView = { data: this.u16, stride: 0 };

  /** Reads a validated label image; the view is valid until the next call. */
  read(img: ImageLike): LabelView {
    const view = this.view;
    if (img.encoding === "mono8") {
      view.data = img.data;
      view.stride = img.step;
      return view;
    }
    const { width, height, step, data } = img;
    if (aliasable(img, 2)) {
      view.stride = step / 2;
      view.data = new Uint16Array(data.buffer, data.byteOffset, view.stride * (height - 1) + width);
      return view;
    }
    if (this.u16.length < width * height) this.u16 = new Uint16Array(width * height);
    copyUint16(img, this.u16, img.is_bigendian !== 1);
    view.data = this.u16;
    view.stride = width;
    return view;
  }
}

/** Copies a 16-bit image's pixels row by row into `out` (stride = width), never past the last pixel. */
function copyUint16(img: ImageLike, out: Uint16Array, le: boolean): void {
  const { width, height, step, data } = img;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let v = 0; v < height; v++) {
    const row = v * step, o = v * width;
    for (let u = 0; u < width; u++) out[o + u] = dv.getUint16(row + u * 2, le);
  }
}

import { InvalidInputError } from "../errors.js";
import type { ImageLike } from "../scene/image.js";

/**
 * Typed, validated views over sensor_msgs/Image-shaped buffers. Views alias the message
 * bytes whenever alignment and endianness allow; otherwise the pixels are copied once
 * into a scratch buffer owned by the caller's reader, which is reused across frames.
 */

const BYTES_PER_PIXEL: Readonly<Record<string, number>> = {
  rgb8: 3,
  bgr8: 3,
  mono8: 1,
  mono16: 2,
  "16UC1": 2,
  "32FC1": 4,
};

/** Checks size, encoding, step and buffer length against what the frame should be. */
export function validateImage(img: ImageLike, what: string, width: number, height: number, encodings: readonly string[]): void {
  if (!encodings.includes(img.encoding)) {
    throw new InvalidInputError("bad_encoding", `${what}: encoding "${img.encoding}" not supported; expected one of ${encodings.join(", ")}`);
  }
  if (img.width !== width || img.height !== height) {
    throw new InvalidInputError("bad_image_size", `${what}: image is ${img.width}x${img.height} but the camera is ${width}x${height}`);
  }
  const bpp = BYTES_PER_PIXEL[img.encoding];
  if (!Number.isInteger(img.step) || img.step < width * bpp) {
    throw new InvalidInputError("bad_image_step", `${what}: step ${img.step} is less than width x ${bpp} bytes = ${width * bpp}`);
  }
  if (img.step % bpp !== 0) {
    throw new InvalidInputError("bad_image_step", `${what}: step ${img.step} is not a multiple of the pixel size ${bpp}`);
  }
  if (img.data.byteLength < img.step * (height - 1) + width * bpp) {
    throw new InvalidInputError("bad_image_size", `${what}: data has ${img.data.byteLength} bytes, needs ${img.step * height} (step ${img.step} x height ${height})`);
  }
}

const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A depth image as metres: 32FC1 directly, 16UC1 millimetres converted. `stride` is in
 * elements per row. Invalid readings (0, NaN, negative) stay as they are; consumers test `z > 0`.
 */
export class DepthReader {
  private scratch = new Float32Array(0);

  read(img: ImageLike): { data: Float32Array | Uint16Array; stride: number; scale: number } {
    const bigEndian = img.is_bigendian === 1;
    if (img.encoding === "32FC1") {
      const stride = img.step / 4;
      if (img.data.byteOffset % 4 === 0 && bigEndian !== hostLittleEndian) {
        return { data: new Float32Array(img.data.buffer, img.data.byteOffset, stride * img.height), stride, scale: 1 };
      }
      const n = stride * img.height;
      if (this.scratch.length < n) this.scratch = new Float32Array(n);
      const dv = new DataView(img.data.buffer, img.data.byteOffset, img.data.byteLength);
      for (let i = 0; i < n; i++) this.scratch[i] = dv.getFloat32(i * 4, !bigEndian);
      return { data: this.scratch, stride, scale: 1 };
    }
    const stride = img.step / 2;
    if (img.data.byteOffset % 2 === 0 && bigEndian !== hostLittleEndian) {
      return { data: new Uint16Array(img.data.buffer, img.data.byteOffset, stride * img.height), stride, scale: 0.001 };
    }
    const n = stride * img.height;
    if (this.scratch.length < n) this.scratch = new Float32Array(n);
    const dv = new DataView(img.data.buffer, img.data.byteOffset, img.data.byteLength);
    for (let i = 0; i < n; i++) this.scratch[i] = dv.getUint16(i * 2, !bigEndian) * 0.001;
    return { data: this.scratch, stride, scale: 1 };
  }
}

/** A label image (mono8, mono16, 16UC1) as per-pixel instance ids. */
export function readLabels(img: ImageLike): { data: Uint8Array | Uint16Array; stride: number } {
  if (img.encoding === "mono8") return { data: img.data, stride: img.step };
  const stride = img.step / 2;
  if (img.data.byteOffset % 2 === 0 && (img.is_bigendian === 1) !== hostLittleEndian) {
    return { data: new Uint16Array(img.data.buffer, img.data.byteOffset, stride * img.height), stride };
  }
  const out = new Uint16Array(stride * img.height);
  const dv = new DataView(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = dv.getUint16(i * 2, img.is_bigendian !== 1);
  return { data: out, stride };
}
